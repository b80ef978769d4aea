"""time-ordered conflict ids: plan conflicts get the ids and keys the code now derives

Revision ID: 0008
Revises: 0007

A plan conflict's id is derived from its key. It used to be a version 5 UUID (random order) and an
overlap key put the older activity first; both now follow time, so that new conflicts append to the
indexes keyed by them. This revision gives the conflicts already stored the id and key the code
derives now, so re-checks keep finding them, and follows the id into every table that holds it.
Tactical conflicts (ids from ``new_id``, keys with their start time) are left as they are. The audit
log and delivered feed events keep the old ids: they are a record of what was said at the time.

The derivation is written out here as it stands at this revision, so that a later change to the
code cannot change what this migration does.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_NAMESPACE = uuid.UUID("5b0f6c1e-6f0a-4a53-9d0e-7472756365a1")
_UUID7 = re.compile(r"([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_BATCH = 5_000


def _new_key(key: str) -> str:
    rule, _, rest = key.partition(":")
    if rule != "overlap":
        return key
    a, b = sorted(rest.split(":"))
    return f"overlap:{b}:{a}"


def _new_id(key: str) -> str:
    value = int.from_bytes(hashlib.sha1(_NAMESPACE.bytes + key.encode()).digest()[:16], "big")
    times = [int(m[0] + m[1], 16) for m in _UUID7.findall(key)]
    if times:
        value = max(times) << 80 | value & ((1 << 80) - 1)
    return str(uuid.UUID(int=value & ~(0xF << 76) & ~(0x3 << 62) | 0x8 << 76 | 0x2 << 62))


def _old_key(key: str) -> str:
    rule, _, rest = key.partition(":")
    return f"overlap:{':'.join(sorted(rest.split(':')))}" if rule == "overlap" else key


def _old_id(key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, key))


def upgrade() -> None:
    _rekey(_new_key, _new_id)


def downgrade() -> None:
    _rekey(_old_key, _old_id)


def _rekey(key_of: Callable[[str], str], id_of: Callable[[str], str]) -> None:
    """Give every plan conflict the key ``key_of(key)`` and the id ``id_of`` of that key, in the
    conflicts table and wherever its id is held, through a mapping table (one UPDATE per table)."""
    conn = op.get_bind()
    conflicts = sa.table("conflicts", sa.column("id"), sa.column("key"), sa.column("rule"))
    id_map = op.create_table(
        "conflict_id_map",
        sa.Column("old_id", sa.String(36), primary_key=True),
        sa.Column("new_id", sa.String(36), nullable=False),
        sa.Column("new_key", sa.String(200), nullable=False),
    )
    plan = sa.select(conflicts.c.id, conflicts.c.key).where(conflicts.c.rule.in_(["overlap", "zone_rule"]))
    for batch in conn.execute(plan.execution_options(yield_per=_BATCH)).partitions():
        keys = [(r.id, key_of(r.key)) for r in batch]
        conn.execute(id_map.insert(), [{"old_id": old, "new_id": id_of(k), "new_key": k} for old, k in keys])
    m = id_map.c

    def mapped(col: sa.ColumnElement[str], target: sa.ColumnElement[str]) -> sa.ScalarSelect[str]:
        return sa.select(target).where(m.old_id == col).scalar_subquery()

    # Old and new ids differ in their version digit, and old and new overlap keys in the order of
    # their ids, so no row can meet another's value mid-update (unique checks run row by row).
    conn.execute(
        conflicts.update()
        .where(conflicts.c.id.in_(sa.select(m.old_id)))
        .values(id=mapped(conflicts.c.id, m.new_id), key=mapped(conflicts.c.id, m.new_key))
    )
    for name in ("conflict_parties", "conflict_activities", "messages"):
        table = sa.table(name, sa.column("conflict_id"))
        conn.execute(
            table.update()
            .where(table.c.conflict_id.in_(sa.select(m.old_id)))
            .values(conflict_id=mapped(table.c.conflict_id, m.new_id))
        )
    op.drop_table("conflict_id_map")
