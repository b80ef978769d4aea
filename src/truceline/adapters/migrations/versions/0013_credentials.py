"""credentials: a party holds several bearer tokens (one per officer, desk or script), each named and
revocable or expiring on its own; each party's one token moves there

Revision ID: 0013
Revises: 0012

"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

FIRST = "first token"


def upgrade() -> None:
    credentials = op.create_table(
        "credentials",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("party_id", sa.String(36), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger()),
        sa.Column("revoked_at", sa.BigInteger()),
    )
    op.create_index("ix_credentials_party", "credentials", ["party_id"])
    parties = sa.table(
        "parties",
        sa.column("id", sa.String),
        sa.column("token_hash", sa.String),
        sa.column("created_at", sa.BigInteger),
    )
    rows = op.get_bind().execute(sa.select(parties.c.id, parties.c.token_hash, parties.c.created_at)).all()
    if rows:
        op.bulk_insert(
            credentials,
            [
                {
                    "id": str(uuid.uuid4()),
                    "party_id": r.id,
                    "label": FIRST,
                    "token_hash": r.token_hash,
                    "created_at": r.created_at,
                }
                for r in rows
            ],
        )
    with op.batch_alter_table("parties") as batch:
        batch.drop_column("token_hash")


def downgrade() -> None:
    # Each party keeps its newest token that still works; the others stop working.
    with op.batch_alter_table("parties") as batch:
        batch.add_column(sa.Column("token_hash", sa.String(64), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT party_id, token_hash FROM credentials WHERE revoked_at IS NULL ORDER BY created_at")
    ).all()
    for party_id, token_hash in rows:
        bind.execute(sa.text("UPDATE parties SET token_hash = :h WHERE id = :p"), {"h": token_hash, "p": party_id})
    op.drop_index("ix_credentials_party", "credentials")
    op.drop_table("credentials")
