"""The demo server as a real process on loopback, for the tests that drive it from outside (CLI, browser)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent / "truceline"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def demo_server(d: Path) -> Iterator[tuple[str, dict[str, str], str]]:
    """``truceline demo`` on a free port with its database in ``d``: (base URL, {party: token}, db URL)."""
    port = free_port()
    db = f"sqlite:///{d / 'demo.db'}"
    tokens_file = d / "tokens.json"
    proc = subprocess.Popen(
        [str(BIN), "demo", "--host", "127.0.0.1", "--port", str(port), "--db", db, "--tokens-file", str(tokens_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError("the demo server did not come up")
        yield url, json.loads(tokens_file.read_text()), db
    finally:
        proc.terminate()
        proc.wait(timeout=20)
