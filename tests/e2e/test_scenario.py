"""The syria-2017 scenario's expected conflicts, stated as data in the scenario file, checked over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient

from truceline.api.app import create_app
from truceline.services import scenario
from truceline.settings import Settings


def test_scenario_conflicts_are_exactly_the_expected_ones(db_url: str) -> None:
    app = create_app(Settings(database_url=db_url))
    ctx = app.state.ctx
    data = scenario.read("syria-2017")
    loaded = scenario.load(ctx.writer_at, ctx.policy, data)
    again = scenario.load(ctx.writer_at, ctx.policy, data)  # idempotent, new tokens
    assert again.activities == loaded.activities and again.zones == loaded.zones
    ref = {v: k for k, v in loaded.activities.items()}
    zref = {v: k for k, v in loaded.zones.items()}
    found: dict[str, dict] = {}
    with TestClient(app) as c:
        for token in again.tokens.values():
            r = c.get("/v1/conflicts", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200
            for x in r.json():
                found[x["id"]] = x
        assert c.get("/v1/conflicts", headers={"Authorization": f"Bearer {loaded.tokens['Iran']}"}).status_code == 401
    got = set()
    for x in found.values():
        acts = tuple(sorted(ref[a["id"]] for a in x["activities"]))
        got.add((x["rule"], acts, zref.get(x["zone"]["id"]) if x["zone"] else None))
    expected = set()
    for e in data["expected"]["conflicts"]:
        acts = tuple(sorted(e["activities"])) if "activities" in e else (e["activity"],)
        expected.add((e["rule"], acts, e.get("zone")))
    assert got == expected
    involved = {a for _, acts, _ in got for a in acts}
    assert not involved & set(data["expected"]["no_conflicts"])
    # Every conflict names its parties and where and when it happens, and a zone's conflict the zone.
    zone_names = {f["properties"]["ref"]: f["properties"]["name"] for f in data["zones"]["features"]}
    for x in found.values():
        assert x["parties"] and x["regions"] and x["reason"]
        if x["zone"]:
            assert x["zone"]["name"] == zone_names[zref[x["zone"]["id"]]]


def test_scenario_zone_statuses_and_southwest_history(db_url: str) -> None:
    app = create_app(Settings(database_url=db_url))
    ctx = app.state.ctx
    loaded = scenario.load(ctx.writer_at, ctx.policy, scenario.read("syria-2017"))
    h = {"Authorization": f"Bearer {loaded.tokens['Kazakhstan']}"}
    with TestClient(app) as c:
        for ref, zid in loaded.zones.items():
            assert c.get(f"/v1/zones/{zid}", headers=h).json()["status"] == loaded.expected_status[ref], ref
        sw = c.get(f"/v1/zones/{loaded.zones['southwest']}/negotiation", headers=h).json()
        assert [r["revision"] for r in sw["revisions"]] == [1, 2]
        assert "Amman" in sw["revisions"][0]["rationale"] and "Al-Suweida" in sw["revisions"][1]["rationale"]
        assert sw["revisions"][0]["created_at"].startswith("2017-06-22")
        finals = [p for p in sw["positions"] if p["position"] == "final"]
        assert {p["party"]["name"] for p in finals} == {"United States", "Russian Federation", "Jordan"}
        declined = {(r["party_name"], r["role"]) for r in sw["zone"]["responsible"] if r["status"] == "declined"}
        assert declined == {("Jordan", "police"), ("Kazakhstan", "monitor")}
        idlib = c.get(f"/v1/zones/{loaded.zones['idlib']}/negotiation", headers=h).json()
        assert idlib["documents_to_finalise"] == 2 and idlib["zone"]["status"] == "negotiating"
        assert any(p["position"] == "objection" for p in idlib["positions"])
        # The audit log tells the story, with the times it happened.
        entries = c.get("/v1/audit?limit=5000", headers=h).json()
        went = [e for e in entries if e["action"] == "zone.status" and e["entity_id"] == loaded.zones["southwest"]]
        assert [(e["payload"]["to"], e["at"][:10]) for e in went][-1] == ("in_force", "2017-07-09")


def test_scenario_traffic_shows_the_expected_tactical_conflicts(db_url: str) -> None:
    from datetime import UTC, datetime

    from tests.conftest import FakeClock
    from truceline.services import tracks

    clock = FakeClock(datetime(2017, 7, 10, 6, 0, tzinfo=UTC))
    app = create_app(Settings(database_url=db_url), clock=clock)
    ctx = app.state.ctx
    data = scenario.read("syria-2017")
    loaded = scenario.load(ctx.writer_at, ctx.policy, data)
    records = scenario.traffic(data)
    assert len({r["callsign"] for r in records}) >= 24 and len({r["party"] for r in records}) >= 5
    first = [r for r in records if r["time"] == records[0]["time"]]
    assert scenario.replay(lambda: ctx.uow(write=True), ctx.tracks, first, clock=clock, speed=1000.0) == len(first)
    tracks.cycle(lambda w: ctx.uow(write=w), ctx.policy, ctx.tracks, ctx.detector)
    zref = {v: k for k, v in loaded.zones.items()}
    with ctx.uow() as u:
        got = {
            (c.rule.value, tuple(sorted(t.callsign for t in c.tracks)), zref.get(c.zone_id or ""))
            for c in u.conflicts.open_tactical()
        }
    want = {(e["rule"], tuple(sorted(e["callsigns"])), e.get("zone")) for e in data["expected"]["tactical"]}
    assert got == want


def test_scenario_incidents_and_the_southwest_ceasefire_day_by_day(db_url: str) -> None:
    app = create_app(Settings(database_url=db_url))
    ctx = app.state.ctx
    data = scenario.read("syria-2017")
    loaded = scenario.load(ctx.writer_at, ctx.policy, data)
    again = scenario.load(ctx.writer_at, ctx.policy, data)
    assert again.incidents == loaded.incidents  # loading twice reports nothing twice
    h = {"Authorization": f"Bearer {again.tokens['United States']}"}
    zref = {v: k for k, v in loaded.zones.items()}
    iref = {v: k for k, v in loaded.incidents.items()}
    with TestClient(app) as c:
        for ref, want in data["expected"]["incidents"].items():
            i = c.get(f"/v1/incidents/{loaded.incidents[ref]}", headers=h).json()
            assert i["status"] == want["status"], ref
            assert sorted(zref[z["zone_id"]] for z in i["zones"]) == want["zones"], ref
            assert [iref[m["id"]] for m in i["merged"]] == want.get("merged", []), ref
        offensive = c.get(f"/v1/incidents/{loaded.incidents['suweida-offensive']}", headers=h).json()
        assert {s["name"] for s in offensive["sources"]} == {"Southern Front field commanders", "DEBKA Weekly"}
        assert [s["step"] for s in offensive["steps"]] == ["review", "merge", "verify"]
        assert offensive["steps"][-1]["at"] == "2017-07-12T09:00:00Z"
        for zone, days in data["expected"]["ceasefire"].items():
            tl = c.get(f"/v1/zones/{loaded.zones[zone]}/ceasefire", headers=h,
                       params={"from": min(days), "to": max(days)}).json()
            assert {d["date"]: d["status"] for d in tl["days"]} == days
        # Idlib never entered into force: no day of it has a status other than not_in_force.
        idlib = c.get(f"/v1/zones/{loaded.zones['idlib']}/ceasefire", headers=h,
                      params={"from": "2017-07-01", "to": "2017-07-15"}).json()
        assert {d["status"] for d in idlib["days"]} == {"not_in_force"}
