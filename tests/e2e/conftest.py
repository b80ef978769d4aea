from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import FakeClock
from truceline.api.app import create_app
from truceline.api.deps import AppContext
from truceline.services import audit, hotline, parties
from truceline.settings import Settings


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    app = create_app(Settings(database_url=db_url))
    ctx = app.state.ctx
    tokens = {}
    for name, role in [("A", "officer"), ("B", "officer"), ("Obs", "observer"), ("Mon", "monitor"), ("Admin", "admin")]:
        _, tokens[name] = parties.add(ctx.uow(write=True), name=name, role=role)
    with TestClient(app) as client:
        yield Api(client, tokens)


# --- the hotline: more parties, a fake clock, and the scheduler driven by the test ------------------
NAMES = [("A", "officer"), ("B", "officer"), ("Obs", "observer"), ("Mon", "monitor"), ("HQ", "officer"),
         ("JC", "officer"), ("Admin", "admin")]


@dataclass
class Line:
    client: TestClient
    ctx: AppContext
    clock: FakeClock
    tokens: dict[str, str]
    ids: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def escalate(self) -> int:
        return hotline.escalate_due(self.ctx.uow(write=True), self.ctx.policy.hotline)

    def inbox(self, who: str, state: str = "unacknowledged") -> list[dict[str, Any]]:
        r = self.client.get("/v1/inbox", headers=self.h(who), params={"state": state})
        assert r.status_code == 200, r.text
        return list(r.json())

    def events(self, who: str, after: int = 0) -> list[dict[str, Any]]:
        r = self.client.get("/v1/events/history", headers=self.h(who), params={"after": after})
        assert r.status_code == 200, r.text
        return list(r.json())

    def audit_actions(self) -> list[str]:
        return [e.entry.body.action for e in audit.entries(self.ctx.uow(), parties_admin(self.ctx, self.ids)).entries]


def parties_admin(ctx: AppContext, ids: dict[str, str]) -> Any:
    with ctx.uow() as u:
        return u.parties.get(ids["Admin"])


def quiet_settings(db_url: str, **kw: Any) -> Settings:
    """Background jobs far apart: tests drive the scheduler themselves, on a fake clock."""
    apart = dict(hotline_clock_seconds=3600, webhook_poll_seconds=3600, zone_clock_seconds=3600,
                 token_use_seconds=3600, reminder_clock_seconds=3600)
    return Settings(database_url=db_url, **(apart | kw))


@pytest.fixture
def line(db_url: str) -> Iterator[Line]:
    clock = FakeClock(datetime(2017, 7, 9, 12, tzinfo=UTC))
    app = create_app(quiet_settings(db_url), clock=clock)
    ctx = app.state.ctx
    tokens, ids = {}, {}
    for name, role in NAMES:
        p, tokens[name] = parties.add(ctx.uow(write=True), name=name, role=role)
        ids[name] = p.id
    with TestClient(app) as client:
        yield Line(client, ctx, clock, tokens, ids)


