"""Tactical conflict detection between live tracks: state-based, straight-line extrapolation.

The model is BlueSky's state-based detection (``CSTATEBASED``), formula for formula, so that the two
find the same pairs on the same traffic. For tracks 1 (ownship) and 2 (intruder), with lat/lon in
radians, ground speed ``gs`` (m/s), track angle ``trk`` (from north, clockwise), altitude ``alt`` (m),
vertical rate ``vs`` (m/s), Earth radius ``Re`` = 6,371,000 m, separation minima ``R`` (horizontal)
and ``H`` (vertical) and look-ahead ``T`` (s):

Horizontal, in the pair's flat-earth frame (equirectangular at the pair's mean latitude)::

    d    = Re * sqrt(dlat² + (dlon * cos(mean lat))²)          distance now
    q    = atan2(dlon * cos(mean lat), dlat)                   bearing from 1 to 2
    dx, dy = d sin q, d cos q                                  position of 2 relative to 1
    du, dv = gs1 (sin trk1, cos trk1) - gs2 (sin trk2, cos trk2)   velocity of 1 relative to 2
    tcpa = (du dx + dv dy) / (du² + dv²)                       time of closest approach
    dcpa² = d² - (du dx + dv dy) * tcpa                        distance² at closest approach
    t_in, t_out = tcpa ∓ sqrt(max(R² - dcpa², 0) / (du² + dv²))   inside R between these times

    (no horizontal conflict if diverging, du dx + dv dy < 0, while apart, d ≥ R)

Vertical, with dalt = alt1 - alt2 and dvs = vs1 - vs2::

    |dvs| > 1e-6:  t_hi, t_lo = (dalt ± H) / -dvs;  t_in = max(0, min(t_hi, t_lo)),  t_out = max(t_hi, t_lo)
    otherwise:     in conflict for [0, 10⁴ s] if |dalt| < H now, else never

A pair is in conflict when both hold and ``max(t_in) ≤ T``, ``max(t_in) < min(t_out)`` and
``min(t_out) > 0``: the time of entry into conflict is ``max(t_in)`` and of exit ``min(t_out)``. It is a
current loss of separation when ``d < R`` and ``|dalt| < H``. Per-track minima (a zone may set its own)
combine as BlueSky's do: the larger of the pair's.

Two deliberate differences from BlueSky, both where its arithmetic breaks down and random traffic never
goes: ``dlon`` is wrapped into [-π, π] (BlueSky does not wrap across the antimeridian), and a pair
with exactly equal velocities is in horizontal conflict for all time when ``d < R`` (BlueSky divides
0 by 0 there and reports nothing).

Speed: a pair can only conflict if each track's *swept box* (everything it covers within ``T``,
grown by half the minima) meets the other's. The boxes are computed in degrees with a cosine that is
provably no larger than the pair's (see ``swept_boxes``), so pruning never drops a true conflict; a
sweep over boxes sorted by latitude finds the candidates and the exact test above decides each one,
compiled with numba over both cores. ``exhaustive`` is the brute-force oracle the tests compare with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

RE = 6_371_000.0
NM = 1852.0
FT = 0.3048
F = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True)
class Minima:
    """Separation minima and look-ahead (defaults: 5 NM, 1,000 ft, 300 s)."""

    horizontal_m: float = 5 * NM
    vertical_m: float = 1000 * FT
    lookahead_s: float = 300.0


@dataclass
class Traffic:
    """Columns of one snapshot of tracks, all extrapolated to the same instant. ``group``: tracks of
    the same group (party) are never paired."""

    lat: F  # degrees
    lon: F  # degrees
    gs: F  # m/s
    trk: F  # degrees from north
    alt: F  # m
    vs: F  # m/s
    group: I64
    rpz: F  # horizontal minimum per track, m
    hpz: F  # vertical minimum per track, m

    @classmethod
    def of(
        cls, lat: F, lon: F, gs: F, trk: F, alt: F, vs: F, group: I64 | None = None, minima: Minima = Minima()
    ) -> Traffic:
        n = len(lat)
        return cls(
            np.ascontiguousarray(lat, dtype=np.float64),
            np.ascontiguousarray(lon, dtype=np.float64),
            np.ascontiguousarray(gs, dtype=np.float64),
            np.ascontiguousarray(trk, dtype=np.float64),
            np.ascontiguousarray(alt, dtype=np.float64),
            np.ascontiguousarray(vs, dtype=np.float64),
            np.arange(n, dtype=np.int64) if group is None else np.ascontiguousarray(group, dtype=np.int64),
            np.full(n, minima.horizontal_m),
            np.full(n, minima.vertical_m),
        )

    def __len__(self) -> int:
        return len(self.lat)


@dataclass
class Pairs:
    """Conflicting pairs (i < j, indexes into the traffic) with their times (s from the snapshot)."""

    i: I64
    j: I64
    t_in: F
    t_out: F
    tcpa: F
    dcpa: F  # m
    dist: F  # m, now
    dalt: F  # m, now (alt_i - alt_j)
    los: NDArray[np.bool_]  # a loss of separation now

    def __len__(self) -> int:
        return len(self.i)

    def keys(self) -> set[tuple[int, int]]:
        return set(zip(self.i.tolist(), self.j.tolist(), strict=True))


# --- the exact pair test ----------------------------------------------------------------------------
@numba.njit(cache=True, inline="always")
def _one_way(
    lat1: float, lon1: float, gs1: float, trk1: float, alt1: float, vs1: float,
    lat2: float, lon2: float, gs2: float, trk2: float, alt2: float, vs2: float,
    rpz: float, hpz: float, tlook: float, out: F,
) -> bool:  # fmt: skip
    """BlueSky's detect_ver then detect_hor then the combination, for 1 against 2 (angles in
    radians). Writes t_in, t_out, tcpa, dcpa, d into ``out``."""
    dalt = alt1 - alt2
    dvs = vs1 - vs2
    if abs(dvs) > 1e-6:
        tcrosshi = (dalt + hpz) / -dvs
        tcrosslo = (dalt - hpz) / -dvs
        tinv = max(0.0, min(tcrosslo, tcrosshi))
        toutv = max(tcrosslo, tcrosshi)
        if not (tinv <= tlook and toutv > 0.0):
            return False
    else:
        tinv = 0.0
        toutv = 1e4
        if not abs(dalt) < hpz:
            return False
    u1 = gs1 * math.sin(trk1)
    v1 = gs1 * math.cos(trk1)
    u2 = gs2 * math.sin(trk2)
    v2 = gs2 * math.cos(trk2)
    du = u1 - u2
    dv = v1 - v2
    dlat = lat2 - lat1
    dlon = lon2 - lon1
    if dlon > math.pi:
        dlon -= 2.0 * math.pi
    elif dlon < -math.pi:
        dlon += 2.0 * math.pi
    cavelat = math.cos(0.5 * (lat1 + lat2))
    d = RE * math.sqrt(dlat * dlat + dlon * dlon * cavelat * cavelat)
    q = math.atan2(dlon * cavelat, dlat)
    dx = d * math.sin(q)
    dy = d * math.cos(q)
    vreldotdx = du * dx + dv * dy
    los = d < rpz
    if vreldotdx < 0.0 and not los:
        return False
    vrel2 = du * du + dv * dv
    if vrel2 > 0.0:
        tcpa = vreldotdx / vrel2
        cpa2 = d * d - vreldotdx * tcpa
        dt = math.sqrt(max(rpz * rpz - cpa2, 0.0) / vrel2)
        tinh = tcpa - dt
        touth = tcpa + dt
    else:  # the same velocity: the distance never changes
        if not los:
            return False
        tcpa = 0.0
        cpa2 = d * d
        tinh = -1e9
        touth = 1e9
    if not (los or tinh <= tlook):
        return False
    tin = max(tinh, tinv)
    tout = min(touth, toutv)
    if tin <= tlook and tin < tout and tout > 0.0:
        out[0] = tin
        out[1] = tout
        out[2] = tcpa
        out[3] = math.sqrt(max(cpa2, 0.0))
        out[4] = d
        return True
    return False


@numba.njit(cache=True, inline="always")
def _pair(latr: F, lonr: F, gs: F, trkr: F, alt: F, vs: F, rpz: F, hpz: F, a: int, b: int, tlook: float,
          out: F) -> bool:
    """The pair conflicts if either order says so (BlueSky tests both and lists both)."""
    r = max(rpz[a], rpz[b])
    h = max(hpz[a], hpz[b])
    if _one_way(latr[a], lonr[a], gs[a], trkr[a], alt[a], vs[a], latr[b], lonr[b], gs[b], trkr[b], alt[b], vs[b],
                r, h, tlook, out):
        return True
    return _one_way(latr[b], lonr[b], gs[b], trkr[b], alt[b], vs[b], latr[a], lonr[a], gs[a], trkr[a], alt[a],
                    vs[a], r, h, tlook, out)


# --- pruning: swept boxes, swept by latitude ----------------------------------------------------------
def swept_boxes(t: Traffic, tlook: float) -> tuple[F, F, F, F, F, F]:
    """Per track: latitude, longitude (start, width) and altitude intervals that contain everything it
    can be within ``tlook``, grown by half the largest minima. Degrees of longitude are converted with
    c = cos(|lat| + Δ), Δ the largest latitude gap of a pair that can conflict, (R + 2·gs_max·T)/Re: for
    any such pair the mean-latitude cosine of the exact test is ≥ both tracks' c, so each box bounds the
    track's motion in its pair's frame and two boxes grown by R/(2·Re·c) meet whenever the pair can come
    within R. Boxes are padded by a relative 1e-9 against rounding."""
    r = float(t.rpz.max(initial=0.0))
    h = float(t.hpz.max(initial=0.0))
    gsmax = float(np.abs(t.gs).max(initial=0.0))
    trk = np.radians(t.trk)
    u = t.gs * np.sin(trk)
    v = t.gs * np.cos(trk)
    delta = (r + 2.0 * gsmax * tlook) / RE
    latr = np.radians(t.lat)
    c = np.cos(np.minimum(np.abs(latr) + delta, math.pi / 2))
    pad = 1e-9
    half_lat = r / (2 * RE)
    dlat = v * tlook / RE
    lat_lo = np.degrees(latr + np.minimum(0.0, dlat) - half_lat) - pad
    lat_hi = np.degrees(latr + np.maximum(0.0, dlat) + half_lat) + pad
    with np.errstate(divide="ignore", invalid="ignore"):
        dlon = np.degrees(u * tlook / (RE * c))
        half_lon = np.degrees(r / (2 * RE * c))
    lon_lo = t.lon + np.minimum(0.0, dlon) - half_lon - pad
    lon_w = np.abs(dlon) + 2 * half_lon + 2 * pad
    lon_w = np.where(np.isfinite(lon_w) & (c > 1e-9), lon_w, 360.0)  # near a pole: every longitude
    lon_lo = np.where(lon_w >= 360.0, -180.0, lon_lo)
    dalt = t.vs * tlook
    alt_lo = t.alt + np.minimum(0.0, dalt) - h / 2 - pad * (1 + np.abs(t.alt))
    alt_hi = t.alt + np.maximum(0.0, dalt) + h / 2 + pad * (1 + np.abs(t.alt))
    return lat_lo, lat_hi, lon_lo, lon_w, alt_lo, alt_hi


@numba.njit(cache=True, inline="always")
def _lon_meet(a_lo: float, a_w: float, b_lo: float, b_w: float) -> bool:
    """Do two longitude intervals [lo, lo + w] meet on the circle?"""
    if a_w + b_w >= 360.0:
        return True
    d = (b_lo - a_lo) % 360.0
    return d <= a_w or d >= 360.0 - b_w


#: conflicts kept per track in the first pass; a track with more is swept again on its own
CAP = 8


@numba.njit(cache=True, parallel=True)
def _sweep(lat_lo: F, lat_hi: F, lon_lo: F, lon_w: F, alt_lo: F, alt_hi: F, group: I64,
           latr: F, lonr: F, gs: F, trkr: F, alt: F, vs: F, rpz: F, hpz: F, tlook: float,
           rows: I64, counts: I64, cap: int, found: I64, times: F) -> None:
    """Every array is in latitude order of the boxes. For each track in ``rows``, test the tracks after
    it whose boxes start before its box ends; keep up to ``cap`` conflicts per row in ``found`` and
    ``times`` (row r's k-th at [r, k]) and count them all in ``counts``."""
    n = len(lat_lo)
    for r in numba.prange(len(rows)):
        a = rows[r]
        out = np.empty(5)
        k = 0
        top = lat_hi[a]
        for b in range(a + 1, n):
            if lat_lo[b] > top:
                break
            if alt_lo[b] > alt_hi[a] or alt_lo[a] > alt_hi[b]:
                continue
            if group[a] == group[b]:
                continue
            if not _lon_meet(lon_lo[a], lon_w[a], lon_lo[b], lon_w[b]):
                continue
            if _pair(latr, lonr, gs, trkr, alt, vs, rpz, hpz, a, b, tlook, out):
                if k < cap:
                    found[r, k] = b
                    for m in range(5):
                        times[r, k, m] = out[m]
                k += 1
        counts[r] = k


def _result(t: Traffic, i: I64, j: I64, times: F) -> Pairs:
    order = np.lexsort((j, i))
    i, j, times = i[order], j[order], times[order]
    dalt = t.alt[i] - t.alt[j]
    los = (times[:, 4] < np.maximum(t.rpz[i], t.rpz[j])) & (np.abs(dalt) < np.maximum(t.hpz[i], t.hpz[j]))
    return Pairs(i, j, times[:, 0], times[:, 1], times[:, 2], times[:, 3], times[:, 4], dalt, los)


def detect(t: Traffic, minima: Minima = Minima()) -> Pairs:
    """Every conflicting pair of tracks of different groups, with entry and exit times."""
    n = len(t)
    tlook = float(minima.lookahead_s)
    if n < 2:
        return _result(t, np.empty(0, np.int64), np.empty(0, np.int64), np.empty((0, 5)))
    boxes = swept_boxes(t, tlook)
    order = np.argsort(boxes[0], kind="stable").astype(np.int64)
    # everything in sweep order, so the inner loop reads memory in sequence
    cols = [np.ascontiguousarray(x[order]) for x in boxes]
    state = [np.ascontiguousarray(x[order]) for x in (
        t.group, np.radians(t.lat), np.radians(t.lon), t.gs, np.radians(t.trk), t.alt, t.vs, t.rpz, t.hpz)]
    args: tuple[Any, ...] = (*cols, *state, tlook)
    sweep: Any = _sweep  # numba's dispatcher is untyped
    rows = np.arange(n, dtype=np.int64)
    counts = np.zeros(n, np.int64)
    found, times = np.empty((n, CAP), np.int64), np.empty((n, CAP, 5))
    sweep(*args, rows, counts, CAP, found, times)
    kept = np.minimum(counts, CAP)
    mask = np.arange(CAP)[None, :] < kept[:, None]
    ai, bi, tt = np.repeat(rows, kept), found[mask], times[mask]
    over = rows[counts > CAP]
    if len(over):  # the few crowded tracks: again, with room for all their conflicts
        wide = int(counts[over].max())
        c2 = np.zeros(len(over), np.int64)
        f2, t2 = np.empty((len(over), wide), np.int64), np.empty((len(over), wide, 5))
        sweep(*args, over, c2, wide, f2, t2)
        m2 = np.arange(wide)[None, :] < c2[:, None]
        keep = counts[ai] <= CAP
        ai = np.concatenate([ai[keep], np.repeat(over, c2)])
        bi = np.concatenate([bi[keep], f2[m2]])
        tt = np.concatenate([tt[keep], t2[m2]])
    a, b = order[ai], order[bi]
    return _result(t, np.minimum(a, b), np.maximum(a, b), tt)


@numba.njit(cache=True, parallel=True)
def _all_pairs(group: I64, latr: F, lonr: F, gs: F, trkr: F, alt: F, vs: F, rpz: F, hpz: F, tlook: float,
               hit: NDArray[np.bool_], times: F) -> None:
    n = len(latr)
    for a in numba.prange(n):
        out = np.empty(5)
        for b in range(a + 1, n):
            if group[a] != group[b] and _pair(latr, lonr, gs, trkr, alt, vs, rpz, hpz, a, b, tlook, out):
                hit[a, b] = True
                for m in range(5):
                    times[a, b, m] = out[m]


def exhaustive(t: Traffic, minima: Minima = Minima()) -> Pairs:
    """The oracle: the exact test on every pair, no pruning (O(n²) memory: small n only)."""
    n = len(t)
    hit = np.zeros((n, n), np.bool_)
    times = np.zeros((n, n, 5))
    _all_pairs(t.group, np.radians(t.lat), np.radians(t.lon), t.gs, np.radians(t.trk), t.alt, t.vs, t.rpz, t.hpz,
               float(minima.lookahead_s), hit, times)
    i, j = np.nonzero(hit)
    return _result(t, i.astype(np.int64), j.astype(np.int64), times[i, j])


def extrapolate(t: Traffic, ages_s: F) -> Traffic:
    """Each track moved forward by its age (s) along its state: the snapshot at one instant."""
    trk = np.radians(t.trk)
    latr = np.radians(t.lat)
    c = np.maximum(np.cos(latr), 1e-9)
    lat = t.lat + np.degrees(t.gs * np.cos(trk) * ages_s / RE)
    lon = t.lon + np.degrees(t.gs * np.sin(trk) * ages_s / (RE * c))
    lon = (lon + 180.0) % 360.0 - 180.0
    lat = np.clip(lat, -90.0, 90.0)
    return Traffic(lat, lon, t.gs, t.trk, t.alt + t.vs * ages_s, t.vs, t.group, t.rpz, t.hpz)


def position_at(t: Traffic, idx: I64, seconds: F) -> tuple[F, F, F]:
    """(lat, lon, alt) of tracks ``idx`` after ``seconds``, on their straight lines."""
    trk = np.radians(t.trk[idx])
    c = np.maximum(np.cos(np.radians(t.lat[idx])), 1e-9)
    lat = t.lat[idx] + np.degrees(t.gs[idx] * np.cos(trk) * seconds / RE)
    lon = t.lon[idx] + np.degrees(t.gs[idx] * np.sin(trk) * seconds / (RE * c))
    return lat, (lon + 180.0) % 360.0 - 180.0, t.alt[idx] + t.vs[idx] * seconds
