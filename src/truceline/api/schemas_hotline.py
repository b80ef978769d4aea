"""API shapes of the hotline and webhooks. Message fields keep CAP 1.2's names (``msgType``,
``severity``, ``urgency``, ``certainty``, ``headline``, ``description``, ``addresses``,
``references``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from truceline.api import body_docs
from truceline.api.schemas import ConflictRegion, PartyRef, Strict
from truceline.domain.hotline import Certainty, ReceiptState, Severity, Urgency
from truceline.domain.webhooks import CAP_EVENT_TYPES, DeliveryStatus
from truceline.services.hotline import EVENT_TYPES


class MessageCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [body_docs.MESSAGE]})

    msgType: Literal["Alert", "Update", "Cancel"] = Field(
        "Alert", description="CAP msgType. Update and Cancel name the messages they update or cancel in references."
    )
    severity: Severity = Severity.Moderate
    urgency: Urgency = Urgency.Expected
    certainty: Certainty = Certainty.Unknown
    headline: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=20_000)
    addresses: list[str] | None = Field(
        None, max_length=100, description="Parties (ids or names) who must acknowledge; default: every other member"
    )
    references: list[str] = Field(default_factory=list, max_length=100)
    conflict_id: str | None = Field(None, max_length=64)
    activity_ids: list[str] = Field(default_factory=list, max_length=100)
    zone_ids: list[str] = Field(default_factory=list, max_length=100)
    ack_within_s: float | None = Field(
        None, ge=10, le=7 * 24 * 3600, description="Acknowledgement deadline in seconds; default by severity"
    )


class ThreadCreate(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [body_docs.THREAD]})

    subject: str = Field(min_length=1, max_length=300)
    parties: list[str] = Field(min_length=1, max_length=100, description="The other parties (ids or names)")
    message: MessageCreate | None = None


class AckCreate(Strict):
    note: str = Field("", max_length=2000)


class SenderRef(BaseModel):
    id: str | None = Field(description="null: Truceline itself")
    name: str | None


class AddresseeRead(BaseModel):
    party: PartyRef
    state: ReceiptState
    deadline: str
    acknowledged_at: str | None
    ack_message_id: str | None
    escalation_step: int
    next_escalation_at: str | None


class MessageRead(BaseModel):
    id: str
    thread_id: str
    sender: SenderRef
    sent: str
    msgType: str
    severity: Severity
    urgency: Urgency
    certainty: Certainty
    headline: str
    description: str
    references: list[str]
    conflict_id: str | None
    activity_ids: list[str]
    zone_ids: list[str]
    regions: list[ConflictRegion]
    addresses: list[AddresseeRead]


class LastMessage(BaseModel):
    id: str
    msgType: str
    severity: str
    headline: str
    sender: SenderRef
    sent: str


class ThreadRead(BaseModel):
    id: str
    subject: str
    members: list[PartyRef]
    automatic: bool
    created_by: SenderRef
    created_at: str
    updated_at: str
    last_message: LastMessage | None = Field(None, description="the thread's latest message (in listings)")


class ThreadWithMessages(BaseModel):
    thread: ThreadRead
    messages: list[MessageRead]


class ThreadOpened(BaseModel):
    thread: ThreadRead
    message: MessageRead | None


class InboxSummary(BaseModel):
    unacknowledged: int
    overdue: int
    last_event_id: int = Field(description="The id of your party's latest live-feed event")


class EventRead(BaseModel):
    id: int
    type: str
    at: str
    data: dict[str, Any]


class EscalationContacts(Strict):
    contacts: list[str] = Field(max_length=20, description="Party ids, in the order they are told")


class EscalationContactsRead(BaseModel):
    party_id: str
    contacts: list[PartyRef]


class WebhookCreate(Strict):
    url: str = Field(min_length=1, max_length=2000)
    event_types: list[str] = Field(
        default_factory=list, max_length=20, description=f"Empty: every event. Types: {', '.join(EVENT_TYPES)}"
    )
    format: Literal["json", "cap"] = Field(
        "json",
        description="json: each feed event as JSON. cap: each hotline message as a CAP 1.2 alert "
        f"(application/cap+xml; event types {', '.join(CAP_EVENT_TYPES)}, all of them when none is named)",
    )


class WebhookRead(BaseModel):
    id: str
    url: str
    event_types: list[str]
    format: Literal["json", "cap"]
    active: bool
    created_at: str
    deliveries: dict[str, int] = Field(default_factory=dict, description="Deliveries by status")


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Shown once: verify the Truceline-Webhook-Signature header with it")


class DeliveryRead(BaseModel):
    id: str
    webhook_id: str
    event_id: int
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: str | None
    last_status_code: int | None
    last_error: str | None
    created_at: str
    delivered_at: str | None
    replay_of: str | None
    body: dict[str, Any]
