"""The SQL cell index, through the full notify path, against the exhaustive oracle."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.helpers import T0, circle_volume
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.domain.conflicts import Margins, check_overlap
from truceline.domain.model import Party
from truceline.services import activities
from truceline.services.policy import Policy


def test_notify_finds_exactly_the_exhaustive_conflicts(
    uow: Callable[[], SqlUnitOfWork], policy: Policy, make_party: Callable[..., Party]
) -> None:
    rng = random.Random(2017)
    teams = [make_party(f"T{i}") for i in range(4)]
    stored = []
    for _ in range(120):
        p = rng.choice(teams)
        start = T0 + timedelta(hours=rng.randint(0, 48))
        lo = rng.choice([0, 1000, 1149, 1151, 2500])
        body = {
            "kind": "ground",
            "title": "x",
            "volumes": [
                circle_volume(
                    33.0 + rng.uniform(-0.15, 0.15),
                    36.0 + rng.uniform(-0.15, 0.15),
                    rng.uniform(50, 4000),
                    start,
                    start + timedelta(hours=rng.randint(1, 8)),
                    lo,
                    lo + 500,
                )
            ],
        }
        r = activities.notify(uow(), policy, p, body)
        found = {c.id for c in r.conflicts}
        expected = {d.conflict_id for d in (check_overlap(r.activity, o, Margins()) for o in stored) if d.conflict}
        assert found == expected
        stored.append(r.activity)
    assert sum(1 for _ in stored) == 120


def test_stored_footprints_decode_once_and_stay_true(
    uow: Callable[[], SqlUnitOfWork], policy: Policy, make_party: Callable[..., Party], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store hands back one footprint object per stored shape (conflict detection reuses its
    projections); a shape changed by an update is a new object, and the cache keeps to its bound."""
    from truceline.adapters import repositories as repo

    party = make_party("A")
    made = [
        activities.notify(uow(), policy, party, {"kind": "ground", "title": f"a{i}", "volumes": [
            circle_volume(32.8, 36.0 + 0.05 * i, 500.0 + 100 * i, T0, T0 + timedelta(hours=1))
        ]}).activity
        for i in range(6)
    ]
    ids = [a.id for a in made]

    def footprints() -> list[object]:
        with uow() as u:
            return [a.volumes[0].footprint for a in u.activities.get_many(ids)]

    first, again = footprints(), footprints()
    assert all(x is y for x, y in zip(first, again, strict=True))
    assert [f.equals(a.volumes[0].footprint) for f, a in zip(first, made, strict=True)] == [True] * 6  # type: ignore[attr-defined]
    moved = activities.update(uow(), policy, party, ids[0], {"kind": "ground", "title": "moved", "volumes": [
        circle_volume(33.5, 37.0, 800.0, T0, T0 + timedelta(hours=1))
    ]}).activity
    now = footprints()
    assert now[0] is not first[0] and now[0].equals(moved.volumes[0].footprint)  # type: ignore[attr-defined]
    monkeypatch.setattr(repo._footprint_cache, "budget", 3000)  # about two circles
    repo._footprint_cache.clear()
    for _ in range(3):
        for i, want in zip(ids, now, strict=True):
            with uow() as u:
                (got,) = u.activities.get_many([i])
            assert got.volumes[0].footprint.equals(want)  # type: ignore[attr-defined]
            assert sum(len(k) for k in repo._footprint_cache) <= 3000
