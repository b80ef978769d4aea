"""The notify path's writes, sent to the driver without SQLAlchemy's per-execution work.

A notification writes a dozen small statements. For each one, ``Connection.execute`` looks the
statement up in the compiled cache and runs every value through its type's bind processing; on
SQLite that costs more than SQLite's own work for the row. Here each statement is compiled once per
dialect and set of keys, and the rows go to ``exec_driver_sql`` as they are. That keeps SQLAlchemy's
error wrapping, events and logging, and is safe because every column these statements write is an
integer, a float, text or bytes: types whose values the drivers take as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql.dml import UpdateBase

#: (statement, dialect, keys) -> (SQL, parameter order for positional drivers or None for named,
#: values the statement binds itself, such as the 1 of ``WHERE id = 1``).
_Compiled = tuple[str, tuple[str, ...] | None, dict[str, Any]]
_compiled: dict[tuple[UpdateBase, str, tuple[str, ...]], _Compiled] = {}
#: Statements are module-level constants, so the cache stays small; a statement built per call would
#: grow it without bound, and is refused.
_MAX_ENTRIES = 256


def write_many(conn: Connection, stmt: UpdateBase, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run an INSERT, UPDATE or DELETE once per row, as ``conn.execute(stmt, rows)`` does. Every
    row has the keys of the first (as executemany needs); ``stmt`` is a module-level constant."""
    if not rows:
        return
    keys = tuple(rows[0])
    entry = (stmt, conn.dialect.name, keys)
    hit = _compiled.get(entry)
    if hit is None:
        if len(_compiled) >= _MAX_ENTRIES:
            raise RuntimeError("write_many takes module-level statements; this one looks built per call")
        compiled = stmt.compile(dialect=conn.dialect, column_keys=list(keys))
        order = tuple(compiled.positiontup or ()) if conn.dialect.positional else None
        own = {name: bp.effective_value for bp, name in compiled.bind_names.items() if name not in keys}
        hit = _compiled[entry] = (compiled.string, order, own)
    sql, order, own = hit
    if own:
        rows = [{**own, **r} for r in rows]
    params: Any = rows if order is None else [tuple(r[k] for k in order) for r in rows]
    conn.exec_driver_sql(sql, params[0] if len(params) == 1 else list(params))
