"""The state tables, tested exhaustively: every (from, to) pair against the table written out here."""

from __future__ import annotations

import itertools

import pytest

from truceline.domain.errors import StateConflict
from truceline.domain.model import ActivityStatus, ZoneStatus
from truceline.domain.states import (
    ACTIVITY_TRANSITIONS,
    ZONE_MANUAL,
    ZONE_TRANSITIONS,
    check_activity_transition,
    check_zone_transition,
)

P, N, A, F, S, L, W = (
    ZoneStatus.proposed,
    ZoneStatus.negotiating,
    ZoneStatus.agreed_in_principle,
    ZoneStatus.in_force,
    ZoneStatus.suspended,
    ZoneStatus.lapsed,
    ZoneStatus.withdrawn,
)

# proposed → negotiating → agreed_in_principle → in_force → suspended ⇄ in_force → lapsed, and
# proposed/negotiating → withdrawn; a new revision takes an agreed zone back to negotiating.
EXPECTED_ANY = {(P, N), (P, A), (P, W), (N, A), (N, W), (A, N), (A, F), (F, S), (F, L), (S, F), (S, L)}
# By hand, only: withdraw, suspend, resume, lapse.
EXPECTED_MANUAL = {(P, W), (N, W), (F, S), (F, L), (S, F), (S, L)}


@pytest.mark.parametrize(("a", "b"), list(itertools.product(ZoneStatus, ZoneStatus)))
def test_zone_transitions(a: ZoneStatus, b: ZoneStatus) -> None:
    assert (b in ZONE_TRANSITIONS[a]) is ((a, b) in EXPECTED_ANY)
    assert (b in ZONE_MANUAL[a]) is ((a, b) in EXPECTED_MANUAL)
    for manual, expected in ((False, EXPECTED_ANY), (True, EXPECTED_MANUAL)):
        if a == b or (a, b) in expected:
            check_zone_transition(a, b, manual=manual)
        else:
            with pytest.raises(StateConflict, match="allowed from here") as e:
                check_zone_transition(a, b, manual=manual)
            assert e.value.extra["allowed"] == sorted(x for x in ZoneStatus if (a, x) in expected)


@pytest.mark.parametrize(("a", "b"), list(itertools.product(ActivityStatus, ActivityStatus)))
def test_activity_transitions(a: ActivityStatus, b: ActivityStatus) -> None:
    expected = (a, b) == (ActivityStatus.active, ActivityStatus.cancelled)
    assert (b in ACTIVITY_TRANSITIONS[a]) is expected
    if expected:
        check_activity_transition(a, b)
    else:
        with pytest.raises(StateConflict):
            check_activity_transition(a, b)
