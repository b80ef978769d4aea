"""``serve --workers N``: each worker listens on its own socket, so connections opened together (a
proxy's or a busy client's kept-alive pool) spread over the workers instead of piling on one."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psutil

from tests.e2e.demo_server import BIN, server


def _read_response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, "the server closed the connection"
        data += chunk
    return data


def test_connections_opened_together_spread_over_the_workers(tmp_path: Path) -> None:
    with server(f"sqlite:///{tmp_path / 'w.db'}", tmp_path, workers=2, args=("--log-json",)) as url:
        where = urlparse(url)
        # All connected before any request: they wait together in the kernel's queue(s), as a pool does.
        socks = [socket.create_connection((where.hostname, where.port), timeout=10) for _ in range(32)]
        try:
            for i, s in enumerate(socks):
                s.sendall(f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-ID: conn-{i}\r\n\r\n".encode())
            for s in socks:
                assert _read_response(s).startswith(b"HTTP/1.1 200")
        finally:
            for s in socks:
                s.close()
        assert httpx.get(f"{url}/healthz").status_code == 200  # still serving
    lines = [json.loads(x) for f in tmp_path.glob("server-*.log") for x in f.read_text().splitlines()
             if x.startswith("{")]  # fmt: skip
    served_by = {x["request_id"]: x["pid"] for x in lines if str(x.get("request_id", "")).startswith("conn-")}
    assert len(served_by) == 32, served_by
    per_worker = Counter(served_by.values())
    # With the kernel hashing 32 connections over 2 sockets, fewer than 4 on one has odds of about 3e-6.
    assert len(per_worker) == 2 and min(per_worker.values()) >= 4, per_worker


def _workers(parent: psutil.Process) -> list[psutil.Process]:
    found = []
    for c in parent.children():
        try:
            line = " ".join(c.cmdline())
        except psutil.Error:  # gone meanwhile
            continue
        if "multiprocessing.spawn" in line and "resource_tracker" not in line and c.status() != psutil.STATUS_ZOMBIE:
            found.append(c)
    return found


def test_a_worker_that_dies_is_replaced(tmp_path: Path) -> None:
    with server(f"sqlite:///{tmp_path / 'w.db'}", tmp_path, workers=2) as url:
        port = str(urlparse(url).port)
        parent = next(p for p in psutil.process_iter(["cmdline"]) if {"serve", port} <= set(p.info["cmdline"] or []))
        first = _workers(parent)
        assert len(first) == 2
        first[0].kill()
        first[0].wait(10)
        deadline = time.monotonic() + 30
        while not (len(now := _workers(parent)) == 2 and first[0].pid not in {c.pid for c in now}):
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            time.sleep(0.2)
        for _ in range(10):
            assert httpx.get(f"{url}/healthz").status_code == 200


def test_a_second_server_on_a_taken_port_says_so_and_does_not_join_it(tmp_path: Path) -> None:
    with server(f"sqlite:///{tmp_path / 'w.db'}", tmp_path, workers=2) as url:
        port = str(urlparse(url).port)
        second = subprocess.run(
            [str(BIN), "serve", "--port", port, "--db", f"sqlite:///{tmp_path / 'other.db'}", "--workers", "2"],
            capture_output=True, text=True, timeout=60,
            env={**os.environ, "TRUCELINE_AUDIT_KEY_FILE": str(tmp_path / "other.key")},
        )  # fmt: skip
        assert second.returncode == 1
        assert second.stderr.strip() == f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
        assert httpx.get(f"{url}/healthz").status_code == 200
