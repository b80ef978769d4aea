"""The domain model: vocabularies and plain dataclasses. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from shapely.geometry.base import BaseGeometry

from truceline.domain.geometry import to_geojson

if TYPE_CHECKING:
    from truceline.domain.schedule import Schedule


class Role(StrEnum):
    officer = "officer"
    monitor = "monitor"
    observer = "observer"
    admin = "admin"


class ZoneKind(StrEnum):
    de_escalation = "de_escalation"
    buffer = "buffer"
    safe = "safe"
    no_fly = "no_fly"
    protected_site = "protected_site"
    crossing = "crossing"
    restricted = "restricted"


class ZoneStatus(StrEnum):
    proposed = "proposed"
    negotiating = "negotiating"
    agreed_in_principle = "agreed_in_principle"
    in_force = "in_force"
    suspended = "suspended"
    lapsed = "lapsed"
    withdrawn = "withdrawn"


class ActivityKind(StrEnum):
    air = "air"
    ground = "ground"
    maritime = "maritime"
    fires = "fires"
    humanitarian_convoy = "humanitarian_convoy"
    evacuation = "evacuation"
    patrol = "patrol"


class ActivityStatus(StrEnum):
    active = "active"
    cancelled = "cancelled"


class ResponsibilityRole(StrEnum):
    guarantor = "guarantor"
    police = "police"
    monitor = "monitor"


class ResponsibilityStatus(StrEnum):
    requested = "requested"
    accepted = "accepted"
    declined = "declined"


class ConflictRule(StrEnum):
    zone_rule = "zone_rule"
    overlap = "overlap"
    separation = "separation"  # two live tracks predicted to lose separation
    incursion = "incursion"  # a live track predicted to enter a zone that forbids its kind


#: rules found between live tracks (the others are between notified activities and zones)
TACTICAL_RULES = frozenset({ConflictRule.separation, ConflictRule.incursion})


class ConflictStatus(StrEnum):
    open = "open"
    closed = "closed"


@dataclass(frozen=True)
class TimeWindow:
    """Half-open ``[start, end)``; ``end`` None means open-ended (zones without an end)."""

    start: datetime
    end: datetime | None

    def overlaps(self, other: TimeWindow) -> bool:
        ends_after_other_starts = self.end is None or self.end > other.start
        other_ends_after_start = other.end is None or other.end > self.start
        return ends_after_other_starts and other_ends_after_start

    def intersection(self, other: TimeWindow) -> TimeWindow:
        start = max(self.start, other.start)
        ends = [e for e in (self.end, other.end) if e is not None]
        return TimeWindow(start, min(ends) if ends else None)


@dataclass(frozen=True)
class AltitudeBand:
    """Closed ``[lower, upper]`` in metres above the WGS84 ellipsoid."""

    lower: float
    upper: float

    def gap_to(self, other: AltitudeBand) -> float:
        """Vertical distance between the bands; zero or negative when they touch or overlap."""
        return max(other.lower - self.upper, self.lower - other.upper)

    def meeting_band(self, other: AltitudeBand) -> AltitudeBand:
        """The overlap of the two bands, or the gap between them when they are apart."""
        lo, hi = max(self.lower, other.lower), min(self.upper, other.upper)
        return AltitudeBand(min(lo, hi), max(lo, hi))


@dataclass(frozen=True)
class Volume:
    """One 4D volume: a footprint (lon/lat, edges straight in lon/lat per RFC 7946), a band, a window."""

    footprint: BaseGeometry
    altitude: AltitudeBand
    window: TimeWindow
    source: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Party:
    id: str
    name: str
    role: Role
    created_at: datetime
    public_key: str | None = None  # Ed25519, base64: when set, the party's writes must be signed


#: how finely a token's last use is kept
TOKEN_USE_STEP = timedelta(minutes=1)


@dataclass(frozen=True)
class Credential:
    """One of a party's bearer tokens (each officer, desk or script its own): named, and revocable or
    expiring without the others. The token itself is never kept, only its digest."""

    id: str
    party_id: str
    label: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    #: its latest use, refused ones included (a revoked laptop's token still being tried shows here),
    #: and the client address it came from; kept to the minute (``TOKEN_USE_STEP``)
    last_used_at: datetime | None = None
    last_used_from: str | None = None

    def use_is_news(self, at: datetime, address: str | None) -> bool:
        """Whether a use at ``at`` from ``address`` says more than the stored last use: a new address,
        or a minute or more later. Other uses are not written, so a read costs no write."""
        if self.last_used_at is None or address != self.last_used_from:
            return True
        if self.revoked_at is not None and self.last_used_at <= self.revoked_at < at:
            return True  # the first try after its revocation, however soon
        return at - self.last_used_at >= TOKEN_USE_STEP

    @property
    def tried_after_revocation(self) -> bool:
        """Someone used it after it was revoked (and was refused)."""
        return self.revoked_at is not None and self.last_used_at is not None and self.last_used_at > self.revoked_at

    def refusal(self, now: datetime) -> str | None:
        """Why the token no longer opens anything, or None while it does."""
        if self.revoked_at is not None:
            return f"this bearer token ('{self.label}') was revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return f"this bearer token ('{self.label}') has expired"
        return None


@dataclass(frozen=True)
class TokenUse:
    """A request made with a token (or refused for it): when, and from which client address."""

    credential_id: str
    at: datetime
    address: str | None


@dataclass(frozen=True)
class Responsibility:
    """A party asked to guarantee, police or monitor a zone, and its answer."""

    party_id: str
    role: ResponsibilityRole
    id: str = ""
    status: ResponsibilityStatus = ResponsibilityStatus.accepted
    statement: str = ""
    requested_by: str | None = None
    requested_at: datetime | None = None
    answered_at: datetime | None = None


@dataclass
class Zone:
    id: str
    name: str
    kind: ZoneKind
    status: ZoneStatus
    revision: int
    geometry: dict[str, Any]  # GeoJSON as given (normalised)
    radius_m: float | None  # for a Point zone
    footprint: BaseGeometry  # the computational polygon(s), lon/lat
    altitude: AltitudeBand
    effective: TimeWindow
    forbidden_kinds: frozenset[ActivityKind]
    standoff_m: float
    responsible: list[Responsibility]
    created_by: str
    created_at: datetime
    updated_at: datetime
    description: str = ""
    signatories: list[str] = field(default_factory=list)
    #: separation minima for live tracks inside the zone (None: the settings' defaults)
    separation_m: float | None = None
    vertical_separation_m: float | None = None
    #: the hours its rules apply within its effective period (None: all the time)
    schedule: Schedule | None = None

    @property
    def party_ids(self) -> set[str]:
        """Parties that have accepted a responsibility for the zone (they are told of its conflicts)."""
        return {r.party_id for r in self.responsible if r.status is ResponsibilityStatus.accepted}


@dataclass
class Activity:
    id: str
    party_id: str
    kind: ActivityKind
    title: str
    status: ActivityStatus
    version: int
    volumes: list[Volume]
    created_at: datetime
    updated_at: datetime
    description: str = ""

    @property
    def window(self) -> TimeWindow:
        return TimeWindow(
            min(v.window.start for v in self.volumes),
            max(v.window.end for v in self.volumes if v.window.end is not None),
        )


@dataclass
class Document:
    """A document attached to a zone (how the zone works), signed like a revision."""

    id: str
    zone_id: str
    title: str
    body: str
    version: int
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Region:
    """Where a conflict happens: a footprint (lon/lat), a time window and an altitude band."""

    geometry: BaseGeometry
    window: TimeWindow
    altitude: AltitudeBand

    @cached_property
    def geojson(self) -> dict[str, Any]:
        """The footprint as GeoJSON, computed once: a new conflict's region is written to the store,
        the hotline Alert, each party's feed and the response."""
        return to_geojson(self.geometry)


@dataclass(frozen=True)
class Subject:
    """What a conflict says about one activity it involves: enough to act on, not the whole plan."""

    activity_id: str
    party_id: str
    kind: ActivityKind
    window: TimeWindow


@dataclass(frozen=True)
class TrackRef:
    """A live track a conflict involves."""

    party_id: str
    track_id: str
    callsign: str
    kind: ActivityKind
    activity_id: str | None = None


@dataclass
class Conflict:
    id: str
    rule: ConflictRule
    status: ConflictStatus
    reason: str
    party_ids: list[str]
    subjects: list[Subject]
    zone_id: str | None
    zone_revision: int | None
    regions: list[Region]
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    closed_reason: str | None = None
    tracks: list[TrackRef] = field(default_factory=list)

    @property
    def activity_ids(self) -> list[str]:
        return [s.activity_id for s in self.subjects]
