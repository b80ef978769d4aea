"""Conflict detection: a pure function from an activity and its candidates to decisions with reasons.

Every candidate gets a ``Decision`` — conflict or not — with a rule id and a one-sentence reason, so
a duty officer can always ask "why was (or wasn't) this flagged?".

Rules
-----
``zone_rule``
    The activity's kind is forbidden by a zone in force; some volume's footprint lies within the
    zone's ``standoff_m`` (touching counts), the altitude bands meet (closed intervals), and the volume's
    window overlaps the zone's effective window (half-open).
``overlap``
    Two parties' activities: some pair of volumes is within ``Margins.horizontal_m`` horizontally and
    ``Margins.vertical_m`` vertically (closed), and their windows overlap (half-open: an end touching
    a start is not an overlap).

All distances are measured in the local frame of the subject's volume (see ``geometry``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import shapely
from shapely.geometry.base import BaseGeometry

from truceline.domain import geometry as geo
from truceline.domain.model import (
    Activity,
    ActivityStatus,
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
    """A conflict's id is derived from what it is between, so re-checks find the same conflict."""
    return str(uuid.uuid5(CONFLICT_NAMESPACE, key))


def zone_key(activity_id: str, zone_id: str) -> str:
    return f"zone_rule:{activity_id}:{zone_id}"


def overlap_key(a: str, b: str) -> str:
    lo, hi = sorted((a, b))
    return f"overlap:{lo}:{hi}"


def _span(w: TimeWindow) -> str:
    return f"{format_time(w.start)} to {format_time(w.end) if w.end else 'open end'}"


def _band(r: Region) -> str:
    return f"{r.altitude.lower:.0f}–{r.altitude.upper:.0f} m"


def _label(zone: Zone) -> str:
    return f"{zone.kind.replace('_', '-')} zone '{zone.name}'"


def _region_shape(frame: geo.LocalFrame, local: BaseGeometry) -> BaseGeometry:
    """A conflict region back in lon/lat; lines and points (shapes that only touch) get a 5 m body."""
    if local.is_empty or local.geom_type not in ("Polygon", "MultiPolygon"):
        local = local.buffer(5.0, quad_segs=2)
    return geo.local_to_lonlat_polygon(frame, local)


def _hull(regions: Sequence[Region]) -> tuple[TimeWindow, tuple[float, float]]:
    start = min(r.window.start for r in regions)
    ends = [r.window.end for r in regions]
    end = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
    return TimeWindow(start, end), (min(r.altitude.lower for r in regions), max(r.altitude.upper for r in regions))


class Projections:
    """Each subject volume's local frame and projected footprint, computed once per ``find``."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[geo.LocalFrame, BaseGeometry]] = {}
        self._keep: list[BaseGeometry] = []  # the footprints keyed by id() stay alive while cached

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


def check_zone(activity: Activity, zone: Zone, local: Projections | None = None) -> Decision:
    """Decide whether ``activity`` breaks ``zone``'s rules."""
    local = local or Projections()
    key = zone_key(activity.id, zone.id)
    parties = tuple(sorted({activity.party_id, *zone.party_ids}))

    def no(reason: str) -> Decision:
        return Decision(ConflictRule.zone_rule, False, reason, key, (activity.id,), zone.id, parties)

    if activity.status is not ActivityStatus.active:
        return no(f"the activity is {activity.status}")
    if zone.status is not ZoneStatus.in_force:
        return no(f"{_label(zone)} is {zone.status.replace('_', ' ')}, not in force")
    if activity.kind not in zone.forbidden_kinds:
        return no(f"{_label(zone)} does not forbid {activity.kind.replace('_', ' ')} activities")
    regions: list[Region] = []
    nearest = float("inf")
    timing = altitude = False
    for v in activity.volumes:
        if not v.window.overlaps(zone.effective):
            continue
        timing = True
        if v.altitude.gap_to(zone.altitude) > 0:
            continue
        altitude = True
        frame, fp = local.of(v.footprint)
        zp = frame.to_local(zone.footprint)
        d = float(shapely.distance(fp, zp))
        nearest = min(nearest, d)
        if d > zone.standoff_m:
            continue
        reach = zp.buffer(zone.standoff_m, quad_segs=8) if zone.standoff_m > 0 else zp
        regions.append(
            Region(
                _region_shape(frame, fp.intersection(reach)),
                v.window.intersection(zone.effective),
                v.altitude.meeting_band(zone.altitude),
            )
        )
    if not timing:
        return no(f"no volume's time window overlaps the period {_label(zone)} is in force")
    if not altitude:
        return no(
            f"no volume's altitude band meets {_label(zone)}'s band "
            f"({zone.altitude.lower:.0f}–{zone.altitude.upper:.0f} m)"
        )
    if not regions:
        return no(f"no volume comes within {zone.standoff_m:.0f} m of {_label(zone)}; nearest is {nearest:,.0f} m away")
    window, _ = _hull(regions)
    within = "inside" if zone.standoff_m == 0 else f"inside or within {zone.standoff_m:.0f} m of"
    reason = (
        f"{activity.kind.replace('_', ' ')} activity is {within} {_label(zone)}, which is in force and "
        f"forbids {activity.kind.replace('_', ' ')} activities, from {_span(window)} at {_band(regions[0])}"
    )
    return Decision(ConflictRule.zone_rule, True, reason, key, (activity.id,), zone.id, parties, tuple(regions))


def _pair_region(va: Volume, vb: Volume, margins: Margins, local: Projections) -> tuple[Region | None, float]:
    frame, a = local.of(va.footprint)
    b = frame.to_local(vb.footprint)
    d = float(shapely.distance(a, b))
    if d > margins.horizontal_m:
        return None, d
    half = margins.horizontal_m / 2
    meet = a.buffer(half, quad_segs=8).intersection(b.buffer(half, quad_segs=8))
    if meet.is_empty:  # exactly at the margin: the buffers only touch
        meet = shapely.shortest_line(a, b)
    return Region(
        _region_shape(frame, meet), va.window.intersection(vb.window), va.altitude.meeting_band(vb.altitude)
    ), d


def check_overlap(a: Activity, b: Activity, margins: Margins, local: Projections | None = None) -> Decision:
    """Decide whether two activities come too close in space, altitude and time."""
    local = local or Projections()
    key = overlap_key(a.id, b.id)
    first, second = sorted((a, b), key=lambda x: x.id)
    ids = (first.id, second.id)
    parties = tuple(sorted({a.party_id, b.party_id}))

    def no(reason: str) -> Decision:
        return Decision(ConflictRule.overlap, False, reason, key, ids, None, parties)

    if a.party_id == b.party_id:
        return no("both activities belong to the same party")
    for x in (a, b):
        if x.status is not ActivityStatus.active:
            return no(f"activity {x.id} is {x.status}")
    regions: list[Region] = []
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
    return Decision(ConflictRule.overlap, True, reason, key, ids, None, parties, tuple(regions))


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
    out = [check_zone(subject, z, local) for z in zones]
    out.extend(check_overlap(subject, other, margins, local) for other in activities if other.id != subject.id)
    return out
