"""Conflict detection: a pure function from an activity and its candidates to decisions with reasons.

Every candidate gets a ``Decision`` — conflict or not — with a rule id and a one-sentence reason, so
a duty officer can always ask "why was (or wasn't) this flagged?".

Rules
-----
``zone_rule``
    The activity's kind is forbidden by a zone in force; some volume's footprint lies within the
    zone's ``standoff_m`` (touching counts), the altitude bands meet (closed intervals), and the volume's
    window overlaps the zone's effective window (half-open) within the zone's hours, if it has a
    schedule (a region for each stretch of them).
``overlap``
    Two parties' activities: some pair of volumes is within ``Margins.horizontal_m`` horizontally and
    ``Margins.vertical_m`` vertically (closed), and their windows overlap (half-open: an end touching
    a start is not an overlap).

All distances are measured in the local frame of the subject's volume (see ``geometry``).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from truceline.domain import geometry as geo
from truceline.domain.memo import Bounded
from truceline.domain.model import (
    Activity,
    ActivityStatus,
    AltitudeBand,
    ConflictRule,
    Region,
    TimeWindow,
    Volume,
    Zone,
    ZoneStatus,
)
from truceline.domain.volumes import format_time

CONFLICT_NAMESPACE = uuid.UUID("5b0f6c1e-6f0a-4a53-9d0e-7472756365a1")


@dataclass(frozen=True)
class Margins:
    """Separation below which two parties' activities are in conflict (settings)."""

    horizontal_m: float = 1_000.0
    vertical_m: float = 150.0


@dataclass(frozen=True)
class Decision:
    rule: ConflictRule
    conflict: bool
    reason: str
    key: str
    activity_ids: tuple[str, ...]
    zone_id: str | None = None
    party_ids: tuple[str, ...] = ()
    regions: tuple[Region, ...] = field(default=())

    @property
    def conflict_id(self) -> str:
        return conflict_id(self.key)


def conflict_id(key: str) -> str:
    """A conflict's id is derived from what it is between, so re-checks find the same conflict.

    It is laid out as an RFC 9562 version 8 UUID: a SHA-1 digest of the key, behind the newest
    time among the version 7 ids the key holds. That is the activity the conflict came with, usually
    one just created, so a new conflict lands at the right edge of every index keyed by conflict id,
    as ``new_id``'s ids do, instead of on a random page."""
    digest = int.from_bytes(hashlib.sha1(CONFLICT_NAMESPACE.bytes + key.encode()).digest()[:16], "big")
    times = [int(m[0] + m[1], 16) for m in _UUID7.findall(key)]
    if times:
        digest = max(times) << 80 | digest & ((1 << 80) - 1)
    return str(uuid.UUID(int=digest & ~(0xF << 76) & ~(0x3 << 62) | 0x8 << 76 | 0x2 << 62))


_UUID7 = re.compile(r"([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def zone_key(activity_id: str, zone_id: str) -> str:
    return f"zone_rule:{activity_id}:{zone_id}"


def overlap_key(a: str, b: str) -> str:
    # The newer id first (ids sort by time): new keys land at the right edge of the key index.
    lo, hi = sorted((a, b))
    return f"overlap:{hi}:{lo}"


def _span(w: TimeWindow) -> str:
    return f"{format_time(w.start)} to {format_time(w.end) if w.end else 'open end'}"


def _band(r: _Place) -> str:
    return f"{r.altitude.lower:.0f}–{r.altitude.upper:.0f} m"


def _label(zone: Zone) -> str:
    return f"{zone.kind.replace('_', '-')} zone '{zone.name}'"


@dataclass(frozen=True)
class _Place:
    """A conflict region still in its local frame. Regions go back to lon/lat together, at the end of
    ``find``: one call to PROJ for all of them costs far less than one each."""

    frame: geo.LocalFrame
    shape: BaseGeometry
    window: TimeWindow
    altitude: AltitudeBand


def _place(frame: geo.LocalFrame, local: BaseGeometry, window: TimeWindow, altitude: AltitudeBand) -> _Place:
    """Lines and points (shapes that only touch) get a 5 m body, so every region is an area."""
    if local.is_empty or local.geom_type not in ("Polygon", "MultiPolygon"):
        local = local.buffer(5.0, quad_segs=2)
    return _Place(frame, local, window, altitude)


#: A decision whose regions are still local (``_Place``); ``_finish`` turns it into a ``Decision``.
_Draft = tuple["Decision", list[_Place]]


def _finish(drafts: Sequence[_Draft]) -> list[Decision]:
    """Give each draft its regions in lon/lat, converting all of them one frame at a time."""
    by_frame: dict[int, tuple[geo.LocalFrame, list[BaseGeometry]]] = {}
    for _, places in drafts:
        for p in places:
            by_frame.setdefault(id(p.frame), (p.frame, []))[1].append(p.shape)
    converted = {k: iter(geo.locals_to_lonlat_polygons(f, shapes)) for k, (f, shapes) in by_frame.items()}
    out = []
    for d, places in drafts:  # the same order as above, so each frame's shapes come back in turn
        if places:
            regions = tuple(Region(next(converted[id(p.frame)]), p.window, p.altitude) for p in places)
            d = replace(d, regions=regions)
        out.append(d)
    return out


def _hull(regions: Sequence[_Place]) -> tuple[TimeWindow, tuple[float, float]]:
    start = min(r.window.start for r in regions)
    ends = [r.window.end for r in regions]
    end = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
    return TimeWindow(start, end), (min(r.altitude.lower for r in regions), max(r.altitude.upper for r in regions))


def _array(geoms: Sequence[BaseGeometry]) -> np.ndarray:
    out = np.empty(len(geoms), dtype=object)
    out[:] = geoms
    return out


class Projections:
    """Each subject volume's local frame and projected footprint, and the candidates' footprints in
    those frames: each computed once per ``find``."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[geo.LocalFrame, BaseGeometry]] = {}
        self._into: dict[tuple[int, int], BaseGeometry] = {}  # (frame, footprint) -> footprint in it
        self._grown: dict[tuple[int, float], BaseGeometry] = {}  # (local shape, distance) -> buffered
        self._keep: list[object] = []  # what is keyed by id() stays alive while cached

    def add(self, footprint: BaseGeometry, projected: tuple[geo.LocalFrame, BaseGeometry]) -> None:
        """Record a projection already made (the cell covering makes the subject's)."""
        self._cache[id(footprint)] = projected
        self._keep.append(footprint)

    def of(self, footprint: BaseGeometry) -> tuple[geo.LocalFrame, BaseGeometry]:
        hit = self._cache.get(id(footprint))
        if hit is None:
            hit = self._cache[id(footprint)] = geo.project(footprint)
            self._keep.append(footprint)
        return hit

    def into(self, frame: geo.LocalFrame, footprint: BaseGeometry) -> BaseGeometry:
        """A candidate's footprint in a subject's frame."""
        hit = self._into.get((id(frame), id(footprint)))
        if hit is None:
            self.prepare(frame, [footprint])
            hit = self._into[(id(frame), id(footprint))]
        return hit

    def grown(self, shape: BaseGeometry, distance_m: float) -> BaseGeometry:
        """A local shape buffered by ``distance_m``: a subject's is grown once, not once per pair."""
        key = (id(shape), distance_m)
        hit = self._grown.get(key)
        if hit is None:
            hit = self._grown[key] = shape.buffer(distance_m, quad_segs=8)
            self._keep.append(shape)
        return hit

    def prepare(self, frame: geo.LocalFrame, footprints: Sequence[BaseGeometry]) -> None:
        """Project many candidates into ``frame`` in one call to PROJ (or find them projected already)."""
        todo = list({id(f): f for f in footprints if (id(frame), id(f)) not in self._into}.values())
        if not todo:
            return
        self._keep.extend([frame, *todo])
        missing = []
        for f in todo:
            hit = _projected.get((frame.lon0, frame.lat0, id(f)))
            if hit is not None and hit[0] is f:
                self._into[(id(frame), id(f))] = hit[1]
            else:
                missing.append(f)
        if missing:
            for f, local in zip(missing, frame.to_local(_array(missing)), strict=True):
                self._into[(id(frame), id(f))] = local
                n = int(shapely.get_num_coordinates(local))
                _projected.put((frame.lon0, frame.lat0, id(f)), (f, local), n)


#: Footprints projected into frames, kept across calls: ``(frame centre, id(footprint))`` to
#: ``(footprint, shape in the frame)``. The store hands back the same footprint object for the same
#: stored shape (``adapters.repositories``), so a busy area's activities are projected once, not once
#: per notification that meets them. An entry holds its footprint, so the id cannot name another
#: object while the entry lives; the identity check on reading is belt and braces. The budget is
#: in vertices.
_projected: Bounded[tuple[float, float, int], tuple[BaseGeometry, BaseGeometry]] = Bounded(1_000_000)


def check_zone(
    activity: Activity, zone: Zone, local: Projections | None = None, *, once_in_force: bool = False
) -> Decision:
    """Decide whether ``activity`` breaks ``zone``'s rules. ``once_in_force``: decide for a zone not
    in force (yet, or again) as if it were, saying so in the reason: a plan checked ahead."""
    return _finish([_zone_draft(activity, zone, local or Projections(), once_in_force=once_in_force)])[0]


def _zone_draft(activity: Activity, zone: Zone, local: Projections, *, once_in_force: bool = False) -> _Draft:
    key = zone_key(activity.id, zone.id)
    parties = tuple(sorted({activity.party_id, *zone.party_ids}))

    def no(reason: str) -> _Draft:
        return Decision(ConflictRule.zone_rule, False, reason, key, (activity.id,), zone.id, parties), []

    if activity.status is not ActivityStatus.active:
        return no(f"the activity is {activity.status}")
    if zone.status is not ZoneStatus.in_force and not once_in_force:
        return no(f"{_label(zone)} is {zone.status.replace('_', ' ')}, not in force")
    if activity.kind not in zone.forbidden_kinds:
        return no(f"{_label(zone)} does not forbid {activity.kind.replace('_', ' ')} activities")
    regions: list[_Place] = []
    nearest = float("inf")
    timing = altitude = False
    for v in activity.volumes:
        if not v.window.overlaps(zone.effective):
            continue
        during = _active(zone, v.window.intersection(zone.effective))
        if not during:
            continue
        timing = True
        if v.altitude.gap_to(zone.altitude) > 0:
            continue
        altitude = True
        frame, fp = local.of(v.footprint)
        zp = local.into(frame, zone.footprint)
        d = float(shapely.distance(fp, zp))
        nearest = min(nearest, d)
        if d > zone.standoff_m:
            continue
        reach = zp.buffer(zone.standoff_m, quad_segs=8) if zone.standoff_m > 0 else zp
        inside = fp.intersection(reach)
        band = v.altitude.meeting_band(zone.altitude)
        regions.extend(_place(frame, inside, w, band) for w in during)
    if not timing:
        hours = f" during its hours ({zone.schedule.describe()})" if zone.schedule else ""
        return no(f"no volume's time window overlaps the period {_label(zone)} is in force{hours}")
    if not altitude:
        return no(
            f"no volume's altitude band meets {_label(zone)}'s band "
            f"({zone.altitude.lower:.0f}–{zone.altitude.upper:.0f} m)"
        )
    if not regions:
        return no(f"no volume comes within {zone.standoff_m:.0f} m of {_label(zone)}; nearest is {nearest:,.0f} m away")
    window, _ = _hull(regions)
    within = "inside" if zone.standoff_m == 0 else f"inside or within {zone.standoff_m:.0f} m of"
    hours = f" ({zone.schedule.describe()})" if zone.schedule else ""
    kind = activity.kind.replace("_", " ")
    rule = (
        f"which is in force{hours} and forbids {kind} activities"
        if zone.status is ZoneStatus.in_force
        else f"which is {zone.status.replace('_', ' ')} and would forbid {kind} activities{hours} once in force"
    )
    reason = f"{kind} activity is {within} {_label(zone)}, {rule}, from {_span(window)} at {_band(regions[0])}"
    return Decision(ConflictRule.zone_rule, True, reason, key, (activity.id,), zone.id, parties), regions


def _pair_region(va: Volume, vb: Volume, margins: Margins, local: Projections) -> tuple[_Place | None, float]:
    frame, a = local.of(va.footprint)
    b = local.into(frame, vb.footprint)
    d = float(shapely.distance(a, b))
    if d > margins.horizontal_m:
        return None, d
    half = margins.horizontal_m / 2
    meet = local.grown(a, half).intersection(b.buffer(half, quad_segs=8))
    if meet.is_empty:  # exactly at the margin: the buffers only touch
        meet = shapely.shortest_line(a, b)
    return _place(frame, meet, va.window.intersection(vb.window), va.altitude.meeting_band(vb.altitude)), d


def check_overlap(a: Activity, b: Activity, margins: Margins, local: Projections | None = None) -> Decision:
    """Decide whether two activities come too close in space, altitude and time."""
    return _finish([_overlap_draft(a, b, margins, local or Projections())])[0]


def _overlap_draft(a: Activity, b: Activity, margins: Margins, local: Projections) -> _Draft:
    key = overlap_key(a.id, b.id)
    first, second = sorted((a, b), key=lambda x: x.id)
    ids = (first.id, second.id)
    parties = tuple(sorted({a.party_id, b.party_id}))

    def no(reason: str) -> _Draft:
        return Decision(ConflictRule.overlap, False, reason, key, ids, None, parties), []

    if a.party_id == b.party_id:
        return no("both activities belong to the same party")
    for x in (a, b):
        if x.status is not ActivityStatus.active:
            return no(f"activity {x.id} is {x.status}")
    regions: list[_Place] = []
    timing = vertical = False
    nearest = float("inf")
    for va in a.volumes:
        for vb in b.volumes:
            if not va.window.overlaps(vb.window):
                continue
            timing = True
            if va.altitude.gap_to(vb.altitude) > margins.vertical_m:
                continue
            vertical = True
            region, d = _pair_region(va, vb, margins, local)
            nearest = min(nearest, d)
            if region is not None:
                regions.append(region)
    if not timing:
        return no("the time windows do not overlap")
    if not vertical:
        return no(f"the altitude bands are more than {margins.vertical_m:.0f} m apart whenever both are under way")
    if not regions:
        return no(f"the footprints are {nearest:,.0f} m apart, more than the {margins.horizontal_m:.0f} m margin")
    window, _ = _hull(regions)
    reason = (
        f"{a.kind.replace('_', ' ')} and {b.kind.replace('_', ' ')} activities of two parties come within "
        f"{margins.horizontal_m:.0f} m horizontally and {margins.vertical_m:.0f} m vertically "
        f"from {_span(window)}"
    )
    return Decision(ConflictRule.overlap, True, reason, key, ids, None, parties), regions


#: A conflict with a zone's hours has a region for each stretch of them, up to this many; a longer
#: activity's last region runs on to the end of the last stretch (so a year-long plan stays readable).
MAX_SCHEDULED_REGIONS = 31


def _active(zone: Zone, window: TimeWindow) -> list[TimeWindow]:
    """The parts of ``window`` when ``zone``'s rules apply: all of it without a schedule."""
    if zone.schedule is None or window.end is None:  # an open window: the schedule cannot be cut from it
        return [window]
    return zone.schedule.active(window, at_most=MAX_SCHEDULED_REGIONS)


def find(
    subject: Activity,
    *,
    zones: Sequence[Zone] = (),
    activities: Sequence[Activity] = (),
    margins: Margins = Margins(),
    local: Projections | None = None,
) -> list[Decision]:
    """Every decision for ``subject`` against candidate zones and other activities.

    Candidates are whatever the cell index returned (a superset of the true conflicts); each gets a
    decision. The subject itself, if among the candidates, is skipped.
    """
    local = local or Projections()
    _prepare(subject, zones, activities, margins, local)
    drafts = [_zone_draft(subject, z, local) for z in zones]
    drafts.extend(_overlap_draft(subject, other, margins, local) for other in activities if other.id != subject.id)
    return _finish(drafts)


def _prepare(
    subject: Activity, zones: Sequence[Zone], activities: Sequence[Activity], margins: Margins, local: Projections
) -> None:
    """Project, for each of the subject's volumes, every candidate the checks will measure against it
    (it applies their tests before measuring): one call to PROJ per frame instead of one per pair.
    Anything left out is projected on its own when a check asks for it."""
    if subject.status is not ActivityStatus.active:
        return
    zones = [z for z in zones if z.status is ZoneStatus.in_force and subject.kind in z.forbidden_kinds]
    others = [
        a
        for a in activities
        if a.party_id != subject.party_id and a.status is ActivityStatus.active and a.id != subject.id
    ]
    for v in subject.volumes:
        frame, _ = local.of(v.footprint)
        shapes = [z.footprint for z in zones if v.window.overlaps(z.effective) and v.altitude.gap_to(z.altitude) <= 0]
        shapes.extend(
            w.footprint
            for a in others
            for w in a.volumes
            if v.window.overlaps(w.window) and v.altitude.gap_to(w.altitude) <= margins.vertical_m
        )
        local.prepare(frame, shapes)
