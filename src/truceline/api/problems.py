"""RFC 9457 problem details: the one place errors become HTTP responses."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from truceline.api.idempotency import REPLAYED_HEADER, Replayed
from truceline.domain.errors import FieldError, TrucelineError
from truceline.domain.unstorable import pointer_token

PROBLEM_JSON = "application/problem+json"


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": f"urn:truceline:problem:{code}", "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [e.as_dict() for e in errors]
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _pointer(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        where, parts = parts[0], parts[1:]
        if where != "body":
            return f"#{where}/" + "/".join(parts)
    return "/" + "/".join(pointer_token(p) for p in parts) if parts else ""


def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errs = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errs):
        e = next(e for e in errs if e.get("type") == "json_invalid")
        msg = e.get("ctx", {}).get("error", "invalid JSON")
        return problem(
            400,
            "malformed_request",
            "Malformed request",
            f"the body is not valid JSON: {msg}",
            instance=request.url.path,
            errors=[FieldError("", f"not valid JSON: {msg}")],
        )
    fields = [FieldError(_pointer(tuple(e.get("loc", ()))), str(e.get("msg", "invalid"))) for e in errs]
    first = fields[0] if fields else FieldError("", "invalid")
    return problem(
        422,
        "invalid_input",
        "Invalid input",
        f"{first.pointer or '/'}: {first.reason}",
        instance=request.url.path,
        errors=fields,
    )


def error_response(exc: TrucelineError, instance: str) -> JSONResponse:
    """Our errors as problem+json: from the exception handler, and from middleware outside it."""
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return problem(
        exc.status,
        exc.code,
        exc.title,
        exc.detail,
        instance=instance,
        errors=exc.errors,
        extra=exc.extra,
        headers=headers,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(TrucelineError)
    async def _truceline(request: Request, exc: TrucelineError) -> JSONResponse:
        return error_response(exc, request.url.path)

    @app.exception_handler(Replayed)
    async def _replayed(request: Request, exc: Replayed) -> Response:
        # not an error: a keyed write sent again gets the answer it got the first time
        k = exc.kept
        return Response(k.body, status_code=k.status or 200, headers={**(k.headers or {}), REPLAYED_HEADER: "true"})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        return problem(exc.status_code, f"http_{exc.status_code}", title, str(exc.detail), instance=request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return problem(
            500,
            "internal",
            "Internal error",
            "an unexpected error occurred; it has been logged",
            instance=request.url.path,
        )
