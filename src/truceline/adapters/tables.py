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
    bindparam,
)

metadata = MetaData()

ID = String(36)

parties = Table(
    "parties",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("public_key", String(64)),
)

# A party's bearer tokens, one per officer, desk or script, each revocable or expiring on its own.
credentials = Table(
    "credentials",
    metadata,
    Column("id", ID, primary_key=True),
    Column("party_id", ID, nullable=False),
    Column("label", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger),
    Column("revoked_at", BigInteger),
    # the latest use of the token (refused ones too), to the minute: written in batches, not per request
    Column("last_used_at", BigInteger),
    Column("last_used_from", String(64)),
    Index("ix_credentials_party", "party_id"),
)

# Each signed request's nonce, taken once: a signature seen once (by a proxy, in the audit log) cannot
# be sent again. Kept while a signed time could still be accepted, then pruned by the retention job.
signed_nonces = Table(
    "signed_nonces",
    metadata,
    Column("party_id", ID, nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("at", BigInteger, nullable=False),
    PrimaryKeyConstraint("party_id", "nonce"),
    Index("ix_signed_nonces_at", "at"),
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
    Column("signatories", Text, nullable=False, server_default="[]"),
    Column("separation_m", Float),
    Column("vertical_separation_m", Float),
    Column("schedule", Text),  # JSON: the hours its rules apply (domain.schedule); NULL: all the time
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
    Column("rationale", Text, nullable=False, server_default=""),
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
    Index("ix_activities_end", "t_end"),  # retention
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
    # when a conflict between plans begins, while it is open and its parties have not been reminded
    # of it (``services.hotline.remind_starting``); null otherwise. A column of its own, so that the
    # reminder's look every 15 s reads the conflicts about to begin and nothing else, on any engine.
    Column("remind_at", BigInteger),
    Index("ix_conflicts_zone", "zone_id", "status"),
    Index("ix_conflicts_end", "t_end"),  # retention
    Index("ix_conflicts_rule_status", "rule", "status"),  # the track detector, every cycle
    Index("ix_conflicts_remind_at", "remind_at"),
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

# Sign-offs and objections, on zone revisions and on document versions; the latest per party counts.
positions = Table(
    "positions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject_type", String(16), nullable=False),
    Column("subject_id", ID, nullable=False),
    Column("version", Integer, nullable=False),
    Column("party_id", ID, nullable=False),
    Column("position", String(16), nullable=False),
    Column("statement", Text, nullable=False),
    Column("at", BigInteger, nullable=False),
    Index("ix_positions_subject", "subject_type", "subject_id", "version"),
)

zone_documents = Table(
    "zone_documents",
    metadata,
    Column("id", ID, primary_key=True),
    Column("zone_id", ID, nullable=False),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_by", ID, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_zone_documents_zone", "zone_id"),
)

# The append-only, hash-chained audit log (see domain.audit). ``audit_state`` holds the chain's head in
# one row, locked by each appending transaction so entries get consecutive numbers.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("party_id", ID),
    Column("action", String(64), nullable=False),
    Column("entity_type", String(32), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("concerns", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("payload_digest", String(64), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # which of the acting party's tokens made the change, and the salt of its digest in the body
    Column("credential_id", ID),
    Column("actor_salt", String(32)),
    # one entity's history; one party's changes; one action's entries (a rare one is not found by
    # walking the whole log back)
    Index("ix_audit_log_entity", "entity_id", "seq"),
    Index("ix_audit_log_party", "party_id", "seq"),
    Index("ix_audit_log_action", "action", "seq"),
)

#: Audit entries of zones' negotiations (the daily report reads a day of them).
ZONE_STEP_ENTITIES = ("zone", "document")
ZONE_STEPS = audit_log.c.entity_type.in_([bindparam(None, e, literal_execute=True) for e in ZONE_STEP_ENTITIES])
# Partial, so that the entries every notification writes (activities, conflicts, messages) pay nothing
# for it. Queries repeat this condition with these values as literals, so that a plan made without
# the bound values (PostgreSQL's generic plans) can still use it.
Index("ix_audit_log_zone_steps", audit_log.c.at_ms, sqlite_where=ZONE_STEPS, postgresql_where=ZONE_STEPS)

audit_state = Table(
    "audit_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_heads = Table(
    "audit_heads",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
    Column("signed_at", BigInteger, nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
)

# --- the hotline -----------------------------------------------------------------------------------
# Threads between parties. An automatic thread (conflicts) has ``key``: a digest of its party set, so
# later conflicts between the same parties join it.
threads = Table(
    "threads",
    metadata,
    Column("id", ID, primary_key=True),
    Column("subject", String(300), nullable=False),
    Column("key", String(64), unique=True),
    Column("created_by", ID),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

thread_members = Table(
    "thread_members",
    metadata,
    Column("thread_id", ID, nullable=False),
    Column("party_id", ID, nullable=False),
    Column("role", String(16), nullable=False),  # member | escalation
    Column("joined_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("thread_id", "party_id"),
    Index("ix_thread_members_party", "party_id"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", ID, primary_key=True),
    Column("thread_id", ID, nullable=False),
    Column("sender_id", ID),
    Column("msg_type", String(8), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("certainty", String(16), nullable=False),
    Column("headline", String(300), nullable=False),
    Column("description", Text, nullable=False),
    Column("refs", Text, nullable=False),
    Column("conflict_id", ID),
    Column("activity_ids", Text, nullable=False),
    Column("zone_ids", Text, nullable=False),
    Column("regions", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_messages_thread", "thread_id", "id"),
    Index("ix_messages_conflict", "conflict_id"),
)

# One row per addressed party and message: its acknowledgement deadline and escalation progress.
# ``next_due`` is when the next escalation step fires (NULL: nothing more to do); the scheduler's scan.
message_addressees = Table(
    "message_addressees",
    metadata,
    Column("message_id", ID, nullable=False),
    Column("party_id", ID, nullable=False),
    Column("state", String(16), nullable=False),
    Column("deadline", BigInteger, nullable=False),
    Column("step", Integer, nullable=False),
    Column("next_due", BigInteger),
    Column("acked_at", BigInteger),
    Column("ack_message_id", ID),
    PrimaryKeyConstraint("message_id", "party_id"),
    Index("ix_message_addressees_party", "party_id", "state"),
    Index("ix_message_addressees_due", "next_due"),
)

escalation_contacts = Table(
    "escalation_contacts",
    metadata,
    Column("party_id", ID, nullable=False),
    Column("position", Integer, nullable=False),
    Column("contact_id", ID, nullable=False),
    PrimaryKeyConstraint("party_id", "position"),
)

# --- the live feed ---------------------------------------------------------------------------------
# Each party's events are numbered 1, 2, 3, … by its ``feed_heads`` row, locked by the appending
# transaction: numbers become visible in order, so a reader resuming after N misses nothing.
feed_heads = Table(
    "feed_heads",
    metadata,
    Column("party_id", ID, primary_key=True),
    Column("seq", BigInteger, nullable=False),
)

feed_events = Table(
    "feed_events",
    metadata,
    Column("party_id", ID, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("type", String(48), nullable=False),
    Column("payload", Text, nullable=False),
    Column("at", BigInteger, nullable=False),
    PrimaryKeyConstraint("party_id", "seq"),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", ID, primary_key=True),
    Column("party_id", ID, nullable=False),
    Column("url", String(2000), nullable=False),
    Column("secret", String(100), nullable=False),
    Column("event_types", Text, nullable=False),
    Column("active", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("format", String(8), nullable=False, server_default="json"),  # json | cap
    Index("ix_webhooks_party", "party_id"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", ID, primary_key=True),
    Column("webhook_id", ID, nullable=False),
    Column("party_id", ID, nullable=False),
    Column("event_seq", BigInteger, nullable=False),
    Column("event_type", String(48), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", BigInteger),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("delivered_at", BigInteger),
    Column("replay_of", ID),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_hook", "webhook_id", "id"),
)

# --- live tracks -----------------------------------------------------------------------------------
# The latest state of each track (one row per party and track id; older reports never overwrite newer),
# and every report as received, for replay and review (retention is an operations setting).
tracks = Table(
    "tracks",
    metadata,
    Column("party_id", ID, nullable=False),
    Column("track_id", String(64), nullable=False),
    Column("callsign", String(32), nullable=False),
    Column("t_ms", BigInteger, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("alt", Float, nullable=False),
    Column("gs", Float, nullable=False),
    Column("trk", Float, nullable=False),
    Column("vs", Float, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("activity_id", ID),
    PrimaryKeyConstraint("party_id", "track_id"),
    Index("ix_tracks_time", "t_ms"),
)

track_reports = Table(
    "track_reports",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("party_id", ID, nullable=False),
    Column("track_id", String(64), nullable=False),
    Column("t_ms", BigInteger, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("alt", Float, nullable=False),
    Column("gs", Float, nullable=False),
    Column("trk", Float, nullable=False),
    Column("vs", Float, nullable=False),
    Index("ix_track_reports_track", "party_id", "track_id", "t_ms"),
    Index("ix_track_reports_time", "t_ms"),  # retention
)

# --- ceasefire monitoring --------------------------------------------------------------------------
# Incidents in ACLED's vocabulary. Imported rows have an id derived from (dataset, external id), so a
# file imported twice is stored once. Dates are the day's start in ms; ``sources`` and ``tags`` JSON.
incidents = Table(
    "incidents",
    metadata,
    Column("id", ID, primary_key=True),
    Column("dataset", String(16), nullable=False),
    Column("external_id", String(64), nullable=False),
    Column("event_date", BigInteger, nullable=False),
    Column("date_end", BigInteger),
    Column("occurred_at", BigInteger),
    Column("time_precision", Integer, nullable=False),
    Column("disorder_type", String(48), nullable=False),
    Column("event_type", String(48), nullable=False),
    Column("sub_event_type", String(64), nullable=False),
    Column("actor1", String(300), nullable=False),
    Column("assoc_actor_1", String(600), nullable=False),
    Column("inter1", Integer, nullable=False),
    Column("actor2", String(300), nullable=False),
    Column("assoc_actor_2", String(600), nullable=False),
    Column("inter2", Integer, nullable=False),
    Column("civilian_targeting", Integer, nullable=False),
    Column("iso", Integer, nullable=False),
    Column("region", String(200), nullable=False),
    Column("country", String(200), nullable=False),
    Column("admin1", String(300), nullable=False),
    Column("admin2", String(300), nullable=False),
    Column("admin3", String(300), nullable=False),
    Column("location", String(300), nullable=False),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("geo_precision", Integer, nullable=False),
    Column("fatalities_low", Integer, nullable=False),
    Column("fatalities_best", Integer, nullable=False),
    Column("fatalities_high", Integer, nullable=False),
    Column("sources", Text, nullable=False),
    Column("notes", Text, nullable=False),
    Column("tags", Text, nullable=False),
    Column("source_timestamp", BigInteger),
    Column("reported_by", ID),
    Column("alleged", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("merged_into", ID),
    Column("version", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_incidents_date", "event_date"),
    Index("ix_incidents_merged", "merged_into"),
)

# The zones an incident happened in while they were in force (its possible violations).
incident_zones = Table(
    "incident_zones",
    metadata,
    Column("incident_id", ID, nullable=False),
    Column("zone_id", ID, nullable=False),
    Column("zone_revision", Integer, nullable=False),
    Column("event_date", BigInteger, nullable=False),
    PrimaryKeyConstraint("incident_id", "zone_id"),
    Index("ix_incident_zones_zone", "zone_id", "event_date"),
)

# Every verification step, merge and unmerge: who, when, from which status to which, and why.
incident_steps = Table(
    "incident_steps",
    metadata,
    Column("incident_id", ID, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("party_id", ID),
    Column("step", String(16), nullable=False),
    Column("from_status", String(16), nullable=False),
    Column("to_status", String(16), nullable=False),
    Column("statement", Text, nullable=False),
    PrimaryKeyConstraint("incident_id", "seq"),
)

# Evidence attached to an incident (domain.evidence): its bytes as given, and their SHA-256 digest.
incident_evidence = Table(
    "incident_evidence",
    metadata,
    Column("id", ID, primary_key=True),
    Column("incident_id", ID, nullable=False),
    Column("description", String(300), nullable=False),
    Column("mime_type", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("added_by", ID, nullable=False),
    Column("added_at", BigInteger, nullable=False),
    Index("ix_incident_evidence_incident", "incident_id", "added_at"),
)

# Each zone's status moves with their time: when it was in force, for incidents and the timeline.
zone_status_history = Table(
    "zone_status_history",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("zone_id", ID, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("status", String(32), nullable=False),
    Column("revision", Integer, nullable=False),
    Index("ix_zone_status_history_zone", "zone_id", "at"),
)

# Locks as rows, for PostgreSQL-compatible distributed SQL without advisory locks (``portable_sql``):
# a transaction locks a key with SELECT ... FOR UPDATE on its row (cells of the index, scheduled jobs).
lock_keys = Table(
    "lock_keys",
    metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
)

# Idempotency keys (``domain.idempotency``): written in the keyed write's own transaction, so a key is
# here exactly when its write is; the answer (status, a few headers, the body) is added just after.
# Pruned by the retention job after ``retain_idempotency_hours``.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("party_id", ID, nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(2000), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("entity_type", String(32)),
    Column("entity_id", String(64)),
    Column("status", Integer),
    Column("headers", Text),
    Column("body", LargeBinary),
    PrimaryKeyConstraint("party_id", "key"),
    Index("ix_idempotency_keys_at", "at"),
)

# Each party's agreement to a conflict it is concerned by (``domain.agreements``): one per party, the
# latest; ``basis`` is the digest of the conflict it was given to, so a changed conflict shows it lapsed.
conflict_agreements = Table(
    "conflict_agreements",
    metadata,
    Column("conflict_id", ID, nullable=False),
    Column("party_id", ID, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("statement", Text, nullable=False),
    Column("basis", String(64), nullable=False),
    PrimaryKeyConstraint("conflict_id", "party_id"),
)
