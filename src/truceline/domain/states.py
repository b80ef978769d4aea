"""Explicit state tables: which moves are allowed from each state."""

from __future__ import annotations

from collections.abc import Mapping

from truceline.domain.errors import StateConflict
from truceline.domain.model import ActivityStatus, ZoneStatus

Z = ZoneStatus

# A zone's life. Moves into negotiation, agreement and force are computed from sign-offs and the
# clock (domain.negotiation); the rest are decided by a signatory.
ZONE_TRANSITIONS: Mapping[ZoneStatus, frozenset[ZoneStatus]] = {
    Z.proposed: frozenset({Z.negotiating, Z.agreed_in_principle, Z.withdrawn}),
    Z.negotiating: frozenset({Z.agreed_in_principle, Z.withdrawn}),
    Z.agreed_in_principle: frozenset({Z.negotiating, Z.in_force}),
    Z.in_force: frozenset({Z.suspended, Z.lapsed}),
    Z.suspended: frozenset({Z.in_force, Z.lapsed}),
    Z.lapsed: frozenset(),
    Z.withdrawn: frozenset(),
}

#: Moves a signatory may ask for by hand (the others follow from sign-offs).
ZONE_MANUAL: Mapping[ZoneStatus, frozenset[ZoneStatus]] = {
    Z.proposed: frozenset({Z.withdrawn}),
    Z.negotiating: frozenset({Z.withdrawn}),
    Z.agreed_in_principle: frozenset(),
    Z.in_force: frozenset({Z.suspended, Z.lapsed}),
    Z.suspended: frozenset({Z.in_force, Z.lapsed}),
    Z.lapsed: frozenset(),
    Z.withdrawn: frozenset(),
}

#: Statuses in which a zone's boundary and rules may still be revised.
REVISABLE = frozenset({Z.proposed, Z.negotiating, Z.agreed_in_principle})

ACTIVITY_TRANSITIONS: Mapping[ActivityStatus, frozenset[ActivityStatus]] = {
    ActivityStatus.active: frozenset({ActivityStatus.cancelled}),
    ActivityStatus.cancelled: frozenset(),
}


def check_zone_transition(current: ZoneStatus, target: ZoneStatus, *, manual: bool = False) -> None:
    """Refuse a move the table does not allow; ``manual`` limits it to the moves people make."""
    if target == current:
        return
    allowed = (ZONE_MANUAL if manual else ZONE_TRANSITIONS)[current]
    if target not in allowed:
        names = ", ".join(sorted(allowed)) or "none"
        why = " (agreement and entry into force follow from sign-offs)" if manual else ""
        raise StateConflict(
            f"a zone cannot be moved from {current} to {target} by hand; allowed from here: {names}{why}"
            if manual
            else f"a zone cannot move from {current} to {target}; allowed from here: {names}",
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
