"""retention: indexes on the times ended activities, conflicts and track reports are pruned by

Revision ID: 0006
Revises: 0005

"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_activities_end", "activities", ["t_end"])
    op.create_index("ix_conflicts_end", "conflicts", ["t_end"])
    op.create_index("ix_track_reports_time", "track_reports", ["t_ms"])


def downgrade() -> None:
    op.drop_index("ix_track_reports_time", table_name="track_reports")
    op.drop_index("ix_conflicts_end", table_name="conflicts")
    op.drop_index("ix_activities_end", table_name="activities")
