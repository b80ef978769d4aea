"""Predicted incursions: a live track whose straight line over the look-ahead enters a zone in force
that forbids its kind (the zone's footprint grown by its standoff, within its altitude band).

The line is the same state-based extrapolation as separation detection: over the look-ahead ``T`` a
track moves from its position P0 to P1 = P0 + (v·T/Re, u·T/(Re·cos lat)) in lat/lon, straight in
lon/lat as zone edges are (RFC 7946). The part of P0→P1 inside the zone gives the horizontal entry and
exit times ``s·T`` (s the fraction along the line); the altitude ``alt + vs·t`` inside the band gives
the vertical ones; the incursion runs from the later entry to the earlier exit."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from truceline.domain import geometry as geo
from truceline.domain.model import Zone
from truceline.domain.tactical import Traffic, position_at


@dataclass(frozen=True)
class ZoneShape:
    zone_id: str
    name: str
    shape: BaseGeometry  # lon/lat, standoff included
    alt_lo: float
    alt_hi: float
    forbidden: frozenset[str]
    party_ids: frozenset[str]


@lru_cache(maxsize=4096)
def _grown(zone_id: str, updated_at: float, footprint_wkb: bytes, standoff_m: float) -> BaseGeometry:
    footprint = shapely.from_wkb(footprint_wkb)
    if standoff_m <= 0:
        return footprint
    frame = geo.frame_for(footprint)
    local = frame.to_local(geo.densify(footprint)).buffer(standoff_m, quad_segs=8)
    return geo.local_to_lonlat_polygon(frame, local)


def zone_shape(z: Zone) -> ZoneShape:
    shape = _grown(z.id, z.updated_at.timestamp(), shapely.to_wkb(z.footprint), z.standoff_m)
    return ZoneShape(z.id, z.name, shape, z.altitude.lower, z.altitude.upper,
                     frozenset(k.value for k in z.forbidden_kinds), frozenset(z.party_ids))


@dataclass(frozen=True)
class Incursion:
    track: int  # index into the traffic
    zone_id: str
    t_in: float  # s from the snapshot; 0 when already inside
    t_out: float  # s; the look-ahead when it does not leave within it
    inside_now: bool


def _vertical(alt: np.ndarray, vs: np.ndarray, lo: np.ndarray, hi: np.ndarray, tlook: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """When ``alt + vs·t`` is within [lo, hi], clipped to [0, tlook] (empty: start > end)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (lo - alt) / vs
        t2 = (hi - alt) / vs
    level = np.abs(vs) < 1e-9
    inside = (alt >= lo) & (alt <= hi)
    start = np.where(level, np.where(inside, 0.0, np.inf), np.minimum(t1, t2))
    end = np.where(level, np.where(inside, tlook, -np.inf), np.maximum(t1, t2))
    return np.maximum(start, 0.0), np.minimum(end, tlook)


def find(t: Traffic, kinds: list[str], zones: list[ZoneShape], tlook: float) -> list[Incursion]:
    """Every (track, zone) incursion within ``tlook`` seconds, where the zone forbids the track's kind."""
    n = len(t)
    if n == 0 or not zones:
        return []
    idx = np.arange(n)
    lat1, lon1, _ = position_at(t, idx, np.full(n, tlook))
    # a line that crosses the antimeridian is drawn the short way round (unwrapped past ±180)
    dlon = lon1 - t.lon
    lon1 = np.where(dlon > 180, lon1 - 360, np.where(dlon < -180, lon1 + 360, lon1))
    coords = np.stack([np.column_stack([t.lon, t.lat]), np.column_stack([lon1, lat1])], axis=1)
    lines: Any = shapely.linestrings(coords)
    tree = shapely.STRtree([z.shape for z in zones])
    li, zi = tree.query(lines, predicate="intersects")
    if len(li) == 0:
        return []
    kind = np.asarray(kinds, dtype=object)
    forbids = np.array([kind[a] in zones[b].forbidden for a, b in zip(li, zi, strict=True)], dtype=bool)
    li, zi = li[forbids], zi[forbids]
    if len(li) == 0:
        return []
    lo = np.array([zones[b].alt_lo for b in zi])
    hi = np.array([zones[b].alt_hi for b in zi])
    v_in, v_out = _vertical(t.alt[li], t.vs[li], lo, hi, tlook)
    keep = v_in <= v_out
    li, zi, v_in, v_out = li[keep], zi[keep], v_in[keep], v_out[keep]
    if len(li) == 0:
        return []
    inter = shapely.intersection(lines[li], np.array([zones[b].shape for b in zi], dtype=object))
    pts, which = shapely.get_coordinates(inter, return_index=True)
    p0 = coords[li, 0, :]
    seg = coords[li, 1, :] - p0
    len2 = (seg**2).sum(axis=1)
    s_lo = np.full(len(li), np.inf)
    s_hi = np.full(len(li), -np.inf)
    if len(pts):
        rel = pts - p0[which]
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(len2[which] > 0, (rel * seg[which]).sum(axis=1) / len2[which], 0.0)
        s = np.clip(s, 0.0, 1.0)
        np.minimum.at(s_lo, which, s)
        np.maximum.at(s_hi, which, s)
    still = len2 == 0  # a track standing still: inside for the whole look-ahead, or not at all
    s_lo = np.where(still & np.isfinite(s_lo), 0.0, s_lo)
    s_hi = np.where(still & np.isfinite(s_hi), 1.0, s_hi)
    h_in, h_out = s_lo * tlook, s_hi * tlook
    t_in = np.maximum(h_in, v_in)
    t_out = np.minimum(h_out, v_out)
    found = []
    for k in np.nonzero(np.isfinite(t_in) & (t_in <= t_out) & (t_in <= tlook))[0]:
        found.append(Incursion(int(li[k]), zones[zi[k]].zone_id, float(t_in[k]), float(t_out[k]),
                               bool(t_in[k] == 0.0 and h_in[k] == 0.0)))
    return found

