"""zones: the hours their rules apply (a schedule of daily periods, as JSON); NULL: all the time

Revision ID: 0010
Revises: 0009

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("zones") as batch:
        batch.add_column(sa.Column("schedule", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("zones") as batch:
        batch.drop_column("schedule")
