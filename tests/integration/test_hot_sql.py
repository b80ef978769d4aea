"""The notify path's statements through the driver store and read exactly what ``Connection.execute``
stores and reads."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Connection, Engine, bindparam, event, exc, insert, or_, select, text, update

from truceline.adapters import hot_sql, json_text
from truceline.adapters import tables as t
from truceline.adapters.db import make_engine
from truceline.adapters.migrate import upgrade
from truceline.adapters.unit_of_work import SqlUnitOfWork

_INSERT = insert(t.conflict_parties)
_INSERT_VOLUMES = insert(t.activity_volumes)
_RENAME = update(t.conflict_parties).where(t.conflict_parties.c.party_id == bindparam("old"))
_MOVE_HEAD = update(t.audit_state).where(t.audit_state.c.id == 1).values(seq=bindparam("s"), hash=bindparam("h"))
_CP = t.conflict_parties.c
# two lists, a scalar, and a value the statement binds itself ("c1")
_PICK = (
    select(_CP.party_id, _CP.conflict_id)
    .where(
        _CP.party_id.in_(bindparam("parties", expanding=True)),
        or_(_CP.conflict_id.in_(bindparam("conflicts", expanding=True)), _CP.conflict_id == "c1"),
        _CP.party_id != bindparam("not_party"),
    )
    .order_by(_CP.party_id, _CP.conflict_id)
)
_HEAD_LOCKED = select(t.audit_state.c.seq, t.audit_state.c.hash).where(t.audit_state.c.id == 1).with_for_update()


def test_write_many_matches_execute(engine: Engine) -> None:
    upgrade(engine)
    rows = [{"party_id": f"p{i}", "conflict_id": f"c{i % 3}"} for i in range(7)]
    with engine.begin() as conn:
        hot_sql.write_many(conn, _INSERT, rows[:1])  # one row: execute
        hot_sql.write_many(conn, _INSERT, rows[1:])  # several: executemany
        hot_sql.write_many(conn, _INSERT, [])  # nothing: no statement
        stored = conn.execute(select(t.conflict_parties).order_by(t.conflict_parties.c.party_id)).mappings().all()
    assert [dict(r) for r in stored] == rows


_INSERT_CONFLICTS = insert(t.conflicts)


def test_several_rows_of_every_type_store_as_execute_stores_them(engine: Engine) -> None:
    """Several rows at once (executemany): NULLs, bytes, floats, large integers and non-ASCII text come
    back as they went in."""
    upgrade(engine)
    rows = [
        dict(id=f"c{i}", key=f"k{i}", rule="overlap", status="open", reason=f"raison n° {i} — ok",
             zone_id=None if i % 2 else f"z{i}", zone_revision=None if i % 2 else i, subjects="[]",
             regions='{"type": "Polygon"}', parties="[]", t_start=1_700_000_000_000 + i,
             t_end=None if i == 3 else 2**40, created_at=i, updated_at=i, closed_at=None, closed_reason=None,
             remind_at=None if i % 2 else 1_700_000_000_000 + i)
        for i in range(5)
    ]
    vols = [
        dict(activity_id=f"a{i}", idx=i, footprint=bytes([i]) * 300 + b"\x00\xff", alt_lower=-0.1 * i,
             alt_upper=1e6 + 0.5, t_start=i, t_end=2**41, source="{}")
        for i in range(3)
    ]
    with engine.begin() as conn:
        hot_sql.write_many(conn, _INSERT_CONFLICTS, rows)
        hot_sql.write_many(conn, _INSERT_VOLUMES, vols)
    with engine.connect() as conn:
        got = [dict(r) for r in conn.execute(select(t.conflicts).order_by(t.conflicts.c.id)).mappings()]
        assert got == rows
        by_idx = select(t.activity_volumes).order_by(t.activity_volumes.c.idx)
        stored = [dict(r) for r in conn.execute(by_idx).mappings()]
        assert [{**r, "footprint": bytes(r["footprint"])} for r in stored] == vols


def test_updates_with_their_own_bound_values_and_bytes(engine: Engine) -> None:
    """``WHERE id = 1`` binds the 1 itself; the footprint column is bytes; floats and NULLs pass as they are."""
    upgrade(engine)
    wkb = bytes(range(256))
    vol = dict(activity_id="a", idx=0, footprint=wkb, alt_lower=-0.5, alt_upper=1e6, t_start=1, t_end=2, source="{}")
    with engine.begin() as conn:
        hot_sql.write_many(
            conn, _INSERT, [{"party_id": "x", "conflict_id": "c"}, {"party_id": "y", "conflict_id": "c"}]
        )
        hot_sql.write_many(conn, _RENAME, [{"old": "x", "party_id": "z"}])
        hot_sql.write_many(conn, _MOVE_HEAD, [{"s": 41, "h": "f" * 64}])
        conn.execute(
            insert(t.activities),
            [
                dict(
                    id="a",
                    party_id="z",
                    kind="air",
                    title="t",
                    description="",
                    status="active",
                    version=1,
                    t_start=1,
                    t_end=2,
                    created_at=0,
                    updated_at=0,
                )
            ],
        )
        hot_sql.write_many(conn, _INSERT_VOLUMES, [vol])
    with engine.connect() as conn:
        assert sorted(conn.execute(select(t.conflict_parties.c.party_id)).scalars()) == ["y", "z"]
        head = conn.execute(select(t.audit_state.c.seq, t.audit_state.c.hash)).one()
        assert (head.seq, head.hash) == (41, "f" * 64)
        got = conn.execute(select(t.activity_volumes)).mappings().one()
        assert bytes(got["footprint"]) == wkb
        assert (got["alt_lower"], got["alt_upper"]) == (-0.5, 1e6)


def test_a_statement_built_per_call_is_refused(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    upgrade(engine)
    monkeypatch.setattr(hot_sql, "_compiled", {})
    monkeypatch.setattr(hot_sql, "_MAX_ENTRIES", 3)
    with engine.begin() as conn:
        for i in range(3):  # a new statement object each time, as a careless caller would build it
            hot_sql.write_many(conn, insert(t.conflict_parties), [{"party_id": f"p{i}", "conflict_id": "c"}])
        with pytest.raises(RuntimeError, match="module-level"):
            hot_sql.write_many(conn, insert(t.conflict_parties), [{"party_id": "p9", "conflict_id": "c"}])


def test_json_text_reads_back_as_the_standard_library_writes_it() -> None:
    value = {"a": [1.5, 1e-7, None, "é"], 3: {"nested": True}, "n": np.float64(2.25), "i": np.int64(7)}
    assert json.loads(json_text.dumps(value)) == {
        "a": [1.5, 1e-7, None, "é"],
        "3": {"nested": True},
        "n": 2.25,
        "i": 7,
    }


def test_read_matches_execute_for_every_list_length(engine: Engine) -> None:
    """Lists are padded to a power of two by repeating their last item: every length up to past a
    padding boundary reads what ``execute`` reads, on each dialect (qmark and named placeholders)."""
    upgrade(engine)
    rows = [{"party_id": f"p{i:02}", "conflict_id": f"c{i % 4}"} for i in range(24)]
    with engine.begin() as conn:
        conn.execute(insert(t.conflict_parties), rows)
        checked = 0
        for n in range(1, 20):
            for m in (1, 2, 3):
                params = {
                    "parties": [f"p{i:02}" for i in range(0, 2 * n, 2)],
                    "conflicts": [f"c{(i * 3) % 4}" for i in range(m)],
                    "not_party": "p04",
                }
                expected = [tuple(r) for r in conn.execute(_PICK, params)]
                assert [tuple(r) for r in hot_sql.read(conn, _PICK, params)] == expected
                checked += bool(expected)
        assert checked > 40  # most cases read rows, not just nothing
        (head,) = hot_sql.read(conn, _HEAD_LOCKED, {})  # FOR UPDATE on PostgreSQL, and names its columns
        assert (head.seq, head.hash) == tuple(conn.execute(_HEAD_LOCKED).one())
    shapes = {k[2] for k in hot_sql._plans if k[0] is _PICK and k[1] == engine.dialect.name}
    assert {dict(s)["parties"] for s in shapes} == {1, 2, 4, 8, 16, 32}  # 19 lengths, 6 shapes


def test_read_refuses_an_empty_list_and_statements_built_per_call(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(engine)
    with engine.connect() as conn:
        with pytest.raises(ValueError, match="non-empty"):
            hot_sql.read(conn, _PICK, {"parties": [], "conflicts": ["c1"], "not_party": ""})
        monkeypatch.setattr(hot_sql, "_read_statements", set())
        monkeypatch.setattr(hot_sql, "_MAX_ENTRIES", 3)
        for i in range(3):
            hot_sql.read(conn, select(_CP.party_id).where(_CP.conflict_id == bindparam("c")), {"c": f"c{i}"})
        with pytest.raises(RuntimeError, match="module-level"):
            hot_sql.read(conn, select(_CP.party_id).where(_CP.conflict_id == bindparam("c")), {"c": "c9"})


def test_a_failing_statement_raises_what_sqlalchemy_raises_and_changes_nothing(engine: Engine) -> None:
    """The statements go to the driver's own cursor; its errors still come as SQLAlchemy's."""
    upgrade(engine)
    with engine.begin() as conn:
        hot_sql.write_many(conn, _INSERT, [{"party_id": "p", "conflict_id": "c"}])
    with pytest.raises(exc.IntegrityError), engine.begin() as conn:
        hot_sql.write_many(conn, _INSERT, [{"party_id": "q", "conflict_id": "c"}])
        hot_sql.write_many(conn, _INSERT, [{"party_id": "r", "conflict_id": c} for c in ("c", "c")])
    with pytest.raises(exc.DBAPIError), engine.begin() as conn:
        hot_sql.read(conn, select(t.conflict_parties.c.party_id).where(text("no_such_column = 1")), {})
    with engine.connect() as conn:
        assert list(conn.execute(select(_CP.party_id, _CP.conflict_id))) == [("p", "c")]


def test_statements_skip_sqlalchemy_unless_somebody_watches(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade(engine)
    through_sqlalchemy: list[str] = []
    real = Connection.exec_driver_sql

    def spy(self: Connection, statement: str, *args: Any, **kw: Any) -> Any:
        through_sqlalchemy.append(statement.split()[0])
        return real(self, statement, *args, **kw)

    monkeypatch.setattr(Connection, "exec_driver_sql", spy)

    def work(n: int) -> None:
        with engine.begin() as conn:
            hot_sql.write_many(conn, _INSERT, [{"party_id": f"p{n}", "conflict_id": "c"}])
            assert hot_sql.read(conn, _PICK, {"parties": [f"p{n}"], "conflicts": ["c"], "not_party": "x"})
            hot_sql.write_many(conn, _RENAME, [{"old": f"p{n}", "party_id": f"q{n}"}])

    work(1)
    # A read-only unit of work outside a transaction on PostgreSQL (a request's token look-up) too.
    with SqlUnitOfWork(engine, no_transaction=True) as uow:
        assert uow.parties.by_token_hash("no such token") is None
    assert through_sqlalchemy == []  # SQLite's BEGIN included
    # A listener sees every statement, on either database (tests and tools count them so).
    seen: list[str] = []

    def watch(_c: object, _cur: object, statement: str, *_: object) -> None:
        seen.append(statement.split()[0])

    event.listen(engine, "before_cursor_execute", watch)
    try:
        work(2)
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert [s for s in seen if s != "BEGIN"] == ["INSERT", "SELECT", "UPDATE"]


def test_a_connection_the_server_dropped_mid_transaction_is_invalidated(pg_url: str) -> None:
    """As SQLAlchemy does for its own statements: the error says the connection was invalidated, and
    the pool never hands that connection out again (no ping needed to find out)."""
    engine = make_engine(pg_url)
    upgrade(engine)
    with engine.connect() as other:
        other.execute(text("SELECT 1"))
        with engine.connect() as conn:
            conn.begin()
            hot_sql.write_many(conn, _INSERT, [{"party_id": "p", "conflict_id": "dropped"}])
            pid = conn.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
            assert other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
            with pytest.raises(exc.OperationalError) as raised:
                hot_sql.read(conn, _PICK, {"parties": ["p"], "conflicts": ["c"], "not_party": "x"})
            assert raised.value.connection_invalidated
            assert conn.invalidated
            conn.rollback()  # as a unit of work does on the way out
    for _ in range(3):  # every pooled connection works: the dead one was thrown away
        with engine.begin() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
            assert hot_sql.read(conn, _PICK, {"parties": ["p"], "conflicts": ["c"], "not_party": "x"}) == []
    engine.dispose()
