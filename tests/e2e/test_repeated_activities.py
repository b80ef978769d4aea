"""A plan notified once that happens again every so many days: each occurrence is a volume, found in
conflict on its own day only. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.conftest import Api
from tests.e2e.test_api import zone_in_force_over_http
from tests.helpers import T0, activity_body, rfc

PROBLEM = "application/problem+json"


def _daily(until: str, **over: object) -> dict[str, object]:
    body = activity_body(kind="patrol", title="Buffer patrol", t0=T0 + timedelta(hours=6), t1=T0 + timedelta(hours=10))
    return {**body, "repeat": {"every_days": 1, "until": until}, **over}


def test_a_daily_patrol_is_notified_once_and_meets_a_plan_on_its_day_only(api: Api) -> None:
    c = api.client
    # B's convoy on the third day, at the patrol's hours
    convoy = activity_body(kind="humanitarian_convoy", title="convoy",
                           t0=T0 + timedelta(days=2, hours=8), t1=T0 + timedelta(days=2, hours=12))  # fmt: skip
    assert c.post("/v1/activities", headers=api.h("B"), json=convoy).status_code == 201
    r = c.post("/v1/activities", headers=api.h("A"), json=_daily("2017-07-17T00:00:00Z"))
    assert r.status_code == 201, r.text
    got = r.json()
    a = got["activity"]
    assert len(a["volumes"]) == 7
    assert [v["time_start"]["value"] for v in a["volumes"]] == [
        rfc(T0 + timedelta(days=k, hours=6)) for k in range(7)
    ]
    assert (a["time_start"], a["time_end"]) == ("2017-07-10T06:00:00Z", "2017-07-16T10:00:00Z")
    (conflict,) = got["conflicts"]
    assert conflict["rule"] == "overlap"
    assert [(x["time_start"], x["time_end"]) for x in conflict["regions"]] == [
        ("2017-07-12T08:00:00Z", "2017-07-12T10:00:00Z")
    ]
    # B sees the conflict, and of A's plan only that it is a patrol and its whole window
    theirs = c.get(f"/v1/conflicts/{conflict['id']}", headers=api.h("B")).json()
    (patrol,) = [x for x in theirs["activities"] if x["owner"]["name"] == "A"]
    assert patrol["title"] is None and patrol["kind"] == "patrol"
    # read back and exported as the volumes it made, each notified again as it is
    assert len(c.get(f"/v1/activities/{a['id']}", headers=api.h("A")).json()["activity"]["volumes"]) == 7
    features = c.get("/v1/activities/export", headers=api.h("A")).json()["features"]
    assert len(features) == 7
    # the audit log keeps the notification as it was sent: the repeat, not seven volumes
    (entry,) = [e for e in c.get("/v1/audit", headers=api.h("A"), params={"entity_id": a["id"]}).json()
                if e["action"] == "activity.notified"]  # fmt: skip
    assert entry["payload"]["repeat"] == {"every_days": 1, "until": "2017-07-17T00:00:00Z"}
    assert len(entry["payload"]["volumes"]) == 1
    # the patrol ends two days earlier: replaced with a shorter repeat, the convoy's day stays
    shorter = c.put(f"/v1/activities/{a['id']}", headers=api.h("A"), json=_daily("2017-07-15T00:00:00Z"))
    assert shorter.status_code == 200, shorter.text
    assert len(shorter.json()["activity"]["volumes"]) == 5
    assert [x["id"] for x in shorter.json()["conflicts"]] == [conflict["id"]]
    # and then only to the second day: the conflict closes
    two = c.put(f"/v1/activities/{a['id']}", headers=api.h("A"), json=_daily("2017-07-12T00:00:00Z"))
    assert len(two.json()["activity"]["volumes"]) == 2 and two.json()["conflicts"] == []


def test_a_repeated_plan_is_checked_against_the_zones_on_each_day(api: Api) -> None:
    zone_in_force_over_http(api, "B", name="From the 13th", forbidden_kinds=["patrol"],
                            effective_from="2017-07-13T00:00:00Z")  # fmt: skip
    r = api.client.post("/v1/activities/check", headers=api.h("A"), json=_daily("2017-07-15T00:00:00Z"))
    assert r.status_code == 200, r.text
    (found,) = r.json()["conflicts"]
    assert [(x["time_start"], x["time_end"]) for x in found["regions"]] == [
        ("2017-07-13T06:00:00Z", "2017-07-13T10:00:00Z"),
        ("2017-07-14T06:00:00Z", "2017-07-14T10:00:00Z"),
    ]


def test_repeats_refused_name_the_field_and_store_nothing(api: Api) -> None:
    c = api.client
    for repeat, pointer, words in [
        ({"every_days": 1, "until": "2017-11-10T00:00:00Z"}, "/repeat/until", "more than the limit of 100"),
        ({"every_days": 1, "until": "2017-07-09T00:00:00Z"}, "/repeat/until", "after the first volume's start"),
        ({"every_days": 0, "until": "2017-07-17T00:00:00Z"}, "/repeat/every_days", ""),
        ({"every_days": 1}, "/repeat/until", ""),
        ({"every_days": 1, "until": "2017-07-17T00:00:00Z", "count": 2}, "/repeat/count", ""),
    ]:
        r = c.post("/v1/activities", headers=api.h("A"), json=_daily("x", repeat=repeat))
        assert r.status_code == 422 and r.headers["content-type"] == PROBLEM, r.text[:300]
        assert [e["pointer"] for e in r.json()["errors"]] == [pointer], r.text
        assert words in r.text
    long = activity_body(t1=T0 + timedelta(hours=30))
    r = c.post("/v1/activities", headers=api.h("A"),
               json={**long, "repeat": {"every_days": 1, "until": "2017-07-17T00:00:00Z"}})  # fmt: skip
    assert r.status_code == 422 and "longer than the 24 h between occurrences" in r.text
    assert c.get("/v1/activities", headers=api.h("A")).json() == []
