"""The hotline over HTTP: threads, messages, acknowledgements, the inbox, and the live feed (SSE)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, status
from fastapi.responses import Response, StreamingResponse

from truceline.api import schemas_hotline as s
from truceline.api import stopping
from truceline.api.deps import Caller, Ctx, Write, bearer, client_address
from truceline.api.routes.params import MAX_INT, Offset
from truceline.domain import cap
from truceline.domain.errors import InvalidInput, NotAuthenticated
from truceline.domain.hotline import Certainty, Message, MsgType, Severity, Thread, Urgency
from truceline.domain.volumes import format_time
from truceline.services import hotline, parties
from truceline.services.hotline import Outgoing, message_json, thread_json

router = APIRouter(tags=["hotline"])


def _outgoing(body: s.MessageCreate) -> Outgoing:
    return Outgoing(
        msg_type=MsgType(body.msgType),
        severity=Severity(body.severity),
        urgency=Urgency(body.urgency),
        certainty=Certainty(body.certainty),
        headline=body.headline,
        description=body.description,
        addresses=body.addresses,
        references=body.references,
        conflict_id=body.conflict_id,
        activity_ids=body.activity_ids,
        zone_ids=body.zone_ids,
        ack_within_s=body.ack_within_s,
    )


def _msg(m: Message, names: dict[str, str]) -> s.MessageRead:
    return s.MessageRead.model_validate(message_json(m, names))


def _thread(th: Thread, names: dict[str, str]) -> s.ThreadRead:
    return s.ThreadRead.model_validate(thread_json(th, names))


@router.post("/v1/threads", operation_id="openThread", status_code=status.HTTP_201_CREATED,
             response_model=s.ThreadOpened)
def open_thread(body: s.ThreadCreate, ctx: Ctx, caller: Caller, w: Write) -> s.ThreadOpened:
    """Open a thread with other parties, optionally with a first message."""
    th, m, names = hotline.open_thread(
        w.uow(), ctx.policy.hotline, caller, subject=body.subject, parties=body.parties,
        first=_outgoing(body.message) if body.message else None,
    )
    return s.ThreadOpened(thread=_thread(th, names), message=_msg(m, names) if m else None)


@router.get("/v1/threads", operation_id="listThreads", response_model=list[s.ThreadRead])
def list_threads(
    ctx: Ctx,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[s.ThreadRead]:
    """Threads your party is in, most recently active first, each with its latest message."""
    items, last, names = hotline.threads(ctx.uow(), caller, limit=limit, offset=offset)
    return [s.ThreadRead.model_validate(thread_json(th, names, last.get(th.id))) for th in items]


@router.get("/v1/threads/{thread_id}", operation_id="getThread", response_model=s.ThreadWithMessages)
def get_thread(
    thread_id: str,
    ctx: Ctx,
    caller: Caller,
    after: Annotated[str | None, Query(description="Only messages after this message id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> s.ThreadWithMessages:
    th, items, names = hotline.thread(ctx.uow(), caller, thread_id, after=after, limit=limit)
    return s.ThreadWithMessages(thread=_thread(th, names), messages=[_msg(m, names) for m in items])


@router.post("/v1/threads/{thread_id}/messages", operation_id="sendMessage", status_code=status.HTTP_201_CREATED,
             response_model=s.MessageRead)
def send_message(thread_id: str, body: s.MessageCreate, ctx: Ctx, caller: Caller, w: Write) -> s.MessageRead:
    """Send a CAP message in a thread. Every addressed party must acknowledge it before its deadline
    (``ack_within_s``, or the default for its severity); if it does not, the message is re-sent and
    escalated to that party's escalation contacts."""
    m, names = hotline.send(w.uow(), ctx.policy.hotline, caller, thread_id, _outgoing(body))
    return _msg(m, names)


@router.post(
    "/v1/threads/{thread_id}/cap", operation_id="sendCapAlert", status_code=status.HTTP_201_CREATED,
    response_model=s.MessageRead,
    openapi_extra={"requestBody": {"required": True, "content": {cap.MEDIA_TYPE: {"schema": {"type": "string"}}}}},
)  # fmt: skip
async def send_cap(thread_id: str, request: Request, ctx: Ctx, caller: Caller, w: Write) -> s.MessageRead:
    """Post a CAP 1.2 alert (``application/cap+xml``) from your party's own alerting system in a
    thread, as a message: ``Actual``, an ``Alert``, ``Update`` or ``Cancel``; the first ``info``'s
    severity, urgency, certainty, headline and description; ``addresses`` as party URNs
    (``urn:truceline:party:<id>``), ids or names (none: every other member); ``references`` to this
    thread's messages (CAP's ``sender,identifier,sent``); ``incidents``: a conflict of yours. What is
    refused is named by its element (``/alert/info/headline``). A signed request signs
    ``{"sha256": <hex digest of the XML>}``."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind not in (cap.MEDIA_TYPE, "application/xml", "text/xml"):
        raise InvalidInput.at("#header/Content-Type", f"send the alert as {cap.MEDIA_TYPE}, not {kind or 'nothing'}")
    xml = await request.body()
    m, names = await ctx.call(hotline.send_cap, w.uow(), ctx.policy.hotline, caller, thread_id, xml)
    return _msg(m, names)


@router.get("/v1/conflicts/{conflict_id}/messages", operation_id="listConflictMessages",
            response_model=list[s.MessageRead])  # fmt: skip
def conflict_messages(
    conflict_id: str, ctx: Ctx, caller: Caller, limit: Annotated[int, Query(ge=1, le=1000)] = 500
) -> list[s.MessageRead]:
    """The hotline messages about a conflict that concerns your party, oldest first: the Alert that
    announced it, each party's word on it, the reminder before it began, its closing. Each names its
    thread, where the parties settle it."""
    items, names = hotline.about_conflict(ctx.uow(), caller, conflict_id, limit=limit)
    return [_msg(m, names) for m in items]


@router.get("/v1/messages/{message_id}", operation_id="getMessage", response_model=s.MessageRead)
def get_message(message_id: str, ctx: Ctx, caller: Caller) -> s.MessageRead:
    m, names = hotline.message(ctx.uow(), caller, message_id)
    return _msg(m, names)


@router.get(
    "/v1/messages/{message_id}/cap",
    operation_id="getMessageAsCap",
    response_class=Response,
    responses={200: {"content": {cap.MEDIA_TYPE: {}}, "description": "A CAP 1.2 alert"}},
)
def get_message_as_cap(message_id: str, ctx: Ctx, caller: Caller) -> Response:
    """The message as an OASIS CAP 1.2 alert (XML), for the alerting systems a party already runs:
    ``scope`` Private, addressed to the thread's parties by URN (``urn:truceline:party:<id>``); the
    conflict it announces as the ``incidents``; each 4D region as an ``area`` (polygons, altitude and
    ceiling in feet); the acknowledgement deadlines as ``parameter``s. An ``Ack`` is a CAP Ack."""
    body = hotline.message_cap(ctx.uow(), caller, message_id)
    return Response(body, media_type=cap.MEDIA_TYPE)


@router.post("/v1/messages/{message_id}/ack", operation_id="acknowledgeMessage", response_model=s.MessageRead)
def acknowledge(
    message_id: str, ctx: Ctx, caller: Caller, w: Write, body: s.AckCreate | None = None
) -> s.MessageRead:
    """Acknowledge a message addressed to your party (once). Returns the message with every
    addressee's standing; the acknowledgement itself is a CAP ``Ack`` message in the thread."""
    m, names = hotline.acknowledge(w.uow(), caller, message_id, body.note if body else "")
    return _msg(m, names)


@router.get("/v1/inbox", operation_id="inbox", response_model=list[s.MessageRead])
def inbox(
    ctx: Ctx,
    caller: Caller,
    state: Literal["unacknowledged", "awaiting", "overdue", "acknowledged", "all"] = "unacknowledged",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Offset = 0,
) -> list[s.MessageRead]:
    """Messages addressed to your party, newest first."""
    items, names = hotline.inbox(ctx.uow(), caller, state=state, limit=limit, offset=offset)
    return [_msg(m, names) for m in items]


@router.get("/v1/inbox/summary", operation_id="inboxSummary", response_model=s.InboxSummary)
def inbox_summary(ctx: Ctx, caller: Caller) -> s.InboxSummary:
    return s.InboxSummary(**hotline.summary(ctx.uow(), caller))


def _start(after: int | None, last_event_id: str | None) -> int | None:
    raw = str(after) if after is not None else last_event_id
    if raw is None:
        return None
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19 and int(raw) <= MAX_INT):
        raise InvalidInput.at("#header/Last-Event-ID", "must be an event id (a non-negative integer)")
    return int(raw)


@router.get(
    "/v1/events",
    operation_id="liveEvents",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
async def live_events(
    request: Request,
    ctx: Ctx,
    caller: Caller,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_INT, description="Start after this event id (0: from the first)")
    ] = None,
) -> StreamingResponse:
    """Your party's live feed as Server-Sent Events: the hotline's ``message``, ``message.acknowledged``,
    ``message.overdue``, ``message.escalated``, and the negotiation of the zones that concern your party
    (``zone.proposed``, ``zone.revised``, ``zone.signed``, ``zone.objected``, ``zone.responsibility_*``,
    ``document.*``, each with a ``summary`` sentence) and every zone's status moves (``zone.status``).
    Each event's ``id`` is its number in your party's feed;
    reconnect with ``Last-Event-ID`` (browsers do) to resume with nothing lost and nothing repeated.
    Without either, the stream starts with the next event. Events older than the feed's retention
    (``TRUCELINE_RETAIN_FEED_DAYS``) are removed: a reader resuming from before them gets one
    ``feed.pruned`` event in their place, saying which ids it missed."""
    start = _start(after, last_event_id)
    if start is None:
        start = (await asyncio.to_thread(hotline.summary, ctx.uow(), caller))["last_event_id"]
    poll = ctx.settings.events_poll_seconds
    token, recheck = bearer(request), ctx.settings.events_token_check_seconds
    address = client_address(request)

    async def still_admitted() -> bool:
        # a feed held open is the token in use: each check counts as a use
        try:
            await asyncio.to_thread(
                parties.authenticate, ctx.uow(no_transaction=True), token, uses=ctx.token_uses, address=address
            )
        except NotAuthenticated:
            return False
        return True

    async def stream() -> AsyncIterator[str]:
        last = start
        wake = ctx.signal.subscribe(caller.id)
        quiet = 0.0
        first = True
        checked = time.monotonic()
        try:
            yield f"retry: 2000\n: resuming after {last}\n\n"
            while not (stopping.is_stopping() or await request.is_disconnected()):
                if time.monotonic() - checked >= recheck:
                    # A revoked or expired token ends its stream too; reconnecting with it gets the 401.
                    checked = time.monotonic()
                    if not await still_admitted():
                        yield ": the bearer token no longer works\n\n"
                        return
                wake.clear()
                batch = await asyncio.to_thread(
                    hotline.events, ctx.uow(), caller, after=last, limit=500, first=first
                )
                first = False
                for e in batch:
                    data = json.dumps(e.payload, separators=(",", ":"))
                    yield f"id: {e.seq}\nevent: {e.type}\ndata: {data}\n\n"
                    last = e.seq
                if len(batch) == 500:
                    continue
                if batch:
                    quiet = 0.0
                try:
                    await asyncio.wait_for(wake.wait(), timeout=poll)
                except TimeoutError:
                    quiet += poll
                    if quiet >= 15:
                        quiet = 0.0
                        yield f": keep-alive {format_time(ctx.clock())}\n\n"
        finally:
            ctx.signal.unsubscribe(caller.id, wake)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


@router.get("/v1/events/history", operation_id="listEvents", response_model=list[s.EventRead])
def list_events(
    ctx: Ctx,
    caller: Caller,
    after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[s.EventRead]:
    """Your party's feed as plain JSON, for clients that cannot hold a stream open. As on the stream, a
    ``feed.pruned`` event stands for events that retention removed before you read them."""
    items = hotline.events(ctx.uow(), caller, after=after, limit=limit)
    return [s.EventRead(id=e.seq, type=e.type, at=format_time(e.at) or "", data=e.payload) for e in items]
