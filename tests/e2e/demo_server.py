"""Servers as real processes on loopback, for the tests that drive them from outside: the demo (CLI,
browser) and ``truceline serve`` (several processes, crashes, shutdown)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

BIN = Path(sys.executable).parent / "truceline"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def demo_server(d: Path) -> Iterator[tuple[str, dict[str, str], str]]:
    """``truceline demo`` on a free port with its database in ``d``: (base URL, {party: token}, db URL).
    Its output goes to ``d/demo.log``: a pipe nobody reads would fill up and stop the server mid-test."""
    port = free_port()
    db = f"sqlite:///{d / 'demo.db'}"
    tokens_file = d / "tokens.json"
    log = open(d / "demo.log", "a")  # noqa: SIM115 - the process writes to it until it ends
    proc = subprocess.Popen(
        [str(BIN), "demo", "--host", "127.0.0.1", "--port", str(port), "--db", db, "--tokens-file", str(tokens_file)],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_up(url, proc)
        except AssertionError:
            proc.kill()
            raise AssertionError(f"the demo did not come up: {(d / 'demo.log').read_text()[-3000:]}") from None
        yield url, json.loads(tokens_file.read_text()), db
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def wait_up(url: str, proc: subprocess.Popen[str], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            said = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"the server exited with {proc.returncode}: {said}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("the server did not come up")


def start_server(
    db: str, d: Path, *, workers: int = 1, port: int | None = None, env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
) -> tuple[str, subprocess.Popen[str]]:
    """``truceline serve`` on a free port (or ``port``); returns (base URL, process) once it answers.
    Its output goes to ``d/server-<port>.log``."""
    port = port or free_port()
    log = open(d / f"server-{port}.log", "a")  # noqa: SIM115 - the process writes to it until it ends
    environment = {**os.environ, "TRUCELINE_AUDIT_KEY_FILE": str(d / "audit.key"), **(env or {})}
    proc = subprocess.Popen(
        [str(BIN), "serve", "--host", "127.0.0.1", "--port", str(port), "--db", db, "--workers", str(workers), *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(url, proc)
    except AssertionError:
        proc.kill()
        raise AssertionError(f"the server did not come up: {(d / f'server-{port}.log').read_text()[-3000:]}") from None
    return url, proc


@contextmanager
def server(db: str, d: Path, **kw: Any) -> Iterator[str]:
    url, proc = start_server(db, d, **kw)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=40)
