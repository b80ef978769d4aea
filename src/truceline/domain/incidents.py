"""Incidents: what happened, where, who was involved, how many died, who says so, and how sure we are.

The vocabulary is ACLED's (event types and sub-types, disorder types, actor ``inter`` codes, time and
geographic precision), so that records move in and out of ACLED-shaped data without translation;
fatalities are low/best/high as UCDP counts them. Verification is a state table. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from truceline.domain.errors import FieldError, Forbidden, InvalidInput, StateConflict
from truceline.domain.volumes import parse_time

# ---- ACLED's taxonomy ----------------------------------------------------------------------------

#: ACLED event types and their sub-event types (ACLED codebook, 2019 onwards).
EVENT_TYPES: Mapping[str, tuple[str, ...]] = {
    "Battles": ("Armed clash", "Government regains territory", "Non-state actor overtakes territory"),
    "Explosions/Remote violence": (
        "Chemical weapon",
        "Air/drone strike",
        "Suicide bomb",
        "Shelling/artillery/missile attack",
        "Remote explosive/landmine/IED",
        "Grenade",
    ),
    "Violence against civilians": ("Sexual violence", "Attack", "Abduction/forced disappearance"),
    "Protests": ("Peaceful protest", "Protest with intervention", "Excessive force against protesters"),
    "Riots": ("Violent demonstration", "Mob violence"),
    "Strategic developments": (
        "Agreement",
        "Arrests",
        "Change to group/activity",
        "Disrupted weapons use",
        "Headquarters or base established",
        "Looting/property destruction",
        "Non-violent transfer of territory",
        "Other",
    ),
}
SUB_TO_TYPE: Mapping[str, str] = {s: t for t, subs in EVENT_TYPES.items() for s in subs}

POLITICAL_VIOLENCE = "Political violence"
DEMONSTRATIONS = "Demonstrations"
STRATEGIC = "Strategic developments"
DISORDER_TYPES = (POLITICAL_VIOLENCE, DEMONSTRATIONS, f"{POLITICAL_VIOLENCE}; {DEMONSTRATIONS}", STRATEGIC)

#: Event types that count as a possible breach of a ceasefire when they happen inside a zone in force.
VIOLENT_TYPES = frozenset({"Battles", "Explosions/Remote violence", "Violence against civilians"})


def disorder_type(event_type: str, sub_event_type: str) -> str:
    """ACLED's disorder type for a sub-event type (used when a report does not give one)."""
    if event_type in VIOLENT_TYPES:
        return POLITICAL_VIOLENCE
    if sub_event_type in ("Excessive force against protesters", "Mob violence"):
        return f"{POLITICAL_VIOLENCE}; {DEMONSTRATIONS}"
    if event_type in ("Protests", "Riots"):
        return DEMONSTRATIONS
    return STRATEGIC


#: ACLED actor type codes (``inter1``/``inter2``); 0 is "no second actor".
INTER: Mapping[int, str] = {
    0: "",
    1: "State forces",
    2: "Rebel group",
    3: "Political militia",
    4: "Identity militia",
    5: "Rioters",
    6: "Protesters",
    7: "Civilians",
    8: "External/Other forces",
}
_INTER_BY_LABEL = {v.lower(): k for k, v in INTER.items() if v} | {
    "rebel groups": 2,
    "political militias": 3,
    "identity militias": 4,
    "external/other force": 8,
    "other forces": 8,
    "civilian": 7,
    "protester": 6,
    "rioter": 5,
}

#: ``time_precision``: 1 the day is known, 2 the week, 3 the month.
TIME_PRECISION: Mapping[int, str] = {1: "day", 2: "week", 3: "month"}
#: ``geo_precision``: 1 the place is known, 2 somewhere near or in a part of a region, 3 a province.
GEO_PRECISION: Mapping[int, str] = {1: "exact place", 2: "nearby or part of a region", 3: "province"}


def parse_inter(value: object, pointer: str) -> int:
    """An actor type as ACLED's numeric code or its label (ACLED has published both)."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise InvalidInput.at(pointer, "must be an ACLED actor type code (0-8) or its label")
    if isinstance(value, int | float) and float(value).is_integer() and int(value) in INTER:
        return int(value)
    if isinstance(value, str):
        s = value.strip()
        if s.isdecimal() and len(s) <= 2 and int(s) in INTER:  # isdigit() passes '²', which int() refuses
            return int(s)
        code = _INTER_BY_LABEL.get(s.lower())
        if code is not None:
            return code
    labels = ", ".join(f"{k} {v}" for k, v in INTER.items() if k)
    raise InvalidInput.at(pointer, f"unknown actor type {value!r}; ACLED codes: {labels}")


def interaction(inter1: int, inter2: int) -> int:
    """ACLED's interaction code: the two actor types, lower first (one actor alone: its type then 0)."""
    if not inter2:
        return inter1 * 10
    lo, hi = sorted((inter1, inter2))
    return lo * 10 + hi


# ---- verification --------------------------------------------------------------------------------


class Verification(StrEnum):
    reported = "reported"
    under_review = "under_review"
    verified = "verified"
    disputed = "disputed"
    rejected = "rejected"


class Step(StrEnum):
    review = "review"  # a monitor takes the report up (or takes it up again)
    verify = "verify"
    reject = "reject"
    dispute = "dispute"  # a party the incident is alleged against contests it


class Actor(StrEnum):
    monitor = "monitor"
    alleged = "alleged"


V = Verification

#: (status, step) -> (new status, who may take the step). Every step but ``review`` needs a statement.
VERIFICATION: Mapping[tuple[Verification, Step], tuple[Verification, Actor]] = {
    (V.reported, Step.review): (V.under_review, Actor.monitor),
    (V.reported, Step.dispute): (V.disputed, Actor.alleged),
    (V.under_review, Step.verify): (V.verified, Actor.monitor),
    (V.under_review, Step.reject): (V.rejected, Actor.monitor),
    (V.under_review, Step.dispute): (V.disputed, Actor.alleged),
    (V.verified, Step.dispute): (V.disputed, Actor.alleged),
    (V.disputed, Step.review): (V.under_review, Actor.monitor),  # the dispute is weighed
    (V.rejected, Step.review): (V.under_review, Actor.monitor),  # new evidence reopens it
}
NEEDS_STATEMENT = frozenset({Step.verify, Step.reject, Step.dispute})


#: Who takes each step (whatever the status): monitors review, verify and reject; alleged parties dispute.
STEP_ACTOR: Mapping[Step, Actor] = {step: who for (_, step), (_, who) in VERIFICATION.items()}


def steps_open(current: Verification, *, is_monitor: bool, is_alleged: bool) -> list[Step]:
    """The steps a party may take now: those the table allows from ``current`` to who it is."""
    who = {Actor.monitor} if is_monitor else set()
    if is_alleged:
        who.add(Actor.alleged)
    return [step for (status, step), (_, actor) in VERIFICATION.items() if status is current and actor in who]


def verification_step(current: Verification, step: Step, *, is_monitor: bool, is_alleged: bool) -> Verification:
    """The status ``step`` leads to from ``current``: 403 if the caller may never take it, 409 if it
    cannot be taken from the current status."""
    who = STEP_ACTOR[step]
    if who is Actor.monitor and not is_monitor:
        raise Forbidden(f"only a monitor may {step} an incident")
    if who is Actor.alleged and not is_alleged:
        raise Forbidden("only a party the incident is alleged against may dispute it")
    move = VERIFICATION.get((current, step))
    if move is None:
        allowed = sorted(s.value for (st, s) in VERIFICATION if st is current)
        raise StateConflict(
            f"an incident that is {current} cannot be {step}ed; possible steps now: {', '.join(allowed) or 'none'}",
            extra={"current": current.value, "allowed": allowed},
        )
    return move[0]


# ---- the record ----------------------------------------------------------------------------------


class Dataset(StrEnum):
    """Where a record came from: reported here, or imported from an ACLED or UCDP GED file."""

    truceline = "truceline"
    acled = "acled"
    ucdp = "ucdp"


class Fatalities(NamedTuple):
    """UCDP's low/best/high estimates; ACLED's single figure is the best one. (Named tuples: a million
    of them are made per import, and they build several times faster than frozen dataclasses.)"""

    low: int
    best: int
    high: int


@dataclass(frozen=True)
class Source:
    name: str
    scale: str = ""
    notes: str = ""
    url: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("name", self.name), ("scale", self.scale), ("notes", self.notes), ("url", self.url))
                if v}  # fmt: skip


class ActorRef(NamedTuple):
    name: str
    inter: int
    associated: str = ""


@dataclass(slots=True)
class Incident:
    """One reported event. ``event_date`` is the (first) day; ``date_end`` the last day when a range is
    reported (UCDP); ``occurred_at`` the instant, when a reporter knows it."""

    id: str
    dataset: Dataset
    external_id: str
    event_date: date
    time_precision: int
    event_type: str
    sub_event_type: str
    disorder_type: str
    actor1: ActorRef
    actor2: ActorRef
    civilian_targeting: bool
    latitude: float
    longitude: float
    geo_precision: int
    location: str
    admin1: str
    admin2: str
    admin3: str
    country: str
    iso: int
    region: str
    fatalities: Fatalities
    sources: list[Source]
    notes: str
    tags: list[str]
    reported_by: str | None
    alleged: list[str]
    status: Verification
    created_at: datetime
    updated_at: datetime
    occurred_at: datetime | None = None
    date_end: date | None = None
    source_timestamp: int | None = None
    merged_into: str | None = None
    version: int = 1

    @property
    def interaction(self) -> int:
        return interaction(self.actor1.inter, self.actor2.inter)

    @property
    def violent(self) -> bool:
        return self.event_type in VIOLENT_TYPES

    @property
    def window(self) -> tuple[datetime, datetime]:
        """When it may have happened: the instant if known, else every day of its date range."""
        if self.occurred_at is not None:
            return self.occurred_at, self.occurred_at + timedelta(milliseconds=1)
        return day_start(self.event_date), day_start(self.date_end or self.event_date) + timedelta(days=1)


def day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


# ---- checks shared by the API and the importers --------------------------------------------------


def check_event_types(event_type: object, sub_event_type: object, pointer: str = "") -> tuple[str, str]:
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        raise InvalidInput.at(
            f"{pointer}/event_type", f"unknown event type {event_type!r}; ACLED's are: {', '.join(EVENT_TYPES)}"
        )
    subs = EVENT_TYPES[event_type]
    if not isinstance(sub_event_type, str) or sub_event_type not in subs:
        raise InvalidInput.at(
            f"{pointer}/sub_event_type",
            f"{sub_event_type!r} is not a sub-event type of {event_type}; one of: {', '.join(subs)}",
        )
    return event_type, sub_event_type


def check_precision(value: object, pointer: str, table: Mapping[int, str]) -> int:
    try:
        v = int(str(value).strip()) if not isinstance(value, bool) else -1
    except ValueError:
        v = -1
    if v not in table:
        choices = ", ".join(f"{k} ({w})" for k, w in table.items())
        raise InvalidInput.at(pointer, f"must be one of {choices}, not {value!r}")
    return v


def check_coordinates(lat: object, lon: object, pointer: str = "") -> tuple[float, float]:
    out = []
    for name, value, limit in (("latitude", lat, 90.0), ("longitude", lon, 180.0)):
        try:
            v = float(value) if isinstance(value, int | float | str) and not isinstance(value, bool) else math.nan
        except (TypeError, ValueError):
            v = math.nan
        if not math.isfinite(v):
            raise InvalidInput.at(f"{pointer}/{name}", f"{name} must be a number, not {value!r}")
        if not -limit <= v <= limit:
            raise InvalidInput.at(f"{pointer}/{name}", f"{name} {v} is outside the world (-{limit:g} to {limit:g})")
        out.append(v)
    return out[0], out[1]


def check_fatalities(low: object, best: object, high: object, pointer: str = "/fatalities") -> Fatalities:
    vals = []
    for name, v in (("low", low), ("best", best), ("high", high)):
        try:
            n = int(str(v).strip()) if v is not None and not isinstance(v, bool) and str(v).strip() != "" else None
        except ValueError:
            n = None
        if n is None or n < 0 or n > 10_000_000:
            raise InvalidInput.at(f"{pointer}/{name}", f"fatalities {name} must be a whole number ≥ 0, not {v!r}")
        vals.append(n)
    lo, be, hi = vals
    if not lo <= be <= hi:
        raise InvalidInput.at(pointer, f"fatalities must satisfy low ≤ best ≤ high, not {lo}, {be}, {hi}")
    return Fatalities(lo, be, hi)


_MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"])}  # fmt: skip
_LONG_DATE = re.compile(r"^\s*(\d{1,2})[ -]([A-Za-z]+)[ -](\d{4})\s*$")


def parse_date(value: object, pointer: str) -> date:
    """``YYYY-MM-DD`` (ACLED's current form and UCDP's, a time after it ignored) or ``10 July 2017``
    (ACLED's older exports)."""
    s = str(value).strip() if value is not None else ""
    try:
        if len(s) >= 10 and s[4] == "-":
            return date.fromisoformat(s[:10])
        m = _LONG_DATE.match(s)
        if m:
            month = _MONTHS.get(m.group(2).lower()) or next(
                (v for k, v in _MONTHS.items() if k.startswith(m.group(2).lower()) and len(m.group(2)) >= 3), 0
            )
            return date(int(m.group(3)), month, int(m.group(1)))
    except ValueError:
        pass
    raise InvalidInput.at(pointer, f"{s!r} is not a real date (YYYY-MM-DD)")


# ---- duplicates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateRules:
    """How near two records must be to be offered as the same event: in space (widened by the looser
    of their geographic precisions), in time (widened by the looser time precision), same event type,
    and, when both name actors, at least one actor in common."""

    km: float = 10.0
    days: int = 1
    km_by_geo_precision: Mapping[int, float] = field(default_factory=lambda: {1: 10.0, 2: 25.0, 3: 75.0})
    days_by_time_precision: Mapping[int, int] = field(default_factory=lambda: {1: 1, 2: 7, 3: 31})

    def radius_km(self, a: Incident, b: Incident) -> float:
        p = max(a.geo_precision, b.geo_precision)
        return max(self.km, self.km_by_geo_precision.get(p, self.km))

    def span_days(self, a: Incident, b: Incident) -> int:
        p = max(a.time_precision, b.time_precision)
        return max(self.days, self.days_by_time_precision.get(p, self.days))


EARTH_KM = 6371.0088


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


_NOT_WORD = re.compile(r"[^a-z0-9]+")


def actor_names(i: Incident) -> set[str]:
    names = {i.actor1.name, i.actor2.name}
    for assoc in (i.actor1.associated, i.actor2.associated):
        names.update(assoc.split(";"))
    return {n for n in (_NOT_WORD.sub(" ", x.lower()).strip() for x in names) if n}


@dataclass(frozen=True)
class Candidate:
    incident_id: str
    score: float  # 0..1, higher is likelier the same event
    reasons: list[str]


def day_gap(a: Incident, b: Incident) -> int:
    a0, a1 = a.event_date, a.date_end or a.event_date
    b0, b1 = b.event_date, b.date_end or b.event_date
    if a1 < b0:
        return (b0 - a1).days
    if b1 < a0:
        return (a0 - b1).days
    return 0


def duplicate_of(a: Incident, b: Incident, rules: DuplicateRules) -> Candidate | None:
    """Whether ``b`` may be the same event as ``a``, with the reasons; None when a rule rules it out."""
    if a.id == b.id or a.event_type != b.event_type:
        return None
    km = distance_km(a.latitude, a.longitude, b.latitude, b.longitude)
    radius = rules.radius_km(a, b)
    if km > radius:
        return None
    gap = day_gap(a, b)
    span = rules.span_days(a, b)
    if gap > span:
        return None
    mine, theirs = actor_names(a), actor_names(b)
    shared = mine & theirs
    if mine and theirs and not shared:
        return None
    reasons = [
        f"{km:.1f} km apart (within {radius:g} km)",
        "the same day" if gap == 0 else f"{gap} day{'s' if gap > 1 else ''} apart (within {span})",
        f"both {a.event_type}" + (f" / {a.sub_event_type}" if a.sub_event_type == b.sub_event_type else ""),
    ]
    if shared:
        reasons.append("shared actors: " + ", ".join(sorted(shared)))
    score = (1 - km / radius) * 0.4 + (1 - gap / (span + 1)) * 0.3 + (0.2 if shared else 0.0)
    score += 0.1 if a.sub_event_type == b.sub_event_type else 0.0
    return Candidate(b.id, round(score, 3), reasons)


def rank_duplicates(a: Incident, others: Sequence[Incident], rules: DuplicateRules) -> list[Candidate]:
    found = [c for c in (duplicate_of(a, b, rules) for b in others) if c is not None]
    return sorted(found, key=lambda c: (-c.score, c.incident_id))


def errors_of(exc: InvalidInput) -> list[FieldError]:
    return exc.errors or [FieldError("", exc.detail)]


# ---- a report as the API receives it -------------------------------------------------------------


def _str(data: Mapping[str, object], key: str, pointer: str, *, limit: int, required: bool = False) -> str:
    v = data.get(key, "")
    if v is None:
        v = ""
    if not isinstance(v, str):
        raise InvalidInput.at(f"{pointer}/{key}", "must be a string")
    v = v.strip()
    if required and not v:
        raise InvalidInput.at(f"{pointer}/{key}", f"{key} is required")
    if len(v) > limit:
        raise InvalidInput.at(f"{pointer}/{key}", f"longer than {limit} characters")
    return v


def _obj(data: Mapping[str, object], key: str, *, required: bool) -> Mapping[str, object]:
    v = data.get(key)
    if v is None and not required:
        return {}
    if not isinstance(v, dict):
        raise InvalidInput.at(f"/{key}", "must be an object" + (" (it is required)" if v is None else ""))
    return v


def _actor(data: Mapping[str, object], key: str, *, required: bool) -> ActorRef:
    a = _obj(data, key, required=required)
    if not a:
        return ActorRef("", 0)
    name = _str(a, "name", f"/{key}", limit=300, required=True)
    inter = parse_inter(a.get("inter"), f"/{key}/inter")
    if inter == 0:
        raise InvalidInput.at(f"/{key}/inter", "an actor needs an ACLED actor type (1-8 or its label)")
    return ActorRef(name, inter, _str(a, "associated", f"/{key}", limit=600))


def _sources(value: object) -> list[Source]:
    if not isinstance(value, list) or not value:
        raise InvalidInput.at("/sources", "at least one source is required: who says this happened")
    if len(value) > 100:
        raise InvalidInput.at("/sources", "at most 100 sources")
    out = []
    for k, s in enumerate(value):
        if isinstance(s, str):
            s = {"name": s}
        if not isinstance(s, dict):
            raise InvalidInput.at(f"/sources/{k}", "a source is a name or an object with a name")
        p = f"/sources/{k}"
        out.append(Source(_str(s, "name", p, limit=300, required=True), _str(s, "scale", p, limit=100),
                          _str(s, "notes", p, limit=5_000), _str(s, "url", p, limit=2_000)))  # fmt: skip
    return out


def parse_report(data: object, *, now: datetime, new_id: str, reported_by: str) -> tuple[Incident, list[str]]:
    """An incident as a party reports it, and the names or ids of the parties it is alleged against
    (resolved by the caller). ``occurred_at`` (RFC 3339) may stand in for ``event_date``."""
    if not isinstance(data, dict):
        raise InvalidInput.at("", "the body must be a JSON object")
    occurred_at = None
    if data.get("occurred_at") is not None:
        occurred_at = parse_time(data["occurred_at"], "/occurred_at")
    if data.get("event_date") is None and occurred_at is None:
        raise InvalidInput.at("/event_date", "event_date (YYYY-MM-DD) or occurred_at (RFC 3339) is required")
    day = parse_date(data["event_date"], "/event_date") if data.get("event_date") is not None else None
    if day is None and occurred_at is not None:
        day = occurred_at.date()
    assert day is not None
    if occurred_at is not None and occurred_at.date() != day:
        raise InvalidInput.at("/occurred_at", f"is not on event_date {day.isoformat()}")
    if day > (now + timedelta(days=1)).date():
        raise InvalidInput.at("/event_date", f"{day.isoformat()} is in the future")
    if day.year < 1900:
        raise InvalidInput.at("/event_date", f"{day.isoformat()} is before 1900")
    event_type, sub = check_event_types(data.get("event_type"), data.get("sub_event_type"))
    disorder = data.get("disorder_type") or disorder_type(event_type, sub)
    if disorder not in DISORDER_TYPES:
        raise InvalidInput.at(
            "/disorder_type", f"unknown disorder type {disorder!r}; one of {', '.join(DISORDER_TYPES)}"
        )
    place = _obj(data, "location", required=True)
    lat, lon = check_coordinates(place.get("latitude"), place.get("longitude"), "/location")
    fat = data.get("fatalities", 0)
    if isinstance(fat, dict):
        fatalities = check_fatalities(fat.get("low"), fat.get("best"), fat.get("high"))
    else:
        fatalities = check_fatalities(fat, fat, fat, "/fatalities")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(x, str) and len(x) <= 100 for x in tags) or len(tags) > 50:
        raise InvalidInput.at("/tags", "must be a list of at most 50 strings of at most 100 characters")
    alleged = data.get("alleged", [])
    if not isinstance(alleged, list) or not all(isinstance(x, str) for x in alleged) or len(alleged) > 20:
        raise InvalidInput.at("/alleged", "must be a list of party names or ids (at most 20)")
    civ = data.get("civilian_targeting", False)
    if not isinstance(civ, bool):
        raise InvalidInput.at("/civilian_targeting", "must be true or false")
    iso = place.get("iso", 0)
    if isinstance(iso, bool) or not isinstance(iso, int) or not 0 <= iso <= 999:
        raise InvalidInput.at("/location/iso", "must be an ISO 3166-1 numeric country code (0-999)")
    incident = Incident(
        id=new_id,
        dataset=Dataset.truceline,
        external_id=new_id,
        event_date=day,
        occurred_at=occurred_at,
        time_precision=check_precision(data.get("time_precision", 1), "/time_precision", TIME_PRECISION),
        event_type=event_type,
        sub_event_type=sub,
        disorder_type=str(disorder),
        actor1=_actor(data, "actor1", required=True),
        actor2=_actor(data, "actor2", required=False),
        civilian_targeting=civ,
        latitude=lat,
        longitude=lon,
        geo_precision=check_precision(place.get("geo_precision", 1), "/location/geo_precision", GEO_PRECISION),
        location=_str(place, "name", "/location", limit=300),
        admin1=_str(place, "admin1", "/location", limit=300),
        admin2=_str(place, "admin2", "/location", limit=300),
        admin3=_str(place, "admin3", "/location", limit=300),
        country=_str(place, "country", "/location", limit=200),
        iso=iso,
        region=_str(place, "region", "/location", limit=200),
        fatalities=fatalities,
        sources=_sources(data.get("sources")),
        notes=_str(data, "notes", "", limit=20_000),
        tags=[x.strip() for x in tags if x.strip()],
        reported_by=reported_by,
        alleged=[],
        status=Verification.reported,
        created_at=now,
        updated_at=now,
    )
    return incident, [str(x) for x in alleged]
