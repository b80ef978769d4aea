"""Explicit state tables: which moves are allowed from each state."""

from __future__ import annotations

from collections.abc import Mapping

from truceline.domain.errors import StateConflict
from truceline.domain.model import ActivityStatus, ZoneStatus

# Until negotiation lands (sign-offs computed by the service), any status may be set by hand, except
# that a lapsed zone stays lapsed: its history is closed.
ZONE_TRANSITIONS: Mapping[ZoneStatus, frozenset[ZoneStatus]] = {
    s: (frozenset() if s is ZoneStatus.lapsed else frozenset(ZoneStatus) - {s}) for s in ZoneStatus
}

ACTIVITY_TRANSITIONS: Mapping[ActivityStatus, frozenset[ActivityStatus]] = {
    ActivityStatus.active: frozenset({ActivityStatus.cancelled}),
    ActivityStatus.cancelled: frozenset(),
}


def check_zone_transition(current: ZoneStatus, target: ZoneStatus) -> None:
    if target == current:
        return
    allowed = ZONE_TRANSITIONS[current]
    if target not in allowed:
        names = ", ".join(sorted(allowed)) or "none"
        raise StateConflict(
            f"a zone cannot move from {current} to {target}; allowed from here: {names}",
            extra={"current": str(current), "allowed": sorted(allowed)},
        )


def check_activity_transition(current: ActivityStatus, target: ActivityStatus) -> None:
    allowed = ACTIVITY_TRANSITIONS[current]
    if target not in allowed:
        names = ", ".join(sorted(allowed)) or "none"
        raise StateConflict(
            f"an activity cannot move from {current} to {target}; allowed from here: {names}",
            extra={"current": str(current), "allowed": sorted(allowed)},
        )
