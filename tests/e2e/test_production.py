"""Several server processes on one database: racing notifications, live events across processes,
concurrent zone revisions, crashes under write load, graceful shutdown, metrics and JSON logs."""

from __future__ import annotations

import json
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.e2e.demo_server import server, start_server
from tests.helpers import activity_body, square, zone_body
from truceline.adapters import tables as t
from truceline.adapters.db import make_engine
from truceline.adapters.migrate import upgrade
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.services import audit, parties


def _tokens(db: str, *names: str) -> dict[str, str]:
    engine = make_engine(db)
    upgrade(engine)
    tokens = {n: parties.add(SqlUnitOfWork(engine, write=True), name=n, role="officer")[1] for n in names}
    engine.dispose()
    return tokens


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


ROUNDS = 300


def test_racing_notifications_through_two_processes_always_see_each_other(pg_url: str, tmp_path: Path) -> None:
    """A and B notify overlapping plans at the same instant, each through its own server process.
    Whoever commits second is told at once; both parties find the conflict afterwards. Every round."""
    tok = _tokens(pg_url, "A", "B")
    with server(pg_url, tmp_path) as one, server(pg_url, tmp_path) as two:
        clients = {"A": _client(one, tok["A"]), "B": _client(two, tok["B"])}
        barrier = threading.Barrier(2)
        for i in range(ROUNDS):
            body = activity_body(lng=-170.0 + i * 0.5, lat=10.0)  # a fresh, empty place each round
            got: dict[str, httpx.Response] = {}

            def go(name: str, body: dict[str, Any] = body, got: dict[str, httpx.Response] = got) -> None:
                barrier.wait(timeout=30)
                got[name] = clients[name].post("/v1/activities", json=body)

            threads = [threading.Thread(target=go, args=(n,)) for n in clients]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            assert [got[n].status_code for n in clients] == [201, 201], [got[n].text for n in clients]
            told = [c for n in clients for c in got[n].json()["conflicts"]]
            assert len(told) == 1, f"round {i}: {len(told)} conflicts reported"
            assert told[0]["rule"] == "overlap"
        for c in clients.values():
            seen = c.get("/v1/conflicts", params={"rule": "overlap", "limit": 1000}).json()
            assert len(seen) == ROUNDS


def _read_events(url: str, token: str, out: list[tuple[float, dict[str, Any]]], ready: threading.Event) -> None:
    with (
        _client(url, token) as c,
        c.stream("GET", "/v1/events", headers={"Accept": "text/event-stream"}, timeout=60) as r,
    ):
        for line in r.iter_lines():
            if line.startswith("retry:"):
                ready.set()
            if line.startswith("data:"):
                out.append((time.monotonic(), json.loads(line[5:])))
                return


def test_a_live_stream_on_one_process_hears_a_commit_on_another_at_once(pg_url: str, tmp_path: Path) -> None:
    """Streams poll the feed only every 30 s here: the event arrives through NOTIFY, not the poll."""
    tok = _tokens(pg_url, "A", "B")
    slow_poll = {"TRUCELINE_EVENTS_POLL_SECONDS": "30"}
    with server(pg_url, tmp_path, env=slow_poll) as one, server(pg_url, tmp_path, env=slow_poll) as two:
        assert _client(one, tok["B"]).post("/v1/activities", json=activity_body()).status_code == 201
        events: list[tuple[float, dict[str, Any]]] = []
        ready = threading.Event()
        reader = threading.Thread(target=_read_events, args=(one, tok["B"], events, ready), daemon=True)
        reader.start()
        assert ready.wait(20)
        time.sleep(0.3)  # the stream has read the feed once and waits
        sent = time.monotonic()
        r = _client(two, tok["A"]).post("/v1/activities", json=activity_body())
        assert r.status_code == 201 and len(r.json()["conflicts"]) == 1
        reader.join(timeout=25)
        assert events, "no event reached the other process's stream"
        at, payload = events[0]
        assert at - sent < 10, "the event came with the poll, not the notification"
        assert payload["conflict_id"] == r.json()["conflicts"][0]["id"]  # the Alert the conflict opened


def test_concurrent_zone_revisions_one_wins_the_others_get_409(pg_url: str, tmp_path: Path) -> None:
    tok = _tokens(pg_url, "A")
    with server(pg_url, tmp_path, workers=2) as url:
        c = _client(url, tok["A"])
        zone = c.post("/v1/zones", json=zone_body()).json()["zone"]
        r = c.get(f"/v1/zones/{zone['id']}")
        assert r.headers["etag"] == '"1"'
        barrier = threading.Barrier(8)
        results: list[httpx.Response] = []

        def revise(k: int) -> None:
            body = {"geometry": square(36.5, 32.8, 0.1 + k * 0.01), "rationale": f"draft {k}"}
            barrier.wait(timeout=30)
            results.append(_client(url, tok["A"]).patch(f"/v1/zones/{zone['id']}", json=body,
                                                        headers={"If-Match": '"1"'}))  # fmt: skip

        threads = [threading.Thread(target=revise, args=(k,)) for k in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        codes = sorted(r.status_code for r in results)
        assert codes == [200] + [409] * 7, [r.text for r in results]
        for lost in (r for r in results if r.status_code == 409):
            problem = lost.json()
            assert lost.headers["content-type"].startswith("application/problem+json")
            assert problem["current_revision"] == 2
        won = next(r for r in results if r.status_code == 200)
        assert won.headers["etag"] == '"2"'
        assert len(c.get(f"/v1/zones/{zone['id']}/revisions").json()) == 2
        # a stale version in the body is refused the same way; a malformed If-Match names the header
        stale = c.patch(f"/v1/zones/{zone['id']}", json={"revision": 1, "name": "x"})
        assert stale.status_code == 409 and stale.json()["current_revision"] == 2
        bad = c.patch(f"/v1/zones/{zone['id']}", json={"name": "x"}, headers={"If-Match": "yesterday"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/headers/If-Match"
        assert c.get(f"/v1/zones/{zone['id']}").json()["name"] == zone["name"]


def _writer(url: str, token: str, acked: list[str], stop: threading.Event, seed: int) -> None:
    rnd = random.Random(seed)
    with _client(url, token) as c:
        while not stop.is_set():
            body = activity_body(lng=rnd.uniform(35.5, 37.5), lat=rnd.uniform(32.5, 34.5), radius=3000.0)
            try:
                r = c.post("/v1/activities", json=body, timeout=5)
            except httpx.HTTPError:
                time.sleep(0.05)  # the server is down: try again until it is back
                continue
            assert r.status_code < 500, r.text
            if r.status_code == 201:
                acked.append(r.json()["activity"]["id"])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_sigkill_during_write_load_loses_no_acknowledged_write(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = f"sqlite:///{tmp_path / 'crash.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    tok = _tokens(db, "A", "B")
    url, proc = start_server(db, tmp_path)
    port = int(url.rsplit(":", 1)[1])
    acked: list[str] = []
    stop = threading.Event()
    writers = [threading.Thread(target=_writer, args=(url, tok[n], acked, stop, i)) for i, n in enumerate("AB" * 2)]
    for w in writers:
        w.start()
    rnd = random.Random(7)
    try:
        for _ in range(5):
            time.sleep(rnd.uniform(0.5, 1.5))
            before = len(acked)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            assert len(acked) >= before
            url, proc = start_server(db, tmp_path, port=port)
        time.sleep(0.5)
    finally:
        stop.set()
        for w in writers:
            w.join(timeout=30)
        proc.terminate()
        proc.wait(timeout=30)
    assert len(acked) > 20
    engine = make_engine(db)
    with engine.connect() as conn:
        stored = set(conn.execute(select(t.activities.c.id)).scalars())
        with_volumes = set(conn.execute(select(t.activity_volumes.c.activity_id)).scalars())
        indexed = set(conn.execute(select(t.volume_cells.c.activity_id)).scalars())
        audited = set(
            conn.execute(select(t.audit_log.c.entity_id).where(t.audit_log.c.action == "activity.notified")).scalars()
        )
        linked = set(conn.execute(select(t.conflict_activities.c.activity_id)).scalars())
        conflicts = conn.execute(select(func.count()).select_from(t.conflicts)).scalar()
    missing = set(acked) - stored
    assert not missing, f"{len(missing)} acknowledged writes are gone"
    # nothing half-applied: every stored activity has its volumes, its index rows and its audit entry
    assert stored == with_volumes == indexed == audited
    assert linked <= stored
    assert conflicts and conflicts > 0
    v = audit.verify(SqlUnitOfWork(engine))
    assert v.problem is None and v.entries > len(stored)
    engine.dispose()


def test_graceful_shutdown_finishes_the_request_in_flight(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'stop.db'}"
    tok = _tokens(db, "A")
    url, proc = start_server(db, tmp_path)
    port = int(url.rsplit(":", 1)[1])
    body = json.dumps(activity_body()).encode()
    head = (
        f"POST /v1/activities HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {tok['A']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head + body[:20])  # the request is in flight: half its body has arrived
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        with pytest.raises(httpx.HTTPError):  # no new connections while stopping
            httpx.get(f"{url}/healthz", timeout=2)
        s.sendall(body[20:])
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
    # uvicorn ends by re-raising SIGTERM, as a process stopped by it should, once everything has closed
    assert proc.wait(timeout=30) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in (tmp_path / f"server-{port}.log").read_text()
    activity_id = json.loads(answer.split(b"\r\n\r\n", 1)[1])["activity"]["id"]
    with server(db, tmp_path) as again:
        assert _client(again, tok["A"]).get(f"/v1/activities/{activity_id}").status_code == 200


@pytest.mark.parametrize("workers", [1, 2])
def test_a_shutdown_ends_live_streams_at_once_and_they_resume_on_the_next_server(
    pg_url: str, tmp_path: Path, workers: int
) -> None:
    """Open live feeds (every web map holds one) do not hold a graceful shutdown for its whole grace:
    they end as it begins, and their clients resume from the next server with nothing lost."""
    tok = _tokens(pg_url, "A", "B")
    grace = {"TRUCELINE_GRACEFUL_SHUTDOWN_SECONDS": "120"}
    url, proc = start_server(pg_url, tmp_path, workers=workers, env=grace)
    port = int(url.rsplit(":", 1)[1])
    ended: list[int] = []

    def listen() -> None:
        with _client(url, tok["B"]) as c, c.stream("GET", "/v1/events", params={"after": 0}, timeout=200) as r:
            lines = list(r.iter_lines())  # to the end of the stream
        ended.append(sum(1 for x in lines if x.startswith("id:")))

    try:
        readers = [threading.Thread(target=listen, daemon=True) for _ in range(4)]
        for th in readers:
            th.start()
        assert _client(url, tok["A"]).post("/v1/activities", json=activity_body()).status_code == 201
        assert _client(url, tok["B"]).post("/v1/activities", json=activity_body()).status_code == 201
        time.sleep(1.5)  # the streams have sent B's Alert
        proc.send_signal(signal.SIGTERM)
        # well within the 120 s of grace: nothing is left in flight once the streams have ended
        assert proc.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
    for th in readers:
        th.join(timeout=5)
    assert ended == [1, 1, 1, 1]
    # the next server on the same port: a client resuming after the last event it saw gets what came since
    url, proc = start_server(pg_url, tmp_path, port=port)
    try:
        assert _client(url, tok["A"]).post("/v1/activities", json=activity_body()).status_code == 201
        with _client(url, tok["B"]) as c, c.stream("GET", "/v1/events", headers={"Last-Event-ID": "1"}) as r:
            ids = []
            for line in r.iter_lines():
                if line.startswith("id:"):
                    ids.append(int(line[3:]))
                    break
        assert ids == [2]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            head, value = line.rsplit(" ", 1)
            if head.split("{")[0] == name:
                total += float(value)
    return total


def test_metrics_across_workers_and_json_logs_with_request_ids(pg_url: str, tmp_path: Path) -> None:
    tok = _tokens(pg_url, "A", "B")
    with server(pg_url, tmp_path, workers=2, args=("--log-json",)) as url:
        a, b = _client(url, tok["A"]), _client(url, tok["B"])
        for _ in range(6):
            assert a.post("/v1/activities", json=activity_body()).status_code == 201
        r = b.post("/v1/activities", json=activity_body(), headers={"X-Request-ID": "trace-me-42"})
        assert r.status_code == 201 and len(r.json()["conflicts"]) == 6
        assert r.headers["x-request-id"] == "trace-me-42"
        assert len(a.get("/healthz").headers["x-request-id"]) == 32  # one is made when none is given
        # several requests, so both workers answer some; any worker's /metrics counts them all
        text = ""
        for _ in range(4):
            text = httpx.get(f"{url}/metrics").text
            assert _metric(text, "truceline_activities_notified_total") == 7
        assert _metric(text, "truceline_conflicts_found_total", rule="overlap") == 6
        assert _metric(text, "truceline_http_request_duration_seconds_count", route="/v1/activities",
                       method="POST", status="201") == 7  # fmt: skip
        assert _metric(text, "truceline_http_request_duration_seconds_bucket", route="/v1/activities", le="+Inf") == 7
        assert _metric(text, "truceline_conflicts_open", rule="overlap") == 6
        assert _metric(text, "truceline_hotline_receipts", state="awaiting") >= 6
    logged = [x for f in tmp_path.glob("server-*.log") for x in f.read_text().splitlines() if x.strip()]
    lines = [json.loads(x) for x in logged if x.startswith("{")]
    mine = [x for x in lines if x.get("request_id") == "trace-me-42"]
    assert mine and mine[-1]["path"] == "/v1/activities" and mine[-1]["status"] == 201
    assert (mine[-1]["party"], mine[-1]["token"]) == ("B", "first token")  # who, and with which of its tokens
    assert {"time", "level", "logger", "message"} <= set(mine[-1])
    assert all(x.startswith("{") for x in logged), "every log line is JSON"


def test_metrics_can_require_their_own_token(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from truceline.api.app import create_app
    from truceline.settings import Settings

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}", metrics_token="s3cret",
                              audit_key_file=tmp_path / "k"))  # fmt: skip
    with TestClient(app) as c:
        refused = c.get("/metrics")
        assert refused.status_code == 401 and "TRUCELINE_METRICS_TOKEN" in refused.json()["detail"]
        assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = c.get("/metrics", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and "truceline_http_request_duration_seconds" in ok.text
        assert ok.headers["content-type"].startswith("text/plain")


def test_start_up_puts_long_lived_objects_out_of_the_collectors_reach(tmp_path: Path) -> None:
    # In a fresh interpreter, so no earlier app in this process has done it already.
    script = f"""
import gc, json
from fastapi.testclient import TestClient
from truceline.api.app import create_app
from truceline.settings import Settings
app = create_app(Settings(database_url="sqlite:///{tmp_path / 'heap.db'}", audit_key_file="{tmp_path / 'k'}"))
before = gc.get_freeze_count()
with TestClient(app) as client:
    health = client.get("/healthz").status_code
    print(json.dumps({{"before": before, "after": gc.get_freeze_count(), "health": health}}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["before"] == 0
    assert seen["after"] > 10_000  # modules, the app and its caches: a full collection no longer walks them
    assert seen["health"] == 200


def test_a_tokens_last_use_names_the_client_behind_the_proxies_it_is_told_to_trust(tmp_path: Path) -> None:
    """Behind nginx, X-Forwarded-For names the client; from anyone else it is not believed. The
    default trusts this machine only; ``TRUCELINE_FORWARDED_ALLOW_IPS`` names the proxies."""
    db = f"sqlite:///{tmp_path / 'fwd.db'}"
    tok = _tokens(db, "A")["A"]

    def last_use(env: dict[str, str]) -> str:
        url, proc = start_server(db, tmp_path, env=env)
        try:
            with _client(url, tok) as c:
                desk = c.post("/v1/parties/me/tokens", json={"label": f"desk {len(env)}"}).json()["token"]
                assert c.get("/v1/me", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 200
            with _client(url, desk) as d:  # another token lists them: its own use is not the first's
                (first,) = [x for x in d.get("/v1/parties/me/tokens").json() if x["label"] == "first token"]
                return str(first["last_used_from"])
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    assert last_use({}) == "203.0.113.9"  # from nginx on this machine
    assert last_use({"TRUCELINE_FORWARDED_ALLOW_IPS": "10.0.0.0/24"}) == "127.0.0.1"  # not from a trusted proxy
