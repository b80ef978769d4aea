"""The hotline end to end over HTTP: conflicts open threads, messages are acknowledged by their
addressees only and once, deadlines escalate on a controllable clock, bad input changes nothing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import FakeClock
from tests.e2e.conftest import Line, quiet_settings
from tests.helpers import CAP_NS, activity_body, cap_schema
from truceline.api.app import create_app
from truceline.services import hotline


def _open(line: Line, who: str, others: list[str], **message: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"subject": "Coordination", "parties": [line.ids[o] for o in others]}
    if message:
        body["message"] = {"headline": "Convoy moving at 06:00", **message}
    r = line.client.post("/v1/threads", headers=line.h(who), json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_conflict_opens_a_thread_between_its_parties_and_later_ones_join_it(line: Line) -> None:
    c = line.client
    c.post("/v1/activities", headers=line.h("A"), json=activity_body(title="A's patrol"))
    r = c.post("/v1/activities", headers=line.h("B"), json=activity_body(kind="patrol", lng=36.51)).json()
    (conflict,) = r["conflicts"]
    for who in ("A", "B"):
        (alert,) = line.inbox(who)
        assert alert["msgType"] == "Alert" and alert["sender"] == {"id": None, "name": "Truceline"}
        assert alert["conflict_id"] == conflict["id"] and alert["severity"] == "Severe"
        assert conflict["reason"] in alert["headline"] and alert["description"] == conflict["reason"]
        assert alert["regions"] == conflict["regions"]  # the conflict's 4D region travels with it
        assert {a["party"]["name"] for a in alert["addresses"]} == {"A", "B"}
        assert all(a["deadline"] == "2017-07-09T12:30:00Z" for a in alert["addresses"])  # overlaps: 30 min
    (thread,) = c.get("/v1/threads", headers=line.h("A")).json()
    assert thread["automatic"] and {m["name"] for m in thread["members"]} == {"A", "B"}
    assert line.inbox("Obs") == [] and c.get("/v1/threads", headers=line.h("Obs")).json() == []
    assert c.get(f"/v1/threads/{thread['id']}", headers=line.h("Obs")).status_code == 404
    # a second conflict between the same two parties joins the same thread
    c.post("/v1/activities", headers=line.h("B"), json=activity_body(kind="air", lng=36.52))
    assert [t["id"] for t in c.get("/v1/threads", headers=line.h("B")).json()] == [thread["id"]]
    msgs = c.get(f"/v1/threads/{thread['id']}", headers=line.h("A")).json()["messages"]
    assert [m["msgType"] for m in msgs] == ["Alert", "Alert"]
    assert [e["type"] for e in line.events("B")] == ["message", "message"]
    assert "message.sent" in line.audit_actions()


def test_a_conflict_that_closes_posts_an_update_that_stands_the_alert_down(line: Line) -> None:
    c = line.client
    c.post("/v1/activities", headers=line.h("A"), json=activity_body())
    b = c.post("/v1/activities", headers=line.h("B"), json=activity_body(kind="patrol", lng=36.51)).json()
    (alert,) = line.inbox("A")
    assert c.post(f"/v1/messages/{alert['id']}/ack", headers=line.h("A")).status_code == 200
    assert c.post(f"/v1/activities/{b['activity']['id']}/cancel", headers=line.h("B")).status_code == 200
    msgs = c.get(f"/v1/threads/{alert['thread_id']}", headers=line.h("B")).json()["messages"]
    update = next(m for m in msgs if m["msgType"] == "Update")
    assert update["references"] == [alert["id"]] and update["headline"].startswith("Conflict closed")
    now = c.get(f"/v1/messages/{alert['id']}", headers=line.h("B")).json()
    states = {a["party"]["name"]: a["state"] for a in now["addresses"]}
    assert states == {"A": "acknowledged", "B": "superseded"}  # B's ack no longer escalates
    # B can still acknowledge the superseded alert: the receipt is worth having
    r = c.post(f"/v1/messages/{alert['id']}/ack", headers=line.h("B"))
    assert r.status_code == 200 and {a["state"] for a in r.json()["addresses"]} == {"acknowledged"}
    # the Update itself asks both for a receipt (Minor: 2 h); the stood-down alert never escalates
    line.clock.now += timedelta(hours=3)
    assert line.escalate() == 2
    overdue = line.inbox("B", "overdue")
    assert [m["id"] for m in overdue] == [update["id"]]


def test_only_the_addressed_party_acknowledges_and_only_once(line: Line) -> None:
    c = line.client
    opened = _open(line, "A", ["B", "Mon"], addresses=[line.ids["B"]], severity="Severe")
    mid = opened["message"]["id"]
    assert [a["party"]["name"] for a in opened["message"]["addresses"]] == ["B"]
    before = c.get(f"/v1/threads/{opened['thread']['id']}", headers=line.h("A")).json()
    # a member it is not addressed to, the sender itself, an outsider
    r = c.post(f"/v1/messages/{mid}/ack", headers=line.h("Mon"))
    assert r.status_code == 403 and "not addressed to your party" in r.json()["detail"]
    assert c.post(f"/v1/messages/{mid}/ack", headers=line.h("A")).status_code == 403
    assert c.post(f"/v1/messages/{mid}/ack", headers=line.h("Obs")).status_code == 404
    assert c.post("/v1/messages/nope/ack", headers=line.h("B")).status_code == 404
    assert c.get(f"/v1/threads/{opened['thread']['id']}", headers=line.h("A")).json() == before  # nothing changed
    line.clock.now += timedelta(seconds=30)
    r = c.post(f"/v1/messages/{mid}/ack", headers=line.h("B"), json={"note": "received, holding at checkpoint"})
    assert r.status_code == 200, r.text
    (b,) = r.json()["addresses"]
    assert b["state"] == "acknowledged" and b["acknowledged_at"] == "2017-07-09T12:00:30Z"
    again = c.post(f"/v1/messages/{mid}/ack", headers=line.h("B"))
    assert again.status_code == 409 and again.json()["acknowledged_at"] == "2017-07-09T12:00:30Z"
    msgs = c.get(f"/v1/threads/{opened['thread']['id']}", headers=line.h("Mon")).json()["messages"]
    assert [m["msgType"] for m in msgs] == ["Alert", "Ack"]
    ack = msgs[1]
    assert ack["references"] == [mid] and ack["sender"]["name"] == "B" and ack["addresses"] == []
    assert ack["description"] == "received, holding at checkpoint"
    assert line.inbox("B") == [] and [m["id"] for m in line.inbox("B", "acknowledged")] == [mid]
    assert [e["type"] for e in line.events("A")][-1] == "message.acknowledged"


def test_an_observer_acknowledges_what_is_addressed_to_it_but_cannot_send(line: Line) -> None:
    c = line.client
    opened = _open(line, "A", ["Obs"])
    r = c.post(f"/v1/threads/{opened['thread']['id']}/messages", headers=line.h("Obs"), json={"headline": "hi"})
    assert r.status_code == 403
    r = c.post(f"/v1/threads/{opened['thread']['id']}/messages", headers=line.h("A"), json={"headline": "FYI"})
    assert r.status_code == 201
    assert c.post(f"/v1/messages/{r.json()['id']}/ack", headers=line.h("Obs")).status_code == 200


def test_deadline_overdue_resend_and_escalation_steps(line: Line) -> None:
    c = line.client
    r = c.put(f"/v1/parties/{line.ids['B']}/escalation-contacts", headers=line.h("B"),
              json={"contacts": [line.ids["HQ"], line.ids["JC"]]})
    assert r.status_code == 200 and [x["name"] for x in r.json()["contacts"]] == ["HQ", "JC"]
    opened = _open(line, "A", ["B"], severity="Extreme", ack_within_s=60)
    mid, tid = opened["message"]["id"], opened["thread"]["id"]
    assert opened["message"]["addresses"][0]["deadline"] == "2017-07-09T12:01:00Z"
    line.clock.now += timedelta(seconds=59)
    assert line.escalate() == 0
    line.clock.now += timedelta(seconds=2)
    assert line.escalate() == 1
    assert line.escalate() == 0  # fires once
    (m,) = line.inbox("B", "overdue")
    (b,) = m["addresses"]
    assert b["state"] == "overdue" and b["escalation_step"] == 1
    assert b["next_escalation_at"] == "2017-07-09T12:11:00Z"  # step 2: 600 s after the deadline
    assert c.get("/v1/inbox/summary", headers=line.h("B")).json()["overdue"] == 1
    assert [e["type"] for e in line.events("B")] == ["message", "message.overdue"]  # re-sent to B
    (esc,) = line.events("HQ")
    assert esc["type"] == "message.escalated" and esc["data"]["message"]["id"] == mid
    assert esc["data"]["party"]["name"] == "B" and [p["name"] for p in esc["data"]["informed"]] == ["HQ"]
    assert line.events("JC") == []
    # HQ joined the thread to see it, but may not acknowledge for B
    assert c.get(f"/v1/threads/{tid}", headers=line.h("HQ")).status_code == 200
    assert c.post(f"/v1/messages/{mid}/ack", headers=line.h("HQ")).status_code == 403
    line.clock.now = datetime(2017, 7, 9, 12, 11, 1, tzinfo=UTC)
    assert line.escalate() == 1
    assert [e["type"] for e in line.events("JC")] == ["message.escalated"]
    line.clock.now = datetime(2017, 7, 9, 12, 31, 1, tzinfo=UTC)
    assert line.escalate() == 1
    line.clock.now += timedelta(days=2)
    assert line.escalate() == 0  # every step has fired
    (m,) = line.inbox("B", "overdue")
    assert m["addresses"][0]["escalation_step"] == 3 and m["addresses"][0]["next_escalation_at"] is None
    # a late acknowledgement still counts, and says it was late
    assert c.post(f"/v1/messages/{mid}/ack", headers=line.h("B")).status_code == 200
    assert c.get("/v1/inbox/summary", headers=line.h("B")).json() == {
        "unacknowledged": 0, "overdue": 0, "last_event_id": len(line.events("B"))
    }
    with line.ctx.uow() as u:
        entries = [e for e in u.audit.entries() if e.entry.body.entity_id == mid]
    assert [e.entry.body.action for e in entries] == ["message.sent"] + ["message.escalated"] * 3 + [
        "message.acknowledged"
    ]
    assert entries[-1].payload["late"] is True and entries[-1].payload["was"] == "overdue"


def test_escalation_survives_a_restart(line: Line, db_url: str) -> None:
    """Deadlines are stored: a new process (a new app on the same database) fires them."""
    _open(line, "A", ["B"], ack_within_s=60)
    clock = FakeClock(line.clock.now + timedelta(minutes=5))
    other = create_app(quiet_settings(db_url), clock=clock)
    assert hotline.escalate_due(other.state.ctx.uow(write=True), other.state.ctx.policy.hotline) == 1
    assert [m["addresses"][0]["state"] for m in line.inbox("B", "overdue")] == ["overdue"]
    other.state.ctx.engine.dispose()


def test_each_step_fires_exactly_once_with_concurrent_schedulers(line: Line) -> None:
    for i in range(12):
        _open(line, "A", ["B"], headline=f"message {i}", ack_within_s=60)
    line.clock.now += timedelta(minutes=2)
    fired: list[int] = []
    errors: list[BaseException] = []

    def still_due() -> bool:
        with line.ctx.uow() as u:
            return bool(u.hotline.due(line.clock.now, limit=1))

    def run() -> None:
        # A round that finds another scheduler on it fires nothing, so each scheduler keeps going
        # until nothing is due (bounded), however the rounds happen to interleave.
        try:
            for _ in range(200):
                fired.append(hotline.escalate_due(line.ctx.uow(write=True), line.ctx.policy.hotline, limit=3))
                if not still_due():
                    return
        except BaseException as e:
            errors.append(e)

    workers = [threading.Thread(target=run) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    assert sum(fired) == 12
    overdue_events = [e for e in line.events("B") if e["type"] == "message.overdue"]
    assert len(overdue_events) == 12 and len({e["data"]["message"]["id"] for e in overdue_events}) == 12


def test_update_and_cancel_supersede_the_senders_earlier_message(line: Line) -> None:
    c = line.client
    opened = _open(line, "A", ["B"], severity="Moderate")
    tid, first = opened["thread"]["id"], opened["message"]["id"]
    r = c.post(f"/v1/threads/{tid}/messages", headers=line.h("A"),
               json={"msgType": "Update", "headline": "Convoy delayed to 08:00", "references": [first]})
    assert r.status_code == 201
    states = {m["id"]: m["addresses"][0]["state"] for m in line.inbox("B", "all")}
    assert states == {first: "superseded", r.json()["id"]: "awaiting"}
    r2 = c.post(f"/v1/threads/{tid}/messages", headers=line.h("A"),
                json={"msgType": "Cancel", "headline": "Convoy cancelled", "references": [r.json()["id"]]})
    assert r2.status_code == 201
    # B cannot cancel A's message
    bad = c.post(f"/v1/threads/{tid}/messages", headers=line.h("B"),
                 json={"msgType": "Cancel", "headline": "no", "references": [first]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/references/0"


BAD_MESSAGES = [
    ({"headline": "x", "references": ["01234567-0000-7000-8000-000000000000"]}, "/references/0", "no message"),
    ({"headline": "x", "addresses": ["01234567-0000-7000-8000-000000000000"]}, "/addresses/0", "not in this thread"),
    ({"headline": "x", "addresses": []}, "/addresses", "at least one"),
    ({"headline": "x", "msgType": "Update"}, "/references", "names the message"),
    ({"headline": "x", "msgType": "Ack"}, "/msgType", ""),
    ({"headline": "x", "severity": "Apocalyptic"}, "/severity", ""),
    ({"headline": ""}, "/headline", ""),
    ({"headline": "x", "conflict_id": "nope"}, "/conflict_id", "no conflict"),
    ({"headline": "x", "activity_ids": ["nope"]}, "/activity_ids/0", "no activity"),
    ({"headline": "x", "zone_ids": ["nope"]}, "/zone_ids/0", "no zone"),
    ({"headline": "x", "ack_within_s": 1}, "/ack_within_s", ""),
    ({"headline": "x", "colour": "red"}, "/colour", ""),
]


@pytest.mark.parametrize(("body", "pointer", "says"), BAD_MESSAGES)
def test_bad_messages_are_refused_and_change_nothing(
    line: Line, body: dict[str, Any], pointer: str, says: str
) -> None:
    c = line.client
    opened = _open(line, "A", ["B"])
    tid = opened["thread"]["id"]
    before = (c.get(f"/v1/threads/{tid}", headers=line.h("A")).json(), line.events("B"), line.audit_actions())
    r = c.post(f"/v1/threads/{tid}/messages", headers=line.h("A"), json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["errors"][0]["pointer"] == pointer and says in problem["errors"][0]["detail"]
    assert (c.get(f"/v1/threads/{tid}", headers=line.h("A")).json(), line.events("B"), line.audit_actions()) == before


def test_other_bad_hotline_requests(line: Line) -> None:
    c = line.client
    assert c.post("/v1/threads/nope/messages", headers=line.h("A"), json={"headline": "x"}).status_code == 404
    r = c.post("/v1/threads", headers=line.h("A"), json={"subject": "x", "parties": ["nope"]})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/parties/0"
    r = c.post("/v1/threads", headers=line.h("A"), json={"subject": "x", "parties": [line.ids["A"]]})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/parties"
    big = {"subject": "x", "parties": [line.ids["B"]], "message": {"headline": "x", "description": "y" * 1_100_000}}
    assert c.post("/v1/threads", headers=line.h("A"), json=big).status_code == 413
    r = c.post("/v1/messages/x/ack", headers={**line.h("B"), "content-type": "application/json"}, content=b"{oops")
    assert r.status_code == 400
    assert c.get("/v1/threads", headers=line.h("A")).json() == []
    r = c.put(f"/v1/parties/{line.ids['B']}/escalation-contacts", headers=line.h("A"),
              json={"contacts": [line.ids["HQ"]]})
    assert r.status_code == 403  # only B itself (or an admin)
    r = c.put(f"/v1/parties/{line.ids['B']}/escalation-contacts", headers=line.h("B"),
              json={"contacts": [line.ids["B"], "nope"]})
    assert r.status_code == 422 and [e["pointer"] for e in r.json()["errors"]] == ["/contacts/0", "/contacts/1"]
    assert c.get(f"/v1/parties/{line.ids['B']}/escalation-contacts", headers=line.h("B")).json()["contacts"] == []
    r = c.get("/v1/events", headers={**line.h("B"), "Last-Event-ID": "soon"})
    assert r.status_code == 422


def test_a_message_as_a_cap_alert_for_the_parties_of_its_thread(line: Line) -> None:
    """Any message a party can read comes as an OASIS CAP 1.2 alert too (the schema check: unit tests)."""
    from xml.etree import ElementTree as ET


    c = line.client
    c.post("/v1/activities", headers=line.h("A"), json=activity_body(title="A's patrol"))
    c.post("/v1/activities", headers=line.h("B"), json=activity_body(kind="patrol", lng=36.51))
    (alert,) = line.inbox("B")
    r = c.get(f"/v1/messages/{alert['id']}/cap", headers=line.h("B"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/cap+xml"
    cap_schema().validate(r.text)
    root = ET.fromstring(r.content)
    assert root.findtext("cap:identifier", namespaces=CAP_NS) == alert["id"]
    assert root.findtext("cap:incidents", namespaces=CAP_NS) == alert["conflict_id"]
    assert root.findtext("cap:info/cap:event", namespaces=CAP_NS) == "Deconfliction conflict (overlap)"
    assert root.findtext("cap:info/cap:headline", namespaces=CAP_NS) == alert["headline"]
    assert set((root.findtext("cap:addresses", namespaces=CAP_NS) or "").split()) == {
        f"urn:truceline:party:{line.ids[p]}" for p in ("A", "B")}  # fmt: skip
    assert len(root.findall("cap:info/cap:area/cap:polygon", CAP_NS)) >= 1
    # only the thread's parties read it, as with the message itself
    for who in ("Obs", "Mon"):
        refused = c.get(f"/v1/messages/{alert['id']}/cap", headers=line.h(who))
        assert refused.status_code == 404 and refused.headers["content-type"] == "application/problem+json"
    assert c.get("/v1/messages/nope/cap", headers=line.h("B")).status_code == 404
    assert c.get(f"/v1/messages/{alert['id']}/cap").status_code == 401
    # the acknowledgement is a CAP Ack that refers to the alert
    assert c.post(f"/v1/messages/{alert['id']}/ack", headers=line.h("B"), json={"note": "seen"}).status_code == 200
    (thread,) = c.get("/v1/threads", headers=line.h("A")).json()
    ack = c.get(f"/v1/threads/{thread['id']}", headers=line.h("A")).json()["messages"][-1]
    r = c.get(f"/v1/messages/{ack['id']}/cap", headers=line.h("A"))
    cap_schema().validate(r.text)
    root = ET.fromstring(r.content)
    assert root.findtext("cap:msgType", namespaces=CAP_NS) == "Ack"
    assert root.findtext("cap:note", namespaces=CAP_NS) == "seen"
    assert (root.findtext("cap:references", namespaces=CAP_NS) or "").startswith(f"urn:truceline:system,{alert['id']},")


def test_a_partys_alerting_system_posts_cap_alerts_in_a_thread(line: Line) -> None:
    """A party's own alerting system speaks CAP: what it posts becomes a message of the thread, checked
    as any message is, and what it gets back from Truceline it can answer with an Update."""
    c = line.client
    opened = _open(line, "A", ["B", "Mon"], headline="Convoy moving at 06:00")
    tid, first = opened["thread"]["id"], opened["message"]
    sent = first["sent"].replace("Z", "-00:00")
    xml = (f'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>B-77</identifier>'
           f"<sender>ops@b.example</sender><sent>2017-07-09T15:00:00+03:00</sent><status>Actual</status>"
           f"<msgType>Update</msgType><scope>Private</scope><addresses>urn:truceline:party:{line.ids['A']}</addresses>"
           f"<references>urn:truceline:party:{line.ids['A']},{first['id']},{sent}</references>"
           f"<info><category>Security</category><event>Convoy</event><urgency>Immediate</urgency>"
           f"<severity>Severe</severity><certainty>Observed</certainty>"
           f"<headline>Checkpoint closed until 08:00</headline>"
           f"<description>Hold the convoy at Nasib.</description></info></alert>")  # fmt: skip
    h = {**line.h("B"), "Content-Type": "application/cap+xml"}
    r = c.post(f"/v1/threads/{tid}/cap", headers=h, content=xml)
    assert r.status_code == 201, r.text
    m = r.json()
    assert (m["msgType"], m["severity"], m["urgency"], m["certainty"]) == ("Update", "Severe", "Immediate", "Observed")
    assert m["headline"] == "Checkpoint closed until 08:00" and m["description"] == "Hold the convoy at Nasib."
    assert m["references"] == [first["id"]] and [a["party"]["name"] for a in m["addresses"]] == ["A"]
    assert m["sender"]["name"] == "B" and r.headers["truceline-receipt"].startswith("seq=")
    assert [x["headline"] for x in line.inbox("A")] == ["Checkpoint closed until 08:00"]
    # refused, naming the element; nothing is stored
    before = len(c.get(f"/v1/threads/{tid}", headers=line.h("A")).json()["messages"])
    cases = [
        (xml.replace("Checkpoint closed until 08:00", ""), "/alert/info/headline"),
        (xml.replace(first["id"], "m-unknown"), "/alert/references/0"),
        (xml.replace(f"urn:truceline:party:{line.ids['A']}</addresses>", "urn:truceline:party:x</addresses>"),
         "/alert/addresses/0"),
        (xml.replace("<status>Actual</status>", "<status>Test</status>"), "/alert/status"),
    ]  # fmt: skip
    for body, pointer in cases:
        bad = c.post(f"/v1/threads/{tid}/cap", headers=h, content=body)
        assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == pointer, (pointer, bad.text)
    json_body = c.post(f"/v1/threads/{tid}/cap", headers={**line.h("B"), "Content-Type": "application/json"},
                       content=xml)  # fmt: skip
    assert json_body.status_code == 422 and json_body.json()["errors"][0]["pointer"] == "#header/Content-Type"
    assert c.post(f"/v1/threads/{tid}/cap", headers={**h, **line.h("HQ")}, content=xml).status_code == 404  # not in it
    assert c.post(f"/v1/threads/{tid}/cap", headers={**h, **line.h("Obs")}, content="<x/>").status_code == 403
    assert len(c.get(f"/v1/threads/{tid}", headers=line.h("A")).json()["messages"]) == before


def test_threads_are_listed_with_their_latest_message(line: Line) -> None:
    c = line.client
    first = _open(line, "A", ["B"], severity="Minor")
    second = _open(line, "A", ["B", "HQ"], severity="Moderate")
    empty = _open(line, "B", ["HQ"])  # opened with no message yet
    line.clock.now += timedelta(minutes=1)
    said = c.post(f"/v1/threads/{first['thread']['id']}/messages", headers=line.h("B"),
                  json={"headline": "Understood, holding at the crossing"})  # fmt: skip
    assert said.status_code == 201, said.text
    listed = {t["id"]: t for t in c.get("/v1/threads", headers=line.h("B")).json()}
    got = listed[first["thread"]["id"]]["last_message"]
    assert (got["id"], got["msgType"], got["headline"], got["sender"]["name"]) == (
        said.json()["id"], "Alert", "Understood, holding at the crossing", "B")  # fmt: skip
    assert listed[second["thread"]["id"]]["last_message"]["id"] == second["message"]["id"]
    assert listed[empty["thread"]["id"]]["last_message"] is None
    # the most recently active first
    assert next(iter(listed)) == first["thread"]["id"]
    # a thread read on its own carries its messages instead
    assert c.get(f"/v1/threads/{first['thread']['id']}", headers=line.h("A")).json()["thread"]["last_message"] is None
