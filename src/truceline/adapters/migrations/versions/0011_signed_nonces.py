"""signed_nonces: each signed request's nonce, taken once, so a signature cannot be sent again

Revision ID: 0011
Revises: 0010

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signed_nonces",
        sa.Column("party_id", sa.String(36), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("party_id", "nonce"),
    )
    op.create_index("ix_signed_nonces_at", "signed_nonces", ["at"])


def downgrade() -> None:
    op.drop_index("ix_signed_nonces_at", "signed_nonces")
    op.drop_table("signed_nonces")
