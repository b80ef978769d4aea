"""Domain objects to API schemas, applying need-to-know."""

from __future__ import annotations

from truceline.api import schemas as s
from truceline.domain.geometry import to_geojson
from truceline.domain.model import Activity, Conflict, Party, Zone
from truceline.domain.volumes import format_time, volume_to_volume4d


def _t(x: object) -> str:
    out = format_time(x)  # type: ignore[arg-type]
    assert out is not None
    return out


def _alt(m: float) -> s.Altitude:
    return s.Altitude(value=round(m, 3), reference="W84", units="M")


def party(p: Party) -> s.PartyRead:
    return s.PartyRead(id=p.id, name=p.name, role=p.role, created_at=_t(p.created_at))


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
        responsible=[
            s.ResponsibilityRead(party_id=r.party_id, party_name=names.get(r.party_id), role=r.role)
            for r in z.responsible
        ],
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


def conflict(
    c: Conflict, caller: Party, names: dict[str, str], own_titles: dict[str, str], zone_names: dict[str, str]
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
        regions=[
            s.ConflictRegion(
                geometry=to_geojson(r.geometry),
                time_start=_t(r.window.start),
                time_end=format_time(r.window.end),
                altitude_lower=_alt(r.altitude.lower),
                altitude_upper=_alt(r.altitude.upper),
            )
            for r in c.regions
        ],
        created_at=_t(c.created_at),
        updated_at=_t(c.updated_at),
        closed_at=format_time(c.closed_at),
        closed_reason=c.closed_reason,
    )
