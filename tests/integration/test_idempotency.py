"""Idempotency keys in the store: two copies of one keyed write at the same instant make one write,
and keys are pruned after a day. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from tests.conftest import FakeClock
from tests.helpers import activity_body
from truceline.adapters import tables as t
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.domain.errors import StateConflict
from truceline.domain.idempotency import Claim, fingerprint
from truceline.domain.model import Party
from truceline.services import activities, idempotency, upkeep
from truceline.services.policy import Policy


def _claim(party: Party, key: str = "convoy-1") -> Claim:
    return Claim(party.id, key, fingerprint("POST", "/v1/activities", b"{}"), "POST", "/v1/activities")


class Copy(SqlUnitOfWork):
    """One copy of the request: both have looked for the key (not there yet) and hold their
    transactions open side by side until both are about to lock."""

    def __init__(self, engine: Engine, claim: Claim, barrier: threading.Barrier, clock: FakeClock) -> None:
        super().__init__(engine, write=True, idempotency=claim, clock=clock)
        self.barrier = barrier

    def lock_cells(self, cells: Iterable[int]) -> None:
        self.barrier.wait(timeout=30)
        super().lock_cells(cells)


def _count(engine: Engine, table: t.Table) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(table)).scalar_one())


def test_two_copies_of_one_keyed_write_at_once_make_one_write(
    engine: Engine, make_party: Callable[..., Party], clock: FakeClock
) -> None:
    a = make_party("A")
    for round_ in range(10 if engine.dialect.name != "sqlite" else 3):
        key = f"convoy-{round_}"
        sqlite = engine.dialect.name == "sqlite"  # one writer at a time: the copies meet at commit instead
        barrier = threading.Barrier(1 if sqlite else 2)
        outcomes: list[object] = []

        def go(copy: Claim, barrier: threading.Barrier = barrier, outcomes: list[object] = outcomes) -> None:
            try:
                outcomes.append(activities.notify(Copy(engine, copy, barrier, clock), Policy(), a, activity_body()))
            except StateConflict as e:
                outcomes.append(e)

        ts = [threading.Thread(target=go, args=(_claim(a, key),)) for _ in range(2)]
        for th in ts:
            th.start()
        for th in ts:
            th.join()
        refused = [o for o in outcomes if isinstance(o, StateConflict)]
        assert len(outcomes) == 2 and len(refused) == 1, outcomes
        assert "another request with this Idempotency-Key" in refused[0].detail
    assert _count(engine, t.activities) == _count(engine, t.idempotency_keys) == (10 if not sqlite else 3)


def test_the_kept_key_names_the_write_and_goes_after_a_day(
    engine: Engine, make_party: Callable[..., Party], clock: FakeClock
) -> None:
    a = make_party("A")
    claim = _claim(a)
    made = activities.notify(SqlUnitOfWork(engine, write=True, idempotency=claim, clock=clock), Policy(), a,
                             activity_body())  # fmt: skip
    assert claim.taken
    # before its answer is kept: a retry is told what was made
    with pytest.raises(StateConflict) as told:
        idempotency.recall(SqlUnitOfWork(engine), _claim(a))
    assert told.value.extra == {"entity_type": "activity", "entity_id": made.activity.id}
    idempotency.keep_answer(SqlUnitOfWork(engine, write=True), claim, 201, {"content-type": "application/json"}, b"{}")
    kept = idempotency.recall(SqlUnitOfWork(engine), _claim(a))
    json_type = {"content-type": "application/json"}
    assert kept is not None and (kept.status, kept.body, kept.headers) == (201, b"{}", json_type)
    uow = lambda: SqlUnitOfWork(engine, write=True, clock=clock)  # noqa: E731
    keep = upkeep.Retention(activities_days=None, track_hours=None, feed_days=None, idempotency_hours=24)
    clock.now += timedelta(hours=23)
    assert not upkeep.prune(uow, keep)
    clock.now += timedelta(hours=2)
    assert upkeep.prune(uow, keep).idempotency_keys == 1
    assert idempotency.recall(SqlUnitOfWork(engine), _claim(a)) is None  # a key a day old is a new key
