"""audit_log: an index on (action, seq), so that a filter by a rare action (zone., retention.) reads
its entries instead of walking the whole log back

Revision ID: 0018
Revises: 0017

"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_log_action", "audit_log", ["action", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_action", table_name="audit_log")
