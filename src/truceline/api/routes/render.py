"""Shared rendering of conflicts for routes that return them."""

from __future__ import annotations

from collections.abc import Iterable

from truceline.api import schemas, views
from truceline.api.deps import AppContext
from truceline.domain.model import Activity, Conflict, Party
from truceline.services import conflicts as conflict_service


def conflicts(
    ctx: AppContext, caller: Party, items: list[Conflict], known: Iterable[Activity] = (), *, fresh: bool = False
) -> list[schemas.ConflictRead]:
    """``fresh``: conflicts just found (a notification's), which no one can have agreed to yet."""
    if not items:
        return []
    names, titles, zone_names, standing = conflict_service.labels(ctx.uow(), caller, items, known, fresh=fresh)
    return [views.conflict(c, caller, names, titles, zone_names, standing.get(c.id)) for c in items]
