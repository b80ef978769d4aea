"""Webhooks: a party registers URLs; every event on its live feed is delivered to them, signed, retried
with exponential backoff, logged, and replayable. Sending happens outside any request and outside any
transaction, so a failing endpoint never blocks anything else."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Protocol

from truceline.domain.errors import FieldError, InvalidInput, NotFound
from truceline.domain.ids import new_id
from truceline.domain.model import Party
from truceline.domain.webhooks import (
    CAP_EVENT_TYPES,
    Delivery,
    DeliveryStatus,
    Format,
    Outcome,
    Webhook,
    backoff_seconds,
    cap_message_id,
    url_problem,
)
from truceline.services import audit, hotline
from truceline.services.access import require
from truceline.services.hotline import EVENT_TYPES
from truceline.services.policy import WebhookPolicy
from truceline.services.unit_of_work import UnitOfWork


class Sender(Protocol):
    def send(self, jobs: Sequence[tuple[Delivery, Webhook]], now_unix: int) -> list[Outcome]: ...


def register(
    uow: UnitOfWork, caller: Party, *, url: str, event_types: Sequence[str], format: Format | str = Format.json
) -> Webhook:
    """Register an endpoint for your party's events. The returned secret is shown this once. A ``cap``
    webhook takes the hotline's messages as CAP 1.2 alerts (by default all four message events)."""
    require(caller, "webhook.manage")
    errors = []
    why = url_problem(url)
    if why:
        errors.append(FieldError("/url", f"the URL {why}"))
    try:
        fmt = Format(format)
    except ValueError:
        fmt = Format.json
        errors.append(FieldError("/format", f"format must be one of {', '.join(f.value for f in Format)}"))
    allowed = CAP_EVENT_TYPES if fmt is Format.cap else EVENT_TYPES
    for i, e in enumerate(event_types):
        if e not in allowed:
            what = "a CAP webhook takes hotline messages" if e in EVENT_TYPES else f"unknown event type {e!r}"
            errors.append(FieldError(f"/event_types/{i}", f"{what}; known: {', '.join(allowed)}"))
    if fmt is Format.cap and not event_types:
        event_types = CAP_EVENT_TYPES
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)
    with uow:
        hook = Webhook(
            id=new_id(),
            party_id=caller.id,
            url=url,
            secret="whsec_" + secrets.token_urlsafe(32),
            event_types=sorted(set(event_types)),
            active=True,
            created_at=uow.clock(),
            format=fmt,
        )
        uow.webhooks.add(hook)
        audit.record(uow, caller, "webhook.registered", "webhook", hook.id,
                     {"url": url, "event_types": hook.event_types, "format": fmt.value}, concerns=[caller.id])
        uow.commit()
    return hook


def _own(uow: UnitOfWork, caller: Party, hook_id: str) -> Webhook:
    hook = uow.webhooks.get(hook_id)
    if hook is None or hook.party_id != caller.id:
        raise NotFound(f"no webhook {hook_id} of your party")
    return hook


def list_hooks(uow: UnitOfWork, caller: Party) -> tuple[list[Webhook], dict[str, dict[str, int]]]:
    require(caller, "webhook.manage")
    with uow:
        hooks = uow.webhooks.list(caller.id)
        return hooks, uow.webhooks.stats([h.id for h in hooks])


def remove(uow: UnitOfWork, caller: Party, hook_id: str) -> None:
    require(caller, "webhook.manage")
    with uow:
        hook = _own(uow, caller, hook_id)
        if hook.active:
            uow.webhooks.deactivate(hook.id)
            audit.record(uow, caller, "webhook.removed", "webhook", hook.id, {"url": hook.url}, concerns=[caller.id])
        uow.commit()


def deliveries(
    uow: UnitOfWork, caller: Party, hook_id: str, *, status: DeliveryStatus | None, limit: int, offset: int
) -> list[Delivery]:
    """The delivery log, newest first."""
    require(caller, "webhook.manage")
    with uow:
        _own(uow, caller, hook_id)
        return uow.webhooks.deliveries(hook_id, status=status, limit=limit, offset=offset)


def replay(uow: UnitOfWork, caller: Party, hook_id: str, delivery_id: str) -> Delivery:
    """Send a logged delivery again, as a new delivery (the log keeps the original as it was)."""
    require(caller, "webhook.manage")
    with uow:
        hook = _own(uow, caller, hook_id)
        d = uow.webhooks.delivery(delivery_id)
        if d is None or d.webhook_id != hook.id:
            raise NotFound(f"no delivery {delivery_id} of webhook {hook_id}")
        if not hook.active:
            raise InvalidInput.at("/webhook", "this webhook was removed; register it again to receive deliveries")
        now = uow.clock()
        again = replace(
            d,
            id=new_id(),
            status=DeliveryStatus.pending,
            attempts=0,
            next_attempt_at=now,
            last_status_code=None,
            last_error=None,
            created_at=now,
            delivered_at=None,
            replay_of=d.id,
        )
        uow.webhooks.add_delivery(again)
        audit.record(uow, caller, "webhook.replayed", "webhook_delivery", again.id, {"replay_of": d.id},
                     concerns=[caller.id])
        uow.commit()
    return again


def _as_sent(uow: UnitOfWork, d: Delivery, hook: Webhook) -> Delivery | Outcome:
    """What goes out for ``d``: the feed event as stored, or for a CAP webhook its message as a CAP
    alert, made as it is sent (a replay too) from the message, which never changes once sent. An
    event with no such message fails at once (it cannot come to be sendable later)."""
    if hook.format is not Format.cap:
        return d
    m_id = cap_message_id(d.event_type, json.loads(d.body).get("data", {}))
    m = uow.hotline.get_message(m_id) if m_id else None
    th = uow.hotline.get_thread(m.thread_id) if m else None
    if m is None or th is None or hook.party_id not in th.members:
        return Outcome(d.id, False, None, f"event {d.event_seq} ({d.event_type}) names no message of the party's")
    return replace(d, body=hotline.cap_of(uow, m).decode())


def dispatch_due(
    make_uow: Callable[[], UnitOfWork], sender: Sender, policy: WebhookPolicy, *, wall: Callable[[], float] = time.time
) -> int:
    """One round: claim due deliveries (leased), send them, record each outcome. Returns how many were
    attempted. Signatures carry wall-clock time (receivers check freshness against theirs)."""
    with make_uow() as uow:
        now = uow.clock()
        jobs = uow.webhooks.claim_due(now, lease=timedelta(seconds=policy.lease_s), limit=policy.batch,
                                      per_hook=policy.per_hook)
        uow.commit()
    if not jobs:
        return 0
    sent, outcomes = list(jobs), {}
    if any(hook.format is Format.cap for _, hook in jobs):  # read the messages they render, once
        sent = []
        with make_uow() as uow:
            for d, hook in jobs:
                body = _as_sent(uow, d, hook)
                if isinstance(body, Outcome):
                    outcomes[d.id] = body
                else:
                    sent.append((body, hook))
    outcomes |= {o.delivery_id: o for o in sender.send(sent, int(wall()))}
    with make_uow() as uow:
        now = uow.clock()
        for d, _hook in jobs:
            o = outcomes[d.id]
            d.attempts += 1
            d.last_status_code, d.last_error = o.status_code, o.error
            if o.ok:
                d.status, d.delivered_at, d.next_attempt_at = DeliveryStatus.delivered, now, None
                action = "webhook.delivered"
            elif d.attempts >= policy.max_attempts:
                d.status, d.next_attempt_at = DeliveryStatus.failed, None
                action = "webhook.failed"
            else:
                wait = backoff_seconds(d.attempts, base=policy.backoff_base_s, cap=policy.backoff_cap_s)
                d.next_attempt_at = now + timedelta(seconds=wait)
                action = "webhook.retrying"
            uow.webhooks.save(d)
            audit.record(
                uow,
                None,
                action,
                "webhook_delivery",
                d.id,
                {"webhook_id": d.webhook_id, "event": d.event_seq, "attempt": d.attempts,
                 "status_code": o.status_code, "error": o.error},
                concerns=[d.party_id],
            )
        uow.commit()
    return len(jobs)
