"""The server's own jobs: it signs the audit head on a schedule and moves zones into force when their
time comes, without anyone asking."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import FakeClock
from tests.helpers import zone_body
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.api.app import create_app
from truceline.services import parties
from truceline.settings import Settings


def _wait_for(check: object, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_head_is_signed_and_zones_enter_force_on_schedule(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2017, 7, 8, tzinfo=UTC))
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'bg.db'}", audit_head_seconds=0.1,
                        zone_clock_seconds=0.1)
    app = create_app(settings, clock=clock)
    ctx = app.state.ctx
    _, token = parties.add(ctx.uow(write=True), name="US", role="officer")
    h = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as c:
        z = c.post("/v1/zones", headers=h, json=zone_body(effective_from="2017-07-09T09:00:00Z")).json()["zone"]
        r = c.post(f"/v1/zones/{z['id']}/signoffs", headers=h, json={"revision": 1, "strength": "final"}).json()
        assert r["zone"]["status"] == "agreed_in_principle"  # signed, but not yet its time

        def signed_up_to_head() -> bool:
            with SqlUnitOfWork(ctx.engine) as u:
                latest = u.audit.latest_signed_head()
                return latest is not None and latest.seq == u.audit.head().seq

        assert _wait_for(signed_up_to_head)
        clock.now = datetime(2017, 7, 9, 9, tzinfo=UTC)
        assert _wait_for(lambda: c.get(f"/v1/zones/{z['id']}", headers=h).json()["status"] == "in_force")


def test_overdue_messages_escalate_and_webhooks_go_out_on_their_own(tmp_path: Path) -> None:
    from tests.e2e.test_live import Receiver

    clock = FakeClock(datetime(2017, 7, 9, 12, tzinfo=UTC))
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'bg.db'}", hotline_clock_seconds=0.1,
                        webhook_poll_seconds=0.1)
    app = create_app(settings, clock=clock)
    ctx = app.state.ctx
    (_, ta), (b, tb) = (parties.add(ctx.uow(write=True), name=n, role="officer") for n in ("A", "B"))
    rx = Receiver()
    try:
        with TestClient(app) as c:
            hook = c.post("/v1/webhooks", headers={"Authorization": f"Bearer {tb}"}, json={"url": rx.url}).json()
            rx.secret = hook["secret"]
            c.post("/v1/threads", headers={"Authorization": f"Bearer {ta}"},
                   json={"subject": "s", "parties": [b.id], "message": {"headline": "h", "ack_within_s": 30}})
            assert _wait_for(lambda: len(rx.received) == 1)
            clock.now += timedelta(seconds=31)

            def overdue() -> bool:
                s = c.get("/v1/inbox/summary", headers={"Authorization": f"Bearer {tb}"}).json()
                return bool(s["overdue"] == 1)

            assert _wait_for(overdue)
            assert _wait_for(lambda: [x[2]["type"] for x in rx.received] == ["message", "message.overdue"])
            assert all(ok for ok, *_ in rx.received)
    finally:
        rx.close()
