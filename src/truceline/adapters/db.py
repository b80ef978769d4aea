"""Engines: SQLite in WAL mode with real write transactions, or PostgreSQL via psycopg 3."""

from __future__ import annotations

import os
import threading
import time
import weakref
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url

from truceline.adapters.hot_sql import run_on_sqlite

try:
    import fcntl
except ImportError:  # Windows: writers of one process still queue; other processes meet at BEGIN IMMEDIATE
    fcntl = None  # type: ignore[assignment]


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and pick the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


class WriterQueue:
    """Where a SQLite database's writers wait their turn, instead of on SQLite's busy handler, which
    polls with sleeps of up to 100 ms and so turns contention into long tail latencies. Writers of one
    process queue on a thread lock; writers of several processes (``serve --workers N``) on an
    exclusive ``flock`` of a file beside the database, which the kernel hands to the next waiter as
    soon as it is released (and releases if its holder dies)."""

    def __init__(self, path: str | None) -> None:
        self._threads = threading.Lock()
        self._path = path if path and fcntl is not None else None
        self._fd: int | None = None
        self._pid = 0  # the process that opened ``_fd``: a forked child opens its own

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._fd is None or self._pid != os.getpid():
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:  # a read-only directory: SQLite's own lock still excludes other writers
                self._path = None
                return None
            self._pid = os.getpid()
        return self._fd

    def __del__(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)

    def acquire(self) -> None:
        self._threads.acquire()
        try:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        try:
            if self._fd is not None and self._pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


_writer_queues: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()
_queues_guard = threading.Lock()


def writer_queue(engine: Engine) -> WriterQueue:
    """The queue of ``engine``'s writers (SQLite admits one writer at a time)."""
    with _queues_guard:
        queue = _writer_queues.get(engine)
        if queue is None:
            db = engine.url.database
            lock_file = None if db in (None, "", ":memory:") or str(db).startswith("file:") else f"{db}-writers"
            queue = _writer_queues[engine] = WriterQueue(lock_file)
        return queue


def is_portable(engine: Engine) -> bool:
    """The engine keeps to SQL that PostgreSQL-compatible distributed databases (CockroachDB,
    YugabyteDB) run: locks are rows in ``lock_keys`` rather than advisory locks, and live feeds are
    polled rather than woken by LISTEN/NOTIFY."""
    return bool(engine.get_execution_options().get("truceline_portable", False))


def make_engine(url: str, *, echo: bool = False, portable: bool = False) -> Engine:
    url = normalise_url(url)
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        memory = u.database in (None, "", ":memory:")
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if memory:
            from sqlalchemy.pool import StaticPool

            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, echo=echo, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let us issue BEGIN ourselves (pysqlite's own handling defers it and cannot do IMMEDIATE).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
                # Checkpoints run in the background (see WalCheckpointer); this threshold is only the
                # safety net, so writers rarely pay for one inside their commit.
                cur.execute("PRAGMA wal_autocheckpoint=20000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA cache_size=-65536")  # 64 MiB of pages per connection (default: 2 MiB)
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # A write transaction takes the write lock at BEGIN, so two writers serialise instead of
            # one failing with "database is locked" halfway through.
            immediate = conn.get_execution_options().get("truceline_write", False)
            run_on_sqlite(conn, "BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    # A server that cannot be reached fails a connection after CONNECT_TIMEOUT_S instead of the
    # system's TCP timeout (minutes): the token look-up runs on the event loop, which waits meanwhile.
    timeout = {} if "connect_timeout" in u.query else {"connect_timeout": CONNECT_TIMEOUT_S}
    engine = create_engine(url, echo=echo, pool_size=10, max_overflow=20, connect_args=timeout)
    ping_when_idle(engine)
    return engine.execution_options(truceline_portable=True) if portable else engine


#: Seconds a new PostgreSQL connection may take (libpq's ``connect_timeout``), unless the URL says.
CONNECT_TIMEOUT_S = 10

#: A pooled connection idle for longer than this is pinged before it is handed out. ``pool_pre_ping``
#: pings at every checkout: a round trip per transaction, two per notification, on connections used
#: a millisecond before. One the server dropped (a restart, an idle timeout) has sat idle meanwhile.
IDLE_PING_S = 5.0


def ping_when_idle(engine: Engine) -> None:
    """Ping a connection at checkout only when it has been idle ``IDLE_PING_S``; one that does not
    answer is thrown away and the pool hands out another (SQLAlchemy's ``DisconnectionError``)."""

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < IDLE_PING_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as e:
            raise exc.DisconnectionError("a pooled connection idle for a while is gone") from e
        if not alive:
            raise exc.DisconnectionError("a pooled connection did not answer its ping")


class WalCheckpointer:
    """Runs passive WAL checkpoints every ``interval`` seconds on a thread, off the write path.

    A passive checkpoint copies what it can without waiting for readers or writers, so it never
    blocks a notification; without it, the writer that crosses the WAL threshold pays for copying
    the whole WAL back into the database inside its commit. Does nothing for PostgreSQL."""

    def __init__(self, engine: Engine, interval: float = 1.0) -> None:
        self.engine = engine
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> WalCheckpointer:
        if is_sqlite(self.engine) and self.engine.url.database not in (None, "", ":memory:"):
            self._thread = threading.Thread(target=self._run, name="wal-checkpointer", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:  # a busy or closed database: try again next time
                continue

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
