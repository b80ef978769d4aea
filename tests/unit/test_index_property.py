"""The cell index never misses: indexed search + exact check == exhaustive exact comparison.

An in-memory cell index built from ``cells.cover`` stands in for the SQL table (the SQL version is
exercised against the same oracle in tests/integration). Cases are built around a random centre —
anywhere on Earth, including near the antimeridian and the poles — with neighbours placed at random
distances around the margin, where a conservative index is most likely to fail.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box
from shapely.geometry.base import BaseGeometry

from tests.awkward import AWKWARD, TOUCHING
from tests.helpers import T0, make_activity, make_zone
from truceline.domain import geometry as geo
from truceline.domain.cells import cover
from truceline.domain.conflicts import Margins, check_overlap, check_zone, find
from truceline.domain.model import Activity, AltitudeBand, TimeWindow

MARGINS = Margins(1_000.0, 150.0)
RES = 6


def _shape_at(lon: float, lat: float, kind: int, size_m: float, angle: float) -> BaseGeometry:
    frame = geo.frame_at(lon, lat)
    if kind == 0:
        local = Point(0, 0).buffer(size_m, quad_segs=8)
    elif kind == 1:
        local = box(-size_m, -size_m / 3, size_m, size_m / 3)
    else:
        local = LineString([(-size_m, 0), (size_m, size_m / 4)]).buffer(max(30.0, size_m / 20), quad_segs=2)
    from shapely import affinity

    local = affinity.rotate(local, angle, origin=(0, 0))
    return geo.split_antimeridian(frame.to_lonlat(local))


@st.composite
def neighbourhoods(draw: st.DrawFn) -> tuple[Activity, list[Activity]]:
    lat = draw(st.one_of(st.floats(-60, 60), st.floats(82, 87.5), st.floats(-87.5, -82)))
    lon = draw(st.one_of(st.floats(-180, 180), st.floats(179.0, 180.0), st.floats(-180.0, -179.0)))
    subject_shape = _shape_at(lon, lat, draw(st.integers(0, 2)), draw(st.floats(20, 15_000)), draw(st.floats(0, 180)))
    subject = make_activity(subject_shape, party="S", band=AltitudeBand(0, 1000))
    frame = geo.frame_at(lon, lat)
    others = []
    for i in range(draw(st.integers(1, 8))):
        d = draw(st.floats(0, 40_000))
        bearing = draw(st.floats(0, 2 * math.pi))
        cx, cy = d * math.cos(bearing), d * math.sin(bearing)
        clon, clat = frame.point_to_lonlat(cx, cy)
        if abs(clat) > 88.5:
            continue
        shape = _shape_at(clon, clat, draw(st.integers(0, 2)), draw(st.floats(20, 15_000)), draw(st.floats(0, 180)))
        lo = draw(st.sampled_from([0.0, 900.0, 1100.0, 1149.0, 1151.0, 3000.0]))
        start = T0 + timedelta(hours=draw(st.integers(-8, 8)))
        window = TimeWindow(start, start + timedelta(hours=draw(st.integers(1, 6))))
        others.append(make_activity(shape, party=f"P{i}", band=AltitudeBand(lo, lo + 500), window=window))
    return subject, others


def _index(acts: list[Activity]) -> dict[int, set[str]]:
    idx: dict[int, set[str]] = defaultdict(set)
    for a in acts:
        for v in a.volumes:
            (cells,) = cover(v.footprint, resolution=RES, grow_m=(0.0,))
            for c in cells:
                idx[c].add(a.id)
    return idx


def _indexed_conflicts(subject: Activity, acts: list[Activity]) -> set[str]:
    idx = _index(acts)
    by_id = {a.id: a for a in acts}
    cand: set[str] = set()
    for v in subject.volumes:
        _, grown = cover(v.footprint, resolution=RES, grow_m=(0.0, MARGINS.horizontal_m))
        for c in grown:
            cand |= idx.get(c, set())
    return {d.key for d in find(subject, activities=[by_id[i] for i in cand], margins=MARGINS) if d.conflict}


def _exhaustive_conflicts(subject: Activity, acts: list[Activity]) -> set[str]:
    return {d.key for d in (check_overlap(subject, a, MARGINS) for a in acts) if d.conflict}


@settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(neighbourhoods())
def test_indexed_overlap_search_equals_exhaustive(case: tuple[Activity, list[Activity]]) -> None:
    subject, others = case
    assert _indexed_conflicts(subject, others) == _exhaustive_conflicts(subject, others)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(neighbourhoods(), st.floats(0, 5_000))
def test_indexed_zone_search_equals_exhaustive(case: tuple[Activity, list[Activity]], standoff: float) -> None:
    subject, others = case
    # Treat the neighbours' footprints as zones with a standoff.
    zones = [make_zone(a.volumes[0].footprint, standoff=standoff) for a in others]
    zone_cells: dict[int, set[str]] = defaultdict(set)
    for z in zones:
        (cells,) = cover(z.footprint, resolution=RES, grow_m=(standoff,))
        for c in cells:
            zone_cells[c].add(z.id)
    _, grown = cover(subject.volumes[0].footprint, resolution=RES, grow_m=(0.0, MARGINS.horizontal_m))
    cand = set().union(*(zone_cells.get(c, set()) for c in grown))
    indexed = {d.key for d in find(subject, zones=[z for z in zones if z.id in cand]) if d.conflict}
    exhaustive = {d.key for d in (check_zone(subject, z) for z in zones) if d.conflict}
    assert indexed == exhaustive


def test_awkward_geometries_index_and_check_agree() -> None:
    """Every awkward shape, against itself moved by distances around the margin and against every other."""
    shapes = {k: v for k, v in AWKWARD.items()}
    acts = []
    for name, g in shapes.items():
        acts.append(make_activity(g, party=f"A-{name}", ident=f"a-{name}"))
        # A neighbour just inside and just outside the margin, east of the shape.
        frame = geo.frame_for(g)
        local = frame.to_local(geo.densify(g))
        for gap in (999.0, 1001.0):
            from shapely import affinity

            moved = affinity.translate(local, xoff=local.bounds[2] - local.bounds[0] + gap)
            acts.append(
                make_activity(
                    geo.split_antimeridian(frame.to_lonlat(moved)), party=f"B-{name}-{gap}", ident=f"b-{name}-{gap}"
                )
            )
    for subject in acts:
        others = [a for a in acts if a.id != subject.id]
        assert _indexed_conflicts(subject, others) == _exhaustive_conflicts(subject, others), subject.id
    near = {d.key for d in find(acts[0], activities=acts[1:3], margins=MARGINS) if d.conflict}
    assert len(near) >= 1  # the 999 m neighbour of the square is found


def test_touching_shapes_conflict_and_share_cells() -> None:
    a = make_activity(TOUCHING[0], party="A")
    b = make_activity(TOUCHING[1], party="B")
    assert check_overlap(a, b, Margins(0.0, 0.0)).conflict
    assert _indexed_conflicts(a, [b]) == {check_overlap(a, b, MARGINS).key}


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(neighbourhoods(), st.floats(0, 3_000))
def test_find_decides_as_each_check_alone(case: tuple[Activity, list[Activity]], standoff: float) -> None:
    """``find`` projects candidates and regions in batches; every decision, reason and region must be
    the one each candidate gets when checked on its own."""
    subject, others = case
    zones = [make_zone(a.volumes[0].footprint, standoff=standoff) for a in others]
    batched = find(subject, zones=zones, activities=others, margins=MARGINS)
    alone = [check_zone(subject, z) for z in zones] + [check_overlap(subject, a, MARGINS) for a in others]
    assert [(d.key, d.conflict, d.reason) for d in batched] == [(d.key, d.conflict, d.reason) for d in alone]
    for b, a in zip(batched, alone, strict=True):
        assert len(b.regions) == len(a.regions)
        for rb, ra in zip(b.regions, a.regions, strict=True):
            assert (rb.window, rb.altitude) == (ra.window, ra.altitude)
            assert rb.geometry.equals_exact(ra.geometry, 1e-9), b.key
