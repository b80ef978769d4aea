"""The Alembic migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, column, select, table

from tests.helpers import activity_body, zone_body
from truceline.adapters import repositories
from truceline.adapters import tables as t
from truceline.adapters.db import make_engine
from truceline.adapters.migrate import alembic_config, current, upgrade
from truceline.adapters.tables import metadata
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.domain import conflicts as conflicts_mod
from truceline.domain.audit import GENESIS, Entry, EntryBody
from truceline.domain.conflicts import CONFLICT_NAMESPACE, conflict_id, overlap_key, zone_key
from truceline.domain.errors import NotAuthenticated
from truceline.domain.model import ConflictRule, Party
from truceline.services import activities, audit, conflicts, parties, zones
from truceline.services.policy import Policy

#: the parties table as it was before revision 0013 moved tokens to the credentials table
_PARTIES_BEFORE_0013 = table("parties", *(column(n) for n in ("id", "name", "role", "token_hash", "created_at")))
#: the audit log as it was before revision 0015 recorded which token made a change
_AUDIT_BEFORE_0015 = table("audit_log", *(column(n) for n in (
    "seq", "at_ms", "party_id", "action", "entity_type", "entity_id", "payload_digest", "concerns", "payload",
    "prev_hash", "hash")))  # fmt: skip


def test_migrated_schema_matches_the_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None and current(engine) == head
    upgrade(engine)  # idempotent
    assert current(engine) == head


def _old_conflict_id(key: str) -> str:
    return str(uuid.uuid5(CONFLICT_NAMESPACE, key))


def _old_overlap_key(a: str, b: str) -> str:
    lo, hi = sorted((a, b))
    return f"overlap:{lo}:{hi}"


def _rows(engine: Engine, sql: str) -> list[tuple[str, ...]]:
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.exec_driver_sql(sql))


def _downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_0008_gives_stored_plan_conflicts_the_ids_the_code_derives(
    db_url: str, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store written before revision 0008 (conflict ids a uuid5 of a key with the older activity
    first) keeps working after it: re-checks find the stored conflicts instead of opening new ones."""
    engine = make_engine(db_url)
    upgrade(engine, "0007")
    # Today's code writes the store as the code of 0007's day did, given the columns added since (all
    # NULL here); they are dropped again before the upgrade, which then meets a true 0007 store.
    with engine.begin() as c:
        c.exec_driver_sql("ALTER TABLE zones ADD COLUMN schedule TEXT")
        c.exec_driver_sql("ALTER TABLE audit_log ADD COLUMN credential_id VARCHAR(36)")
        c.exec_driver_sql("ALTER TABLE audit_log ADD COLUMN actor_salt VARCHAR(32)")
        c.exec_driver_sql("ALTER TABLE conflicts ADD COLUMN remind_at BIGINT")
        t.credentials.create(c)

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, write=True)

    def add_party_with_its_token(self: repositories.PartyRepository, party: Party) -> None:
        self.conn.execute(_PARTIES_BEFORE_0013.insert().values(id=party.id, name=party.name, role=party.role.value,
                                                               token_hash=uuid.uuid4().hex, created_at=0))  # fmt: skip
        self.conn.execute(t.feed_heads.insert().values(party_id=party.id, seq=0))

    with monkeypatch.context() as old_code:
        old_code.setattr(repositories.PartyRepository, "add", add_party_with_its_token)
        old_code.setattr(conflicts_mod, "conflict_id", _old_conflict_id)
        old_code.setattr(conflicts_mod, "overlap_key", _old_overlap_key)
        old_code.setattr(repositories, "overlap_key", _old_overlap_key)
        a = parties.add(uow(), name="A", role="officer")[0]
        b = parties.add(uow(), name="B", role="officer")[0]
        z = zones.create(uow(), policy, a, zone_body()).zone
        zones.take_position(uow(), policy, a, z.id, {"revision": 1, "strength": "final"})
        ra = activities.notify(uow(), policy, a, activity_body(kind="air"))
        rb = activities.notify(uow(), policy, b, activity_body(kind="ground", lng=36.51))
    old_keys = {
        ConflictRule.overlap: _old_overlap_key(ra.activity.id, rb.activity.id),
        ConflictRule.zone_rule: zone_key(rb.activity.id, z.id),
    }
    old = {c.rule: c.id for c in rb.conflicts}
    assert old == {rule: _old_conflict_id(k) for rule, k in old_keys.items()}
    links = (
        "SELECT conflict_id, party_id FROM conflict_parties"
        " UNION ALL SELECT conflict_id, activity_id FROM conflict_activities"
    )
    old_links = _rows(engine, links)
    assert {row[0] for row in old_links} == set(old.values()) and len(old_links) == 6  # (2+1 parties, 2+1 activities)

    with engine.begin() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM zones WHERE schedule IS NOT NULL").scalar() == 0
        c.exec_driver_sql("ALTER TABLE zones DROP COLUMN schedule")
        c.exec_driver_sql("ALTER TABLE audit_log DROP COLUMN credential_id")
        c.exec_driver_sql("ALTER TABLE audit_log DROP COLUMN actor_salt")
        c.exec_driver_sql("ALTER TABLE conflicts DROP COLUMN remind_at")
        t.credentials.drop(c)
    upgrade(engine)
    keys = {
        ConflictRule.overlap: overlap_key(ra.activity.id, rb.activity.id),
        ConflictRule.zone_rule: zone_key(rb.activity.id, z.id),
    }
    new = {rule: conflict_id(k) for rule, k in keys.items()}
    for cid in new.values():  # the time of the newer activity, where new conflicts append
        assert cid.startswith(rb.activity.id[:13]) and cid[14] == "8" and cid not in old.values()
    assert _rows(engine, "SELECT id, key FROM conflicts") == sorted((new[r], keys[r]) for r in keys)
    renamed = {old[r]: new[r] for r in old}
    assert _rows(engine, links) == sorted((renamed[c], x) for c, x in old_links)
    assert _rows(engine, "SELECT conflict_id FROM messages") == sorted((c,) for c in new.values())

    # The code finds the migrated conflicts: B's update keeps them, B's cancel closes them and
    # stands their Alerts down; none opens twice.
    moved = activities.update(uow(), policy, b, rb.activity.id, activity_body(kind="ground", lng=36.512))
    assert {c.rule: c.id for c in moved.conflicts} == new
    activities.cancel(uow(), policy, b, rb.activity.id)
    listed = conflicts.list_conflicts(uow(), b, status="closed")
    assert {c.id for c in listed} == set(new.values()) and conflicts.list_conflicts(uow(), b, status="open") == []
    assert _rows(engine, "SELECT conflict_id, msg_type FROM messages") == sorted(
        (c, t) for c in new.values() for t in ("Alert", "Update")
    )

    # And back down: the ids and keys the older code derived.
    _downgrade(engine, "0007")
    assert _rows(engine, "SELECT id, key FROM conflicts") == sorted((old[r], old_keys[r]) for r in old)
    assert {row[0] for row in _rows(engine, links)} == set(old.values())
    engine.dispose()


def test_the_detectors_look_at_open_tactical_conflicts_uses_an_index(engine: Engine) -> None:
    """The track detector reads the open tactical conflicts every cycle; without 0009 that read
    scanned every conflict ever recorded (the plan conflicts of a busy theatre among them)."""
    upgrade(engine)
    q = select(t.conflicts.c.id).where(*repositories._OPEN_TACTICAL)
    sql = str(q.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
        else:  # the planner would scan a table this small: forbid that, and see that the index serves
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(str(r[0]) for r in conn.exec_driver_sql(f"EXPLAIN {sql}"))
    assert "ix_conflicts_rule_status" in plan, plan


def test_0013_moves_each_partys_token_into_its_credentials(db_url: str) -> None:
    """A party's one token, stored on the party before revision 0013, keeps working after it, as the
    party's first credential; a token revoked afterwards stops."""
    engine = make_engine(db_url)
    upgrade(engine, "0012")
    tokens = {"A": parties.new_token(), "B": parties.new_token()}
    with engine.begin() as c:
        for n, (name, token) in enumerate(tokens.items()):
            digest = parties.hash_token(token)
            row = dict(id=f"p{n}", name=name, role="officer", token_hash=digest, created_at=1_000 * n)
            c.execute(_PARTIES_BEFORE_0013.insert().values(**row))
    upgrade(engine)
    a = parties.authenticate(SqlUnitOfWork(engine), tokens["A"])
    assert (a.id, a.name) == ("p0", "A")
    (first,) = parties.credentials(SqlUnitOfWork(engine), a, "p0")
    assert (first.label, first.revoked_at, first.created_at.timestamp()) == ("first token", None, 0)
    _, spare_token = parties.issue_credential(SqlUnitOfWork(engine, write=True), a, "p0", {"label": "desk"})
    parties.revoke_credential(SqlUnitOfWork(engine, write=True), a, "p0", first.id)
    with pytest.raises(NotAuthenticated, match=r"'first token'.*revoked"):
        parties.authenticate(SqlUnitOfWork(engine), tokens["A"])
    assert parties.authenticate(SqlUnitOfWork(engine), spare_token).id == "p0"
    assert parties.authenticate(SqlUnitOfWork(engine), tokens["B"]).name == "B"


def test_0015_keeps_earlier_audit_entries_valid_and_records_tokens_from_then_on(db_url: str) -> None:
    """Entries written before revision 0015 name no token and keep their hashes; the chain goes on
    from them with entries that name one."""
    engine = make_engine(db_url)
    upgrade(engine, "0014")
    prev = GENESIS
    with engine.begin() as c:
        for seq in (1, 2):
            body = EntryBody(seq, 1_500_000_000_000 + seq, None, "party.created", "party", f"p{seq}", "a" * 64)
            entry = Entry.make(body, prev)
            c.execute(_AUDIT_BEFORE_0015.insert().values(**body.as_dict(), concerns='["*"]', payload="{}",
                                                          prev_hash=prev, hash=entry.hash))  # fmt: skip
            prev = entry.hash
        c.execute(t.audit_state.update().values(seq=2, hash=prev))
    upgrade(engine)
    a, _ = parties.add(SqlUnitOfWork(engine, write=True), name="A", role="officer")
    (first,) = parties.credentials(SqlUnitOfWork(engine), a, a.id)
    parties.issue_credential(SqlUnitOfWork(engine, write=True, credential=first), a, a.id, {"label": "desk"})
    with SqlUnitOfWork(engine) as u:
        stored = u.audit.entries()
    assert [(e.entry.body.seq, e.credential_id) for e in stored] == [(1, None), (2, None), (3, None), (4, None),
                                                                      (5, first.id)]  # fmt: skip
    assert stored[0].entry.body.actor_digest is None and stored[-1].entry.body.actor_digest
    assert audit.verify(SqlUnitOfWork(engine)).problem is None
    engine.dispose()


def test_0021_arms_the_open_conflicts_between_plans_for_their_reminder(db_url: str) -> None:
    """Conflicts stored before 0021 are reminded of as new ones are: the open ones between plans get
    their start as ``remind_at``; closed ones and those between live tracks get none. And back down."""
    engine = make_engine(db_url)
    upgrade(engine, "0020")
    rows = [("plan-open", "overlap", "open"), ("zone-open", "zone_rule", "open"), ("plan-closed", "overlap", "closed"),
            ("track-open", "separation", "open")]  # fmt: skip
    with engine.begin() as c:
        for i, (cid, rule, status) in enumerate(rows):
            c.exec_driver_sql(
                "INSERT INTO conflicts (id, key, rule, status, reason, subjects, regions, parties, t_start, created_at,"
                f" updated_at) VALUES ('{cid}', 'k{i}', '{rule}', '{status}', 'r', '[]', '[]', '[]', {1000 + i}, 0, 0)"
            )
    upgrade(engine)
    assert _rows(engine, "SELECT id, remind_at FROM conflicts WHERE remind_at IS NOT NULL") == [
        ("plan-open", 1000), ("zone-open", 1001)]  # fmt: skip
    _downgrade(engine, "0020")
    assert len(_rows(engine, "SELECT id FROM conflicts")) == 4
    engine.dispose()
