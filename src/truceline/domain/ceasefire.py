"""Whether a zone's ceasefire holds, day by day. Pure: no I/O.

A zone's *force periods* come from its status history: from each move into ``in_force`` to the next move
out of it. An incident is a *possible violation* of a zone when it happened inside the zone while the
zone was in force and its event type is violent (battles, explosions/remote violence, violence
against civilians); it counts once verified. Each day the zone is in force gets a status:

- ``broken``: at least ``broken_verified`` verified violations, or at least ``broken_fatalities``
  deaths (best estimates) in verified violations;
- ``strained``: at least one verified violation, or at least ``strained_reported`` possible violations
  not yet settled (reported, under review or disputed), or at least ``strained_fatalities`` deaths in
  possible violations;
- ``holding``: otherwise. Rejected reports and merged duplicates never count.

Days the zone was not in force at all are ``not_in_force``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import shapely
from shapely import STRtree

from truceline.domain.incidents import VIOLENT_TYPES, Incident, Verification
from truceline.domain.model import Zone


class DayStatus(StrEnum):
    holding = "holding"
    strained = "strained"
    broken = "broken"
    not_in_force = "not_in_force"


@dataclass(frozen=True)
class Thresholds:
    broken_verified: int = 2
    broken_fatalities: int = 10
    strained_reported: int = 2
    strained_fatalities: int = 1


@dataclass(frozen=True)
class Period:
    """``[start, end)``; ``end`` None while the zone is still in force."""

    start: datetime
    end: datetime | None

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and (self.end is None or self.end > start)


def force_periods(history: Sequence[tuple[datetime, str]]) -> list[Period]:
    """The periods a zone was in force, from its status history (time, status), oldest first."""
    periods: list[Period] = []
    since: datetime | None = None
    for at, status in history:
        if status == "in_force" and since is None:
            since = at
        elif status != "in_force" and since is not None:
            if at > since:
                periods.append(Period(since, at))
            since = None
    if since is not None:
        periods.append(Period(since, None))
    return periods


def in_force_during(periods: Sequence[Period], start: datetime, end: datetime) -> bool:
    return any(p.overlaps(start, end) for p in periods)


@dataclass(frozen=True)
class Linked:
    """What the timeline needs of one incident linked to the zone."""

    id: str
    event_date: date
    event_type: str
    status: Verification
    fatalities: int

    @property
    def counts(self) -> bool:
        return self.status is not Verification.rejected

    @property
    def violation(self) -> bool:
        return self.event_type in VIOLENT_TYPES and self.counts


@dataclass
class Day:
    day: date
    status: DayStatus
    reason: str
    in_force_hours: float
    incidents: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    fatalities: int = 0
    possible_violations: int = 0
    verified_violations: int = 0
    disputed: int = 0
    rejected: int = 0
    incident_ids: list[str] = field(default_factory=list)


def _hours_in_force(periods: Sequence[Period], d: date) -> float:
    start = datetime(d.year, d.month, d.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    total = 0.0
    for p in periods:
        lo, hi = max(start, p.start), min(end, p.end or end)
        if hi > lo:
            total += (hi - lo).total_seconds() / 3600
    return round(total, 2)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def judge(possible: int, verified: int, pending: int, fatalities: int, verified_fatalities: int,
          th: Thresholds) -> tuple[DayStatus, str]:  # fmt: skip
    """One in-force day's status and the sentence that says why."""
    if verified >= th.broken_verified:
        return DayStatus.broken, f"{_plural(verified, 'verified violation')} (broken at {th.broken_verified})"
    if verified and verified_fatalities >= th.broken_fatalities:
        return DayStatus.broken, (
            f"{_plural(verified_fatalities, 'death')} in verified violations (broken at {th.broken_fatalities})"
        )
    if verified:
        return DayStatus.strained, f"{_plural(verified, 'verified violation')}"
    if pending >= th.strained_reported:
        return DayStatus.strained, (
            f"{_plural(pending, 'possible violation')} not yet settled (strained at {th.strained_reported})"
        )
    if possible and fatalities >= th.strained_fatalities:
        return DayStatus.strained, f"{_plural(fatalities, 'death')} in possible violations"
    if possible:
        return DayStatus.holding, f"{_plural(possible, 'possible violation')} reported, none verified"
    return DayStatus.holding, "no violation reported"


def timeline(
    first: date, last: date, periods: Sequence[Period], incidents: Sequence[Linked], th: Thresholds
) -> list[Day]:
    """Every day from ``first`` to ``last`` inclusive."""
    by_day: dict[date, list[Linked]] = {}
    for i in incidents:
        by_day.setdefault(i.event_date, []).append(i)
    days: list[Day] = []
    d = first
    while d <= last:
        hours = _hours_in_force(periods, d)
        todays = by_day.get(d, [])
        counted = [i for i in todays if i.counts]
        violations = [i for i in counted if i.violation]
        verified = [i for i in violations if i.status is Verification.verified]
        pending = [i for i in violations if i.status is not Verification.verified]
        fatalities = sum(i.fatalities for i in violations)
        if hours == 0:
            status, reason = DayStatus.not_in_force, "the zone was not in force"
        else:
            status, reason = judge(
                len(violations), len(verified), len(pending), fatalities, sum(i.fatalities for i in verified), th
            )
        days.append(
            Day(
                day=d,
                status=status,
                reason=reason,
                in_force_hours=hours,
                incidents=len(counted),
                by_type=dict(sorted(Counter(i.event_type for i in counted).items())),
                fatalities=sum(i.fatalities for i in counted),
                possible_violations=len(violations),
                verified_violations=len(verified),
                disputed=sum(i.status is Verification.disputed for i in todays),
                rejected=sum(i.status is Verification.rejected for i in todays),
                incident_ids=[i.id for i in todays],
            )
        )
        d += timedelta(days=1)
    return days


@dataclass(frozen=True)
class Hit:
    """An incident (by its position in the batch) inside a zone that was in force when it happened."""

    index: int
    zone_id: str
    zone_revision: int


class ForceIndex:
    """Zones that have been in force, with their force periods, for finding which zones incidents are
    possible violations of. Built once per batch; point-in-footprint tests run vectorised."""

    def __init__(self, zones: Sequence[Zone], history: Mapping[str, Sequence[tuple[datetime, str]]]) -> None:
        kept = [(z, force_periods(history.get(z.id, []))) for z in zones]
        kept = [(z, p) for z, p in kept if p]
        self.zones = [z for z, _ in kept]
        self.periods = [p for _, p in kept]
        self.tree = STRtree([z.footprint for z in self.zones]) if self.zones else None

    def __len__(self) -> int:
        return len(self.zones)

    def hits(self, incidents: Sequence[Incident]) -> list[Hit]:
        if self.tree is None or not incidents:
            return []
        points = shapely.points([i.longitude for i in incidents], [i.latitude for i in incidents])
        inc, zon = self.tree.query(points, predicate="intersects")
        out = []
        for a, b in zip(inc.tolist(), zon.tolist(), strict=True):
            start, end = incidents[a].window
            if in_force_during(self.periods[b], start, end):
                z = self.zones[b]
                out.append(Hit(a, z.id, z.revision))
        return out
