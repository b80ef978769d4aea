"""The store's upkeep: counts operators watch, and pruning what retention no longer keeps."""

from __future__ import annotations

from sqlalchemy import Connection, delete, func, select

from truceline.adapters import tables as t
from truceline.domain.webhooks import DeliveryStatus

_DONE = (DeliveryStatus.delivered.value, DeliveryStatus.failed.value)


class UpkeepRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def open_conflicts_by_rule(self) -> dict[str, int]:
        c = t.conflicts.c
        q = select(c.rule, func.count()).where(c.status == "open").group_by(c.rule)
        return {rule: int(n) for rule, n in self.conn.execute(q)}

    def receipts_by_state(self) -> dict[str, int]:
        a = t.message_addressees.c
        return {state: int(n) for state, n in self.conn.execute(select(a.state, func.count()).group_by(a.state))}

    def prune_activities(self, ended_before_ms: int, *, limit: int) -> int:
        """Delete up to ``limit`` activities that ended before the cutoff, with their volumes and
        cell-index rows. Returns how many went."""
        a = t.activities.c
        ids = list(self.conn.execute(select(a.id).where(a.t_end < ended_before_ms).limit(limit)).scalars())
        if not ids:
            return 0
        self.conn.execute(delete(t.volume_cells).where(t.volume_cells.c.activity_id.in_(ids)))
        self.conn.execute(delete(t.activity_volumes).where(t.activity_volumes.c.activity_id.in_(ids)))
        self.conn.execute(delete(t.conflict_activities).where(t.conflict_activities.c.activity_id.in_(ids)))
        self.conn.execute(delete(t.activities).where(a.id.in_(ids)))
        return len(ids)

    def prune_conflicts(self, ended_before_ms: int, *, limit: int) -> int:
        """Delete up to ``limit`` conflicts whose 4D region ended before the cutoff."""
        c = t.conflicts.c
        ids = list(
            self.conn.execute(
                select(c.id).where(c.t_end.is_not(None), c.t_end < ended_before_ms).limit(limit)
            ).scalars()
        )
        if not ids:
            return 0
        self.conn.execute(delete(t.conflict_parties).where(t.conflict_parties.c.conflict_id.in_(ids)))
        self.conn.execute(delete(t.conflict_activities).where(t.conflict_activities.c.conflict_id.in_(ids)))
        self.conn.execute(delete(t.conflict_agreements).where(t.conflict_agreements.c.conflict_id.in_(ids)))
        self.conn.execute(delete(t.conflicts).where(c.id.in_(ids)))
        return len(ids)

    def prune_track_reports(self, before_ms: int, *, limit: int) -> int:
        r = t.track_reports.c
        ids = list(self.conn.execute(select(r.id).where(r.t_ms < before_ms).limit(limit)).scalars())
        if ids:
            self.conn.execute(delete(t.track_reports).where(r.id.in_(ids)))
        return len(ids)

    def prune_tracks(self, last_seen_before_ms: int) -> int:
        """Tracks whose last position is older than the cutoff: long stale, gone from every picture."""
        res = self.conn.execute(delete(t.tracks).where(t.tracks.c.t_ms < last_seen_before_ms))
        return int(res.rowcount or 0)

    def prune_feed(self, before_ms: int, *, limit: int) -> int:
        """Each party's oldest feed events made before the cutoff, up to ``limit`` a party. A feed only
        ever loses its oldest events, so a reader resuming from further back sees where the kept
        events start (and is told). Read by primary key: no index on the time, none to feed."""
        fe = t.feed_events.c
        gone = 0
        for party in list(self.conn.execute(select(t.feed_heads.c.party_id)).scalars()):
            oldest = self.conn.execute(
                select(fe.seq, fe.at).where(fe.party_id == party).order_by(fe.seq).limit(limit)
            ).all()
            last = None
            for r in oldest:  # the prefix made before the cutoff
                if r.at >= before_ms:
                    break
                last = r.seq
            if last is not None:
                res = self.conn.execute(delete(t.feed_events).where(fe.party_id == party, fe.seq <= last))
                gone += int(res.rowcount or 0)
        return gone

    def prune_deliveries(self, before_ms: int, *, limit: int) -> int:
        """Webhook deliveries done with (delivered, or failed for good) and made before the cutoff."""
        d = t.webhook_deliveries.c
        ids = list(
            self.conn.execute(
                select(d.id).where(d.status.in_(_DONE), d.created_at < before_ms).limit(limit)
            ).scalars()
        )
        if ids:
            self.conn.execute(delete(t.webhook_deliveries).where(d.id.in_(ids)))
        return len(ids)

    def prune_nonces(self, signed_before_ms: int) -> int:
        """Nonces of requests signed before the cutoff: such a signature is refused for its time anyway."""
        res = self.conn.execute(delete(t.signed_nonces).where(t.signed_nonces.c.at < signed_before_ms))
        return int(res.rowcount or 0)
