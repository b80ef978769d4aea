"""Zones and their negotiated life.

A zone is proposed by an officer, with signatories. Signatories revise it (each boundary or rule
change is a new revision, with its author and rationale), sign a revision in principle or final, or
object. Agreement and entry into force are computed from the sign-offs and the clock, never set by
hand. Suspension, resumption, withdrawal and lapse are asked for by a signatory. Responsibilities
(guarantor, police, monitor) are requested and answered by the party named. Documents are attached and
signed like revisions. Every change is in the audit log, and a change in or out of force re-checks the
activities the zone touches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

import shapely
from shapely.geometry import Point, box

from truceline.domain import cells as cellmod
from truceline.domain import geometry as geo
from truceline.domain import zone_news
from truceline.domain.audit import sha256_hex
from truceline.domain.conflicts import check_zone, conflict_id, zone_key
from truceline.domain.errors import Forbidden, InvalidInput, NotFound, StateConflict
from truceline.domain.ids import new_id
from truceline.domain.model import (
    AltitudeBand,
    Document,
    Party,
    Responsibility,
    ResponsibilityRole,
    ResponsibilityStatus,
    TimeWindow,
    Zone,
    ZoneStatus,
)
from truceline.domain.negotiation import Position, Stance, agreement, latest_positions, status_after, unsigned
from truceline.domain.states import REVISABLE, ZONE_MANUAL, check_zone_transition
from truceline.domain.volumes import format_time
from truceline.domain.zones import EDITABLE, ZoneFields, parse_status, parse_zone
from truceline.services import audit, conflict_sync
from truceline.services.access import may, require
from truceline.services.policy import Policy
from truceline.services.unit_of_work import UnitOfWork

ZONE = "zone"
DOCUMENT = "document"


@dataclass(frozen=True)
class ZoneResult:
    zone: Zone
    conflicts_opened_or_kept: int
    conflicts_in_scope: int


def zone_cells(zone_footprint: Any, standoff_m: float, policy: Policy) -> set[int]:
    (cells,) = cellmod.cover(zone_footprint, resolution=policy.resolution, grow_m=(standoff_m,))
    return cells


def snapshot(z: Zone) -> dict[str, Any]:
    """What a revision records: the boundary and the rules."""
    return {
        "name": z.name,
        "kind": z.kind.value,
        "geometry": z.geometry,
        "radius_m": z.radius_m,
        "altitude_lower_m": z.altitude.lower,
        "altitude_upper_m": z.altitude.upper,
        "effective_from": format_time(z.effective.start),
        "effective_until": format_time(z.effective.end),
        "forbidden_kinds": sorted(k.value for k in z.forbidden_kinds),
        "standoff_m": z.standoff_m,
        "description": z.description,
        "separation_m": z.separation_m,
        "vertical_separation_m": z.vertical_separation_m,
        "schedule": z.schedule.to_json() if z.schedule else None,
    }


def _touch(zone: Zone, now: datetime) -> None:
    # updated_at keys the parsed-zone cache, so it must move forward on every save.
    zone.updated_at = max(now, zone.updated_at + timedelta(milliseconds=1))


def _party(uow: UnitOfWork, ref: str, pointer: str) -> Party:
    party = uow.parties.get(ref) or uow.parties.by_name(ref)
    if party is None:
        raise InvalidInput.at(pointer, f"no party with id or name {ref!r}")
    return party


def _may_sign_for(zone: Zone, caller: Party) -> bool:
    return caller.id in zone.signatories and may(caller, "zone.write")


def _signatory(zone: Zone, caller: Party, doing: str) -> None:
    if caller.id not in zone.signatories:
        raise Forbidden(f"only the zone's signatories may {doing}; your party is not one of them")


def _record(
    uow: UnitOfWork,
    actor: Party | None,
    action: str,
    zone: Zone,
    payload: dict[str, Any],
    *,
    doc: Document | None = None,
) -> None:
    """Audit a negotiation step and put it on the live feed of the parties it concerns (a status move:
    every party's), with a sentence for people."""
    audit.record(uow, actor, action, DOCUMENT if doc else ZONE, doc.id if doc else zone.id, payload)
    details = zone_news.details_of(payload, [("document", doc.id), ("title", doc.title)] if doc else [])
    if zone_news.for_everyone(action, details):
        told = [p.id for p in uow.parties.list()]
    else:
        told = [*zone_news.concerned(zone), *([actor.id] if actor else [])]
    names = uow.parties.names([*details.get("signatories", []), str(details.get("party", ""))])
    now = uow.clock()
    event = zone_news.event(action, zone, actor, format_time(now) or "", details, lambda i: names.get(i, i))
    uow.feed.publish(told, action, event, now)


def recheck(uow: UnitOfWork, policy: Policy, zone: Zone, cells: set[int]) -> tuple[int, int]:
    """Re-decide ``zone``'s rule for every activity it may touch; return (conflicting, decided)."""
    # The zone's cells are locked as a notification locks the cells it searches, so a notification
    # racing this change either commits first (and is found here) or waits and sees the new zone.
    uow.lock_cells(cells)
    in_scope = [c.id for c in uow.conflicts.open_for_zone(zone.id)]
    ids: set[str] = {a for c in uow.conflicts.get_many(in_scope).values() for a in c.activity_ids}
    if zone.status is ZoneStatus.in_force:
        ids |= uow.activities.candidate_ids(
            cells, [], zone.effective, AltitudeBand(zone.altitude.lower, zone.altitude.upper)
        )
    acts = uow.activities.get_many(sorted(ids))
    decisions = [check_zone(a, zone) for a in acts]
    in_scope_ids = set(in_scope) | {conflict_id(zone_key(a.id, zone.id)) for a in acts}
    conflict_sync.sync(
        uow,
        policy,
        decisions,
        in_scope=in_scope_ids,
        activities={a.id: a for a in acts},
        zones={zone.id: zone},
        now=uow.clock(),
        gone_reason=f"zone '{zone.name}' is {zone.status.replace('_', ' ')}",
    )
    return sum(d.conflict for d in decisions), len(decisions)


def _settle(uow: UnitOfWork, policy: Policy, zone: Zone, *, actor: Party | None) -> tuple[int, int]:
    """Apply the status the sign-offs and the clock imply; re-check activities if force changed."""
    stances = uow.zones.positions(ZONE, zone.id)
    agreed = agreement(zone.signatories, stances, zone.revision)
    started = zone.revision > 1 or any(True for _ in stances)
    target = status_after(zone.status, agreed, zone.effective, uow.clock(), negotiation_started=started)
    if target is ZoneStatus.in_force and zone.status in (ZoneStatus.proposed, ZoneStatus.negotiating):
        # Agreement comes before force, even when the last signature brings both at once.
        _move(uow, policy, zone, ZoneStatus.agreed_in_principle, actor=actor, computed=True)
    return _move(uow, policy, zone, target, actor=actor, computed=True)


def _move(
    uow: UnitOfWork,
    policy: Policy,
    zone: Zone,
    target: ZoneStatus,
    *,
    actor: Party | None,
    computed: bool,
    rationale: str = "",
) -> tuple[int, int]:
    was_in_force = zone.status is ZoneStatus.in_force
    if target is not zone.status:
        check_zone_transition(zone.status, target, manual=not computed)
        before = zone.status
        zone.status = target
        _touch(zone, uow.clock())
        uow.zones.save(zone)
        uow.zones.record_status(zone.id, uow.clock(), target, zone.revision)
        _record(
            uow,
            actor,
            "zone.status",
            zone,
            {"from": before.value, "to": target.value, "computed": computed, "revision": zone.revision}
            | ({"rationale": rationale} if rationale else {}),
        )
    if was_in_force or zone.status is ZoneStatus.in_force:
        return recheck(uow, policy, zone, uow.zones.cells(zone.id))
    return 0, 0


# ---- proposing and revising ----------------------------------------------------------------------


def create(uow: UnitOfWork, policy: Policy, caller: Party, data: object) -> ZoneResult:
    """Propose a zone (revision 1). Signatories default to the proposing party; responsibilities named
    in the proposal are requested from the parties concerned."""
    require(caller, "zone.write")
    if isinstance(data, dict) and data.get("status", "proposed") != "proposed":
        raise InvalidInput.at("/status", "a new zone is proposed; agreement and force follow from sign-offs")
    with uow:
        now = uow.clock()
        fields = parse_zone(data, now=now, limits=policy.limits)
        assert isinstance(data, dict)
        sig_refs = data.get("signatories") or [caller.id]
        if not isinstance(sig_refs, list):
            raise InvalidInput.at("/signatories", "must be an array of party ids or names")
        signatories: list[str] = []
        for i, ref in enumerate(sig_refs):
            p = _party(uow, str(ref), f"/signatories/{i}")
            if p.id not in signatories:
                signatories.append(p.id)
        zone = Zone(
            id=new_id(),
            name=fields.name,
            kind=fields.kind,
            status=ZoneStatus.proposed,
            revision=1,
            geometry=fields.geometry,
            radius_m=fields.radius_m,
            footprint=fields.footprint,
            altitude=fields.altitude,
            effective=fields.effective,
            forbidden_kinds=fields.forbidden_kinds,
            standoff_m=fields.standoff_m,
            responsible=[],
            created_by=caller.id,
            created_at=now,
            updated_at=now,
            description=fields.description,
            separation_m=fields.separation_m,
            vertical_separation_m=fields.vertical_separation_m,
            schedule=fields.schedule,
            signatories=signatories,
        )
        zone.responsible = [
            _request(uow, caller, ref, role, i, now) for i, (ref, role) in enumerate(fields.responsible)
        ]
        cells = zone_cells(zone.footprint, zone.standoff_m, policy)
        uow.zones.add(zone, cells)
        uow.zones.record_status(zone.id, zone.created_at, zone.status, zone.revision)
        rationale = str(data.get("rationale", ""))
        uow.zones.add_revision(zone.id, 1, snapshot(zone), caller.id, now, rationale)
        _record(
            uow,
            caller,
            "zone.proposed",
            zone,
            {"revision": 1, "snapshot": snapshot(zone), "signatories": signatories, "rationale": rationale},
        )
        uow.commit()
    return ZoneResult(zone, 0, 0)


def _request(
    uow: UnitOfWork, caller: Party, ref: str, role: ResponsibilityRole, i: int, now: datetime
) -> Responsibility:
    party = _party(uow, ref, f"/responsible/{i}/party")
    mine = party.id == caller.id  # a party taking a responsibility itself has accepted it
    return Responsibility(
        party_id=party.id,
        role=role,
        id=new_id(),
        status=ResponsibilityStatus.accepted if mine else ResponsibilityStatus.requested,
        requested_by=caller.id,
        requested_at=now,
        answered_at=now if mine else None,
    )


def update(uow: UnitOfWork, policy: Policy, caller: Party, zone_id: str, data: object) -> ZoneResult:
    """Revise a zone's boundary or rules (a new revision that voids earlier sign-offs), or ask for a
    status move (suspend, resume, lapse, withdraw). Only signatories may do either."""
    require(caller, "zone.write")
    if not isinstance(data, dict):
        raise InvalidInput.at("", "the body must be a JSON object")
    unknown = sorted(set(data) - {*EDITABLE, "status", "revision", "rationale"})
    if unknown:
        raise InvalidInput.at(f"/{unknown[0]}", f"{unknown[0]!r} is not a zone field that can be changed")
    if "responsible" in data:
        raise InvalidInput.at("/responsible", "responsibilities are requested and answered: use /responsibilities")
    with uow:
        zone = get_or_raise(uow, zone_id, for_update=True)
        _signatory(zone, caller, "change it")
        if data.get("revision") is not None and data["revision"] != zone.revision:
            raise StateConflict(
                f"the zone is at revision {zone.revision}, not {data['revision']}",
                extra={"current_revision": zone.revision},
            )
        now = uow.clock()
        result = (0, 0)
        if any(k in data for k in EDITABLE):
            if zone.status not in REVISABLE:
                raise StateConflict(
                    f"a zone that is {zone.status.replace('_', ' ')} cannot be revised; "
                    "revisions are for zones still being negotiated",
                    extra={"current": zone.status.value},
                )
            merged = {**_as_input(zone), **{k: v for k, v in data.items() if k in EDITABLE}}
            if "geometry" in data and "radius_m" not in data and (data["geometry"] or {}).get("type") != "Point":
                merged.pop("radius_m", None)
            fields = parse_zone(merged, now=now, limits=policy.limits)
            _apply(zone, fields)
            zone.revision += 1
            _touch(zone, now)
            cells = zone_cells(zone.footprint, zone.standoff_m, policy)
            uow.zones.save(zone, cells)
            rationale = str(data.get("rationale", ""))
            uow.zones.add_revision(zone.id, zone.revision, snapshot(zone), caller.id, now, rationale)
            _record(
                uow,
                caller,
                "zone.revised",
                zone,
                {"revision": zone.revision, "snapshot": snapshot(zone), "rationale": rationale},
            )
            result = _settle(uow, policy, zone, actor=caller)
        if "status" in data:
            why = "" if any(k in data for k in EDITABLE) else str(data.get("rationale") or "")  # else the revision's
            result = _move(uow, policy, zone, parse_status(data["status"]), actor=caller, computed=False, rationale=why)
        uow.commit()
    return ZoneResult(zone, *result)


def _apply(zone: Zone, fields: ZoneFields) -> None:
    zone.name, zone.kind, zone.geometry, zone.radius_m = fields.name, fields.kind, fields.geometry, fields.radius_m
    zone.footprint, zone.altitude, zone.effective = fields.footprint, fields.altitude, fields.effective
    zone.forbidden_kinds, zone.standoff_m, zone.description = (
        fields.forbidden_kinds,
        fields.standoff_m,
        fields.description,
    )
    zone.separation_m, zone.vertical_separation_m = fields.separation_m, fields.vertical_separation_m
    zone.schedule = fields.schedule


def lapse(uow: UnitOfWork, policy: Policy, caller: Party, zone_id: str) -> ZoneResult:
    return update(uow, policy, caller, zone_id, {"status": ZoneStatus.lapsed.value})


def _as_input(z: Zone) -> dict[str, Any]:
    alt = {"reference": "W84", "units": "M"}
    out: dict[str, Any] = {
        "name": z.name,
        "kind": z.kind.value,
        "geometry": z.geometry,
        "altitude_lower": {"value": z.altitude.lower, **alt},
        "altitude_upper": {"value": z.altitude.upper, **alt},
        "effective_from": format_time(z.effective.start),
        "effective_until": format_time(z.effective.end),
        "forbidden_kinds": sorted(k.value for k in z.forbidden_kinds),
        "standoff_m": z.standoff_m,
        "description": z.description,
    }
    for key in ("separation_m", "vertical_separation_m"):
        if getattr(z, key) is not None:
            out[key] = getattr(z, key)
    if z.schedule is not None:
        out["schedule"] = z.schedule.to_json()
    if z.radius_m is not None:
        out["radius_m"] = z.radius_m
    return out


# ---- sign-offs and objections --------------------------------------------------------------------


def _position_input(data: object, *, objection: bool) -> tuple[int, Position, str]:
    if not isinstance(data, dict):
        raise InvalidInput.at("", "the body must be a JSON object")
    revision = data.get("revision")
    if not isinstance(revision, int) or isinstance(revision, bool):
        raise InvalidInput.at("/revision", "the revision you sign (or object to) is required")
    statement = data.get("statement", "")
    if not isinstance(statement, str) or len(statement) > 10_000:
        raise InvalidInput.at("/statement", "statement must be a string of at most 10,000 characters")
    if objection:
        if not statement.strip():
            raise InvalidInput.at("/statement", "an objection needs a statement")
        return revision, Position.objection, statement
    try:
        strength = Position(str(data.get("strength")))
    except ValueError:
        raise InvalidInput.at("/strength", "strength must be in_principle or final") from None
    if strength is Position.objection:
        raise InvalidInput.at("/strength", "strength must be in_principle or final")
    return revision, strength, statement


def take_position(
    uow: UnitOfWork, policy: Policy, caller: Party, zone_id: str, data: object, *, objection: bool = False
) -> ZoneResult:
    """Sign the current revision (in principle or final) or object to it, and settle the status."""
    require(caller, "zone.sign")
    revision, position, statement = _position_input(data, objection=objection)
    with uow:
        zone = get_or_raise(uow, zone_id, for_update=True)
        _signatory(zone, caller, "sign it or object to it")
        if zone.status not in REVISABLE:
            raise StateConflict(f"the zone is {zone.status.replace('_', ' ')}: its negotiation is over")
        if revision != zone.revision:
            raise StateConflict(
                f"revision {revision} is not current; sign revision {zone.revision}",
                extra={"current_revision": zone.revision},
            )
        stance = Stance(caller.id, revision, position, statement, uow.clock())
        uow.zones.add_position(ZONE, zone.id, stance)
        _record(
            uow,
            caller,
            "zone.objected" if objection else "zone.signed",
            zone,
            {"revision": revision, "position": position.value, "statement": statement},
        )
        result = _settle(uow, policy, zone, actor=None)
        uow.commit()
    return ZoneResult(zone, *result)


def _due(z: Zone, now: datetime) -> bool:
    """Whether the clock may change this zone's status now (cheap, before any lock)."""
    if z.status is ZoneStatus.agreed_in_principle:
        return z.effective.start <= now
    if z.status in (ZoneStatus.in_force, ZoneStatus.suspended):
        return z.effective.end is not None and z.effective.end <= now
    return False


#: one process at a time applies the clock to zones
ZONE_CLOCK_LOCK = 0x7472_7a6f_6e65  # "trzone"


def warm(uow: UnitOfWork) -> int:
    """Load the zones in force into the process's zone cache; returns how many."""
    with uow:
        return uow.zones.load_in_force()


def advance(uow: UnitOfWork, policy: Policy) -> list[Zone]:
    """Apply what the clock implies to every zone (entry into force at effective_from, lapse at
    effective_until). Safe to run from any number of processes: each zone is locked and re-read."""
    changed: list[Zone] = []
    with uow:
        if not uow.try_lock(ZONE_CLOCK_LOCK):
            return changed
        now = uow.clock()
        for zid in [z.id for z in uow.zones.list(limit=1_000_000) if _due(z, now)]:
            zone = get_or_raise(uow, zid, for_update=True)
            before = zone.status
            _settle(uow, policy, zone, actor=None)
            if zone.status is not before:
                changed.append(zone)
        uow.commit()
    return changed


# ---- responsibilities ----------------------------------------------------------------------------


def request_responsibility(
    uow: UnitOfWork, policy: Policy, caller: Party, zone_id: str, data: object
) -> Responsibility:
    """A signatory asks a party to be guarantor, police or monitor of the zone."""
    require(caller, "zone.write")
    if not isinstance(data, dict) or not isinstance(data.get("party"), str):
        raise InvalidInput.at("/party", "party (a party id or name) is required")
    try:
        role = ResponsibilityRole(str(data.get("role")))
    except ValueError:
        raise InvalidInput.at("/role", "role must be guarantor, police or monitor") from None
    with uow:
        zone = get_or_raise(uow, zone_id, for_update=True)
        _signatory(zone, caller, "ask for responsibilities")
        now = uow.clock()
        party = _party(uow, data["party"], "/party")
        if any(
            r.party_id == party.id and r.role is role and r.status is not ResponsibilityStatus.declined
            for r in zone.responsible
        ):
            raise StateConflict(f"{party.name} is already asked or assigned as {role.value}")
        resp = _request(uow, caller, party.id, role, 0, now)
        zone.responsible.append(resp)
        _touch(zone, now)
        uow.zones.save(zone)
        _record(
            uow,
            caller,
            "zone.responsibility_requested",
            zone,
            {"responsibility": resp.id, "party": party.id, "role": role.value},
        )
        if resp.status is ResponsibilityStatus.accepted and zone.status is ZoneStatus.in_force:
            recheck(uow, policy, zone, uow.zones.cells(zone.id))
        uow.commit()
    return resp


def answer_responsibility(
    uow: UnitOfWork, policy: Policy, caller: Party, zone_id: str, responsibility_id: str, data: object, *, accept: bool
) -> Responsibility:
    """The party asked accepts or declines, with a statement."""
    require(caller, "responsibility.answer")
    statement = data.get("statement", "") if isinstance(data, dict) else ""
    if not isinstance(statement, str) or len(statement) > 10_000:
        raise InvalidInput.at("/statement", "statement must be a string of at most 10,000 characters")
    if not accept and not statement.strip():
        raise InvalidInput.at("/statement", "declining needs a statement")
    with uow:
        zone = get_or_raise(uow, zone_id, for_update=True)
        idx = next((i for i, r in enumerate(zone.responsible) if r.id == responsibility_id), None)
        if idx is None:
            raise NotFound(f"no responsibility {responsibility_id} on zone {zone_id}")
        resp = zone.responsible[idx]
        if resp.party_id != caller.id:
            raise Forbidden("only the party asked may answer: a party never acts for another")
        if resp.status is not ResponsibilityStatus.requested:
            raise StateConflict(f"this request was already answered ({resp.status.value})")
        now = uow.clock()
        resp = replace(
            resp,
            status=ResponsibilityStatus.accepted if accept else ResponsibilityStatus.declined,
            statement=statement,
            answered_at=now,
        )
        zone.responsible[idx] = resp
        _touch(zone, now)
        uow.zones.save(zone)
        _record(
            uow,
            caller,
            "zone.responsibility_" + ("accepted" if accept else "declined"),
            zone,
            {"responsibility": resp.id, "role": resp.role.value, "statement": statement},
        )
        if accept and zone.status is ZoneStatus.in_force:
            recheck(uow, policy, zone, uow.zones.cells(zone.id))
        uow.commit()
    return resp


# ---- documents -----------------------------------------------------------------------------------


def _doc_input(data: object, *, partial: bool) -> tuple[str | None, str | None]:
    if not isinstance(data, dict):
        raise InvalidInput.at("", "the body must be a JSON object")
    title, body = data.get("title"), data.get("body")
    if (not partial or title is not None) and (not isinstance(title, str) or not 1 <= len(title.strip()) <= 300):
        raise InvalidInput.at("/title", "title is required: 1 to 300 characters")
    if (not partial or body is not None) and (not isinstance(body, str) or len(body) > 200_000):
        raise InvalidInput.at("/body", "body is required: markdown of at most 200,000 characters")
    return title, body


def add_document(uow: UnitOfWork, caller: Party, zone_id: str, data: object) -> DocumentStatus:
    require(caller, "zone.write")
    title, body = _doc_input(data, partial=False)
    with uow:
        zone = get_or_raise(uow, zone_id)
        _signatory(zone, caller, "attach documents")
        now = uow.clock()
        doc = Document(new_id(), zone.id, (title or "").strip(), body or "", 1, caller.id, now, now)
        uow.zones.add_document(doc)
        _record(
            uow,
            caller,
            "document.added",
            zone,
            {"zone": zone.id, "title": doc.title, "version": 1, "body_sha256": sha256_hex(doc.body.encode())},
            doc=doc,
        )
        done = _doc_status(uow, zone, doc)
        uow.commit()
    return done


def revise_document(
    uow: UnitOfWork, caller: Party, zone_id: str, document_id: str, data: object
) -> DocumentStatus:
    require(caller, "zone.write")
    title, body = _doc_input(data, partial=True)
    with uow:
        zone = get_or_raise(uow, zone_id)
        _signatory(zone, caller, "revise documents")
        doc = _document(uow, zone, document_id)
        expected = data.get("version") if isinstance(data, dict) else None
        if expected is not None and expected != doc.version:
            raise StateConflict(
                f"the document is at version {doc.version}, not {expected}", extra={"current_version": doc.version}
            )
        doc.title = (title or doc.title).strip()
        doc.body = body if body is not None else doc.body
        doc.version += 1
        doc.updated_at = uow.clock()
        uow.zones.save_document(doc)
        _record(
            uow,
            caller,
            "document.revised",
            zone,
            {"zone": zone.id, "version": doc.version, "body_sha256": sha256_hex(doc.body.encode())},
            doc=doc,
        )
        done = _doc_status(uow, zone, doc)
        uow.commit()
    return done


def sign_document(
    uow: UnitOfWork, caller: Party, zone_id: str, document_id: str, data: object, *, objection: bool = False
) -> DocumentStatus:
    require(caller, "zone.sign")
    if isinstance(data, dict) and (not isinstance(data.get("version"), int) or isinstance(data.get("version"), bool)):
        raise InvalidInput.at("/version", "the document's version you sign (or object to) is required")
    version, position, statement = _position_input(
        {**data, "revision": data.get("version")} if isinstance(data, dict) else data, objection=objection
    )
    with uow:
        zone = get_or_raise(uow, zone_id)
        _signatory(zone, caller, "sign its documents")
        doc = _document(uow, zone, document_id)
        if version != doc.version:
            raise StateConflict(
                f"version {version} is not current; sign version {doc.version}", extra={"current_version": doc.version}
            )
        uow.zones.add_position(DOCUMENT, doc.id, Stance(caller.id, version, position, statement, uow.clock()))
        _record(
            uow,
            caller,
            "document.objected" if objection else "document.signed",
            zone,
            {"zone": zone.id, "version": version, "position": position.value, "statement": statement},
            doc=doc,
        )
        done = _doc_status(uow, zone, doc)
        uow.commit()
    return done


def _doc_status(uow: UnitOfWork, zone: Zone, doc: Document) -> DocumentStatus:
    stances = uow.zones.positions(DOCUMENT, doc.id)
    return DocumentStatus(doc, unsigned(zone.signatories, stances, doc.version, final=True), stances)


def _document(uow: UnitOfWork, zone: Zone, document_id: str) -> Document:
    doc = next((d for d in uow.zones.documents(zone.id) if d.id == document_id), None)
    if doc is None:
        raise NotFound(f"no document {document_id} on zone {zone.id}")
    return doc


# ---- reading -------------------------------------------------------------------------------------


def get_or_raise(uow: UnitOfWork, zone_id: str, *, for_update: bool = False) -> Zone:
    z = uow.zones.get(zone_id, for_update=for_update)
    if z is None:
        raise NotFound(f"no zone {zone_id}")
    return z


def get(uow: UnitOfWork, caller: Party, zone_id: str) -> Zone:
    require(caller, "zone.read")
    with uow:
        return get_or_raise(uow, zone_id)


def revisions(uow: UnitOfWork, caller: Party, zone_id: str) -> list[dict[str, Any]]:
    require(caller, "zone.read")
    with uow:
        get_or_raise(uow, zone_id)
        return uow.zones.revisions(zone_id)


@dataclass(frozen=True)
class DocumentStatus:
    document: Document
    unsigned_by: list[str]  # signatories who have not signed the current version final
    #: every sign-off and objection, on every version, oldest first
    positions: list[Stance] = field(default_factory=list)


@dataclass(frozen=True)
class Negotiation:
    zone: Zone
    revisions: list[dict[str, Any]]
    positions: list[Stance]
    current: dict[str, Stance]  # each party's position on the current revision
    awaiting_in_principle: list[str]
    awaiting_final: list[str]
    documents: list[DocumentStatus]
    open_responsibilities: list[Responsibility]
    status_moves: list[ZoneStatus]  # the moves the caller may make by hand now (a signatory's)


def negotiation(uow: UnitOfWork, caller: Party, zone_id: str) -> Negotiation:
    """A zone's negotiation: revisions, every position taken, who has yet to sign, documents still to
    finalise, responsibilities awaiting an answer."""
    require(caller, "zone.read")
    with uow:
        zone = get_or_raise(uow, zone_id)
        revs = uow.zones.revisions(zone_id)
        stances = uow.zones.positions(ZONE, zone_id)
        docs = [_doc_status(uow, zone, d) for d in uow.zones.documents(zone_id)]
    return Negotiation(
        zone=zone,
        revisions=revs,
        positions=stances,
        current=latest_positions(stances, zone.revision),
        awaiting_in_principle=unsigned(zone.signatories, stances, zone.revision, final=False),
        awaiting_final=unsigned(zone.signatories, stances, zone.revision, final=True),
        documents=docs,
        open_responsibilities=[r for r in zone.responsible if r.status is ResponsibilityStatus.requested],
        status_moves=sorted(ZONE_MANUAL[zone.status]) if _may_sign_for(zone, caller) else [],
    )


@dataclass(frozen=True)
class Awaiting:
    zone: Zone
    signature: Literal["in_principle", "final"]  # in principle: not signed at all yet


def awaiting_signature(uow: UnitOfWork, caller: Party) -> list[Awaiting]:
    """The zones still being negotiated whose current revision waits for the caller's party to sign:
    in principle first (when it has not even done that), else final. By name."""
    require(caller, "zone.read")
    with uow:
        return awaiting_in(uow, caller)


def awaiting_in(uow: UnitOfWork, caller: Party, zones: Iterable[Zone] | None = None) -> list[Awaiting]:
    """``awaiting_signature`` within the caller's transaction, of ``zones`` if it has read them."""
    out = []
    for zone in uow.zones.list(limit=100_000) if zones is None else zones:
        if zone.status not in REVISABLE or caller.id not in zone.signatories:
            continue
        stances = uow.zones.positions(ZONE, zone.id)
        if unsigned([caller.id], stances, zone.revision, final=False):
            out.append(Awaiting(zone, "in_principle"))
        elif unsigned([caller.id], stances, zone.revision, final=True):
            out.append(Awaiting(zone, "final"))
    return sorted(out, key=lambda a: (a.zone.name, a.zone.id))


@dataclass(frozen=True)
class RevisionDiff:
    a: int
    b: int
    added: Any  # lon/lat geometry: in b, not in a
    removed: Any  # in a, not in b
    added_km2: float
    removed_km2: float
    rule_changes: list[dict[str, Any]]


def _snapshot_footprint(snap: dict[str, Any], policy: Policy) -> Any:
    g = geo.parse_geometry(
        snap["geometry"], "/geometry", allowed=["Polygon", "MultiPolygon", "Point"], limits=policy.limits
    )
    if isinstance(g, Point):
        return geo.densify(geo.circle(g.x, g.y, float(snap["radius_m"])))
    return geo.densify(g)


def diff(uow: UnitOfWork, policy: Policy, caller: Party, zone_id: str, a: int, b: int) -> RevisionDiff:
    """What changed from revision ``a`` to ``b``: the area added and removed, and the rules."""
    revs = {r["revision"]: r["snapshot"] for r in revisions(uow, caller, zone_id)}
    for n, name in ((a, "a"), (b, "b")):
        if n not in revs:
            raise NotFound(f"zone {zone_id} has no revision {n} ({name})")
    fa, fb = _snapshot_footprint(revs[a], policy), _snapshot_footprint(revs[b], policy)
    frame = geo.frame_for(shapely.union(fa, fb))
    la, lb = frame.to_local(fa), frame.to_local(fb)
    added, removed = lb.difference(la), la.difference(lb)
    changes = [
        {"field": k, "from": revs[a].get(k), "to": revs[b].get(k)}
        for k in sorted(set(revs[a]) | set(revs[b]))
        if k not in ("geometry", "radius_m") and revs[a].get(k) != revs[b].get(k)
    ]
    if revs[a].get("geometry") != revs[b].get("geometry") or revs[a].get("radius_m") != revs[b].get("radius_m"):
        changes.insert(0, {"field": "boundary", "from": None, "to": None})
    return RevisionDiff(
        a,
        b,
        geo.local_to_lonlat_polygon(frame, added) if not added.is_empty else added,
        geo.local_to_lonlat_polygon(frame, removed) if not removed.is_empty else removed,
        added.area / 1e6,
        removed.area / 1e6,
        changes,
    )


def list_zones(
    uow: UnitOfWork,
    caller: Party,
    *,
    name: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    at: TimeWindow | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> list[Zone]:
    require(caller, "zone.read")
    filtered = bbox is not None or at is not None
    with uow:
        zones = uow.zones.list(
            kind=kind, status=status, name=name, limit=100_000 if filtered else limit, offset=0 if filtered else offset
        )
    if at is not None:
        zones = [z for z in zones if z.effective.overlaps(at)]
    if bbox is not None:
        area = box(*bbox)
        zones = [z for z in zones if z.footprint.intersects(area)]
    if filtered:
        zones = zones[offset : offset + limit]
    return zones
