"""The ``Idempotency-Key`` header on writes: the claim a keyed request makes, the kept answer sent
again, and the middleware that keeps each answer before it goes out (see ``domain.idempotency``)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from truceline.domain.idempotency import Claim, KeptRequest, fingerprint, parse_key
from truceline.services import idempotency

if TYPE_CHECKING:
    from truceline.api.deps import AppContext

log = logging.getLogger("truceline.api")

CLAIM_KEY = "truceline.idempotency"
REPLAYED_HEADER = "Idempotent-Replayed"
#: the answer's headers kept with it; the rest (the request id, the time) belong to each answer
KEPT_HEADERS = ("content-type", "location", "etag", "truceline-receipt")
#: a larger answer is sent, not kept: a retry of it gets the 409 that names what was made
MAX_KEPT_BYTES = 1 << 20


class Replayed(Exception):
    """The request was done before under its key: send the kept answer again (problems.install)."""

    def __init__(self, kept: KeptRequest) -> None:
        super().__init__(kept.key)
        self.kept = kept


async def claim(ctx: AppContext, request: Request, party_id: str, header: str) -> Claim:
    """The claim of a keyed write by ``party_id``; raises ``Replayed`` when it was done before."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    made = Claim(party_id, parse_key(header), fingerprint(request.method, target, await request.body()),
                 request.method, target)  # fmt: skip
    # On the loop whatever the database, as the token look-up: one SELECT by key that waits on no lock
    kept = idempotency.recall(ctx.uow(no_transaction=True), made)
    if kept is not None:
        raise Replayed(kept)
    request.scope[CLAIM_KEY] = made
    return made


class KeepAnswers:
    """Keeps the answer of a keyed write that was done (2xx) with its key, before sending it: a client
    that got it can retry and get it again; one that did not can too."""

    def __init__(self, app: ASGIApp, ctx: AppContext) -> None:
        self.app, self.ctx = app, ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not any(k == b"idempotency-key" for k, _ in scope.get("headers", ())):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                made = scope.get(CLAIM_KEY)
                if made is not None and made.taken and 200 <= message["status"] < 300:
                    start = message  # held until the answer is kept
                    return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            await self._keep(scope[CLAIM_KEY], start, body)
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, keep)

    async def _keep(self, made: Claim, start: Message, body: bytes) -> None:
        if len(body) > MAX_KEPT_BYTES:
            return
        headers = Headers(raw=start.get("headers", []))
        kept = {k: headers[k] for k in KEPT_HEADERS if k in headers}
        try:
            await self.ctx.call(idempotency.keep_answer, self.ctx.uow(write=True), made, start["status"], kept, body)
        except Exception:  # the write is done and stays done; a retry is told what it made (409)
            log.exception("could not keep the answer of a request with an Idempotency-Key")
