"""The tactical detector against the brute-force oracle (every pair, no pruning) on random traffic
anywhere on Earth, and against hand-computed encounters."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.domain.tactical import NM, RE, Minima, Traffic, detect, exhaustive, extrapolate, position_at


def random_traffic(seed: int, n: int, box_km: float, lat0: float, lon0: float, groups: int = 0) -> Traffic:
    rng = np.random.default_rng(seed)
    half = box_km / 2 / 111.2
    lat = np.clip(lat0 + rng.uniform(-half, half, n), -89.9, 89.9)
    lon = (lon0 + rng.uniform(-half, half, n) / max(math.cos(math.radians(lat0)), 0.05) + 180) % 360 - 180
    gs = rng.uniform(0, 300, n)
    trk = rng.uniform(0, 360, n)
    alt = rng.uniform(0, 6000, n)
    vs = np.where(rng.random(n) < 0.3, rng.uniform(-20, 20, n), 0.0)
    group = rng.integers(0, groups, n) if groups else None
    return Traffic.of(lat, lon, gs, trk, alt, vs, group)


def _same(t: Traffic, minima: Minima = Minima()) -> None:
    got, want = detect(t, minima), exhaustive(t, minima)
    assert got.keys() == want.keys()
    np.testing.assert_allclose(got.t_in, want.t_in, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(got.t_out, want.t_out, rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(got.los, want.los)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 300),
    box_km=st.sampled_from([20.0, 100.0, 400.0, 1500.0]),
    lat0=st.floats(-89.0, 89.0),
    lon0=st.floats(-180.0, 180.0),
    groups=st.sampled_from([0, 2, 5]),
)
def test_pruned_detection_equals_exhaustive_anywhere(
    seed: int, n: int, box_km: float, lat0: float, lon0: float, groups: int
) -> None:
    _same(random_traffic(seed, n, box_km, lat0, lon0, groups))


@pytest.mark.parametrize(
    ("lat0", "lon0", "what"),
    [(34.0, 38.0, "Syria"), (0.0, 179.9, "antimeridian"), (89.5, 0.0, "north pole"), (-88.0, -179.95, "both")],
)
def test_dense_traffic_in_awkward_places(lat0: float, lon0: float, what: str) -> None:
    for seed in range(3):
        t = random_traffic(seed, 800, 300.0, lat0, lon0, groups=4)
        _same(t)
        _same(t, Minima(horizontal_m=20 * NM, vertical_m=600, lookahead_s=600))


def test_per_track_minima_take_the_larger_of_the_pair() -> None:
    t = random_traffic(7, 500, 200.0, 33.0, 36.0)
    t.rpz[::3] = 10 * NM  # tracks inside a zone with wider minima
    t.hpz[1::4] = 600.0
    _same(t)
    assert len(detect(t)) > len(detect(random_traffic(7, 500, 200.0, 33.0, 36.0)))


def _head_on(gap_km: float, vs: float = 0.0, dalt: float = 0.0) -> Traffic:
    """Two tracks on the equator flying at each other at 200 m/s each."""
    dlon = math.degrees(gap_km * 1000 / RE)
    return Traffic.of(
        np.array([0.0, 0.0]), np.array([0.0, dlon]), np.array([200.0, 200.0]), np.array([90.0, 270.0]),
        np.array([3000.0, 3000.0 + dalt]), np.array([vs, 0.0]), np.array([1, 2]),
    )


def test_head_on_times_are_the_textbook_ones() -> None:
    p = detect(_head_on(100.0))
    (pair,) = zip(p.i, p.j, strict=True)
    assert pair == (0, 1)
    # closing at 400 m/s from 100 km: CPA at 250 s, inside 5 NM from (100 km - 9,260 m) / 400 m/s
    assert p.tcpa[0] == pytest.approx(250.0, rel=1e-9)
    assert p.t_in[0] == pytest.approx((100_000 - 5 * NM) / 400, rel=1e-9)
    assert p.t_out[0] == pytest.approx((100_000 + 5 * NM) / 400, rel=1e-9)
    assert p.dcpa[0] == pytest.approx(0.0, abs=1e-3) and not p.los[0]
    assert len(detect(_head_on(130.0))) == 0  # CPA after the 300 s look-ahead's reach: 130 km needs 302 s
    assert len(detect(_head_on(100.0, dalt=400.0))) == 0  # 400 m apart vertically: more than 1,000 ft


def test_vertical_convergence_sets_the_entry_time() -> None:
    # level at 3,000 m and 3,600 m, the lower one climbing 5 m/s: vertically within 304.8 m after 59 s
    p = detect(_head_on(30.0, vs=5.0, dalt=600.0))
    assert p.t_in[0] == pytest.approx((600.0 - 304.8) / 5.0, rel=1e-9)


def test_current_loss_of_separation_and_same_party_never_pairs() -> None:
    t = _head_on(5.0)
    p = detect(t)
    assert p.los.tolist() == [True] and p.t_in[0] == pytest.approx(0.0)
    t.group[:] = 7
    assert len(detect(t)) == 0


def test_extrapolation_moves_along_the_track() -> None:
    t = Traffic.of(np.array([10.0]), np.array([20.0]), np.array([100.0]), np.array([0.0]), np.array([1000.0]),
                   np.array([2.0]))
    moved = extrapolate(t, np.array([60.0]))
    assert moved.lat[0] == pytest.approx(10.0 + math.degrees(6000 / RE))
    assert moved.lon[0] == pytest.approx(20.0) and moved.alt[0] == pytest.approx(1120.0)
    lat, lon, alt = position_at(t, np.array([0]), np.array([60.0]))
    assert (lat[0], lon[0], alt[0]) == pytest.approx((moved.lat[0], moved.lon[0], moved.alt[0]))
