"""Two parties notify overlapping activities at the same instant: each must see the other's conflict."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Engine

from tests.helpers import activity_body
from truceline.adapters.db import make_engine
from truceline.adapters.migrate import upgrade
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.domain.model import Party
from truceline.services import activities, conflicts, parties
from truceline.services.policy import Policy


class RacingUnitOfWork(SqlUnitOfWork):
    """Holds both transactions open side by side until both are about to lock: the worst interleaving.
    Without the cell locks, each would insert and search before the other commits, and both miss."""

    def __init__(self, engine: Engine, barrier: threading.Barrier) -> None:
        super().__init__(engine, write=True)
        self.barrier = barrier

    def lock_cells(self, cells: Iterable[int]) -> None:
        self.barrier.wait(timeout=30)
        super().lock_cells(cells)


def _race(engine: Engine, a: Party, b: Party, lng: float) -> None:
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def go(p: Party) -> None:
        uow = (
            RacingUnitOfWork(engine, barrier) if engine.dialect.name != "sqlite" else SqlUnitOfWork(engine, write=True)
        )
        if engine.dialect.name == "sqlite":
            barrier.wait(timeout=30)
        results[p.name] = activities.notify(uow, Policy(), p, activity_body(lng=lng))

    ts = [threading.Thread(target=go, args=(p,)) for p in (a, b)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert set(results) == {"A", "B"}
    pair = {r.activity.id for r in results.values()}  # type: ignore[attr-defined]
    # Whoever committed second saw the first, so the conflict exists; both parties see it.
    assert sum(len(r.conflicts) for r in results.values()) == 1  # type: ignore[attr-defined]
    for p in (a, b):
        mine = [c for c in conflicts.list_conflicts(SqlUnitOfWork(engine), p) if set(c.activity_ids) == pair]
        assert len(mine) == 1


def test_simultaneous_overlapping_notifications_see_each_other(pg_url: str) -> None:
    engine = make_engine(pg_url)
    upgrade(engine)
    a, _ = parties.add(SqlUnitOfWork(engine, write=True), name="A", role="officer")
    b, _ = parties.add(SqlUnitOfWork(engine, write=True), name="B", role="officer")
    for i in range(40):
        _race(engine, a, b, 30.0 + i * 0.5)  # a fresh, empty place each round
    engine.dispose()


def test_sqlite_writers_serialise(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
    upgrade(engine)
    a, _ = parties.add(SqlUnitOfWork(engine, write=True), name="A", role="officer")
    b, _ = parties.add(SqlUnitOfWork(engine, write=True), name="B", role="officer")
    for i in range(10):
        _race(engine, a, b, 30.0 + i * 0.5)
    engine.dispose()
