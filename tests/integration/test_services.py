"""Use cases against a real store, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.helpers import T0, activity_body, circle_volume, square, zone_body
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.domain.errors import Forbidden, InvalidInput, NotFound, StateConflict
from truceline.domain.model import ConflictRule, ConflictStatus, Party, ZoneStatus
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


def test_a_conflict_closed_by_an_update_says_why_in_the_rules_words(
    uow: Uow, policy: Policy, make_party: Callable[..., Party]
) -> None:
    a, b = make_party("A"), make_party("B")
    activities.notify(uow(), policy, a, activity_body())
    rb = activities.notify(uow(), policy, b, activity_body(lng=36.51))
    cid = rb.conflicts[0].id
    # 2.5 km apart: still near enough to be a candidate, so the rule's own decision is the reason.
    near = activities.update(uow(), policy, b, rb.activity.id, activity_body(lng=36.57))
    assert near.conflicts == []
    closed = conflicts.get(uow(), a, cid)
    assert closed.status is ConflictStatus.closed
    assert closed.closed_reason is not None
    assert closed.closed_reason.startswith("the footprints are 2,"), closed.closed_reason
    assert closed.closed_reason.endswith("m apart, more than the 1000 m margin"), closed.closed_reason


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


def test_zone_enters_and_leaves_force_rechecking_activities(
    uow: Uow, policy: Policy, make_party: Callable[..., Party]
) -> None:
    a, us, ru = make_party("A"), make_party("US"), make_party("RU")
    act = activities.notify(uow(), policy, a, activity_body(kind="ground"))
    z = zones.create(
        uow(), policy, us, zone_body(signatories=["US", "RU"], responsible=[{"party": "US", "role": "police"}])
    ).zone
    assert z.status is ZoneStatus.proposed and z.signatories == [us.id, ru.id]
    zones.take_position(uow(), policy, us, z.id, {"revision": 1, "strength": "final"})
    assert zones.get(uow(), us, z.id).status is ZoneStatus.negotiating
    zones.take_position(uow(), policy, ru, z.id, {"revision": 1, "strength": "in_principle"})
    assert zones.get(uow(), us, z.id).status is ZoneStatus.agreed_in_principle
    assert open_conflicts(uow, a) == []
    zones.take_position(uow(), policy, ru, z.id, {"revision": 1, "strength": "final"})
    assert zones.get(uow(), us, z.id).status is ZoneStatus.in_force
    (c,) = open_conflicts(uow, a)
    assert c.rule is ConflictRule.zone_rule and c.zone_id == z.id
    assert [x.id for x in open_conflicts(uow, us)] == [c.id]  # the zone's police is concerned
    zones.update(uow(), policy, ru, z.id, {"status": "suspended"})
    assert open_conflicts(uow, a) == []
    zones.update(uow(), policy, us, z.id, {"status": "in_force"})
    assert [x.id for x in open_conflicts(uow, a)] == [c.id]
    zones.lapse(uow(), policy, us, z.id)
    assert open_conflicts(uow, a) == []
    with pytest.raises(StateConflict, match="allowed from here"):
        zones.update(uow(), policy, us, z.id, {"status": "in_force"})
    assert activities.get(uow(), a, act.activity.id).activity.status.value == "active"


def test_a_new_revision_voids_sign_offs_and_history_is_kept(
    uow: Uow, policy: Policy, make_party: Callable[..., Party]
) -> None:
    us, ru = make_party("US"), make_party("RU")
    z = zones.create(uow(), policy, us, zone_body(signatories=["US", "RU"], rationale="first draft")).zone
    for p in (us, ru):
        zones.take_position(uow(), policy, p, z.id, {"revision": 1, "strength": "in_principle"})
    assert zones.get(uow(), us, z.id).status is ZoneStatus.agreed_in_principle
    with pytest.raises(StateConflict):
        zones.update(uow(), policy, ru, z.id, {"standoff_m": 500, "revision": 7})
    r2 = zones.update(uow(), policy, ru, z.id, {"geometry": square(36.6, 32.8, 0.2), "rationale": "move east"}).zone
    assert r2.revision == 2 and r2.status is ZoneStatus.negotiating  # the sign-offs on revision 1 no longer count
    with pytest.raises(StateConflict, match="not current"):
        zones.take_position(uow(), policy, us, z.id, {"revision": 1, "strength": "final"})
    zones.take_position(uow(), policy, us, z.id, {"revision": 2, "statement": "too far east"}, objection=True)
    n = zones.negotiation(uow(), us, z.id)
    assert [r["rationale"] for r in n.revisions] == ["first draft", "move east"]
    assert [(p.revision, p.position.value) for p in n.positions] == [
        (1, "in_principle"),
        (1, "in_principle"),
        (2, "objection"),
    ]
    assert n.awaiting_in_principle == [us.id, ru.id]
    d = zones.diff(uow(), policy, us, z.id, 1, 2)
    assert d.added_km2 == pytest.approx(d.removed_km2, rel=0.01) and d.added_km2 > 50
    assert d.rule_changes[0]["field"] == "boundary"
    outsider = make_party("X")
    with pytest.raises(Forbidden, match="signatories"):
        zones.take_position(uow(), policy, outsider, z.id, {"revision": 2, "strength": "final"})
    zones.update(uow(), policy, us, z.id, {"status": "withdrawn"})
    with pytest.raises(StateConflict):
        zones.update(uow(), policy, us, z.id, {"standoff_m": 10})


def test_entry_into_force_waits_for_effective_from(
    uow: Uow, policy: Policy, make_party: Callable[..., Party], clock: object
) -> None:
    us = make_party("US")
    z = zones.create(uow(), policy, us, zone_body(effective_from="2017-07-09T09:00:00Z")).zone
    zones.take_position(uow(), policy, us, z.id, {"revision": 1, "strength": "final"})
    assert zones.get(uow(), us, z.id).status is ZoneStatus.agreed_in_principle  # the clock says 8 July
    assert zones.advance(uow(), policy) == []
    clock.now = clock.now.replace(day=9, hour=9)  # type: ignore[attr-defined]
    (changed,) = zones.advance(uow(), policy)
    assert changed.id == z.id and changed.status is ZoneStatus.in_force


def test_responsibilities_are_requested_and_answered(
    uow: Uow, policy: Policy, make_party: Callable[..., Party]
) -> None:
    ru, jo, kz = make_party("RU"), make_party("JO"), make_party("KZ")
    un = make_party("UN", role="monitor")
    z = zones.create(uow(), policy, ru, zone_body(responsible=[{"party": "JO", "role": "police"}])).zone
    (req,) = z.responsible
    assert req.status.value == "requested"
    with pytest.raises(Forbidden, match="only the party asked"):
        zones.answer_responsibility(uow(), policy, kz, z.id, req.id, {"statement": "no"}, accept=False)
    with pytest.raises(InvalidInput, match="statement"):
        zones.answer_responsibility(uow(), policy, jo, z.id, req.id, {}, accept=False)
    declined = zones.answer_responsibility(
        uow(), policy, jo, z.id, req.id, {"statement": "not our troops"}, accept=False
    )
    assert declined.status.value == "declined" and declined.statement == "not our troops"
    with pytest.raises(StateConflict, match="already answered"):
        zones.answer_responsibility(uow(), policy, jo, z.id, req.id, {"statement": ""}, accept=True)
    mon = zones.request_responsibility(uow(), policy, ru, z.id, {"party": "UN", "role": "monitor"})
    with pytest.raises(Forbidden):  # only signatories ask
        zones.request_responsibility(uow(), policy, kz, z.id, {"party": "KZ", "role": "monitor"})
    assert [r.id for r in zones.negotiation(uow(), ru, z.id).open_responsibilities] == [mon.id]
    zones.answer_responsibility(uow(), policy, un, z.id, mon.id, {"statement": "will deploy"}, accept=True)
    assert zones.negotiation(uow(), ru, z.id).open_responsibilities == []
    assert un.id in zones.get(uow(), ru, z.id).party_ids


def test_documents_are_signed_like_revisions(uow: Uow, policy: Policy, make_party: Callable[..., Party]) -> None:
    ru, tr = make_party("RU"), make_party("TR")
    z = zones.create(uow(), policy, ru, zone_body(signatories=["RU", "TR"])).zone
    d = zones.add_document(uow(), ru, z.id, {"title": "Rules of the buffer", "body": "# Rules"}).document
    signed = zones.sign_document(uow(), ru, z.id, d.id, {"version": 1, "strength": "final"})
    assert signed.unsigned_by == [tr.id] and [(p.party_id, p.position.value) for p in signed.positions] == [
        (ru.id, "final")]  # fmt: skip
    (status,) = zones.negotiation(uow(), ru, z.id).documents
    assert status.unsigned_by == [tr.id]
    d2 = zones.revise_document(uow(), tr, z.id, d.id, {"body": "# Rules, amended", "version": 1}).document
    assert d2.version == 2
    (status,) = zones.negotiation(uow(), ru, z.id).documents
    assert status.unsigned_by == [ru.id, tr.id]  # the new version voids the signature
    with pytest.raises(StateConflict):
        zones.sign_document(uow(), tr, z.id, d.id, {"version": 1, "strength": "final"})
    for p in (ru, tr):
        zones.sign_document(uow(), p, z.id, d.id, {"version": 2, "strength": "final"})
    assert zones.negotiation(uow(), ru, z.id).documents[0].unsigned_by == []


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
