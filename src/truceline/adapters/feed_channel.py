"""Live-feed wake-ups across processes. On PostgreSQL a committing writer sends ``NOTIFY`` on one
channel with the parties whose feeds moved; every server process listens and wakes its own streams.
The feed table stays the truth: a lost notification only delays delivery to the next poll."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

import psycopg
from sqlalchemy import Connection, Engine

from truceline.adapters.hot_sql import run_driver_sql

log = logging.getLogger("truceline.feed")

CHANNEL = "truceline_feed"
#: PostgreSQL refuses payloads of 8,000 bytes or more; party ids are 36 characters
_PER_PAYLOAD = 150


def payloads(party_ids: Iterable[str]) -> list[str]:
    ids = sorted(set(party_ids))
    return [",".join(ids[i : i + _PER_PAYLOAD]) for i in range(0, len(ids), _PER_PAYLOAD)]


def announce(conn: Connection, party_ids: Iterable[str]) -> None:
    """Queue the notification inside the writer's transaction: PostgreSQL sends it at commit, and
    never if the transaction rolls back."""
    for p in payloads(party_ids):
        run_driver_sql(conn, "SELECT pg_notify(%(c)s, %(p)s)", {"c": CHANNEL, "p": p})


def libpq_url(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class FeedListener:
    """A thread holding one ``LISTEN`` connection; reconnects after a failure (a restarted database
    loses nothing: streams poll the feed meanwhile)."""

    def __init__(self, engine: Engine, wake: Callable[[set[str]], None], *, retry_s: float = 1.0) -> None:
        self.url = libpq_url(engine)
        self.wake = wake
        self.retry_s = retry_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()

    def start(self) -> FeedListener:
        self._thread = threading.Thread(target=self._run, name="feed-listener", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    while not self._stop.is_set():
                        for n in conn.notifies(timeout=0.5):
                            self.wake({p for p in n.payload.split(",") if p})
            except psycopg.Error:
                self.listening.clear()
                log.warning("feed listener lost its connection; retrying", exc_info=True)
                self._stop.wait(self.retry_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
