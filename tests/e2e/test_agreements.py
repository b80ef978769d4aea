"""Agreeing to a conflict: each party concerned says how it is handled; when all agree to it as it is,
it is coordinated (still open and listed); a changed conflict asks again. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.e2e.conftest import Line
from tests.helpers import T0, activity_body, rfc


def _overlap(line: Line) -> tuple[str, str, dict[str, Any], str]:
    """A's convoy and B's patrol meet: the conflict, A's activity id and body, and B's activity id."""
    body = activity_body(kind="humanitarian_convoy", title="Nasib convoy")
    a = line.client.post("/v1/activities", headers=line.h("A"), json=body)
    b = line.client.post("/v1/activities", headers=line.h("B"), json=activity_body(kind="patrol", title="patrol"))
    assert a.status_code == b.status_code == 201, (a.text, b.text)
    (conflict,) = b.json()["conflicts"]
    assert conflict["agreements"] == [] and conflict["coordinated"] is False
    return conflict["id"], a.json()["activity"]["id"], body, b.json()["activity"]["id"]


def _agree(line: Line, who: str, cid: str, statement: str) -> Any:
    return line.client.post(f"/v1/conflicts/{cid}/agreement", headers=line.h(who), json={"statement": statement})


def test_every_party_agrees_and_the_conflict_is_coordinated_until_it_changes(line: Line) -> None:
    c = line.client
    cid, a_id, body, b_id = _overlap(line)
    alert = next(m for m in line.inbox("A") if m["conflict_id"] == cid and m["msgType"] == "Alert")
    first = _agree(line, "A", cid, "B's patrol escorts the convoy through Nasib")
    assert first.status_code == 200, first.text
    got = first.json()
    assert [(x["party"]["name"], x["current"]) for x in got["agreements"]] == [("A", True)]
    assert got["coordinated"] is False and got["status"] == "open"
    # B hears of it in the conflict's thread, to acknowledge
    told = [m for m in line.inbox("B") if m["conflict_id"] == cid and m["sender"]["name"] == "A"]
    assert [m["headline"] for m in told] == ["A agrees to the conflict: B's patrol escorts the convoy through Nasib"]
    assert told[0]["msgType"] == "Update"
    # agreeing, A has seen the conflict: its copy of the Alert is acknowledged (and stops escalating)
    assert alert["id"] not in {m["id"] for m in line.inbox("A")}
    (acked,) = [m for m in line.inbox("A", "acknowledged") if m["id"] == alert["id"]]
    assert [x["state"] for x in acked["addresses"] if x["party"]["name"] == "A"] == ["acknowledged"]
    assert alert["id"] in {m["id"] for m in line.inbox("B")}  # B's copy still waits for B
    both = _agree(line, "B", cid, "Escort confirmed, 06:00 at the crossing").json()
    assert both["coordinated"] is True and [x["current"] for x in both["agreements"]] == [True, True]
    told = [m["headline"] for m in line.inbox("A") if m["conflict_id"] == cid and m["sender"]["name"] == "B"]
    assert told == ["B agrees to the conflict: Escort confirmed, 06:00 at the crossing (coordinated)"]
    # still open and listed for both, coordinated; never hidden
    for who in ("A", "B"):
        listed = {x["id"]: x for x in c.get("/v1/conflicts", headers=line.h(who)).json()}
        assert listed[cid]["coordinated"] is True and listed[cid]["status"] == "open"
    assert c.get(f"/v1/conflicts/{cid}", headers=line.h("A")).json()["coordinated"] is True
    # what is still to handle, and what is handled: another conflict of A's stays to handle
    other = activity_body(kind="patrol", title="B's second patrol", lng=36.9)
    c.post("/v1/activities", headers=line.h("A"), json=activity_body(title="A's second", lng=36.9))
    second = c.post("/v1/activities", headers=line.h("B"), json=other).json()["conflicts"][0]["id"]
    for flag, expected in (("true", [cid]), ("false", [second])):
        got = c.get("/v1/conflicts", headers=line.h("A"), params={"coordinated": flag}).json()
        assert [x["id"] for x in got] == expected, flag
    paged = c.get("/v1/conflicts", headers=line.h("A"), params={"coordinated": "false", "offset": 1}).json()
    assert paged == []
    # the record: who agreed, to what
    entries = c.get("/v1/audit", headers=line.h("B"), params={"entity_id": cid}).json()
    agreed = [e for e in entries if e["action"] == "conflict.agreed"]
    assert [e["payload"]["coordinated"] for e in agreed] == [False, True]
    # B renames its patrol: the conflict is the same one, still coordinated, and nobody is asked again
    renamed = c.put(f"/v1/activities/{b_id}", headers=line.h("B"),
                    json=activity_body(kind="patrol", title="escort patrol"))  # fmt: skip
    assert renamed.status_code == 200, renamed.text
    assert [x["coordinated"] for x in renamed.json()["conflicts"] if x["id"] == cid] == [True]
    assert not [m for m in line.inbox("A") if m["headline"].startswith("Conflict changed")]
    # A moves its convoy an hour later: still a conflict, but not the one they agreed to
    later = activity_body(kind="humanitarian_convoy", title="Nasib convoy", t0=T0 + timedelta(hours=1),
                          t1=T0 + timedelta(hours=7))  # fmt: skip
    moved = c.put(f"/v1/activities/{a_id}", headers=line.h("A"), json=later)
    assert moved.status_code == 200, moved.text
    (again,) = [x for x in moved.json()["conflicts"] if x["id"] == cid]
    assert again["coordinated"] is False and [x["current"] for x in again["agreements"]] == [False, False]
    assert body != later
    # both are told, in the conflict's thread, to agree again
    for who in ("A", "B"):
        asked = [m for m in line.inbox(who) if m["conflict_id"] == cid and m["headline"].startswith("Conflict changed")]
        assert [m["headline"] for m in asked] == ["Conflict changed: the agreement of A, B no longer holds"], who


def test_withdraw_and_who_may_agree(line: Line) -> None:
    c = line.client
    cid, a_id, _, _ = _overlap(line)
    assert _agree(line, "A", cid, "holding at the border post").status_code == 200
    gone = c.post(f"/v1/conflicts/{cid}/agreement/withdraw", headers=line.h("A"), json={"statement": "plans changed"})
    assert gone.status_code == 200 and gone.json()["agreements"] == []
    told = [m["headline"] for m in line.inbox("B") if m["conflict_id"] == cid and m["sender"]["name"] == "A"]
    assert "A no longer agrees to the conflict: plans changed" in told
    twice = c.post(f"/v1/conflicts/{cid}/agreement/withdraw", headers=line.h("A"))
    assert twice.status_code == 409 and "has not agreed" in twice.json()["detail"]
    # a party it does not concern is not told it exists; an observer may not agree; a statement is needed
    assert _agree(line, "HQ", cid, "fine by us").status_code == 404
    assert _agree(line, "Obs", cid, "fine").status_code == 403
    empty = _agree(line, "A", cid, "")
    assert empty.status_code == 422 and empty.json()["errors"][0]["pointer"] == "/statement"
    # a conflict that no longer holds needs no agreement
    assert c.post(f"/v1/activities/{a_id}/cancel", headers=line.h("A")).status_code == 200
    closed = _agree(line, "B", cid, "too late")
    assert closed.status_code == 409 and "closed" in closed.json()["detail"]


def test_the_coordinated_filter_pages_like_the_plain_listing(line: Line) -> None:
    """Six conflicts by time; two agreed by both, one by A alone: the filters split the plain listing
    exactly, in its order, page by page."""
    c = line.client
    ids = []
    for hour in range(6):
        window = {"t0": T0 + timedelta(hours=hour * 10), "t1": T0 + timedelta(hours=hour * 10 + 2)}
        mine = c.post("/v1/activities", headers=line.h("A"), json=activity_body(title=f"a{hour}", **window))
        assert mine.status_code == 201, mine.text
        made = c.post("/v1/activities", headers=line.h("B"), json=activity_body(kind="patrol", **window)).json()
        ids.append(made["conflicts"][0]["id"])
    listed = [x["id"] for x in c.get("/v1/conflicts", headers=line.h("A")).json()]
    assert listed == ids  # by when they happen
    for who in ("A", "B"):
        for cid in (ids[1], ids[4]):
            assert _agree(line, who, cid, "handled").status_code == 200
    assert _agree(line, "A", ids[2], "A alone").status_code == 200

    def pages(who: str, flag: str) -> list[str]:
        got, offset = [], 0
        while True:
            page = c.get("/v1/conflicts", headers=line.h(who),
                         params={"coordinated": flag, "limit": 2, "offset": offset}).json()  # fmt: skip
            got += [x["id"] for x in page]
            if len(page) < 2:
                return got
            offset += 2

    for who in ("A", "B"):
        assert pages(who, "true") == [ids[1], ids[4]]
        assert pages(who, "false") == [ids[0], ids[2], ids[3], ids[5]]
    # B withdraws from one: it is to handle again, for both
    assert c.post(f"/v1/conflicts/{ids[4]}/agreement/withdraw", headers=line.h("B")).status_code == 200
    assert pages("A", "true") == [ids[1]] and pages("A", "false") == [ids[0], ids[2], ids[3], ids[4], ids[5]]
    # with the other filters: the window holds the second (coordinated) and the third (to handle)
    params = {"coordinated": "false", "time_start": rfc(T0 + timedelta(hours=9)),
              "time_end": rfc(T0 + timedelta(hours=25))}  # fmt: skip
    assert [x["id"] for x in c.get("/v1/conflicts", headers=line.h("A"), params=params).json()] == [ids[2]]


def test_what_was_said_about_a_conflict_on_the_hotline_oldest_first(line: Line) -> None:
    c = line.client
    cid, _, _, b_id = _overlap(line)
    assert _agree(line, "A", cid, "escorted through Nasib").status_code == 200
    assert c.post(f"/v1/activities/{b_id}/cancel", headers=line.h("B")).status_code == 200
    said = c.get(f"/v1/conflicts/{cid}/messages", headers=line.h("B"))
    assert said.status_code == 200, said.text
    got = said.json()
    # announced; A saw it (agreeing acknowledges the Alert) and agreed; closed when B cancelled
    assert [(m["msgType"], m["sender"]["name"]) for m in got] == [
        ("Alert", "Truceline"), ("Ack", "A"), ("Update", "A"), ("Update", "Truceline")]  # fmt: skip
    assert got[2]["headline"] == "A agrees to the conflict: escorted through Nasib"
    assert got[3]["headline"] == "Conflict closed: the activity was cancelled"
    assert len({m["thread_id"] for m in got}) == 1 and all(m["conflict_id"] == cid for m in got)
    assert c.get(f"/v1/conflicts/{cid}/messages", headers=line.h("A")).json() == got
    # a party it does not concern learns nothing, not even that it exists
    for who in ("Mon", "Obs"):
        r = c.get(f"/v1/conflicts/{cid}/messages", headers=line.h(who))
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert c.get("/v1/conflicts/nope/messages", headers=line.h("A")).status_code == 404
