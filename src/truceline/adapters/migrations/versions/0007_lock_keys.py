"""lock keys: row locks for PostgreSQL-compatible distributed SQL (no advisory locks there)

Revision ID: 0007
Revises: 0006

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("lock_keys", sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
                    sa.PrimaryKeyConstraint("key"))  # fmt: skip


def downgrade() -> None:
    op.drop_table("lock_keys")
