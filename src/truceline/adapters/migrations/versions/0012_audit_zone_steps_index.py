"""audit_log: a partial index on the time of zone and document entries, for the daily report's
account of the day's negotiations

Revision ID: 0012
Revises: 0011

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ZONE_STEPS = "entity_type IN ('zone', 'document')"


def upgrade() -> None:
    op.create_index(
        "ix_audit_log_zone_steps",
        "audit_log",
        ["at_ms"],
        sqlite_where=sa.text(ZONE_STEPS),
        postgresql_where=sa.text(ZONE_STEPS),
    )


def downgrade() -> None:
    op.drop_index("ix_audit_log_zone_steps", table_name="audit_log")
