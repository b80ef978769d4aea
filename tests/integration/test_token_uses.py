"""Each token's last use, written in batches by every process: the latest use wins whatever order
the processes write in, and a write that fails loses nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.domain.model import Credential, Role
from truceline.services import parties
from truceline.services.token_uses import TokenUses

T0 = datetime(2017, 7, 9, 12, tzinfo=UTC)


def _stored(uow: Callable[[], SqlUnitOfWork], party_id: str) -> Credential:
    with uow() as u:
        (c,) = u.parties.credentials(party_id)
        return c


def test_the_latest_use_wins_whichever_process_writes_last(uow: Callable[[], SqlUnitOfWork]) -> None:
    p, _ = parties.add(uow(), name="Desk", role=Role.officer)
    c = _stored(uow, p.id)
    one, two = TokenUses(), TokenUses()  # two server processes
    one.note(c, T0 + timedelta(minutes=5), "10.0.0.1")
    two.note(c, T0 + timedelta(minutes=2), "10.0.0.2")
    assert one.flush(uow()) == 1 and two.flush(uow()) == 1  # the older use is written last
    stored = _stored(uow, p.id)
    assert (stored.last_used_at, stored.last_used_from) == (T0 + timedelta(minutes=5), "10.0.0.1")
    assert one.flush(uow()) == 0  # nothing new


class _Failing:
    """A unit of work whose commit fails (the database is away)."""

    def __init__(self, inner: SqlUnitOfWork) -> None:
        self.inner = inner
        self.parties = None

    def __enter__(self) -> Any:
        self.inner.__enter__()
        self.parties = self.inner.parties
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.__exit__(*exc)

    def commit(self) -> None:
        raise OSError("disk went away")


def test_a_failed_write_keeps_the_uses_for_the_next_one(uow: Callable[[], SqlUnitOfWork]) -> None:
    p, _ = parties.add(uow(), name="Desk", role=Role.officer)
    c = _stored(uow, p.id)
    uses = TokenUses()
    uses.note(c, T0, "10.0.0.1")
    with pytest.raises(OSError):
        uses.flush(_Failing(uow()))  # type: ignore[arg-type]
    assert _stored(uow, p.id).last_used_at is None
    assert uses.flush(uow()) == 1
    assert _stored(uow, p.id).last_used_at == T0
