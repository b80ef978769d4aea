"""Two parties notify overlapping activities at the same instant: each must see the other's conflict.
A zone entering force at the same instant as a notification inside it must not miss it either."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.helpers import activity_body, square, zone_body
from truceline.adapters import repositories
from truceline.adapters.db import make_engine
from truceline.adapters.migrate import upgrade
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.domain.errors import StateConflict
from truceline.domain.model import Credential, Party
from truceline.services import activities, conflicts, hotline, parties, zones
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


def _store(url: str, *names: str) -> tuple[Engine, list[Party]]:
    """A migrated store with an officer party of each name."""
    engine = make_engine(url)
    upgrade(engine)
    return engine, [parties.add(SqlUnitOfWork(engine, write=True), name=n, role="officer")[0] for n in names]


def test_simultaneous_overlapping_notifications_see_each_other(pg_url: str) -> None:
    engine, (a, b) = _store(pg_url, "A", "B")
    for i in range(40):
        _race(engine, a, b, 30.0 + i * 0.5)  # a fresh, empty place each round
    engine.dispose()


def _zone_race(engine: Engine, z: Party, a: Party, lng: float) -> None:
    """``z`` signs a zone final (it enters force) while ``a`` notifies ground activity inside it."""
    policy = Policy()
    body = zone_body(name=f"zone at {lng}", geometry=square(lng, 32.8, 0.1))
    zone = zones.create(SqlUnitOfWork(engine, write=True), policy, z, body).zone
    barrier = threading.Barrier(2)
    done: dict[str, object] = {}

    def sign() -> None:
        done["zone"] = zones.take_position(
            RacingUnitOfWork(engine, barrier), policy, z, zone.id, {"revision": zone.revision, "strength": "final"}
        )

    def notify() -> None:
        done["activity"] = activities.notify(RacingUnitOfWork(engine, barrier), policy, a, activity_body(lng=lng))

    ts = [threading.Thread(target=f) for f in (sign, notify)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert set(done) == {"zone", "activity"}
    activity_id = done["activity"].activity.id  # type: ignore[attr-defined]
    found = [
        c
        for c in conflicts.list_conflicts(SqlUnitOfWork(engine), a)
        if c.zone_id == zone.id and activity_id in c.activity_ids
    ]
    assert len(found) == 1, f"round at {lng}: the zone's conflict with the activity was missed"


def test_zone_entering_force_sees_a_simultaneous_notification(pg_url: str) -> None:
    engine, (z, a) = _store(pg_url, "Z", "A")
    for i in range(30):
        _zone_race(engine, z, a, 20.0 + i * 0.5)
    engine.dispose()


def test_conflicts_in_two_places_at_once_share_one_thread(pg_url: str) -> None:
    """A's two plans conflict with B's, in two places, committed side by side: both conflicts open
    the automatic A/B thread; one creates it and the other joins it, neither fails."""
    engine, (a, b) = _store(pg_url, "A", "B")
    policy = Policy()
    places = (40.0, 44.0)
    for lng in places:
        activities.notify(SqlUnitOfWork(engine, write=True), policy, b, activity_body(lng=lng))
    barrier = threading.Barrier(2)
    done: list[object] = []
    errors: list[BaseException] = []

    def go(lng: float) -> None:
        try:
            done.append(activities.notify(RacingUnitOfWork(engine, barrier), policy, a, activity_body(lng=lng)))
        except BaseException as e:  # reported below
            errors.append(e)

    ts = [threading.Thread(target=go, args=(lng,)) for lng in places]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors
    assert sum(len(r.conflicts) for r in done) == 2  # type: ignore[attr-defined]
    threads, _, _ = hotline.threads(SqlUnitOfWork(engine), a, limit=10, offset=0)
    assert len(threads) == 1 and set(threads[0].members) == {a.id, b.id}
    _, alerts, _ = hotline.thread(SqlUnitOfWork(engine), a, threads[0].id, after=None, limit=10)
    assert len(alerts) == 2
    engine.dispose()


def test_sqlite_writers_serialise(tmp_path: Path) -> None:
    engine, (a, b) = _store(f"sqlite:///{tmp_path / 'race.db'}", "A", "B")
    for i in range(10):
        _race(engine, a, b, 30.0 + i * 0.5)
    engine.dispose()


def test_two_officers_revoking_a_partys_last_two_tokens_at_once_leave_it_one(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each revocation checks that another working token remains; the party's row is locked, so two
    at once cannot each leave the other as the last and revoke it too."""
    engine, (a,) = _store(pg_url, "A")
    spare, _ = parties.issue_credential(SqlUnitOfWork(engine, write=True), a, a.id, {"label": "desk"})
    first = next(c for c in parties.credentials(SqlUnitOfWork(engine), a, a.id) if c.id != spare.id)
    both_read = threading.Barrier(2)
    read = repositories.PartyRepository.credentials

    def read_then_wait(self: repositories.PartyRepository, party_id: str) -> list[Credential]:
        held = read(self, party_id)
        with contextlib.suppress(threading.BrokenBarrierError):  # both read before either revokes, unless
            both_read.wait(timeout=2)  # the first holds the party's row (as it should)
        return held

    monkeypatch.setattr(repositories.PartyRepository, "credentials", read_then_wait)
    outcomes: dict[str, str] = {}

    def revoke(credential_id: str) -> None:
        try:
            parties.revoke_credential(SqlUnitOfWork(engine, write=True), a, a.id, credential_id)
            outcomes[credential_id] = "revoked"
        except StateConflict as e:
            outcomes[credential_id] = str(e)

    ts = [threading.Thread(target=revoke, args=(c,)) for c in (first.id, spare.id)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    monkeypatch.undo()
    assert sorted(o == "revoked" for o in outcomes.values()) == [False, True], outcomes
    assert any("last working token" in o for o in outcomes.values())
    working = [c for c in parties.credentials(SqlUnitOfWork(engine), a, a.id) if c.revoked_at is None]
    assert len(working) == 1
