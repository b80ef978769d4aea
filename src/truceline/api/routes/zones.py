from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from truceline.api import schemas, views
from truceline.api.deps import AppContext, Caller, Ctx
from truceline.api.routes import params
from truceline.domain.errors import InvalidInput
from truceline.domain.model import Zone, ZoneKind, ZoneStatus
from truceline.services import parties, zones

router = APIRouter(prefix="/v1/zones", tags=["zones"])


def _render(ctx: AppContext, items: list[Zone]) -> list[schemas.ZoneRead]:
    names = parties.names(ctx.uow(), {r.party_id for z in items for r in z.responsible})
    return [views.zone(z, names) for z in items]


def _change(ctx: AppContext, result: zones.ZoneResult) -> schemas.ZoneChange:
    return schemas.ZoneChange(
        zone=_render(ctx, [result.zone])[0], activities_in_conflict=result.conflicts_opened_or_kept
    )


def _bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    if raw is None:
        return None
    try:
        vals = [float(x) for x in raw.split(",")]
    except ValueError:
        vals = []
    if len(vals) != 4 or not (-180 <= vals[0] <= vals[2] <= 180 and -90 <= vals[1] <= vals[3] <= 90):
        raise InvalidInput.at("#query/bbox", "bbox must be min_lon,min_lat,max_lon,max_lat within the world")
    return vals[0], vals[1], vals[2], vals[3]


@router.post("", operation_id="createZone", status_code=status.HTTP_201_CREATED, response_model=schemas.ZoneChange)
def create_zone(body: schemas.ZoneCreate, ctx: Ctx, caller: Caller) -> schemas.ZoneChange:
    """Create a zone (revision 1). If it is in force, activities it touches are checked at once."""
    data = body.model_dump(mode="json", exclude_none=True)
    return _change(ctx, zones.create(ctx.uow(write=True), ctx.policy, caller, data))


@router.get("", operation_id="listZones", response_model=list[schemas.ZoneRead])
def list_zones(
    ctx: Ctx,
    caller: Caller,
    kind: ZoneKind | None = None,
    status: ZoneStatus | None = None,
    bbox: Annotated[str | None, Query(description="min_lon,min_lat,max_lon,max_lat")] = None,
    time_start: Annotated[str | None, Query(description="RFC 3339: zones effective after this")] = None,
    time_end: Annotated[str | None, Query(description="RFC 3339: zones effective before this")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[schemas.ZoneRead]:
    """Zones are visible to every party. Filters: kind, status, bbox, and a time window."""
    window = params.time_window(time_start, time_end)
    items = zones.list_zones(
        ctx.uow(), caller, kind=kind, status=status, bbox=_bbox(bbox), at=window, limit=limit, offset=offset
    )
    return _render(ctx, items)


@router.get("/{zone_id}", operation_id="getZone", response_model=schemas.ZoneRead)
def get_zone(zone_id: str, ctx: Ctx, caller: Caller) -> schemas.ZoneRead:
    return _render(ctx, [zones.get(ctx.uow(), caller, zone_id)])[0]


@router.patch("/{zone_id}", operation_id="updateZone", response_model=schemas.ZoneChange)
def update_zone(zone_id: str, body: schemas.ZoneUpdate, ctx: Ctx, caller: Caller) -> schemas.ZoneChange:
    """Change a zone. Boundary or rule changes make a new revision; the old one is kept."""
    data = body.model_dump(mode="json", exclude_unset=True)
    return _change(ctx, zones.update(ctx.uow(write=True), ctx.policy, caller, zone_id, data))


@router.post("/{zone_id}/lapse", operation_id="lapseZone", response_model=schemas.ZoneChange)
def lapse_zone(zone_id: str, ctx: Ctx, caller: Caller) -> schemas.ZoneChange:
    """End a zone: it stops applying and its conflicts close."""
    return _change(ctx, zones.lapse(ctx.uow(write=True), ctx.policy, caller, zone_id))


@router.get("/{zone_id}/revisions", operation_id="listZoneRevisions", response_model=list[schemas.ZoneRevisionRead])
def zone_revisions(zone_id: str, ctx: Ctx, caller: Caller) -> list[schemas.ZoneRevisionRead]:
    return [
        schemas.ZoneRevisionRead(
            revision=r["revision"], author=r["author"], created_at=views._t(r["created_at"]), snapshot=r["snapshot"]
        )
        for r in zones.revisions(ctx.uow(), caller, zone_id)
    ]


__all__ = ["router"]
