"""The hotline's pure rules: the receipt state table (every pair), deadlines, the escalation schedule,
thread keys, and webhook signatures and backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from truceline.domain.errors import StateConflict
from truceline.domain.hotline import (
    RECEIPT_TRANSITIONS,
    HotlinePolicy,
    ReceiptState,
    Severity,
    check_receipt_transition,
    contacts_for_step,
    thread_key,
)
from truceline.domain.webhooks import backoff_seconds, signature, url_problem, verify

R = ReceiptState
ALLOWED = {
    (R.awaiting, R.acknowledged),
    (R.awaiting, R.overdue),
    (R.awaiting, R.superseded),
    (R.overdue, R.acknowledged),
    (R.overdue, R.overdue),
    (R.overdue, R.superseded),
    (R.superseded, R.acknowledged),
}


@pytest.mark.parametrize("current", list(R))
@pytest.mark.parametrize("target", list(R))
def test_receipt_table_every_pair(current: ReceiptState, target: ReceiptState) -> None:
    assert set(RECEIPT_TRANSITIONS) == set(R)
    if (current, target) in ALLOWED:
        check_receipt_transition(current, target)
    else:
        with pytest.raises(StateConflict):
            check_receipt_transition(current, target)


def test_acknowledged_is_final() -> None:
    assert RECEIPT_TRANSITIONS[R.acknowledged] == frozenset()


NOW = datetime(2017, 7, 10, 12, tzinfo=UTC)


def test_deadlines_by_rule_severity_or_explicit() -> None:
    p = HotlinePolicy()
    assert p.deadline(NOW, severity=Severity.Severe, rule="overlap") == NOW + timedelta(minutes=30)
    assert p.deadline(NOW, severity=Severity.Moderate, rule="zone_rule") == NOW + timedelta(hours=2)
    assert p.deadline(NOW, severity=Severity.Extreme, rule="separation") == NOW + timedelta(minutes=2)
    assert p.deadline(NOW, severity=Severity.Extreme) == NOW + timedelta(minutes=2)
    assert p.deadline(NOW, severity=Severity.Minor) == NOW + timedelta(hours=2)
    assert p.deadline(NOW, severity=Severity.Minor, within_s=45) == NOW + timedelta(seconds=45)
    custom = HotlinePolicy(ack_by_rule={"overlap": 300.0})
    assert custom.deadline(NOW, severity=Severity.Severe, rule="overlap") == NOW + timedelta(minutes=5)


def test_escalation_schedule_and_widening_circle() -> None:
    p = HotlinePolicy(escalation_steps=(0.0, 600.0, 1800.0))
    assert p.step_due(NOW, 0) == NOW
    assert p.step_due(NOW, 1) == NOW + timedelta(minutes=10)
    assert p.step_due(NOW, 2) == NOW + timedelta(minutes=30)
    assert p.step_due(NOW, 3) is None
    assert contacts_for_step(["hq", "joint-centre"], 0) == ["hq"]
    assert contacts_for_step(["hq", "joint-centre"], 1) == ["hq", "joint-centre"]
    assert contacts_for_step(["hq", "joint-centre"], 5) == ["hq", "joint-centre"]
    assert contacts_for_step([], 2) == []


def test_thread_key_is_the_party_set() -> None:
    assert thread_key(["b", "a"]) == thread_key(["a", "b", "a"])
    assert thread_key(["a", "b"]) != thread_key(["a", "c"])
    assert len(thread_key([f"party-{i}" for i in range(50)])) == 64


def test_webhook_signature_verifies_and_refuses_tampering_and_staleness() -> None:
    body = b'{"id": 1, "type": "message"}'
    header = signature("whsec_x", 1_500_000_000, body)
    assert header.startswith("t=1500000000,v1=")
    assert verify("whsec_x", header, body, now=1_500_000_010)
    assert not verify("whsec_y", header, body, now=1_500_000_010)  # wrong secret
    assert not verify("whsec_x", header, body + b" ", now=1_500_000_010)  # body changed
    assert not verify("whsec_x", header, body, now=1_500_000_000 + 301)  # too old: a replay
    forged = header.replace("t=1500000000", "t=1500000300")
    assert not verify("whsec_x", forged, body, now=1_500_000_300)  # timestamp is signed too
    assert not verify("whsec_x", "garbage", body, now=1_500_000_000)
    # digits that int() refuses (a superscript, more than it converts) are a refusal, not an exception
    for stamp in ("1500000000²", "1" * 5000, "١٥٠٠٠٠٠٠٠٠"):
        assert not verify("whsec_x", header.replace("t=1500000000", f"t={stamp}"), body, now=1_500_000_000)


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff_seconds(n, base=2, cap=20) for n in range(1, 7)] == [2, 4, 8, 16, 20, 20]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hq.example.org/hooks/truceline", True),
        ("http://127.0.0.1:9000/x", True),
        ("ftp://example.org/x", False),
        ("https://", False),
        ("https://user:pw@example.org/", False),
        ("http://example.org:99999/", False),
        ("not a url", False),
    ],
)
def test_webhook_urls(url: str, ok: bool) -> None:
    assert (url_problem(url) is None) is ok
