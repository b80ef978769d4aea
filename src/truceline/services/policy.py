"""The numbers services work with, built from settings by the app factory (never at import time)."""

from __future__ import annotations

from dataclasses import dataclass, field

from truceline.domain.ceasefire import Thresholds
from truceline.domain.cells import DEFAULT_RESOLUTION
from truceline.domain.conflicts import Margins
from truceline.domain.geometry import GeometryLimits
from truceline.domain.hotline import HotlinePolicy
from truceline.domain.incidents import DuplicateRules


@dataclass(frozen=True)
class WebhookPolicy:
    """Retries back off exponentially (base, 2·base, … up to cap) until ``max_attempts``; a claimed
    delivery is leased for ``lease_s`` so a process that dies mid-send does not lose it."""

    max_attempts: int = 8
    backoff_base_s: float = 2.0
    backoff_cap_s: float = 3600.0
    timeout_s: float = 5.0
    lease_s: float = 60.0
    batch: int = 100
    per_hook: int = 10


@dataclass(frozen=True)
class MonitoringPolicy:
    """Ceasefire monitoring: when a day is strained or broken, what counts as a duplicate, how imports
    batch their transactions and how many bad rows they list."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    duplicates: DuplicateRules = field(default_factory=DuplicateRules)
    import_batch: int = 20_000
    max_problems: int = 1_000
    max_timeline_days: int = 366
    max_evidence_bytes: int = 10_485_760


@dataclass(frozen=True)
class Policy:
    margins: Margins = field(default_factory=Margins)
    limits: GeometryLimits = field(default_factory=GeometryLimits)
    resolution: int = DEFAULT_RESOLUTION
    max_volumes: int = 100
    hotline: HotlinePolicy = field(default_factory=HotlinePolicy)
    webhooks: WebhookPolicy = field(default_factory=WebhookPolicy)
    monitoring: MonitoringPolicy = field(default_factory=MonitoringPolicy)
