"""The conflicts about to begin are read through their own index, whatever else the store holds: the
reminder looks every 15 s, in a store of millions of conflicts. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event

from truceline.adapters.repositories import ConflictRepository


def test_conflicts_about_to_begin_come_from_their_own_index(engine: Engine) -> None:
    statements: list[tuple[str, Any]] = []
    listen = lambda conn, cursor, sql, params, ctx, many: statements.append((sql, params))  # noqa: E731
    now = datetime(2017, 7, 10, tzinfo=UTC)
    event.listen(engine, "before_cursor_execute", listen)
    try:
        with engine.connect() as c:
            assert ConflictRepository(c).starting(now, now + timedelta(hours=1), told_ms=3_600_000, limit=200) == []
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    ((sql, params),) = [(s, p) for s, p in statements if "remind_at" in s]
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as c:
        if engine.dialect.name == "postgresql":
            c.exec_driver_sql("SET enable_seqscan = off")  # an empty table: ask whether the index can serve
        plan = " ".join(str(r) for r in c.exec_driver_sql(explain + sql, params))
    assert "ix_conflicts_remind_at" in plan, plan
