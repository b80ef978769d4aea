"""Notify decides in a crowded area before the write lock (``detection.look``) and, under the lock,
decides again only what changed since. Here another writer's change lands exactly between the two:
the result must be what a notification made after that change would find. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.conftest import FakeClock
from tests.helpers import activity_body, square, zone_in_force
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.domain.model import ConflictRule, Party
from truceline.services import activities, detection, zones
from truceline.services.policy import Policy

Uow = Callable[[], SqlUnitOfWork]


class Meanwhile(SqlUnitOfWork):
    """A notify's unit of work during which ``change`` commits after ``look`` has read the store and
    before the write transaction begins: the worst moment for a decision taken early."""

    def __init__(self, engine: Engine, clock: FakeClock, change: Callable[[], object]) -> None:
        super().__init__(engine, write=True, clock=clock)
        self.change = change
        self.looked = 0

    def reader(self) -> Any:
        @contextmanager
        def then_change() -> Iterator[SqlUnitOfWork]:
            with super(Meanwhile, self).reader() as view:
                yield view
            self.looked += 1
            self.change()

        return then_change()


@pytest.fixture(autouse=True)
def _crowded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every area counts as crowded, so every notify looks first."""
    monkeypatch.setattr(detection.crowding, "crowded", lambda cells: True)


@pytest.fixture
def interleaved(engine: Engine, clock: FakeClock) -> Callable[[Callable[[], object]], Meanwhile]:
    return lambda change: Meanwhile(engine, clock, change)


def _rules(result: activities.ActivityResult) -> list[tuple[ConflictRule, tuple[str, ...]]]:
    return [(c.rule, tuple(c.activity_ids)) for c in result.conflicts]


def test_a_candidate_that_moves_away_meanwhile_is_decided_again(
    uow: Uow, policy: Policy, make_party: Callable[..., Party], interleaved: Callable[..., Meanwhile]
) -> None:
    a, b = make_party("A"), make_party("B")
    rb = activities.notify(uow(), policy, b, activity_body(lng=36.51))
    # Still in the cells searched (a candidate), no longer within the margin: only its version tells.
    away = activity_body(lng=36.5 + 0.075, radius=500.0)
    moved = interleaved(lambda: activities.update(uow(), policy, b, rb.activity.id, away))
    ra = activities.notify(moved, policy, a, activity_body())
    assert moved.looked == 1
    assert ra.conflicts == []  # the look saw the overlap; the activity had left by the time of the lock
    far = activities.notify(uow(), policy, b, activity_body(lng=36.51))
    gone = interleaved(lambda: activities.update(uow(), policy, b, far.activity.id, activity_body(lng=37.5)))
    assert activities.notify(gone, policy, a, activity_body(lat=32.9)).conflicts == []


def test_a_candidate_cancelled_meanwhile_is_decided_again(
    uow: Uow, policy: Policy, make_party: Callable[..., Party], interleaved: Callable[..., Meanwhile]
) -> None:
    a, b = make_party("A"), make_party("B")
    rb = activities.notify(uow(), policy, b, activity_body(lng=36.51))
    cancelled = interleaved(lambda: activities.cancel(uow(), policy, b, rb.activity.id))
    assert activities.notify(cancelled, policy, a, activity_body()).conflicts == []


def test_a_candidate_that_moves_in_meanwhile_conflicts(
    uow: Uow, policy: Policy, make_party: Callable[..., Party], interleaved: Callable[..., Meanwhile]
) -> None:
    a, b = make_party("A"), make_party("B")
    # Near enough to be a candidate (same cells), too far to conflict: 3 km apart, margin 1 km.
    rb = activities.notify(uow(), policy, b, activity_body(lng=36.5 + 0.075, radius=500.0))
    closer = interleaved(lambda: activities.update(uow(), policy, b, rb.activity.id, activity_body(lng=36.51)))
    ra = activities.notify(closer, policy, a, activity_body())
    assert _rules(ra) == [(ConflictRule.overlap, tuple(sorted((ra.activity.id, rb.activity.id))))]


def test_an_activity_notified_meanwhile_conflicts(
    uow: Uow, policy: Policy, make_party: Callable[..., Party], interleaved: Callable[..., Meanwhile]
) -> None:
    a, b = make_party("A"), make_party("B")
    made: list[activities.ActivityResult] = []
    newcomer = interleaved(lambda: made.append(activities.notify(uow(), policy, b, activity_body(lng=36.51))))
    ra = activities.notify(newcomer, policy, a, activity_body())
    assert _rules(ra) == [(ConflictRule.overlap, tuple(sorted((ra.activity.id, made[0].activity.id))))]


def test_a_zone_that_enters_or_leaves_force_meanwhile_is_decided_again(
    uow: Uow, policy: Policy, make_party: Callable[..., Party], interleaved: Callable[..., Meanwhile]
) -> None:
    a, g = make_party("A"), make_party("G")
    zone = dict(geometry=square(36.5, 32.8, 0.2), forbidden_kinds=["ground"])
    entering = interleaved(lambda: zone_in_force(uow, policy, g, name="enters", **zone))
    ra = activities.notify(entering, policy, a, activity_body())
    assert [c.rule for c in ra.conflicts] == [ConflictRule.zone_rule]

    z = zone_in_force(uow, policy, g, name="leaves", **{**zone, "geometry": square(38.0, 33.5, 0.2)})
    leaving = interleaved(lambda: zones.lapse(uow(), policy, g, z.id))
    assert activities.notify(leaving, policy, a, activity_body(lng=38.0, lat=33.5)).conflicts == []


def test_candidates_unchanged_since_the_look_are_not_decided_again(
    uow: Uow,
    policy: Policy,
    make_party: Callable[..., Party],
    interleaved: Callable[..., Meanwhile],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b, c = make_party("A"), make_party("B"), make_party("C")
    near = [activities.notify(uow(), policy, p, activity_body(lng=36.5 + 0.004 * i)) for i, p in enumerate((b, c, b))]
    decided: list[list[str]] = []
    real_find = detection.find

    def spy(subject: Any, *, activities: Any = (), **kw: Any) -> Any:
        decided.append(sorted(x.id for x in activities))
        return real_find(subject, activities=activities, **kw)

    monkeypatch.setattr(detection, "find", spy)
    made: list[activities.ActivityResult] = []
    newcomer = interleaved(lambda: made.append(activities.notify(uow(), policy, c, activity_body(lng=36.52))))
    ra = activities.notify(newcomer, policy, a, activity_body())
    # In order: the newcomer's look (B's two), its decisions under the lock (none changed, so none),
    # A's look (all three), and A's under the lock: only the newcomer, notified in between.
    olds = sorted(r.activity.id for r in near)
    b_ids = sorted(r.activity.id for r in near if r.activity.party_id == b.id)
    assert decided == [b_ids, [], olds, [made[0].activity.id]]
    assert sorted(x for cf in ra.conflicts for x in cf.activity_ids if x != ra.activity.id) == sorted(
        [*olds, made[0].activity.id]
    )


def test_crowding_remembers_busy_cells_and_forgets_quiet_ones() -> None:
    crowd = detection.Crowding()
    assert not crowd.crowded({1, 2})
    crowd.found({1, 2}, crowd.THRESHOLD)
    assert crowd.crowded({2, 3}) and not crowd.crowded({3})
    crowd.found({2}, crowd.THRESHOLD - 1)
    assert crowd.crowded({1}) and not crowd.crowded({2})


def test_notify_looks_first_only_where_it_last_found_a_crowd(
    uow: Uow,
    policy: Policy,
    make_party: Callable[..., Party],
    interleaved: Callable[..., Meanwhile],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(detection, "crowding", detection.Crowding())  # the real test, not the fixture's
    a, b = make_party("A"), make_party("B")
    for i in range(detection.Crowding.THRESHOLD):
        activities.notify(uow(), policy, b, activity_body(lng=36.5 + 0.003 * i))
    first, second, quiet = (interleaved(lambda: None) for _ in range(3))
    assert len(activities.notify(first, policy, a, activity_body()).conflicts) == detection.Crowding.THRESHOLD
    activities.notify(second, policy, a, activity_body(lng=36.502))
    activities.notify(quiet, policy, a, activity_body(lng=38.5, lat=34.0))
    assert (first.looked, second.looked, quiet.looked) == (0, 1, 0)
