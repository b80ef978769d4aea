"""A plan that happens again: a patrol every day at the same hours, a convoy every week. It is
notified once, with its volumes repeated every so many days until a time, and stored as the volumes
it makes, so detection, exports and the map see each occurrence as any other volume."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from truceline.domain.errors import InvalidInput
from truceline.domain.model import TimeWindow, Volume
from truceline.domain.volumes import format_time, parse_time

MAX_EVERY_DAYS = 366


@dataclass(frozen=True)
class Repeat:
    every_days: int
    #: occurrences start before this
    until: datetime

    @property
    def every(self) -> timedelta:
        return timedelta(days=self.every_days)

    def describe(self) -> str:
        often = "every day" if self.every_days == 1 else f"every {self.every_days} days"
        return f"{often} until {format_time(self.until)}"


def parse_repeat(obj: object, pointer: str = "/repeat") -> Repeat | None:
    """``{"every_days": N, "until": RFC 3339}``; None when absent."""
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise InvalidInput.at(pointer, "must be an object with every_days and until")
    unknown = sorted(set(obj) - {"every_days", "until"})
    if unknown:
        raise InvalidInput.at(f"{pointer}/{unknown[0]}", "unknown field; a repeat has every_days and until")
    every = obj.get("every_days")
    if isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= MAX_EVERY_DAYS:
        raise InvalidInput.at(f"{pointer}/every_days", f"must be a whole number of days from 1 to {MAX_EVERY_DAYS}")
    if "until" not in obj:
        raise InvalidInput.at(f"{pointer}/until", "is required: the time before which the last occurrence starts")
    return Repeat(every, parse_time(obj["until"], f"{pointer}/until"))


def repeated(volumes: Sequence[Volume], repeat: Repeat, max_volumes: int, pointer: str = "/repeat") -> list[Volume]:
    """``volumes`` (the first occurrence) and their copies every ``repeat.every_days``, each
    occurrence starting before ``repeat.until``. An occurrence must end before the next begins."""
    start = min(v.window.start for v in volumes)
    ends = [v.window.end for v in volumes]
    if any(e is None for e in ends):
        raise InvalidInput.at(pointer, "a volume without an end cannot repeat")
    end = max(e for e in ends if e is not None)
    if end - start > repeat.every:
        raise InvalidInput.at(
            f"{pointer}/every_days",
            f"the plan lasts {_span(end - start)}, longer than the {_span(repeat.every)} between occurrences",
        )
    if repeat.until <= start:
        raise InvalidInput.at(f"{pointer}/until", f"must be after the first volume's start ({format_time(start)})")
    times = -(-(repeat.until - start) // repeat.every)  # occurrences starting before ``until``
    if times * len(volumes) > max_volumes:
        raise InvalidInput.at(
            f"{pointer}/until",
            f"repeating {repeat.describe()} makes {times} occurrences of {len(volumes)} volume(s), "
            f"{times * len(volumes)} volumes: more than the limit of {max_volumes}",
        )
    return [_shifted(v, repeat.every * k) for k in range(times) for v in volumes]


@dataclass(frozen=True)
class Series:
    """A stored activity's volumes read back as the repeat that made them (or that would make them)."""

    #: volumes in each occurrence: the first this many are the first occurrence
    per_occurrence: int
    every_days: int
    times: int

    def describe(self) -> str:
        often = "every day" if self.every_days == 1 else "every week" if self.every_days == 7 else (
            f"every {self.every_days} days")  # fmt: skip
        return f"{often}, {self.times} times"


#: a volume as ``find_series`` compares it: start, end, and anything that says where (outline, band)
Timed = tuple[datetime, datetime | None, object]


def find_series(volumes: Sequence[Timed]) -> Series | None:
    """The repeat ``volumes`` make, in the order ``repeated`` stores them: the fewest volumes per
    occurrence such that each later volume is the one an occurrence before it, in the same place, a
    whole number of days later. None unless there are two occurrences at least: a list of 30 daily
    volumes reads as one patrol every day, 30 times."""
    n = len(volumes)
    day = timedelta(days=1)
    for k in range(1, n // 2 + 1):
        if n % k:
            continue
        step = volumes[k][0] - volumes[0][0]
        if step < day or step % day or step > timedelta(days=MAX_EVERY_DAYS):
            continue
        if all(_later(volumes[i - k], volumes[i], step) for i in range(k, n)):
            return Series(k, step // day, n // k)
    return None


def _later(first: Timed, then: Timed, step: timedelta) -> bool:
    (s0, e0, where0), (s1, e1, where1) = first, then
    if s1 - s0 != step or where0 != where1:
        return False
    if e0 is None or e1 is None:
        return e0 is None and e1 is None
    return e1 - e0 == step


def _shifted(v: Volume, by: timedelta) -> Volume:
    if not by:
        return v
    end = v.window.end + by if v.window.end is not None else None
    source = {
        **v.source,
        "time_start": {"value": format_time(v.window.start + by), "format": "RFC3339"},
        "time_end": {"value": format_time(end), "format": "RFC3339"},
    }
    return replace(v, window=TimeWindow(v.window.start + by, end), source=source)


def _span(d: timedelta) -> str:
    hours = d.total_seconds() / 3600
    return f"{hours:g} h" if hours < 48 else f"{hours / 24:g} days"
