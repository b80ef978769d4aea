"""live tracks, and zones' own separation minima

Revision ID: 0004
Revises: 0003

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("zones") as batch:
        batch.add_column(sa.Column("separation_m", sa.Float(), nullable=True))
        batch.add_column(sa.Column("vertical_separation_m", sa.Float(), nullable=True))
    op.create_table(
        "track_reports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("party_id", sa.String(length=36), nullable=False),
        sa.Column("track_id", sa.String(length=64), nullable=False),
        sa.Column("t_ms", sa.BigInteger(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("alt", sa.Float(), nullable=False),
        sa.Column("gs", sa.Float(), nullable=False),
        sa.Column("trk", sa.Float(), nullable=False),
        sa.Column("vs", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("track_reports", schema=None) as batch_op:
        batch_op.create_index("ix_track_reports_track", ["party_id", "track_id", "t_ms"], unique=False)

    op.create_table(
        "tracks",
        sa.Column("party_id", sa.String(length=36), nullable=False),
        sa.Column("track_id", sa.String(length=64), nullable=False),
        sa.Column("callsign", sa.String(length=32), nullable=False),
        sa.Column("t_ms", sa.BigInteger(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("alt", sa.Float(), nullable=False),
        sa.Column("gs", sa.Float(), nullable=False),
        sa.Column("trk", sa.Float(), nullable=False),
        sa.Column("vs", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("activity_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("party_id", "track_id"),
    )
    with op.batch_alter_table("tracks", schema=None) as batch_op:
        batch_op.create_index("ix_tracks_time", ["t_ms"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("zones") as batch:
        batch.drop_column("vertical_separation_m")
        batch.drop_column("separation_m")
    with op.batch_alter_table("tracks", schema=None) as batch_op:
        batch_op.drop_index("ix_tracks_time")

    op.drop_table("tracks")
    with op.batch_alter_table("track_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_track_reports_track")

    op.drop_table("track_reports")
