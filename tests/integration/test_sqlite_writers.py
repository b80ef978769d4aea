"""SQLite admits one writer at a time. Writers of several processes (``serve --workers N``) must queue
on the writer queue's file lock, never on SQLite's busy handler (which sleeps up to 100 ms a poll)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import func, select

from truceline.adapters import tables as t
from truceline.adapters.db import make_engine
from truceline.adapters.migrate import upgrade
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.services import parties

# Each process writes parties with SQLite's busy timeout at 0: a writer that found the database
# locked at BEGIN IMMEDIATE would fail at once with "database is locked" instead of waiting.
WRITER = textwrap.dedent(
    """
    import sys
    from sqlalchemy import event
    from truceline.adapters.db import make_engine
    from truceline.adapters.unit_of_work import SqlUnitOfWork
    from truceline.services import parties

    engine = make_engine(sys.argv[1])

    @event.listens_for(engine, "connect")
    def no_busy_wait(dbapi_conn, _record):
        dbapi_conn.execute("PRAGMA busy_timeout=0")

    print("ready", flush=True)
    sys.stdin.readline()  # start together
    for i in range(int(sys.argv[3])):
        parties.add(SqlUnitOfWork(engine, write=True), name=f"{sys.argv[2]}-{i}", role="officer")
    """
)


def test_writers_of_several_processes_queue_without_ever_finding_the_database_locked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = make_engine(url)
    upgrade(engine)
    n = 150
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, name, str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("p", "q", "r")
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(t.parties)).scalar_one() == 3 * n
    assert (tmp_path / "w.db-writers").exists()
    engine.dispose()


def test_an_engine_dropped_closes_its_writer_lock_file(tmp_path: Path) -> None:
    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    gc.collect()
    before = open_fds()
    for i in range(20):
        e = make_engine(f"sqlite:///{tmp_path / f'{i}.db'}")
        upgrade(e)
        parties.add(SqlUnitOfWork(e, write=True), name="p", role="officer")
        e.dispose()
        del e
    gc.collect()
    assert open_fds() <= before + 2  # not one per engine
