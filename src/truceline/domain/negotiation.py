"""Negotiation: sign-offs, objections, and the zone status they imply (pure).

A party's *position* on one revision is its latest sign-off (``in_principle`` or ``final``) or
objection. A zone is agreed in principle when every signatory's position on the current revision is
a sign-off; it enters force at its ``effective_from`` once every signatory has signed it ``final``.
A new revision starts from no positions: earlier sign-offs stay in history but count for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from truceline.domain.model import TimeWindow, ZoneStatus


class Position(StrEnum):
    in_principle = "in_principle"
    final = "final"
    objection = "objection"


class Agreement(StrEnum):
    none = "none"
    in_principle = "in_principle"
    final = "final"


@dataclass(frozen=True)
class Stance:
    party_id: str
    revision: int
    position: Position
    statement: str
    at: datetime


def latest_positions(stances: Iterable[Stance], revision: int) -> dict[str, Stance]:
    """Each party's latest stance on ``revision``."""
    out: dict[str, Stance] = {}
    for s in sorted((s for s in stances if s.revision == revision), key=lambda s: s.at):
        out[s.party_id] = s
    return out


def agreement(signatories: Sequence[str], stances: Iterable[Stance], revision: int) -> Agreement:
    if not signatories:
        return Agreement.none
    latest = latest_positions(stances, revision)
    positions = [latest[p].position if p in latest else None for p in signatories]
    if any(p in (None, Position.objection) for p in positions):
        return Agreement.none
    return Agreement.final if all(p is Position.final for p in positions) else Agreement.in_principle


def unsigned(signatories: Sequence[str], stances: Iterable[Stance], revision: int, *, final: bool) -> list[str]:
    """Signatories who have not signed ``revision`` (at least in principle, or ``final``)."""
    latest = latest_positions(stances, revision)
    wanted = {Position.final} if final else {Position.final, Position.in_principle}
    return [p for p in signatories if p not in latest or latest[p].position not in wanted]


def status_after(
    current: ZoneStatus, agreed: Agreement, effective: TimeWindow, now: datetime, *, negotiation_started: bool
) -> ZoneStatus:
    """The status the sign-offs and the clock imply for a zone now.

    Only the computed moves happen here (into negotiation, agreement and force, and lapsing at the end
    of the effective period); suspension, resumption, withdrawal and early lapse are decided by people.
    """
    ended = effective.end is not None and effective.end <= now
    if current in (ZoneStatus.in_force, ZoneStatus.suspended):
        return ZoneStatus.lapsed if ended else current
    if current in (ZoneStatus.lapsed, ZoneStatus.withdrawn):
        return current
    if agreed is Agreement.final and effective.start <= now and not ended:
        return ZoneStatus.in_force
    if agreed is not Agreement.none:
        return ZoneStatus.agreed_in_principle
    if current is ZoneStatus.proposed and not negotiation_started:
        return ZoneStatus.proposed
    return ZoneStatus.negotiating
