"""Activities: notify, update, cancel, read. Every write re-runs conflict detection for what it touches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from truceline.domain.errors import InvalidInput, NotFound, StateConflict
from truceline.domain.ids import new_id
from truceline.domain.model import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Conflict,
    Party,
    TimeWindow,
    Volume,
)
from truceline.domain.plan_check import CHECKED, ZoneFinding, check_plan
from truceline.domain.repeats import parse_repeat, repeated
from truceline.domain.states import check_activity_transition
from truceline.domain.volumes import parse_volumes
from truceline.services import audit
from truceline.services.access import require
from truceline.services.detection import Covering, cover_volumes, detect, look_if_crowded, projections
from truceline.services.policy import Policy
from truceline.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class ActivityResult:
    activity: Activity
    conflicts: list[Conflict]


def _text(data: dict[str, Any], key: str, *, required: bool, max_len: int) -> str:
    v = data.get(key, "" if not required else None)
    if v is None or not isinstance(v, str) or (required and not v.strip()):
        raise InvalidInput.at(
            f"/{key}", f"{key} is required and must be a non-empty string" if required else f"{key} must be a string"
        )
    if len(v) > max_len:
        raise InvalidInput.at(f"/{key}", f"{key} is longer than {max_len} characters")
    return v.strip()


def parse_command(data: object, policy: Policy) -> tuple[ActivityKind, str, str, list[Volume]]:
    if not isinstance(data, dict):
        raise InvalidInput.at("", "the body must be a JSON object")
    kind_raw = data.get("kind")
    try:
        kind = ActivityKind(str(kind_raw))
    except ValueError:
        raise InvalidInput.at(
            "/kind", f"unknown activity kind {kind_raw!r}; one of {', '.join(k.value for k in ActivityKind)}"
        ) from None
    title = _text(data, "title", required=True, max_len=300)
    description = _text(data, "description", required=False, max_len=10_000)
    volumes = parse_volumes(data.get("volumes"), "/volumes", policy.limits, policy.max_volumes)
    repeat = parse_repeat(data.get("repeat"))
    if repeat is not None:
        volumes = repeated(volumes, repeat, policy.max_volumes)
    return kind, title, description, volumes


@dataclass(frozen=True)
class Prepared:
    """A notification checked and indexed, before any transaction: what notify stores."""

    kind: ActivityKind
    title: str
    description: str
    volumes: list[Volume]
    covering: Covering

    def activity(self, party_id: str, now: datetime) -> Activity:
        return Activity(
            id=new_id(),
            party_id=party_id,
            kind=self.kind,
            title=self.title,
            status=ActivityStatus.active,
            version=1,
            volumes=self.volumes,
            created_at=now,
            updated_at=now,
            description=self.description,
        )


def prepare(data: object, policy: Policy) -> Prepared:
    """Validate and cover a notification (pure work, outside the transaction)."""
    kind, title, description, volumes = parse_command(data, policy)
    return Prepared(kind, title, description, volumes, cover_volumes(volumes, policy))


def notify(uow: UnitOfWork, policy: Policy, caller: Party, data: object) -> ActivityResult:
    """Record a party's planned activity and return every conflict it has. Notification is not
    permission: conflicts are flagged, the activity is stored either way."""
    require(caller, "activity.write")
    prepared = prepare(data, policy)
    covering = prepared.covering
    activity = prepared.activity(caller.id, uow.clock())
    seen = look_if_crowded(uow, policy, activity, covering)
    with uow:
        uow.lock_cells(covering.all_search)
        uow.activities.add(activity, covering.stored)
        audit.record(uow, caller, "activity.notified", "activity", activity.id, data, concerns=[caller.id])
        conflicts = detect(uow, policy, activity, covering, is_new=True, seen=seen)
        uow.commit()
    return ActivityResult(activity, _sorted(conflicts))


@dataclass(frozen=True)
class PlanChecked:
    findings: list[ZoneFinding]
    #: the names of the parties the findings concern, by id
    names: dict[str, str]


def check(uow: UnitOfWork, policy: Policy, caller: Party, data: object) -> PlanChecked:
    """What a plan (a notification's body) would break among the zones, now and once each zone
    still in negotiation (or suspended) is in force. Nothing is stored, nobody is told, and other
    parties' activities are not looked at (``domain.plan_check`` says why)."""
    require(caller, "activity.write")
    prepared = prepare(data, policy)
    plan = prepared.activity(caller.id, uow.clock())
    with uow.reader() as view:
        zones = view.zones.candidates(prepared.covering.all_search, plan.window, CHECKED)
        findings = check_plan(plan, zones, projections(plan, prepared.covering))
        names = view.parties.names({p for f in findings for p in f.decision.party_ids})
    return PlanChecked(findings, names)


def _own(uow: UnitOfWork, caller: Party, activity_id: str) -> Activity:
    a = uow.activities.get(activity_id)
    # Another party's activity is reported as absent, not forbidden: its existence is need-to-know.
    if a is None or a.party_id != caller.id:
        raise NotFound(f"no activity {activity_id} of yours")
    return a


def _check_version(a: Activity, expected: object) -> None:
    if expected is not None and expected != a.version:
        raise StateConflict(
            f"the activity is at version {a.version}, not {expected}", extra={"current_version": a.version}
        )


def update(uow: UnitOfWork, policy: Policy, caller: Party, activity_id: str, data: object) -> ActivityResult:
    """Replace an activity's kind, title and volumes (a new version) and re-check its conflicts."""
    require(caller, "activity.write")
    prepared = prepare(data, policy)
    covering = prepared.covering
    with uow:
        a = _own(uow, caller, activity_id)
        _check_version(a, data.get("version") if isinstance(data, dict) else None)
        if a.status is not ActivityStatus.active:
            raise StateConflict(f"the activity is {a.status} and cannot be changed")
        old_cells = cover_volumes(a.volumes, policy).all_search
        a.kind, a.title, a.description, a.volumes = (
            prepared.kind,
            prepared.title,
            prepared.description,
            prepared.volumes,
        )
        a.version += 1
        a.updated_at = uow.clock()
        uow.lock_cells(covering.all_search | old_cells)
        uow.activities.replace(a, covering.stored)
        audit.record(uow, caller, "activity.updated", "activity", a.id, data, concerns=[caller.id])
        conflicts = detect(uow, policy, a, covering)
        uow.commit()
    return ActivityResult(a, _sorted(conflicts))


def cancel(uow: UnitOfWork, policy: Policy, caller: Party, activity_id: str) -> ActivityResult:
    """Cancel an activity: it leaves the index and its conflicts close."""
    require(caller, "activity.write")
    with uow:
        a = _own(uow, caller, activity_id)
        check_activity_transition(a.status, ActivityStatus.cancelled)
        uow.lock_cells(cover_volumes(a.volumes, policy).all_search)
        a.status = ActivityStatus.cancelled
        a.version += 1
        a.updated_at = uow.clock()
        uow.activities.set_status(a)
        uow.activities.drop_index(a.id)
        audit.record(uow, caller, "activity.cancelled", "activity", a.id, {"version": a.version}, concerns=[caller.id])
        detect(uow, policy, a, Covering([], []))
        uow.commit()
    return ActivityResult(a, [])


def get(uow: UnitOfWork, caller: Party, activity_id: str) -> ActivityResult:
    require(caller, "activity.read")
    with uow:
        a = _own(uow, caller, activity_id)
        conflicts = list(uow.conflicts.get_many(uow.conflicts.open_ids_for_activity(a.id)).values())
    return ActivityResult(a, _sorted(conflicts))


def list_activities(
    uow: UnitOfWork,
    caller: Party,
    *,
    status: str | None = None,
    kind: str | None = None,
    window: TimeWindow | None = None,
    title: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[Activity]:
    require(caller, "activity.read")
    with uow:
        return uow.activities.list(
            party_id=caller.id, status=status, kind=kind, window=window, title=title, limit=limit, offset=offset
        )


def _sorted(conflicts: list[Conflict]) -> list[Conflict]:
    return sorted(conflicts, key=lambda c: (c.rule.value, c.id))


__all__ = ["ActivityResult", "PlanChecked", "cancel", "check", "get", "list_activities", "notify", "update"]
