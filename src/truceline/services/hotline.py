"""The hotline's use cases: threads, messages with acknowledgement deadlines, acknowledgements,
escalation of what goes unanswered, and the conflict announcements. Every step is in the audit log and
on the live feed of the parties it concerns."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from truceline.adapters.hotline_store import FeedEvent
from truceline.domain import cap
from truceline.domain.agreements import standing
from truceline.domain.errors import FieldError, Forbidden, InvalidInput, NotFound, StateConflict
from truceline.domain.hotline import (
    CONFLICT_ALERT,
    UNACKNOWLEDGED,
    Addressee,
    Certainty,
    HotlinePolicy,
    Message,
    MsgType,
    ReceiptState,
    Severity,
    Thread,
    Urgency,
    check_receipt_transition,
    contacts_for_step,
    starts_in,
    thread_key,
)
from truceline.domain.ids import new_id
from truceline.domain.model import Conflict, Party, Region, Role
from truceline.domain.volumes import format_time
from truceline.domain.zone_news import ZONE_EVENT_TYPES
from truceline.services import audit
from truceline.services.access import require
from truceline.services.unit_of_work import UnitOfWork

SYSTEM_NAME = "Truceline"

#: Live-feed event types (also what a webhook may subscribe to): the hotline's, and a zone's negotiation.
EVENT_TYPES = ("message", "message.acknowledged", "message.overdue", "message.escalated", *ZONE_EVENT_TYPES)

RULE_TITLES = {
    "zone_rule": "Zone rule",
    "overlap": "Overlap",
    "separation": "Loss of separation",
    "incursion": "Zone incursion",
}


# --- what parties read ----------------------------------------------------------------------------
def _region_json(r: Region) -> dict[str, Any]:
    def alt(m: float) -> dict[str, Any]:
        return {"value": round(m, 3), "reference": "W84", "units": "M"}

    return {
        "geometry": r.geojson,
        "time_start": format_time(r.window.start),
        "time_end": format_time(r.window.end),
        "altitude_lower": alt(r.altitude.lower),
        "altitude_upper": alt(r.altitude.upper),
    }


def _party_json(party_id: str | None, names: dict[str, str]) -> dict[str, Any]:
    if party_id is None:
        return {"id": None, "name": SYSTEM_NAME}
    return {"id": party_id, "name": names.get(party_id)}


def message_json(m: Message, names: dict[str, str]) -> dict[str, Any]:
    """A message as parties read it: over the API, on the live feed and in webhook deliveries."""
    return {
        "id": m.id,
        "thread_id": m.thread_id,
        "sender": _party_json(m.sender_id, names),
        "sent": format_time(m.created_at),
        "msgType": m.msg_type.value,
        "severity": m.severity.value,
        "urgency": m.urgency.value,
        "certainty": m.certainty.value,
        "headline": m.headline,
        "description": m.description,
        "references": m.references,
        "conflict_id": m.conflict_id,
        "activity_ids": m.activity_ids,
        "zone_ids": m.zone_ids,
        "regions": [_region_json(r) for r in m.regions],
        "addresses": [
            {
                "party": _party_json(a.party_id, names),
                "state": a.state.value,
                "deadline": format_time(a.deadline),
                "acknowledged_at": format_time(a.acked_at),
                "ack_message_id": a.ack_message_id,
                "escalation_step": a.step,
                "next_escalation_at": format_time(a.next_due),
            }
            for a in m.addressees
        ],
    }


def thread_json(th: Thread, names: dict[str, str], last: Message | None = None) -> dict[str, Any]:
    """A thread as the API shows it; ``last``, its latest message, in a listing."""
    out = {
        "id": th.id,
        "subject": th.subject,
        "members": [_party_json(p, names) for p in th.members],
        "automatic": th.key is not None,
        "created_by": _party_json(th.created_by, names),
        "created_at": format_time(th.created_at),
        "updated_at": format_time(th.updated_at),
    }
    if last is not None:
        out["last_message"] = {"id": last.id, "msgType": last.msg_type.value, "severity": last.severity.value,
                               "headline": last.headline, "sender": _party_json(last.sender_id, names),
                               "sent": format_time(last.created_at)}  # fmt: skip
    return out


def _names(uow: UnitOfWork, messages: Iterable[Message], extra: Iterable[str] = ()) -> dict[str, str]:
    ids = set(extra)
    for m in messages:
        if m.sender_id:
            ids.add(m.sender_id)
        ids.update(a.party_id for a in m.addressees)
    return uow.parties.names(ids)


def _post(uow: UnitOfWork, th: Thread, messages: Sequence[Message], names: dict[str, str], actor: Party | None) -> None:
    """Store messages in a thread, tell its members, and record them."""
    _post_many(uow, [(th, messages)], names, actor)


def _post_many(
    uow: UnitOfWork, posts: Sequence[tuple[Thread, Sequence[Message]]], names: dict[str, str], actor: Party | None
) -> None:
    """``_post`` for several threads at once: one statement each for the threads, messages and
    addressees, whatever the number of threads. Threads are touched (row-locked) first and in id
    order, so two writers never lock two threads in opposite orders and deadlock (PostgreSQL would
    abort one of them)."""
    posts = sorted(posts, key=lambda post: post[0].id)
    now = uow.clock()
    uow.hotline.touch([th.id for th, _ in posts], now)
    uow.hotline.add_messages([m for _, messages in posts for m in messages])
    for th, messages in posts:
        for m in messages:
            uow.feed.publish(th.members, "message", message_json(m, names), now)
            audit.record(
                uow,
                actor,
                "message.sent",
                "message",
                m.id,
                {
                    "thread_id": th.id,
                    "msgType": m.msg_type.value,
                    "severity": m.severity.value,
                    "headline": m.headline,
                    "references": m.references,
                    "conflict_id": m.conflict_id,
                    "to": [{"party_id": a.party_id, "deadline": format_time(a.deadline)} for a in m.addressees],
                },
                concerns=th.members,
            )


def _addressees(
    message_id: str, party_ids: Iterable[str], deadline: datetime, policy: HotlinePolicy
) -> list[Addressee]:
    return [
        Addressee(message_id, p, ReceiptState.awaiting, deadline, 0, policy.step_due(deadline, 0))
        for p in sorted(set(party_ids))
    ]


# --- conflicts on the hotline ---------------------------------------------------------------------
def announce(uow: UnitOfWork, policy: HotlinePolicy, opened: Sequence[Conflict], closed: Sequence[Conflict]) -> None:
    """Each new conflict opens (or joins) the thread between the parties it concerns with an Alert
    carrying its reason and region; each closed one posts an Update there that stands the Alert down."""
    if not opened and not closed:
        return
    now = uow.clock()
    names = uow.parties.names({p for c in [*opened, *closed] for p in c.party_ids})
    threads = uow.hotline.threads_by_key(thread_key(c.party_ids) for c in opened)
    posts: dict[str, tuple[Thread, list[Message]]] = {}
    for c in opened:
        key = thread_key(c.party_ids)
        th = threads.get(key)
        if th is None:
            members = sorted(set(c.party_ids))
            subject = "Deconfliction: " + " / ".join(names.get(p, p) for p in members)
            th = uow.hotline.add_thread(Thread(new_id(), subject[:300], members, None, now, now, key))
            threads[key] = th
        severity, urgency, certainty = CONFLICT_ALERT.get(
            c.rule.value, (Severity.Moderate, Urgency.Expected, Certainty.Likely)
        )
        mid = new_id()
        deadline = policy.deadline(now, severity=severity, rule=c.rule.value)
        m = Message(
            id=mid,
            thread_id=th.id,
            sender_id=None,
            msg_type=MsgType.Alert,
            severity=severity,
            urgency=urgency,
            certainty=certainty,
            headline=f"{RULE_TITLES.get(c.rule.value, c.rule.value)} conflict: {c.reason}"[:300],
            description=c.reason,
            created_at=now,
            conflict_id=c.id,
            activity_ids=c.activity_ids,
            zone_ids=[c.zone_id] if c.zone_id else [],
            regions=list(c.regions),
            addressees=_addressees(mid, c.party_ids, deadline, policy),
        )
        posts.setdefault(th.id, (th, []))[1].append(m)
    alerts = uow.hotline.alerts_for_conflicts([c.id for c in closed]) if closed else {}
    thread_ids = {m.thread_id for ms in alerts.values() for m in ms}
    by_id = {th.id: th for th in threads.values()}
    for tid in thread_ids - set(by_id):
        th = uow.hotline.get_thread(tid)
        if th is not None:
            by_id[tid] = th
    superseded: list[str] = []
    for c in closed:
        for alert in alerts.get(c.id, []):
            th = by_id.get(alert.thread_id)
            if th is None:
                continue
            mid = new_id()
            deadline = policy.deadline(now, severity=Severity.Minor)
            m = Message(
                id=mid,
                thread_id=th.id,
                sender_id=None,
                msg_type=MsgType.Update,
                severity=Severity.Minor,
                urgency=Urgency.Past,
                certainty=Certainty.Observed,
                headline=f"Conflict closed: {c.closed_reason or 'it no longer holds'}"[:300],
                description=f"{c.reason} — closed: {c.closed_reason or 'it no longer holds'}",
                created_at=now,
                references=[alert.id],
                conflict_id=c.id,
                activity_ids=c.activity_ids,
                zone_ids=[c.zone_id] if c.zone_id else [],
                addressees=_addressees(mid, c.party_ids, deadline, policy),
            )
            superseded.append(alert.id)
            posts.setdefault(th.id, (th, []))[1].append(m)
    if superseded:
        uow.hotline.supersede(superseded)
    _post_many(uow, list(posts.values()), names, None)


def _announced_in(uow: UnitOfWork, alerts: Sequence[Message]) -> Thread | None:
    """The thread where a conflict was announced: its latest Alert's."""
    return uow.hotline.get_thread(alerts[-1].thread_id) if alerts else None


def tell_about_conflict(uow: UnitOfWork, policy: HotlinePolicy, caller: Party, c: Conflict, headline: str,
                        description: str) -> None:  # fmt: skip
    """A party's word on a conflict (it agrees to it, or no longer does), posted as an Update in the
    thread where the conflict was announced, for the other parties concerned to acknowledge."""
    alerts = uow.hotline.alerts_for_conflicts([c.id]).get(c.id, [])
    th = _announced_in(uow, alerts)
    if th is None:  # announced before threads were kept per conflict, or its thread is gone
        th = uow.hotline.threads_by_key([thread_key(c.party_ids)]).get(thread_key(c.party_ids))
    if th is None:
        return
    out = Outgoing(
        MsgType.Update, Severity.Minor, Urgency.Past, Certainty.Observed, headline[:300], description,
        addresses=[p for p in c.party_ids if p != caller.id and p in th.members],
        references=[alerts[-1].id] if alerts else [], conflict_id=c.id, activity_ids=c.activity_ids,
        zone_ids=[c.zone_id] if c.zone_id else [],
    )  # fmt: skip
    m = _compose(uow, policy, caller, th, out)
    _post(uow, th, [m], _names(uow, [m]), caller)


def tell_agreements_lapsed(
    uow: UnitOfWork, policy: HotlinePolicy, lapsed: Sequence[tuple[Conflict, list[str]]]
) -> None:
    """A conflict agreed to has changed (a plan or a zone moved): the parties whose agreement no
    longer holds are told, in its thread, to agree again if it is still handled."""
    if not lapsed:
        return
    now = uow.clock()
    alerts = uow.hotline.alerts_for_conflicts([c.id for c, _ in lapsed])
    names = uow.parties.names({p for c, _ in lapsed for p in c.party_ids})
    posts: dict[str, tuple[Thread, list[Message]]] = {}
    for c, parties in lapsed:
        found = alerts.get(c.id, [])
        th = _announced_in(uow, found)
        if th is None:
            continue
        who = ", ".join(names.get(p, p) for p in parties)
        m = _conflict_update(
            policy, th, c, found[-1], now, parties, (Severity.Moderate, Urgency.Expected, Certainty.Observed),
            f"Conflict changed: the agreement of {who} no longer holds",
            f"{c.reason}\nThe conflict changed after {who} agreed to it: agree again if it is still handled (it is "
            "no longer coordinated).",
        )  # fmt: skip
        posts.setdefault(th.id, (th, []))[1].append(m)
    _post_many(uow, list(posts.values()), names, None)


def _conflict_update(
    policy: HotlinePolicy, th: Thread, c: Conflict, alert: Message, now: datetime, to: Sequence[str],
    cap_codes: tuple[Severity, Urgency, Certainty], headline: str, description: str,
) -> Message:  # fmt: skip
    """Truceline's Update on a conflict, in the thread of the ``alert`` that announced it, for ``to``
    to acknowledge, drawing where it happens."""
    mid = new_id()
    severity, urgency, certainty = cap_codes
    return Message(
        id=mid, thread_id=th.id, sender_id=None, msg_type=MsgType.Update, severity=severity, urgency=urgency,
        certainty=certainty, headline=headline[:300], description=description, created_at=now,
        references=[alert.id], conflict_id=c.id, activity_ids=c.activity_ids,
        zone_ids=[c.zone_id] if c.zone_id else [], regions=list(c.regions),
        addressees=_addressees(mid, to, policy.deadline(now, severity=severity), policy),
    )  # fmt: skip


#: the reminders of conflicts about to begin run in one process at a time
REMINDER_LOCK = 0x7472_7265_6D69  # "tremi"


def remind_starting(uow: UnitOfWork, policy: HotlinePolicy, *, limit: int = 200) -> int:
    """Recall each conflict between plans that begins within ``policy.remind_before_s`` and is not
    coordinated: an Update in its thread, for the parties whose agreement does not hold to
    acknowledge. Once per conflict and start (moved to another start, it is recalled again). None for
    a conflict announced or changed within that time, whose parties were just told, nor for one
    coordinated. Returns how many conflicts were looked at."""
    lead = timedelta(seconds=policy.remind_before_s)
    if not lead:
        return 0
    with uow:
        if not uow.try_lock(REMINDER_LOCK):  # another process is on it this round
            return 0
        now = uow.clock()
        due = uow.conflicts.starting(now, now + lead, told_ms=int(lead.total_seconds() * 1000), limit=limit)
        if not due:
            return 0
        agreements = uow.conflicts.agreements([c.id for c in due])
        alerts = uow.hotline.alerts_for_conflicts([c.id for c in due])
        names = uow.parties.names({p for c in due for p in c.party_ids})
        posts: dict[str, tuple[Thread, list[Message]]] = {}
        threads: dict[str, Thread | None] = {}
        for c in due:
            stand = standing(c, agreements.get(c.id, []))
            holding = {a.party_id for a, current in stand.agreements if current}
            waiting = sorted(set(c.party_ids) - holding)
            found = alerts.get(c.id, [])
            if stand.coordinated or not waiting or not found:
                continue
            tid = found[-1].thread_id
            if tid not in threads:
                threads[tid] = uow.hotline.get_thread(tid)
            th = threads[tid]
            if th is None:
                continue
            start = min((r.window.start for r in c.regions), default=now)
            agreed = ", ".join(names.get(p, p) for p in sorted(holding))
            only = f" (agreed by {agreed} only)" if agreed else ""
            m = _conflict_update(
                policy, th, c, found[-1], now, waiting, (Severity.Severe, Urgency.Immediate, Certainty.Likely),
                f"Not coordinated, begins {starts_in(start - now)}: {c.reason}",
                f"{c.reason}\nIt begins at {format_time(start)} and is not coordinated{only}: settle it here and "
                "agree to it, or change the plan.",
            )  # fmt: skip
            posts.setdefault(th.id, (th, []))[1].append(m)
        # coordinated ones too: a party withdrawing its agreement later says so in the thread itself
        uow.conflicts.mark_reminded([c.id for c in due])
        if posts:
            _post_many(uow, list(posts.values()), names, None)
        uow.commit()
    return len(due)


# --- threads and messages by hand -----------------------------------------------------------------
@dataclass
class Outgoing:
    """A message a party sends (CAP 1.2 fields)."""

    msg_type: MsgType
    severity: Severity
    urgency: Urgency
    certainty: Certainty
    headline: str
    description: str = ""
    addresses: list[str] | None = None  # None: every other member of the thread
    references: list[str] = field(default_factory=list)
    conflict_id: str | None = None
    activity_ids: list[str] = field(default_factory=list)
    zone_ids: list[str] = field(default_factory=list)
    ack_within_s: float | None = None


def _thread_for(uow: UnitOfWork, caller: Party, thread_id: str) -> Thread:
    th = uow.hotline.get_thread(thread_id)
    if th is None or caller.id not in th.members:
        raise NotFound(f"no thread {thread_id} that your party is in")
    return th


def _party_ids(uow: UnitOfWork, refs: Sequence[str]) -> list[str]:
    """Party ids for ``refs``, each an id or a name (as for zones); an unknown one is left as it is."""
    known = uow.parties.names(refs)
    out = []
    for ref in refs:
        party = None if ref in known else uow.parties.by_name(ref)
        out.append(party.id if party else ref)
    return out


def _check_refs(uow: UnitOfWork, caller: Party, th: Thread, out: Outgoing, base: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if out.msg_type is MsgType.Ack:
        errors.append(FieldError(f"{base}/msgType", "acknowledge a message with POST /v1/messages/{id}/ack"))
    members = set(th.members)
    if out.addresses:  # members may be addressed by name too
        by_name = {name: pid for pid, name in uow.parties.names(th.members).items()}
        out.addresses = [p if p in members else by_name.get(p, p) for p in out.addresses]
    for i, p in enumerate(out.addresses or []):
        if p not in members:
            errors.append(FieldError(f"{base}/addresses/{i}", f"party {p} is not in this thread"))
        elif p == caller.id:
            errors.append(FieldError(f"{base}/addresses/{i}", "you cannot address a message to your own party"))
    if out.addresses is not None and not out.addresses:
        errors.append(FieldError(f"{base}/addresses", "name at least one party, or leave it out to address all"))
    refs = uow.hotline.get_messages(out.references) if out.references else {}
    for i, r in enumerate(out.references):
        ref = refs.get(r)
        if ref is None or ref.thread_id != th.id:
            errors.append(FieldError(f"{base}/references/{i}", f"no message {r} in this thread"))
        elif out.msg_type is MsgType.Cancel and ref.sender_id != caller.id:
            errors.append(FieldError(f"{base}/references/{i}", "a Cancel can only cancel your own party's messages"))
    if out.msg_type in (MsgType.Update, MsgType.Cancel) and not out.references:
        errors.append(FieldError(f"{base}/references", f"an {out.msg_type} names the message(s) it updates or cancels"))
    if out.conflict_id is not None:
        c = uow.conflicts.get(out.conflict_id)
        if c is None or caller.id not in c.party_ids:
            errors.append(FieldError(f"{base}/conflict_id", f"no conflict {out.conflict_id} that concerns you"))
    for i, a in enumerate(out.activity_ids):
        if not _may_see_activity(uow, caller, a):
            errors.append(FieldError(f"{base}/activity_ids/{i}", f"no activity {a} that you may see"))
    for i, z in enumerate(out.zone_ids):
        if uow.zones.get(z) is None:
            errors.append(FieldError(f"{base}/zone_ids/{i}", f"no zone {z}"))
    return errors


def _may_see_activity(uow: UnitOfWork, caller: Party, activity_id: str) -> bool:
    a = uow.activities.get(activity_id)
    if a is None:
        return False
    if a.party_id == caller.id:
        return True
    shared = uow.conflicts.get_many(uow.conflicts.open_ids_for_activity(activity_id))
    return any(caller.id in c.party_ids for c in shared.values())


def _compose(uow: UnitOfWork, policy: HotlinePolicy, caller: Party, th: Thread, out: Outgoing) -> Message:
    now = uow.clock()
    to = out.addresses if out.addresses is not None else [p for p in th.members if p != caller.id]
    deadline = policy.deadline(now, severity=out.severity, within_s=out.ack_within_s)
    mid = new_id()
    return Message(
        id=mid,
        thread_id=th.id,
        sender_id=caller.id,
        msg_type=out.msg_type,
        severity=out.severity,
        urgency=out.urgency,
        certainty=out.certainty,
        headline=out.headline,
        description=out.description,
        created_at=now,
        references=list(dict.fromkeys(out.references)),
        conflict_id=out.conflict_id,
        activity_ids=list(dict.fromkeys(out.activity_ids)),
        zone_ids=list(dict.fromkeys(out.zone_ids)),
        addressees=_addressees(mid, to, deadline, policy),
    )


def _supersede_own(uow: UnitOfWork, caller: Party, m: Message) -> None:
    """An Update or Cancel replaces the sender's own earlier messages: their acks stop escalating."""
    if m.msg_type in (MsgType.Update, MsgType.Cancel) and m.references:
        own = [r.id for r in uow.hotline.get_messages(m.references).values() if r.sender_id == caller.id]
        if own:
            uow.hotline.supersede(own)


def open_thread(
    uow: UnitOfWork, policy: HotlinePolicy, caller: Party, *, subject: str, parties: Sequence[str],
    first: Outgoing | None,
) -> tuple[Thread, Message | None, dict[str, str]]:
    require(caller, "hotline.send")
    with uow:
        ids = _party_ids(uow, parties)
        others = [p for p in dict.fromkeys(ids) if p != caller.id]
        known = uow.parties.names(others)
        errors = [FieldError(f"/parties/{i}", f"no party {parties[i]}") for i, p in enumerate(ids) if p not in known
                  and p != caller.id]
        if not others and not errors:
            errors.append(FieldError("/parties", "name at least one other party"))
        now = uow.clock()
        th = Thread(new_id(), subject, [caller.id, *others], caller.id, now, now)
        if first is not None:
            errors += _check_refs(uow, caller, th, first, "/message")
        if errors:
            raise InvalidInput(errors[0].reason, errors=errors)
        uow.hotline.add_thread(th)
        audit.record(uow, caller, "thread.opened", "thread", th.id, {"subject": subject, "members": th.members},
                     concerns=th.members)
        m = _compose(uow, policy, caller, th, first) if first is not None else None
        names = {**known, caller.id: caller.name}
        if m is not None:
            _post(uow, th, [m], names, caller)
        uow.commit()
    return th, m, names


def send(
    uow: UnitOfWork, policy: HotlinePolicy, caller: Party, thread_id: str, out: Outgoing, *, base: str = ""
) -> tuple[Message, dict[str, str]]:
    """Post ``out`` in a thread; ``base`` prefixes the pointers of what is refused in it."""
    require(caller, "hotline.send")
    with uow:
        th = _thread_for(uow, caller, thread_id)
        if caller.id not in th.members:
            raise Forbidden("only the thread's members may post in it")
        errors = _check_refs(uow, caller, th, out, base)
        if errors:
            raise InvalidInput(errors[0].reason, errors=errors)
        m = _compose(uow, policy, caller, th, out)
        _supersede_own(uow, caller, m)
        names = _names(uow, [m])
        _post(uow, th, [m], names, caller)
        uow.commit()
    return m, names


def acknowledge(uow: UnitOfWork, caller: Party, message_id: str, note: str = "") -> tuple[Message, dict[str, str]]:
    """The addressed party acknowledges, once. Returns the message as it now stands."""
    require(caller, "hotline.ack")
    with uow:
        m = uow.hotline.get_message(message_id)
        th = uow.hotline.get_thread(m.thread_id) if m else None
        if m is None or th is None or caller.id not in th.members:
            raise NotFound(f"no message {message_id} in a thread your party is in")
        a = uow.hotline.addressee(message_id, caller.id, for_update=True)
        if a is None:
            to = ", ".join(x.party_id for x in m.addressees) or "nobody"
            raise Forbidden(f"this message is not addressed to your party; only its addressees ({to}) acknowledge it")
        if a.state is ReceiptState.acknowledged:
            raise StateConflict(
                f"your party already acknowledged this message at {format_time(a.acked_at)}",
                extra={"acknowledged_at": format_time(a.acked_at), "ack_message_id": a.ack_message_id},
            )
        names = _acknowledge_in(uow, caller, m, th, a, note)
        uow.commit()
    return m, names


def acknowledge_conflict_alerts(uow: UnitOfWork, caller: Party, conflict_id: str, note: str) -> None:
    """The caller's copies of a conflict's Alerts that still wait, acknowledged with ``note`` (in the
    current transaction): a party that agrees to the conflict has seen it."""
    for m in uow.hotline.alerts_for_conflicts([conflict_id]).get(conflict_id, []):
        a = uow.hotline.addressee(m.id, caller.id, for_update=True)
        if a is None or a.state is ReceiptState.acknowledged:
            continue
        if (th := uow.hotline.get_thread(m.thread_id)) is not None:
            _acknowledge_in(uow, caller, m, th, a, note)


def _acknowledge_in(uow: UnitOfWork, caller: Party, m: Message, th: Thread, a: Addressee, note: str) -> dict[str, str]:
    """Acknowledge ``caller``'s copy ``a`` of ``m`` in the current transaction; the names to show."""
    check_receipt_transition(a.state, ReceiptState.acknowledged)
    now = uow.clock()
    ack = Message(
        id=new_id(),
        thread_id=th.id,
        sender_id=caller.id,
        msg_type=MsgType.Ack,
        severity=m.severity,
        urgency=m.urgency,
        certainty=m.certainty,
        headline=f"Acknowledged: {m.headline}"[:300],
        description=note,
        created_at=now,
        references=[m.id],
        conflict_id=m.conflict_id,
    )
    was = a.state
    a.state, a.acked_at, a.ack_message_id, a.next_due = ReceiptState.acknowledged, now, ack.id, None
    uow.hotline.add_messages([ack])
    uow.hotline.save_addressees([a])
    uow.hotline.touch([th.id], now)
    m.addressees = [a if x.party_id == caller.id else x for x in m.addressees]
    names = _names(uow, [m], th.members)
    payload = {"message": message_json(m, names), "ack": message_json(ack, names),
               "party": _party_json(caller.id, names), "acknowledged_at": format_time(now)}
    uow.feed.publish(th.members, "message.acknowledged", payload, now)
    late = now > a.deadline
    audit.record(
        uow,
        caller,
        "message.acknowledged",
        "message",
        m.id,
        {"ack_message_id": ack.id, "was": was.value, "late": late, "deadline": format_time(a.deadline),
         "note": note},
        concerns=th.members,
    )
    return names


#: scheduled work runs in one process at a time (PostgreSQL advisory locks; SQLite's writer lock)
ESCALATION_LOCK = 0x7472_6573_6361  # "tresca"


def escalate_due(uow: UnitOfWork, policy: HotlinePolicy, *, limit: int = 200) -> int:
    """Fire every escalation step whose time has come: the message is marked overdue and re-sent to
    its addressee, and the addressee's escalation contacts (a widening circle, step by step) join the
    thread and are told. Steps are stored; each fires once, even with several processes."""
    with uow:
        if not uow.try_lock(ESCALATION_LOCK):  # another process is on it this round
            return 0
        now = uow.clock()
        due = uow.hotline.due(now, limit=limit)
        if not due:
            return 0
        messages = uow.hotline.get_messages([a.message_id for a in due])
        contacts = uow.hotline.contacts({a.party_id for a in due})
        names = _names(uow, messages.values(), [c for cs in contacts.values() for c in cs])
        threads: dict[str, Thread] = {}
        for a in due:
            m = messages[a.message_id]
            th = threads.get(m.thread_id) or uow.hotline.get_thread(m.thread_id)
            assert th is not None
            threads[th.id] = th
            check_receipt_transition(a.state, ReceiptState.overdue)
            step = a.step
            informed = [c for c in contacts_for_step(contacts.get(a.party_id, []), step) if c != a.party_id]
            joined = uow.hotline.add_members(th.id, informed, "escalation", now)
            th.members += joined
            a.state, a.step, a.next_due = ReceiptState.overdue, step + 1, policy.step_due(a.deadline, step + 1)
            m.addressees = [a if x.party_id == a.party_id else x for x in m.addressees]
            payload = {
                "message": message_json(m, names),
                "party": _party_json(a.party_id, names),
                "step": step + 1,
                "deadline": format_time(a.deadline),
                "informed": [_party_json(c, names) for c in informed],
            }
            uow.feed.publish([p for p in th.members if p not in informed], "message.overdue", payload, now)
            if informed:
                uow.feed.publish(informed, "message.escalated", payload, now)
            audit.record(
                uow,
                None,
                "message.escalated",
                "message",
                m.id,
                {"party_id": a.party_id, "step": step + 1, "deadline": format_time(a.deadline), "informed": informed},
                concerns=th.members,
            )
        uow.hotline.save_addressees(due)
        uow.hotline.touch(threads, now)
        uow.commit()
    return len(due)


# --- reading --------------------------------------------------------------------------------------
INBOX_STATES: dict[str, tuple[ReceiptState, ...]] = {
    "unacknowledged": tuple(sorted(UNACKNOWLEDGED)),
    "awaiting": (ReceiptState.awaiting,),
    "overdue": (ReceiptState.overdue,),
    "acknowledged": (ReceiptState.acknowledged,),
    "all": tuple(ReceiptState),
}


def inbox(
    uow: UnitOfWork, caller: Party, *, state: str, limit: int, offset: int
) -> tuple[list[Message], dict[str, str]]:
    """Messages addressed to your party, newest first."""
    require(caller, "hotline.read")
    with uow:
        items = uow.hotline.inbox(caller.id, INBOX_STATES[state], limit=limit, offset=offset)
        return items, _names(uow, items)


def summary(uow: UnitOfWork, caller: Party) -> dict[str, int]:
    """How many messages await your party's acknowledgement, and how many of them are overdue."""
    require(caller, "hotline.read")
    with uow:
        counts = uow.hotline.counts(caller.id)
        head = uow.feed.head(caller.id)
    return {"unacknowledged": sum(counts.values()), "overdue": counts.get(ReceiptState.overdue.value, 0),
            "last_event_id": head}


def threads(
    uow: UnitOfWork, caller: Party, *, limit: int, offset: int
) -> tuple[list[Thread], dict[str, Message], dict[str, str]]:
    """The threads your party is in, most recently active first, each with its latest message."""
    require(caller, "hotline.read")
    with uow:
        items = uow.hotline.threads_for(caller.id, limit=limit, offset=offset)
        last = uow.hotline.last_messages([th.id for th in items])
        senders = {m.sender_id for m in last.values() if m.sender_id}
        return items, last, uow.parties.names({p for th in items for p in th.members} | senders)


def thread(
    uow: UnitOfWork, caller: Party, thread_id: str, *, after: str | None, limit: int
) -> tuple[Thread, list[Message], dict[str, str]]:
    require(caller, "hotline.read")
    with uow:
        th = _thread_for(uow, caller, thread_id)
        items = uow.hotline.messages_in(th.id, after=after, limit=limit)
        return th, items, _names(uow, items, th.members)


def about_conflict(
    uow: UnitOfWork, caller: Party, conflict_id: str, *, limit: int
) -> tuple[list[Message], dict[str, str]]:
    """The hotline messages about a conflict that concerns your party, oldest first, in the threads
    your party is in."""
    require(caller, "hotline.read")
    with uow:
        c = uow.conflicts.get(conflict_id)
        if c is None or caller.id not in c.party_ids:
            raise NotFound(f"no conflict {conflict_id} that concerns you")
        items = uow.hotline.about_conflict(conflict_id, limit=limit)
        threads = {tid: uow.hotline.get_thread(tid) for tid in {m.thread_id for m in items}}
        items = [m for m in items if (th := threads[m.thread_id]) is not None and caller.id in th.members]
        return items, _names(uow, items)


def message(uow: UnitOfWork, caller: Party, message_id: str) -> tuple[Message, dict[str, str]]:
    require(caller, "hotline.read")
    with uow:
        m = uow.hotline.get_message(message_id)
        if m is None:
            raise NotFound(f"no message {message_id} in a thread your party is in")
        _thread_for(uow, caller, m.thread_id)
        return m, _names(uow, [m])


def send_cap(
    uow: UnitOfWork, policy: HotlinePolicy, caller: Party, thread_id: str, xml: bytes
) -> tuple[Message, dict[str, str]]:
    """Post a CAP 1.2 alert from a party's own alerting system in a thread, as a message: its
    addresses (party URNs, ids or names), references (to this thread's messages) and incident (a
    conflict of the party's) are checked as any message's are."""
    require(caller, "hotline.send")
    got = cap.parse(xml)
    out = Outgoing(
        msg_type=MsgType(got.msg_type),
        severity=Severity(got.severity),
        urgency=Urgency(got.urgency),
        certainty=Certainty(got.certainty),
        headline=got.headline,
        description=got.description,
        addresses=got.addresses,
        references=got.references,
        conflict_id=got.conflict_id,
    )
    return send(uow, policy, caller, thread_id, out, base="/alert")


def message_cap(uow: UnitOfWork, caller: Party, message_id: str) -> bytes:
    """A message your party can read, as a CAP 1.2 alert (XML)."""
    require(caller, "hotline.read")
    with uow:
        m = uow.hotline.get_message(message_id)
        if m is None:
            raise NotFound(f"no message {message_id} in a thread your party is in")
        _thread_for(uow, caller, m.thread_id)
        return cap_of(uow, m)


def cap_of(uow: UnitOfWork, m: Message) -> bytes:
    """``m`` as a CAP 1.2 alert, in the caller's transaction (which has checked who may read it)."""
    referenced = uow.hotline.get_messages(m.references) if m.references else {}
    conflict = uow.conflicts.get(m.conflict_id) if m.conflict_id else None
    names = _names(uow, [m, *referenced.values()])
    return cap.alert(m, names, referenced, rule=conflict.rule.value if conflict else None, system_name=SYSTEM_NAME)


#: the event that stands for feed events removed by retention before the reader got them
PRUNED = "feed.pruned"


def events(uow: UnitOfWork, caller: Party, *, after: int, limit: int = 500, first: bool = True) -> list[FeedEvent]:
    """Your party's live-feed events after ``after`` (the last id you saw), in order. If retention
    removed some of them first, a ``feed.pruned`` event stands in their place, numbered as the last one
    removed, so a reader knows, and resumes after it. ``first=False`` (a stream's later reads) skips
    the look-up that finds a gap no kept event follows: the stream's first read did it."""
    require(caller, "hotline.read")
    with uow:
        found = uow.feed.after(caller.id, after, limit=limit)
        # Numbers are consecutive (taken with the head, in the event's transaction): a jump is a gap.
        # Nothing kept after ``after``: the head says whether any were made (and removed) since.
        head = uow.feed.head(caller.id) if first and not found else after
        missed = found[0].seq - 1 if found else head
        if missed <= after:
            return found
        now = uow.clock()
    gap = {
        "after": after,
        "missed_through": missed,
        "summary": f"Events {after + 1}–{missed} of your feed were removed by retention before you read them. "
        "What they announced is still in your inbox, your conflicts, the zones and the audit log.",
    }
    return [FeedEvent(caller.id, missed, PRUNED, gap, now), *found][:limit]


# --- escalation contacts --------------------------------------------------------------------------
def contacts(uow: UnitOfWork, caller: Party, party_id: str) -> tuple[list[str], dict[str, str]]:
    require(caller, "hotline.read")
    if caller.id != party_id and caller.role is not Role.admin:
        raise Forbidden("only the party itself or an admin may see its escalation contacts")
    with uow:
        if uow.parties.get(party_id) is None:
            raise NotFound(f"no party {party_id}")
        ids = uow.hotline.contacts([party_id]).get(party_id, [])
        return ids, uow.parties.names(ids)


def set_contacts(
    uow: UnitOfWork, caller: Party, party_id: str, contact_ids: Sequence[str]
) -> tuple[list[str], dict[str, str]]:
    """Who is told, step by step, when this party leaves a message unacknowledged: in order, the
    first at the deadline, one more at each later step."""
    require(caller, "escalation.write")
    if caller.id != party_id and caller.role is not Role.admin:
        raise Forbidden("only the party's own officers or an admin may set its escalation contacts")
    with uow:
        if uow.parties.get(party_id) is None:
            raise NotFound(f"no party {party_id}")
        known = uow.parties.names(contact_ids)
        errors = []
        for i, c in enumerate(contact_ids):
            if c not in known:
                errors.append(FieldError(f"/contacts/{i}", f"no party {c}"))
            elif c == party_id:
                errors.append(FieldError(f"/contacts/{i}", "a party cannot be its own escalation contact"))
        if len(set(contact_ids)) != len(contact_ids):
            errors.append(FieldError("/contacts", "each contact may appear once"))
        if errors:
            raise InvalidInput(errors[0].reason, errors=errors)
        uow.hotline.set_contacts(party_id, list(contact_ids))
        audit.record(uow, caller, "party.escalation_contacts", "party", party_id, {"contacts": list(contact_ids)},
                     concerns=[party_id, *contact_ids])
        uow.commit()
    return list(contact_ids), known
