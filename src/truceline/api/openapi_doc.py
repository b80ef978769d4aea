"""The API's own documentation: the OpenAPI document as it really behaves, and the page at ``/docs``.

FastAPI's document leaves out two things a client needs: how to authenticate, and what an error
looks like (it describes its own 422 body, which we never send: every error is RFC 9457
problem+json, ``api/problems.py``). ``install`` adds both. Its ``/docs`` page loads Swagger UI from
a CDN; ours serves it from the package's static files (built from npm by ``make assets``), so it
works with no internet, as the rest of the service does."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from truceline.api import deps
from truceline.web import STATIC

SWAGGER = "/static/vendor/swagger-ui"
NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Truceline API</title>
<p>The API docs' page is not built. Run <code>make assets</code> (or <code>make demo</code>), then reload.
The document itself is at <a href="/openapi.json">/openapi.json</a>.</p>"""
BEARER = "bearer"
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. `errors` names each field refused and why.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "urn:truceline:problem:<code>, e.g. invalid_input"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "One sentence; the CLI prints it as its one line"},
        "instance": {"type": "string", "description": "The request's path"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["pointer", "detail"],
                "properties": {
                    "pointer": {
                        "type": "string",
                        "description": "RFC 6901 JSON pointer into the body, or #query/NAME, #path/NAME, #header/NAME",
                    },
                    "detail": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}
ERRORS = {
    "description": "Refused: problem details naming the field and the reason (401 without a valid token, "
    "403 for a role that may not, 404, 409 on a changed version, 413, 422 for invalid input)",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def _needs_token(d: Dependant) -> bool:
    return d.call in (deps.caller, deps.writer) or any(_needs_token(sub) for sub in d.dependencies)


def amend(doc: dict[str, Any], secured: set[tuple[str, str]]) -> dict[str, Any]:
    """Declare bearer authentication on the operations in ``secured`` (path, method) and problem+json
    as every operation's error response, in place of FastAPI's own 422 body."""
    components = doc.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "A party's token, as `truceline party add` (or `truceline demo`) printed it.",
    }
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for path, operations in doc.get("paths", {}).items():
        for method, op in operations.items():
            responses = op.setdefault("responses", {})
            responses.pop("422", None)
            responses["4XX"] = ERRORS
            if (path, method) in secured:
                op["security"] = [{BEARER: []}]
    if "#/components/schemas/HTTPValidationError" not in json.dumps(doc["paths"]):
        schemas.pop("HTTPValidationError", None)  # FastAPI's 422 body, and the item it lists
        if "#/components/schemas/ValidationError" not in json.dumps(schemas):
            schemas.pop("ValidationError", None)
    return doc


def install(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """Serve ``/docs`` offline and amend the document of ``routers`` (the app's). Call before they are
    included, so the pages are matched first, by their exact paths (as FastAPI's own would be)."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            secured = {
                (r.path_format, m.lower())
                for router in routers
                for r in router.routes
                if isinstance(r, APIRoute) and _needs_token(r.dependant)
                for m in r.methods or ()
            }
            app.openapi_schema = amend(default(), secured)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        if not (STATIC / "vendor" / "swagger-ui" / "swagger-ui-bundle.js").is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
