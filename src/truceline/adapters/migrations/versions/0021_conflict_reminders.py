"""conflicts.remind_at: when a conflict between plans begins, while it is open and its parties have
not been reminded of it; indexed, for the reminder that looks for conflicts about to begin

Revision ID: 0021
Revises: 0020

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("conflicts", sa.Column("remind_at", sa.BigInteger, nullable=True))
    # every open one is armed: the reminder reads only those about to begin
    op.execute("UPDATE conflicts SET remind_at = t_start WHERE status = 'open' AND rule IN ('zone_rule', 'overlap')")
    op.create_index("ix_conflicts_remind_at", "conflicts", ["remind_at"])


def downgrade() -> None:
    op.drop_index("ix_conflicts_remind_at", table_name="conflicts")
    with op.batch_alter_table("conflicts") as batch:
        batch.drop_column("remind_at")
