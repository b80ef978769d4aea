"""Where the busiest routes do their database work: on the event loop with SQLite (a hand-off to the
thread pool costs more than a short transaction), on the pool with PostgreSQL, or as the setting says.
The token look-up runs on the loop whatever the database and setting: one SELECT by key, cheaper
than the hand-off."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import activity_body, zone_body
from truceline.api.app import create_app
from truceline.services import activities, parties
from truceline.settings import Settings


def _on_a_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.mark.parametrize("setting", [None, True, False])
def test_notify_and_authentication_run_where_the_setting_and_database_say(
    db_url: str, setting: bool | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(Settings(database_url=db_url, db_work_on_loop=setting))
    ctx = app.state.ctx
    expected = db_url.startswith("sqlite") if setting is None else setting
    assert ctx.on_loop is expected
    _, token = parties.add(ctx.uow(write=True), name="A", role="officer")

    seen: dict[str, bool] = {}
    notify, authenticate = activities.notify, parties.admit

    def notify_spy(*args: Any, **kwargs: Any) -> Any:
        seen["notify"] = _on_a_loop()
        return notify(*args, **kwargs)

    def authenticate_spy(*args: Any, **kwargs: Any) -> Any:
        seen["authenticate"] = _on_a_loop()
        return authenticate(*args, **kwargs)

    monkeypatch.setattr(activities, "notify", notify_spy)
    monkeypatch.setattr(parties, "admit", authenticate_spy)
    with TestClient(app) as client:
        r = client.post("/v1/activities", json=activity_body(), headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201, r.text
        assert r.json()["activity"]["title"]
        got = client.get(f"/v1/activities/{r.json()['activity']['id']}", headers={"Authorization": f"Bearer {token}"})
        assert got.status_code == 200, got.text
    assert seen == {"notify": expected, "authenticate": True}


def test_each_request_looks_its_caller_up_once(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Routes that take the caller and a writer, or a writer alone, or the caller alone: one token
    look-up each, and a bad token is refused before anything is written."""
    app = create_app(Settings(database_url=db_url))
    ctx = app.state.ctx
    _, token = parties.add(ctx.uow(write=True), name="A", role="officer")
    calls: list[str | None] = []
    admit = parties.admit

    def admit_spy(uow: Any, bearer: str | None, **kw: Any) -> Any:
        calls.append(bearer)
        return admit(uow, bearer, **kw)

    monkeypatch.setattr(parties, "admit", admit_spy)
    h = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        made = client.post("/v1/zones", json=zone_body(), headers=h)  # caller and writer
        assert made.status_code == 201, made.text
        assert calls == [token]
        notified = client.post("/v1/activities", json=activity_body(), headers=h)  # the writer alone
        assert notified.status_code == 201, notified.text
        assert calls == [token] * 2
        listed = client.get("/v1/activities", headers=h)  # the caller alone
        assert [a["id"] for a in listed.json()] == [notified.json()["activity"]["id"]]
        assert calls == [token] * 3
        refused = client.post("/v1/activities", json=activity_body(), headers={"Authorization": "Bearer nope"})
        assert refused.status_code == 401, refused.text
        assert calls == [token] * 3 + ["nope"]
        assert len(client.get("/v1/activities", headers=h).json()) == 1
