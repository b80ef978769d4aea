"""Query parameters shared by several routes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query

from truceline.domain.errors import InvalidInput
from truceline.domain.model import TimeWindow
from truceline.domain.unstorable import MAX_INT
from truceline.domain.volumes import parse_time

__all__ = ["MAX_INT", "Offset", "time_window"]

#: How many items of a listing to skip. Offsets and ids in a query are bounded by the largest integer
#: the store holds (``MAX_INT``), so a larger one is a 422 naming the parameter, not a database overflow.
Offset = Annotated[int, Query(ge=0, le=MAX_INT)]


def time_window(time_start: str | None, time_end: str | None) -> TimeWindow | None:
    """A window from optional RFC 3339 bounds; None when neither is given."""
    if not (time_start or time_end):
        return None
    t0 = parse_time(time_start, "#query/time_start") if time_start else datetime.min.replace(tzinfo=UTC)
    t1 = parse_time(time_end, "#query/time_end") if time_end else None
    if t1 is not None and t1 <= t0:
        raise InvalidInput.at("#query/time_end", "time_end must be after time_start")
    return TimeWindow(t0, t1)
