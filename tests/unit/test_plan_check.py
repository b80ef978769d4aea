"""A plan checked against zones: in force now, and those that may come into force."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from shapely.geometry import box

from tests.helpers import T0, make_activity, make_zone
from truceline.domain.conflicts import check_zone
from truceline.domain.model import ActivityKind, TimeWindow, ZoneStatus
from truceline.domain.plan_check import CHECKED, MAY_COME_INTO_FORCE, check_plan

PLAN = make_activity(box(36.0, 32.0, 36.2, 32.2))


def test_a_zone_in_force_is_decided_as_a_notification_would_decide_it() -> None:
    zone = make_zone(box(36.1, 32.1, 36.5, 32.5))
    (found,) = check_plan(PLAN, [zone])
    assert found.in_force and found.zone is zone
    assert found.decision == check_zone(PLAN, zone)
    assert "which is in force and forbids ground activities" in found.decision.reason


def test_zones_that_may_come_into_force_are_decided_as_if_they_were() -> None:
    for status in MAY_COME_INTO_FORCE:
        zone = make_zone(box(36.1, 32.1, 36.5, 32.5), status=status)
        (found,) = check_plan(PLAN, [zone])
        assert not found.in_force
        in_force = check_zone(PLAN, replace(zone, status=ZoneStatus.in_force))
        assert found.decision.regions == in_force.regions and found.decision.party_ids == in_force.party_ids
        said = status.replace("_", " ")
        assert f"which is {said} and would forbid ground activities once in force" in found.decision.reason
        # a notification would not flag it: the zone is not in force
        assert not check_zone(PLAN, zone).conflict


def test_lapsed_and_withdrawn_zones_never_come_back() -> None:
    assert {ZoneStatus.lapsed, ZoneStatus.withdrawn}.isdisjoint(CHECKED)
    zones = [make_zone(box(36.1, 32.1, 36.5, 32.5), status=s) for s in (ZoneStatus.lapsed, ZoneStatus.withdrawn)]
    assert check_plan(PLAN, zones) == []


def test_only_zones_whose_rules_it_breaks_in_force_first_then_by_when() -> None:
    later = TimeWindow(T0 + timedelta(hours=3), None)
    zones = [
        make_zone(box(36.1, 32.1, 36.5, 32.5), status=ZoneStatus.negotiating, ident="negotiating"),
        make_zone(box(36.1, 32.1, 36.5, 32.5), ident="in force, from 03:00", window=later),
        make_zone(box(36.1, 32.1, 36.5, 32.5), ident="in force"),
        make_zone(box(36.1, 32.1, 36.5, 32.5), ident="fires only", forbidden=frozenset({ActivityKind.fires})),
        make_zone(box(37.0, 33.0, 37.5, 33.5), ident="far away"),
    ]
    found = check_plan(PLAN, zones)
    assert [f.zone.id for f in found] == ["in force", "in force, from 03:00", "negotiating"]
    assert [f.in_force for f in found] == [True, True, False]
    assert found[1].decision.regions[0].window.start == T0 + timedelta(hours=3)
