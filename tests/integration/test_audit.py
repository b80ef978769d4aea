"""The audit log: every change appends in its own transaction; tampering with the database directly —
modifying, deleting, reordering, inserting, truncating, or rewriting the whole chain — is detected and
the first bad entry named. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, event, text

from tests.conftest import FakeClock
from tests.helpers import T0, activity_body, circle_volume, zone_body, zone_in_force
from truceline.adapters.repositories import AuditFilter, StoredEntry
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.domain.audit import GENESIS, Entry, EntryBody, actor_digest
from truceline.domain.errors import InvalidInput
from truceline.domain.model import Party
from truceline.services import activities, audit, parties, zones
from truceline.services.policy import Policy

Uow = Callable[[], SqlUnitOfWork]


@pytest.fixture
def history(uow: Uow, policy: Policy, make_party: Callable[..., Party]) -> int:
    """A few changes of several kinds; returns how many entries they made."""
    a, b = make_party("A"), make_party("B")
    zone_in_force(uow, policy, a)
    activities.notify(uow(), policy, a, activity_body())
    activities.notify(uow(), policy, b, activity_body(kind="patrol", lng=36.51))
    with uow() as u:
        return u.audit.head().seq


def _verify(engine: Engine) -> audit.Verification:
    """The check, read in one batch and in batches of two entries: it finds the same either way."""
    whole = audit.verify(SqlUnitOfWork(engine))
    paged = audit.verify(SqlUnitOfWork(engine), batch=2)
    assert paged.problem == whole.problem and (whole.problem is not None or paged == whole)
    return whole


def _exec(engine: Engine, *sql: str) -> None:
    with engine.begin() as c:
        for s in sql:
            c.execute(text(s))


def test_changes_are_recorded_and_chain_verifies(engine: Engine, uow: Uow, policy: Policy, history: int) -> None:
    with uow() as u:
        entries = u.audit.entries()
    actions = [e.entry.body.action for e in entries]
    assert actions[:4] == ["party.created", "credential.issued"] * 2  # each party and its first token
    assert {"zone.proposed", "zone.signed", "zone.status", "activity.notified", "conflict.opened"} <= set(actions)
    assert [e.entry.body.seq for e in entries] == list(range(1, history + 1))
    v = _verify(engine)
    assert v.problem is None and v.entries == history
    # A refused change leaves no trace.
    with pytest.raises(InvalidInput):
        activities.notify(uow(), policy, _party(uow, "A"), activity_body(volumes=[circle_volume(33, 36, 1, T0, T0)]))
    with uow() as u:
        assert u.audit.head().seq == history


def _party(uow: Uow, name: str) -> Party:
    with uow() as u:
        p = u.parties.by_name(name)
    assert p is not None
    return p


TAMPER = {
    "modified": (["UPDATE audit_log SET action = 'zone.withdrawn' WHERE seq = 4"], 4, "modified"),
    "payload swapped": (["UPDATE audit_log SET payload_digest = '" + "a" * 64 + "' WHERE seq = 5"], 5, "modified"),
    "deleted": (["DELETE FROM audit_log WHERE seq = 4"], 4, "deleted, inserted or reordered"),
    "reordered": (
        [
            "UPDATE audit_log SET seq = -1 WHERE seq = 4",
            "UPDATE audit_log SET seq = 4 WHERE seq = 5",
            "UPDATE audit_log SET seq = 5 WHERE seq = -1",
        ],
        4,
        "previous-hash",
    ),
    "truncated": (["DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)"], None, "deleted"),
    # a copy of the last entry, one past the head that every change moves
    "appended": (
        [
            "INSERT INTO audit_log (seq, at_ms, party_id, action, entity_type, entity_id, concerns, payload, "
            "payload_digest, prev_hash, hash) SELECT seq + 1, at_ms, party_id, action, entity_type, entity_id, "
            "concerns, payload, payload_digest, hash, hash FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)"
        ],
        "next",
        "added after the chain's head",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPER))
def test_tampering_is_detected(engine: Engine, history: int, case: str) -> None:
    sql, bad_seq, words = TAMPER[case]
    _exec(engine, *sql)
    v = _verify(engine)
    assert v.problem is not None, case
    assert v.problem.seq == {None: history, "next": history + 1}.get(bad_seq, bad_seq)  # type: ignore[arg-type]
    assert words in v.problem.problem


def test_an_inserted_entry_is_detected(engine: Engine, uow: Uow, history: int) -> None:
    # Shift entries 3.. up by one and insert a well-formed entry at 3 that links to entry 2.
    with uow() as u:
        prev = u.audit.links(2, 2)[0].hash
    body = EntryBody(3, 1_500_000_000_000, None, "zone.signed", "zone", "forged", "b" * 64)
    forged = Entry.make(body, prev)
    _exec(
        engine,
        "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 3",
        "UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1003",
    )
    _exec(
        engine,
        "INSERT INTO audit_log (seq, at_ms, party_id, action, entity_type, entity_id, concerns, payload, "
        f"payload_digest, prev_hash, hash) VALUES (3, {body.at_ms}, NULL, 'zone.signed', 'zone', 'forged', "
        f"'[\"*\"]', '{{}}', '{body.payload_digest}', '{forged.prev_hash}', '{forged.hash}')",
    )
    v = _verify(engine)
    assert v.problem is not None and v.problem.seq == 4 and "previous-hash" in v.problem.problem


def test_a_rewritten_chain_is_caught_by_the_signed_head(engine: Engine, uow: Uow, history: int) -> None:
    """The operator rewrites entry 4 and recomputes every hash after it: the chain is consistent again,
    but the head the service signed before no longer matches."""
    key = Ed25519PrivateKey.generate()
    signed = audit.sign_head(uow(), key)
    assert signed is not None and signed.seq == history
    with uow() as u:
        stored = u.audit.entries()
    prev = GENESIS
    with engine.begin() as c:
        for e in stored:
            b = e.entry.body
            if b.seq == 4:
                b = EntryBody(
                    b.seq, b.at_ms, b.party_id, "zone.withdrawn", b.entity_type, b.entity_id, b.payload_digest
                )
            new = Entry.make(b, prev)
            c.execute(
                text("UPDATE audit_log SET action = :a, prev_hash = :p, hash = :h WHERE seq = :s"),
                {"a": b.action, "p": new.prev_hash, "h": new.hash, "s": b.seq},
            )
            prev = new.hash
        c.execute(text("UPDATE audit_state SET hash = :h WHERE id = 1"), {"h": prev})
    v = _verify(engine)
    assert v.problem is not None and v.problem.seq == history and "rewritten" in v.problem.problem


def test_signed_heads_and_receipts(engine: Engine, uow: Uow, policy: Policy, history: int) -> None:
    from truceline.domain.audit import head_message, verify_links, verify_signature

    key = Ed25519PrivateKey.generate()
    a = _party(uow, "A")
    unit = uow()
    activities.notify(unit, policy, a, activity_body(lng=37.0))
    receipt = unit.receipt
    assert receipt is not None and receipt.seq > history
    head = audit.sign_head(uow(), key)
    assert head is not None and head.seq >= receipt.seq
    assert audit.sign_head(uow(), key) == head  # nothing new: the same head
    assert verify_signature(head.public_key, head_message(head.seq, head.hash), head.signature)
    links = audit.chain(uow(), a, receipt.seq, head.seq)
    assert (
        verify_links(links, receipt_seq=receipt.seq, receipt_hash=receipt.hash, head_seq=head.seq, head_hash=head.hash)
        is None
    )
    assert (
        verify_links(links, receipt_seq=receipt.seq, receipt_hash="f" * 64, head_seq=head.seq, head_hash=head.hash)
        is not None
    )
    # Links show nothing of what the entries were about.
    assert set(vars(links[0])) == {"seq", "body_digest", "prev_hash", "hash"}


def test_parties_see_their_own_entries_and_those_concerning_them(
    uow: Uow, history: int, make_party: Callable[..., Party]
) -> None:
    a, b = _party(uow, "A"), _party(uow, "B")
    admin = make_party("Admin", role="admin")
    outsider = make_party("Outsider")
    seen_a = {e.entry.body.seq for e in audit.entries(uow(), a).entries}
    seen_out = audit.entries(uow(), outsider).entries
    every = audit.entries(uow(), admin, limit=10_000).entries
    assert len(every) == history + 4  # two parties more, each with its token
    assert all(e.entry.body.action != "activity.notified" for e in seen_out)  # plans are need-to-know
    b_plan = [e for e in audit.entries(uow(), b).entries if e.entry.body.action == "activity.notified"]
    assert len(b_plan) == 1 and b_plan[0].entry.body.party_id == b.id and b_plan[0].entry.body.seq not in seen_a
    conflict = [e for e in seen_out if e.entry.body.action == "conflict.opened"]
    assert conflict == []  # a conflict between A and B concerns neither the outsider


def test_a_days_zone_steps_come_from_their_own_index(
    engine: Engine, uow: Uow, clock: FakeClock, history: int
) -> None:
    """The daily report reads one day of zone and document entries, in time order, through a partial
    index that the entries every notification writes do not feed."""
    from datetime import timedelta

    from truceline.domain.cells import to_ms

    a = _party(uow, "A")
    start = clock()
    clock.now = start + timedelta(days=1)
    zones.create(uow(), Policy(), a, zone_body(name="next day"))

    def read() -> tuple[list[StoredEntry], list[StoredEntry]]:
        with uow() as u:
            first = u.audit.zone_steps(to_ms(start) - 1, to_ms(start) + 86_400_000 - 1)
            return first, u.audit.zone_steps(to_ms(clock()), to_ms(clock()) + 1)

    (first_day, second_day), plan = _read_and_plan(engine, read)
    assert {e.entry.body.action for e in first_day} >= {"zone.proposed"}
    assert {e.entry.body.entity_type for e in first_day} == {"zone"}
    assert [(e.entry.body.action, e.payload["snapshot"]["name"]) for e in second_day] == [("zone.proposed", "next day")]
    with uow() as u:
        every = u.audit.entries()
    zone_entries = [e for e in every if e.entry.body.entity_type in ("zone", "document")]
    assert len(zone_entries) == len(first_day) + len(second_day) < len(every)
    assert "ix_audit_log_zone_steps" in plan, plan


T = TypeVar("T")


def _read_and_plan(engine: Engine, read: Callable[[], T]) -> tuple[T, str]:
    """What ``read`` returns, and the query plan of its last statement that reads entries in order
    from the audit log (a filter by an action prefix first looks up the actions it names)."""

    statements: list[tuple[str, Any]] = []
    listen = lambda conn, cursor, sql, params, ctx, many: statements.append((sql, params))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        result = read()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    (sql, params) = [(s, p) for s, p in statements if "audit_log" in s and "ORDER BY" in s][-1]
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as c:
        if engine.dialect.name == "postgresql":
            c.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: ask whether the index can serve
        return result, " ".join(str(r) for r in c.exec_driver_sql(explain + sql, params))


@pytest.mark.parametrize(
    "change",
    [
        "credential_id = '{other}'",  # the change pinned on another officer's token
        "credential_id = NULL, actor_salt = NULL",  # or on nobody's
        "actor_salt = '" + "0" * 32 + "'",
    ],
)
def test_which_token_made_a_change_cannot_be_rewritten(
    engine: Engine, uow: Uow, policy: Policy, make_party: Callable[..., Party], change: str
) -> None:
    a = make_party("A")
    with uow() as u:
        first = u.parties.credentials(a.id)[0]
    other, _ = parties.issue_credential(SqlUnitOfWork(engine, write=True, credential=first), a, a.id, {"label": "desk"})
    activities.notify(SqlUnitOfWork(engine, write=True, credential=other), policy, a, activity_body())
    with uow() as u:
        *_, issued, notified = u.audit.entries()
    assert (issued.credential_id, notified.credential_id) == (first.id, other.id)
    assert notified.entry.body.actor_digest == actor_digest(other.id, notified.actor_salt or "")
    assert _verify(engine).problem is None
    seq = notified.entry.body.seq
    _exec(engine, f"UPDATE audit_log SET {change.format(other=first.id)} WHERE seq = {seq}")
    v = _verify(engine)
    assert v.problem is not None and v.problem.seq == seq and "modified" in v.problem.problem
    # Nor can one be pinned on a change the service made by itself.
    _exec(engine, f"UPDATE audit_log SET credential_id = '{first.id}', actor_salt = '{'0' * 32}' WHERE seq = 1")
    assert _verify(engine).problem.seq == 1  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("chosen", "index"),
    [
        ({"entity_id": "ENTITY"}, "ix_audit_log_entity"),
        ({"entity_id": "ENTITY", "before": 10_000, "limit": 5}, "ix_audit_log_entity"),
        ({"party_id": "PARTY"}, "ix_audit_log_party"),
        # either index narrows it; which is better depends on how busy the party is and how rare the action
        ({"party_id": "PARTY", "action": "activity.", "before": 10_000, "limit": 50},
         "ix_audit_log_party|ix_audit_log_action"),
        # a token's changes: the service narrows them to its party
        ({"party_id": "PARTY", "credential_id": "TOKEN", "before": 10_000, "limit": 20}, "ix_audit_log_party"),
    ],
)
def test_one_entitys_history_and_one_partys_changes_come_from_their_indexes(
    engine: Engine, uow: Uow, policy: Policy, history: int, chosen: dict[str, Any], index: str
) -> None:
    """Reading them does not scan a log that every notification grows."""
    a = _party(uow, "A")
    with uow() as u:
        token = u.parties.credentials(a.id)[0]
    activities.notify(SqlUnitOfWork(engine, write=True, credential=token), policy, a, activity_body(lng=36.6))
    with uow() as u:
        notified = [e for e in u.audit.entries() if e.entry.body.action == "activity.notified"][-1]
    values = {"ENTITY": notified.entry.body.entity_id, "PARTY": a.id, "TOKEN": token.id}
    f = AuditFilter(reader=a.id, **{k: values.get(v, v) if isinstance(v, str) else v for k, v in chosen.items()})

    def read() -> list[StoredEntry]:
        with uow() as u:
            return u.audit.entries(f)

    found, plan = _read_and_plan(engine, read)
    assert found and all(e.entry.body.party_id == a.id for e in found)
    assert notified.entry.body.seq in {e.entry.body.seq for e in found}
    assert any(i in plan for i in index.split("|")), plan


@pytest.mark.parametrize("action", ["zone.", "zone.signed", "activity.notified"])
def test_entries_of_an_action_come_from_its_index_and_a_prefix_names_every_action_it_begins(
    engine: Engine, uow: Uow, policy: Policy, history: int, action: str
) -> None:
    """A rare action (a zone's steps among a log of notifications) is read along its own index, not
    found by walking the whole log back; a prefix is every action it begins, merged in order."""
    b = _party(uow, "B")
    for i in range(30):  # the log grows with notifications, newer than the zone's steps
        activities.notify(uow(), policy, b, activity_body(lng=37 + i / 10))
    with uow() as u:
        every = u.audit.entries()
    seen_by_b = [e for e in every if e.entry.body.party_id == b.id or {"*", b.id} & set(e.concerns)]
    prefix = action.endswith(".")
    named = lambda e: e.entry.body.action.startswith(action) if prefix else e.entry.body.action == action  # noqa: E731
    wanted = [e for e in seen_by_b if named(e)]
    assert wanted and (not prefix or len({e.entry.body.action for e in wanted}) >= 2)
    for f in (AuditFilter(reader=b.id, action=action, before=10_000, limit=3),  # the newest, a page back
              AuditFilter(reader=b.id, action=action, after=0, limit=3),  # the oldest first
              AuditFilter(reader=b.id, action=action)):  # fmt: skip

        def read(f: AuditFilter = f) -> list[StoredEntry]:
            with uow() as u:
                return u.audit.entries(f)

        found, plan = _read_and_plan(engine, read)
        expected = wanted[-3:] if f.before else wanted[:3] if f.limit else wanted
        assert [e.entry.body.seq for e in found] == [e.entry.body.seq for e in expected]
        assert "ix_audit_log_action" in plan, plan
    with uow() as u:
        assert u.audit.entries(AuditFilter(reader=b.id, action="retention.", before=10_000, limit=3)) == []
