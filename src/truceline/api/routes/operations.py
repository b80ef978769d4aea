"""For operators: Prometheus metrics."""

from __future__ import annotations

import asyncio
import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from truceline.api.deps import Ctx
from truceline.domain.errors import NotAuthenticated

router = APIRouter(tags=["operations"])


@router.get("/metrics", operation_id="metrics", responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
async def metrics(request: Request, ctx: Ctx) -> Response:
    """Prometheus text format: request latency histograms by route, activities notified, conflicts found
    by rule, track reports and incidents ingested (counters: rates come from ``rate()``), open conflicts
    by rule and hotline receipts by state (awaiting, overdue, ...). No party's token is needed; set
    ``TRUCELINE_METRICS_TOKEN`` to require that one."""
    want = ctx.settings.metrics_token
    if want:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), want.encode()):
            raise NotAuthenticated("/metrics needs the metrics token (TRUCELINE_METRICS_TOKEN) as a bearer token")
    body = await asyncio.to_thread(ctx.metrics.exposition)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
