"""Geometry: GeoJSON parsing and validation, local metric frames, circles, corridors, areas.

Conventions
-----------
* Inputs are GeoJSON (RFC 7946): ``[lon, lat]``, edges straight in lon/lat. Shapes that cross the
  antimeridian arrive split into parts (a MultiPolygon), as RFC 7946 section 3.1.9 asks.
* Every metric question (distance, buffer, area) is answered in a *local frame*: an azimuthal
  equidistant projection on the WGS84 ellipsoid centred near the shapes. Never planar maths on raw
  lon/lat.
* Before projecting, shapes are densified in lon/lat (``densify``) so that "straight in lon/lat"
  survives the projection to within centimetres; the cell covering and the exact checks both work on
  the densified shape, so they agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import Geod, Transformer
from pyproj.enums import TransformDirection
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box, mapping, shape
from shapely.geometry.base import BaseGeometry

from truceline.domain.errors import FieldError, InvalidInput

#: Max length of a lon/lat edge after densification, in degrees (~2.2 km of latitude).
DENSIFY_DEG = 0.02
#: Frames are cached on a grid of this many degrees; a shape up to ~500 km wide stays well within the
#: region where the projection's scale error is below 0.5 %.
FRAME_GRID_DEG = 0.25
#: Circles become polygons with this many sides, circumscribed so the polygon contains the circle.
CIRCLE_SIDES = 64


@dataclass(frozen=True)
class GeometryLimits:
    max_vertices: int = 10_000
    max_area_km2: float = 250_000.0


# --------------------------------------------------------------------------------------------------
# Local frames


class LocalFrame:
    """An azimuthal equidistant projection (metres) centred at ``(lon0, lat0)`` on WGS84.

    >>> f = frame_at(36.0, 33.0)
    >>> round(f.to_local(Point(36.0, 33.0)).x, 6)
    0.0
    """

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0, self.lat0 = lon0, lat0
        # A PROJ pipeline, not from_crs: same maths, but ~0.1 ms to build instead of ~10 ms, because it
        # skips the CRS database look-up.
        self._t = Transformer.from_pipeline(
            "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
            f"+step +proj=aeqd +lat_0={lat0!r} +lon_0={lon0!r} +ellps=WGS84"
        )

    def _apply(self, direction: TransformDirection) -> Callable[[np.ndarray], np.ndarray]:
        def fn(coords: np.ndarray) -> np.ndarray:
            x, y = self._t.transform(coords[:, 0], coords[:, 1], direction=direction)
            return np.column_stack([x, y])

        return fn

    def to_local(self, geom: Any) -> Any:
        """Project a geometry or an array of geometries from lon/lat into the frame."""
        return shapely.transform(geom, self._apply(TransformDirection.FORWARD))

    def to_lonlat(self, geom: Any) -> Any:
        return shapely.transform(geom, self._apply(TransformDirection.INVERSE))

    def lonlat_to_xy(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = self._t.transform(lon, lat)
        return np.asarray(x), np.asarray(y)

    def point_to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        lon, lat = self._t.transform(x, y, direction=TransformDirection.INVERSE)
        return float(lon), float(lat)


@lru_cache(maxsize=8192)
def frame_at(lon0: float, lat0: float) -> LocalFrame:
    return LocalFrame(lon0, lat0)


def spherical_centre(geom: BaseGeometry) -> tuple[float, float]:
    """The centre of a shape's vertices on the sphere (robust across the antimeridian and poles)."""
    coords = shapely.get_coordinates(geom)
    lon, lat = np.radians(coords[:, 0]), np.radians(coords[:, 1])
    v = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)]).mean(axis=0)
    norm = float(np.linalg.norm(v))
    if norm < 1e-9:  # vertices spread round the globe: any centre is as bad as another
        return float(coords[0, 0]), float(coords[0, 1])
    x, y, z = v / norm
    return math.degrees(math.atan2(y, x)), math.degrees(math.asin(max(-1.0, min(1.0, z))))


def frame_for(geom: BaseGeometry) -> LocalFrame:
    lon, lat = spherical_centre(geom)
    g = FRAME_GRID_DEG
    lat_key = max(-90.0, min(90.0, round(lat / g) * g))
    lon_key = ((round(lon / g) * g + 180.0) % 360.0) - 180.0
    return frame_at(lon_key, lat_key)


def project(geom: BaseGeometry) -> tuple[LocalFrame, BaseGeometry]:
    """A shape's local frame and the shape in it."""
    frame = frame_for(geom)
    return frame, frame.to_local(geom)


def densify(geom: BaseGeometry) -> BaseGeometry:
    return shapely.segmentize(geom, DENSIFY_DEG)


# --------------------------------------------------------------------------------------------------
# Back to lon/lat: unwrap across the antimeridian, split into RFC 7946 parts


def _unwrap_ring(coords: np.ndarray) -> np.ndarray:
    out = coords.copy()
    out[:, 0] = np.degrees(np.unwrap(np.radians(coords[:, 0])))
    return out


def split_antimeridian(geom: BaseGeometry) -> BaseGeometry:
    """Turn a lon/lat polygon whose vertices jump across ±180° into parts that each stay inside it."""
    if geom.is_empty or not isinstance(geom, Polygon | MultiPolygon):
        return geom
    polys = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    parts: list[Polygon] = []
    for poly in polys:
        ext = np.asarray(poly.exterior.coords)
        if np.all(np.abs(np.diff(ext[:, 0])) <= 180.0):
            parts.append(poly)
            continue
        shell = _unwrap_ring(ext)
        holes = [_unwrap_ring(np.asarray(r.coords)) for r in poly.interiors]
        if abs(shell[-1, 0] - shell[0, 0]) > 1e-6:
            raise InvalidInput.at("", "a shape that encloses a pole is not supported")
        unwrapped = Polygon(shell, holes).buffer(0)
        for shift in (-360.0, 0.0, 360.0):
            window = box(-180.0 + shift, -90.0, 180.0 + shift, 90.0)
            piece = unwrapped.intersection(window)
            if piece.is_empty:
                continue
            piece = shapely.transform(piece, _shift_lon(-shift))
            parts.extend(_polygons_of(piece))
    return MultiPolygon(parts) if len(parts) > 1 else parts[0]


def _shift_lon(dlon: float) -> Callable[[np.ndarray], np.ndarray]:
    offset = np.array([dlon, 0.0])

    def fn(coords: np.ndarray) -> np.ndarray:
        return np.asarray(coords + offset)

    return fn


def _polygons_of(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [] if geom.is_empty else [geom]
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _polygons_of(g)]
    return []


def local_to_lonlat_polygon(frame: LocalFrame, geom: BaseGeometry) -> BaseGeometry:
    """Inverse-project a local polygon, densifying first so its edges stay faithful, and split it."""
    return locals_to_lonlat_polygons(frame, [geom])[0]


def locals_to_lonlat_polygons(frame: LocalFrame, geoms: Sequence[BaseGeometry]) -> list[BaseGeometry]:
    """``local_to_lonlat_polygon`` for many shapes of one frame, in one call to PROJ (a call costs
    more than the vertices it transforms)."""
    if not geoms:
        return []
    dense = shapely.segmentize(np.asarray(geoms, dtype=object), 2_000.0)
    return [split_antimeridian(g) for g in frame.to_lonlat(dense)]


# --------------------------------------------------------------------------------------------------
# Shapes built from parameters


_GEOD = Geod(ellps="WGS84")
#: Longest side of a circle's polygon, in metres (large circles get more sides than CIRCLE_SIDES).
CIRCLE_MAX_SIDE_M = 2_000.0


def circle(lon: float, lat: float, radius_m: float) -> BaseGeometry:
    """A circle as a polygon that contains it, in lon/lat.

    The vertices lie on the geodesic circle of radius ``r / cos(pi / CIRCLE_SIDES)`` around the
    centre, so every side (a chord) stays at least ``r`` from the centre: the polygon contains the
    circle. Solving the direct geodesic problem for each vertex costs far less than building a
    projection centred on each circle."""
    r = radius_m / math.cos(math.pi / CIRCLE_SIDES)
    sides = max(CIRCLE_SIDES, 4 * math.ceil(2 * math.pi * r / CIRCLE_MAX_SIDE_M / 4))
    azimuths = np.linspace(0.0, 360.0, sides, endpoint=False)
    lons, lats, _ = _GEOD.fwd(np.full(sides, lon), np.full(sides, lat), azimuths, np.full(sides, r))
    ring = np.column_stack([lons, lats])[::-1]  # counter-clockwise, as RFC 7946 asks of exteriors
    return split_antimeridian(Polygon(ring))


def corridor(line: LineString, half_width_m: float) -> BaseGeometry:
    """A route with a half-width, as a polygon in lon/lat (round ends)."""
    frame = frame_for(line)
    local = frame.to_local(densify(line)).buffer(half_width_m / math.cos(math.pi / 32), quad_segs=8)
    return local_to_lonlat_polygon(frame, local)


def area_km2(geom: BaseGeometry) -> float:
    frame = frame_for(geom)
    return float(frame.to_local(densify(geom)).area) / 1e6


# --------------------------------------------------------------------------------------------------
# GeoJSON parsing with field-level errors


def _count_positions(coords: object) -> int:
    """Positions in a (possibly malformed) coordinates array; a list of numbers counts as one."""
    if not isinstance(coords, list):
        return 0
    if coords and not isinstance(coords[0], list):
        return 1
    return sum(_count_positions(c) for c in coords)


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _position(pos: object, pointer: str, errors: list[FieldError]) -> tuple[float, float] | None:
    if not isinstance(pos, list | tuple) or len(pos) not in (2, 3):
        errors.append(FieldError(pointer, "a position must be [longitude, latitude] or [lon, lat, alt]"))
        return None
    if not all(_is_number(v) for v in pos):
        errors.append(FieldError(pointer, "position values must be numbers"))
        return None
    lon, lat = float(pos[0]), float(pos[1])
    if not (math.isfinite(lon) and math.isfinite(lat)) or any(not math.isfinite(float(v)) for v in pos):
        errors.append(FieldError(pointer, "position values must be finite (no NaN or Infinity)"))
        return None
    if not -180.0 <= lon <= 180.0:
        errors.append(FieldError(f"{pointer}/0", f"longitude {lon} is outside [-180, 180]"))
        return None
    if not -90.0 <= lat <= 90.0:
        errors.append(FieldError(f"{pointer}/1", f"latitude {lat} is outside [-90, 90]"))
        return None
    return lon, lat


def _ring(coords: object, pointer: str, errors: list[FieldError]) -> list[tuple[float, float]] | None:
    if not isinstance(coords, list):
        errors.append(FieldError(pointer, "a linear ring must be an array of positions"))
        return None
    pts = [_position(p, f"{pointer}/{i}", errors) for i, p in enumerate(coords)]
    if any(p is None for p in pts):
        return None
    ring = [p for p in pts if p is not None]
    if len(ring) < 4:
        errors.append(FieldError(pointer, "a linear ring needs at least 4 positions (3 distinct, closed)"))
        return None
    if ring[0] != ring[-1]:
        errors.append(FieldError(pointer, "the linear ring is not closed: the first and last positions differ"))
        return None
    if len(set(ring[:-1])) < 3:
        errors.append(FieldError(pointer, "a linear ring needs at least 3 distinct vertices"))
        return None
    return ring


def _polygon(coords: object, pointer: str, errors: list[FieldError]) -> Polygon | None:
    if not isinstance(coords, list) or not coords:
        errors.append(FieldError(pointer, "a Polygon's coordinates must be a non-empty array of rings"))
        return None
    rings = [_ring(r, f"{pointer}/{i}", errors) for i, r in enumerate(coords)]
    if any(r is None for r in rings):
        return None
    shell, *holes = [r for r in rings if r is not None]
    return Polygon(shell, holes)


def parse_geometry(obj: object, pointer: str, *, allowed: Iterable[str], limits: GeometryLimits) -> BaseGeometry:
    """Parse and validate a GeoJSON geometry object; raise ``InvalidInput`` naming the field.

    >>> g = parse_geometry({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
    ...                    "/geometry", allowed=["Polygon"], limits=GeometryLimits())
    >>> g.geom_type
    'Polygon'
    """
    allowed = list(allowed)
    if not isinstance(obj, dict):
        raise InvalidInput.at(pointer, "must be a GeoJSON geometry object")
    gtype = obj.get("type")
    if gtype not in allowed:
        raise InvalidInput.at(f"{pointer}/type", f"geometry type {gtype!r} is not one of {', '.join(allowed)}")
    coords = obj.get("coordinates")
    cp = f"{pointer}/coordinates"
    n = _count_positions(coords)
    if n > limits.max_vertices:  # before parsing each position: refuse huge inputs cheaply
        raise InvalidInput.at(cp, f"{n} vertices is more than the limit of {limits.max_vertices}")
    errors: list[FieldError] = []
    geom: BaseGeometry | None = None
    if gtype == "Point":
        p = _position(coords, cp, errors)
        geom = Point(p) if p else None
    elif gtype == "LineString":
        if not isinstance(coords, list) or len(coords) < 2:
            errors.append(FieldError(cp, "a LineString needs at least 2 positions"))
        else:
            pts = [_position(c, f"{cp}/{i}", errors) for i, c in enumerate(coords)]
            if all(pts) and len({p for p in pts if p}) >= 2:
                geom = LineString([p for p in pts if p])
            elif all(pts):
                errors.append(FieldError(cp, "a LineString needs at least 2 distinct positions"))
    elif gtype == "Polygon":
        geom = _polygon(coords, cp, errors)
    elif gtype == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            errors.append(FieldError(cp, "a MultiPolygon's coordinates must be a non-empty array of polygons"))
        else:
            polys = [_polygon(c, f"{cp}/{i}", errors) for i, c in enumerate(coords)]
            if all(polys):
                geom = MultiPolygon([p for p in polys if p is not None])
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)
    assert geom is not None
    if isinstance(geom, Polygon | MultiPolygon) and not geom.is_valid:
        why = shapely.is_valid_reason(geom)
        raise InvalidInput.at(cp, f"the polygon is not valid (self-intersecting or overlapping rings): {why}")
    if isinstance(geom, Polygon | MultiPolygon) and geom.area == 0:
        raise InvalidInput.at(cp, "the polygon has zero area")
    return geom


#: No square degree of WGS84 is larger than this many km²: the area element is M·N·cos(lat) per
#: radian², and the product of the meridian and prime-vertical radii peaks at the poles at (a²/b)².
MAX_KM2_PER_DEG2 = (6378.137**2 / 6356.752314245 * math.pi / 180.0) ** 2


def area_bound_km2(geom: BaseGeometry) -> float:
    """An upper bound on ``area_km2(geom)`` from the lon/lat area alone (no projection)."""
    return float(geom.area) * MAX_KM2_PER_DEG2


def check_area(geom: BaseGeometry, pointer: str, limits: GeometryLimits) -> None:
    # Nearly every shape is far below the limit, and the bound settles it without a projection; the
    # halving leaves room for the local frame's own scale error on very large or long shapes.
    if area_bound_km2(geom) <= limits.max_area_km2 / 2:
        return
    a = area_km2(geom)
    if a > limits.max_area_km2:
        raise InvalidInput.at(
            pointer, f"the area is {a:,.0f} km², more than the limit of {limits.max_area_km2:,.0f} km²"
        )


def to_geojson(geom: BaseGeometry, precision: int = 7) -> dict[str, Any]:
    """GeoJSON with coordinates rounded to ``precision`` decimals (7: about a centimetre)."""
    if isinstance(geom, Polygon | MultiPolygon) and not geom.is_empty:
        # Conflict regions are (multi)polygons, written several times per conflict; shapely's own
        # ``mapping`` builds a Python tuple per vertex and costs more than the rest of the encoding.
        polys = np.asarray(list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom], dtype=object)
        rings = shapely.get_rings(polys)
        per_poly = shapely.get_num_interior_rings(polys) + 1
        counts = shapely.get_num_coordinates(rings)
        flat = np.round(shapely.get_coordinates(rings), precision).tolist()
        ring_coords, at = [], 0
        for n in counts.tolist():
            ring_coords.append(flat[at : at + n])
            at += n
        nested, at = [], 0
        for n in per_poly.tolist():
            nested.append(ring_coords[at : at + n])
            at += n
        if isinstance(geom, Polygon):
            return {"type": "Polygon", "coordinates": nested[0]}
        return {"type": "MultiPolygon", "coordinates": nested}
    return dict(mapping(shapely.transform(geom, _rounder(precision))))


@lru_cache(maxsize=8)
def _rounder(precision: int) -> Callable[[np.ndarray], np.ndarray]:
    def fn(coords: np.ndarray) -> np.ndarray:
        return np.round(coords, precision)

    return fn


def from_geojson(obj: dict[str, Any]) -> BaseGeometry:
    return shape(obj)
