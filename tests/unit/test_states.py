"""The state tables, tested exhaustively: every (from, to) pair."""

from __future__ import annotations

import itertools

import pytest

from truceline.domain.errors import StateConflict
from truceline.domain.model import ActivityStatus, ZoneStatus
from truceline.domain.states import (
    ACTIVITY_TRANSITIONS,
    ZONE_TRANSITIONS,
    check_activity_transition,
    check_zone_transition,
)


@pytest.mark.parametrize(("a", "b"), list(itertools.product(ZoneStatus, ZoneStatus)))
def test_zone_transitions(a: ZoneStatus, b: ZoneStatus) -> None:
    allowed = a == b or b in ZONE_TRANSITIONS[a]
    expected = a is not ZoneStatus.lapsed or b is ZoneStatus.lapsed
    assert allowed is expected
    if allowed:
        check_zone_transition(a, b)
    else:
        with pytest.raises(StateConflict, match="allowed from here"):
            check_zone_transition(a, b)


@pytest.mark.parametrize(("a", "b"), list(itertools.product(ActivityStatus, ActivityStatus)))
def test_activity_transitions(a: ActivityStatus, b: ActivityStatus) -> None:
    expected = (a, b) == (ActivityStatus.active, ActivityStatus.cancelled)
    assert (b in ACTIVITY_TRANSITIONS[a]) is expected
    if expected:
        check_activity_transition(a, b)
    else:
        with pytest.raises(StateConflict):
            check_activity_transition(a, b)
