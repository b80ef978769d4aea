"""conflicts: an index on (rule, status), so the track detector's look at the open tactical conflicts
(every cycle, about once a second) does not read every conflict ever recorded

Revision ID: 0009
Revises: 0008

"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_conflicts_rule_status", "conflicts", ["rule", "status"])


def downgrade() -> None:
    op.drop_index("ix_conflicts_rule_status", table_name="conflicts")
