"""The hotline's storage: threads, messages with their addressees, escalation contacts; and each
party's live feed (an outbox: events are written in the transaction of the change, then fanned out to
the party's webhooks)."""

from __future__ import annotations

import builtins
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from truceline.adapters import json_text
from truceline.adapters import tables as t
from truceline.adapters.db import is_sqlite
from truceline.adapters.hot_sql import read, write_many
from truceline.adapters.repositories import CHUNK, _chunks, _dt, from_ms, region_from, region_json
from truceline.domain.cells import to_ms
from truceline.domain.hotline import (
    UNACKNOWLEDGED,
    Addressee,
    Certainty,
    Message,
    MsgType,
    ReceiptState,
    Severity,
    Thread,
    Urgency,
)
from truceline.domain.ids import new_id
from truceline.domain.volumes import format_time
from truceline.domain.webhooks import DeliveryStatus

_A = t.message_addressees.c
_M = t.messages.c


_IDS: Any = bindparam("ids", expanding=True)
# Hot-path statements (every conflict announcement), built once so their compiled SQL is reused.
_MEMBERS_OF = (
    select(t.thread_members)
    .where(t.thread_members.c.thread_id.in_(_IDS))
    .order_by(t.thread_members.c.joined_at, t.thread_members.c.party_id)
)
_THREADS_BY_KEY = select(t.threads).where(t.threads.c.key.in_(bindparam("keys", expanding=True)))
_MEMBER_IDS = select(t.thread_members.c.party_id).where(t.thread_members.c.thread_id == bindparam("thread_id"))
_TOUCH_THREAD = update(t.threads).where(t.threads.c.id == bindparam("b_id")).values(updated_at=bindparam("at"))
_FEED_HEADS = (
    select(t.feed_heads.c.party_id, t.feed_heads.c.seq)
    .where(t.feed_heads.c.party_id.in_(_IDS))
    .order_by(t.feed_heads.c.party_id)
)
_FEED_HEADS_LOCKED = _FEED_HEADS.with_for_update()
_INSERT_MESSAGES = insert(t.messages)
_INSERT_ADDRESSEES = insert(t.message_addressees)
_INSERT_FEED_EVENTS = insert(t.feed_events)
_MOVE_FEED_HEAD = update(t.feed_heads).where(t.feed_heads.c.party_id == bindparam("p")).values(seq=bindparam("s"))
_ACTIVE_HOOKS = select(t.webhooks.c.id, t.webhooks.c.party_id, t.webhooks.c.event_types).where(
    t.webhooks.c.party_id.in_(_IDS), t.webhooks.c.active == 1
)


def _addressee(r: Any) -> Addressee:
    return Addressee(
        message_id=r.message_id,
        party_id=r.party_id,
        state=ReceiptState(r.state),
        deadline=_dt(r.deadline),
        step=r.step,
        next_due=from_ms(r.next_due),
        acked_at=from_ms(r.acked_at),
        ack_message_id=r.ack_message_id,
    )


def _addressee_values(a: Addressee) -> dict[str, Any]:
    return dict(
        message_id=a.message_id,
        party_id=a.party_id,
        state=a.state.value,
        deadline=to_ms(a.deadline),
        step=a.step,
        next_due=to_ms(a.next_due) if a.next_due else None,
        acked_at=to_ms(a.acked_at) if a.acked_at else None,
        ack_message_id=a.ack_message_id,
    )


def _message_values(m: Message) -> dict[str, Any]:
    return dict(
        id=m.id,
        thread_id=m.thread_id,
        sender_id=m.sender_id,
        msg_type=m.msg_type.value,
        severity=m.severity.value,
        urgency=m.urgency.value,
        certainty=m.certainty.value,
        headline=m.headline,
        description=m.description,
        refs=json_text.dumps(m.references),
        conflict_id=m.conflict_id,
        activity_ids=json_text.dumps(m.activity_ids),
        zone_ids=json_text.dumps(m.zone_ids),
        regions=json_text.dumps([region_json(r) for r in m.regions]),
        created_at=to_ms(m.created_at),
    )


def _message(r: Any) -> Message:
    return Message(
        id=r.id,
        thread_id=r.thread_id,
        sender_id=r.sender_id,
        msg_type=MsgType(r.msg_type),
        severity=Severity(r.severity),
        urgency=Urgency(r.urgency),
        certainty=Certainty(r.certainty),
        headline=r.headline,
        description=r.description,
        created_at=_dt(r.created_at),
        references=json.loads(r.refs),
        conflict_id=r.conflict_id,
        activity_ids=json.loads(r.activity_ids),
        zone_ids=json.loads(r.zone_ids),
        regions=[region_from(x) for x in json.loads(r.regions)],
    )


class HotlineRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- threads ---------------------------------------------------------------------------------
    def _threads(self, rows: Sequence[Any]) -> builtins.list[Thread]:
        ids = [r.id for r in rows]
        members: dict[str, builtins.list[str]] = defaultdict(builtins.list)
        for chunk in _chunks(ids):
            for m in read(self.conn, _MEMBERS_OF, {"ids": chunk}):
                members[m.thread_id].append(m.party_id)
        return [
            Thread(r.id, r.subject, members[r.id], r.created_by, _dt(r.created_at), _dt(r.updated_at), r.key)
            for r in rows
        ]

    def get_thread(self, thread_id: str) -> Thread | None:
        rows = self.conn.execute(select(t.threads).where(t.threads.c.id == thread_id)).all()
        return self._threads(rows)[0] if rows else None

    def threads_by_key(self, keys: Iterable[str]) -> dict[str, Thread]:
        keys = sorted(set(keys))
        rows: builtins.list[Any] = []
        for chunk in _chunks(keys):
            rows += read(self.conn, _THREADS_BY_KEY, {"keys": chunk})
        return {th.key: th for th in self._threads(rows) if th.key}

    def add_thread(self, th: Thread) -> Thread:
        """Store a new thread and return it. An automatic thread (one with a key) that another writer
        created meanwhile is returned instead: concurrent conflicts between the same parties, in
        different places, meet in one thread rather than failing on its key."""
        at = to_ms(th.created_at)
        values = dict(id=th.id, subject=th.subject, key=th.key, created_by=th.created_by, created_at=at, updated_at=at)
        if th.key is None:
            self.conn.execute(insert(t.threads), [values])
        else:
            ins = sqlite_insert if is_sqlite(self.conn.engine) else pg_insert
            # On PostgreSQL the insert waits for a writer that holds the same key, then does nothing.
            stmt = ins(t.threads).values(values).on_conflict_do_nothing(index_elements=["key"])
            if self.conn.execute(stmt.returning(t.threads.c.id)).first() is None:
                return self.threads_by_key([th.key])[th.key]
        self.add_members(th.id, th.members, "member", th.created_at)
        return th

    def add_members(self, thread_id: str, party_ids: Iterable[str], role: str, at: datetime) -> builtins.list[str]:
        """Add the parties not yet in the thread; returns those added."""
        have = {r.party_id for r in read(self.conn, _MEMBER_IDS, {"thread_id": thread_id})}
        new = [p for p in dict.fromkeys(party_ids) if p not in have]
        if new:
            self.conn.execute(
                insert(t.thread_members),
                [dict(thread_id=thread_id, party_id=p, role=role, joined_at=to_ms(at)) for p in new],
            )
        return new

    def touch(self, thread_ids: Iterable[str], at: datetime) -> None:
        ms = to_ms(at)
        write_many(self.conn, _TOUCH_THREAD, [{"b_id": i, "at": ms} for i in sorted(set(thread_ids))])

    def threads_for(self, party_id: str, *, limit: int, offset: int) -> builtins.list[Thread]:
        q = (
            select(t.threads)
            .join_from(t.threads, t.thread_members, t.thread_members.c.thread_id == t.threads.c.id)
            .where(t.thread_members.c.party_id == party_id)
            .order_by(t.threads.c.updated_at.desc(), t.threads.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return self._threads(self.conn.execute(q).all())

    def last_messages(self, thread_ids: Sequence[str]) -> dict[str, Message]:
        """Each thread's latest message (ids grow with time), through the (thread, id) index."""
        out: dict[str, Message] = {}
        for chunk in _chunks(list(thread_ids)):
            latest = select(func.max(_M.id)).where(_M.thread_id.in_(chunk)).group_by(_M.thread_id)
            for r in self.conn.execute(select(t.messages).where(_M.id.in_(latest))):
                out[r.thread_id] = _message(r)
        return out

    # --- messages --------------------------------------------------------------------------------
    def add_messages(self, messages: Sequence[Message]) -> None:
        if not messages:
            return
        write_many(self.conn, _INSERT_MESSAGES, [_message_values(m) for m in messages])
        write_many(self.conn, _INSERT_ADDRESSEES, [_addressee_values(a) for m in messages for a in m.addressees])

    def _with_addressees(self, messages: builtins.list[Message]) -> builtins.list[Message]:
        by_id = {m.id: m for m in messages}
        for chunk in _chunks(list(by_id)):
            for r in self.conn.execute(select(t.message_addressees).where(_A.message_id.in_(chunk))):
                by_id[r.message_id].addressees.append(_addressee(r))
        for m in messages:
            m.addressees.sort(key=lambda a: a.party_id)
        return messages

    def get_messages(self, ids: Sequence[str]) -> dict[str, Message]:
        out: builtins.list[Message] = []
        for chunk in _chunks(list(dict.fromkeys(ids))):
            out += [_message(r) for r in self.conn.execute(select(t.messages).where(_M.id.in_(chunk)))]
        return {m.id: m for m in self._with_addressees(out)}

    def get_message(self, message_id: str) -> Message | None:
        return self.get_messages([message_id]).get(message_id)

    def messages_in(self, thread_id: str, *, after: str | None, limit: int) -> builtins.list[Message]:
        q = select(t.messages).where(_M.thread_id == thread_id)
        if after:
            q = q.where(_M.id > after)
        rows = self.conn.execute(q.order_by(_M.id).limit(limit))
        return self._with_addressees([_message(r) for r in rows])

    def about_conflict(self, conflict_id: str, *, limit: int) -> builtins.list[Message]:
        """Every message about one conflict, oldest first: its Alert, the parties' word on it, its
        reminder, its closing."""
        q = select(t.messages).where(_M.conflict_id == conflict_id).order_by(_M.id).limit(limit)
        return self._with_addressees([_message(r) for r in self.conn.execute(q)])

    def alerts_for_conflicts(self, conflict_ids: Sequence[str]) -> dict[str, builtins.list[Message]]:
        """The Alerts that announced these conflicts, by conflict."""
        out: dict[str, builtins.list[Message]] = defaultdict(builtins.list)
        found: builtins.list[Message] = []
        for chunk in _chunks(list(conflict_ids)):
            q = select(t.messages).where(_M.conflict_id.in_(chunk), _M.msg_type == MsgType.Alert.value)
            found += [_message(r) for r in self.conn.execute(q)]
        for m in self._with_addressees(found):
            assert m.conflict_id is not None
            out[m.conflict_id].append(m)
        return out

    # --- addressees ------------------------------------------------------------------------------
    def addressee(self, message_id: str, party_id: str, *, for_update: bool = False) -> Addressee | None:
        q = select(t.message_addressees).where(_A.message_id == message_id, _A.party_id == party_id)
        if for_update and not is_sqlite(self.conn.engine):
            q = q.with_for_update()
        r = self.conn.execute(q).first()
        return None if r is None else _addressee(r)

    def save_addressees(self, items: Sequence[Addressee]) -> None:
        if not items:
            return
        stmt = (
            update(t.message_addressees)
            .where(_A.message_id == bindparam("m_id"), _A.party_id == bindparam("p_id"))
            .values(
                state=bindparam("state"),
                step=bindparam("step"),
                next_due=bindparam("next_due"),
                acked_at=bindparam("acked_at"),
                ack_message_id=bindparam("ack_message_id"),
            )
        )
        rows = []
        for a in items:
            v = _addressee_values(a)
            rows.append(dict(v, m_id=v.pop("message_id"), p_id=v.pop("party_id")))
        self.conn.execute(stmt, rows)

    def supersede(self, message_ids: Sequence[str]) -> builtins.list[Addressee]:
        """Stand down the unacknowledged addressees of these messages (no more escalation)."""
        live = [ReceiptState.awaiting.value, ReceiptState.overdue.value]
        changed: builtins.list[Addressee] = []
        for chunk in _chunks(list(message_ids)):
            cond = and_(_A.message_id.in_(chunk), _A.state.in_(live))
            changed += [_addressee(r) for r in self.conn.execute(select(t.message_addressees).where(cond))]
            self.conn.execute(
                update(t.message_addressees).where(cond).values(state=ReceiptState.superseded.value, next_due=None)
            )
        return changed

    def due(self, now: datetime, *, limit: int) -> builtins.list[Addressee]:
        """Addressees whose next escalation step has come, locked; on PostgreSQL rows another process
        holds are skipped, so each step fires in exactly one process."""
        q = select(t.message_addressees).where(_A.next_due <= to_ms(now)).order_by(_A.next_due).limit(limit)
        if not is_sqlite(self.conn.engine):
            q = q.with_for_update(skip_locked=True)
        return [_addressee(r) for r in self.conn.execute(q)]

    def inbox(
        self, party_id: str, states: Sequence[ReceiptState], *, limit: int, offset: int
    ) -> builtins.list[Message]:
        q = (
            select(t.messages)
            .join_from(t.messages, t.message_addressees, _A.message_id == _M.id)
            .where(_A.party_id == party_id, _A.state.in_([s.value for s in states]))
            .order_by(_M.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return self._with_addressees([_message(r) for r in self.conn.execute(q)])

    def counts(self, party_id: str) -> dict[str, int]:
        q = (
            select(_A.state, func.count())
            .where(_A.party_id == party_id, _A.state.in_([s.value for s in UNACKNOWLEDGED]))
            .group_by(_A.state)
        )
        return {r[0]: int(r[1]) for r in self.conn.execute(q)}

    # --- escalation contacts ---------------------------------------------------------------------
    def contacts(self, party_ids: Iterable[str]) -> dict[str, builtins.list[str]]:
        ec = t.escalation_contacts.c
        out: dict[str, builtins.list[str]] = defaultdict(builtins.list)
        for chunk in _chunks(sorted(set(party_ids))):
            for r in self.conn.execute(select(ec.party_id, ec.contact_id).where(ec.party_id.in_(chunk))
                                       .order_by(ec.party_id, ec.position)):
                out[r.party_id].append(r.contact_id)
        return out

    def set_contacts(self, party_id: str, contacts: Sequence[str]) -> None:
        ec = t.escalation_contacts.c
        self.conn.execute(t.escalation_contacts.delete().where(ec.party_id == party_id))
        if contacts:
            self.conn.execute(
                insert(t.escalation_contacts),
                [dict(party_id=party_id, position=i, contact_id=c) for i, c in enumerate(contacts)],
            )


# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedEvent:
    party_id: str
    seq: int
    type: str
    payload: dict[str, Any]
    at: datetime


class FeedRepository:
    """Each party's numbered events. ``publish`` buffers; ``flush`` (at commit) numbers them under the
    parties' head-row locks, taken in party order so two writers cannot deadlock, and queues a
    delivery for each of the parties' webhooks that wants the event."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._pending: builtins.list[tuple[str, str, dict[str, Any], datetime]] = []

    def publish(self, party_ids: Iterable[str], type_: str, payload: dict[str, Any], at: datetime) -> None:
        for p in dict.fromkeys(party_ids):
            self._pending.append((p, type_, payload, at))

    def flush(self) -> set[str]:
        """Write the buffered events; returns the parties that got any."""
        if not self._pending:
            return set()
        pending, self._pending = self._pending, []
        parties = sorted({p for p, *_ in pending})
        heads: dict[str, int] = {}
        q = _FEED_HEADS if is_sqlite(self.conn.engine) else _FEED_HEADS_LOCKED
        for chunk in _chunks(parties):
            heads.update({r.party_id: r.seq for r in read(self.conn, q, {"ids": chunk})})
        rows: builtins.list[dict[str, Any]] = []
        encoded: dict[int, str] = {}  # one payload goes to every member of a thread: encode it once
        for party, type_, payload, at in pending:
            if party not in heads:  # a party id that does not exist: nobody to tell
                continue
            heads[party] += 1
            text = encoded.get(id(payload))
            if text is None:
                text = encoded[id(payload)] = json_text.dumps(payload)
            rows.append(dict(party_id=party, seq=heads[party], type=type_, payload=text, at=to_ms(at)))
        if not rows:
            return set()
        write_many(self.conn, _INSERT_FEED_EVENTS, rows)
        write_many(self.conn, _MOVE_FEED_HEAD, [dict(p=p, s=s) for p, s in heads.items()])
        self._fan_out(rows)
        return {r["party_id"] for r in rows}

    def _fan_out(self, rows: Sequence[dict[str, Any]]) -> None:
        hooks: dict[str, builtins.list[tuple[str, builtins.list[str]]]] = defaultdict(builtins.list)
        for chunk in _chunks(sorted({r["party_id"] for r in rows})):
            for h in read(self.conn, _ACTIVE_HOOKS, {"ids": chunk}):
                hooks[h.party_id].append((h.id, json.loads(h.event_types)))
        deliveries = []
        for r in rows:
            for hook_id, types in hooks.get(r["party_id"], []):
                if types and r["type"] not in types:
                    continue
                event = {"id": r["seq"], "type": r["type"], "at": format_time(_dt(r["at"]))}
                body = json_text.dumps({**event, "data": json.loads(r["payload"])})
                deliveries.append(
                    dict(
                        id=new_id(),
                        webhook_id=hook_id,
                        party_id=r["party_id"],
                        event_seq=r["seq"],
                        event_type=r["type"],
                        body=body,
                        status=DeliveryStatus.pending.value,
                        attempts=0,
                        next_attempt_at=r["at"],
                        last_status_code=None,
                        last_error=None,
                        created_at=r["at"],
                        delivered_at=None,
                        replay_of=None,
                    )
                )
        if deliveries:
            self.conn.execute(insert(t.webhook_deliveries), deliveries)

    def after(self, party_id: str, seq: int, *, limit: int = CHUNK) -> builtins.list[FeedEvent]:
        fe = t.feed_events.c
        q = select(t.feed_events).where(fe.party_id == party_id, fe.seq > seq).order_by(fe.seq).limit(limit)
        return [FeedEvent(r.party_id, r.seq, r.type, json.loads(r.payload), _dt(r.at)) for r in self.conn.execute(q)]

    def head(self, party_id: str) -> int:
        fh = t.feed_heads.c
        return int(self.conn.execute(select(fh.seq).where(fh.party_id == party_id)).scalar() or 0)
