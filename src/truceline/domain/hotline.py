"""The hotline's vocabulary and rules: CAP 1.2 message fields, acknowledgement deadlines, the receipt
state table and the escalation schedule. Pure: no I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from truceline.domain.errors import StateConflict
from truceline.domain.model import Region


class MsgType(StrEnum):
    """CAP 1.2 ``msgType``. ``Ack`` is only ever made by acknowledging a message."""

    Alert = "Alert"
    Update = "Update"
    Cancel = "Cancel"
    Ack = "Ack"


class Severity(StrEnum):
    Extreme = "Extreme"
    Severe = "Severe"
    Moderate = "Moderate"
    Minor = "Minor"
    Unknown = "Unknown"


class Urgency(StrEnum):
    Immediate = "Immediate"
    Expected = "Expected"
    Future = "Future"
    Past = "Past"
    Unknown = "Unknown"


class Certainty(StrEnum):
    Observed = "Observed"
    Likely = "Likely"
    Possible = "Possible"
    Unlikely = "Unlikely"
    Unknown = "Unknown"


class ReceiptState(StrEnum):
    """Where one addressed party stands with one message."""

    awaiting = "awaiting"  # delivered, not yet acknowledged, deadline not passed
    overdue = "overdue"  # the deadline passed unacknowledged: re-sent and escalated
    superseded = "superseded"  # an Update or Cancel from the sender replaced it: no more escalation
    acknowledged = "acknowledged"  # final


R = ReceiptState

RECEIPT_TRANSITIONS: Mapping[ReceiptState, frozenset[ReceiptState]] = {
    R.awaiting: frozenset({R.acknowledged, R.overdue, R.superseded}),
    R.overdue: frozenset({R.acknowledged, R.overdue, R.superseded}),  # overdue → overdue: the next step
    R.superseded: frozenset({R.acknowledged}),  # still acknowledgeable: receipt is worth recording
    R.acknowledged: frozenset(),
}

#: States that still ask the addressee for an acknowledgement.
UNACKNOWLEDGED = frozenset({R.awaiting, R.overdue, R.superseded})


def check_receipt_transition(current: ReceiptState, target: ReceiptState) -> None:
    if target not in RECEIPT_TRANSITIONS[current]:
        allowed = ", ".join(sorted(RECEIPT_TRANSITIONS[current])) or "none"
        raise StateConflict(
            f"a receipt cannot move from {current} to {target}; allowed from here: {allowed}",
            extra={"current": str(current)},
        )


#: How a conflict is announced on the hotline: tactical findings are the most pressing.
#: Keyed by rule name: the tactical rules (``separation``, ``incursion``) come with live tracks.
CONFLICT_ALERT: Mapping[str, tuple[Severity, Urgency, Certainty]] = {
    "separation": (Severity.Extreme, Urgency.Immediate, Certainty.Likely),
    "incursion": (Severity.Extreme, Urgency.Immediate, Certainty.Likely),
    "overlap": (Severity.Severe, Urgency.Expected, Certainty.Likely),
    "zone_rule": (Severity.Moderate, Urgency.Expected, Certainty.Likely),
}


@dataclass(frozen=True)
class HotlinePolicy:
    """Acknowledgement deadlines and the escalation schedule (from settings)."""

    #: default deadline by severity, for messages people send
    ack_by_severity: Mapping[str, float] = field(
        default_factory=lambda: {"Extreme": 120.0, "Severe": 600.0, "Moderate": 1800.0, "Minor": 7200.0,
                                 "Unknown": 1800.0}
    )
    #: deadline of the alert a conflict opens, by its rule
    ack_by_rule: Mapping[str, float] = field(
        default_factory=lambda: {"separation": 120.0, "incursion": 120.0, "overlap": 1800.0, "zone_rule": 7200.0}
    )
    #: seconds after the deadline at which each escalation step fires; step i informs the first i+1
    #: escalation contacts of the addressed party (all of them from the last step on)
    escalation_steps: Sequence[float] = (0.0, 600.0, 1800.0)
    #: a conflict between plans not coordinated this long before it begins is recalled to its
    #: parties (0: never)
    remind_before_s: float = 3600.0

    def deadline(self, now: datetime, *, severity: Severity, rule: str | None = None,
                 within_s: float | None = None) -> datetime:
        if within_s is not None:
            seconds = within_s
        elif rule is not None:
            seconds = self.ack_by_rule.get(rule, self.ack_by_severity.get(severity.value, 1800.0))
        else:
            seconds = self.ack_by_severity.get(severity.value, 1800.0)
        return now + timedelta(seconds=seconds)

    def step_due(self, deadline: datetime, step: int) -> datetime | None:
        """When escalation step ``step`` (0-based) fires, or None once every step has fired."""
        if step >= len(self.escalation_steps):
            return None
        return deadline + timedelta(seconds=self.escalation_steps[step])


def contacts_for_step(contacts: Sequence[str], step: int) -> list[str]:
    """The escalation contacts informed at ``step``: the circle widens by one contact per step."""
    return list(contacts[: step + 1])


@dataclass
class Addressee:
    """One addressed party's standing with one message."""

    message_id: str
    party_id: str
    state: ReceiptState
    deadline: datetime
    step: int = 0
    next_due: datetime | None = None
    acked_at: datetime | None = None
    ack_message_id: str | None = None


@dataclass
class Message:
    id: str
    thread_id: str
    sender_id: str | None  # None: Truceline itself (conflict alerts and updates)
    msg_type: MsgType
    severity: Severity
    urgency: Urgency
    certainty: Certainty
    headline: str
    description: str
    created_at: datetime
    references: list[str] = field(default_factory=list)
    conflict_id: str | None = None
    activity_ids: list[str] = field(default_factory=list)
    zone_ids: list[str] = field(default_factory=list)
    #: the conflict's 4D regions, when the message announces one
    regions: list[Region] = field(default_factory=list)
    addressees: list[Addressee] = field(default_factory=list)


@dataclass
class Thread:
    id: str
    subject: str
    members: list[str]
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    #: the party set of an automatic thread: conflicts between the same parties join it
    key: str | None = None


def thread_key(party_ids: Sequence[str]) -> str:
    """The key of the automatic thread between exactly these parties (a digest: sets can be large)."""
    return hashlib.sha256(("parties:" + ",".join(sorted(set(party_ids)))).encode()).hexdigest()


def starts_in(d: timedelta) -> str:
    """"in 50 min", "in 1 h 5 min": how soon something begins, to the minute (rounded up)."""
    minutes = max(1, -(-int(d.total_seconds()) // 60))
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"in {minutes} min"
    return f"in {hours} h" + (f" {minutes} min" if minutes else "")
