"""The web map: its page at ``/``, its built files under ``/static``, and what it needs to start.

Everything the page shows comes from the same API as the CLI's; these routes only serve the shell."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from truceline.api.deps import Ctx
from truceline.domain.incidents import EVENT_TYPES, INTER
from truceline.domain.model import ActivityKind, ResponsibilityRole, ZoneKind, ZoneStatus
from truceline.domain.webhooks import CAP_EVENT_TYPES
from truceline.domain.zones import DEFAULT_BAND
from truceline.services.hotline import EVENT_TYPES as FEED_EVENT_TYPES
from truceline.web import STATIC

router = APIRouter(tags=["web"])

INDEX = STATIC / "index.html"
BUILT = STATIC / "app" / "main.js"
NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Truceline</title>
<p>The web map's files are not built. Run <code>make assets</code> (or <code>make demo</code>), then reload.
The API is at <a href="/docs">/docs</a>.</p>"""


@router.get("/", include_in_schema=False, response_model=None)
def index() -> Response:
    """The single page; it signs in with a party token and then talks to ``/v1``."""
    if not BUILT.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503)
    return FileResponse(INDEX, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})


@router.get("/web/config", operation_id="webConfig")
def config(ctx: Ctx) -> dict[str, Any]:
    """What the web map needs before sign-in: the basemap, the moment it opens on, the vocabularies of
    its forms, and, on the demo server only, the demo parties to sign in as."""
    s = ctx.settings
    return {
        "tile_url": s.web_tile_url,
        "tile_attribution": s.web_tile_attribution,
        "opens_at": s.web_opens_at,
        "demo_parties": [{"name": n, "token": t} for n, t in ctx.demo_tokens.items()],
        "zone_kinds": [k.value for k in ZoneKind],
        "zone_statuses": [k.value for k in ZoneStatus],
        "activity_kinds": [k.value for k in ActivityKind],
        "zone_default_band": DEFAULT_BAND,
        "feed_event_types": list(FEED_EVENT_TYPES),  # what a webhook may ask for
        "cap_event_types": list(CAP_EVENT_TYPES),  # a zone's band when none is given: "from the ground, no ceiling"
        "responsibility_roles": [k.value for k in ResponsibilityRole],
        "event_types": {k: list(v) for k, v in EVENT_TYPES.items()},
        "inter": {str(k): v for k, v in INTER.items() if k},
    }


__all__ = ["router"]
