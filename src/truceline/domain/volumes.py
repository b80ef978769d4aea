"""4D volumes in ASTM F3548-21's Volume4D shape, normalised to the domain ``Volume``.

Accepted (as in ASTM F3548-21 ``Volume4D``)::

    {"volume": {"outline_polygon": {"vertices": [{"lat": .., "lng": ..}, ...]}
                | "outline_circle": {"center": {"lat": .., "lng": ..}, "radius": {"value": .., "units": "M"}}
                | "outline_corridor": {"line": <GeoJSON LineString>, "half_width_m": ..},   # Truceline extension
                "altitude_lower": {"value": .., "reference": "W84", "units": "M" | "FT"},
                "altitude_upper": {...}},
     "time_start": {"value": "<RFC 3339>", "format": "RFC3339"}, "time_end": {...}}

Altitudes become metres above the WGS84 ellipsoid; times become aware UTC datetimes.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from shapely.geometry import LineString

from truceline.domain import geometry as geo
from truceline.domain.errors import FieldError, InvalidInput
from truceline.domain.model import AltitudeBand, TimeWindow, Volume

FT = 0.3048
ALTITUDE_UNITS = {"M": 1.0, "FT": FT}
MIN_ALTITUDE_M = -500.0
MAX_ALTITUDE_M = 100_000.0
MAX_RADIUS_M = 300_000.0


def parse_time(obj: object, pointer: str) -> datetime:
    """An RFC 3339 time, given as ``{"value": .., "format": "RFC3339"}`` or as a bare string."""
    value = obj.get("value") if isinstance(obj, dict) else obj
    vp = f"{pointer}/value" if isinstance(obj, dict) else pointer
    if isinstance(obj, dict) and obj.get("format", "RFC3339") != "RFC3339":
        raise InvalidInput.at(f"{pointer}/format", "only the RFC3339 time format is supported")
    if not isinstance(value, str):
        raise InvalidInput.at(vp, "must be an RFC 3339 date-time string")
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput.at(vp, f"{value!r} is not an RFC 3339 date-time") from None
    if t.tzinfo is None or "T" not in value.upper():
        raise InvalidInput.at(vp, f"{value!r} must be a full RFC 3339 date-time with a UTC offset (e.g. 'Z')")
    return t.astimezone(UTC)


def format_time(t: datetime | None) -> str | None:
    if t is None:
        return None
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _number(v: object, pointer: str) -> float:
    if not isinstance(v, int | float) or isinstance(v, bool):
        raise InvalidInput.at(pointer, "must be a number")
    f = float(v)
    if not math.isfinite(f):
        raise InvalidInput.at(pointer, "must be a finite number (no NaN or Infinity)")
    return f


def parse_altitude(obj: object, pointer: str) -> float:
    """An ASTM ``Altitude`` to metres above the WGS84 ellipsoid."""
    if not isinstance(obj, dict):
        raise InvalidInput.at(pointer, "must be an object {value, reference, units}")
    value = _number(obj.get("value"), f"{pointer}/value")
    ref = obj.get("reference", "W84")
    if ref != "W84":
        raise InvalidInput.at(f"{pointer}/reference", f"reference {ref!r} is not supported; use 'W84'")
    units = obj.get("units", "M")
    if units not in ALTITUDE_UNITS:
        raise InvalidInput.at(f"{pointer}/units", f"units {units!r} must be one of M, FT")
    metres = value * ALTITUDE_UNITS[units]
    if not MIN_ALTITUDE_M <= metres <= MAX_ALTITUDE_M:
        raise InvalidInput.at(
            f"{pointer}/value", f"{metres:.0f} m is outside [{MIN_ALTITUDE_M:.0f}, {MAX_ALTITUDE_M:.0f}] m"
        )
    return metres


def parse_band(
    lower: object, upper: object, pointer: str, *, lower_key: str = "altitude_lower", upper_key: str = "altitude_upper"
) -> AltitudeBand:
    lo = parse_altitude(lower, f"{pointer}/{lower_key}")
    hi = parse_altitude(upper, f"{pointer}/{upper_key}")
    if lo > hi:
        raise InvalidInput.at(
            f"{pointer}/{lower_key}", f"the lower altitude ({lo:.1f} m) is above the upper ({hi:.1f} m)"
        )
    return AltitudeBand(lo, hi)


def parse_window(start: object, end: object, pointer: str) -> TimeWindow:
    t0 = parse_time(start, f"{pointer}/time_start")
    t1 = parse_time(end, f"{pointer}/time_end")
    if t1 <= t0:
        raise InvalidInput.at(f"{pointer}/time_end", "time_end must be after time_start")
    return TimeWindow(t0, t1)


def _latlng(obj: object, pointer: str) -> tuple[float, float]:
    if not isinstance(obj, dict):
        raise InvalidInput.at(pointer, "must be an object {lat, lng}")
    lat = _number(obj.get("lat"), f"{pointer}/lat")
    lng = _number(obj.get("lng"), f"{pointer}/lng")
    if not -90 <= lat <= 90:
        raise InvalidInput.at(f"{pointer}/lat", f"latitude {lat} is outside [-90, 90]")
    if not -180 <= lng <= 180:
        raise InvalidInput.at(f"{pointer}/lng", f"longitude {lng} is outside [-180, 180]")
    return lng, lat


def _outline(vol: dict[str, Any], pointer: str, limits: geo.GeometryLimits) -> Any:
    given = [k for k in ("outline_polygon", "outline_circle", "outline_corridor") if vol.get(k) is not None]
    if len(given) != 1:
        raise InvalidInput.at(pointer, "exactly one of outline_polygon, outline_circle, outline_corridor is required")
    key = given[0]
    p = f"{pointer}/{key}"
    obj = vol[key]
    if not isinstance(obj, dict):
        raise InvalidInput.at(p, "must be an object")
    if key == "outline_polygon":
        verts = obj.get("vertices")
        if not isinstance(verts, list):
            raise InvalidInput.at(f"{p}/vertices", "must be an array of {lat, lng}")
        if len(verts) > limits.max_vertices:
            raise InvalidInput.at(
                f"{p}/vertices", f"{len(verts)} vertices is more than the limit of {limits.max_vertices}"
            )
        pts = [_latlng(v, f"{p}/vertices/{i}") for i, v in enumerate(verts)]
        if len(pts) > 1 and pts[0] == pts[-1]:
            pts = pts[:-1]
        if len(set(pts)) < 3:
            raise InvalidInput.at(f"{p}/vertices", "a polygon needs at least 3 distinct vertices")
        ring = [[lon, lat] for lon, lat in pts]
        try:
            return geo.parse_geometry(
                {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}, "", allowed=["Polygon"], limits=limits
            )
        except InvalidInput as e:  # the problem is in the vertices, whatever GeoJSON path it was found at
            errors = [FieldError(f"{p}/vertices", x.reason) for x in e.errors]
            raise InvalidInput(errors[0].reason, errors=errors) from None
    if key == "outline_circle":
        lon, lat = _latlng(obj.get("center"), f"{p}/center")
        radius = obj.get("radius")
        if not isinstance(radius, dict):
            raise InvalidInput.at(f"{p}/radius", "must be an object {value, units}")
        r = _number(radius.get("value"), f"{p}/radius/value")
        if radius.get("units", "M") != "M":
            raise InvalidInput.at(f"{p}/radius/units", "radius units must be 'M'")
        if not 0 < r <= MAX_RADIUS_M:
            raise InvalidInput.at(f"{p}/radius/value", f"radius must be in (0, {MAX_RADIUS_M:.0f}] m")
        return geo.circle(lon, lat, r)
    line = geo.parse_geometry(obj.get("line"), f"{p}/line", allowed=["LineString"], limits=limits)
    hw = _number(obj.get("half_width_m"), f"{p}/half_width_m")
    if not 0 < hw <= MAX_RADIUS_M:
        raise InvalidInput.at(f"{p}/half_width_m", f"half_width_m must be in (0, {MAX_RADIUS_M:.0f}] m")
    assert isinstance(line, LineString)
    return geo.corridor(line, hw)


def parse_volume4d(obj: object, pointer: str, limits: geo.GeometryLimits) -> Volume:
    """Validate one Volume4D and normalise it; ``InvalidInput`` names the field on any problem."""
    if not isinstance(obj, dict):
        raise InvalidInput.at(pointer, "must be a Volume4D object")
    vol = obj.get("volume")
    if not isinstance(vol, dict):
        raise InvalidInput.at(f"{pointer}/volume", "must be a Volume3D object")
    window = parse_window(obj.get("time_start"), obj.get("time_end"), pointer)
    band = parse_band(vol.get("altitude_lower"), vol.get("altitude_upper"), f"{pointer}/volume")
    shape = _outline(vol, f"{pointer}/volume", limits)
    geo.check_area(shape, f"{pointer}/volume", limits)
    return Volume(footprint=geo.densify(shape), altitude=band, window=window, source=obj)


def parse_volumes(objs: object, pointer: str, limits: geo.GeometryLimits, max_volumes: int = 100) -> list[Volume]:
    if not isinstance(objs, list) or not objs:
        raise InvalidInput.at(pointer, "at least one volume is required")
    if len(objs) > max_volumes:
        raise InvalidInput.at(pointer, f"{len(objs)} volumes is more than the limit of {max_volumes}")
    errors: list[FieldError] = []
    out: list[Volume] = []
    for i, o in enumerate(objs):
        try:
            out.append(parse_volume4d(o, f"{pointer}/{i}", limits))
        except InvalidInput as e:
            errors.extend(e.errors)
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)
    return out


def volume_to_volume4d(v: Volume) -> dict[str, Any]:
    """The Volume4D to show for a stored volume: the source as given, times normalised."""
    out = dict(v.source)
    out["time_start"] = {"value": format_time(v.window.start), "format": "RFC3339"}
    out["time_end"] = {"value": format_time(v.window.end), "format": "RFC3339"}
    return out
