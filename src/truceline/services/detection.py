"""Conflict detection for an activity being written: its cell covering, the candidates the index
returns near it, the decisions on them, and keeping stored conflicts equal to those decisions.

In a crowded area, notify decides once before taking the write lock (``look``) and, under it, only
for the candidates that changed in between (``detect``), so the lock is held for the writes alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from shapely.geometry.base import BaseGeometry

from truceline.domain import cells as cellmod
from truceline.domain.conflicts import Decision, Projections, find
from truceline.domain.geometry import LocalFrame, project
from truceline.domain.model import Activity, ActivityStatus, Conflict, Volume, Zone
from truceline.services import conflict_sync
from truceline.services.policy import Policy
from truceline.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Covering:
    """Per volume: the cells it occupies (stored in the index) and the cells to search (grown by the
    horizontal margin)."""

    stored: list[set[int]]
    search: list[set[int]]
    #: each volume's local frame and footprint in it, made for the covering and reused by detection
    projected: list[tuple[LocalFrame, BaseGeometry]] = field(default_factory=list)

    @property
    def all_search(self) -> set[int]:
        return cellmod.union_cells(self.search)


def cover_volumes(volumes: Sequence[Volume], policy: Policy) -> Covering:
    stored, search, projected = [], [], []
    # a plan that repeats has the same footprint in each occurrence: it is covered once
    done: dict[int, tuple[set[int], set[int], tuple[LocalFrame, BaseGeometry]]] = {}
    for v in volumes:
        hit = done.get(id(v.footprint))
        if hit is None:
            local = project(v.footprint)
            plain, grown = cellmod.cover(
                v.footprint, resolution=policy.resolution, grow_m=(0.0, policy.margins.horizontal_m), projected=local
            )
            hit = done[id(v.footprint)] = (plain, grown, local)
        stored.append(hit[0])
        search.append(hit[1])
        projected.append(hit[2])
    return Covering(stored, search, projected)


@dataclass(frozen=True)
class Seen:
    """Decisions on an activity's candidates as ``look`` found them, before the write lock."""

    zones: dict[str, Zone]
    activities: dict[str, Activity]
    #: by the candidate each is about: a zone's id, or the other activity's
    decisions: dict[str, Decision]
    local: Projections


def projections(activity: Activity, covering: Covering) -> Projections:
    local = Projections()
    for v, p in zip(activity.volumes, covering.projected, strict=True):
        local.add(v.footprint, p)
    return local


def candidates(uow: UnitOfWork, policy: Policy, activity: Activity, covering: Covering) -> tuple[list[Zone], set[str]]:
    """Zones in force and other parties' activities the cell index puts near ``activity``."""
    zones = uow.zones.candidates(covering.all_search, activity.window)
    ids: set[str] = set()
    for v, cells in zip(activity.volumes, covering.search, strict=True):
        ids |= uow.activities.candidate_ids(
            cells,
            cellmod.query_buckets(v.window),
            v.window,
            v.altitude,
            vertical_m=policy.margins.vertical_m,
            exclude_party=activity.party_id,
        )
    return zones, ids


def _about(d: Decision, subject_id: str) -> str:
    return d.zone_id or next(i for i in d.activity_ids if i != subject_id)


class Crowding:
    """Where this process has lately found many candidates. Looking before the lock (``look``) costs
    a second read of the candidates; it pays where there are many to load and decide (a busy area),
    not where there are none (most of a theatre). What it remembers only chooses between two
    equally correct paths."""

    #: candidates (zones and activities) from which a search's cells count as crowded
    THRESHOLD = 4
    MAX_CELLS = 100_000

    def __init__(self) -> None:
        self._cells: set[int] = set()

    def crowded(self, cells: set[int]) -> bool:
        return not self._cells.isdisjoint(cells)

    def found(self, cells: set[int], candidates: int) -> None:
        if candidates >= self.THRESHOLD:
            if len(self._cells) + len(cells) > self.MAX_CELLS:
                self._cells.clear()
            self._cells |= cells
        else:
            self._cells -= cells


crowding = Crowding()


def look_if_crowded(uow: UnitOfWork, policy: Policy, activity: Activity, covering: Covering) -> Seen | None:
    """``look`` where this process lately found a crowd near ``activity``; elsewhere nothing."""
    return look(uow, policy, activity, covering) if crowding.crowded(covering.all_search) else None


def look(uow: UnitOfWork, policy: Policy, activity: Activity, covering: Covering) -> Seen:
    """Decide ``activity`` against what is stored now, in a read transaction of its own, before the
    write lock is taken. Loading the candidates and the geometry are most of detection's cost; done
    here, they hold up no other writer. Under the lock, ``detect`` reads the candidates again and
    decides only those that are new or changed since (a zone's state, an activity's version)."""
    local = projections(activity, covering)
    with uow.reader() as view:
        zones, ids = candidates(view, policy, activity, covering)
        others = view.activities.get_many(sorted(ids))
    decisions = find(activity, zones=zones, activities=others, margins=policy.margins, local=local)
    return Seen(
        {z.id: z for z in zones},
        {a.id: a for a in others},
        {_about(d, activity.id): d for d in decisions},
        local,
    )


def detect(
    uow: UnitOfWork,
    policy: Policy,
    activity: Activity,
    covering: Covering,
    *,
    is_new: bool = False,
    seen: Seen | None = None,
) -> list[Conflict]:
    """Find and store every conflict of ``activity``; close the ones of its that no longer hold.
    ``seen``: what ``look`` decided before the lock, kept for the candidates unchanged since."""
    now = uow.clock()
    decisions: list[Decision] = []
    if activity.status is ActivityStatus.active:
        zones, ids = candidates(uow, policy, activity, covering)
        crowding.found(covering.all_search, len(zones) + len(ids))
        kept_zones: list[Zone] = []
        kept: list[Activity] = []
        if seen is not None:
            # A zone unchanged is the same cached object (the zone cache is keyed by its last save);
            # an activity unchanged has the same version. Anything else is decided afresh.
            kept_zones = [z for z in zones if seen.zones.get(z.id) is z and z.id in seen.decisions]
            versions = uow.activities.versions(ids & seen.activities.keys())
            kept = [
                a
                for i, a in seen.activities.items()
                if i in ids and versions.get(i) == a.version and i in seen.decisions
            ]
            decisions = [seen.decisions[i] for i in [*(z.id for z in kept_zones), *(a.id for a in kept)]]
        known = {a.id for a in kept}
        settled = {z.id for z in kept_zones}
        fresh_zones = [z for z in zones if z.id not in settled]
        # Other parties' activities already in conflict with this one must be re-decided too.
        in_scope = [] if is_new else uow.conflicts.open_ids_for_activity(activity.id)
        others = uow.activities.get_many(sorted(ids - known))
        local = seen.local if seen is not None else projections(activity, covering)
        decisions += find(activity, zones=fresh_zones, activities=others, margins=policy.margins, local=local)
        acts = {a.id: a for a in (activity, *kept, *others)}
        zmap = {z.id: z for z in zones}
    else:
        in_scope = uow.conflicts.open_ids_for_activity(activity.id)
        acts, zmap = {activity.id: activity}, {}
    reason = (
        "the activity was cancelled"
        if activity.status is ActivityStatus.cancelled
        else "after the change, the activity no longer meets it"
    )
    # Every open conflict of the activity was in scope, so the ones sync confirms are all of them.
    return conflict_sync.sync(
        uow,
        policy,
        decisions,
        in_scope=in_scope,
        activities=acts,
        zones=zmap,
        now=now,
        gone_reason=reason,
        fresh=is_new,
    )
