from __future__ import annotations

from datetime import UTC, datetime, timedelta

import h3.api.basic_int as h3
import numpy as np
import pytest
import shapely

from tests.awkward import AWKWARD
from truceline.domain import geometry as geo
from truceline.domain.cells import LONG_BUCKET, MAX_DAY_BUCKETS, cover, day_buckets, query_buckets
from truceline.domain.model import TimeWindow


@pytest.mark.parametrize("name", sorted(AWKWARD))
def test_every_point_of_a_shape_lies_in_a_covering_cell(name: str) -> None:
    g = geo.densify(AWKWARD[name])  # type: ignore[arg-type]
    (cells,) = cover(g, resolution=6)
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = g.bounds
    pts = shapely.points(np.column_stack([rng.uniform(minx, maxx, 4000), rng.uniform(miny, maxy, 4000)]))
    inside = shapely.get_coordinates(pts[shapely.contains(g, pts)])
    boundary = shapely.get_coordinates(g.boundary)
    for lon, lat in np.vstack([inside, boundary]):
        assert h3.latlng_to_cell(lat, lon, 6) in cells


def test_growing_adds_the_cells_within_the_distance() -> None:
    g = geo.densify(geo.circle(36.0, 33.0, 500))
    plain, grown = cover(g, grow_m=(0.0, 10_000.0))
    assert plain < grown
    # A point 9 km east of the circle's edge is within 10 km: its cell must be in the grown covering.
    lon, lat = geo.frame_at(36.0, 33.0).point_to_lonlat(9_500.0, 0.0)
    assert h3.latlng_to_cell(lat, lon, 6) in grown


def test_day_buckets() -> None:
    t = datetime(2017, 7, 10, 22, tzinfo=UTC)
    two_days = day_buckets(TimeWindow(t, t + timedelta(hours=4)))
    assert len(two_days) == 2 and two_days[1] == two_days[0] + 1
    # Ending exactly at midnight does not touch the next day (half-open).
    assert len(day_buckets(TimeWindow(t, datetime(2017, 7, 11, tzinfo=UTC)))) == 1
    assert day_buckets(TimeWindow(t, t + timedelta(days=MAX_DAY_BUCKETS + 1))) == [LONG_BUCKET]
    assert day_buckets(TimeWindow(t, None)) == [LONG_BUCKET]
    q = query_buckets(TimeWindow(t, t + timedelta(hours=4)))
    assert set(two_days) | {LONG_BUCKET} == set(q)
    assert query_buckets(TimeWindow(t, None)) == []


def test_ids_are_time_ordered_uuid7() -> None:
    import time
    import uuid

    from truceline.domain.ids import new_id

    first = new_id()
    time.sleep(0.002)
    later = [new_id() for _ in range(100)]
    assert all(first < x for x in later)
    u = uuid.UUID(first)
    assert u.version == 7 and u.variant == uuid.RFC_4122
    assert len(set(later)) == 100


def test_coverings_are_the_same_with_cell_outlines_cached_or_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cell outlines projected once are reused across coverings; the results must not move, and the
    cache must stay within its bound."""
    from truceline.domain import cells as cellmod

    rng = np.random.default_rng(11)
    shapes = [geo.densify(geo.circle(float(x), float(y), float(r))) for x, y, r in zip(
        rng.uniform(35.0, 36.0, 40), rng.uniform(32.0, 33.0, 40), rng.uniform(300, 20_000, 40), strict=True
    )]
    shapes += [geo.densify(AWKWARD[k]) for k in sorted(AWKWARD)]  # type: ignore[arg-type]

    def all_covers() -> list[list[set[int]]]:
        return [cover(g, grow_m=(0.0, 1_000.0)) for g in shapes]

    cellmod._OUTLINES.clear()
    cold = all_covers()
    assert cellmod._OUTLINES  # the first pass filled it
    assert all_covers() == cold  # the second reads it
    monkeypatch.setattr(cellmod._OUTLINES, "budget", 50)
    cellmod._OUTLINES.clear()
    assert all_covers() == cold  # emptied again and again along the way
    assert 0 < len(cellmod._OUTLINES) <= max(50, max(len(c[1]) for c in cold) * 8)
