"""Agreeing to a conflict: the parties it concerns settle it over the hotline (an escort arranged, a
corridor shared at a set altitude) and each says so. A conflict every one of them agrees to is
*coordinated*: still open and shown, never hidden, but known to be handled. A conflict that concerns
one party alone cannot be: a party does not clear its own plan.

An agreement holds for the conflict as it stood when it was given: its regions, its activities and
their windows, the zone's revision (its *basis*). When any of those changes, the agreement lapses and
the party is asked again; it is kept, marked as no longer current.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from truceline.domain.audit import canonical, sha256_hex
from truceline.domain.errors import NotFound, StateConflict
from truceline.domain.model import Conflict, ConflictStatus
from truceline.domain.volumes import format_time


@dataclass(frozen=True)
class Agreement:
    conflict_id: str
    party_id: str
    at: datetime
    statement: str
    #: the conflict it was given to (``basis``)
    basis: str


def basis(c: Conflict) -> str:
    """A digest of what an agreement to ``c`` agrees to: where, when and at what height it happens,
    between which activities in which windows, under which revision of the zone."""
    return sha256_hex(
        canonical(
            {
                # the footprint as it is stored and shown (GeoJSON), so a conflict read back from the
                # store and the same conflict found again give the same digest
                "regions": [
                    [
                        r.geojson,
                        format_time(r.window.start),
                        format_time(r.window.end),
                        r.altitude.lower,
                        r.altitude.upper,
                    ]
                    for r in c.regions
                ],
                "activities": sorted(
                    [s.activity_id, format_time(s.window.start), format_time(s.window.end)] for s in c.subjects
                ),
                "zone": [c.zone_id, c.zone_revision],
            }
        )
    )


@dataclass(frozen=True)
class Standing:
    """Where a conflict's agreements stand: each one, whether it holds for the conflict as it is now,
    and whether every party concerned agrees."""

    agreements: list[tuple[Agreement, bool]]
    coordinated: bool


def standing(c: Conflict, agreements: list[Agreement]) -> Standing:
    now = basis(c) if agreements else ""
    current = {a.party_id for a in agreements if a.basis == now}
    coordinated = c.status is ConflictStatus.open and len(set(c.party_ids)) > 1 and set(c.party_ids) <= current
    return Standing([(a, a.basis == now) for a in agreements], coordinated)


def check_agreeable(c: Conflict | None, conflict_id: str, party_id: str) -> Conflict:
    """The conflict a party may agree to (or withdraw from): one that concerns it and is open."""
    if c is None or party_id not in c.party_ids:
        raise NotFound(f"no conflict {conflict_id} that concerns you")
    if c.status is not ConflictStatus.open:
        raise StateConflict(f"conflict {conflict_id} is closed ({c.closed_reason or 'it no longer holds'}): "
                            "there is nothing to agree to")  # fmt: skip
    if set(c.party_ids) == {party_id}:
        raise StateConflict(f"conflict {conflict_id} concerns your party alone: there is no one to agree with")
    return c
