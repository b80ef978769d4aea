"""Logical backups: every table's rows as JSON lines in one gzip file, read from one consistent
snapshot. Portable between back ends (a SQLite backup restores into PostgreSQL and back), and
checkable: the last line holds each table's row count, so a cut-short file is refused.

Line 1 is the header (format, version, schema revision, when); then, per table, a line naming the
table and its columns followed by one JSON array per row (binary columns as base64)."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, LargeBinary, Table, delete, func, inspect, select, text

from truceline import __version__
from truceline.adapters import tables as t
from truceline.adapters.db import is_portable, is_sqlite
from truceline.adapters.migrate import upgrade
from truceline.domain.errors import StateConflict, TrucelineError

FORMAT = "truceline-backup"
VERSION = 1
_BATCH = 2_000


class BadBackup(TrucelineError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail, code="bad_backup", status=422, title="Not a usable backup")


def _binary(table: Table) -> set[int]:
    return {i for i, c in enumerate(table.columns) if isinstance(c.type, LargeBinary)}


def _rows(conn: Connection, table: Table) -> Iterator[list[Any]]:
    binary = _binary(table)
    order = list(table.primary_key.columns) or list(table.columns)
    for row in conn.execution_options(yield_per=_BATCH).execute(select(table).order_by(*order)):
        yield [base64.b64encode(v).decode() if i in binary and v is not None else v for i, v in enumerate(row)]


def backup(engine: Engine, path: Path) -> dict[str, int]:
    """Write every table to ``path``; returns the row count per table. Writers carry on meanwhile:
    PostgreSQL reads one REPEATABLE READ snapshot, SQLite (WAL) one read transaction."""
    counts: dict[str, int] = {}
    tmp = path.with_name(path.name + ".part")
    conn = engine.connect()
    if not is_sqlite(engine):
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    try:
        with conn.begin(), gzip.open(tmp, "wt", encoding="utf-8") as f:
            revision = MigrationContext.configure(conn).get_current_revision()
            header = {
                "format": FORMAT,
                "version": VERSION,
                "schema": revision,
                "truceline": __version__,
                "dialect": engine.dialect.name,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            }
            f.write(json.dumps(header) + "\n")
            for table in t.metadata.sorted_tables:
                f.write(json.dumps({"table": table.name, "columns": [c.name for c in table.columns]}) + "\n")
                n = 0
                for values in _rows(conn, table):
                    f.write(json.dumps(values, ensure_ascii=False, allow_nan=False) + "\n")
                    n += 1
                counts[table.name] = n
            f.write(json.dumps({"end": counts}) + "\n")
    finally:
        conn.close()
    tmp.replace(path)  # whole or not at all
    return counts


def _is_empty(engine: Engine) -> bool:
    """Nothing was ever written: no party, no audit entry (a migrated schema's own seed rows, such as
    the audit chain's empty head, do not count)."""
    names = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        for table in (t.parties, t.audit_log):
            if table.name in names and conn.execute(select(func.count()).select_from(table)).scalar():
                return False
    return True


def _read_header(f: Any) -> dict[str, Any]:
    try:
        header = json.loads(f.readline())
    except (OSError, EOFError, ValueError) as e:
        raise BadBackup(f"not a Truceline backup (gzip of JSON lines): {e}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BadBackup("not a Truceline backup: the first line is not its header")
    if header.get("version") != VERSION:
        raise BadBackup(f"backup format version {header.get('version')} is not one this Truceline reads ({VERSION})")
    return header


def restore(engine: Engine, path: Path) -> dict[str, int]:
    """Load a backup into an empty database: the schema is built at the backup's revision, the rows go
    in within one transaction (a failure leaves the database empty), and the schema is then upgraded to
    this version's. Returns the row count per table."""
    if not _is_empty(engine):
        raise StateConflict("the database is not empty: restore into a new, empty database")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        header = _read_header(f)
        if not isinstance(header.get("schema"), str):
            raise BadBackup("the backup names no schema revision")
        upgrade(engine, header["schema"])
        by_name = {tb.name: tb for tb in t.metadata.sorted_tables}
        counts: dict[str, int] = {}
        ended: dict[str, int] | None = None
        with engine.connect() as raw:
            conn = raw.execution_options(truceline_write=True)
            with conn.begin():
                table: Table | None = None
                columns: list[str] = []
                binary: set[int] = set()
                batch: list[dict[str, Any]] = []

                def flush() -> None:
                    if table is not None and batch:
                        conn.execute(table.insert(), batch)
                        batch.clear()

                for lineno, line in enumerate(f, start=2):
                    try:
                        item = json.loads(line)
                    except ValueError:
                        raise BadBackup(f"line {lineno} is not JSON: the file is damaged") from None
                    if isinstance(item, list):
                        if table is None or len(item) != len(columns):
                            raise BadBackup(f"line {lineno}: a row that fits no table")
                        batch.append(
                            {
                                c: base64.b64decode(v) if i in binary and v is not None else v
                                for i, (c, v) in enumerate(zip(columns, item, strict=True))
                            }
                        )
                        counts[table.name] += 1
                        if len(batch) >= _BATCH:
                            flush()
                    elif isinstance(item, dict) and "table" in item:
                        flush()
                        table = by_name.get(item["table"])
                        if table is None:
                            raise BadBackup(f"line {lineno}: unknown table {item['table']!r}")
                        conn.execute(delete(table))  # the schema's seed rows give way to the backup's
                        columns = list(item["columns"])
                        unknown = set(columns) - {c.name for c in table.columns}
                        if unknown:
                            raise BadBackup(f"line {lineno}: {table.name} has no column {sorted(unknown)[0]!r}")
                        binary = {i for i, c in enumerate(columns) if isinstance(table.c[c].type, LargeBinary)}
                        counts[table.name] = 0
                    elif isinstance(item, dict) and "end" in item:
                        flush()
                        ended = item["end"]
                        break
                    else:
                        raise BadBackup(f"line {lineno}: not a row, a table or the end")
                if ended != counts:
                    # raising inside the transaction rolls every row back
                    raise BadBackup("the backup is incomplete (its row counts do not match): nothing was restored")
                if not is_sqlite(engine) and not is_portable(engine):
                    _reset_sequences(conn)
    upgrade(engine)
    return counts


def _reset_sequences(conn: Connection) -> None:
    """Rows kept their ids; PostgreSQL's sequences must continue after them."""
    for table in t.metadata.sorted_tables:
        col = table.autoincrement_column
        if col is not None:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{col.name}'), "
                    f"COALESCE((SELECT MAX({col.name}) FROM {table.name}), 0) + 1, false)"
                )
            )
