"""Sending webhook deliveries over HTTP: signed, with a short timeout, several at once so that one slow
or failing endpoint never holds up the others."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx

from truceline.domain.cap import MEDIA_TYPE as CAP_MEDIA_TYPE
from truceline.domain.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    Delivery,
    Format,
    Outcome,
    Webhook,
    signature,
)


class HttpSender:
    def __init__(self, *, timeout_s: float = 5.0, concurrency: int = 8) -> None:
        self.timeout_s = timeout_s
        self.concurrency = concurrency

    def send(self, jobs: Sequence[tuple[Delivery, Webhook]], now_unix: int) -> list[Outcome]:
        if not jobs:
            return []
        with (
            httpx.Client(timeout=self.timeout_s, follow_redirects=False) as client,
            ThreadPoolExecutor(max_workers=min(self.concurrency, len(jobs))) as pool,
        ):
            return list(pool.map(lambda j: self._one(client, j[0], j[1], now_unix), jobs))

    @staticmethod
    def _one(client: httpx.Client, d: Delivery, hook: Webhook, now_unix: int) -> Outcome:
        body = d.body.encode()
        headers = {
            "Content-Type": CAP_MEDIA_TYPE if hook.format is Format.cap else "application/json",
            SIGNATURE_HEADER: signature(hook.secret, now_unix, body),
            DELIVERY_HEADER: d.id,
            EVENT_HEADER: d.event_type,
            "User-Agent": "Truceline-Webhooks/1",
        }
        try:
            r = client.post(hook.url, content=body, headers=headers)
        except httpx.HTTPError as e:
            return Outcome(d.id, False, None, f"{type(e).__name__}: {e}"[:500])
        if 200 <= r.status_code < 300:
            return Outcome(d.id, True, r.status_code, None)
        return Outcome(d.id, False, r.status_code, f"HTTP {r.status_code}: {r.text[:200]}")
