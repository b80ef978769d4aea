"""The audit log read by people: which of a party's tokens made each change (shown to that party and
the admin, a salted digest to everyone else), and one entity's history, one party's changes, one
token's, a page back at a time."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Line
from tests.helpers import activity_body
from truceline.domain.audit import actor_digest


def _audit(line: Line, who: str | dict[str, str], **params: Any) -> list[dict[str, Any]]:
    headers = line.h(who) if isinstance(who, str) else who
    r = line.client.get("/v1/audit", headers=headers, params={"limit": 5000, **params})
    assert r.status_code == 200, r.text
    return list(r.json())


def test_a_party_sees_which_of_its_tokens_made_each_change_and_nobody_else_does(line: Line) -> None:
    c = line.client
    made = c.post("/v1/parties/me/tokens", headers=line.h("A"), json={"label": "duty officer Karimov"}).json()
    karimov = {"Authorization": f"Bearer {made['token']}"}
    b_plan = c.post("/v1/activities", headers=line.h("B"), json=activity_body(kind="air", title="B's sortie"))
    a_plan = c.post("/v1/activities", headers=karimov, json=activity_body(kind="air", title="A's sortie"))
    assert b_plan.status_code == a_plan.status_code == 201 and a_plan.json()["conflicts"]
    a_id = a_plan.json()["activity"]["id"]

    # A: the notification, with the token that made it, which A can check against the entry's body
    (notified,) = _audit(line, "A", entity_id=a_id, action="activity.notified")
    token = notified["token"]
    assert (token["id"], token["label"]) == (made["id"], "duty officer Karimov")
    assert notified["actor_digest"] == actor_digest(token["id"], token["salt"])
    # the token made that change and nothing else; the first token issued it
    assert [e["action"] for e in _audit(line, "A", token_id=made["id"], before=notified["seq"] + 1)] == [
        "activity.notified"
    ]
    (issued,) = _audit(line, "A", entity_id=made["id"])
    assert issued["action"] == "credential.issued" and issued["token"]["label"] == "first token"
    # The admin sees the token too; a token's changes are all its party's.
    assert _audit(line, "Admin", entity_id=a_id)[0]["token"]["label"] == "duty officer Karimov"
    assert _audit(line, "Admin", token_id=made["id"], party_id=line.ids["B"]) == []

    # Karimov calls B about it. B reads that change of A's (it concerns B), with its digest and never
    # the token; B cannot ask for the entries of A's token either: that would tell B which of A's
    # officers did what.
    call = {"subject": "your sortie", "parties": [line.ids["B"]], "message": {"headline": "call us"}}
    thread = c.post("/v1/threads", headers=karimov, json=call)
    assert thread.status_code == 201, thread.text
    by_a = _audit(line, "B", party_id=line.ids["A"])
    assert [e["action"] for e in by_a] == ["thread.opened", "message.sent"]
    assert all(e["payload"] and e["actor_digest"] and e["token"] is None for e in by_a), by_a
    assert made["id"] not in str(_audit(line, "B")) and notified["token"]["salt"] not in str(_audit(line, "B"))
    r = c.get("/v1/audit", headers=line.h("B"), params={"token_id": made["id"]})
    assert r.status_code == 404 and made["id"] in r.json()["detail"]
    # Each digest is salted: two changes by one token do not look alike to anyone else.
    c.post(f"/v1/activities/{a_id}/cancel", headers=karimov)
    karimovs = _audit(line, "A", token_id=made["id"])
    assert [e["action"] for e in karimovs] == [
        "activity.notified",
        "thread.opened",
        "message.sent",
        "activity.cancelled",
    ]
    assert len({e["actor_digest"] for e in karimovs}) == 4

    # Changes the service makes on its own, or an admin makes on the database, name no token.
    assert all(e["token"] is None and e["actor_digest"] is None for e in _audit(line, "Admin", action="party."))


def test_the_log_is_read_by_entity_party_action_and_a_page_back_at_a_time(line: Line) -> None:
    c = line.client
    plans = [c.post("/v1/activities", headers=line.h("A"), json=activity_body(title=f"patrol {i}")).json()
             for i in range(3)]  # fmt: skip
    every = _audit(line, "A")
    seqs = [e["seq"] for e in every]
    assert seqs == sorted(seqs)
    # one entity's history
    first = plans[0]["activity"]["id"]
    c.post(f"/v1/activities/{first}/cancel", headers=line.h("A"))
    assert [e["action"] for e in _audit(line, "A", entity_id=first)] == ["activity.notified", "activity.cancelled"]
    # an action, or every action it begins
    notified = _audit(line, "A", action="activity.notified")
    assert [e["entity_id"] for e in notified] == [p["activity"]["id"] for p in plans]
    assert {e["action"] for e in _audit(line, "A", action="activity.")} == {"activity.notified", "activity.cancelled"}
    assert _audit(line, "A", action="activity") == []  # not a prefix without its dot
    # one party's changes
    assert {e["party_id"] for e in _audit(line, "Admin", party_id=line.ids["A"])} == {line.ids["A"]}
    # a page back from the newest: the last two, in order, then the two before them
    newest = _audit(line, "A")[-1]["seq"]
    page = _audit(line, "A", before=newest + 1, limit=2)
    earlier = _audit(line, "A", before=page[0]["seq"], limit=2)
    mine = [e["seq"] for e in _audit(line, "A")]
    assert [e["seq"] for e in earlier + page] == mine[-4:]
    # bad parameters are named
    for params, name in (({"before": 0}, "before"), ({"limit": 0}, "limit"), ({"action": "x" * 65}, "action")):
        r = c.get("/v1/audit", headers=line.h("A"), params=params)
        assert r.status_code == 422 and name in r.text, (params, r.text)
