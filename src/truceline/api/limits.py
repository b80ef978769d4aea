"""A pure ASGI middleware for what every request must satisfy before any route sees it.

- The body is at most a size limit (413).
- Nothing unstorable (``domain.unstorable``: a NUL character, a number beyond a double) in the path,
  the query or the body (422, naming where): let through, it would fail deep inside as a 500.
  Routes that take many items and refuse them one by one (track reports) check each item themselves.

The body checks cost two byte searches and a regular expression over the body; only a body they
flag is parsed here, to name the field.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from truceline.api.problems import error_response
from truceline.domain.errors import FieldError, InvalidInput, PayloadTooLarge, TrucelineError
from truceline.domain.unstorable import NUL_REASON, first_unstorable, pointer_token

_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: JSON text's only way to write a NUL inside a string (a raw one makes the JSON invalid)
_NUL_ESCAPE = b"\\u0000"
#: the shortest run of digits that can be an integer beyond a double's range (1.8e308 has 309)
_LONG_DIGITS = re.compile(rb"[0-9]{309}")
_NDJSON = ("application/x-ndjson", "application/ndjson", "application/jsonl")


def _parse(text: bytes) -> tuple[bool, Any]:
    try:
        return True, json.loads(text)
    except (ValueError, RecursionError):
        return False, None


def body_problem(body: bytes, content_type: str) -> FieldError | None:
    """Why ``body`` is refused whatever the route, or None. A body that is not valid JSON is left to
    the route to refuse (with its own reason), unless it holds a raw NUL byte."""
    raw_nul = b"\x00" in body
    if not raw_nul and _NUL_ESCAPE not in body and _LONG_DIGITS.search(body) is None:
        return None
    if content_type.split(";")[0].strip().lower() in _NDJSON:
        # as the track route names a line: pointer /<line - 1>/..., reason "line <n>: ..."
        docs = [(f"/{n - 1}", f"line {n}: ", line) for n, line in enumerate(body.splitlines(), start=1) if line.strip()]
    else:
        docs = [("", "", body)]
    for at, where, text in docs:
        ok, doc = _parse(text)
        if not ok:
            if b"\x00" in text:
                return FieldError(at, where + NUL_REASON)
            continue
        bad = first_unstorable(doc)
        if bad is not None:
            return FieldError(at + bad.pointer, where + bad.reason)
    return None


def query_problem(query: bytes) -> FieldError | None:
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return FieldError(f"#query/{pointer_token(name.replace(chr(0), ''))}", NUL_REASON)
    return None


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than {limit} bytes")


class RequestLimits:
    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        per_path: dict[str, int] | None = None,
        itemwise: frozenset[str] = frozenset(),
        per_pattern: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        #: larger limits for bulk endpoints (track ingest, incident import), by exact path
        self.per_path = dict(per_path or {})
        #: and for paths with an id in them (an incident's evidence), by regular expression
        self.per_pattern = [(re.compile(k), n) for k, n in (per_pattern or {}).items()]
        #: paths whose route checks each item of the body itself, refusing the bad ones alone
        self.itemwise = itemwise

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, error: TrucelineError) -> None:
        await error_response(error, scope.get("path", ""))(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        where = (
            FieldError("#path", NUL_REASON) if "\x00" in path else query_problem(scope.get("query_string", b""))
        )
        if where is not None:
            await self._refuse(scope, receive, send, InvalidInput(f"{where.pointer}: {where.reason}", errors=[where]))
            return
        if scope.get("method") not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(path) or next((n for p, n in self.per_pattern if p.fullmatch(path)), self.max_bytes)
        headers: dict[bytes, bytes] = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await self._refuse(scope, receive, send, _too_large(limit))
            return
        # The whole body is read here (every route reads it whole anyway), so it is checked before
        # anything acts on it; the app then receives it as one message.
        chunks: list[bytes] = []
        seen = 0
        first: Message | None = None
        while first is None:
            msg = await receive()
            if msg["type"] != "http.request":
                first = msg  # the client went away: the app learns it from its first receive
                break
            chunk = msg.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                await self._refuse(scope, receive, send, _too_large(limit))
                return
            chunks.append(chunk)
            if not msg.get("more_body", False):
                body = b"".join(chunks)
                content_type = headers.get(b"content-type", b"").decode("latin-1")
                bad = None if path in self.itemwise else body_problem(body, content_type)
                if bad is not None:
                    error = InvalidInput(f"{bad.pointer or 'the body'}: {bad.reason}", errors=[bad])
                    await self._refuse(scope, receive, send, error)
                    return
                first = {"type": "http.request", "body": body, "more_body": False}
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                assert first is not None
                return first
            return await receive()

        await self.app(scope, replay, send)
