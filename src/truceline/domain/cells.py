"""The cell index's pure half: conservative H3 coverings and time buckets.

A covering is the set of H3 cells whose boundary polygon meets the shape grown by a distance. It is
computed by a breadth-first walk from the cells under each part of the shape, testing cells one ring
at a time (vectorised) in the shape's local frame; the walk stops where no cell meets the shape. Cells
that meet a connected shape form a connected set, so nothing is missed.

Why it is conservative: a point ``p`` of the shape lies in the cell ``latlng_to_cell(p)``; that cell's
polygon (its boundary vertices joined by straight lines in the frame) contains ``p`` up to a few
metres, and the shape is grown by ``slack_m(resolution)`` (tens of metres) before testing, so that
cell is always in the covering. Two shapes within ``d`` of each other then share a cell if one is
covered grown by ``d`` and the other as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import h3.api.basic_int as h3
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from truceline.domain.geometry import LocalFrame, project
from truceline.domain.memo import Bounded
from truceline.domain.model import TimeWindow

DEFAULT_RESOLUTION = 6  # ~3.2 km edges, ~36 km² cells
MS_PER_DAY = 86_400_000
#: Volumes longer than this many day buckets are filed under LONG_BUCKET and checked against every query.
MAX_DAY_BUCKETS = 14
LONG_BUCKET = -1


def slack_m(resolution: int) -> float:
    """Allowance for the difference between a cell's true edges and straight lines in the frame."""
    return 25.0 + 0.01 * float(h3.average_hexagon_edge_length(resolution, unit="m"))


#: Cell outlines already in a frame, by (frame centre, cell). A theatre's coverings keep meeting the
#: same few thousand cells, and projecting their vertices was most of a covering's cost. Entries are
#: pure functions of their key, so the cache changes no result; it is emptied when full.
_OUTLINES: Bounded[tuple[float, float, int], BaseGeometry] = Bounded(50_000)


def _cell_polygons(cells: Sequence[int], frame: LocalFrame) -> np.ndarray:
    """Each cell's boundary as a polygon in the frame (vertices joined by straight lines)."""
    keys = [(frame.lon0, frame.lat0, c) for c in cells]
    out = np.empty(len(cells), dtype=object)
    out[:] = [_OUTLINES.get(k) for k in keys]
    todo = [i for i, g in enumerate(out) if g is None]
    if todo:
        for i, g in zip(todo, _project_cells([cells[i] for i in todo], frame), strict=True):
            out[i] = g
            _OUTLINES.put(keys[i], g)
    return out


def _project_cells(cells: Sequence[int], frame: LocalFrame) -> np.ndarray:
    bounds = [h3.cell_to_boundary(c) for c in cells]
    counts = np.fromiter((len(b) for b in bounds), dtype=np.int64, count=len(bounds))
    latlng = np.asarray([v for b in bounds for v in b], dtype=float)
    x, y = frame.lonlat_to_xy(latlng[:, 1], latlng[:, 0])
    rings = shapely.linearrings(np.column_stack([x, y]), indices=np.repeat(np.arange(len(cells)), counts))
    return np.asarray(shapely.polygons(rings))


def cover(
    footprint: BaseGeometry,
    *,
    resolution: int = DEFAULT_RESOLUTION,
    grow_m: Sequence[float] = (0.0,),
    projected: tuple[LocalFrame, BaseGeometry] | None = None,
) -> list[set[int]]:
    """Cells meeting ``footprint`` grown by each distance in ``grow_m`` (one set per distance).

    ``footprint`` is a densified lon/lat polygon (see ``geometry.densify``); ``projected``, if given,
    is ``geometry.project(footprint)``, already computed.

    >>> from truceline.domain.geometry import circle, densify
    >>> plain, grown = cover(densify(circle(36.1, 32.6, 2_000)), grow_m=(0.0, 1_000.0))
    >>> plain <= grown and len(plain) >= 1
    True
    """
    frame, local = projected or project(footprint)
    slack = slack_m(resolution)
    shapes = [local.buffer(g + slack, quad_segs=4) for g in grow_m]
    outer_i = int(np.argmax(grow_m))
    outer = shapes[outer_i]
    for s in shapes:
        shapely.prepare(s)

    # A point of each part, taken in lon/lat (no projection back): its cell meets the grown shape.
    seeds: set[int] = set()
    for part in getattr(footprint, "geoms", [footprint]):
        p = part.representative_point()
        seeds.add(h3.latlng_to_cell(p.y, p.x, resolution))

    results: list[set[int]] = [set() for _ in grow_m]
    visited: set[int] = set(seeds)
    frontier = list(seeds)
    while frontier:
        polys = _cell_polygons(frontier, frame)
        hit = shapely.intersects(outer, polys)
        nxt: list[int] = []
        hit_cells = [c for c, h in zip(frontier, hit, strict=True) if h]
        hit_polys = polys[hit]
        for i, s in enumerate(shapes):
            if i == outer_i:
                results[i].update(hit_cells)
            elif len(hit_cells):
                inner_hit = shapely.intersects(s, hit_polys)
                results[i].update(c for c, h in zip(hit_cells, inner_hit, strict=True) if h)
        for c in hit_cells:
            for n in h3.grid_ring(c, 1):
                if n not in visited:
                    visited.add(n)
                    nxt.append(n)
        frontier = nxt
    return results


def to_ms(t: datetime) -> int:
    return round(t.timestamp() * 1000)


def day_buckets(window: TimeWindow) -> list[int]:
    """The day numbers (since the epoch, UTC) a window touches, or ``[LONG_BUCKET]`` if long or open."""
    if window.end is None:
        return [LONG_BUCKET]
    first = to_ms(window.start) // MS_PER_DAY
    last = (to_ms(window.end) - 1) // MS_PER_DAY
    if last - first + 1 > MAX_DAY_BUCKETS:
        return [LONG_BUCKET]
    return list(range(first, last + 1))


def query_buckets(window: TimeWindow) -> list[int]:
    """Buckets a query for ``window`` must read: the days it touches, and always the long bucket."""
    if window.end is None or (to_ms(window.end) - to_ms(window.start)) // MS_PER_DAY + 1 > MAX_DAY_BUCKETS * 4:
        return []  # empty means "every bucket": the caller drops the bucket filter
    first = to_ms(window.start) // MS_PER_DAY
    last = (to_ms(window.end) - 1) // MS_PER_DAY
    return [*range(first, last + 1), LONG_BUCKET]


def union_cells(sets: Iterable[set[int]]) -> set[int]:
    out: set[int] = set()
    for s in sets:
        out |= s
    return out
