"""Live tracks over HTTP: ingest (a JSON array or NDJSON), the picture, and the current alerts."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from truceline.api.deps import Caller, Ctx, Write
from truceline.domain.errors import FieldError, InvalidInput, MalformedRequest
from truceline.services import tracks

router = APIRouter(prefix="/v1", tags=["tracks"])

NDJSON = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines")


class Rejected(BaseModel):
    line: int = Field(description="1-based line (NDJSON) or position in the array")
    errors: list[dict[str, str]]


class TrackReport(BaseModel):
    """One position report (documentation of the ingest body)."""

    track_id: str
    callsign: str | None = None
    time: str = Field(description="RFC 3339")
    lat: float
    lon: float
    altitude_m: float = Field(description="metres above the WGS84 ellipsoid")
    ground_speed_mps: float
    track_deg: float = Field(description="degrees clockwise from true north")
    vertical_rate_mps: float = 0.0
    kind: str = "air"
    activity_id: str | None = None


REPORT_SCHEMA = TrackReport.model_json_schema()


class IngestResult(BaseModel):
    accepted: int
    rejected: list[Rejected]


def _items(body: bytes, content_type: str) -> list[tuple[int, object]]:
    """(line, parsed report or why the line is not JSON)."""
    if content_type.split(";")[0].strip().lower() in NDJSON:
        out: list[tuple[int, object]] = []
        for n, raw in enumerate(body.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                out.append((n, json.loads(raw)))
            except (ValueError, RecursionError) as e:  # RecursionError: nested deeper than the parser goes
                out.append((n, f"not valid JSON: {e}"))
        return out
    try:
        data = json.loads(body) if body.strip() else None
    except (ValueError, RecursionError) as e:
        raise MalformedRequest(f"the body is not valid JSON: {e}") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise MalformedRequest("send a JSON array of reports, or NDJSON (Content-Type: application/x-ndjson)")
    return list(enumerate(data, start=1))


@router.post(
    "/tracks",
    operation_id="reportTracks",
    response_model=IngestResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "array", "items": REPORT_SCHEMA}},
                "application/x-ndjson": {"schema": REPORT_SCHEMA},
            },
        }
    },
)
async def report(request: Request, w: Write) -> IngestResult:
    """Report positions of your party's tracks: a JSON array, or NDJSON (one report per line). Each
    report: ``track_id``, ``callsign``, ``time`` (RFC 3339), ``lat``, ``lon``, ``altitude_m`` (W84),
    ``ground_speed_mps``, ``track_deg``, ``vertical_rate_mps``, ``kind`` (an activity kind, default
    ``air``), ``activity_id`` (optional: the notified activity it flies). Bad reports are refused one by
    one with their line; the good ones are kept. All refused: 422."""
    ctx, caller = w.ctx, w.caller
    body = await request.body()
    items = _items(body, request.headers.get("content-type", "application/json"))
    result = await asyncio.to_thread(tracks.ingest, w.uow(), ctx.tracks, caller, items)
    ctx.metrics.track_reports.inc(result.accepted)
    if result.accepted == 0 and result.rejected:
        errors = [
            FieldError(f"/{r['line'] - 1}{e['pointer']}", f"line {r['line']}: {e['detail']}")
            for r in result.rejected
            for e in r["errors"]
        ]
        raise InvalidInput(f"all {len(result.rejected)} reports were refused", errors=errors[:1000],
                           extra={"rejected": len(result.rejected)})
    return IngestResult(accepted=result.accepted, rejected=[Rejected(**r) for r in result.rejected])


@router.get("/tracks", operation_id="trackPicture")
def picture(ctx: Ctx, caller: Caller) -> dict[str, Any]:
    """The live picture as your party may see it: your tracks; others' within ``TRUCELINE_TRACK_NEAR_M``
    of yours, inside zones you are responsible for, or in a conflict with yours; each with its
    position now and predicted at the end of the look-ahead; and the current ``separation`` and
    ``incursion`` alerts that concern you."""
    return tracks.picture(ctx.uow(), ctx.tracks, caller, ctx.detector)


@router.get("/alerts", operation_id="currentAlerts")
def alerts(ctx: Ctx, caller: Caller) -> dict[str, Any]:
    """Only the current separation and incursion alerts that concern your party."""
    view = tracks.picture(ctx.uow(), ctx.tracks, caller, ctx.detector)
    return {"at": view["at"], "alerts": view["alerts"]}
