"""Keeping the store bounded and watchable: retention of ended activities, old track history, old
live-feed events and finished webhook deliveries, and the counts ``/metrics`` reads. The audit log and
the hotline's threads are never pruned: they are the record (the audit log also says what went, and
why)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta

from truceline.domain.cells import to_ms
from truceline.domain.volumes import format_time
from truceline.services import audit
from truceline.services.unit_of_work import UnitOfWork

#: one process at a time prunes
RETENTION_LOCK = 0x7472_7072_756E  # "trprun"


@dataclass(frozen=True)
class Retention:
    activities_days: float | None = 90.0
    track_hours: float | None = 48.0
    #: signed requests' nonces are kept this long: past it, their signed time is refused anyway
    nonce_seconds: float = 660.0
    batch: int = 5_000
    #: live-feed events (a copy of what they announce, kept for readers resuming) and webhook
    #: deliveries that are done with (delivered or failed)
    feed_days: float | None = 30.0
    #: idempotency keys, and the answers kept with them (a client retries within minutes, not days)
    idempotency_hours: float = 24.0


@dataclass(frozen=True)
class Pruned:
    activities: int = 0
    conflicts: int = 0
    track_reports: int = 0
    tracks: int = 0
    signed_nonces: int = 0
    feed_events: int = 0
    webhook_deliveries: int = 0
    idempotency_keys: int = 0

    def __bool__(self) -> bool:
        return any(asdict(self).values())

    def __add__(self, other: Pruned) -> Pruned:
        return Pruned(**{k: v + getattr(other, k) for k, v in asdict(self).items()})


def store_counts(uow: UnitOfWork) -> tuple[dict[str, int], dict[str, int]]:
    """Open conflicts by rule, and hotline receipts by state."""
    with uow:
        return uow.upkeep.open_conflicts_by_rule(), uow.upkeep.receipts_by_state()


def prune(make_uow: Callable[[], UnitOfWork], retention: Retention) -> Pruned:
    """Delete, in batches of short transactions (writers never wait long behind it), activities and
    conflicts that ended more than ``activities_days`` ago, track reports older than ``track_hours``,
    feed events and finished webhook deliveries older than ``feed_days``, the nonces of requests
    signed longer ago than a signed time is accepted, and idempotency keys older than
    ``idempotency_hours``.
    Each batch's audit entry says what went and the cutoff."""
    total = Pruned()
    while True:
        with make_uow() as uow:
            if not uow.try_lock(RETENTION_LOCK):
                return total
            now = uow.clock()
            got = Pruned()
            cutoffs: dict[str, object] = {}
            if retention.activities_days is not None:
                cutoff = now - timedelta(days=retention.activities_days)
                ms = to_ms(cutoff)
                got += Pruned(
                    activities=uow.upkeep.prune_activities(ms, limit=retention.batch),
                    conflicts=uow.upkeep.prune_conflicts(ms, limit=retention.batch),
                )
                cutoffs["ended_before"] = format_time(cutoff)
            if retention.track_hours is not None:
                cutoff = now - timedelta(hours=retention.track_hours)
                ms = to_ms(cutoff)
                got += Pruned(
                    track_reports=uow.upkeep.prune_track_reports(ms, limit=retention.batch),
                    tracks=uow.upkeep.prune_tracks(ms),
                )
                cutoffs["tracks_before"] = format_time(cutoff)
            if retention.feed_days is not None:
                cutoff = now - timedelta(days=retention.feed_days)
                ms = to_ms(cutoff)
                got += Pruned(
                    feed_events=uow.upkeep.prune_feed(ms, limit=retention.batch),
                    webhook_deliveries=uow.upkeep.prune_deliveries(ms, limit=retention.batch),
                )
                cutoffs["feed_before"] = format_time(cutoff)
            signed_before = to_ms(now - timedelta(seconds=retention.nonce_seconds))
            got += Pruned(signed_nonces=uow.upkeep.prune_nonces(signed_before))
            keys_before = to_ms(now - timedelta(hours=retention.idempotency_hours))
            got += Pruned(idempotency_keys=uow.keys.prune(keys_before))
            if not got:
                return total
            audit.record(uow, None, "retention.pruned", "store", "retention", {**cutoffs, **asdict(got)})
            uow.commit()
        total += got
