"""A zone's hours: when, within its effective period, its rules apply (a nightly no-fly zone, a daily
humanitarian pause). Shaped like EUROCAE ED-269's geographical-zone applicability: daily periods,
each on some days of the week, times of day in UTC. A period whose end is not after its start runs
past midnight into the next day, and belongs to the day it starts on.

No schedule means the rules apply all the time the zone is in force.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from truceline.domain.errors import FieldError, InvalidInput
from truceline.domain.model import TimeWindow

DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
ANY = "ANY"
MAX_PERIODS = 28
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class DailyPeriod:
    days: frozenset[int]  # 0 = Monday
    start: int  # minutes after midnight UTC
    end: int  # minutes after midnight; not after start: the next day

    @property
    def length(self) -> timedelta:
        minutes = self.end - self.start if self.end > self.start else self.end + 1440 - self.start
        return timedelta(minutes=minutes)

    def describe(self) -> str:
        days = "daily" if len(self.days) == 7 else ", ".join(DAYS[d] for d in sorted(self.days))
        return f"{days} {_clock(self.start)}–{_clock(self.end)}"

    def to_json(self) -> dict[str, object]:
        return {
            "days": [ANY] if len(self.days) == 7 else [DAYS[d] for d in sorted(self.days)],
            "start": _clock(self.start),
            "end": _clock(self.end),
        }


@dataclass(frozen=True)
class Schedule:
    periods: tuple[DailyPeriod, ...]

    def active(self, window: TimeWindow, *, at_most: int = 10_000) -> list[TimeWindow]:
        """The parts of ``window`` (bounded) when the zone's rules apply, in order, touching parts
        joined. ``at_most`` bounds the count for very long windows: the last part then runs on to the
        end of the last active time found."""
        assert window.end is not None, "a schedule is read over a bounded window"
        parts: list[tuple[datetime, datetime]] = []
        midnight = window.start.replace(hour=0, minute=0, second=0, microsecond=0) - _DAY  # yesterday's may run on
        while midnight < window.end:
            for p in self.periods:
                if midnight.weekday() not in p.days:
                    continue
                s = max(midnight + timedelta(minutes=p.start), window.start)
                e = min(midnight + timedelta(minutes=p.start) + p.length, window.end)
                if s < e:
                    parts.append((s, e))
            midnight += _DAY
        parts.sort()
        joined: list[tuple[datetime, datetime]] = []
        for s, e in parts:
            if joined and s <= joined[-1][1]:
                joined[-1] = (joined[-1][0], max(joined[-1][1], e))
            else:
                joined.append((s, e))
        if len(joined) > at_most:
            joined = [*joined[: at_most - 1], (joined[at_most - 1][0], joined[-1][1])]
        return [TimeWindow(s, e) for s, e in joined]

    def is_active(self, t: datetime) -> bool:
        return bool(self.active(TimeWindow(t, t + timedelta(microseconds=1))))

    def describe(self) -> str:
        return "; ".join(p.describe() for p in self.periods) + " UTC"

    def to_json(self) -> list[dict[str, object]]:
        return [p.to_json() for p in self.periods]


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(value: object, pointer: str) -> int:
    m = _CLOCK.match(value) if isinstance(value, str) else None
    if m is None:
        raise InvalidInput.at(pointer, "a time of day in UTC, HH:MM from 00:00 to 24:00")
    return 1440 if value == "24:00" else int(m.group(1)) * 60 + int(m.group(2))


def parse_schedule(value: object, pointer: str = "/schedule") -> Schedule | None:
    """A schedule from its JSON (a list of {days, start, end}); None or [] for none."""
    if value is None or value == []:
        return None
    if not isinstance(value, list) or len(value) > MAX_PERIODS:
        raise InvalidInput.at(pointer, f"a list of at most {MAX_PERIODS} periods {{days, start, end}}")
    periods = []
    errors: list[FieldError] = []
    for i, item in enumerate(value):
        at = f"{pointer}/{i}"
        if not isinstance(item, dict) or set(item) - {"days", "start", "end"}:
            raise InvalidInput.at(at, 'a period is {"days": ["MON", …] or ["ANY"], "start": "HH:MM", "end": "HH:MM"}')
        days = item.get("days", [ANY])
        if not isinstance(days, list) or not days or not all(isinstance(d, str) for d in days):
            raise InvalidInput.at(f"{at}/days", f"a list of days: {', '.join(DAYS)} or {ANY}")
        unknown = [d for d in days if d.upper() not in (*DAYS, ANY)]
        if unknown:
            raise InvalidInput.at(f"{at}/days", f"unknown day {unknown[0]!r}; one of {', '.join(DAYS)} or {ANY}")
        upper = [d.upper() for d in days]
        chosen = frozenset(range(7)) if ANY in upper else frozenset(DAYS.index(d) for d in upper)
        start, end = _minutes(item.get("start"), f"{at}/start"), _minutes(item.get("end"), f"{at}/end")
        if start == 1440:
            errors.append(FieldError(f"{at}/start", "a period starts before 24:00"))
        elif start == end:
            errors.append(FieldError(f"{at}/end", "the end must differ from the start (00:00–24:00 is a whole day)"))
        periods.append(DailyPeriod(chosen, start, end))
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)
    return Schedule(tuple(periods))
