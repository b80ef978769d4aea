"""The canonical table of awkward geometries, reused across tests (as shapely does in tests/common.py).

Each entry is a valid lon/lat footprint that the index and the exact check must handle."""

from __future__ import annotations

from shapely.geometry import MultiPolygon, Polygon, box

from truceline.domain import geometry as geo

# A ring with many vertices (a circle of 2,000 vertices, ~30 km across).
_many = geo.circle(36.0, 33.0, 15_000)

AWKWARD: dict[str, object] = {
    "square": box(36.0, 33.0, 36.1, 33.1),
    "with_hole": Polygon(
        [(36.0, 33.0), (36.3, 33.0), (36.3, 33.3), (36.0, 33.3)],
        [[(36.1, 33.1), (36.2, 33.1), (36.2, 33.2), (36.1, 33.2)]],
    ),
    "antimeridian_split": MultiPolygon([box(179.9, -17.1, 180.0, -16.9), box(-180.0, -17.1, -179.9, -16.9)]),
    "antimeridian_east_only": box(179.95, 10.0, 180.0, 10.05),
    "near_north_pole": box(-10.0, 88.5, 10.0, 88.9),
    "near_south_pole": box(100.0, -89.0, 140.0, -88.6),
    "tiny": box(36.0, 33.0, 36.00001, 33.00001),
    "huge": box(35.5, 32.0, 39.5, 36.0),  # ~160,000 km²
    "thin_sliver": Polygon([(36.0, 33.0), (36.5, 33.0001), (36.0, 33.0002)]),
    "equator_meridian": box(-0.05, -0.05, 0.05, 0.05),
    "many_vertices": geo.densify(_many),
    "multipolygon_far_parts": MultiPolygon([box(36.0, 33.0, 36.05, 33.05), box(36.6, 33.6, 36.65, 33.65)]),
}

#: Pairs that touch exactly along an edge (distance 0): must conflict under any margin.
TOUCHING = (box(36.0, 33.0, 36.1, 33.1), box(36.1, 33.0, 36.2, 33.1))
