"""The SQL unit of work: one connection, one transaction, repositories bound to it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from truceline.adapters import feed_channel
from truceline.adapters import tables as t
from truceline.adapters.db import WriterQueue, is_portable, is_sqlite, writer_queue
from truceline.adapters.hot_sql import run_driver_sql
from truceline.adapters.hotline_store import FeedRepository, HotlineRepository
from truceline.adapters.idempotency_store import IdempotencyRepository
from truceline.adapters.incident_store import IncidentRepository
from truceline.adapters.repositories import (
    ActivityRepository,
    AuditRepository,
    ConflictRepository,
    PartyRepository,
    Receipt,
    ZoneRepository,
)
from truceline.adapters.track_store import TrackRepository
from truceline.adapters.upkeep_store import UpkeepRepository
from truceline.adapters.webhook_store import WebhookRepository
from truceline.domain.clock import Clock, utc_now
from truceline.domain.idempotency import Claim, key_in_use
from truceline.domain.model import Credential

_K = t.lock_keys.c


class SqlUnitOfWork:
    def __init__(
        self,
        engine: Engine,
        *,
        write: bool = False,
        clock: Clock = utc_now,
        signature: dict[str, Any] | None = None,
        credential: Credential | None = None,
        on_commit: Callable[[Receipt | None], None] | None = None,
        on_publish: Callable[[set[str]], None] | None = None,
        no_transaction: bool = False,
        idempotency: Claim | None = None,
    ) -> None:
        self.engine = engine
        self.write = write
        #: reads only, outside a transaction on PostgreSQL, which spares the BEGIN and ROLLBACK round
        #: trips around them. Each statement sees what is committed when it runs, as it would inside a
        #: READ COMMITTED transaction anyway. For a single read (a request's token look-up) and for
        #: reads a later transaction checks again (detection's look before the write lock).
        self.no_transaction = no_transaction and not write
        self.clock = clock
        #: the signed request and its verified Ed25519 signature (from the API), recorded in the audit log
        self.signature = signature
        #: the token the request came with (from the API): the audit log records which one made a change
        self.credential = credential
        #: the audit receipt of the last entry this unit of work appended
        self.receipt: Receipt | None = None
        self._on_commit = on_commit
        #: the request's Idempotency-Key, kept in this transaction at commit (unless an earlier one did)
        self.idempotency = idempotency
        #: told, after commit, which parties' live feeds got new events (wakes their SSE streams)
        self._on_publish = on_publish
        self._conn: Connection | None = None
        self._queued: WriterQueue | None = None

    def __enter__(self) -> SqlUnitOfWork:
        self._queued = writer_queue(self.engine) if self.write and is_sqlite(self.engine) else None
        if self._queued is not None:
            self._queued.acquire()
        try:
            self._open()
        except BaseException:
            self._release()
            raise
        return self

    def reader(self) -> SqlUnitOfWork:
        """A read-only unit of work on the same database and clock, apart from this one, for reads
        that this one checks again (``no_transaction``)."""
        return SqlUnitOfWork(self.engine, clock=self.clock, no_transaction=True)

    def _release(self) -> None:
        if self._queued is not None:
            self._queued.release()
            self._queued = None

    def _open(self) -> None:
        conn = self.engine.connect()
        if self.write:
            conn = conn.execution_options(truceline_write=True)
        if self.no_transaction and not is_sqlite(self.engine):
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        # Under AUTOCOMMIT the server sees no BEGIN: this tells SQLAlchemy, and so ``hot_sql``, that the
        # unit of work is under way, and its statements go straight to the driver.
        conn.begin()
        self._conn = conn
        self.parties = PartyRepository(conn)
        self.zones = ZoneRepository(conn)
        self.activities = ActivityRepository(conn)
        self.conflicts = ConflictRepository(conn)
        self.audit = AuditRepository(conn)
        self.hotline = HotlineRepository(conn)
        self.feed = FeedRepository(conn)
        self.webhooks = WebhookRepository(conn)
        self.tracks = TrackRepository(conn)
        self.incidents = IncidentRepository(conn)
        self.upkeep = UpkeepRepository(conn)
        self.keys = IdempotencyRepository(conn)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._conn is not None
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            self._conn.close()
            self._conn = None
            self._release()

    def commit(self) -> None:
        assert self._conn is not None
        claim = self.idempotency
        # The key is kept with the write it answers, in one transaction. When another copy of the
        # request committed first, this one is undone.
        taken = claim is None or claim.taken or self.keys.claim(claim, self.clock(), self.audit.first_entity())
        if not taken:
            raise key_in_use()
        published = self.feed.flush()
        # Last: the audit head is the one row every writer locks, so it is held only for the commit.
        self.receipt = self.audit.flush() or self.receipt
        if published and not is_sqlite(self.engine) and not is_portable(self.engine):
            feed_channel.announce(self._conn, published)  # wakes streams in every process, at commit
        self._conn.commit()
        if claim is not None:
            claim.taken = True
        if self._on_commit is not None:
            self._on_commit(self.receipt)
        if published and self._on_publish is not None:
            self._on_publish(published)

    def rollback(self) -> None:
        assert self._conn is not None
        self._conn.rollback()

    def try_lock(self, key: int) -> bool:
        """Take a transaction-scoped lock if nobody holds it (SQLite: the write transaction already
        excludes every other writer)."""
        assert self._conn is not None
        if is_sqlite(self.engine):
            return True
        if is_portable(self.engine):
            self._lock_rows_exist([key])
            q = select(_K.key).where(_K.key == key).with_for_update(skip_locked=True)
            return self._conn.execute(q).first() is not None
        return bool(self._conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}).scalar())

    def _lock_rows_exist(self, keys: list[int]) -> None:
        assert self._conn is not None
        self._conn.execute(
            pg_insert(t.lock_keys).values([{"key": k} for k in keys]).on_conflict_do_nothing(index_elements=["key"])
        )

    def lock_cells(self, cells: Iterable[int]) -> None:
        # SQLite: BEGIN IMMEDIATE already serialises every writer. PostgreSQL: transaction-scoped
        # advisory locks on the touched cells, taken in ascending order so two writers cannot deadlock.
        assert self._conn is not None
        if is_sqlite(self.engine):
            return
        keys = sorted(set(cells))
        if keys and is_portable(self.engine):
            # Row locks, portable to distributed SQL; ascending order, as below.
            self._lock_rows_exist(keys)
            self._conn.execute(select(_K.key).where(_K.key.in_(keys)).order_by(_K.key).with_for_update())
        elif keys:
            lock = "SELECT pg_advisory_xact_lock(k) FROM unnest(%(keys)s::bigint[]) AS k ORDER BY k"
            run_driver_sql(self._conn, lock, {"keys": keys})
