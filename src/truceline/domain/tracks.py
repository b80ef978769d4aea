"""Live position reports: what one is, and how a report is checked. Each bad report is refused on its
own, with its line and the fields at fault; good ones in the same batch are kept."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from truceline.domain.errors import FieldError
from truceline.domain.model import ActivityKind
from truceline.domain.unstorable import first_unstorable

KINDS = frozenset(k.value for k in ActivityKind)
#: reports from further ahead than this are refused (a clock that is wrong, not a forecast)
MAX_FUTURE = timedelta(seconds=60)

FIELDS = (
    "track_id", "callsign", "time", "lat", "lon", "altitude_m", "ground_speed_mps", "track_deg",
    "vertical_rate_mps", "kind", "activity_id", "party",
)  # fmt: skip

# (field, low, high): numbers and their ranges
RANGES = (
    ("lat", -90.0, 90.0),
    ("lon", -180.0, 180.0),
    ("altitude_m", -500.0, 30_000.0),
    ("ground_speed_mps", 0.0, 1_500.0),
    ("track_deg", 0.0, 360.0),
    ("vertical_rate_mps", -300.0, 300.0),
)


@dataclass(frozen=True)
class TrackReport:
    """One position report of one track of one party (SI units; altitude above the WGS84 ellipsoid)."""

    party_id: str
    track_id: str
    callsign: str
    at: datetime
    lat: float
    lon: float
    altitude_m: float
    ground_speed_mps: float
    track_deg: float
    vertical_rate_mps: float
    kind: str = "air"
    activity_id: str | None = None


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return None
    return None if t.tzinfo is None else t.astimezone(UTC)


def parse_report(data: object, *, party_id: str, party_name: str, now: datetime) -> TrackReport | list[FieldError]:
    """A report, or why not (JSON pointers relative to the report)."""
    if not isinstance(data, dict):
        return [FieldError("", "a report must be a JSON object")]
    unstorable = first_unstorable(data)
    if unstorable is not None:  # checked here, not for the whole body: the other reports are kept
        return [unstorable]
    errors: list[FieldError] = []
    for k in data:
        if k not in FIELDS:
            errors.append(FieldError(f"/{k}", "unknown field; known: " + ", ".join(FIELDS)))
    party = data.get("party")
    if party is not None and party not in (party_id, party_name):
        errors.append(FieldError("/party", "you may only report your own party's tracks"))
    track_id = data.get("track_id")
    if not isinstance(track_id, str) or not 1 <= len(track_id) <= 64:
        errors.append(FieldError("/track_id", "required: a string of 1 to 64 characters"))
    callsign = data.get("callsign", track_id)
    if not isinstance(callsign, str) or len(callsign) > 32:
        errors.append(FieldError("/callsign", "must be a string of at most 32 characters"))
    at = _time(data.get("time"))
    if at is None:
        errors.append(FieldError("/time", "required: an RFC 3339 date-time with offset, e.g. 2017-07-10T06:00:00Z"))
    elif at > now + MAX_FUTURE:
        errors.append(FieldError("/time", f"is more than {MAX_FUTURE.seconds} s in the future"))
    values: dict[str, float] = {}
    for name, lo, hi in RANGES:
        v: Any = data.get(name, 0.0 if name == "vertical_rate_mps" else None)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            errors.append(FieldError(f"/{name}", "required: a finite number"))
        elif not lo <= v <= hi:
            errors.append(FieldError(f"/{name}", f"must be between {lo:g} and {hi:g}"))
        else:
            values[name] = float(v)
    kind = data.get("kind", "air")
    if not isinstance(kind, str) or kind not in KINDS:
        errors.append(FieldError("/kind", "must be one of " + ", ".join(sorted(KINDS))))
    activity_id = data.get("activity_id")
    if activity_id is not None and (not isinstance(activity_id, str) or len(activity_id) > 64):
        errors.append(FieldError("/activity_id", "must be an activity id"))
    if errors:
        return errors
    assert at is not None and isinstance(track_id, str) and isinstance(callsign, str)
    return TrackReport(
        party_id=party_id,
        track_id=track_id,
        callsign=callsign,
        at=at,
        lat=values["lat"],
        lon=values["lon"],
        altitude_m=values["altitude_m"],
        ground_speed_mps=values["ground_speed_mps"],
        track_deg=values["track_deg"] % 360.0,
        vertical_rate_mps=values["vertical_rate_mps"],
        kind=str(kind),
        activity_id=activity_id,
    )


def replay_schedule(records: list[dict[str, Any]], speed: float) -> list[tuple[float, list[dict[str, Any]]]]:
    """A recording as (seconds after the start of the replay, the reports due then), ``speed`` times
    faster than recorded. Records whose time cannot be read are left out (the server would refuse
    them anyway)."""
    if speed <= 0:
        raise ValueError("speed must be positive")
    timed = [(t, r) for r in records if (t := _time(r.get("time"))) is not None]
    if not timed:
        return []
    timed.sort(key=lambda x: x[0])
    t0 = timed[0][0]
    groups: dict[float, list[dict[str, Any]]] = {}
    for t, r in timed:
        groups.setdefault((t - t0).total_seconds() / speed, []).append(r)
    return sorted(groups.items())


def restamp(record: dict[str, Any], at: datetime) -> dict[str, Any]:
    """A recorded report as if made at ``at`` (replays show live traffic, not history)."""
    return {**record, "time": at.astimezone(UTC).isoformat().replace("+00:00", "Z")}
