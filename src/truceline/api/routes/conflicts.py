from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from truceline.api import schemas
from truceline.api.deps import Caller, Ctx
from truceline.api.routes import render
from truceline.api.routes.params import Offset
from truceline.domain.model import ConflictRule
from truceline.services import conflicts

router = APIRouter(prefix="/v1/conflicts", tags=["conflicts"])


@router.get("", operation_id="listConflicts", response_model=list[schemas.ConflictRead])
def list_conflicts(
    ctx: Ctx,
    caller: Caller,
    status: Literal["open", "closed", "all"] = "open",
    rule: ConflictRule | None = None,
    zone_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Offset = 0,
) -> list[schemas.ConflictRead]:
    """Conflicts that concern your party."""
    items = conflicts.list_conflicts(
        ctx.uow(),
        caller,
        status=None if status == "all" else status,
        rule=rule,
        zone_id=zone_id,
        limit=limit,
        offset=offset,
    )
    return render.conflicts(ctx, caller, items)


@router.get("/{conflict_id}", operation_id="getConflict", response_model=schemas.ConflictRead)
def get_conflict(conflict_id: str, ctx: Ctx, caller: Caller) -> schemas.ConflictRead:
    return render.conflicts(ctx, caller, [conflicts.get(ctx.uow(), caller, conflict_id)])[0]
