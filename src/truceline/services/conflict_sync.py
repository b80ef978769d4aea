"""Keep stored conflicts equal to what the rules decide now: open new ones, refresh those that still
hold, close those that no longer do (with the reason); the hotline hears of each opening and closing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from truceline.domain.agreements import basis
from truceline.domain.conflicts import Decision
from truceline.domain.model import Activity, Conflict, ConflictStatus, Subject, Zone
from truceline.services import audit, hotline
from truceline.services.policy import Policy
from truceline.services.unit_of_work import UnitOfWork


def _subject(a: Activity) -> Subject:
    return Subject(a.id, a.party_id, a.kind, a.window)


def sync(
    uow: UnitOfWork,
    policy: Policy,
    decisions: Sequence[Decision],
    *,
    in_scope: Iterable[str],
    activities: Mapping[str, Activity],
    zones: Mapping[str, Zone],
    now: datetime,
    gone_reason: str,
    fresh: bool = False,
) -> list[Conflict]:
    """Apply ``decisions``. ``in_scope`` are ids of open conflicts whose truth these decisions settle:
    any of them not confirmed by a conflicting decision is closed. Returns the open conflicts.
    ``fresh``: the decisions are about a brand-new activity, so none of their conflicts exists yet."""
    found = {d.conflict_id: d for d in decisions if d.conflict}
    scope = set(in_scope)
    # The reasons for closing; a new activity (most notifications) has nothing to close, and the id
    # of every decision, mostly "no conflict", is a digest worth not taking.
    verdicts = {d.conflict_id: d for d in decisions if not d.conflict} if scope - found.keys() else {}
    existing = {} if fresh or not (found or scope) else uow.conflicts.get_many([*found, *scope])
    opened: list[Conflict] = []
    new: list[Conflict] = []
    changed: list[Conflict] = []
    for cid, d in found.items():
        old = existing.get(cid)
        zone = zones.get(d.zone_id) if d.zone_id else None
        c = Conflict(
            id=cid,
            rule=d.rule,
            status=ConflictStatus.open,
            reason=d.reason,
            party_ids=list(d.party_ids),
            subjects=[_subject(activities[a]) for a in d.activity_ids],
            zone_id=d.zone_id,
            zone_revision=zone.revision if zone else None,
            regions=list(d.regions),
            created_at=old.created_at if old else now,
            updated_at=now,
        )
        opened.append(c)
        (new if old is None else changed).append(c)
    for cid in scope - set(found):
        old = existing.get(cid)
        if old is None or old.status is ConflictStatus.closed:
            continue
        v = verdicts.get(cid)
        old.status = ConflictStatus.closed
        old.closed_at = old.updated_at = now
        old.closed_reason = v.reason if v is not None else gone_reason
        changed.append(old)
    uow.conflicts.save_many(new, changed)
    closed = [c for c in changed if c.status is ConflictStatus.closed]
    refreshed = [c for c in changed if c.status is ConflictStatus.open]
    lapsed = _lapsed(uow, refreshed, existing) if refreshed else []
    for c in new:
        audit.record(
            uow,
            None,
            "conflict.opened",
            "conflict",
            c.id,
            {"rule": c.rule.value, "reason": c.reason},
            concerns=c.party_ids,
        )
    for c in closed:
        audit.record(uow, None, "conflict.closed", "conflict", c.id, {"reason": c.closed_reason}, concerns=c.party_ids)
    hotline.announce(uow, policy.hotline, new, closed)
    hotline.tell_agreements_lapsed(uow, policy.hotline, lapsed)
    return opened


def _lapsed(
    uow: UnitOfWork, refreshed: list[Conflict], before: Mapping[str, Conflict]
) -> list[tuple[Conflict, list[str]]]:
    """The refreshed conflicts whose change voids agreements that held before it, with the parties
    that gave them."""
    given = uow.conflicts.agreements([c.id for c in refreshed])
    out = []
    for c in refreshed:
        old = before.get(c.id)
        if old is None or not given.get(c.id):
            continue
        was, now = basis(old), basis(c)
        if was != now and (parties := [a.party_id for a in given[c.id] if a.basis == was]):
            out.append((c, parties))
    return out
