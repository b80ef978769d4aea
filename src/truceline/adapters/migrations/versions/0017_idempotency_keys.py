"""idempotency_keys: a write sent again with its Idempotency-Key gets its first answer, not a second write

Revision ID: 0017
Revises: 0016

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("party_id", sa.String(36), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(2000), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("entity_type", sa.String(32)),
        sa.Column("entity_id", sa.String(64)),
        sa.Column("status", sa.Integer),
        sa.Column("headers", sa.Text),
        sa.Column("body", sa.LargeBinary),
        sa.PrimaryKeyConstraint("party_id", "key"),
    )
    op.create_index("ix_idempotency_keys_at", "idempotency_keys", ["at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_at", "idempotency_keys")
    op.drop_table("idempotency_keys")
