"""The SQL cell index, through the full notify path, against the exhaustive oracle."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

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
