"""A conflict between plans that is not coordinated as it is about to begin is recalled to its parties
on the hotline: once per start, to those whose agreement does not hold; never for one coordinated or
just announced. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from tests.e2e.conftest import Line
from tests.helpers import T0, activity_body
from truceline.domain.hotline import starts_in
from truceline.services import hotline


def _remind(line: Line, **policy: Any) -> int:
    return hotline.remind_starting(line.ctx.uow(write=True), dataclasses.replace(line.ctx.policy.hotline, **policy))


def _conflict(line: Line, lng: float = 36.5, start: timedelta = timedelta(0)) -> tuple[str, str]:
    """A's convoy and B's patrol meet from ``T0 + start``: the conflict's id and B's activity id."""
    when = {"lng": lng, "t0": T0 + start, "t1": T0 + start + timedelta(hours=6)}
    convoy = activity_body("humanitarian_convoy", "convoy", **when)
    a = line.client.post("/v1/activities", headers=line.h("A"), json=convoy)
    b = line.client.post("/v1/activities", headers=line.h("B"), json=activity_body("patrol", "patrol", **when))
    assert a.status_code == b.status_code == 201, (a.text, b.text)
    (conflict,) = b.json()["conflicts"]
    return conflict["id"], b.json()["activity"]["id"]


def _reminders(line: Line, who: str, cid: str) -> list[dict[str, Any]]:
    return [m for m in line.inbox(who) if m["conflict_id"] == cid and m["headline"].startswith("Not coordinated")]


def test_a_conflict_not_coordinated_is_recalled_once_as_it_is_about_to_begin(line: Line) -> None:
    cid, _ = _conflict(line)
    alert = next(m for m in line.inbox("A") if m["conflict_id"] == cid and m["msgType"] == "Alert")
    assert _remind(line) == 0  # 12 h ahead: nothing yet
    line.clock.now = T0 - timedelta(minutes=61)
    assert _remind(line) == 0 and _reminders(line, "A", cid) == []
    line.clock.now = T0 - timedelta(minutes=50)
    assert _remind(line) == 1
    for who in ("A", "B"):
        (m,) = _reminders(line, who, cid)
        assert m["headline"] == f"Not coordinated, begins in 50 min: {alert['description']}"[:300]
        assert (m["msgType"], m["severity"], m["urgency"], m["sender"]["id"]) == ("Update", "Severe", "Immediate", None)
        assert m["references"] == [alert["id"]] and m["thread_id"] == alert["thread_id"]
        assert sorted(a["party"]["name"] for a in m["addresses"]) == ["A", "B"]
        assert "It begins at 2017-07-10T00:00:00Z and is not coordinated: settle it here" in m["description"]
        assert m["regions"] == alert["regions"]
    # once: the next rounds find nothing to recall
    line.clock.now = T0 - timedelta(minutes=20)
    assert _remind(line) == 0
    assert len(_reminders(line, "B", cid)) == 1
    # it went in the audit log, sent by Truceline
    sent = [e for e in line.client.get("/v1/audit", headers=line.h("A"), params={"action": "message.sent"}).json()
            if e["payload"]["conflict_id"] == cid and e["payload"]["msgType"] == "Update"]  # fmt: skip
    assert len(sent) == 1 and sent[0]["party_id"] is None


def test_only_the_parties_whose_agreement_does_not_hold_are_asked_and_coordinated_ones_are_left(line: Line) -> None:
    half, _ = _conflict(line, lng=36.5)
    both, _ = _conflict(line, lng=37.5)
    for who, cid in (("A", half), ("A", both), ("B", both)):
        r = line.client.post(f"/v1/conflicts/{cid}/agreement", headers=line.h(who), json={"statement": "escorted"})
        assert r.status_code == 200, r.text
    line.clock.now = T0 - timedelta(minutes=30)
    assert _remind(line) == 2  # both looked at; one recalled
    (m,) = _reminders(line, "B", half)
    assert [a["party"]["name"] for a in m["addresses"]] == ["B"]
    assert "is not coordinated (agreed by A only)" in m["description"]
    assert _reminders(line, "A", half) == []  # A agreed: it is not asked again
    assert _reminders(line, "A", both) == _reminders(line, "B", both) == []


def test_a_conflict_moved_to_another_start_is_recalled_again(line: Line) -> None:
    cid, patrol = _conflict(line)
    line.clock.now = T0 - timedelta(minutes=45)
    assert _remind(line) == 1
    # B moves its patrol two hours later: the conflict moves with it, and is recalled before its new start
    moved = activity_body("patrol", "patrol", t0=T0 + timedelta(hours=2), t1=T0 + timedelta(hours=8))
    r = line.client.put(f"/v1/activities/{patrol}", headers=line.h("B"), json={**moved, "version": 1})
    assert r.status_code == 200, r.text
    assert [c["id"] for c in r.json()["conflicts"]] == [cid]
    line.clock.now = T0 + timedelta(minutes=70)
    assert _remind(line) == 1
    assert [m["headline"].split(":")[0] for m in _reminders(line, "B", cid)] == [
        "Not coordinated, begins in 50 min", "Not coordinated, begins in 45 min"]  # newest first


def test_a_conflict_announced_within_the_hour_is_not_recalled_and_zero_recalls_nothing(line: Line) -> None:
    line.clock.now = T0 - timedelta(minutes=40)
    late, _ = _conflict(line)  # its Alert was just sent: a reminder would say it again
    assert _remind(line) == 0 and _reminders(line, "A", late) == []
    line.clock.now = T0 - timedelta(minutes=2)
    assert _remind(line) == 0
    early, _ = _conflict(line, lng=37.5, start=timedelta(hours=6))
    line.clock.now = T0 + timedelta(hours=5, minutes=30)
    assert _remind(line, remind_before_s=0) == 0  # the setting at 0: never
    assert _remind(line, remind_before_s=3600) == 1 and len(_reminders(line, "A", early)) == 1


def test_how_soon_it_begins_reads_to_the_minute() -> None:
    assert [starts_in(timedelta(seconds=s)) for s in (1, 59, 60, 61, 3000, 3600, 3660, 7200, 90_000)] == [
        "in 1 min", "in 1 min", "in 1 min", "in 2 min", "in 50 min", "in 1 h", "in 1 h 1 min", "in 2 h", "in 25 h"]
