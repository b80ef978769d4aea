"""The live feed over a real server on loopback (SSE with Last-Event-ID resume), and webhooks to a
real receiver on loopback that checks every signature and fails twice before succeeding."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from tests.e2e.conftest import Line
from tests.helpers import CAP_NS, activity_body, cap_schema
from truceline.adapters.db import make_engine
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.adapters.webhook_sender import HttpSender
from truceline.api.app import create_app
from truceline.domain.webhooks import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, verify
from truceline.services import parties, webhooks
from truceline.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], dict[str, str]]]:
    """A real uvicorn server in this process, on loopback; returns (url, tokens, party ids)."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'live.db'}", events_poll_seconds=0.5,
                              events_token_check_seconds=0.5,
                              webhook_poll_seconds=3600, hotline_clock_seconds=3600))
    tokens, ids = {}, {}
    for name in ("A", "B"):
        p, tokens[name] = parties.add(app.state.ctx.uow(write=True), name=name, role="officer")
        ids[name] = p.id
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    yield url, tokens, ids
    srv.should_exit = True
    t.join(timeout=10)


def _sse(
    url: str,
    token: str,
    *,
    want: int,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
    quiet_s: float = 1.5,
) -> tuple[list[dict[str, Any]], bool]:
    """Read ``want`` events, then keep listening ``quiet_s`` more: returns the events and whether the
    stream stayed quiet after them (nothing repeated, nothing extra)."""
    got: list[dict[str, Any]] = []
    h = {"Authorization": f"Bearer {token}", **(headers or {})}
    timeout = httpx.Timeout(10.0, read=quiet_s)
    with httpx.stream("GET", f"{url}/v1/events", headers=h, params=params, timeout=timeout) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        ev: dict[str, Any] = {}
        try:
            for line in r.iter_lines():
                if line == "":
                    if "data" in ev:
                        got.append(ev)
                    ev = {}
                    continue
                if line.startswith(":"):
                    continue
                key, _, value = line.partition(": ")
                ev[key] = int(value) if key == "id" else json.loads(value) if key == "data" else value
                if len(got) > want:
                    break
        except httpx.ReadTimeout:
            return got, True
    return got, False


def _send(url: str, token: str, thread_id: str, headline: str) -> None:
    r = httpx.post(f"{url}/v1/threads/{thread_id}/messages", headers={"Authorization": f"Bearer {token}"},
                   json={"headline": headline})
    assert r.status_code == 201, r.text


def test_sse_resume_after_a_dropped_connection_loses_nothing_and_repeats_nothing(server: Any) -> None:
    url, tokens, ids = server
    r = httpx.post(f"{url}/v1/threads", headers={"Authorization": f"Bearer {tokens['A']}"},
                   json={"subject": "line", "parties": [ids["B"]], "message": {"headline": "m1"}})
    tid = r.json()["thread"]["id"]
    _send(url, tokens["A"], tid, "m2")
    first, quiet = _sse(url, tokens["B"], want=2, params={"after": 0})
    assert quiet and [e["id"] for e in first] == [1, 2]
    assert [e["data"]["headline"] for e in first] == ["m1", "m2"] and {e["event"] for e in first} == {"message"}
    # the connection dropped; meanwhile three more messages arrive
    for h in ("m3", "m4", "m5"):
        _send(url, tokens["A"], tid, h)
    again, quiet = _sse(url, tokens["B"], want=3, headers={"Last-Event-ID": str(first[-1]["id"])})
    assert quiet, "events after the resumed ones: something was repeated or invented"
    assert [e["id"] for e in again] == [3, 4, 5] and [e["data"]["headline"] for e in again] == ["m3", "m4", "m5"]
    # an acknowledgement reaches the sender's stream too
    mid = again[0]["data"]["id"]
    ack = httpx.post(f"{url}/v1/messages/{mid}/ack", headers={"Authorization": f"Bearer {tokens['B']}"})
    assert ack.status_code == 200
    acks, _ = _sse(url, tokens["A"], want=1, params={"after": 5})
    assert acks[0]["event"] == "message.acknowledged" and acks[0]["data"]["message"]["id"] == mid


def test_a_stream_resumed_from_before_what_retention_kept_is_told_what_it_missed(
    server: Any, tmp_path: Path
) -> None:
    url, tokens, ids = server
    r = httpx.post(f"{url}/v1/threads", headers={"Authorization": f"Bearer {tokens['A']}"},
                   json={"subject": "line", "parties": [ids["B"]], "message": {"headline": "m1"}})
    tid = r.json()["thread"]["id"]
    for h in ("m2", "m3"):
        _send(url, tokens["A"], tid, h)
    engine = make_engine(f"sqlite:///{tmp_path / 'live.db'}")
    with SqlUnitOfWork(engine, write=True) as u:  # retention takes each feed's two oldest events
        assert u.upkeep.prune_feed(2**62, limit=2) == 4
        u.commit()
    engine.dispose()
    got, quiet = _sse(url, tokens["B"], want=2, params={"after": 0})
    assert quiet and [(e["id"], e["event"]) for e in got] == [(2, "feed.pruned"), (3, "message")]
    assert got[0]["data"]["missed_through"] == 2 and got[1]["data"]["headline"] == "m3"
    again, quiet = _sse(url, tokens["B"], want=1, headers={"Last-Event-ID": "2"})
    assert quiet and [e["id"] for e in again] == [3]
    history = httpx.get(f"{url}/v1/events/history", headers={"Authorization": f"Bearer {tokens['B']}"},
                        params={"after": 1}).json()
    assert [(e["id"], e["type"]) for e in history] == [(2, "feed.pruned"), (3, "message")]


def test_a_stream_ends_when_its_token_is_revoked(server: Any) -> None:
    url, tokens, _ = server
    b = {"Authorization": f"Bearer {tokens['B']}"}
    desk = httpx.post(f"{url}/v1/parties/me/tokens", headers=b, json={"label": "night desk"}).json()
    box: dict[str, Any] = {}

    def listen() -> None:
        started = time.monotonic()
        box["events"], box["quiet"] = _sse(url, desk["token"], want=1, quiet_s=20.0)
        box["after_s"] = time.monotonic() - started

    t = threading.Thread(target=listen)
    t.start()
    time.sleep(1.0)
    assert t.is_alive()  # the stream is open
    revoked = time.monotonic()
    assert httpx.post(f"{url}/v1/parties/me/tokens/{desk['id']}/revoke", headers=b).status_code == 200
    t.join(timeout=10)
    assert not t.is_alive() and box["events"] == [] and not box["quiet"]  # it ended, not timed out
    assert time.monotonic() - revoked < 5
    again = httpx.get(f"{url}/v1/events", headers={"Authorization": f"Bearer {desk['token']}"})
    assert again.status_code == 401 and "revoked" in again.json()["detail"]


def test_a_live_stream_gets_new_events_as_they_happen(server: Any) -> None:
    url, tokens, ids = server
    r = httpx.post(f"{url}/v1/threads", headers={"Authorization": f"Bearer {tokens['A']}"},
                   json={"subject": "line", "parties": [ids["B"]]})
    tid = r.json()["thread"]["id"]
    box: dict[str, Any] = {}

    def listen() -> None:
        box["events"], box["quiet"] = _sse(url, tokens["B"], want=1, quiet_s=3.0)  # from "now"

    t = threading.Thread(target=listen)
    t.start()
    time.sleep(0.5)
    sent = time.monotonic()
    _send(url, tokens["A"], tid, "live one")
    t.join(timeout=15)
    assert [e["data"]["headline"] for e in box["events"]] == ["live one"] and box["quiet"]
    assert time.monotonic() - sent < 10


# --- webhooks ---------------------------------------------------------------------------------------


class Receiver:
    """An endpoint on loopback: checks each delivery's signature; fails the first ``fail`` deliveries."""

    def __init__(self, fail: int = 0, status: int = 500) -> None:
        self.secret = ""
        self.fail = fail
        self.status = status
        self.received: list[tuple[bool, str, dict[str, Any]]] = []  # (signature ok, delivery id, body)
        self.xml: list[tuple[bool, str, str]] = []  # a CAP webhook's: (signature ok, event type, body)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = verify(outer.secret, self.headers[SIGNATURE_HEADER], body, now=int(time.time()))
                if self.headers["Content-Type"] == "application/cap+xml":
                    outer.xml.append((ok, self.headers[EVENT_HEADER], body.decode()))
                else:
                    outer.received.append((ok, self.headers[DELIVERY_HEADER], json.loads(body)))
                code = outer.status if len(outer.received) + len(outer.xml) <= outer.fail else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok" if code == 200 else b"try later")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _dispatch(line: Line, timeout_s: float = 5.0) -> int:
    return webhooks.dispatch_due(lambda: line.ctx.uow(write=True), HttpSender(timeout_s=timeout_s),
                                 line.ctx.policy.webhooks)


def test_webhook_retries_with_backoff_until_the_endpoint_succeeds_then_replays(line: Line) -> None:
    rx = Receiver(fail=2)
    try:
        c = line.client
        r = c.post("/v1/webhooks", headers=line.h("B"), json={"url": rx.url, "event_types": ["message"]})
        assert r.status_code == 201, r.text
        hook = r.json()
        rx.secret = hook["secret"]
        assert hook["secret"].startswith("whsec_")
        assert "secret" not in c.get("/v1/webhooks", headers=line.h("B")).json()[0]  # shown once
        c.post("/v1/threads", headers=line.h("A"),
               json={"subject": "x", "parties": [line.ids["B"]], "message": {"headline": "convoy at 06:00"}})
        assert _dispatch(line) == 1  # attempt 1: 500
        assert _dispatch(line) == 0  # backing off: nothing due yet
        line.clock.now += timedelta(seconds=2)
        assert _dispatch(line) == 1  # attempt 2 (after 2 s): 500
        line.clock.now += timedelta(seconds=3)
        assert _dispatch(line) == 0  # the next wait is 4 s
        line.clock.now += timedelta(seconds=1)
        assert _dispatch(line) == 1  # attempt 3: 200
        line.clock.now += timedelta(hours=1)
        assert _dispatch(line) == 0  # delivered: never again
        assert [ok for ok, *_ in rx.received] == [True, True, True]
        assert len({d for _, d, _ in rx.received}) == 1  # the same delivery each time (idempotency key)
        body = rx.received[-1][2]
        assert body["type"] == "message" and body["id"] == 1 and body["data"]["headline"] == "convoy at 06:00"
        (d,) = c.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=line.h("B")).json()
        assert d["status"] == "delivered" and d["attempts"] == 3 and d["last_status_code"] == 200
        actions = [a for a in line.audit_actions() if a.startswith("webhook.")]
        assert actions == ["webhook.registered", "webhook.retrying", "webhook.retrying", "webhook.delivered"]
        # replay: a new delivery of the same event, the original kept as it was
        r = c.post(f"/v1/webhooks/{hook['id']}/deliveries/{d['id']}/replay", headers=line.h("B"))
        assert r.status_code == 201 and r.json()["replay_of"] == d["id"] and r.json()["status"] == "pending"
        assert _dispatch(line) == 1
        assert len(rx.received) == 4 and rx.received[-1][2] == body and rx.received[-1][0]
        log = c.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=line.h("B")).json()
        assert [x["status"] for x in log] == ["delivered", "delivered"]
        # another party cannot see or replay B's webhooks
        assert c.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=line.h("A")).status_code == 404
        assert c.post(f"/v1/webhooks/{hook['id']}/deliveries/{d['id']}/replay", headers=line.h("A")).status_code == 404
    finally:
        rx.close()


def test_a_failing_or_slow_endpoint_blocks_nothing_else(line: Line) -> None:
    good, bad = Receiver(), Receiver(fail=10**6, status=503)
    dead = f"http://127.0.0.1:{_free_port()}/nobody-listens"
    try:
        c = line.client
        for who, url in (("B", good.url), ("B", bad.url), ("B", dead)):
            hook = c.post("/v1/webhooks", headers=line.h(who), json={"url": url}).json()
            if url == good.url:
                good.secret = hook["secret"]
        started = time.monotonic()
        r = c.post("/v1/threads", headers=line.h("A"),
                   json={"subject": "x", "parties": [line.ids["B"]], "message": {"headline": "h"}})
        assert r.status_code == 201 and time.monotonic() - started < 5  # nothing is sent in the request
        assert _dispatch(line, timeout_s=2.0) == 3
        assert [ok for ok, *_ in good.received] == [True]
        hooks = {h["url"]: h for h in c.get("/v1/webhooks", headers=line.h("B")).json()}
        assert hooks[good.url]["deliveries"] == {"delivered": 1}
        assert hooks[bad.url]["deliveries"] == {"pending": 1} and hooks[dead]["deliveries"] == {"pending": 1}
        # after the last attempt it gives up (and can still be replayed by hand)
        for _ in range(line.ctx.policy.webhooks.max_attempts):
            line.clock.now += timedelta(hours=2)
            _dispatch(line, timeout_s=2.0)
        hooks = {h["url"]: h for h in c.get("/v1/webhooks", headers=line.h("B")).json()}
        assert hooks[bad.url]["deliveries"] == {"failed": 1} and hooks[dead]["deliveries"] == {"failed": 1}
        (d,) = c.get(f"/v1/webhooks/{hooks[dead]['id']}/deliveries", headers=line.h("B")).json()
        assert d["attempts"] == line.ctx.policy.webhooks.max_attempts and "Connect" in d["last_error"]
        # removing a webhook stops deliveries; its log stays
        assert c.delete(f"/v1/webhooks/{hooks[bad.url]['id']}", headers=line.h("B")).status_code == 204
        c.post(f"/v1/threads/{r.json()['thread']['id']}/messages", headers=line.h("A"), json={"headline": "again"})
        assert _dispatch(line, timeout_s=2.0) == 2  # the good one and the dead one, not the removed one
    finally:
        good.close()
        bad.close()


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"url": "ftp://example.org/x"}, "/url"),
        ({"url": "https://user:pw@example.org/"}, "/url"),
        ({"url": "https://example.org/", "event_types": ["everything"]}, "/event_types/0"),
        ({"url": "https://example.org/", "extra": 1}, "/extra"),
    ],
)
def test_bad_webhook_registrations_are_refused(line: Line, body: dict[str, Any], pointer: str) -> None:
    r = line.client.post("/v1/webhooks", headers=line.h("B"), json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == pointer
    assert line.client.get("/v1/webhooks", headers=line.h("B")).json() == []


def test_a_cap_webhook_gets_each_hotline_message_as_a_signed_cap_alert(line: Line) -> None:
    """An alerting system that takes CAP subscribes once: each message to its party (a conflict's
    Alert, the other side's acknowledgement) arrives as a CAP 1.2 alert, signed like any delivery."""
    from xml.etree import ElementTree as ET

    rx = Receiver()
    try:
        c = line.client
        bad = c.post("/v1/webhooks", headers=line.h("B"),
                     json={"url": rx.url, "format": "cap", "event_types": ["message", "zone.status"]})  # fmt: skip
        assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/event_types/1"
        assert "a CAP webhook takes hotline messages" in bad.json()["errors"][0]["detail"]
        r = c.post("/v1/webhooks", headers=line.h("B"), json={"url": rx.url, "format": "cap"})
        assert r.status_code == 201, r.text
        hook = r.json()
        rx.secret = hook["secret"]
        assert hook["format"] == "cap" and hook["event_types"] == sorted(
            ["message", "message.overdue", "message.escalated", "message.acknowledged"])  # fmt: skip
        c.post("/v1/activities", headers=line.h("A"), json=activity_body(title="A's patrol"))
        c.post("/v1/activities", headers=line.h("B"), json=activity_body(kind="patrol", lng=36.51))
        (alert,) = line.inbox("A")
        assert c.post(f"/v1/messages/{alert['id']}/ack", headers=line.h("A"), json={"note": "seen"}).status_code == 200
        while _dispatch(line):
            pass
        got = {event: (ok, x) for ok, event, x in rx.xml}  # sent side by side: in either order
        assert sorted(got) == ["message", "message.acknowledged"] and all(ok for ok, _ in got.values())
        assert rx.received == []  # nothing as JSON
        first, acked = (ET.fromstring(got[e][1]) for e in ("message", "message.acknowledged"))
        for _, _, x in rx.xml:
            cap_schema().validate(x)
        assert first.findtext("cap:identifier", namespaces=CAP_NS) == alert["id"]
        assert first.findtext("cap:info/cap:event", namespaces=CAP_NS) == "Deconfliction conflict (overlap)"
        assert acked.findtext("cap:msgType", namespaces=CAP_NS) == "Ack"
        assert (acked.findtext("cap:references", namespaces=CAP_NS) or "").split(",")[1] == alert["id"]
        # the delivery log keeps the feed events they came from
        log = c.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=line.h("B")).json()
        assert {d["event_type"] for d in log} == {"message", "message.acknowledged"}
        assert {d["status"] for d in log} == {"delivered"}
    finally:
        rx.close()
