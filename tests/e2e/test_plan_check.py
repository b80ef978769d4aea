"""Checking a plan against the zones before notifying it: what it would break now and once a zone
being negotiated is in force; nothing stored, nobody told, other parties' plans never revealed.
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.e2e.conftest import Api
from tests.e2e.test_api import zone_in_force_over_http
from tests.helpers import T0, activity_body, square, zone_body

PROBLEM = "application/problem+json"


def _check(api: Api, who: str, body: Any) -> Any:
    return api.client.post("/v1/activities/check", headers=api.h(who), json=body)


def _counts(api: Api, who: str) -> tuple[int, int, int, int]:
    c = api.client
    audit_head = c.get("/v1/audit/head", headers=api.h(who)).json()["seq"]
    return (
        len(c.get("/v1/activities", headers=api.h(who)).json()),
        len(c.get("/v1/conflicts", headers=api.h(who)).json()),
        len(c.get("/v1/inbox", headers=api.h(who)).json()),
        audit_head,
    )


def test_a_plan_checked_against_zones_in_force_and_being_negotiated(api: Api) -> None:
    c = api.client
    # B's zone in force forbids ground activities around the plan; another, proposed by A and B and
    # still being negotiated, would forbid it too, from noon; a third forbids only fires
    forcing = zone_in_force_over_http(api, "B", name="Southwest", responsible=[{"party": "B", "role": "police"}])
    pending = c.post("/v1/zones", headers=api.h("A"), json=zone_body(
        name="Quneitra buffer", kind="buffer", geometry=square(36.5, 32.8, 0.05), signatories=["A", "B"],
        effective_from=(T0 + timedelta(hours=12)).isoformat().replace("+00:00", "Z"),
    )).json()["zone"]  # fmt: skip
    zone_in_force_over_http(api, "B", name="Fires only", forbidden_kinds=["fires"])
    # B's own patrol where A's plan goes: a notification would meet it, a check never says so
    assert c.post("/v1/activities", headers=api.h("B"), json=activity_body(kind="patrol")).status_code == 201
    before = _counts(api, "A"), _counts(api, "B")
    plan = activity_body(title="Quneitra resupply", t1=T0 + timedelta(hours=18))
    r = _check(api, "A", plan)
    assert r.status_code == 200, r.text
    got = r.json()
    (now,) = got["conflicts"]
    assert now["zone"] == {"id": forcing["id"], "name": "Southwest", "revision": forcing["revision"]}
    assert (now["kind"], now["status"], now["in_force"]) == ("de_escalation", "in_force", True)
    assert now["reason"].startswith(
        "ground activity is inside de-escalation zone 'Southwest', which is in force and forbids ground activities"
    )
    assert sorted(p["name"] for p in now["parties"]) == ["A", "B"]
    (region,) = now["regions"]
    assert region["geometry"]["type"] == "Polygon"
    assert (region["time_start"], region["time_end"]) == ("2017-07-10T00:00:00Z", "2017-07-10T18:00:00Z")
    (later,) = got["once_in_force"]
    assert (later["zone"]["id"], later["status"], later["in_force"]) == (pending["id"], "proposed", False)
    assert "which is proposed and would forbid ground activities once in force" in later["reason"]
    assert (later["regions"][0]["time_start"], later["regions"][0]["time_end"]) == (
        "2017-07-10T12:00:00Z", "2017-07-10T18:00:00Z")  # fmt: skip
    assert "Other parties' activities are not checked" in got["not_checked"]
    assert "patrol" not in r.text and "overlap" not in r.text
    # nothing was stored and nobody was told, not even the audit log
    assert (_counts(api, "A"), _counts(api, "B")) == before
    # the notification that follows opens exactly the conflict the check foresaw (and the overlap)
    notified = c.post("/v1/activities", headers=api.h("A"), json=plan).json()["conflicts"]
    zone_rules = [x for x in notified if x["rule"] == "zone_rule"]
    assert [(x["zone"]["id"], x["reason"], x["regions"]) for x in zone_rules] == [
        (forcing["id"], now["reason"], now["regions"])
    ]
    assert {x["rule"] for x in notified} == {"zone_rule", "overlap"}


def test_a_plan_outside_the_rules_and_zones_that_never_return(api: Api) -> None:
    c = api.client
    z = zone_in_force_over_http(api, "B", name="Lapsed")
    assert c.post(f"/v1/zones/{z['id']}/lapse", headers=api.h("B")).status_code == 200
    suspended = zone_in_force_over_http(api, "B", name="Suspended")
    r = c.patch(f"/v1/zones/{suspended['id']}", headers=api.h("B"), json={"status": "suspended"})
    assert r.status_code == 200, r.text
    # a humanitarian convoy is forbidden by none; a ground plan would break the suspended zone once
    # it is back in force, never the lapsed one
    clear = _check(api, "A", activity_body(kind="humanitarian_convoy")).json()
    assert (clear["conflicts"], clear["once_in_force"]) == ([], [])
    got = _check(api, "A", activity_body()).json()
    assert got["conflicts"] == []
    assert [(x["zone"]["name"], x["status"]) for x in got["once_in_force"]] == [("Suspended", "suspended")]
    assert "which is suspended and would forbid" in got["once_in_force"][0]["reason"]
    # far away, or above the zone's band: nothing
    far = _check(api, "A", activity_body(lat=34.5, lng=38.0)).json()
    assert (far["conflicts"], far["once_in_force"]) == ([], [])


def test_who_may_check_and_bad_plans(api: Api) -> None:
    zone_in_force_over_http(api, "B", name="Southwest")
    assert _check(api, "Obs", activity_body()).status_code == 403
    assert _check(api, "A", activity_body()).status_code == 200
    assert api.client.post("/v1/activities/check", json=activity_body()).status_code == 401
    bad = activity_body()
    bad["volumes"][0]["time_end"] = bad["volumes"][0]["time_start"]
    r = _check(api, "A", bad)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert "/volumes/0" in r.text
    r = _check(api, "A", {**activity_body(), "kind": "bombing"})
    assert r.status_code == 422 and "/kind" in r.text
