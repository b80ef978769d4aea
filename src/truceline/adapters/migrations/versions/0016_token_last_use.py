"""credentials: when each token was last used, and from which address (a lost laptop's token shows
whether, when and where it is still being tried)

Revision ID: 0016
Revises: 0015

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("credentials", sa.Column("last_used_at", sa.BigInteger))
    op.add_column("credentials", sa.Column("last_used_from", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("last_used_from")
        batch.drop_column("last_used_at")
