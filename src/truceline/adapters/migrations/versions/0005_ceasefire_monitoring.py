"""ceasefire monitoring: incidents, their zones and verification steps; zones' status history

Revision ID: 0005
Revises: 0004

"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.String(length=36)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", ID, nullable=False),
        sa.Column("dataset", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("event_date", sa.BigInteger(), nullable=False),
        sa.Column("date_end", sa.BigInteger(), nullable=True),
        sa.Column("occurred_at", sa.BigInteger(), nullable=True),
        sa.Column("time_precision", sa.Integer(), nullable=False),
        sa.Column("disorder_type", sa.String(length=48), nullable=False),
        sa.Column("event_type", sa.String(length=48), nullable=False),
        sa.Column("sub_event_type", sa.String(length=64), nullable=False),
        sa.Column("actor1", sa.String(length=300), nullable=False),
        sa.Column("assoc_actor_1", sa.String(length=600), nullable=False),
        sa.Column("inter1", sa.Integer(), nullable=False),
        sa.Column("actor2", sa.String(length=300), nullable=False),
        sa.Column("assoc_actor_2", sa.String(length=600), nullable=False),
        sa.Column("inter2", sa.Integer(), nullable=False),
        sa.Column("civilian_targeting", sa.Integer(), nullable=False),
        sa.Column("iso", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=200), nullable=False),
        sa.Column("admin1", sa.String(length=300), nullable=False),
        sa.Column("admin2", sa.String(length=300), nullable=False),
        sa.Column("admin3", sa.String(length=300), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("geo_precision", sa.Integer(), nullable=False),
        sa.Column("fatalities_low", sa.Integer(), nullable=False),
        sa.Column("fatalities_best", sa.Integer(), nullable=False),
        sa.Column("fatalities_high", sa.Integer(), nullable=False),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("source_timestamp", sa.BigInteger(), nullable=True),
        sa.Column("reported_by", ID, nullable=True),
        sa.Column("alleged", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("merged_into", ID, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incidents_date", "incidents", ["event_date"])
    op.create_index("ix_incidents_merged", "incidents", ["merged_into"])
    op.create_table(
        "incident_zones",
        sa.Column("incident_id", ID, nullable=False),
        sa.Column("zone_id", ID, nullable=False),
        sa.Column("zone_revision", sa.Integer(), nullable=False),
        sa.Column("event_date", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "zone_id"),
    )
    op.create_index("ix_incident_zones_zone", "incident_zones", ["zone_id", "event_date"])
    op.create_table(
        "incident_steps",
        sa.Column("incident_id", ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("party_id", ID, nullable=True),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "seq"),
    )
    op.create_table(
        "zone_status_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("zone_id", ID, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_zone_status_history_zone", "zone_status_history", ["zone_id", "at"])
    _backfill_history()


def _backfill_history() -> None:
    """Existing zones: their creation, then every status move the audit log recorded."""
    conn = op.get_bind()
    history = sa.table(
        "zone_status_history",
        sa.column("zone_id", sa.String),
        sa.column("at", sa.BigInteger),
        sa.column("status", sa.String),
        sa.column("revision", sa.Integer),
    )
    rows = []
    moves = conn.execute(
        sa.text("SELECT entity_id, at_ms, payload FROM audit_log WHERE action = 'zone.status' ORDER BY seq")
    ).all()
    moved: dict[str, list[tuple[int, str, int]]] = {}
    for zone_id, at, payload in moves:
        p = json.loads(payload)
        p = p.get("change", p)
        moved.setdefault(zone_id, []).append((at, p.get("to", ""), p.get("revision", 1)))
    for zone_id, status, created_at in conn.execute(sa.text("SELECT id, status, created_at FROM zones")).all():
        steps = moved.get(zone_id, [])
        first = "proposed" if steps else status
        rows.append({"zone_id": zone_id, "at": created_at, "status": first, "revision": 1})
        rows += [{"zone_id": zone_id, "at": at, "status": to, "revision": rev} for at, to, rev in steps]
    if rows:
        op.bulk_insert(history, rows)


def downgrade() -> None:
    op.drop_index("ix_zone_status_history_zone", table_name="zone_status_history")
    op.drop_table("zone_status_history")
    op.drop_table("incident_steps")
    op.drop_index("ix_incident_zones_zone", table_name="incident_zones")
    op.drop_table("incident_zones")
    op.drop_index("ix_incidents_merged", table_name="incidents")
    op.drop_index("ix_incidents_date", table_name="incidents")
    op.drop_table("incidents")
