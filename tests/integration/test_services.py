"""Use cases against a real store, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.helpers import T0, activity_body, circle_volume, square, zone_body
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.domain.errors import Forbidden, InvalidInput, NotFound, StateConflict
from truceline.domain.model import ConflictRule, ConflictStatus, Party
from truceline.services import activities, conflicts, zones
from truceline.services.policy import Policy

H = timedelta(hours=1)
Uow = Callable[[], SqlUnitOfWork]


def open_conflicts(uow: Uow, party: Party) -> list:
    return conflicts.list_conflicts(uow(), party, status="open")


def test_overlap_opens_for_both_and_closes_on_cancel(
    uow: Uow, policy: Policy, make_party: Callable[..., Party]
) -> None:
    a, b = make_party("A"), make_party("B")
    ra = activities.notify(uow(), policy, a, activity_body())
    assert ra.conflicts == []
    rb = activities.notify(uow(), policy, b, activity_body(kind="patrol", lng=36.51))
    assert [c.rule for c in rb.conflicts] == [ConflictRule.overlap]
    cid = rb.conflicts[0].id
    assert [c.id for c in open_conflicts(uow, a)] == [cid] == [c.id for c in open_conflicts(uow, b)]
    assert activities.get(uow(), a, ra.activity.id).conflicts[0].id == cid
    activities.cancel(uow(), policy, b, rb.activity.id)
    assert open_conflicts(uow, a) == []
    closed = conflicts.list_conflicts(uow(), a, status="closed")
    assert closed[0].id == cid and closed[0].closed_reason == "the activity was cancelled"
    # Cancelled activities leave the index: a new activity there meets nobody of B's.
    rc = activities.notify(uow(), policy, a, activity_body(lng=36.51))
    assert rc.conflicts == []


def test_update_moves_away_and_back_keeping_the_conflict_id(
    uow: Uow, policy: Policy, make_party: Callable[..., Party]
) -> None:
    a, b = make_party("A"), make_party("B")
    ra = activities.notify(uow(), policy, a, activity_body())
    rb = activities.notify(uow(), policy, b, activity_body(lng=36.51))
    cid = rb.conflicts[0].id
    far = activities.update(uow(), policy, b, rb.activity.id, activity_body(lng=37.5))
    assert far.conflicts == [] and far.activity.version == 2
    assert conflicts.get(uow(), a, cid).status is ConflictStatus.closed
    back = activities.update(uow(), policy, b, rb.activity.id, activity_body(lng=36.51))
    assert [c.id for c in back.conflicts] == [cid]
    assert conflicts.get(uow(), a, cid).status is ConflictStatus.open
    with pytest.raises(StateConflict):
        activities.update(uow(), policy, b, rb.activity.id, {**activity_body(), "version": 1})
    assert ra.activity.id != rb.activity.id


def test_zone_lifecycle_rechecks_activities(uow: Uow, policy: Policy, make_party: Callable[..., Party]) -> None:
    a, guard = make_party("A"), make_party("Guard")
    act = activities.notify(uow(), policy, a, activity_body(kind="ground"))
    z = zones.create(
        uow(), policy, guard, zone_body(status="negotiating", responsible=[{"party": "Guard", "role": "police"}])
    ).zone
    assert open_conflicts(uow, a) == []
    zones.update(uow(), policy, guard, z.id, {"status": "in_force"})
    (c,) = open_conflicts(uow, a)
    assert c.rule is ConflictRule.zone_rule and c.zone_id == z.id
    assert [x.id for x in open_conflicts(uow, guard)] == [c.id]  # the zone's police is concerned
    # A new revision that moves the boundary away closes it; the old revision is kept.
    r2 = zones.update(uow(), policy, guard, z.id, {"geometry": square(38.0, 35.0, 0.1), "revision": 1}).zone
    assert r2.revision == 2 and open_conflicts(uow, a) == []
    revs = zones.revisions(uow(), guard, z.id)
    assert [r["revision"] for r in revs] == [1, 2]
    assert revs[0]["snapshot"]["geometry"] == square(36.5, 32.8, 0.2)
    with pytest.raises(StateConflict):
        zones.update(uow(), policy, guard, z.id, {"name": "x", "revision": 1})
    zones.update(uow(), policy, guard, z.id, {"geometry": square(36.5, 32.8, 0.2)})
    assert len(open_conflicts(uow, a)) == 1
    zones.lapse(uow(), policy, guard, z.id)
    assert open_conflicts(uow, a) == []
    with pytest.raises(StateConflict, match="allowed from here"):
        zones.update(uow(), policy, guard, z.id, {"status": "in_force"})
    assert activities.get(uow(), a, act.activity.id).activity.status.value == "active"


def test_need_to_know_and_roles(uow: Uow, policy: Policy, make_party: Callable[..., Party]) -> None:
    a, b = make_party("A"), make_party("B")
    watcher = make_party("W", role="observer")
    ra = activities.notify(uow(), policy, a, activity_body())
    with pytest.raises(NotFound):
        activities.get(uow(), b, ra.activity.id)
    with pytest.raises(NotFound):
        activities.cancel(uow(), policy, b, ra.activity.id)
    assert activities.list_activities(uow(), b) == []
    with pytest.raises(Forbidden):
        activities.notify(uow(), policy, watcher, activity_body())
    with pytest.raises(Forbidden):
        zones.create(uow(), policy, watcher, zone_body())
    rb = activities.notify(uow(), policy, b, activity_body(lng=36.51))
    with pytest.raises(NotFound):
        conflicts.get(uow(), watcher, rb.conflicts[0].id)


def test_bad_input_changes_nothing(uow: Uow, policy: Policy, make_party: Callable[..., Party]) -> None:
    a = make_party("A")
    good = activities.notify(uow(), policy, a, activity_body())
    bad = activity_body(volumes=[circle_volume(32.8, 36.5, 2000, T0 + H, T0)])
    with pytest.raises(InvalidInput):
        activities.notify(uow(), policy, a, bad)
    with pytest.raises(InvalidInput):
        activities.update(uow(), policy, a, good.activity.id, bad)
    assert [x.id for x in activities.list_activities(uow(), a)] == [good.activity.id]
    assert activities.get(uow(), a, good.activity.id).activity.version == 1
    with pytest.raises(InvalidInput) as e:
        zones.create(uow(), policy, a, zone_body(responsible=[{"party": "nobody", "role": "police"}]))
    assert e.value.errors[0].pointer == "/responsible/0/party"
    assert zones.list_zones(uow(), a) == []
