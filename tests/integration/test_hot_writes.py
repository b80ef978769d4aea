"""The notify path's writes through the driver store exactly what ``Connection.execute`` stores."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import Engine, bindparam, insert, select, update

from truceline.adapters import hot_writes, json_text
from truceline.adapters import tables as t
from truceline.adapters.migrate import upgrade

_INSERT = insert(t.conflict_parties)
_INSERT_VOLUMES = insert(t.activity_volumes)
_RENAME = update(t.conflict_parties).where(t.conflict_parties.c.party_id == bindparam("old"))
_MOVE_HEAD = update(t.audit_state).where(t.audit_state.c.id == 1).values(seq=bindparam("s"), hash=bindparam("h"))


def test_write_many_matches_execute(engine: Engine) -> None:
    upgrade(engine)
    rows = [{"party_id": f"p{i}", "conflict_id": f"c{i % 3}"} for i in range(7)]
    with engine.begin() as conn:
        hot_writes.write_many(conn, _INSERT, rows[:1])  # one row: execute
        hot_writes.write_many(conn, _INSERT, rows[1:])  # several: executemany
        hot_writes.write_many(conn, _INSERT, [])  # nothing: no statement
        stored = conn.execute(select(t.conflict_parties).order_by(t.conflict_parties.c.party_id)).mappings().all()
    assert [dict(r) for r in stored] == rows


def test_updates_with_their_own_bound_values_and_bytes(engine: Engine) -> None:
    """``WHERE id = 1`` binds the 1 itself; the footprint column is bytes; floats and NULLs pass as they are."""
    upgrade(engine)
    wkb = bytes(range(256))
    vol = dict(activity_id="a", idx=0, footprint=wkb, alt_lower=-0.5, alt_upper=1e6, t_start=1, t_end=2, source="{}")
    with engine.begin() as conn:
        hot_writes.write_many(
            conn, _INSERT, [{"party_id": "x", "conflict_id": "c"}, {"party_id": "y", "conflict_id": "c"}]
        )
        hot_writes.write_many(conn, _RENAME, [{"old": "x", "party_id": "z"}])
        hot_writes.write_many(conn, _MOVE_HEAD, [{"s": 41, "h": "f" * 64}])
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
        hot_writes.write_many(conn, _INSERT_VOLUMES, [vol])
    with engine.connect() as conn:
        assert sorted(conn.execute(select(t.conflict_parties.c.party_id)).scalars()) == ["y", "z"]
        head = conn.execute(select(t.audit_state.c.seq, t.audit_state.c.hash)).one()
        assert (head.seq, head.hash) == (41, "f" * 64)
        got = conn.execute(select(t.activity_volumes)).mappings().one()
        assert bytes(got["footprint"]) == wkb
        assert (got["alt_lower"], got["alt_upper"]) == (-0.5, 1e6)


def test_a_statement_built_per_call_is_refused(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    upgrade(engine)
    monkeypatch.setattr(hot_writes, "_compiled", {})
    monkeypatch.setattr(hot_writes, "_MAX_ENTRIES", 3)
    with engine.begin() as conn:
        for i in range(3):  # a new statement object each time, as a careless caller would build it
            hot_writes.write_many(conn, insert(t.conflict_parties), [{"party_id": f"p{i}", "conflict_id": "c"}])
        with pytest.raises(RuntimeError, match="module-level"):
            hot_writes.write_many(conn, insert(t.conflict_parties), [{"party_id": "p9", "conflict_id": "c"}])


def test_json_text_reads_back_as_the_standard_library_writes_it() -> None:
    value = {"a": [1.5, 1e-7, None, "é"], 3: {"nested": True}, "n": np.float64(2.25), "i": np.int64(7)}
    assert json.loads(json_text.dumps(value)) == {
        "a": [1.5, 1e-7, None, "é"],
        "3": {"nested": True},
        "n": 2.25,
        "i": 7,
    }
