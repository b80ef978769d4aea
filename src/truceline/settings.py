"""Typed settings, read from the environment (``TRUCELINE_*``) by the app factory, never at import."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from truceline.domain.ceasefire import Thresholds
from truceline.domain.conflicts import Margins
from truceline.domain.geometry import GeometryLimits
from truceline.domain.hotline import HotlinePolicy, Severity
from truceline.domain.incidents import DuplicateRules
from truceline.services.policy import MonitoringPolicy, Policy, WebhookPolicy

if TYPE_CHECKING:  # the detector (and numba) load only where tracks are used, not with every command
    from truceline.services.tracks import TrackPolicy

RULES = ("zone_rule", "overlap", "separation", "incursion")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRUCELINE_", extra="ignore")

    database_url: str = "sqlite:///./truceline.db"
    # PostgreSQL-compatible distributed SQL (CockroachDB, YugabyteDB): row locks instead of advisory
    # locks, live feeds polled instead of LISTEN/NOTIFY (see docs/deployment.md)
    portable_sql: bool = False
    # where the API's busiest routes (authentication, notifying, updating, cancelling) do their database
    # work: on the event loop (no hand-off to a worker thread, about a quarter less CPU per request) or
    # on the thread pool. None picks by database: SQLite on the loop, since its writers queue on one lock
    # anyway; PostgreSQL on the pool, so the loop serves others while a request waits on the server.
    db_work_on_loop: bool | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    overlap_horizontal_m: float = Field(1_000.0, ge=0, le=100_000)
    overlap_vertical_m: float = Field(150.0, ge=0, le=10_000)
    max_vertices: int = Field(10_000, ge=4, le=1_000_000)
    max_area_km2: float = Field(250_000.0, gt=0)
    max_volumes: int = Field(100, ge=1, le=10_000)
    max_body_bytes: int = Field(1_048_576, ge=1024)
    #: the largest file attached to an incident (a photograph, a report), before base64
    max_evidence_bytes: int = Field(10_485_760, ge=1024, le=1_073_741_824)
    cell_resolution: int = Field(6, ge=3, le=9)
    migrate_on_start: bool = True
    audit_key_file: Path = Path("./truceline-audit.key")
    audit_head_seconds: float = Field(60.0, gt=0, le=60.0)
    zone_clock_seconds: float = Field(5.0, gt=0)
    # the hotline: acknowledgement deadlines (seconds) for messages people send, by CAP severity, and for
    # the alert a conflict opens, by rule; escalation steps in seconds after the deadline (JSON in env)
    ack_seconds_by_severity: dict[str, float] = Field(
        default_factory=lambda: {
            "Extreme": 120.0,
            "Severe": 600.0,
            "Moderate": 1800.0,
            "Minor": 7200.0,
            "Unknown": 1800.0,
        }
    )
    ack_seconds_by_rule: dict[str, float] = Field(
        default_factory=lambda: {"separation": 120.0, "incursion": 120.0, "overlap": 1800.0, "zone_rule": 7200.0}
    )
    escalation_steps_seconds: list[float] = Field(default_factory=lambda: [0.0, 600.0, 1800.0], min_length=1)
    hotline_clock_seconds: float = Field(1.0, gt=0)
    # a conflict between plans not coordinated this long before it begins is recalled on the hotline
    # (0: never); looked for every reminder_clock_seconds
    conflict_reminder_minutes: float = Field(60.0, ge=0, le=7 * 24 * 60)
    reminder_clock_seconds: float = Field(15.0, gt=0)
    events_poll_seconds: float = Field(1.0, gt=0, le=30)
    # how often a live feed checks that its token still works (revoked or expired: the stream ends)
    events_token_check_seconds: float = Field(15.0, gt=0, le=300)
    # how often each process writes down the token uses it has seen (a token's "last used")
    token_use_seconds: float = Field(15.0, gt=0)
    webhook_poll_seconds: float = Field(1.0, gt=0)
    webhook_max_attempts: int = Field(8, ge=1, le=50)
    webhook_backoff_base_seconds: float = Field(2.0, gt=0)
    webhook_backoff_cap_seconds: float = Field(3600.0, gt=0)
    webhook_timeout_seconds: float = Field(5.0, gt=0, le=60)
    # live tracks: separation minima (defaults 5 NM, 1,000 ft), look-ahead, detection cycle
    separation_horizontal_m: float = Field(9_260.0, gt=0, le=200_000)
    separation_vertical_m: float = Field(304.8, gt=0, le=10_000)
    lookahead_seconds: float = Field(300.0, gt=0, le=3_600)
    track_cycle_seconds: float = Field(1.0, gt=0)
    track_stale_seconds: float = Field(30.0, gt=0)
    track_clear_seconds: float = Field(10.0, ge=0)
    track_near_m: float = Field(50_000.0, ge=0)
    max_track_body_bytes: int = Field(32 * 1_048_576, ge=1024)
    # ceasefire monitoring: when an in-force day is broken or strained (see domain.ceasefire), how near
    # two records must be to be offered as duplicates, and the largest import upload
    ceasefire_broken_verified: int = Field(2, ge=1)
    ceasefire_broken_fatalities: int = Field(10, ge=1)
    ceasefire_strained_reported: int = Field(2, ge=1)
    ceasefire_strained_fatalities: int = Field(1, ge=1)
    duplicate_km: float = Field(10.0, gt=0, le=500)
    duplicate_days: int = Field(1, ge=0, le=60)
    max_import_body_bytes: int = Field(256 * 1_048_576, ge=1024)
    # the web map: an online tile layer when set (e.g. https://tile.example.org/{z}/{x}/{y}.png); the offline
    # Natural Earth basemap otherwise. ``web_opens_at`` is the moment the map first shows (default: now).
    web_tile_url: str | None = None
    web_tile_attribution: str = ""
    web_opens_at: str | None = None
    # operations: logs (``json``: one JSON object per line, with the request id), how long a stopping
    # server lets requests in flight finish, and how long ended activities and track history are kept
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    graceful_shutdown_seconds: float = Field(30.0, gt=0, le=600)
    # the proxies whose X-Forwarded-For names the client (a token's "last used from"): comma-separated
    # addresses or networks, "*" for any; none: uvicorn's default, this machine only
    forwarded_allow_ips: str | None = None
    retain_activities_days: float | None = Field(90.0, gt=0, description="ended activities; None keeps them")
    retain_track_hours: float | None = Field(48.0, gt=0, description="track reports; None keeps them")
    retain_feed_days: float | None = Field(
        30.0, gt=0, description="live feed events and finished webhook deliveries; None keeps them"
    )
    retain_idempotency_hours: float = Field(
        24.0, gt=0, description="Idempotency-Key answers, for clients retrying a write whose answer was lost"
    )
    metrics_token: str | None = Field(None, description="when set, /metrics wants it as a bearer token")
    retention_seconds: float = Field(3600.0, gt=0, description="how often the retention job runs")
    # a signed request's time (t= in Truceline-Signature) may be this far from the server's clock
    signature_window_seconds: float = Field(300.0, gt=0, le=3600)

    @field_validator("retain_activities_days", "retain_track_hours", "retain_feed_days", mode="before")
    @classmethod
    def _keep_everything(cls, v: object) -> object:
        # an empty value (TRUCELINE_RETAIN_FEED_DAYS=) keeps everything, as the deployment guide says
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("ack_seconds_by_severity")
    @classmethod
    def _severities(cls, v: dict[str, float]) -> dict[str, float]:
        return _durations(v, tuple(Severity), "severity")

    @field_validator("ack_seconds_by_rule")
    @classmethod
    def _rules(cls, v: dict[str, float]) -> dict[str, float]:
        return _durations(v, RULES, "conflict rule")

    @field_validator("escalation_steps_seconds")
    @classmethod
    def _steps(cls, v: list[float]) -> list[float]:
        if any(x < 0 for x in v) or v != sorted(v):
            raise ValueError("escalation steps are seconds after the deadline, ≥ 0 and in increasing order")
        return v

    @field_validator("web_opens_at")
    @classmethod
    def _opens_at(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("must be an RFC 3339 time, such as 2017-07-10T09:00:00Z") from None
        return v

    def track_policy(self) -> TrackPolicy:
        from truceline.domain.tactical import Minima
        from truceline.services.tracks import TrackPolicy

        return TrackPolicy(
            minima=Minima(self.separation_horizontal_m, self.separation_vertical_m, self.lookahead_seconds),
            stale_s=self.track_stale_seconds,
            clear_s=self.track_clear_seconds,
            near_m=self.track_near_m,
        )

    def policy(self) -> Policy:
        return Policy(
            margins=Margins(self.overlap_horizontal_m, self.overlap_vertical_m),
            limits=GeometryLimits(self.max_vertices, self.max_area_km2),
            resolution=self.cell_resolution,
            max_volumes=self.max_volumes,
            hotline=HotlinePolicy(
                ack_by_severity=dict(self.ack_seconds_by_severity),
                ack_by_rule=dict(self.ack_seconds_by_rule),
                escalation_steps=tuple(self.escalation_steps_seconds),
                remind_before_s=self.conflict_reminder_minutes * 60,
            ),
            webhooks=WebhookPolicy(
                max_attempts=self.webhook_max_attempts,
                backoff_base_s=self.webhook_backoff_base_seconds,
                backoff_cap_s=self.webhook_backoff_cap_seconds,
                timeout_s=self.webhook_timeout_seconds,
            ),
            monitoring=MonitoringPolicy(
                thresholds=Thresholds(
                    broken_verified=self.ceasefire_broken_verified,
                    broken_fatalities=self.ceasefire_broken_fatalities,
                    strained_reported=self.ceasefire_strained_reported,
                    strained_fatalities=self.ceasefire_strained_fatalities,
                ),
                duplicates=DuplicateRules(km=self.duplicate_km, days=self.duplicate_days),
                max_evidence_bytes=self.max_evidence_bytes,
            ),
        )


def _durations(v: dict[str, float], known: tuple[str, ...], what: str) -> dict[str, float]:
    for k, seconds in v.items():
        if k not in known:
            raise ValueError(f"unknown {what} {k!r}; known: {', '.join(known)}")
        if not 1 <= seconds <= 7 * 24 * 3600:
            raise ValueError(f"the deadline for {k} must be between 1 s and 7 days")
    return v
