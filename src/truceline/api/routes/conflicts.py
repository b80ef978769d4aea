from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from truceline.adapters import geojson_io
from truceline.api import schemas
from truceline.api.deps import Caller, Ctx, Write
from truceline.api.routes import export, params, render
from truceline.api.routes.params import Offset
from truceline.domain.model import Conflict, ConflictRule
from truceline.services import conflicts

router = APIRouter(prefix="/v1/conflicts", tags=["conflicts"])


def _filter(
    status: Literal["open", "closed", "all"] = "open",
    rule: ConflictRule | None = None,
    zone_id: str | None = None,
    time_start: Annotated[str | None, Query(description="RFC 3339: conflicts that end after this")] = None,
    time_end: Annotated[str | None, Query(description="RFC 3339: conflicts that start before this")] = None,
    coordinated: Annotated[
        bool | None,
        Query(description="true: only those every party concerned agrees to; false: only those still to handle"),
    ] = None,
) -> dict[str, Any]:
    return {
        "status": None if status == "all" else status,
        "rule": rule,
        "zone_id": zone_id,
        "window": params.time_window(time_start, time_end),
        "coordinated": coordinated,
    }


Filter = Annotated[dict[str, Any], Depends(_filter)]


@router.get("", operation_id="listConflicts", response_model=list[schemas.ConflictRead])
def list_conflicts(
    ctx: Ctx,
    caller: Caller,
    f: Filter,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Offset = 0,
) -> list[schemas.ConflictRead]:
    """Conflicts that concern your party, by when they happen. Filters: status, rule, zone, and a time
    window (those whose time meets it)."""
    return render.conflicts(ctx, caller, conflicts.list_conflicts(ctx.uow(), caller, **f, limit=limit, offset=offset))


@router.get(
    "/export", operation_id="exportConflicts", response_class=StreamingResponse, responses=export.GEOJSON_RESPONSES
)
def export_conflicts(ctx: Ctx, caller: Caller, f: Filter) -> StreamingResponse:
    """The conflicts that concern you, as a GeoJSON file: a Feature per 4D region where one happens,
    with its rule, reason, parties, zone, window and altitude band (metres). Of another party's
    activity it holds what the conflict shows, never the plan."""

    def features(page: list[Conflict]) -> list[dict[str, Any]]:
        shown = render.conflicts(ctx, caller, page)
        return [feature for c in shown for feature in geojson_io.conflict_features(c.model_dump(mode="json"))]

    return export.geojson_download(
        lambda limit, offset: conflicts.list_conflicts(ctx.uow(), caller, **f, limit=limit, offset=offset),
        features,
        "conflicts.geojson",
    )


@router.get("/{conflict_id}", operation_id="getConflict", response_model=schemas.ConflictRead)
def get_conflict(conflict_id: str, ctx: Ctx, caller: Caller) -> schemas.ConflictRead:
    return render.conflicts(ctx, caller, [conflicts.get(ctx.uow(), caller, conflict_id)])[0]


@router.post("/{conflict_id}/agreement", operation_id="agreeToConflict", response_model=schemas.ConflictRead)
async def agree(conflict_id: str, body: schemas.AgreementCreate, w: Write) -> schemas.ConflictRead:
    """Your party agrees to an open conflict that concerns it, saying how it is handled (settled over
    the hotline). The other parties concerned are told in the conflict's thread. When every party
    concerned agrees to the conflict as it is now, it is `coordinated`: still open and listed, known
    to be handled. If the conflict changes (a plan or a zone moves), the agreements lapse (`current`:
    false) and are asked for again. Officers and monitors; giving it again replaces yours."""
    ctx, caller = w.ctx, w.caller

    def run() -> schemas.ConflictRead:
        c = conflicts.agree(w.uow(), ctx.policy, caller, conflict_id, body.statement)
        return render.conflicts(ctx, caller, [c])[0]

    return await ctx.call(run)


@router.post(
    "/{conflict_id}/agreement/withdraw", operation_id="withdrawConflictAgreement", response_model=schemas.ConflictRead
)
async def withdraw(conflict_id: str, w: Write, body: schemas.AgreementWithdraw | None = None) -> schemas.ConflictRead:
    """Your party no longer agrees to the conflict; the others concerned are told why, if you say."""
    ctx, caller = w.ctx, w.caller

    def run() -> schemas.ConflictRead:
        c = conflicts.withdraw(w.uow(), ctx.policy, caller, conflict_id, body.statement if body else "")
        return render.conflicts(ctx, caller, [c])[0]

    return await ctx.call(run)
