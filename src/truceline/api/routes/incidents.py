"""Ceasefire monitoring over HTTP: incidents, their verification, duplicates, ACLED/UCDP import and export,
and each zone's ceasefire timeline (JSON, or a PNG/SVG chart)."""

from __future__ import annotations

import asyncio
import io
import mimetypes
import tempfile
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from truceline.adapters.incident_store import IncidentFilter
from truceline.api import body_docs
from truceline.api.deps import Caller, Ctx, Write
from truceline.api.routes import export
from truceline.api.routes.params import Offset
from truceline.domain.errors import InvalidInput
from truceline.domain.evidence import digest_header
from truceline.domain.incidents import EVENT_TYPES, Verification, parse_date
from truceline.services import incidents, sitrep

router = APIRouter(prefix="/v1", tags=["incidents"])

JsonBody = Annotated[dict[str, Any], Body()]

REPORT_EXAMPLE = {
    "event_date": "2017-07-10",
    "time_precision": 1,
    "event_type": "Battles",
    "sub_event_type": "Armed clash",
    "actor1": {"name": "Military Forces of Syria (2000-)", "inter": 1, "associated": "Hezbollah"},
    "actor2": {"name": "Southern Front", "inter": 2},
    "location": {"name": "Al-Suweida", "latitude": 32.71, "longitude": 36.57, "geo_precision": 2,
                 "admin1": "As-Sweida", "country": "Syria", "iso": 760, "region": "Middle East"},
    "fatalities": {"low": 0, "best": 0, "high": 5},
    "sources": [{"name": "DEBKA Weekly", "scale": "International", "notes": "offensive reported hours after it began"}],
    "alleged": ["Syrian Arab Republic"],
    "notes": "5th Armored Division with Hizballah against rebel positions in Al-Suweida province.",
}  # fmt: skip


def _day(value: str | None, name: str) -> date | None:
    return parse_date(value, f"#query/{name}") if value else None


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if not value:
        return None
    try:
        w, s, e, n = (float(x) for x in value.split(","))
    except ValueError:
        raise InvalidInput.at("#query/bbox", "must be west,south,east,north in degrees") from None
    if not (-180 <= w <= 180 and -180 <= e <= 180 and -90 <= s <= n <= 90):
        raise InvalidInput.at("#query/bbox", "must be west,south,east,north within the world, south ≤ north")
    return w, s, e, n


def _filter(
    status: Annotated[
        list[Verification] | None, Query(description="one or more verification statuses (repeat the parameter)")
    ] = None,
    event_type: str | None = None,
    zone: str | None = None,
    from_: Annotated[str | None, Query(alias="from", description="first event date, YYYY-MM-DD")] = None,
    to: Annotated[str | None, Query(description="last event date, YYYY-MM-DD")] = None,
    bbox: Annotated[str | None, Query(description="west,south,east,north")] = None,
    dataset: Annotated[str | None, Query(pattern="^(truceline|acled|ucdp)$")] = None,
    include_merged: bool = False,
) -> IncidentFilter:
    if event_type is not None and event_type not in EVENT_TYPES:
        raise InvalidInput.at("#query/event_type", f"unknown event type; one of {', '.join(EVENT_TYPES)}")
    first, last = _day(from_, "from"), _day(to, "to")
    if first and last and last < first:
        raise InvalidInput.at("#query/to", "must not be before from")
    return IncidentFilter(
        status=tuple(dict.fromkeys(s.value for s in status)) if status else None,
        event_type=event_type,
        zone_id=zone,
        first=first,
        last=last,
        bbox=_bbox(bbox),
        dataset=dataset,
        include_merged=include_merged,
    )


Filter = Annotated[IncidentFilter, Depends(_filter)]


@router.post(
    "/incidents",
    operation_id="reportIncident",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=body_docs.json_body(body_docs.INCIDENT_REPORT, REPORT_EXAMPLE),
)
def report(body: JsonBody, ctx: Ctx, caller: Caller, w: Write) -> dict[str, Any]:
    """Report an incident in ACLED's vocabulary: ``event_date`` (or ``occurred_at``), ``time_precision``
    (1 day, 2 week, 3 month), ``event_type``/``sub_event_type`` from ACLED's taxonomy, ``actor1`` and
    optional ``actor2`` (name, ACLED ``inter`` code or label, associated actors), ``location``
    (latitude, longitude, ``geo_precision`` 1-3, place names), ``fatalities`` (a number, or
    low/best/high), ``sources`` (at least one, with notes), ``tags``, and ``alleged``: the parties it is
    alleged against. It is linked to every zone it happened in while the zone was in force."""
    view = incidents.report(w.uow(), ctx.policy.monitoring, caller, body)
    ctx.metrics.incidents.inc()
    return incidents.incident_json(view, caller=caller)


@router.get("/incidents", operation_id="listIncidents")
def list_incidents(
    ctx: Ctx,
    caller: Caller,
    f: Filter,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Incidents, newest first: filter by verification status, event type, zone (its possible
    violations), date range, bounding box and dataset. Merged duplicates are left out unless asked."""
    views = incidents.list_incidents(ctx.uow(), caller, f, limit=limit, offset=offset)
    return [incidents.incident_json(v, full=False) for v in views]


EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json"}


@router.get(
    "/incidents/export",
    operation_id="exportIncidents",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/geo+json": {}}}},
)
def export_incidents(
    ctx: Ctx,
    caller: Caller,
    f: Filter,
    format: Annotated[str, Query(pattern="^(csv|geojson)$")] = "csv",
) -> StreamingResponse:
    """Every matching incident, streamed: CSV with ACLED's 31 columns, or a GeoJSON FeatureCollection
    (RFC 7946) with ACLED-named properties. A record's merged duplicates add their sources to it."""
    rows = (incidents.export_csv if format == "csv" else incidents.export_geojson)(ctx.uow(), caller, f)
    return export.attachment(rows, EXPORT_TYPES[format], f"incidents.{format}")


@router.post(
    "/incidents/import",
    operation_id="importIncidents",
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def import_file(
    request: Request,
    ctx: Ctx,
    caller: Caller,
    w: Write,
    format: Annotated[str, Query(pattern="^(acled|ucdp)$", description="acled or ucdp")] = "acled",
) -> dict[str, Any]:
    """Import an ACLED (31 columns; older exports' columns accepted) or UCDP GED (49 columns) CSV file
    as the body. Bad rows are reported by line, row, column and reason, and the good ones kept; a row
    already imported (same dataset and source id) is left as it is, so sending a file twice adds
    nothing. Each batch of rows is one transaction."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1_048_576)  # noqa: SIM115 - closed below
    try:
        async for chunk in request.stream():
            spool.write(chunk)
        spool.seek(0)
        text = io.TextIOWrapper(spool, encoding="utf-8-sig", errors="replace", newline="")
        result = await asyncio.to_thread(incidents.import_csv, w.uow, ctx.policy.monitoring, caller, text, format)
    finally:
        spool.close()
    ctx.metrics.incidents.inc(result.inserted)
    return result.as_dict()


@router.get("/incidents/{incident_id}", operation_id="getIncident")
def get_incident(incident_id: str, ctx: Ctx, caller: Caller) -> dict[str, Any]:
    """One incident with its zones, every verification step (who, when, statement), the duplicates
    merged into it with their sources, and what you may do with it now: ``your_steps`` (each with
    whether it needs a statement) and ``you_may_merge``."""
    return incidents.incident_json(incidents.get(ctx.uow(), caller, incident_id), caller=caller)


@router.post(
    "/incidents/{incident_id}/steps",
    operation_id="incidentStep",
    openapi_extra=body_docs.json_body(body_docs.INCIDENT_STEP),
)
def step(incident_id: str, body: JsonBody, ctx: Ctx, caller: Caller, w: Write) -> dict[str, Any]:
    """Take a verification step: ``{"step": "review"|"verify"|"reject"|"dispute", "statement": ...}``.
    Monitors review, verify and reject; a party the incident is alleged against disputes. Verify,
    reject and dispute need a statement. Moves the table does not allow are 409."""
    view = incidents.take_step(w.uow(), ctx.policy.monitoring, caller, incident_id, body)
    return incidents.incident_json(view, caller=caller)


@router.post(
    "/incidents/{incident_id}/evidence",
    operation_id="addIncidentEvidence",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=body_docs.json_body(body_docs.INCIDENT_EVIDENCE, body_docs.EVIDENCE_EXAMPLE),
)
def add_evidence(incident_id: str, body: JsonBody, ctx: Ctx, caller: Caller, w: Write) -> dict[str, Any]:
    """Attach evidence (a photograph, a written report) to an incident: whoever may report incidents.
    Kept byte for byte; its SHA-256 digest, type and size go in the audit log. Answers the evidence
    as stored (``evidence``) and the incident with all of its evidence (``incident``). A party that
    signs its writes signs this body with ``derefUri`` replaced by ``{"sha256": hex digest of the
    decoded content}``, so the audit log keeps the signature and not the file."""
    view, e = incidents.add_evidence(w.uow(), ctx.policy.monitoring, caller, incident_id, body)
    shown = incidents.incident_json(view, caller=caller)
    return {"evidence": incidents.evidence_json(e, view.names), "incident": shown}


@router.get(
    "/incidents/{incident_id}/evidence/{evidence_id}",
    operation_id="getIncidentEvidence",
    response_class=Response,
    responses={200: {"description": "the file as it was given, with its RFC 9530 Repr-Digest"}},
)
def get_evidence(incident_id: str, evidence_id: str, ctx: Ctx, caller: Caller) -> Response:
    """The evidence file, as an attachment (never shown inline: it is what a party sent)."""
    e, content = incidents.evidence_content(ctx.uow(), caller, incident_id, evidence_id)
    return Response(
        content,
        media_type=e.mime_type,
        headers={
            "Content-Disposition": f'attachment; filename="evidence-{e.id}{_extension(e.mime_type)}"',
            "Repr-Digest": digest_header(e.sha256),
            "ETag": f'"{e.sha256}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )


def _extension(mime_type: str) -> str:
    return mimetypes.guess_extension(mime_type, strict=False) or ""


@router.get("/incidents/{incident_id}/duplicates", operation_id="incidentDuplicates")
def duplicate_candidates(incident_id: str, ctx: Ctx, caller: Caller) -> list[dict[str, Any]]:
    """Records that may be the same event, likeliest first, each with the reasons."""
    found = incidents.duplicates(ctx.uow(), ctx.policy.monitoring, caller, incident_id)
    views = {v.incident.id: v for v in incidents.list_by_ids(ctx.uow(), caller, [c.incident_id for c in found])}
    return [
        {"score": c.score, "reasons": c.reasons, "incident": incidents.incident_json(views[c.incident_id], full=False)}
        for c in found
        if c.incident_id in views
    ]


@router.post(
    "/incidents/{incident_id}/merge",
    operation_id="mergeIncidents",
    openapi_extra=body_docs.json_body(body_docs.INCIDENT_MERGE),
)
def merge(incident_id: str, body: JsonBody, ctx: Ctx, caller: Caller, w: Write) -> dict[str, Any]:
    """Merge duplicates into this incident: ``{"duplicates": [ids], "statement": ...}`` (monitors)."""
    return incidents.incident_json(incidents.merge(w.uow(), caller, incident_id, body), caller=caller)


@router.post(
    "/incidents/{incident_id}/unmerge",
    operation_id="unmergeIncident",
    openapi_extra=body_docs.json_body(body_docs.INCIDENT_UNMERGE),
)
def unmerge(incident_id: str, body: JsonBody, ctx: Ctx, caller: Caller, w: Write) -> dict[str, Any]:
    """Undo a merge: ``{"duplicate": id, "statement": ...}``; the record stands alone again."""
    return incidents.incident_json(incidents.unmerge(w.uow(), caller, incident_id, body), caller=caller)


CHART_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


@router.get(
    "/zones/{zone_id}/ceasefire",
    operation_id="zoneCeasefire",
    responses={200: {"content": {"application/json": {}, "image/png": {}, "image/svg+xml": {}}}},
)
def ceasefire(
    zone_id: str,
    ctx: Ctx,
    caller: Caller,
    from_: Annotated[str | None, Query(alias="from", description="first day, YYYY-MM-DD")] = None,
    to: Annotated[str | None, Query(description="last day, YYYY-MM-DD")] = None,
    format: Annotated[str, Query(pattern="^(json|png|svg)$")] = "json",
) -> Any:
    """The zone's ceasefire day by day: incidents by type, deaths, possible and verified violations, and
    the day's status (``holding``, ``strained``, ``broken``, ``not_in_force``; thresholds are settings,
    the rules are in the response's ``rules``). ``format=png|svg``: the same as a chart. Default range:
    30 days from the zone's entry into force."""
    tl = incidents.ceasefire(ctx.uow(), ctx.policy.monitoring, caller, zone_id, _day(from_, "from"), _day(to, "to"))
    if format == "json":
        return {**incidents.timeline_json(tl), "rules": incidents.rules_json(ctx.policy.monitoring)}
    image = incidents.timeline_chart(tl, format)
    return Response(image, media_type=CHART_TYPES[format])


REPORT_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


@router.get(
    "/sitrep",
    operation_id="situationReport",
    tags=["incidents"],
    responses={200: {"content": {"text/html": {}, "application/pdf": {}, "application/json": {}}}},
)
def situation_report(
    ctx: Ctx,
    caller: Caller,
    date_: Annotated[str, Query(alias="date", description="the day, YYYY-MM-DD")],
    zone: Annotated[str | None, Query(description="only this zone")] = None,
    format: Annotated[str, Query(pattern="^(html|pdf|json)$")] = "html",
) -> Any:
    """The daily situation report: a map of the zones with the day's incidents, each zone's ceasefire
    status that day with its incidents, your open conflicts touching the day, and your overdue hotline
    messages. HTML (self-contained) or PDF, rendered offline; ``json`` gives the same content as data."""
    day = parse_date(date_, "#query/date")
    rep = sitrep.build(ctx.uow(), ctx.policy, caller, day, zone)
    if format == "json":
        content = sitrep.context(rep, ctx.policy)
        content.pop("generated_at")
        return content
    name = f"sitrep-{day.isoformat()}.{format}"
    return Response(
        sitrep.render(rep, ctx.policy, format),
        media_type=REPORT_TYPES[format],
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )
