"""audit_log: which of a party's tokens made each change (committed to, salted, in the entry's body),
and indexes to read one entity's history and one party's changes

Revision ID: 0015
Revises: 0014

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default): no copy of the log on SQLite, no rewrite on PostgreSQL.
    op.add_column("audit_log", sa.Column("credential_id", sa.String(36)))
    op.add_column("audit_log", sa.Column("actor_salt", sa.String(32)))
    op.create_index("ix_audit_log_entity", "audit_log", ["entity_id", "seq"])
    op.create_index("ix_audit_log_party", "audit_log", ["party_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_party", table_name="audit_log")
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("actor_salt")
        batch.drop_column("credential_id")
