"""Reading conflicts: each party sees the conflicts it is concerned by."""

from __future__ import annotations

from collections.abc import Iterable

from truceline.domain.errors import NotFound
from truceline.domain.model import Activity, Conflict, Party, TimeWindow
from truceline.services.access import require
from truceline.services.unit_of_work import UnitOfWork


def list_conflicts(
    uow: UnitOfWork,
    caller: Party,
    *,
    status: str | None = "open",
    rule: str | None = None,
    zone_id: str | None = None,
    window: TimeWindow | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[Conflict]:
    """The caller's conflicts, by when they happen; ``window``: those whose time meets it."""
    require(caller, "conflict.read")
    with uow:
        return uow.conflicts.list_for_party(
            caller.id, status=status, rule=rule, zone_id=zone_id, window=window, limit=limit, offset=offset
        )


def get(uow: UnitOfWork, caller: Party, conflict_id: str) -> Conflict:
    require(caller, "conflict.read")
    with uow:
        c = uow.conflicts.get(conflict_id)
    if c is None or caller.id not in c.party_ids:
        raise NotFound(f"no conflict {conflict_id} that concerns you")
    return c


def labels(
    uow: UnitOfWork, caller: Party, conflicts: list[Conflict], known: Iterable[Activity] = ()
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Names to show with conflicts: parties, the caller's own activity titles (others' stay hidden),
    and zones. ``known``: activities the caller already has at hand (such as the one just notified),
    whose titles need no reading."""
    own = {s.activity_id for c in conflicts for s in c.subjects if s.party_id == caller.id}
    titles = {a.id: a.title for a in known if a.id in own and a.party_id == caller.id}
    with uow:
        names = uow.parties.names({p for c in conflicts for p in c.party_ids})
        if missing := own - titles.keys():
            titles.update(uow.activities.titles(missing))
        zone_names = uow.zones.names({c.zone_id for c in conflicts if c.zone_id})
    return names, titles, zone_names
