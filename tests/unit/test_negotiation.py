"""The status sign-offs and the clock imply, case by case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from truceline.domain.model import TimeWindow, ZoneStatus
from truceline.domain.negotiation import Agreement, Position, Stance, agreement, status_after, unsigned

T = datetime(2017, 7, 9, 9, tzinfo=UTC)
H = timedelta(hours=1)


def st(party: str, position: Position, rev: int = 1, at: datetime = T) -> Stance:
    return Stance(party, rev, position, "", at)


@pytest.mark.parametrize(
    ("stances", "expected"),
    [
        ([], Agreement.none),
        ([st("US", Position.final)], Agreement.none),
        ([st("US", Position.final), st("RU", Position.in_principle)], Agreement.in_principle),
        ([st("US", Position.final), st("RU", Position.final)], Agreement.final),
        ([st("US", Position.final), st("RU", Position.final, rev=0)], Agreement.none),  # another revision's sign-off
        ([st("US", Position.final), st("RU", Position.final), st("RU", Position.objection, at=T + H)], Agreement.none),
        ([st("US", Position.final), st("RU", Position.objection), st("RU", Position.final, at=T + H)], Agreement.final),
    ],
)
def test_agreement_takes_each_partys_latest_position(stances: list[Stance], expected: Agreement) -> None:
    assert agreement(["US", "RU"], stances, 1) is expected


def test_unsigned() -> None:
    s = [st("US", Position.final), st("RU", Position.in_principle)]
    assert unsigned(["US", "RU", "JO"], s, 1, final=False) == ["JO"]
    assert unsigned(["US", "RU", "JO"], s, 1, final=True) == ["RU", "JO"]
    assert agreement([], s, 1) is Agreement.none


W = TimeWindow(T, T + 48 * H)


@pytest.mark.parametrize(
    ("current", "agreed", "now", "started", "expected"),
    [
        (ZoneStatus.proposed, Agreement.none, T, False, ZoneStatus.proposed),
        (ZoneStatus.proposed, Agreement.none, T, True, ZoneStatus.negotiating),
        (ZoneStatus.negotiating, Agreement.in_principle, T, True, ZoneStatus.agreed_in_principle),
        (ZoneStatus.negotiating, Agreement.final, T - H, True, ZoneStatus.agreed_in_principle),  # before effective_from
        (ZoneStatus.agreed_in_principle, Agreement.final, T, True, ZoneStatus.in_force),
        (ZoneStatus.agreed_in_principle, Agreement.none, T, True, ZoneStatus.negotiating),  # a new revision
        (ZoneStatus.in_force, Agreement.none, T + H, True, ZoneStatus.in_force),  # force is not undone by paperwork
        (ZoneStatus.in_force, Agreement.final, T + 48 * H, True, ZoneStatus.lapsed),  # the end of the period
        (ZoneStatus.suspended, Agreement.final, T + 49 * H, True, ZoneStatus.lapsed),
        (ZoneStatus.withdrawn, Agreement.final, T, True, ZoneStatus.withdrawn),
        (ZoneStatus.lapsed, Agreement.final, T, True, ZoneStatus.lapsed),
    ],
)
def test_status_after(
    current: ZoneStatus, agreed: Agreement, now: datetime, started: bool, expected: ZoneStatus
) -> None:
    assert status_after(current, agreed, W, now, negotiation_started=started) is expected
