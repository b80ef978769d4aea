"""A zone's negotiation reaches the parties it concerns on their live feed (and so their webhooks and
the web map): revisions, sign-offs, objections, responsibilities and documents go to the proposer, the
signatories and the parties asked; every party hears of a status move."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Line
from tests.helpers import zone_body


def _zone_events(line: Line, who: str) -> list[dict[str, Any]]:
    return [e for e in line.events(who) if e["type"].startswith(("zone.", "document."))]


def _said(line: Line, who: str) -> list[tuple[str, str]]:
    return [(e["type"], e["data"]["summary"]) for e in _zone_events(line, who)]


def test_negotiation_steps_reach_the_parties_they_concern_and_status_moves_reach_everyone(line: Line) -> None:
    c = line.client
    status_only = c.post("/v1/webhooks", headers=line.h("JC"), json={"url": "http://127.0.0.1:9/h",
                                                                      "event_types": ["zone.status"]})
    assert status_only.status_code == 201, status_only.text
    bad = c.post("/v1/webhooks", headers=line.h("JC"), json={"url": "http://127.0.0.1:9/h", "event_types": ["zone.x"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/event_types/0"

    body = zone_body(name="Southwest", signatories=["A", "B"], rationale="drafted in Amman")
    z = c.post("/v1/zones", headers=line.h("A"), json=body).json()["zone"]
    zid = z["id"]
    r = c.post(f"/v1/zones/{zid}/responsibilities", headers=line.h("A"), json={"party": "HQ", "role": "police"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert c.patch(f"/v1/zones/{zid}", headers=line.h("B"),
                   json={"revision": 1, "standoff_m": 500, "rationale": "extended to Al-Suweida"}).status_code == 200
    c.post(f"/v1/zones/{zid}/objections", headers=line.h("B"), json={"revision": 2, "statement": "too wide"})
    c.post(f"/v1/zones/{zid}/signoffs", headers=line.h("A"), json={"revision": 2, "strength": "final"})
    r = c.post(f"/v1/zones/{zid}/signoffs", headers=line.h("B"), json={"revision": 2, "strength": "final"})
    assert r.json()["zone"]["status"] == "in_force"
    r = c.post(f"/v1/zones/{zid}/responsibilities/{rid}/decline", headers=line.h("HQ"),
               json={"statement": "our forces are committed elsewhere"})
    assert r.status_code == 200, r.text
    doc = c.post(f"/v1/zones/{zid}/documents", headers=line.h("A"), json={"title": "Rules of the zone", "body": "…"})
    assert doc.status_code == 201, doc.text
    c.patch(f"/v1/zones/{zid}", headers=line.h("B"), json={"status": "suspended", "rationale": "shelling reported"})

    negotiation = [
        ("zone.proposed", "A proposed the zone 'Southwest' (signatories: A, B): drafted in Amman"),
        ("zone.responsibility_requested", "A asked HQ to police 'Southwest'"),
        ("zone.revised",
         "B revised 'Southwest' to revision 2; earlier sign-offs no longer count: extended to Al-Suweida"),
        ("zone.status", "'Southwest' is now negotiating"),  # a step of the negotiation: for those it concerns
        ("zone.objected", "B objected to revision 2 of 'Southwest': too wide"),
        ("zone.signed", "A signed revision 2 of 'Southwest' (final)"),
        ("zone.signed", "B signed revision 2 of 'Southwest' (final)"),
    ]
    agreed = [("zone.status", "'Southwest' is now agreed in principle"), ("zone.status", "'Southwest' is now in force")]
    declined = [("zone.responsibility_declined",
                 "HQ declined to police 'Southwest': our forces are committed elsewhere")]
    suspended = [("zone.status", "B made 'Southwest' suspended: shelling reported")]
    attached = [("document.added", "A attached the document 'Rules of the zone' to 'Southwest'")]
    # The signatories hear every step, in order.
    for who in ("A", "B"):
        assert _said(line, who) == negotiation + agreed + declined + attached + suspended
    # HQ was asked, so it hears the negotiation from then on, its own answer, and no more once it declined.
    assert _said(line, "HQ") == negotiation[1:] + agreed + declined + suspended
    # Everyone else hears only the status moves: a zone in force is every party's business.
    for who in ("JC", "Obs", "Mon", "Admin"):
        assert _said(line, who) == agreed + suspended

    # An event says which zone, its status then (the move into negotiation follows), who acted and the
    # details a program needs.
    (revised,) = [e["data"] for e in _zone_events(line, "A") if e["type"] == "zone.revised"]
    assert revised["zone"] == {"id": zid, "name": "Southwest", "kind": "de_escalation", "status": "proposed",
                               "revision": 2}
    assert revised["by"] == {"id": line.ids["B"], "name": "B"}
    assert revised["details"] == {"revision": 2, "rationale": "extended to Al-Suweida"}
    assert "snapshot" not in revised["details"]
    moved = [e["data"] for e in _zone_events(line, "JC")]
    assert moved[0]["by"] is None and moved[0]["details"]["computed"] is True
    assert moved[-1]["by"]["name"] == "B" and moved[-1]["zone"]["status"] == "suspended"
    (added,) = [e["data"] for e in _zone_events(line, "B") if e["type"] == "document.added"]
    assert added["details"]["document"] == doc.json()["id"] and added["details"]["version"] == 1

    # JC's webhook, for status moves only, has a delivery for each of them and nothing else.
    hook = status_only.json()["id"]
    deliveries = c.get(f"/v1/webhooks/{hook}/deliveries", headers=line.h("JC")).json()
    assert sorted(d["event_type"] for d in deliveries) == ["zone.status"] * 3
