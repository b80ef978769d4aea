"""Reading conflicts: each party sees the conflicts it is concerned by."""

from __future__ import annotations

from collections.abc import Iterable

from truceline.domain.agreements import Agreement, Standing, basis, check_agreeable, standing
from truceline.domain.errors import NotFound, StateConflict
from truceline.domain.model import Activity, Conflict, Party, TimeWindow
from truceline.services import audit, hotline
from truceline.services.access import require
from truceline.services.policy import Policy
from truceline.services.unit_of_work import UnitOfWork


def list_conflicts(
    uow: UnitOfWork,
    caller: Party,
    *,
    status: str | None = "open",
    rule: str | None = None,
    zone_id: str | None = None,
    window: TimeWindow | None = None,
    coordinated: bool | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[Conflict]:
    """The caller's conflicts, by when they happen; ``window``: those whose time meets it;
    ``coordinated``: only those every party concerned agrees to (or only the others)."""
    require(caller, "conflict.read")
    with uow:
        if coordinated is None:
            return uow.conflicts.list_for_party(
                caller.id, status=status, rule=rule, zone_id=zone_id, window=window, limit=limit, offset=offset
            )
        # A conflict is coordinated when every party it concerns agrees to it as it is now, the caller
        # too: so the caller's coordinated conflicts are among the few it has agreed to. Those are
        # worked out here, and the listing takes them, or leaves them out, in SQL.
        agreed = uow.conflicts.get_many(uow.conflicts.agreed_by(caller.id))
        now = standings_in(uow, list(agreed.values()))
        handled = {cid for cid, standing in now.items() if standing.coordinated}
        return uow.conflicts.list_for_party(
            caller.id,
            status=status,
            rule=rule,
            zone_id=zone_id,
            window=window,
            among=handled if coordinated else None,
            excluding=() if coordinated else handled,
            limit=limit,
            offset=offset,
        )


def get(uow: UnitOfWork, caller: Party, conflict_id: str) -> Conflict:
    require(caller, "conflict.read")
    with uow:
        c = uow.conflicts.get(conflict_id)
    if c is None or caller.id not in c.party_ids:
        raise NotFound(f"no conflict {conflict_id} that concerns you")
    return c


def labels(
    uow: UnitOfWork, caller: Party, conflicts: list[Conflict], known: Iterable[Activity] = (), *, fresh: bool = False
) -> tuple[dict[str, str], dict[str, str], dict[str, str], dict[str, Standing]]:
    """Names to show with conflicts: parties, the caller's own activity titles (others' stay hidden),
    and zones; and where each conflict's agreements stand. ``known``: activities the caller already
    has at hand (such as the one just notified), whose titles need no reading. ``fresh``: conflicts
    just found, which no one can have agreed to yet."""
    own = {s.activity_id for c in conflicts for s in c.subjects if s.party_id == caller.id}
    titles = {a.id: a.title for a in known if a.id in own and a.party_id == caller.id}
    with uow:
        names = uow.parties.names({p for c in conflicts for p in c.party_ids})
        if missing := own - titles.keys():
            titles.update(uow.activities.titles(missing))
        zone_names = uow.zones.names({c.zone_id for c in conflicts if c.zone_id})
        now = {c.id: standing(c, []) for c in conflicts} if fresh else standings_in(uow, conflicts)
        agreeing = {a.party_id for s in now.values() for a, _ in s.agreements}
        names.update(uow.parties.names(agreeing - names.keys()))
    return names, titles, zone_names, now


def standings_in(uow: UnitOfWork, conflicts: list[Conflict]) -> dict[str, Standing]:
    """Where each conflict's agreements stand (in the current transaction)."""
    given = uow.conflicts.agreements([c.id for c in conflicts]) if conflicts else {}
    return {c.id: standing(c, given.get(c.id, [])) for c in conflicts}


def agree(uow: UnitOfWork, policy: Policy, caller: Party, conflict_id: str, statement: str) -> Conflict:
    """The caller's party agrees to a conflict that concerns it, saying how it is handled; the others
    concerned hear of it in the conflict's hotline thread, and the party's copies of the conflict's
    Alert are acknowledged. Given again, it replaces the earlier one."""
    require(caller, "conflict.agree")
    with uow:
        # locked: two parties agreeing at once each see the other's agreement, and one says "coordinated"
        c = check_agreeable(uow.conflicts.get(conflict_id, for_update=True), conflict_id, caller.id)
        given = Agreement(c.id, caller.id, uow.clock(), statement, basis(c))
        uow.conflicts.agree(given)
        now = standings_in(uow, [c])[c.id]
        audit.record(uow, caller, "conflict.agreed", "conflict", c.id,
                     {"statement": statement, "basis": given.basis, "coordinated": now.coordinated},
                     concerns=c.party_ids)  # fmt: skip
        # a party that agrees to the conflict has seen it: its copies of the conflict's Alert that still
        # wait are acknowledged, and stop escalating
        hotline.acknowledge_conflict_alerts(uow, caller, c.id, f"Agreed to the conflict: {statement}")
        name = caller.name
        done = " Every party concerned now agrees: the conflict is coordinated." if now.coordinated else ""
        hotline.tell_about_conflict(uow, policy.hotline, caller, c,
                                    f"{name} agrees to the conflict: {statement}{' (coordinated)' if done else ''}",
                                    f"{c.reason}\n{name} agrees: {statement}.{done}")  # fmt: skip
        uow.commit()
    return c


def withdraw(uow: UnitOfWork, policy: Policy, caller: Party, conflict_id: str, statement: str) -> Conflict:
    """The caller's party no longer agrees to a conflict (the others hear of it)."""
    require(caller, "conflict.agree")
    with uow:
        c = check_agreeable(uow.conflicts.get(conflict_id, for_update=True), conflict_id, caller.id)
        if not uow.conflicts.withdraw(c.id, caller.id):
            raise StateConflict(f"your party has not agreed to conflict {conflict_id}")
        audit.record(uow, caller, "conflict.agreement_withdrawn", "conflict", c.id, {"statement": statement},
                     concerns=c.party_ids)  # fmt: skip
        name = caller.name
        why = f": {statement}" if statement else ""
        hotline.tell_about_conflict(uow, policy.hotline, caller, c, f"{name} no longer agrees to the conflict{why}",
                                    f"{c.reason}\n{name} withdraws its agreement{why}.")  # fmt: skip
        uow.commit()
    return c
