from __future__ import annotations

import json
import math

import pytest
import shapely
from shapely.geometry import MultiPolygon, Point

from tests.awkward import AWKWARD
from truceline.domain import geometry as geo
from truceline.domain.errors import InvalidInput

LIMITS = geo.GeometryLimits(max_vertices=100, max_area_km2=250_000)


def parse(obj: object) -> object:
    return geo.parse_geometry(
        obj, "/geometry", allowed=["Polygon", "MultiPolygon", "Point", "LineString"], limits=LIMITS
    )


BAD = [
    ("not an object", [1, 2], "/geometry", "GeoJSON geometry object"),
    ("unknown type", {"type": "Circle", "coordinates": []}, "/geometry/type", "not one of"),
    (
        "unclosed ring",
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
        "/geometry/coordinates/0",
        "not closed",
    ),
    (
        "two distinct vertices",
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0], [1, 0], [0, 0]]]},
        "/geometry/coordinates/0",
        "3 distinct",
    ),
    (
        "too few positions",
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},
        "/geometry/coordinates/0",
        "at least 4",
    ),
    (
        "self-intersecting",
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
        "/geometry/coordinates",
        "not valid",
    ),
    ("longitude out of range", {"type": "Point", "coordinates": [181, 0]}, "/geometry/coordinates/0", "longitude"),
    (
        "latitude out of range",
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 91], [1, 0], [0, 0]]]},
        "/geometry/coordinates/0/1/1",
        "latitude",
    ),
    ("NaN", {"type": "Point", "coordinates": [math.nan, 0]}, "/geometry/coordinates", "finite"),
    ("Infinity", {"type": "Point", "coordinates": [0, math.inf]}, "/geometry/coordinates", "finite"),
    ("strings", {"type": "Point", "coordinates": ["0", "0"]}, "/geometry/coordinates", "numbers"),
    (
        "too many vertices",
        json.loads(json.dumps(geo.to_geojson(geo.densify(geo.circle(0, 0, 50_000))))),
        "/geometry/coordinates",
        "limit of 100",
    ),
    (
        "zero-area",
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [2, 2], [0, 0]]]},
        "/geometry/coordinates",
        "not valid",
    ),
]


@pytest.mark.parametrize(("label", "obj", "pointer", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_geometry_is_refused_naming_the_field(label: str, obj: object, pointer: str, words: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse(obj)
    assert e.value.errors[0].pointer == pointer
    assert words in e.value.errors[0].reason


def test_area_limit() -> None:
    big = geo.parse_geometry(
        {"type": "Polygon", "coordinates": [[[30, 30], [40, 30], [40, 40], [30, 40], [30, 30]]]},
        "/geometry",
        allowed=["Polygon"],
        limits=LIMITS,
    )
    with pytest.raises(InvalidInput) as e:
        geo.check_area(big, "/geometry", LIMITS)
    assert "km²" in e.value.errors[0].reason


def test_circle_contains_the_true_circle() -> None:
    c = geo.circle(36.0, 33.0, 5_000)
    frame = geo.frame_at(36.0, 33.0)
    ring = Point(0, 0).buffer(5_000, quad_segs=256).exterior
    pts = frame.to_lonlat(shapely.points(list(ring.coords)))
    assert all(c.buffer(1e-7).contains(p) for p in pts)
    assert geo.area_km2(c) == pytest.approx(math.pi * 25, rel=0.01)


def test_circle_across_the_antimeridian_is_split_into_parts() -> None:
    c = geo.circle(179.99, 10.0, 5_000)
    assert isinstance(c, MultiPolygon)
    for part in c.geoms:
        lons = [x for x, _ in part.exterior.coords]
        assert min(lons) >= -180 and max(lons) <= 180
    assert geo.area_km2(c) == pytest.approx(math.pi * 25, rel=0.01)


def test_corridor_has_the_half_width() -> None:
    line = shapely.LineString([(36.0, 33.0), (36.2, 33.1)])
    c = geo.corridor(line, 500)
    frame = geo.frame_for(line)
    assert frame.to_local(c).distance(frame.to_local(geo.densify(line))) == 0
    assert frame.to_local(c).exterior.distance(frame.to_local(geo.densify(line))) == pytest.approx(500, rel=0.02)


@pytest.mark.parametrize("name", sorted(AWKWARD))
def test_awkward_shapes_have_sane_areas(name: str) -> None:
    a = geo.area_km2(AWKWARD[name])  # type: ignore[arg-type]
    assert 0 < a < 250_000
    assert geo.area_bound_km2(AWKWARD[name]) >= a  # type: ignore[arg-type]


@pytest.mark.parametrize(("lat", "side_deg"), [(0.0, 0.2), (33.0, 0.3), (60.0, 1.0), (84.0, 2.0), (-75.0, 0.05)])
def test_area_bound_is_never_below_the_area(lat: float, side_deg: float) -> None:
    sq = shapely.box(20.0, lat, 20.0 + side_deg, lat + side_deg)
    assert geo.area_bound_km2(sq) >= geo.area_km2(sq)


@pytest.mark.parametrize(
    ("side_deg", "refused"), [(0.1, False), (0.25, False), (0.3, False), (0.32, True), (0.5, True)]
)
def test_area_limit_near_the_bound(side_deg: float, refused: bool) -> None:
    """With a 1,000 km² limit at 33°N: 0.1° squares (~104 km²) are settled by the bound alone; 0.25°
    (~647 km²) and 0.3° (~931 km², bound ~1,123) need the exact area and pass; 0.32° (~1,059 km²) and
    0.5° are refused."""
    lim = geo.GeometryLimits(max_vertices=100, max_area_km2=1_000)
    sq = shapely.box(36.0, 33.0, 36.0 + side_deg, 33.0 + side_deg)
    if refused:
        with pytest.raises(InvalidInput, match="km²"):
            geo.check_area(sq, "/geometry", lim)
    else:
        geo.check_area(sq, "/geometry", lim)


def test_shape_enclosing_a_pole_is_refused() -> None:
    with pytest.raises(InvalidInput, match="pole"):
        geo.circle(0.0, 89.99, 5_000)


def _geojson_by_mapping(geom: object) -> object:
    """What shapely's own ``mapping`` writes, rounded the same way, as JSON would carry it."""
    from shapely.geometry import mapping

    return json.loads(json.dumps(mapping(shapely.transform(geom, lambda c: c.round(7)))))


@pytest.mark.parametrize(
    "geom",
    [
        *AWKWARD.values(),
        MultiPolygon([geo.circle(36.0, 33.0, 800), geo.circle(36.5, 33.5, 1200)]),
        Point(36.123456789, 33.0).buffer(0.01).difference(Point(36.123456789, 33.0).buffer(0.001)),
        Point(36.0, 33.0),
        shapely.LineString([(36.0, 33.0), (36.1, 33.123456789)]),
        shapely.Polygon(),
    ],
    ids=[*AWKWARD, "multipolygon_circles", "ring_with_hole", "point", "line", "empty"],
)
def test_to_geojson_writes_what_shapely_writes(geom: object) -> None:
    # Its fast path for (multi)polygons must give the same coordinates, rings and nesting.
    assert json.loads(json.dumps(geo.to_geojson(geom))) == _geojson_by_mapping(geom)  # type: ignore[arg-type]
    for ring in geo.to_geojson(geom).get("coordinates", []):  # type: ignore[arg-type]
        assert ring, "no ring or part is empty"
