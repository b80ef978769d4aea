"""conflict_agreements: each party concerned by a conflict says it agrees to it (settled over the
hotline); a conflict every one of them agrees to is coordinated

Revision ID: 0019
Revises: 0018

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conflict_agreements",
        sa.Column("conflict_id", sa.String(36), nullable=False),
        sa.Column("party_id", sa.String(36), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("statement", sa.Text, nullable=False),
        sa.Column("basis", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("conflict_id", "party_id"),
    )


def downgrade() -> None:
    op.drop_table("conflict_agreements")
