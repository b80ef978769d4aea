"""The notify path's statements, sent to the driver without SQLAlchemy's per-execution work.

A notification reads and writes a dozen or two small statements. For each one, ``Connection.execute``
looks the statement up in the compiled cache, renders its ``IN`` lists anew (about half its cost) and
runs every value through its type's processing; on SQLite that costs more than SQLite's own work.
Here each statement is compiled once per dialect (and shape of its parameters), and the values go to
the driver as they are. That is safe because every column these statements read or write is an
integer, a float, text or bytes: types whose values the drivers take and give as they are.

Inside a transaction they go to the driver's own cursor (sqlite3's, psycopg's): ``exec_driver_sql``
still builds an execution context and a result object for each, which came to about a tenth of a
notification's CPU on SQLite, HTTP included, and an eighth on PostgreSQL. Errors are raised as
SQLAlchemy's exception classes all the same, and a connection the error shows to be dead (a server
restart, a dropped link) is invalidated, as SQLAlchemy does, so the pool never hands it out again.
Outside a transaction, and while anybody watches statements (a ``before_cursor_execute`` or
``after_cursor_execute`` listener, ``echo``), they go through SQLAlchemy, so the watcher sees every
one.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, exc
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import UpdateBase

from truceline.domain.memo import Bounded

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
    cursor = _driver_cursor(conn)
    if cursor is None:
        conn.exec_driver_sql(sql, params[0] if len(params) == 1 else list(params))
        return
    with _SqlalchemyErrors(conn, cursor, sql, params):
        if len(params) == 1:
            cursor.execute(sql, params[0])
        else:
            cursor.executemany(sql, params)


def run_driver_sql(conn: Connection, sql: str, params: Mapping[str, Any]) -> None:
    """Run ``sql``, written for the driver (its own placeholders), as ``exec_driver_sql`` would."""
    cursor = _driver_cursor(conn)
    if cursor is None:
        conn.exec_driver_sql(sql, params)
        return
    with _SqlalchemyErrors(conn, cursor, sql, params):
        cursor.execute(sql, params)


def _driver_cursor(conn: Connection) -> Any | None:
    """The driver's own cursor on ``conn``, or None where the statement is to go through SQLAlchemy:
    no transaction begun (SQLAlchemy's autobegin issues the BEGIN, on SQLite ours), or somebody
    watching statements."""
    if not conn.in_transaction() or _watched(conn):
        return None
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def _watched(conn: Connection) -> bool:
    """Somebody watches ``conn``'s statements: SQLAlchemy's ``echo``, or a cursor-execute listener."""
    d = conn.dispatch
    return bool(conn.engine.echo or d.before_cursor_execute or d.after_cursor_execute)


def run_on_sqlite(conn: Connection, sql: str) -> None:
    """Run a statement without parameters on a SQLite connection, through sqlite3 unless watched."""
    if _watched(conn):
        conn.exec_driver_sql(sql)
        return
    with _SqlalchemyErrors(conn, None, sql, ()):
        conn.connection.dbapi_connection.execute(sql)  # type: ignore[union-attr]


class _SqlalchemyErrors:
    """Raise the driver's errors as the SQLAlchemy exceptions ``exec_driver_sql`` would raise, and
    invalidate the connection when the error says it is dead."""

    def __init__(self, conn: Connection, cursor: Any, sql: str, params: Any) -> None:
        self.conn, self.cursor, self.sql, self.params = conn, cursor, sql, params

    def __enter__(self) -> None:
        return None

    def __exit__(self, _t: object, e: BaseException | None, _tb: object) -> None:
        dbapi = self.conn.dialect.loaded_dbapi
        if not isinstance(e, dbapi.Error):
            return
        raw = self.conn.connection.dbapi_connection
        dead = self.conn.dialect.is_disconnect(e, raw, self.cursor)  # type: ignore[arg-type]
        if dead:
            self.conn.invalidate(e)
        raise exc.DBAPIError.instance(
            self.sql, self.params, e, dbapi.Error, connection_invalidated=dead, dialect=self.conn.dialect
        ) from e


# --- reads ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Slot:
    """Where a placeholder's value comes from: ``params[key]``, or its ``index``-th item for a list."""

    key: str
    index: int = -1


#: Reads' SQL by (statement, dialect, the padded length of each list parameter): (SQL, what each
#: placeholder takes, in order for positional drivers or by name). Lists are padded to a power of
#: two (repeating their last item, which ``IN`` does not mind), so a statement has a handful of
#: shapes rather than one per length, and the driver's own prepared-statement cache keeps them too.
_Plan = tuple[str, tuple[Any, ...] | dict[str, Any]]
_plans: Bounded[tuple[Select[Any], str, tuple[tuple[str, int], ...]], _Plan] = Bounded(1024)
_read_statements: set[tuple[Select[Any], str]] = set()


def _padded(n: int) -> int:
    return 1 << (n - 1).bit_length()


def read(conn: Connection, stmt: Select[Any], params: Mapping[str, Any]) -> list[Any]:
    """The rows ``conn.execute(stmt, params).all()`` returns (by attribute and by index), for a
    module-level ``stmt`` whose list parameters (``bindparam(..., expanding=True)``) are given
    non-empty lists or tuples."""
    lists = [(k, len(v)) for k, v in params.items() if isinstance(v, list | tuple)]
    if any(n == 0 for _, n in lists):
        raise ValueError("read takes non-empty lists; an empty IN matches nothing, so do not ask")
    shape = tuple(sorted((k, _padded(n)) for k, n in lists))
    entry = (stmt, conn.dialect.name, shape)
    plan = _plans.get(entry)
    if plan is None:
        plan = _plan(conn, stmt, params, dict(shape))
        _plans.put(entry, plan)
    sql, slots = plan
    values: Any = (
        {name: _value(s, params) for name, s in slots.items()}
        if isinstance(slots, dict)
        else tuple(_value(s, params) for s in slots)
    )
    cursor = _driver_cursor(conn)
    if cursor is None:
        return list(conn.exec_driver_sql(sql, values))
    with _SqlalchemyErrors(conn, cursor, sql, values):
        cursor.execute(sql, values)
        rows = cursor.fetchall()
    return list(map(_row_type(cursor.description)._make, rows))


#: Row types by column names, as the driver describes them (so, as SQLAlchemy's rows name them).
_row_types: dict[tuple[str, ...], Any] = {}


def _row_type(description: Sequence[Sequence[Any]]) -> Any:
    names = tuple(d[0] for d in description)
    t = _row_types.get(names)
    if t is None:
        if len(_row_types) >= _MAX_ENTRIES:
            raise RuntimeError("read takes module-level statements; these columns look built per call")
        t = _row_types[names] = namedtuple("Row", names, rename=True)  # type: ignore[misc]
    return t


def _value(slot: Any, params: Mapping[str, Any]) -> Any:
    if not isinstance(slot, _Slot):
        return slot  # a value the statement binds itself
    v = params[slot.key]
    return v if slot.index < 0 else v[min(slot.index, len(v) - 1)]


def _plan(conn: Connection, stmt: Select[Any], params: Mapping[str, Any], lengths: dict[str, int]) -> _Plan:
    key = (stmt, conn.dialect.name)
    if key not in _read_statements:
        if len(_read_statements) >= _MAX_ENTRIES:
            raise RuntimeError("read takes module-level statements; this one looks built per call")
        _read_statements.add(key)
    # Expand with markers in place of values: what SQLAlchemy binds to each placeholder is then the
    # marker saying where that value is to be found.
    markers = {k: [_Slot(k, i) for i in range(lengths[k])] if k in lengths else _Slot(k) for k in params}
    state = stmt.compile(dialect=conn.dialect).construct_expanded_state(markers)
    if conn.dialect.positional:
        return state.statement, tuple(state.parameters[name] for name in state.positiontup or ())
    return state.statement, dict(state.parameters)
