"""The unit of work's contract, as the services see it."""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Any, Protocol

from truceline.adapters.hotline_store import FeedRepository, HotlineRepository
from truceline.adapters.idempotency_store import IdempotencyRepository
from truceline.adapters.incident_store import IncidentRepository
from truceline.adapters.repositories import (
    ActivityRepository,
    AuditRepository,
    ConflictRepository,
    PartyRepository,
    Receipt,
    ZoneRepository,
)
from truceline.adapters.track_store import TrackRepository
from truceline.adapters.upkeep_store import UpkeepRepository
from truceline.adapters.webhook_store import WebhookRepository
from truceline.domain.clock import Clock
from truceline.domain.model import Credential


class UnitOfWork(Protocol):
    """One transaction. Rolls back on exit unless ``commit()`` was called."""

    parties: PartyRepository
    zones: ZoneRepository
    activities: ActivityRepository
    conflicts: ConflictRepository
    audit: AuditRepository
    hotline: HotlineRepository
    feed: FeedRepository
    webhooks: WebhookRepository
    tracks: TrackRepository
    incidents: IncidentRepository
    upkeep: UpkeepRepository
    keys: IdempotencyRepository
    clock: Clock
    signature: dict[str, Any] | None
    credential: Credential | None
    receipt: Receipt | None

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

    def reader(self) -> UnitOfWork:
        """A read-only unit of work on the same database and clock, apart from this one (it reads
        what is committed, without waiting for this one's locks)."""

    def rollback(self) -> None: ...

    def try_lock(self, key: int) -> bool:
        """Take a transaction-scoped lock unless another transaction holds it."""

    def lock_cells(self, cells: Iterable[int]) -> None:
        """Serialise writers that touch any of these cells, until the transaction ends."""
