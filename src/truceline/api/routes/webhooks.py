"""Webhooks and escalation contacts over HTTP."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from truceline.api import schemas_hotline as s
from truceline.api.deps import Caller, Ctx, Write
from truceline.api.routes.params import Offset
from truceline.api.schemas import PartyRef
from truceline.domain.volumes import format_time
from truceline.domain.webhooks import Delivery, DeliveryStatus, Webhook
from truceline.services import hotline, webhooks

router = APIRouter(tags=["webhooks"])


def _hook(h: Webhook, stats: dict[str, int] | None = None) -> s.WebhookRead:
    return s.WebhookRead(
        id=h.id,
        url=h.url,
        event_types=h.event_types,
        format=h.format.value,  # type: ignore[arg-type]
        active=h.active,
        created_at=format_time(h.created_at) or "",
        deliveries=stats or {},
    )


def _delivery(d: Delivery) -> s.DeliveryRead:
    return s.DeliveryRead(
        id=d.id,
        webhook_id=d.webhook_id,
        event_id=d.event_seq,
        event_type=d.event_type,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=format_time(d.next_attempt_at),
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        created_at=format_time(d.created_at) or "",
        delivered_at=format_time(d.delivered_at),
        replay_of=d.replay_of,
        body=json.loads(d.body),
    )


@router.post("/v1/webhooks", operation_id="registerWebhook", status_code=status.HTTP_201_CREATED,
             response_model=s.WebhookCreated)
def register(body: s.WebhookCreate, caller: Caller, w: Write) -> s.WebhookCreated:
    """Receive your party's live-feed events at a URL. Each delivery is a POST signed with the secret
    returned here (shown once): header ``Truceline-Webhook-Signature: t=<unix>,v1=<hex>``, the hex being
    HMAC-SHA256 of ``"<t>." + body``. Failed deliveries are retried with exponential backoff. With
    ``format: cap`` the body is the hotline message as a CAP 1.2 alert (``application/cap+xml``),
    for alerting systems that take CAP; the delivery log keeps the feed event it came from."""
    h = webhooks.register(w.uow(), caller, url=body.url, event_types=body.event_types, format=body.format)
    return s.WebhookCreated(**_hook(h).model_dump(), secret=h.secret)


@router.get("/v1/webhooks", operation_id="listWebhooks", response_model=list[s.WebhookRead])
def list_hooks(ctx: Ctx, caller: Caller) -> list[s.WebhookRead]:
    hooks, stats = webhooks.list_hooks(ctx.uow(), caller)
    return [_hook(h, stats.get(h.id)) for h in hooks]


@router.delete("/v1/webhooks/{webhook_id}", operation_id="removeWebhook", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response)
def remove(webhook_id: str, caller: Caller, w: Write) -> None:
    """Stop deliveries to this webhook; its delivery log is kept."""
    webhooks.remove(w.uow(), caller, webhook_id)


@router.get("/v1/webhooks/{webhook_id}/deliveries", operation_id="listDeliveries",
            response_model=list[s.DeliveryRead])
def deliveries(
    webhook_id: str,
    ctx: Ctx,
    caller: Caller,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> list[s.DeliveryRead]:
    """The delivery log, newest first: attempts, last status code or error, next attempt."""
    items = webhooks.deliveries(ctx.uow(), caller, webhook_id, status=status, limit=limit, offset=offset)
    return [_delivery(d) for d in items]


@router.post("/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay", operation_id="replayDelivery",
             status_code=status.HTTP_201_CREATED, response_model=s.DeliveryRead)
def replay(webhook_id: str, delivery_id: str, caller: Caller, w: Write) -> s.DeliveryRead:
    """Send a logged delivery again (as a new delivery; the original stays in the log as it was)."""
    return _delivery(webhooks.replay(w.uow(), caller, webhook_id, delivery_id))


def _contacts(party_id: str, found: tuple[list[str], dict[str, str]]) -> s.EscalationContactsRead:
    ids, names = found
    return s.EscalationContactsRead(party_id=party_id, contacts=[PartyRef(id=i, name=names.get(i)) for i in ids])


@router.get("/v1/parties/{party_id}/escalation-contacts", operation_id="getEscalationContacts",
            response_model=s.EscalationContactsRead, tags=["hotline"])
def get_contacts(party_id: str, ctx: Ctx, caller: Caller) -> s.EscalationContactsRead:
    return _contacts(party_id, hotline.contacts(ctx.uow(), caller, party_id))


@router.put("/v1/parties/{party_id}/escalation-contacts", operation_id="setEscalationContacts",
            response_model=s.EscalationContactsRead, tags=["hotline"])
def set_contacts(party_id: str, body: s.EscalationContacts, caller: Caller, w: Write) -> s.EscalationContactsRead:
    """Who is told when this party leaves a message unacknowledged past its deadline: the first
    contact at the deadline, one more at each later escalation step (settings)."""
    return _contacts(party_id, hotline.set_contacts(w.uow(), caller, party_id, body.contacts))
