"""Webhooks: what a registration and a delivery are, how deliveries are signed and checked, and the
retry schedule. Pure: the HTTP sending lives in ``adapters.webhook_sender``.

A delivery carries ``Truceline-Webhook-Signature: t=<unix seconds>,v1=<hex>`` where the hex is
HMAC-SHA256 under the webhook's secret of ``"<t>." + body`` (the scheme payment platforms use): the
receiver recomputes it, compares in constant time, and refuses timestamps outside its tolerance so a
captured delivery cannot be replayed later."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

SIGNATURE_HEADER = "Truceline-Webhook-Signature"
DELIVERY_HEADER = "Truceline-Webhook-Id"
EVENT_HEADER = "Truceline-Event"


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"  # gave up after the last attempt; can be replayed


class Format(StrEnum):
    """What a delivery's body is: the feed event as JSON, or (for hotline messages) the message as a
    CAP 1.2 alert, for alerting systems that take CAP."""

    json = "json"
    cap = "cap"


#: the events a CAP webhook can take: each is one message (an acknowledgement: the CAP Ack)
CAP_EVENT_TYPES = ("message", "message.overdue", "message.escalated", "message.acknowledged")


def cap_message_id(event_type: str, data: dict[str, object]) -> str | None:
    """The message a CAP delivery renders for a feed event: the message itself, the overdue or
    escalated one, or the acknowledgement."""
    inner = data.get("ack" if event_type == "message.acknowledged" else "message", data)
    found = inner.get("id") if isinstance(inner, dict) else None
    return found if isinstance(found, str) else None


@dataclass
class Webhook:
    id: str
    party_id: str
    url: str
    secret: str
    event_types: list[str]  # empty: every event
    active: bool
    created_at: datetime
    format: Format = Format.json


@dataclass
class Delivery:
    id: str
    webhook_id: str
    party_id: str
    event_seq: int
    event_type: str
    body: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None = None
    replay_of: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What one attempt to deliver came to."""

    delivery_id: str
    ok: bool
    status_code: int | None
    error: str | None


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance_s: int = 300) -> bool:
    """Check a ``Truceline-Webhook-Signature`` header: any ``v1`` matches and ``t`` is recent."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k.strip() == "t"]
    macs = [v.strip() for k, v in parts if k.strip() == "v1"]
    stamp = stamps[0].strip() if len(stamps) == 1 else ""
    if not macs or not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 18):  # int() takes what this refuses
        return False
    ts = int(stamp)
    if abs(now - ts) > tolerance_s:
        return False
    expected = signature(secret, ts, body).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, m) for m in macs)


def backoff_seconds(attempts: int, *, base: float, cap: float) -> float:
    """Wait before the next try after ``attempts`` failures: base, 2·base, 4·base, … up to ``cap``."""
    return float(min(cap, base * 2 ** max(0, attempts - 1)))


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot receive deliveries, or None."""
    if len(url) > 2000:
        return "must be at most 2,000 characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as e:
        return f"is not a valid URL ({e})"
    if parts.scheme not in ("http", "https"):
        return "must be an http or https URL"
    if not parts.hostname:
        return "must name a host"
    if parts.username or parts.password:
        return "must not carry credentials; the signature authenticates deliveries"
    return None
