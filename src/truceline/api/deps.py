"""Request-scoped dependencies: the app's context, the authenticated caller, signed writes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, ParamSpec, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Header, Request, Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from truceline.adapters.repositories import Receipt
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.api import idempotency
from truceline.api.live import FeedSignal
from truceline.api.observability import CALLER_KEY, CREDENTIAL_KEY, Metrics
from truceline.domain.audit import RequestSignature, request_message, verify_signature
from truceline.domain.clock import Clock, utc_now
from truceline.domain.errors import InvalidInput, MalformedRequest, NotAuthenticated
from truceline.domain.idempotency import HEADER, Claim
from truceline.domain.model import Credential, Party
from truceline.domain.volumes import parse_time
from truceline.services import parties
from truceline.services.policy import Policy
from truceline.services.token_uses import TokenUses
from truceline.services.tracks import Detector, TrackPolicy
from truceline.settings import Settings

P = ParamSpec("P")
T = TypeVar("T")

SIGNATURE_HEADER = "Truceline-Signature"
RECEIPT_HEADER = "Truceline-Receipt"


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    policy: Policy
    audit_key: Ed25519PrivateKey
    metrics: Metrics
    clock: Clock = utc_now
    signal: FeedSignal = field(default_factory=FeedSignal)
    tracks: TrackPolicy = field(default_factory=TrackPolicy)
    detector: Detector = field(default_factory=Detector)
    #: token uses this process has seen, written in batches (each token's "last used")
    token_uses: TokenUses = field(default_factory=TokenUses)
    # the demo's parties and tokens, offered by the web map's sign-in; only ``truceline demo`` fills it
    demo_tokens: dict[str, str] = field(default_factory=dict)
    #: run ``call``'s work on the event loop, not the thread pool (``Settings.db_work_on_loop``)
    on_loop: bool = False

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run blocking database work for a route: on the loop itself, or on the thread pool. A hand-off
        to the pool (there, back, and the two threads contending for the GIL meanwhile) costs more CPU
        than a short SQLite transaction; with PostgreSQL it lets the loop serve others during the wait."""
        if self.on_loop:
            return fn(*args, **kwargs)
        return await run_in_threadpool(fn, *args, **kwargs)

    def uow(self, *, write: bool = False, **kw: Any) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, write=write, clock=self.clock, on_publish=self.signal.notify, **kw)

    def writer_at(self, clock: Clock | None) -> SqlUnitOfWork:
        """A write unit of work on ``clock`` (the app's own when None): scenarios replay history."""
        return SqlUnitOfWork(self.engine, write=True, clock=clock or self.clock, on_publish=self.signal.notify)


# Dependencies that do no blocking work are ``async``: FastAPI runs a plain ``def`` dependency on the
# thread pool, a hop that costs more than the dependency itself.
async def context(request: Request) -> AppContext:
    return _ctx(request)


def _ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def bearer(request: Request) -> str | None:
    """The request's bearer token, if it has one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def client_address(request: Request) -> str | None:
    """Where the request came from (behind a proxy, what uvicorn's ``--forwarded-allow-ips`` trusts)."""
    return request.client.host if request.client else None


def _authenticated(request: Request) -> Party:
    """The party the request's bearer token names, looked up once per request (``Caller`` and
    ``Write`` both need it)."""
    party: Party | None = request.scope.get(CALLER_KEY)
    if party is None:
        # On the loop whatever the database: one SELECT by key, which waits on no lock. On PostgreSQL the
        # thread pool's hand-off there and back cost more CPU than the round trip it would free the loop
        # from (load bench, spread traffic: 388-404 -> 430-433 requests/s, alternating runs).
        ctx = _ctx(request)
        party, credential = parties.admit(
            ctx.uow(no_transaction=True), bearer(request), uses=ctx.token_uses, address=client_address(request)
        )
        request.scope[CALLER_KEY] = party
        # which of the party's tokens (officer, desk, script): for /v1/me and the request log
        request.scope[CREDENTIAL_KEY] = credential
    return party


async def caller(request: Request) -> Party:
    return _authenticated(request)


def credential(request: Request) -> Credential:
    """The token the request came with (after ``caller`` has authenticated it)."""
    _authenticated(request)
    found: Credential = request.scope[CREDENTIAL_KEY]
    return found


Ctx = Annotated[AppContext, Depends(context)]
Caller = Annotated[Party, Depends(caller)]
Token = Annotated[Credential, Depends(credential)]


def signing_message(
    method: str, path: str, body: bytes, signed: RequestSignature, *, ndjson: bool = False, digest: bool = False
) -> bytes:
    """What a party signs (see ``domain.audit.request_message``), from the raw request. An NDJSON body
    is signed as the array of its lines; a file that is not JSON (a CSV file, a CAP alert's XML) as
    ``{"sha256": hex digest of its bytes}``."""
    if digest:
        parsed: Any = {"sha256": hashlib.sha256(body).hexdigest()}
    else:
        try:
            if ndjson:
                parsed = [json.loads(line) for line in body.splitlines() if line.strip()]
            else:
                parsed = json.loads(body) if body.strip() else None
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            raise MalformedRequest("the body is not valid JSON") from None
    return request_message(method, path, parsed, at=signed.at, nonce=signed.nonce)


async def request_signature(request: Request, who: Party) -> dict[str, Any] | None:
    """Verify the request's detached signature when the caller has registered a key (then it is
    required): so a party cannot deny what it sent, and nobody can send in its name, nor send again
    what it sent once (the signed time must be near the server's, and each nonce is taken once).
    Returns what was signed and the signature, for the audit log."""
    header = request.headers.get(SIGNATURE_HEADER)
    if who.public_key is None:
        return None
    if not header:
        raise NotAuthenticated(f"your party has registered a signing key: sign this request ({SIGNATURE_HEADER})")
    try:
        signed = RequestSignature.parse(header)
    except ValueError as e:
        raise NotAuthenticated(f"{SIGNATURE_HEADER}: {e}") from None
    ctx = _ctx(request)
    try:
        at = parse_time(signed.at, "#header/Truceline-Signature")
    except InvalidInput:
        raise NotAuthenticated(f"{SIGNATURE_HEADER}: t={signed.at!r} is not an RFC 3339 time with its offset") from None
    now, window = ctx.clock(), ctx.settings.signature_window_seconds
    off = (at - now).total_seconds()
    if abs(off) > window:
        raise NotAuthenticated(
            f"{SIGNATURE_HEADER}: it was signed at {signed.at}, {abs(off):.0f} s "
            f"{'behind' if off < 0 else 'ahead of'} the server's clock, more than the {window:.0f} s allowed "
            "(sign each request as you send it; check the clock)"
        )
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    message = signing_message(
        request.method, request.url.path, raw, signed, ndjson="ndjson" in content_type,
        digest="text/csv" in content_type or "xml" in content_type,
    )  # fmt: skip
    if not verify_signature(who.public_key, message, signed.sig):
        raise NotAuthenticated(f"the {SIGNATURE_HEADER} does not verify against your party's registered key")
    await ctx.call(parties.take_nonce, ctx.uow(write=True), who, signed.nonce, at)
    return {"signed": json.loads(message), "signature": signed.sig, "public_key": who.public_key}


@dataclass
class Writer:
    """Hands out write units of work for one request; the last audit receipt goes in a header. It
    carries the context and the caller too, so a busy write route needs no other dependency: FastAPI
    works out each dependency's cache key on every request."""

    ctx: AppContext
    #: the authenticated party, and the token it came with
    caller: Party
    credential: Credential
    signature: dict[str, Any] | None
    response: Response
    #: the request's Idempotency-Key, kept by the first unit of work that commits
    claim: Claim | None = None

    def uow(self) -> SqlUnitOfWork:
        return self.ctx.uow(
            write=True,
            signature=self.signature,
            credential=self.credential,
            on_commit=self._receipt,
            idempotency=self.claim,
        )

    def _receipt(self, receipt: Receipt | None) -> None:
        if receipt is not None:
            self.response.headers[RECEIPT_HEADER] = receipt.header()


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        description=(
            "A fresh random key (a UUID) per write. Sent again with the same request, say after its answer "
            "was lost, it gets the first answer (with `Idempotent-Replayed: true`) instead of doing the write "
            "twice. Kept for a day (`TRUCELINE_RETAIN_IDEMPOTENCY_HOURS`); the same key with another request "
            "is a 422."
        ),
    ),
]


async def writer(request: Request, response: Response, idempotency_key: IdempotencyKey = None) -> Writer:
    # One dependency, not a tree of them (see ``Writer``).
    who = _authenticated(request)
    ctx = _ctx(request)
    # Before the signature: the same signed request sent again (its nonce spent) gets its first answer.
    made = await idempotency.claim(ctx, request, who.id, idempotency_key) if idempotency_key is not None else None
    signature = await request_signature(request, who)
    return Writer(ctx, who, request.scope[CREDENTIAL_KEY], signature, response, made)


Write = Annotated[Writer, Depends(writer)]
