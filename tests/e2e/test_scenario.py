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
    loaded = scenario.load(lambda: ctx.uow(write=True), ctx.policy, data)
    again = scenario.load(lambda: ctx.uow(write=True), ctx.policy, data)  # idempotent, new tokens
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
    # Every conflict names its parties and where and when it happens.
    for x in found.values():
        assert x["parties"] and x["regions"] and x["reason"]
