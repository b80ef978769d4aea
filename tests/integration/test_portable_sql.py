"""The schema and queries stay portable SQL, so the path to a PostgreSQL-compatible distributed SQL
cluster (CockroachDB, YugabyteDB) stays open. With ``portable_sql`` the service runs on PostgreSQL
without advisory locks or LISTEN/NOTIFY; every statement it sends is recorded and checked here, and
racing writers still see each other."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import BigInteger, Boolean, Engine, Float, Integer, LargeBinary, String, Text, event

from tests.integration.test_concurrency_pg import RacingUnitOfWork
from tests.integration.test_operations import _key, _load_demo
from truceline.adapters import tables as t
from truceline.adapters.backup import backup
from truceline.adapters.db import make_engine
from truceline.adapters.migrate import upgrade
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.services import activities, audit, conflicts, hotline, parties, upkeep, zones
from truceline.services.policy import Policy

SRC = Path(__file__).resolve().parents[2] / "src" / "truceline"

#: what distributed SQL databases do not run (or run differently): advisory locks, LISTEN/NOTIFY,
#: sequence plumbing, session settings, triggers and stored procedures. (Both emulate ``pg_catalog``
#: for drivers, so SQLAlchemy's and Alembic's own introspection is left alone.)
NOT_PORTABLE = re.compile(
    r"pg_advisory|pg_try_advisory|\bLISTEN\b|\bNOTIFY\b|pg_notify|pg_get_serial_sequence|setval|\bSET\s+LOCAL\b"
    r"|CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|TRIGGER|PROCEDURE|RULE)|\bLOCK\s+TABLE\b|\bVACUUM\b",
    re.IGNORECASE,
)
PORTABLE_TYPES = (String, Text, Integer, BigInteger, Float, LargeBinary, Boolean)


@pytest.fixture
def portable(pg_url: str) -> Iterator[tuple[Engine, list[str]]]:
    engine = make_engine(pg_url, portable=True)
    upgrade(engine)
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    yield engine, seen
    engine.dispose()


def test_the_whole_service_runs_without_postgresql_only_sql(portable: tuple[Engine, list[str]], tmp_path: Path) -> None:
    engine, seen = portable
    _load_demo(engine)  # zones, negotiation, activities, conflicts, hotline, incidents, tracks
    now = datetime(2030, 1, 1, tzinfo=UTC)
    hotline.escalate_due(SqlUnitOfWork(engine, write=True, clock=lambda: now), Policy().hotline)
    zones.advance(SqlUnitOfWork(engine, write=True, clock=lambda: now), Policy())
    audit.sign_head(SqlUnitOfWork(engine, write=True, clock=lambda: now), _key())
    upkeep.prune(lambda: SqlUnitOfWork(engine, write=True, clock=lambda: now), upkeep.Retention())
    backup(engine, tmp_path / "b.backup")
    assert audit.verify(SqlUnitOfWork(engine)).problem is None
    assert len(seen) > 500
    bad = sorted({s.strip().split("\n")[0][:120] for s in seen if NOT_PORTABLE.search(s)})
    assert not bad, bad
    assert any("lock_keys" in s and "FOR UPDATE" in s for s in seen)  # the row locks took the advisory locks' place


def test_racing_writers_see_each_other_with_row_locks(portable: tuple[Engine, list[str]]) -> None:
    """The race of test_concurrency_pg, in portable mode. (The audit chain's head row, locked by every
    writer, also orders them; the cell locks keep detection right should that lock ever move.)"""
    engine, seen = portable
    a, _ = parties.add(SqlUnitOfWork(engine, write=True), name="A", role="officer")
    b, _ = parties.add(SqlUnitOfWork(engine, write=True), name="B", role="officer")
    from tests.helpers import T0, activity_body

    for i in range(40):
        barrier = threading.Barrier(2)
        results: dict[str, Any] = {}

        def go(p: Any, barrier: threading.Barrier = barrier, results: dict[str, Any] = results, i: int = i) -> None:
            # ten places, a new day each lap: from the second lap on, the lock rows already exist
            t0 = T0 + timedelta(days=i // 10)
            body = activity_body(lng=30.0 + (i % 10) * 0.5, t0=t0, t1=t0 + timedelta(hours=6))
            results[p.name] = activities.notify(RacingUnitOfWork(engine, barrier), Policy(), p, body)

        threads = [threading.Thread(target=go, args=(p,)) for p in (a, b)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert sum(len(r.conflicts) for r in results.values()) == 1, f"round {i}"
    for p in (a, b):
        assert len(conflicts.list_conflicts(SqlUnitOfWork(engine), p, limit=1000)) == 40
    assert not [s for s in seen if NOT_PORTABLE.search(s)]


def test_the_schema_is_portable() -> None:
    """Every table has a primary key (distributed SQL shards by it); columns use plain types; the
    migrations define no functions, triggers or PostgreSQL-only types."""
    for table in t.metadata.sorted_tables:
        assert table.primary_key.columns, f"{table.name} has no primary key"
        for c in table.columns:
            assert isinstance(c.type, PORTABLE_TYPES), f"{table.name}.{c.name} is {c.type!r}"
    migrations = SRC / "adapters" / "migrations" / "versions"
    for f in sorted(migrations.glob("*.py")):
        body = f.read_text()
        assert not NOT_PORTABLE.search(body), f.name
        assert "postgresql." not in body and "JSONB" not in body and "ARRAY" not in body, f.name


#: the only modules that write SQL text by hand; everything else goes through SQLAlchemy Core
RAW_SQL_ALLOWED = {
    "adapters/db.py",  # SQLite's BEGIN IMMEDIATE and checkpoints
    "adapters/unit_of_work.py",  # PostgreSQL's advisory locks, skipped when portable
    "adapters/feed_channel.py",  # NOTIFY, skipped when portable
    "adapters/backup.py",  # sequences after a restore on PostgreSQL
    "adapters/track_store.py",  # bulk INSERT ... ON CONFLICT through the driver (standard)
    "adapters/incident_store.py",  # the same
    "adapters/hot_sql.py",  # Core statements compiled by SQLAlchemy per dialect, sent through the driver
}


def test_sql_text_is_written_only_where_it_is_accounted_for() -> None:
    pattern = re.compile(r"\btext\(\s*f?\"|exec_driver_sql\(|\.cursor\(\)")
    offenders = sorted(
        str(f.relative_to(SRC))
        for f in SRC.rglob("*.py")
        if "migrations" not in f.parts and pattern.search(f.read_text())
    )
    assert set(offenders) <= RAW_SQL_ALLOWED, set(offenders) - RAW_SQL_ALLOWED
