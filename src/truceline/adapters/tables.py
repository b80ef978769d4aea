"""The schema, as SQLAlchemy Core tables. Portable SQL only: the same tables serve SQLite, PostgreSQL
and PostgreSQL-compatible distributed engines. Times are integer milliseconds since the epoch (UTC)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData()

ID = String(36)

parties = Table(
    "parties",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
)

zones = Table(
    "zones",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("geometry", Text, nullable=False),
    Column("radius_m", Float),
    Column("footprint", LargeBinary, nullable=False),
    Column("alt_lower", Float, nullable=False),
    Column("alt_upper", Float, nullable=False),
    Column("effective_from", BigInteger, nullable=False),
    Column("effective_until", BigInteger),
    Column("forbidden_kinds", Text, nullable=False),
    Column("standoff_m", Float, nullable=False),
    Column("responsible", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("created_by", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_zones_kind_status", "kind", "status"),
)

zone_revisions = Table(
    "zone_revisions",
    metadata,
    Column("zone_id", ID, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("snapshot", Text, nullable=False),
    Column("author", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("zone_id", "revision"),
)

zone_cells = Table(
    "zone_cells",
    metadata,
    Column("cell", BigInteger, nullable=False),
    Column("zone_id", ID, nullable=False),
    PrimaryKeyConstraint("cell", "zone_id"),
    Index("ix_zone_cells_zone", "zone_id"),
)

activities = Table(
    "activities",
    metadata,
    Column("id", ID, primary_key=True),
    Column("party_id", ID, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("title", String(300), nullable=False),
    Column("description", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("t_start", BigInteger, nullable=False),
    Column("t_end", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_activities_party", "party_id", "t_start"),
)

activity_volumes = Table(
    "activity_volumes",
    metadata,
    Column("activity_id", ID, nullable=False),
    Column("idx", Integer, nullable=False),
    Column("footprint", LargeBinary, nullable=False),
    Column("alt_lower", Float, nullable=False),
    Column("alt_upper", Float, nullable=False),
    Column("t_start", BigInteger, nullable=False),
    Column("t_end", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
    PrimaryKeyConstraint("activity_id", "idx"),
)

# The cell index: one row per (cell, day bucket) a volume touches. The lookup index covers every column
# the candidate query reads, so the search is an index-only range scan per (cell, day).
volume_cells = Table(
    "volume_cells",
    metadata,
    Column("cell", BigInteger, nullable=False),
    Column("day", Integer, nullable=False),
    Column("activity_id", ID, nullable=False),
    Column("idx", Integer, nullable=False),
    Column("party_id", ID, nullable=False),
    Column("t_start", BigInteger, nullable=False),
    Column("t_end", BigInteger, nullable=False),
    Column("alt_lower", Float, nullable=False),
    Column("alt_upper", Float, nullable=False),
    PrimaryKeyConstraint("activity_id", "idx", "cell", "day"),
    Index(
        "ix_volume_cells_lookup", "cell", "day", "t_start", "t_end", "alt_lower", "alt_upper", "party_id", "activity_id"
    ),
)

conflicts = Table(
    "conflicts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("rule", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("zone_id", ID),
    Column("zone_revision", Integer),
    Column("subjects", Text, nullable=False),
    Column("regions", Text, nullable=False),
    Column("parties", Text, nullable=False),
    Column("t_start", BigInteger, nullable=False),
    Column("t_end", BigInteger),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("closed_at", BigInteger),
    Column("closed_reason", Text),
    Index("ix_conflicts_zone", "zone_id", "status"),
)

conflict_parties = Table(
    "conflict_parties",
    metadata,
    Column("party_id", ID, nullable=False),
    Column("conflict_id", ID, nullable=False),
    PrimaryKeyConstraint("party_id", "conflict_id"),
)

conflict_activities = Table(
    "conflict_activities",
    metadata,
    Column("activity_id", ID, nullable=False),
    Column("conflict_id", ID, nullable=False),
    PrimaryKeyConstraint("activity_id", "conflict_id"),
)
