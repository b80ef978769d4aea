"""Zones: create, revise, change status, lapse, read. Changes re-check the activities they touch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapely.geometry import box

from truceline.domain import cells as cellmod
from truceline.domain.conflicts import check_zone, conflict_id, zone_key
from truceline.domain.errors import InvalidInput, NotFound, StateConflict
from truceline.domain.ids import new_id
from truceline.domain.model import (
    AltitudeBand,
    Party,
    Responsibility,
    TimeWindow,
    Zone,
    ZoneStatus,
)
from truceline.domain.states import check_zone_transition
from truceline.domain.volumes import format_time
from truceline.domain.zones import EDITABLE, ZoneFields, parse_status, parse_zone
from truceline.services import conflict_sync
from truceline.services.access import require
from truceline.services.policy import Policy
from truceline.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class ZoneResult:
    zone: Zone
    conflicts_opened_or_kept: int
    conflicts_in_scope: int


def zone_cells(zone_footprint: Any, standoff_m: float, policy: Policy) -> set[int]:
    (cells,) = cellmod.cover(zone_footprint, resolution=policy.resolution, grow_m=(standoff_m,))
    return cells


def _resolve_responsible(uow: UnitOfWork, fields: ZoneFields) -> list[Responsibility]:
    out = []
    for i, (ref, role) in enumerate(fields.responsible):
        party = uow.parties.get(ref) or uow.parties.by_name(ref)
        if party is None:
            raise InvalidInput.at(f"/responsible/{i}/party", f"no party with id or name {ref!r}")
        out.append(Responsibility(party.id, role))
    return out


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
        "responsible": [{"party_id": r.party_id, "role": r.role.value} for r in z.responsible],
        "description": z.description,
    }


def recheck(uow: UnitOfWork, policy: Policy, zone: Zone, cells: set[int]) -> tuple[int, int]:
    """Re-decide ``zone``'s rule for every activity it may touch; return (conflicting, decided)."""
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
        decisions,
        in_scope=in_scope_ids,
        activities={a.id: a for a in acts},
        zones={zone.id: zone},
        now=uow.clock(),
        gone_reason=f"zone '{zone.name}' changed and no longer applies",
    )
    return sum(d.conflict for d in decisions), len(decisions)


def create(uow: UnitOfWork, policy: Policy, caller: Party, data: object) -> ZoneResult:
    require(caller, "zone.write")
    with uow:
        now = uow.clock()
        fields = parse_zone(data, now=now, limits=policy.limits)
        status = parse_status(data.get("status", "proposed")) if isinstance(data, dict) else ZoneStatus.proposed
        zone = Zone(
            id=new_id(),
            name=fields.name,
            kind=fields.kind,
            status=status,
            revision=1,
            geometry=fields.geometry,
            radius_m=fields.radius_m,
            footprint=fields.footprint,
            altitude=fields.altitude,
            effective=fields.effective,
            forbidden_kinds=fields.forbidden_kinds,
            standoff_m=fields.standoff_m,
            responsible=_resolve_responsible(uow, fields),
            created_by=caller.id,
            created_at=now,
            updated_at=now,
            description=fields.description,
        )
        cells = zone_cells(zone.footprint, zone.standoff_m, policy)
        uow.lock_cells(cells)
        uow.zones.add(zone, cells)
        uow.zones.add_revision(zone.id, 1, snapshot(zone), caller.id, now)
        hits, n = recheck(uow, policy, zone, cells)
        uow.commit()
    return ZoneResult(zone, hits, n)


def update(uow: UnitOfWork, policy: Policy, caller: Party, zone_id: str, data: object) -> ZoneResult:
    """Change a zone. A change to its boundary or rules is a new revision (the old one is kept); a
    status-only change is not."""
    require(caller, "zone.write")
    if not isinstance(data, dict):
        raise InvalidInput.at("", "the body must be a JSON object")
    unknown = sorted(set(data) - {*EDITABLE, "status", "revision"})
    if unknown:
        raise InvalidInput.at(f"/{unknown[0]}", f"{unknown[0]!r} is not a zone field that can be changed")
    with uow:
        zone = get_or_raise(uow, zone_id)
        if data.get("revision") is not None and data["revision"] != zone.revision:
            raise StateConflict(
                f"the zone is at revision {zone.revision}, not {data['revision']}",
                extra={"current_revision": zone.revision},
            )
        now = uow.clock()
        old_cells = uow.zones.cells(zone.id)
        new_cells = None
        if any(k in data for k in EDITABLE):
            merged = {**_as_input(zone), **{k: v for k, v in data.items() if k in EDITABLE}}
            if "geometry" in data and "radius_m" not in data and data["geometry"].get("type") != "Point":
                merged.pop("radius_m", None)
            fields = parse_zone(merged, now=now, limits=policy.limits)
            zone.name, zone.kind, zone.geometry, zone.radius_m = (
                fields.name,
                fields.kind,
                fields.geometry,
                fields.radius_m,
            )
            zone.footprint, zone.altitude, zone.effective = fields.footprint, fields.altitude, fields.effective
            zone.forbidden_kinds, zone.standoff_m = fields.forbidden_kinds, fields.standoff_m
            zone.responsible, zone.description = _resolve_responsible(uow, fields), fields.description
            zone.revision += 1
            new_cells = zone_cells(zone.footprint, zone.standoff_m, policy)
        if "status" in data:
            target = parse_status(data["status"])
            check_zone_transition(zone.status, target)
            zone.status = target
        zone.updated_at = now
        uow.lock_cells(old_cells | (new_cells or set()))
        uow.zones.save(zone, new_cells)
        if new_cells is not None:
            uow.zones.add_revision(zone.id, zone.revision, snapshot(zone), caller.id, now)
        hits, n = recheck(uow, policy, zone, new_cells if new_cells is not None else old_cells)
        uow.commit()
    return ZoneResult(zone, hits, n)


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
        "responsible": [{"party": r.party_id, "role": r.role.value} for r in z.responsible],
        "description": z.description,
    }
    if z.radius_m is not None:
        out["radius_m"] = z.radius_m
    return out


def get_or_raise(uow: UnitOfWork, zone_id: str) -> Zone:
    z = uow.zones.get(zone_id)
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


def list_zones(
    uow: UnitOfWork,
    caller: Party,
    *,
    kind: str | None = None,
    status: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    at: TimeWindow | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> list[Zone]:
    require(caller, "zone.read")
    with uow:
        zones = uow.zones.list(
            kind=kind,
            status=status,
            limit=limit if bbox is None and at is None else 100_000,
            offset=offset if bbox is None and at is None else 0,
        )
    if at is not None:
        zones = [z for z in zones if z.effective.overlaps(at)]
    if bbox is not None:
        area = box(*bbox)
        zones = [z for z in zones if z.footprint.intersects(area)]
    if bbox is not None or at is not None:
        zones = zones[offset : offset + limit]
    return zones
