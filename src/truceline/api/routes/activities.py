from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import StreamingResponse

from truceline.adapters import geojson_io
from truceline.api import schemas, views
from truceline.api.deps import AppContext, Caller, Ctx, Write
from truceline.api.routes import export, params, render
from truceline.api.routes.params import Offset
from truceline.domain.model import ActivityKind, ActivityStatus, Party
from truceline.services import activities

router = APIRouter(prefix="/v1/activities", tags=["activities"])


def _result(
    ctx: AppContext, caller: Party, r: activities.ActivityResult, *, fresh: bool = False
) -> schemas.ActivityWithConflicts:
    return schemas.ActivityWithConflicts(
        activity=views.activity(r.activity),
        conflicts=render.conflicts(ctx, caller, r.conflicts, [r.activity], fresh=fresh),
    )


def _counted(ctx: AppContext, r: activities.ActivityResult) -> activities.ActivityResult:
    ctx.metrics.found(c.rule.value for c in r.conflicts)
    return r


@router.post(
    "", operation_id="notifyActivity", status_code=status.HTTP_201_CREATED, response_model=schemas.ActivityWithConflicts
)
async def notify(body: schemas.ActivityCreate, w: Write) -> schemas.ActivityWithConflicts:
    """Notify a planned activity. It is stored whatever it conflicts with; the response lists every
    conflict found (notification is not permission)."""
    ctx, caller = w.ctx, w.caller
    data = body.model_dump(mode="json", exclude_none=True)

    def run() -> schemas.ActivityWithConflicts:
        return _result(ctx, caller, _counted(ctx, activities.notify(w.uow(), ctx.policy, caller, data)), fresh=True)

    return await ctx.call(run)


NOT_CHECKED = (
    "Other parties' activities are not checked here: a check that answered for them would let a party "
    "map the others' plans unseen. They are checked when you notify, and any conflict is shown to both."
)


@router.post("/check", operation_id="checkActivity", response_model=schemas.PlanCheck)
async def check_activity(body: schemas.ActivityCreate, ctx: Ctx, caller: Caller) -> schemas.PlanCheck:
    """Check a plan (a notification's body) against the zones before notifying it: the zones in
    force whose rules it breaks (the conflicts a notification would open), and the zones still
    being negotiated, agreed in principle or suspended whose rules it would break once in force.
    Nothing is stored and nobody is told. Other parties' activities are not checked (`not_checked`)."""
    data = body.model_dump(mode="json", exclude_none=True)

    def run() -> schemas.PlanCheck:
        checked = activities.check(ctx.uow(), ctx.policy, caller, data)
        found = [views.zone_finding(f, checked.names) for f in checked.findings]
        return schemas.PlanCheck(
            conflicts=[f for f in found if f.in_force],
            once_in_force=[f for f in found if not f.in_force],
            not_checked=NOT_CHECKED,
        )

    return await ctx.call(run)


def _filter(
    title: Annotated[
        str | None, Query(max_length=200, description="a part of the activity's title, in any case (`convoy`)")
    ] = None,
    status: ActivityStatus | None = None,
    kind: ActivityKind | None = None,
    time_start: Annotated[str | None, Query(description="RFC 3339: activities that end after this")] = None,
    time_end: Annotated[str | None, Query(description="RFC 3339: activities that start before this")] = None,
) -> dict[str, Any]:
    return {"title": title, "status": status, "kind": kind, "window": params.time_window(time_start, time_end)}


Filter = Annotated[dict[str, Any], Depends(_filter)]


@router.get("", operation_id="listActivities", response_model=list[schemas.ActivityRead])
def list_activities(
    ctx: Ctx,
    caller: Caller,
    f: Filter,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Offset = 0,
) -> list[schemas.ActivityRead]:
    """Your own party's activities."""
    return [views.activity(a) for a in activities.list_activities(ctx.uow(), caller, **f, limit=limit, offset=offset)]


@router.get(
    "/export", operation_id="exportActivities", response_class=StreamingResponse, responses=export.GEOJSON_RESPONSES
)
def export_activities(ctx: Ctx, caller: Caller, f: Filter) -> StreamingResponse:
    """Your activities the filters match, as a GeoJSON file: a Feature per volume, grouped by the
    ``activity`` property, with kind, title, window and altitude band (metres) as properties.
    ``truceline notify`` reads such a file back."""
    return export.geojson_download(
        lambda limit, offset: activities.list_activities(ctx.uow(), caller, **f, limit=limit, offset=offset),
        lambda page: [
            feature for a in page for feature in geojson_io.activity_features(views.activity(a).model_dump(mode="json"))
        ],
        "activities.geojson",
    )


@router.get("/{activity_id}", operation_id="getActivity", response_model=schemas.ActivityWithConflicts)
async def get_activity(activity_id: str, ctx: Ctx, caller: Caller) -> schemas.ActivityWithConflicts:
    """One of your activities with its open conflicts. Another party's activity is 404."""
    return await ctx.call(lambda: _result(ctx, caller, activities.get(ctx.uow(), caller, activity_id)))


@router.put("/{activity_id}", operation_id="updateActivity", response_model=schemas.ActivityWithConflicts)
async def update_activity(
    activity_id: str, body: schemas.ActivityUpdate, w: Write
) -> schemas.ActivityWithConflicts:
    """Replace your activity's kind, title and volumes; its conflicts are re-checked."""
    ctx, caller = w.ctx, w.caller
    data = body.model_dump(mode="json", exclude_none=True)

    def run() -> schemas.ActivityWithConflicts:
        return _result(ctx, caller, _counted(ctx, activities.update(w.uow(), ctx.policy, caller, activity_id, data)))

    return await ctx.call(run)


@router.post("/{activity_id}/cancel", operation_id="cancelActivity", response_model=schemas.ActivityWithConflicts)
async def cancel_activity(activity_id: str, w: Write) -> schemas.ActivityWithConflicts:
    """Cancel your activity; its conflicts close."""
    ctx, caller = w.ctx, w.caller
    return await ctx.call(lambda: _result(ctx, caller, activities.cancel(w.uow(), ctx.policy, caller, activity_id)))
