"""API schemas (request and response shapes). Kept apart from the domain model and the tables.

Request models check JSON types and required fields; the domain then checks meaning (geometry
validity, time order, areas) and names the field of any problem.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from truceline.api import body_docs
from truceline.domain.model import (
    ActivityKind,
    ActivityStatus,
    ConflictRule,
    ConflictStatus,
    ResponsibilityRole,
    ResponsibilityStatus,
    Role,
    ZoneKind,
    ZoneStatus,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


# ---- ASTM F3548-21 geotemporal shapes ------------------------------------------------------------


class Altitude(Strict):
    value: float
    reference: Literal["W84"] = "W84"
    units: Literal["M", "FT"] = "M"


class Time(Strict):
    value: str = Field(description="RFC 3339 date-time with offset, e.g. 2017-07-10T04:00:00Z")
    format: Literal["RFC3339"] = "RFC3339"


class LatLngPoint(Strict):
    lat: float
    lng: float


class Radius(Strict):
    value: float
    units: Literal["M"] = "M"


class OutlinePolygon(Strict):
    vertices: list[LatLngPoint] = Field(description="at least 3 distinct vertices; the ring closes itself")


class OutlineCircle(Strict):
    center: LatLngPoint
    radius: Radius


class OutlineCorridor(Strict):
    """Truceline extension: a route (GeoJSON LineString) with a half-width, made into a polygon."""

    line: Annotated[dict[str, Any], WithJsonSchema(body_docs.CORRIDOR_LINE)]
    half_width_m: float


class Volume3D(Strict):
    outline_polygon: OutlinePolygon | None = None
    outline_circle: OutlineCircle | None = None
    outline_corridor: OutlineCorridor | None = None
    altitude_lower: Altitude
    altitude_upper: Altitude


class Volume4D(Strict):
    volume: Volume3D
    time_start: Time
    time_end: Time


# ---- Parties -------------------------------------------------------------------------------------


class PartyRef(BaseModel):
    id: str
    name: str | None


class PartyCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    role: Role


class PartyRead(BaseModel):
    id: str
    name: str
    role: Role
    created_at: str
    public_key: str | None = None


class PartyCreated(PartyRead):
    token: str = Field(description="shown once; store it now")


class TokenCreate(Strict):
    label: str = Field(
        min_length=1, max_length=100, description="who or what holds it: an officer, a desk, a script"
    )
    expires_at: str | None = Field(None, description="RFC 3339; after it the token opens nothing")


class TokenRead(BaseModel):
    id: str
    label: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    state: Literal["active", "expired", "revoked"]
    last_used_at: str | None = Field(
        description="its latest use, to the minute; refused uses count, so a time after revoked_at means "
        "someone still tried it"
    )
    last_used_from: str | None = Field(description="the client address of that use")
    tried_after_revocation: bool = Field(description="someone used it after it was revoked (and was refused)")


class TokenCreated(TokenRead):
    token: str = Field(description="shown once; store it now")


# ---- Zones ---------------------------------------------------------------------------------------


class DailyPeriod(Strict):
    """When a zone's rules apply: on these days, from start to end (UTC; an end not after the start is
    the next day's). EUROCAE ED-269's daily periods."""

    days: list[str] = Field(["ANY"], description="MON, TUE, WED, THU, FRI, SAT, SUN, or ANY")
    start: str = Field(description="HH:MM UTC", examples=["22:00"])
    end: str = Field(description="HH:MM UTC, up to 24:00", examples=["05:00"])


SCHEDULE_DOC = "the hours its rules apply within its effective period; none: all the time"


class ResponsibilityIn(Strict):
    party: str = Field(description="party id or name")
    role: ResponsibilityRole


#: A zone's boundary: documented as GeoJSON, checked by the domain (which names what is wrong with it).
ZoneGeometry = Annotated[dict[str, Any], WithJsonSchema(body_docs.ZONE_GEOMETRY)]


class ZoneCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [body_docs.ZONE]})

    name: str
    kind: ZoneKind
    geometry: ZoneGeometry
    radius_m: float | None = None
    altitude_lower: Altitude | None = None
    altitude_upper: Altitude | None = None
    effective_from: str | None = Field(None, description="RFC 3339; default now")
    effective_until: str | None = None
    forbidden_kinds: list[ActivityKind] = []
    standoff_m: float = 0.0
    separation_m: float | None = Field(None, description="horizontal separation minimum for live tracks inside, m")
    vertical_separation_m: float | None = Field(None, description="vertical separation minimum inside, m")
    schedule: list[DailyPeriod] | None = Field(None, description=SCHEDULE_DOC)
    signatories: list[str] = Field([], description="party ids or names whose sign-off the zone needs (default: you)")
    responsible: list[ResponsibilityIn] = Field([], description="responsibilities to request from these parties")
    status: Literal["proposed"] = Field("proposed", description="a new zone is proposed; the rest follows sign-offs")
    rationale: str = ""
    description: str = ""


class ZoneUpdate(Strict):
    """Any subset of a zone's fields. Boundary or rule changes make a new revision."""

    model_config = ConfigDict(json_schema_extra={"examples": [body_docs.ZONE_CHANGE]})

    revision: int | None = Field(None, description="the revision you are changing (optimistic check)")
    name: str | None = None
    kind: ZoneKind | None = None
    geometry: ZoneGeometry | None = None
    radius_m: float | None = None
    altitude_lower: Altitude | None = None
    altitude_upper: Altitude | None = None
    effective_from: str | None = None
    effective_until: str | None = None
    forbidden_kinds: list[ActivityKind] | None = None
    standoff_m: float | None = None
    separation_m: float | None = Field(None, description="horizontal separation minimum for live tracks inside, m")
    vertical_separation_m: float | None = Field(None, description="vertical separation minimum inside, m")
    schedule: list[DailyPeriod] | None = Field(None, description=SCHEDULE_DOC + " ([] removes it)")
    status: ZoneStatus | None = Field(None, description="suspended, in_force (resume), lapsed or withdrawn")
    rationale: str | None = Field(None, description="why this revision, or why this status move")
    description: str | None = None


class ResponsibilityRead(BaseModel):
    id: str
    party_id: str
    party_name: str | None
    role: ResponsibilityRole
    status: ResponsibilityStatus
    statement: str
    requested_by: str | None
    requested_at: str | None
    answered_at: str | None


class ZoneRead(BaseModel):
    id: str
    name: str
    kind: ZoneKind
    status: ZoneStatus
    revision: int
    geometry: dict[str, Any]
    radius_m: float | None
    altitude_lower: Altitude
    altitude_upper: Altitude
    effective_from: str
    effective_until: str | None
    forbidden_kinds: list[ActivityKind]
    standoff_m: float
    separation_m: float | None = None
    vertical_separation_m: float | None = None
    schedule: list[DailyPeriod] | None = None
    responsible: list[ResponsibilityRead]
    signatories: list[PartyRef]
    description: str
    created_by: str
    created_at: str
    updated_at: str


class ZoneChange(BaseModel):
    zone: ZoneRead
    activities_in_conflict: int = Field(description="activities that conflict with this zone after the change")


class ZoneRevisionRead(BaseModel):
    revision: int
    author: str
    created_at: str
    rationale: str
    snapshot: dict[str, Any]


class PositionIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [body_docs.SIGN_OFF]})

    revision: int
    strength: Literal["in_principle", "final"]
    statement: str = ""


class ObjectionIn(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [body_docs.OBJECTION]})

    revision: int
    statement: str = Field(min_length=1)


class PositionRead(BaseModel):
    party: PartyRef
    revision: int
    position: Literal["in_principle", "final", "objection"]
    statement: str
    at: str


class ResponsibilityRequest(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [body_docs.RESPONSIBILITY]})

    party: str = Field(description="party id or name")
    role: ResponsibilityRole


class ResponsibilityAnswer(Strict):
    statement: str = ""


class DocumentIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(max_length=200_000, description="markdown")


class DocumentUpdate(Strict):
    version: int | None = None
    title: str | None = Field(None, min_length=1, max_length=300)
    body: str | None = Field(None, max_length=200_000)


class DocumentPositionIn(Strict):
    version: int
    strength: Literal["in_principle", "final"]
    statement: str = ""


class DocumentObjectionIn(Strict):
    version: int
    statement: str = Field(min_length=1)


class DocumentRead(BaseModel):
    id: str
    zone_id: str
    title: str
    body: str
    version: int
    created_by: str
    created_at: str
    updated_at: str
    unsigned_by: list[PartyRef] = Field([], description="signatories yet to sign this version final")
    positions: list[PositionRead] = Field(
        [], description="every sign-off and objection, oldest first; `revision` is the document's version"
    )


class ZoneAwaitingRead(BaseModel):
    id: str
    name: str
    kind: ZoneKind
    status: ZoneStatus
    revision: int = Field(description="the current revision, the one to sign")
    signature: Literal["in_principle", "final"] = Field(
        description="in_principle: your party has not signed this revision at all yet; final: only in principle"
    )


class NegotiationRead(BaseModel):
    zone: ZoneRead
    revisions: list[ZoneRevisionRead]
    positions: list[PositionRead]
    current_positions: list[PositionRead]
    awaiting_in_principle: list[PartyRef]
    awaiting_final: list[PartyRef]
    documents: list[DocumentRead]
    documents_to_finalise: int
    open_responsibilities: list[ResponsibilityRead]
    status_moves: list[ZoneStatus] = Field(
        description="the moves you may make by hand now (PATCH status): a signatory suspends, resumes, lapses or "
        "withdraws; agreement and force follow from sign-offs"
    )


class RevisionDiffRead(BaseModel):
    zone_id: str
    a: int
    b: int
    added: dict[str, Any] = Field(description="GeoJSON of the area in b and not in a")
    removed: dict[str, Any] = Field(description="GeoJSON of the area in a and not in b")
    added_km2: float
    removed_km2: float
    rule_changes: list[dict[str, Any]]


class KeyIn(Strict):
    public_key: str = Field(description="Ed25519 public key, 32 bytes, base64")


class AuditTokenRead(BaseModel):
    """Which of the acting party's tokens made the change. ``salt``: with the token's id, it gives
    the entry's ``actor_digest`` (SHA-256 of canonical JSON ``{"credential_id": id, "salt": salt}``)."""

    id: str
    label: str
    salt: str


class AuditEntryRead(BaseModel):
    seq: int
    at: str
    party_id: str | None
    action: str
    entity_type: str
    entity_id: str
    payload_digest: str
    #: in the hashed body when a party's token made the change: a salted digest of which token
    actor_digest: str | None = None
    #: the token itself, shown to the acting party and the admin only
    token: AuditTokenRead | None = None
    payload: Any
    prev_hash: str
    hash: str


class AuditLinkRead(BaseModel):
    seq: int
    body_digest: str
    prev_hash: str
    hash: str


class SignedHeadRead(BaseModel):
    seq: int
    hash: str
    signed_at: str
    public_key: str
    signature: str


# ---- Activities and conflicts --------------------------------------------------------------------


class Repeat(Strict):
    """The volumes again every so many days: a patrol every day at the same hours."""

    every_days: int = Field(ge=1, le=366, description="days between the starts of two occurrences")
    until: str = Field(description="RFC 3339: the last occurrence starts before this")


class ActivityCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [body_docs.ACTIVITY]})

    kind: ActivityKind
    title: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=10_000)
    volumes: list[Volume4D] = Field(min_length=1)
    repeat: Repeat | None = Field(
        None,
        description="repeat the volumes (the first occurrence) every `every_days` until `until`; the activity "
        "is stored with every occurrence's volumes (at most the volume limit in all), each checked for conflicts",
    )


class ActivityUpdate(ActivityCreate):
    version: int | None = Field(None, description="the version you are replacing (optimistic check)")


class ActivityRead(BaseModel):
    id: str
    party_id: str
    kind: ActivityKind
    title: str
    description: str
    status: ActivityStatus
    version: int
    time_start: str
    time_end: str
    volumes: list[dict[str, Any]]
    created_at: str
    updated_at: str


class ConflictActivity(BaseModel):
    """What a conflict shows of an activity. ``title`` only to its owner: others see the kind, the
    window and the owner, never the plan."""

    id: str
    owner: PartyRef
    kind: ActivityKind
    time_start: str
    time_end: str | None
    title: str | None = None


class ConflictRegion(BaseModel):
    geometry: dict[str, Any]
    time_start: str
    time_end: str | None
    altitude_lower: Altitude
    altitude_upper: Altitude


class ZoneRef(BaseModel):
    id: str
    name: str | None
    revision: int | None


class ConflictTrack(BaseModel):
    """A live track in a separation or incursion conflict."""

    owner: PartyRef
    track_id: str
    callsign: str
    kind: ActivityKind
    activity_id: str | None


class ConflictAgreement(BaseModel):
    party: PartyRef
    at: str
    statement: str = Field(description="how the party says the conflict is handled")
    current: bool = Field(
        description="it was given to the conflict as it is now; false: the conflict has changed since (asked again)"
    )


class AgreementCreate(Strict):
    statement: str = Field(min_length=1, max_length=2000, description="how the conflict is handled (an escort, a "
                           "height kept, a time agreed over the hotline)")  # fmt: skip


class AgreementWithdraw(Strict):
    statement: str = Field("", max_length=2000, description="why, if you say")


class ConflictRead(BaseModel):
    id: str
    rule: ConflictRule
    status: ConflictStatus
    reason: str
    parties: list[PartyRef]
    zone: ZoneRef | None
    activities: list[ConflictActivity]
    tracks: list[ConflictTrack] = Field(default_factory=list)
    regions: list[ConflictRegion]
    created_at: str
    updated_at: str
    closed_at: str | None
    closed_reason: str | None
    agreements: list[ConflictAgreement] = Field(
        default_factory=list, description="each party's agreement to the conflict, in the order given"
    )
    coordinated: bool = Field(
        False, description="open, and every party it concerns agrees to it as it is now: known to be handled"
    )


class ActivityWithConflicts(BaseModel):
    activity: ActivityRead
    conflicts: list[ConflictRead]


class ZoneFinding(BaseModel):
    """A zone whose rules a checked plan breaks, and where and when."""

    zone: ZoneRef
    kind: ZoneKind
    status: ZoneStatus
    in_force: bool = Field(description="the zone is in force: a notification would open this conflict now")
    reason: str
    parties: list[PartyRef] = Field(description="whom a notification would concern: you and the zone's parties")
    regions: list[ConflictRegion]


class PlanCheck(BaseModel):
    """A plan checked against the zones. Nothing was stored and nobody was told."""

    conflicts: list[ZoneFinding] = Field(
        description="zones in force whose rules the plan breaks: a notification would open these conflicts"
    )
    once_in_force: list[ZoneFinding] = Field(
        description="zones being negotiated, agreed in principle or suspended whose rules the plan would break "
        "once they are in force"
    )
    not_checked: str = Field(description="what a check does not look at, and why")


class TokenRef(BaseModel):
    id: str
    label: str


class Me(BaseModel):
    id: str
    name: str
    role: Role
    public_key: str | None = Field(None, description="the Ed25519 key you registered: sign every write with it")
    token: TokenRef = Field(description="which of your party's tokens this request came with")
