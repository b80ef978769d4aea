from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from truceline.api import schemas, views
from truceline.api.deps import AppContext, Caller, Ctx
from truceline.api.routes import render
from truceline.domain.errors import InvalidInput
from truceline.domain.model import ActivityKind, ActivityStatus, Party, TimeWindow
from truceline.domain.volumes import parse_time
from truceline.services import activities

router = APIRouter(prefix="/v1/activities", tags=["activities"])


def _result(ctx: AppContext, caller: Party, r: activities.ActivityResult) -> schemas.ActivityWithConflicts:
    return schemas.ActivityWithConflicts(
        activity=views.activity(r.activity), conflicts=render.conflicts(ctx, caller, r.conflicts)
    )


@router.post(
    "", operation_id="notifyActivity", status_code=status.HTTP_201_CREATED, response_model=schemas.ActivityWithConflicts
)
def notify(body: schemas.ActivityCreate, ctx: Ctx, caller: Caller) -> schemas.ActivityWithConflicts:
    """Notify a planned activity. It is stored whatever it conflicts with; the response lists every
    conflict found (notification is not permission)."""
    data = body.model_dump(mode="json", exclude_none=True)
    return _result(ctx, caller, activities.notify(ctx.uow(write=True), ctx.policy, caller, data))


@router.get("", operation_id="listActivities", response_model=list[schemas.ActivityRead])
def list_activities(
    ctx: Ctx,
    caller: Caller,
    status: ActivityStatus | None = None,
    kind: ActivityKind | None = None,
    time_start: str | None = None,
    time_end: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[schemas.ActivityRead]:
    """Your own party's activities."""
    window = None
    if time_start or time_end:
        t0 = parse_time(time_start, "#query/time_start") if time_start else parse_time("0001-01-01T00:00:00Z", "")
        t1 = parse_time(time_end, "#query/time_end") if time_end else None
        if t1 is not None and t1 <= t0:
            raise InvalidInput.at("#query/time_end", "time_end must be after time_start")
        window = TimeWindow(t0, t1)
    items = activities.list_activities(
        ctx.uow(), caller, status=status, kind=kind, window=window, limit=limit, offset=offset
    )
    return [views.activity(a) for a in items]


@router.get("/{activity_id}", operation_id="getActivity", response_model=schemas.ActivityWithConflicts)
def get_activity(activity_id: str, ctx: Ctx, caller: Caller) -> schemas.ActivityWithConflicts:
    """One of your activities with its open conflicts. Another party's activity is 404."""
    return _result(ctx, caller, activities.get(ctx.uow(), caller, activity_id))


@router.put("/{activity_id}", operation_id="updateActivity", response_model=schemas.ActivityWithConflicts)
def update_activity(
    activity_id: str, body: schemas.ActivityUpdate, ctx: Ctx, caller: Caller
) -> schemas.ActivityWithConflicts:
    """Replace your activity's kind, title and volumes; its conflicts are re-checked."""
    data = body.model_dump(mode="json", exclude_none=True)
    return _result(ctx, caller, activities.update(ctx.uow(write=True), ctx.policy, caller, activity_id, data))


@router.post("/{activity_id}/cancel", operation_id="cancelActivity", response_model=schemas.ActivityWithConflicts)
def cancel_activity(activity_id: str, ctx: Ctx, caller: Caller) -> schemas.ActivityWithConflicts:
    """Cancel your activity; its conflicts close."""
    return _result(ctx, caller, activities.cancel(ctx.uow(write=True), ctx.policy, caller, activity_id))
