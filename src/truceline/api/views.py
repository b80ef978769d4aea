"""Domain objects to API schemas, applying need-to-know."""

from __future__ import annotations

from datetime import UTC, datetime

from truceline.adapters.repositories import SignedHead, StoredEntry
from truceline.api import schemas as s
from truceline.domain.agreements import Standing
from truceline.domain.model import Activity, Conflict, Credential, Party, Region, Responsibility, Zone
from truceline.domain.negotiation import Stance
from truceline.domain.plan_check import ZoneFinding
from truceline.domain.volumes import format_time, volume_to_volume4d
from truceline.services.zones import DocumentStatus, Negotiation


def _t(x: object) -> str:
    out = format_time(x)  # type: ignore[arg-type]
    assert out is not None
    return out


def _alt(m: float) -> s.Altitude:
    return s.Altitude(value=round(m, 3), reference="W84", units="M")


def token(c: Credential, now: datetime) -> s.TokenRead:
    state = "revoked" if c.revoked_at else "expired" if c.refusal(now) else "active"
    return s.TokenRead(
        id=c.id,
        label=c.label,
        created_at=_t(c.created_at),
        expires_at=format_time(c.expires_at),
        revoked_at=format_time(c.revoked_at),
        state=state,  # type: ignore[arg-type]
        last_used_at=format_time(c.last_used_at),
        last_used_from=c.last_used_from,
        tried_after_revocation=c.tried_after_revocation,
    )


def party(p: Party) -> s.PartyRead:
    return s.PartyRead(id=p.id, name=p.name, role=p.role, created_at=_t(p.created_at), public_key=p.public_key)


def responsibility(r: Responsibility, names: dict[str, str]) -> s.ResponsibilityRead:
    return s.ResponsibilityRead(
        id=r.id,
        party_id=r.party_id,
        party_name=names.get(r.party_id),
        role=r.role,
        status=r.status,
        statement=r.statement,
        requested_by=r.requested_by,
        requested_at=format_time(r.requested_at),
        answered_at=format_time(r.answered_at),
    )


def ref(party_id: str, names: dict[str, str]) -> s.PartyRef:
    return s.PartyRef(id=party_id, name=names.get(party_id))


def position(p: Stance, names: dict[str, str]) -> s.PositionRead:
    return s.PositionRead(
        party=ref(p.party_id, names), revision=p.revision, position=p.position.value, statement=p.statement, at=_t(p.at)
    )


def document(status: DocumentStatus, names: dict[str, str]) -> s.DocumentRead:
    d = status.document
    return s.DocumentRead(
        id=d.id,
        zone_id=d.zone_id,
        title=d.title,
        body=d.body,
        version=d.version,
        created_by=d.created_by,
        created_at=_t(d.created_at),
        updated_at=_t(d.updated_at),
        unsigned_by=[ref(p, names) for p in status.unsigned_by],
        positions=[position(p, names) for p in status.positions],
    )


def revision(r: dict[str, object]) -> s.ZoneRevisionRead:
    return s.ZoneRevisionRead(
        revision=r["revision"],
        author=r["author"],
        created_at=_t(r["created_at"]),
        rationale=r.get("rationale", ""),
        snapshot=r["snapshot"],
    )  # type: ignore[arg-type]


def negotiation(n: Negotiation, names: dict[str, str]) -> s.NegotiationRead:
    return s.NegotiationRead(
        zone=zone(n.zone, names),
        revisions=[revision(r) for r in n.revisions],
        positions=[position(p, names) for p in n.positions],
        current_positions=[position(p, names) for p in n.current.values()],
        awaiting_in_principle=[ref(p, names) for p in n.awaiting_in_principle],
        awaiting_final=[ref(p, names) for p in n.awaiting_final],
        documents=[document(d, names) for d in n.documents],
        documents_to_finalise=sum(1 for d in n.documents if d.unsigned_by),
        open_responsibilities=[responsibility(r, names) for r in n.open_responsibilities],
        status_moves=n.status_moves,
    )


def audit_entry(e: StoredEntry, tokens: dict[str, Credential]) -> s.AuditEntryRead:
    b = e.entry.body
    token = tokens.get(e.credential_id) if e.credential_id is not None else None
    return s.AuditEntryRead(
        seq=b.seq,
        at=_t(datetime.fromtimestamp(b.at_ms / 1000, tz=UTC)),
        party_id=b.party_id,
        action=b.action,
        entity_type=b.entity_type,
        entity_id=b.entity_id,
        payload_digest=b.payload_digest,
        actor_digest=b.actor_digest,
        token=s.AuditTokenRead(id=token.id, label=token.label, salt=e.actor_salt or "") if token else None,
        payload=e.payload,
        prev_hash=e.entry.prev_hash,
        hash=e.entry.hash,
    )


def signed_head(h: SignedHead) -> s.SignedHeadRead:
    return s.SignedHeadRead(
        seq=h.seq, hash=h.hash, signed_at=_t(h.signed_at), public_key=h.public_key, signature=h.signature
    )


def zone(z: Zone, names: dict[str, str]) -> s.ZoneRead:
    return s.ZoneRead(
        id=z.id,
        name=z.name,
        kind=z.kind,
        status=z.status,
        revision=z.revision,
        geometry=z.geometry,
        radius_m=z.radius_m,
        altitude_lower=_alt(z.altitude.lower),
        altitude_upper=_alt(z.altitude.upper),
        effective_from=_t(z.effective.start),
        effective_until=format_time(z.effective.end),
        forbidden_kinds=sorted(z.forbidden_kinds),
        standoff_m=z.standoff_m,
        separation_m=z.separation_m,
        vertical_separation_m=z.vertical_separation_m,
        schedule=[s.DailyPeriod.model_validate(p) for p in z.schedule.to_json()] if z.schedule else None,
        responsible=[responsibility(r, names) for r in z.responsible],
        signatories=[ref(p, names) for p in z.signatories],
        description=z.description,
        created_by=z.created_by,
        created_at=_t(z.created_at),
        updated_at=_t(z.updated_at),
    )


def activity(a: Activity) -> s.ActivityRead:
    w = a.window
    return s.ActivityRead(
        id=a.id,
        party_id=a.party_id,
        kind=a.kind,
        title=a.title,
        description=a.description,
        status=a.status,
        version=a.version,
        time_start=_t(w.start),
        time_end=_t(w.end),
        volumes=[volume_to_volume4d(v) for v in a.volumes],
        created_at=_t(a.created_at),
        updated_at=_t(a.updated_at),
    )


def region(r: Region) -> s.ConflictRegion:
    return s.ConflictRegion(
        geometry=r.geojson,
        time_start=_t(r.window.start),
        time_end=format_time(r.window.end),
        altitude_lower=_alt(r.altitude.lower),
        altitude_upper=_alt(r.altitude.upper),
    )


def zone_finding(f: ZoneFinding, names: dict[str, str]) -> s.ZoneFinding:
    z = f.zone
    return s.ZoneFinding(
        zone=s.ZoneRef(id=z.id, name=z.name, revision=z.revision),
        kind=z.kind,
        status=z.status,
        in_force=f.in_force,
        reason=f.decision.reason,
        parties=[s.PartyRef(id=p, name=names.get(p)) for p in f.decision.party_ids],
        regions=[region(r) for r in f.decision.regions],
    )


def conflict(
    c: Conflict,
    caller: Party,
    names: dict[str, str],
    own_titles: dict[str, str],
    zone_names: dict[str, str],
    standing: Standing | None = None,
) -> s.ConflictRead:
    return s.ConflictRead(
        id=c.id,
        rule=c.rule,
        status=c.status,
        reason=c.reason,
        parties=[s.PartyRef(id=p, name=names.get(p)) for p in c.party_ids],
        zone=s.ZoneRef(id=c.zone_id, name=zone_names.get(c.zone_id), revision=c.zone_revision) if c.zone_id else None,
        activities=[
            s.ConflictActivity(
                id=x.activity_id,
                owner=s.PartyRef(id=x.party_id, name=names.get(x.party_id)),
                kind=x.kind,
                time_start=_t(x.window.start),
                time_end=format_time(x.window.end),
                title=own_titles.get(x.activity_id) if x.party_id == caller.id else None,
            )
            for x in c.subjects
        ],
        tracks=[
            s.ConflictTrack(
                owner=s.PartyRef(id=x.party_id, name=names.get(x.party_id)),
                track_id=x.track_id,
                callsign=x.callsign,
                kind=x.kind,
                activity_id=x.activity_id,
            )
            for x in c.tracks
        ],
        regions=[region(r) for r in c.regions],
        created_at=_t(c.created_at),
        updated_at=_t(c.updated_at),
        closed_at=format_time(c.closed_at),
        closed_reason=c.closed_reason,
        agreements=[
            s.ConflictAgreement(
                party=s.PartyRef(id=a.party_id, name=names.get(a.party_id)),
                at=_t(a.at),
                statement=a.statement,
                current=current,
            )
            for a, current in (standing.agreements if standing else [])
        ],
        coordinated=standing.coordinated if standing else False,
    )
