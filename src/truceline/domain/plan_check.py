"""A plan checked against the zones before it is notified: what it would break now, and what it
would break once a zone still being negotiated (or suspended) is in force.

Only zones are checked. They are visible to every party, so the check tells nothing that the map
does not. Other parties' activities are not: a check that answered for them would let a party map
the others' plans unseen, one probe at a time. They are checked when the plan is notified, where
both sides see the conflict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from truceline.domain.conflicts import Decision, Projections, check_zone
from truceline.domain.model import Activity, Zone, ZoneStatus

#: Zones that may yet be in force, so a plan is checked against them ahead: lapsed and withdrawn
#: zones never come back (a new zone is proposed instead).
MAY_COME_INTO_FORCE = frozenset(
    {ZoneStatus.proposed, ZoneStatus.negotiating, ZoneStatus.agreed_in_principle, ZoneStatus.suspended}
)
#: Every zone status a check reads.
CHECKED = frozenset({ZoneStatus.in_force, *MAY_COME_INTO_FORCE})


@dataclass(frozen=True)
class ZoneFinding:
    """A zone whose rules the plan breaks: now (``in_force``) or once the zone is in force."""

    zone: Zone
    decision: Decision

    @property
    def in_force(self) -> bool:
        return self.zone.status is ZoneStatus.in_force

    @property
    def starts(self) -> float:
        return min(r.window.start.timestamp() for r in self.decision.regions)


def check_plan(plan: Activity, zones: Sequence[Zone], local: Projections | None = None) -> list[ZoneFinding]:
    """Every zone among ``zones`` (the index's candidates near the plan) whose rules ``plan`` breaks:
    those in force first, then those that may come into force, each by when it starts, then name."""
    local = local or Projections()
    found = []
    for zone in zones:
        if zone.status not in CHECKED:
            continue
        d = check_zone(plan, zone, local, once_in_force=zone.status is not ZoneStatus.in_force)
        if d.conflict:
            found.append(ZoneFinding(zone, d))
    return sorted(found, key=lambda f: (not f.in_force, f.starts, f.zone.name, f.zone.id))
