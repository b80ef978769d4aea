"""Writers lock hotline threads in one order, so two of them can never deadlock on a pair of threads."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

import pytest
from sqlalchemy import event

from tests.helpers import activity_body
from truceline.adapters.hotline_store import HotlineRepository
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.domain.model import Party
from truceline.services import activities, hotline
from truceline.services.policy import Policy


def test_a_notification_posts_to_its_threads_in_id_order(
    uow: Callable[[], SqlUnitOfWork], policy: Policy, make_party: Callable[..., Party], monkeypatch: pytest.MonkeyPatch
) -> None:
    a = make_party("A")
    others = {n: make_party(n) for n in "BCDEF"}
    # A's threads with the others are opened in an order unlike the parties' (F, D, B, E, C), each by
    # a conflict of its own somewhere else.
    for i, n in enumerate("FDBEC"):
        lng = 37.0 + 0.2 * i
        activities.notify(uow(), policy, others[n], activity_body(lng=lng))
        activities.notify(uow(), policy, a, activity_body(lng=lng))
    threads, _, _ = hotline.threads(uow(), a, limit=100, offset=0)
    assert len(threads) == 5
    # Then B to F each notify a plan at one place, and A's plan there conflicts with all five.
    for p in others.values():
        activities.notify(uow(), policy, p, activity_body())
    touched: list[str] = []
    real_touch = HotlineRepository.touch

    def spy(self: HotlineRepository, thread_ids: Iterable[str], at: datetime) -> None:
        ids = list(thread_ids)
        touched.extend(ids)
        real_touch(self, ids, at)

    monkeypatch.setattr(HotlineRepository, "touch", spy)
    writer = uow()
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.split()[:3]))

    event.listen(writer.engine, "before_cursor_execute", count)
    try:
        r = activities.notify(writer, policy, a, activity_body())
    finally:
        event.remove(writer.engine, "before_cursor_execute", count)
    assert len(r.conflicts) == 5
    assert sorted(touched) == sorted(th.id for th in threads)  # each of A's five threads, once
    assert touched == sorted(touched)
    # Five Alerts in five threads: one statement for the threads, the messages and their addressees.
    assert statements.count("UPDATE threads SET") == 1
    assert statements.count("INSERT INTO messages") == 1
    assert statements.count("INSERT INTO message_addressees") == 1
