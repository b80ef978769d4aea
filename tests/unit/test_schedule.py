"""A zone's hours: the active stretches of a window against a minute-by-minute oracle, their parsing,
and the zone rule read through them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from tests.helpers import T0, make_activity, make_zone
from truceline.domain.conflicts import MAX_SCHEDULED_REGIONS, check_zone
from truceline.domain.errors import InvalidInput
from truceline.domain.model import TimeWindow
from truceline.domain.schedule import DAYS, DailyPeriod, Schedule, parse_schedule

M = timedelta(minutes=1)

periods = st.builds(
    DailyPeriod,
    days=st.frozensets(st.integers(0, 6), min_size=1),
    start=st.integers(0, 95).map(lambda q: q * 15),
    end=st.integers(1, 96).map(lambda q: q * 15),
).filter(lambda p: p.start != p.end)


def _oracle(schedule: Schedule, t: datetime) -> bool:
    """Is minute ``t`` inside a period, read the slow way: the period of t's day, or of the day before
    running on past midnight."""
    for p in schedule.periods:
        for back in (0, 1):
            day = (t - timedelta(days=back)).replace(hour=0, minute=0)
            if day.weekday() in p.days and day + p.start * M <= t < day + p.start * M + p.length:
                return True
    return False


@settings(max_examples=300, deadline=None)
@given(
    st.lists(periods, min_size=1, max_size=3),
    st.integers(0, 14 * 24 * 60),
    st.integers(1, 3 * 24 * 60),
)
def test_active_stretches_are_exactly_the_minutes_the_rules_apply(
    chosen: list[DailyPeriod], offset: int, length: int
) -> None:
    schedule = Schedule(tuple(chosen))
    window = TimeWindow(T0 + offset * M, T0 + (offset + length) * M)
    stretches = schedule.active(window)
    for a, b in pairwise(stretches):
        assert a.end is not None and a.end < b.start  # in order, apart: touching ones are joined
    inside = {int((s.start - window.start) / M) + k for s in stretches for k in range(int((s.end - s.start) / M))}
    assert inside == {k for k in range(length) if _oracle(schedule, window.start + k * M)}


def test_a_night_period_belongs_to_the_day_it_starts() -> None:
    friday_nights = parse_schedule([{"days": ["FRI"], "start": "22:00", "end": "05:00"}])
    assert friday_nights is not None
    week = TimeWindow(T0, T0 + timedelta(days=7))  # T0 is Monday 10 July 2017
    (night,) = friday_nights.active(week)
    assert (night.start, night.end) == (T0 + timedelta(days=4, hours=22), T0 + timedelta(days=5, hours=5))
    assert friday_nights.is_active(T0 + timedelta(days=5, hours=4, minutes=59))
    assert not friday_nights.is_active(T0 + timedelta(days=5, hours=5))
    assert friday_nights.describe() == "FRI 22:00–05:00 UTC"
    whole = parse_schedule([{"days": ["ANY"], "start": "00:00", "end": "24:00"}])
    assert whole is not None and whole.active(week) == [week] and whole.describe() == "daily 00:00–24:00 UTC"
    assert whole.to_json() == [{"days": ["ANY"], "start": "00:00", "end": "24:00"}]


def test_a_long_window_keeps_a_bounded_count_of_stretches() -> None:
    nightly = parse_schedule([{"start": "22:00", "end": "05:00"}])  # days default to every day
    assert nightly is not None
    year = TimeWindow(T0, T0 + timedelta(days=365))
    stretches = nightly.active(year, at_most=31)
    assert len(stretches) == 31 and stretches[-1].end == T0 + timedelta(days=364, hours=24)
    assert len(nightly.active(year)) == 366  # the night before T0 runs into it


@pytest.mark.parametrize(
    ("value", "pointer", "words"),
    [
        ("nightly", "/schedule", "a list of at most"),
        ([{"start": "22:00"}], "/schedule/0/end", "HH:MM"),
        ([{"start": "25:00", "end": "05:00"}], "/schedule/0/start", "HH:MM"),
        ([{"start": "7:00", "end": "09:00"}], "/schedule/0/start", "HH:MM"),
        ([{"start": "24:00", "end": "05:00"}], "/schedule/0/start", "before 24:00"),
        ([{"start": "22:00", "end": "22:00"}], "/schedule/0/end", "must differ"),
        ([{"days": ["FRIDAY"], "start": "22:00", "end": "05:00"}], "/schedule/0/days", "unknown day 'FRIDAY'"),
        ([{"days": [], "start": "22:00", "end": "05:00"}], "/schedule/0/days", "a list of days"),
        ([{"start": "22:00", "end": "05:00", "tz": "Asia/Damascus"}], "/schedule/0", "a period is"),
        ([{"start": "00:00", "end": "01:00"}] * 29, "/schedule", "at most 28"),
    ],
)
def test_a_bad_schedule_is_refused_naming_where(value: Any, pointer: str, words: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_schedule(value)
    assert e.value.errors[0].pointer == pointer and words in e.value.errors[0].reason
    assert parse_schedule(None) is None and parse_schedule([]) is None
    assert [DAYS[d] for d in sorted(parse_schedule([{"days": ["sat", "Sun"], "start": "06:00", "end": "18:00"}])
                                     .periods[0].days)] == ["SAT", "SUN"]  # type: ignore[union-attr]  # fmt: skip


NIGHTS = parse_schedule([{"days": ["ANY"], "start": "22:00", "end": "05:00"}])
AREA = box(36.0, 33.0, 36.05, 33.05)


def _activity(start_h: float, end_h: float) -> Any:
    return make_activity(AREA, window=TimeWindow(T0 + timedelta(hours=start_h), T0 + timedelta(hours=end_h)))


def test_the_zone_rule_applies_only_in_the_zone_s_hours() -> None:
    zone = replace(make_zone(AREA), schedule=NIGHTS)
    evening = check_zone(_activity(20, 23), zone)
    assert evening.conflict and [(r.window.start, r.window.end) for r in evening.regions] == [
        (T0 + timedelta(hours=22), T0 + timedelta(hours=23))
    ]
    assert "which is in force (daily 22:00–05:00 UTC) and forbids ground" in evening.reason
    day = check_zone(_activity(6, 21), zone)
    assert not day.conflict
    assert day.reason.endswith("is in force during its hours (daily 22:00–05:00 UTC)")
    two_nights = check_zone(_activity(20, 48 + 2), zone)  # Monday 20:00 to Wednesday 02:00
    spans = [(r.window.start.day, r.window.start.hour, r.window.end.day, r.window.end.hour) for r in two_nights.regions]
    assert spans == [(10, 22, 11, 5), (11, 22, 12, 2)]
    assert check_zone(_activity(6, 21), replace(zone, schedule=None)).conflict  # no hours: all the time
    year = check_zone(_activity(0, 24 * 365), zone)
    assert len(year.regions) == MAX_SCHEDULED_REGIONS and year.regions[-1].window.end == T0 + timedelta(days=365)
