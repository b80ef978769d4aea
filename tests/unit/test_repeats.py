"""A plan repeated every so many days: its occurrences, and the repeats refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from shapely.geometry import box

from tests.helpers import T0, make_activity
from truceline.domain.errors import InvalidInput
from truceline.domain.model import AltitudeBand, TimeWindow
from truceline.domain.repeats import Repeat, Series, Timed, find_series, parse_repeat, repeated
from truceline.domain.volumes import format_time

H = timedelta(hours=1)
DAY = timedelta(days=1)
PATROL = make_activity(box(36.0, 32.0, 36.1, 32.1), window=TimeWindow(T0 + 6 * H, T0 + 10 * H)).volumes


def _pointer(e: pytest.ExceptionInfo[InvalidInput]) -> str:
    return e.value.errors[0].pointer


def test_every_day_until_a_time_each_occurrence_starting_before_it() -> None:
    got = repeated(PATROL, Repeat(1, T0 + 3 * DAY + 6 * H), max_volumes=100)  # the 4th would start at `until`
    assert [(v.window.start, v.window.end) for v in got] == [
        (T0 + k * DAY + 6 * H, T0 + k * DAY + 10 * H) for k in range(3)
    ]
    assert all(v.footprint is PATROL[0].footprint and v.altitude == PATROL[0].altitude for v in got)
    # what the API shows of each volume says its own times
    assert [v.source.get("time_start", {}).get("value") for v in got[1:]] == [
        format_time(T0 + k * DAY + 6 * H) for k in (1, 2)
    ]
    assert len(repeated(PATROL, Repeat(1, T0 + 3 * DAY + 6 * H + timedelta(seconds=1)), 100)) == 4
    assert len(repeated(PATROL, Repeat(7, T0 + 28 * DAY), 100)) == 4


def test_every_volume_of_the_plan_repeats_together() -> None:
    two = [*PATROL, *make_activity(box(36.2, 32.0, 36.3, 32.1), window=TimeWindow(T0 + 12 * H, T0 + 14 * H)).volumes]
    got = repeated(two, Repeat(1, T0 + 2 * DAY), 100)
    assert [v.window.start - T0 for v in got] == [6 * H, 12 * H, DAY + 6 * H, DAY + 12 * H]


def test_repeats_refused_with_the_field_and_the_reason() -> None:
    with pytest.raises(InvalidInput, match="longer than the 24 h between occurrences") as e:
        long = make_activity(box(36.0, 32.0, 36.1, 32.1), window=TimeWindow(T0, T0 + 30 * H)).volumes
        repeated(long, Repeat(1, T0 + 5 * DAY), 100)
    assert _pointer(e) == "/repeat/every_days"
    with pytest.raises(InvalidInput, match="must be after the first volume's start") as e:
        repeated(PATROL, Repeat(1, T0 + 6 * H), 100)
    assert _pointer(e) == "/repeat/until"
    with pytest.raises(InvalidInput, match=r"makes 120 occurrences of 1 volume.*more than the limit of 100") as e:
        repeated(PATROL, Repeat(1, T0 + 120 * DAY), 100)
    assert _pointer(e) == "/repeat/until"
    for bad, pointer in [
        ({"every_days": 0, "until": "2017-07-20T00:00:00Z"}, "/repeat/every_days"),
        ({"every_days": True, "until": "2017-07-20T00:00:00Z"}, "/repeat/every_days"),
        ({"every_days": 1.5, "until": "2017-07-20T00:00:00Z"}, "/repeat/every_days"),
        ({"every_days": 1}, "/repeat/until"),
        ({"every_days": 1, "until": "next week"}, "/repeat/until"),
        ({"every_days": 1, "until": "2017-07-20T00:00:00Z", "times": 3}, "/repeat/times"),
        ("daily", "/repeat"),
    ]:
        with pytest.raises(InvalidInput) as e:
            parse_repeat(bad)
        assert _pointer(e) == pointer, bad
    assert parse_repeat(None) is None
    assert parse_repeat({"every_days": 7, "until": "2017-07-31T00:00:00Z"}) == Repeat(7, T0 + 21 * DAY)


def _timed(volumes: list[Any]) -> list[Timed]:
    return [(v.window.start, v.window.end, (v.footprint.wkb, v.altitude)) for v in volumes]


def test_stored_volumes_read_back_as_the_repeat_that_made_them() -> None:
    two = [*PATROL, *make_activity(box(36.2, 32.0, 36.3, 32.1), window=TimeWindow(T0 + 12 * H, T0 + 14 * H)).volumes]
    for first, every, times in ((PATROL, 1, 30), (PATROL, 7, 4), (two, 1, 5), (two, 3, 2), (PATROL, 366, 2)):
        made = repeated(first, Repeat(every, T0 + (every * (times - 1)) * DAY + 6 * H + timedelta(seconds=1)), 100)
        assert len(made) == len(first) * times
        assert find_series(_timed(made)) == Series(len(first), every, times), (len(first), every, times)
    assert Series(1, 1, 30).describe() == "every day, 30 times"
    assert Series(1, 7, 4).describe() == "every week, 4 times"
    assert Series(2, 3, 2).describe() == "every 3 days, 2 times"


def test_volumes_that_no_repeat_makes_read_as_they_are() -> None:
    daily = repeated(PATROL, Repeat(1, T0 + 3 * DAY), 100)
    moved = [*daily[:2], replace(daily[2], window=TimeWindow(daily[2].window.start + H, daily[2].window.end + H))]
    elsewhere = make_activity(box(36.5, 32.0, 36.6, 32.1), window=daily[2].window).volumes
    higher = [replace(daily[2], altitude=AltitudeBand(0, 9_000))]
    longer = [replace(daily[2], window=TimeWindow(daily[2].window.start, daily[2].window.end + H))]
    half_days = [PATROL[0], replace(PATROL[0], window=TimeWindow(T0 + 18 * H, T0 + 22 * H))]
    for volumes in ([], PATROL, moved, [*daily[:2], *elsewhere], [*daily[:2], *higher], [*daily[:2], *longer],
                    half_days, [*daily, daily[0]]):  # fmt: skip
        assert find_series(_timed(volumes)) is None
