"""Webhook registrations and their delivery log."""

from __future__ import annotations

import builtins
import json
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from truceline.adapters import tables as t
from truceline.adapters.db import is_sqlite
from truceline.adapters.repositories import _dt, from_ms
from truceline.domain.cells import to_ms
from truceline.domain.webhooks import Delivery, DeliveryStatus, Format, Webhook

_W = t.webhooks.c
_D = t.webhook_deliveries.c


def _hook(r: Any) -> Webhook:
    return Webhook(r.id, r.party_id, r.url, r.secret, json.loads(r.event_types), bool(r.active), _dt(r.created_at),
                   Format(r.format))  # fmt: skip


def _delivery(r: Any) -> Delivery:
    return Delivery(
        id=r.id,
        webhook_id=r.webhook_id,
        party_id=r.party_id,
        event_seq=r.event_seq,
        event_type=r.event_type,
        body=r.body,
        status=DeliveryStatus(r.status),
        attempts=r.attempts,
        next_attempt_at=from_ms(r.next_attempt_at),
        last_status_code=r.last_status_code,
        last_error=r.last_error,
        created_at=_dt(r.created_at),
        delivered_at=from_ms(r.delivered_at),
        replay_of=r.replay_of,
    )


def _delivery_values(d: Delivery) -> dict[str, Any]:
    return dict(
        id=d.id,
        webhook_id=d.webhook_id,
        party_id=d.party_id,
        event_seq=d.event_seq,
        event_type=d.event_type,
        body=d.body,
        status=d.status.value,
        attempts=d.attempts,
        next_attempt_at=to_ms(d.next_attempt_at) if d.next_attempt_at else None,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        created_at=to_ms(d.created_at),
        delivered_at=to_ms(d.delivered_at) if d.delivered_at else None,
        replay_of=d.replay_of,
    )


class WebhookRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, h: Webhook) -> None:
        self.conn.execute(
            insert(t.webhooks).values(
                id=h.id,
                party_id=h.party_id,
                url=h.url,
                secret=h.secret,
                event_types=json.dumps(h.event_types),
                active=1 if h.active else 0,
                created_at=to_ms(h.created_at),
                format=h.format.value,
            )
        )

    def get(self, hook_id: str) -> Webhook | None:
        r = self.conn.execute(select(t.webhooks).where(_W.id == hook_id)).first()
        return None if r is None else _hook(r)

    def list(self, party_id: str) -> builtins.list[Webhook]:
        rows = self.conn.execute(select(t.webhooks).where(_W.party_id == party_id).order_by(_W.created_at, _W.id))
        return [_hook(r) for r in rows]

    def deactivate(self, hook_id: str) -> None:
        self.conn.execute(update(t.webhooks).where(_W.id == hook_id).values(active=0))
        # nothing more goes out to a removed endpoint; its log stays
        self.conn.execute(
            update(t.webhook_deliveries)
            .where(_D.webhook_id == hook_id, _D.status == DeliveryStatus.pending.value)
            .values(status=DeliveryStatus.failed.value, next_attempt_at=None, last_error="webhook removed")
        )

    def add_delivery(self, d: Delivery) -> None:
        self.conn.execute(insert(t.webhook_deliveries).values(**_delivery_values(d)))

    def delivery(self, delivery_id: str) -> Delivery | None:
        r = self.conn.execute(select(t.webhook_deliveries).where(_D.id == delivery_id)).first()
        return None if r is None else _delivery(r)

    def deliveries(
        self, hook_id: str, *, status: DeliveryStatus | None, limit: int, offset: int
    ) -> builtins.list[Delivery]:
        q = select(t.webhook_deliveries).where(_D.webhook_id == hook_id)
        if status is not None:
            q = q.where(_D.status == status.value)
        rows = self.conn.execute(q.order_by(_D.id.desc()).limit(limit).offset(offset))
        return [_delivery(r) for r in rows]

    def claim_due(
        self, now: datetime, *, lease: timedelta, limit: int, per_hook: int
    ) -> builtins.list[tuple[Delivery, Webhook]]:
        """Take pending deliveries whose time has come and lease them (their next attempt moves to
        now + lease, so a process that dies mid-send does not lose them). At most ``per_hook`` per
        endpoint, so one slow endpoint cannot take a whole batch."""
        q = (
            select(t.webhook_deliveries)
            .where(_D.status == DeliveryStatus.pending.value, _D.next_attempt_at <= to_ms(now))
            .order_by(_D.next_attempt_at, _D.id)
            .limit(limit * 4)
        )
        if not is_sqlite(self.conn.engine):
            q = q.with_for_update(skip_locked=True)
        taken: builtins.list[Delivery] = []
        per: Counter[str] = Counter()
        for r in self.conn.execute(q):
            if per[r.webhook_id] < per_hook and len(taken) < limit:
                per[r.webhook_id] += 1
                taken.append(_delivery(r))
        if not taken:
            return []
        hooks = {h.id: h for h in map(_hook, self.conn.execute(
            select(t.webhooks).where(_W.id.in_({d.webhook_id for d in taken}))))}
        until = to_ms(now + lease)
        self.conn.execute(
            update(t.webhook_deliveries).where(_D.id.in_([d.id for d in taken])).values(next_attempt_at=until)
        )
        return [(d, hooks[d.webhook_id]) for d in taken if d.webhook_id in hooks]

    def save(self, d: Delivery) -> None:
        v = _delivery_values(d)
        self.conn.execute(update(t.webhook_deliveries).where(_D.id == v.pop("id")).values(**v))

    def stats(self, hook_ids: builtins.list[str]) -> dict[str, dict[str, int]]:
        """Deliveries per status, per webhook."""
        out: dict[str, dict[str, int]] = {h: {} for h in hook_ids}
        if hook_ids:
            q = (
                select(_D.webhook_id, _D.status, func.count())
                .where(_D.webhook_id.in_(hook_ids))
                .group_by(_D.webhook_id, _D.status)
            )
            for hook_id, status, n in self.conn.execute(q):
                out[hook_id][status] = int(n)
        return out
