"""webhooks.format: a webhook takes the feed's JSON events, or hotline messages as CAP 1.2 alerts

Revision ID: 0014
Revises: 0013

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.add_column(sa.Column("format", sa.String(8), nullable=False, server_default="json"))


def downgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.drop_column("format")
