"""Detection reads its candidates through ``get_many_shared``: a version loaded once is served from
memory after one light read of the versions. It must read what ``get_many`` reads, and a change (a new
version) must never be served stale. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event

from tests.helpers import activity_body
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.domain.model import ActivityStatus, Party
from truceline.services import activities
from truceline.services.policy import Policy

Uow = Callable[[], SqlUnitOfWork]


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_shared_reads_read_what_get_many_reads_and_load_a_version_once(
    engine: Engine, uow: Uow, policy: Policy, make_party: Callable[..., Party]
) -> None:
    a = make_party("A")
    ids = [activities.notify(uow(), policy, a, activity_body(lng=36.0 + i * 0.1)).activity.id for i in range(5)]
    wanted = [ids[3], ids[0], ids[4], "no-such-activity"]
    with SqlUnitOfWork(engine) as view:
        plain = view.activities.get_many(wanted)
    with statements(engine) as first, SqlUnitOfWork(engine) as view:
        shared = view.activities.get_many_shared(wanted)
    assert [x.id for x in shared] == [x.id for x in plain] == [ids[3], ids[0], ids[4]]  # in the order asked
    assert shared == plain
    assert any("activity_volumes" in s for s in first)
    with statements(engine) as again, SqlUnitOfWork(engine) as view:
        assert view.activities.get_many_shared(wanted) == plain
    # known versions: only the light read of versions, no volumes, no footprints
    reads = [s for s in again if s != "BEGIN"]  # SQLite's BEGIN is ours, a statement of its own
    assert len(reads) == 1 and "activity_volumes" not in reads[0] and "version" in reads[0]


def test_a_changed_activity_is_never_served_stale(
    engine: Engine, uow: Uow, policy: Policy, make_party: Callable[..., Party]
) -> None:
    a = make_party("A")
    r = activities.notify(uow(), policy, a, activity_body(title="first plan"))

    def shared() -> list[object]:
        with SqlUnitOfWork(engine) as view:
            return list(view.activities.get_many_shared([r.activity.id]))

    (before,) = shared()
    moved = activity_body(title="moved east", lng=36.9)
    activities.update(uow(), policy, a, r.activity.id, moved)
    (after,) = shared()
    assert after.version == before.version + 1 and after.title == "moved east"  # type: ignore[attr-defined]
    assert after.volumes[0].footprint.centroid.x > 36.8  # type: ignore[attr-defined]
    activities.cancel(uow(), policy, a, r.activity.id)
    (gone,) = shared()
    assert gone.status is ActivityStatus.cancelled  # type: ignore[attr-defined]
    with SqlUnitOfWork(engine) as view:
        assert view.activities.get_many([r.activity.id]) == [gone]
