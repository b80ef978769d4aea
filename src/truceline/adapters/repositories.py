"""Repositories over SQLAlchemy Core. They read and write through the unit of work's connection and
never commit; the unit of work does."""

from __future__ import annotations

import builtins
import dataclasses
import functools
import heapq
import itertools
import json
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import shapely
from sqlalchemy import Column, ColumnElement, Connection, Select, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from truceline.adapters import json_text
from truceline.adapters import tables as t
from truceline.adapters.hot_sql import read, write_many
from truceline.domain.agreements import Agreement
from truceline.domain.audit import (
    GENESIS,
    Entry,
    EntryBody,
    Link,
    actor_digest,
    canonical,
    new_actor_salt,
    sha256_hex,
)
from truceline.domain.cells import day_buckets, to_ms
from truceline.domain.conflicts import overlap_key, zone_key
from truceline.domain.geometry import from_geojson
from truceline.domain.memo import Bounded
from truceline.domain.model import (
    Activity,
    ActivityKind,
    ActivityStatus,
    AltitudeBand,
    Conflict,
    ConflictRule,
    ConflictStatus,
    Credential,
    Document,
    Party,
    Region,
    Responsibility,
    ResponsibilityRole,
    ResponsibilityStatus,
    Role,
    Subject,
    TimeWindow,
    TokenUse,
    TrackRef,
    Volume,
    Zone,
    ZoneKind,
    ZoneStatus,
)
from truceline.domain.negotiation import Position, Stance
from truceline.domain.schedule import parse_schedule
from truceline.domain.text import folded_text

#: Bind-parameter chunk for IN lists (SQLite's default limit is generous, but keep statements small).
CHUNK = 500


def from_ms(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _chunks(items: Sequence[Any], n: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _by_id(conn: Connection, column: Column[Any], ids: Iterable[str]) -> dict[str, Any]:
    """One column of the rows with these ids (in the column's table), by id."""
    stmt = _by_id_stmt(column)
    out: dict[str, Any] = {}
    for chunk in _chunks(sorted(set(ids))):
        out.update({r[0]: r[1] for r in read(conn, stmt, {"ids": chunk})})
    return out


@functools.cache
def _by_id_stmt(column: Column[Any]) -> Select[Any]:
    key = column.table.c.id
    return select(key, column).where(key.in_(bindparam("ids", expanding=True)))


#: Party names by id. A party's name never changes and ids are never reused, so this needs no
#: invalidation; every conflict announcement and rendering names the parties it concerns.
_party_names: dict[str, str] = {}


# Hot-path statements, built once: SQLAlchemy then reuses their compiled SQL instead of building and
# keying a new statement on every notification.
def _candidates_stmt(with_days: bool) -> Any:
    vc = t.volume_cells.c
    conds = [
        vc.cell.in_(bindparam("cells", expanding=True)),
        vc.t_start < bindparam("t_end"),
        vc.t_end > bindparam("t_start"),
        vc.alt_lower <= bindparam("alt_hi"),
        vc.alt_upper >= bindparam("alt_lo"),
        vc.party_id != bindparam("party"),
    ]
    if with_days:
        conds.append(vc.day.in_(bindparam("days", expanding=True)))
    return select(vc.activity_id).where(*conds).distinct()


def _zones_near(status: ColumnElement[bool]) -> Select[Any]:
    return (
        select(t.zones.c.id, t.zones.c.updated_at)
        .join_from(t.zone_cells, t.zones, t.zone_cells.c.zone_id == t.zones.c.id)
        .where(
            t.zone_cells.c.cell.in_(bindparam("cells", expanding=True)),
            status,
            or_(t.zones.c.effective_until.is_(None), t.zones.c.effective_until > bindparam("t_start")),
            t.zones.c.effective_from < bindparam("t_end"),
        )
        .distinct()
    )


_ZONES_IN_FORCE = _zones_near(t.zones.c.status == ZoneStatus.in_force.value)
_ZONES_OF_STATUS = _zones_near(t.zones.c.status.in_(bindparam("statuses", expanding=True)))
_CANDIDATES_IN_DAYS = _candidates_stmt(True)
_CANDIDATES_ANY_DAY = _candidates_stmt(False)
_ACTIVITIES_WITH_VOLUMES = (
    select(
        t.activities,
        t.activity_volumes.c.idx,
        t.activity_volumes.c.footprint,
        t.activity_volumes.c.alt_lower,
        t.activity_volumes.c.alt_upper,
        t.activity_volumes.c.t_start.label("v_start"),
        t.activity_volumes.c.t_end.label("v_end"),
        t.activity_volumes.c.source,
    )
    .join_from(t.activities, t.activity_volumes, t.activity_volumes.c.activity_id == t.activities.c.id)
    .where(t.activities.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(t.activities.c.id, t.activity_volumes.c.idx)
)


_IDS: Any = bindparam("ids", expanding=True)
_PARTY_NAMES = select(t.parties.c.id, t.parties.c.name).where(t.parties.c.id.in_(_IDS))
_PARTY_BY_ID = select(t.parties).where(t.parties.c.id == bindparam("id"))
_CREDENTIAL_COLUMNS = (
    t.credentials.c.id.label("credential_id"),
    t.credentials.c.label,
    t.credentials.c.created_at.label("credential_created_at"),
    t.credentials.c.expires_at,
    t.credentials.c.revoked_at,
    t.credentials.c.last_used_at,
    t.credentials.c.last_used_from,
)
_PARTY_BY_TOKEN = (
    select(t.parties, *_CREDENTIAL_COLUMNS)
    .join_from(t.credentials, t.parties, t.parties.c.id == t.credentials.c.party_id)
    .where(t.credentials.c.token_hash == bindparam("token_hash"))
)
_RECORD_USE = (
    update(t.credentials)
    .where(
        t.credentials.c.id == bindparam("b_id"),
        or_(t.credentials.c.last_used_at.is_(None), t.credentials.c.last_used_at <= bindparam("b_at")),
    )
    .values(last_used_at=bindparam("b_at"), last_used_from=bindparam("b_from"))
)
_AUDIT_HEAD = select(t.audit_state.c.seq, t.audit_state.c.hash).where(t.audit_state.c.id == 1)
_AUDIT_HEAD_LOCKED = _AUDIT_HEAD.with_for_update()
_AUDIT_MOVE_HEAD = (
    update(t.audit_state).where(t.audit_state.c.id == 1).values(seq=bindparam("b_seq"), hash=bindparam("b_hash"))
)
# The notify path's inserts, built once (see hot_sql).
_INSERT_ACTIVITY = insert(t.activities)
_INSERT_VOLUME = insert(t.activity_volumes)
_INSERT_VOLUME_CELLS = insert(t.volume_cells)
_INSERT_CONFLICT = insert(t.conflicts)
_INSERT_CONFLICT_PARTIES = insert(t.conflict_parties)
_INSERT_CONFLICT_ACTIVITIES = insert(t.conflict_activities)
_INSERT_AUDIT = insert(t.audit_log)
_CONFLICTS_BY_ID = select(t.conflicts).where(t.conflicts.c.id.in_(_IDS))
_OPEN_CONFLICT_IDS_OF_ACTIVITY = (
    select(t.conflicts.c.id)
    .join_from(t.conflict_activities, t.conflicts, t.conflict_activities.c.conflict_id == t.conflicts.c.id)
    .where(
        t.conflict_activities.c.activity_id == bindparam("activity_id"),
        t.conflicts.c.status == ConflictStatus.open.value,
    )
)
_UPDATE_CONFLICT = update(t.conflicts).where(t.conflicts.c.id == bindparam("b_id"))
_DELETE_CONFLICT_PARTIES = delete(t.conflict_parties).where(t.conflict_parties.c.conflict_id.in_(_IDS))
_DELETE_CONFLICT_ACTIVITIES = delete(t.conflict_activities).where(t.conflict_activities.c.conflict_id.in_(_IDS))


def _ids_holding(rows: Iterable[Any], words: str) -> builtins.list[str]:
    """The ids of ``rows`` (id, then a name or title) whose text holds ``words`` as people look it up
    (``folded_text``), in their order. In Python, not SQL: SQLite's lower() folds ASCII only, and names
    are in many scripts."""
    wanted = folded_text(words)
    return [r[0] for r in rows if wanted in folded_text(r[1])]


# --------------------------------------------------------------------------------------------------


class PartyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @staticmethod
    def _row(r: Any) -> Party:
        return Party(id=r.id, name=r.name, role=Role(r.role), created_at=_dt(r.created_at), public_key=r.public_key)

    def set_public_key(self, party_id: str, public_key: str | None) -> None:
        self.conn.execute(update(t.parties).where(t.parties.c.id == party_id).values(public_key=public_key))

    def add(self, party: Party) -> None:
        self.conn.execute(
            insert(t.parties).values(
                id=party.id, name=party.name, role=party.role.value, created_at=to_ms(party.created_at)
            )
        )
        self.conn.execute(insert(t.feed_heads).values(party_id=party.id, seq=0))

    @staticmethod
    def _credential(r: Any, party_id: str) -> Credential:
        return Credential(
            id=r.credential_id,
            party_id=party_id,
            label=r.label,
            created_at=_dt(r.credential_created_at),
            expires_at=_dt(r.expires_at) if r.expires_at is not None else None,
            revoked_at=_dt(r.revoked_at) if r.revoked_at is not None else None,
            last_used_at=_dt(r.last_used_at) if r.last_used_at is not None else None,
            last_used_from=r.last_used_from,
        )

    def add_credential(self, c: Credential, token_hash: str) -> None:
        self.conn.execute(
            insert(t.credentials).values(
                id=c.id,
                party_id=c.party_id,
                label=c.label,
                token_hash=token_hash,
                created_at=to_ms(c.created_at),
                expires_at=to_ms(c.expires_at) if c.expires_at else None,
                revoked_at=None,
            )
        )

    def credentials(self, party_id: str) -> builtins.list[Credential]:
        cr = t.credentials.c
        q = select(*_CREDENTIAL_COLUMNS).where(cr.party_id == party_id).order_by(cr.created_at, cr.id)
        return [self._credential(r, party_id) for r in self.conn.execute(q)]

    def credentials_by_id(self, ids: Iterable[str]) -> dict[str, Credential]:
        cr = t.credentials.c
        q = select(*_CREDENTIAL_COLUMNS, cr.party_id).where(cr.id.in_(sorted(set(ids))))
        return {r.credential_id: self._credential(r, r.party_id) for r in self.conn.execute(q)}

    def revoke_credentials(self, party_id: str, ids: Iterable[str], at: datetime) -> None:
        cr = t.credentials.c
        self.conn.execute(
            update(t.credentials)
            .where(cr.party_id == party_id, cr.id.in_(list(ids)), cr.revoked_at.is_(None))
            .values(revoked_at=to_ms(at))
        )

    def record_uses(self, uses: Iterable[TokenUse]) -> None:
        """Keep each token's latest use. A use older than the stored one changes nothing, so the
        processes that saw a token's requests may write theirs in any order."""
        rows = [{"b_id": u.credential_id, "b_at": to_ms(u.at), "b_from": u.address} for u in uses]
        if rows:
            self.conn.execute(_RECORD_USE, rows)

    def take_nonce(self, party_id: str, nonce: str, at_ms: int) -> bool:
        """Record a signed request's nonce; False if the party has used it before (the transaction is
        then spoilt on PostgreSQL: the caller gives up)."""
        try:
            self.conn.execute(insert(t.signed_nonces).values(party_id=party_id, nonce=nonce, at=at_ms))
        except IntegrityError:
            return False
        return True

    def get(self, party_id: str, *, for_update: bool = False) -> Party | None:
        """With ``for_update``, the party's row stays locked to the end of the transaction (on
        PostgreSQL; SQLite has one writer at a time anyway)."""
        q = _PARTY_BY_ID.with_for_update() if for_update else _PARTY_BY_ID
        r = self.conn.execute(q, {"id": party_id}).first()
        return self._row(r) if r else None

    def by_name(self, name: str) -> Party | None:
        r = self.conn.execute(select(t.parties).where(t.parties.c.name == name)).first()
        return self._row(r) if r else None

    def by_token_hash(self, token_hash: str) -> tuple[Party, Credential] | None:
        """The party a token is for, and the token's credential (which may be revoked or expired)."""
        rows = read(self.conn, _PARTY_BY_TOKEN, {"token_hash": token_hash})
        return (self._row(rows[0]), self._credential(rows[0], rows[0].id)) if rows else None

    def list(self) -> list[Party]:
        return [self._row(r) for r in self.conn.execute(select(t.parties).order_by(t.parties.c.name))]

    def names(self, ids: Iterable[str]) -> dict[str, str]:
        wanted = set(ids)
        out = {i: _party_names[i] for i in wanted if i in _party_names}
        for chunk in _chunks(sorted(wanted - set(out))):
            for r in read(self.conn, _PARTY_NAMES, {"ids": chunk}):
                out[r.id] = r.name
        if len(_party_names) > 100_000:
            _party_names.clear()
        _party_names.update(out)
        return out


# --------------------------------------------------------------------------------------------------

#: Decoded activity footprints by their stored bytes. A busy area's activities are candidates of
#: notification after notification; handing back the same object each time spares decoding it and
#: lets conflict detection reuse its projections (``domain.conflicts.Projections``).
#: The budget is in bytes of WKB (about as much again goes to the decoded shapes).
_footprint_cache: Bounded[bytes, Any] = Bounded(16 << 20)


def _footprints(blobs: Sequence[Any]) -> list[Any]:
    keys = [b if isinstance(b, bytes) else bytes(b) for b in blobs]
    out = [_footprint_cache.get(k) for k in keys]
    todo = [i for i, g in enumerate(out) if g is None]
    if todo:
        # One call for every miss: per-call overhead is most of the cost of decoding a small shape.
        for i, g in zip(todo, shapely.from_wkb([keys[i] for i in todo]).tolist(), strict=True):
            out[i] = g
            _footprint_cache.put(keys[i], g, len(keys[i]))
    return out


# Zones are few and read on every notification; parsed zones are cached per (id, updated_at). Every
# save moves updated_at forward (see services.zones), so a key never names two different states.
_zone_cache: dict[tuple[str, int], Zone] = {}


def _responsibility_json(r: Responsibility) -> dict[str, Any]:
    return {
        "id": r.id,
        "party_id": r.party_id,
        "role": r.role.value,
        "status": r.status.value,
        "statement": r.statement,
        "requested_by": r.requested_by,
        "requested_at": to_ms(r.requested_at) if r.requested_at else None,
        "answered_at": to_ms(r.answered_at) if r.answered_at else None,
    }


def _responsibility_from(x: dict[str, Any]) -> Responsibility:
    return Responsibility(
        party_id=x["party_id"],
        role=ResponsibilityRole(x["role"]),
        id=x.get("id", ""),
        status=ResponsibilityStatus(x.get("status", "accepted")),
        statement=x.get("statement", ""),
        requested_by=x.get("requested_by"),
        requested_at=from_ms(x.get("requested_at")),
        answered_at=from_ms(x.get("answered_at")),
    )


def _document_values(d: Document) -> dict[str, Any]:
    return dict(
        id=d.id,
        zone_id=d.zone_id,
        title=d.title,
        body=d.body,
        version=d.version,
        created_by=d.created_by,
        created_at=to_ms(d.created_at),
        updated_at=to_ms(d.updated_at),
    )


def _document_from(r: Any) -> Document:
    return Document(r.id, r.zone_id, r.title, r.body, r.version, r.created_by, _dt(r.created_at), _dt(r.updated_at))


class ZoneRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @staticmethod
    def _values(z: Zone) -> dict[str, Any]:
        return dict(
            id=z.id,
            name=z.name,
            kind=z.kind.value,
            status=z.status.value,
            revision=z.revision,
            geometry=json.dumps(z.geometry),
            radius_m=z.radius_m,
            footprint=shapely.to_wkb(z.footprint),
            alt_lower=z.altitude.lower,
            alt_upper=z.altitude.upper,
            effective_from=to_ms(z.effective.start),
            effective_until=to_ms(z.effective.end) if z.effective.end else None,
            forbidden_kinds=json.dumps(sorted(k.value for k in z.forbidden_kinds)),
            standoff_m=z.standoff_m,
            responsible=json.dumps([_responsibility_json(r) for r in z.responsible]),
            signatories=json.dumps(z.signatories),
            separation_m=z.separation_m,
            vertical_separation_m=z.vertical_separation_m,
            schedule=json.dumps(z.schedule.to_json()) if z.schedule else None,
            description=z.description,
            created_by=z.created_by,
            created_at=to_ms(z.created_at),
            updated_at=to_ms(z.updated_at),
        )

    @staticmethod
    def _row(r: Any) -> Zone:
        key = (r.id, r.updated_at)
        cached = _zone_cache.get(key)
        if cached is not None:
            return cached
        z = Zone(
            id=r.id,
            name=r.name,
            kind=ZoneKind(r.kind),
            status=ZoneStatus(r.status),
            revision=r.revision,
            geometry=json.loads(r.geometry),
            radius_m=r.radius_m,
            footprint=shapely.from_wkb(r.footprint),
            altitude=AltitudeBand(r.alt_lower, r.alt_upper),
            effective=TimeWindow(_dt(r.effective_from), from_ms(r.effective_until)),
            forbidden_kinds=frozenset(ActivityKind(k) for k in json.loads(r.forbidden_kinds)),
            standoff_m=r.standoff_m,
            responsible=[_responsibility_from(x) for x in json.loads(r.responsible)],
            signatories=json.loads(r.signatories),
            separation_m=r.separation_m,
            vertical_separation_m=r.vertical_separation_m,
            schedule=parse_schedule(json.loads(r.schedule)) if r.schedule else None,
            description=r.description,
            created_by=r.created_by,
            created_at=_dt(r.created_at),
            updated_at=_dt(r.updated_at),
        )
        if len(_zone_cache) > 10_000:
            _zone_cache.clear()
        _zone_cache[key] = z
        return z

    def add(self, zone: Zone, cells: set[int]) -> None:
        self.conn.execute(insert(t.zones).values(**self._values(zone)))
        self._set_cells(zone.id, cells)

    def save(self, zone: Zone, cells: set[int] | None = None) -> None:
        """Store the zone's current state; replace its cells when given."""
        self.conn.execute(update(t.zones).where(t.zones.c.id == zone.id).values(**self._values(zone)))
        if cells is not None:
            self.conn.execute(delete(t.zone_cells).where(t.zone_cells.c.zone_id == zone.id))
            self._set_cells(zone.id, cells)

    def _set_cells(self, zone_id: str, cells: set[int]) -> None:
        if cells:
            self.conn.execute(insert(t.zone_cells), [{"cell": c, "zone_id": zone_id} for c in sorted(cells)])

    def record_status(self, zone_id: str, at: datetime, status: ZoneStatus, revision: int) -> None:
        self.conn.execute(
            insert(t.zone_status_history).values(zone_id=zone_id, at=to_ms(at), status=status.value, revision=revision)
        )

    def status_history(self, zone_ids: Sequence[str] | None = None) -> dict[str, builtins.list[tuple[datetime, str]]]:
        """Each zone's status moves, oldest first (every zone's when ``zone_ids`` is None)."""
        h = t.zone_status_history.c
        q = select(h.zone_id, h.at, h.status).order_by(h.zone_id, h.at, h.id)
        if zone_ids is not None:
            q = q.where(h.zone_id.in_(list(zone_ids)))
        out: dict[str, builtins.list[tuple[datetime, str]]] = {}
        for zid, at, status in self.conn.execute(q):
            out.setdefault(zid, []).append((_dt(at), status))
        return out

    def cells(self, zone_id: str) -> set[int]:
        return {r.cell for r in self.conn.execute(select(t.zone_cells.c.cell).where(t.zone_cells.c.zone_id == zone_id))}

    def add_revision(
        self, zone_id: str, revision: int, snapshot: dict[str, Any], author: str, at: datetime, rationale: str = ""
    ) -> None:
        self.conn.execute(
            insert(t.zone_revisions).values(
                zone_id=zone_id,
                revision=revision,
                snapshot=json.dumps(snapshot),
                author=author,
                created_at=to_ms(at),
                rationale=rationale,
            )
        )

    def revisions(self, zone_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            select(t.zone_revisions).where(t.zone_revisions.c.zone_id == zone_id).order_by(t.zone_revisions.c.revision)
        )
        return [
            {
                "revision": r.revision,
                "author": r.author,
                "created_at": _dt(r.created_at),
                "rationale": r.rationale,
                "snapshot": json.loads(r.snapshot),
            }
            for r in rows
        ]

    def names(self, ids: Iterable[str]) -> dict[str, str]:
        """Names alone, without decoding the zones (conflicts are labelled with them)."""
        return _by_id(self.conn, t.zones.c.name, ids)

    def get(self, zone_id: str, *, for_update: bool = False) -> Zone | None:
        """The zone, as a copy the caller may change; ``for_update`` locks its row until commit."""
        q = select(t.zones).where(t.zones.c.id == zone_id)
        r = self.conn.execute(q.with_for_update() if for_update else q).first()
        if r is None:
            return None
        z = self._row(r)
        return dataclasses.replace(z, responsible=list(z.responsible), signatories=list(z.signatories))

    # -- positions (sign-offs and objections) and documents --------------------------------------

    def add_position(self, subject_type: str, subject_id: str, stance: Stance) -> None:
        self.conn.execute(
            insert(t.positions),
            [
                dict(
                    subject_type=subject_type,
                    subject_id=subject_id,
                    version=stance.revision,
                    party_id=stance.party_id,
                    position=stance.position.value,
                    statement=stance.statement,
                    at=to_ms(stance.at),
                )
            ],
        )

    def positions(self, subject_type: str, subject_id: str) -> builtins.list[Stance]:
        p = t.positions.c
        rows = self.conn.execute(
            select(t.positions).where(p.subject_type == subject_type, p.subject_id == subject_id).order_by(p.id)
        )
        return [Stance(r.party_id, r.version, Position(r.position), r.statement, _dt(r.at)) for r in rows]

    def add_document(self, d: Document) -> None:
        self.conn.execute(insert(t.zone_documents), [_document_values(d)])

    def save_document(self, d: Document) -> None:
        self.conn.execute(update(t.zone_documents).where(t.zone_documents.c.id == d.id).values(**_document_values(d)))

    def documents(self, zone_id: str) -> builtins.list[Document]:
        dc = t.zone_documents.c
        rows = self.conn.execute(select(t.zone_documents).where(dc.zone_id == zone_id).order_by(dc.created_at, dc.id))
        return [_document_from(r) for r in rows]

    def list(
        self,
        *,
        kind: str | None = None,
        status: str | None = None,
        at: datetime | None = None,
        name: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> builtins.list[Zone]:
        """Zones by name. ``name``: those whose name holds it, matched on the ids and names alone
        before any boundary is read (``_ids_holding``)."""
        z = t.zones.c
        where = []
        if kind:
            where.append(z.kind == kind)
        if status:
            where.append(z.status == status)
        if at is not None:
            ms = to_ms(at)
            where += [z.effective_from <= ms, or_(z.effective_until.is_(None), z.effective_until > ms)]
        if name:
            named = self.conn.execute(select(z.id, z.name).where(*where).order_by(z.name, z.id))
            ids = _ids_holding(named, name)[offset : offset + limit]
            rows = {r.id: r for r in self.conn.execute(select(t.zones).where(z.id.in_(ids)))} if ids else {}
            return [self._row(rows[i]) for i in ids]
        q = select(t.zones).where(*where).order_by(z.name, z.id).limit(limit).offset(offset)
        return [self._row(r) for r in self.conn.execute(q)]

    def load_in_force(self) -> int:
        """Parse every zone in force into the cache (a server does it at start, so the first
        notifications near each zone do not pay for parsing it); returns how many."""
        rows = self.conn.execute(select(t.zones).where(t.zones.c.status == ZoneStatus.in_force.value))
        return len([self._row(r) for r in rows])

    def candidates(
        self, cells: set[int], window: TimeWindow, statuses: Collection[ZoneStatus] | None = None
    ) -> builtins.list[Zone]:
        """Zones in force (or of ``statuses``) whose cells meet ``cells`` and whose effective window
        overlaps ``window``.

        One light query finds (id, updated_at); zones are parsed from the row only when not cached."""
        if not cells:
            return []
        z = t.zones.c
        params: dict[str, Any] = {"t_start": to_ms(window.start), "t_end": to_ms(window.end) if window.end else 2**62}
        stmt = _ZONES_IN_FORCE
        if statuses is not None:
            stmt, params["statuses"] = _ZONES_OF_STATUS, sorted(s.value for s in statuses)
        hits: dict[str, int] = {}
        for chunk in _chunks(sorted(cells)):
            hits.update((r.id, r.updated_at) for r in read(self.conn, stmt, {**params, "cells": chunk}))
        out = [_zone_cache[(zid, at)] for zid, at in hits.items() if (zid, at) in _zone_cache]
        missing = sorted(zid for zid, at in hits.items() if (zid, at) not in _zone_cache)
        if missing:
            out.extend(self._row(r) for r in self.conn.execute(select(t.zones).where(z.id.in_(missing))))
        return out


# --------------------------------------------------------------------------------------------------


class ActivityRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, activity: Activity, cells: Sequence[set[int]]) -> None:
        w = activity.window
        write_many(
            self.conn,
            _INSERT_ACTIVITY,
            [
                dict(
                    id=activity.id,
                    party_id=activity.party_id,
                    kind=activity.kind.value,
                    title=activity.title,
                    description=activity.description,
                    status=activity.status.value,
                    version=activity.version,
                    t_start=to_ms(w.start),
                    t_end=to_ms(w.end) if w.end else 0,
                    created_at=to_ms(activity.created_at),
                    updated_at=to_ms(activity.updated_at),
                )
            ],
        )
        self._add_volumes(activity, cells)

    def _add_volumes(self, activity: Activity, cells: Sequence[set[int]]) -> None:
        vols: builtins.list[dict[str, Any]] = []
        idx_rows: builtins.list[dict[str, Any]] = []
        for i, (v, cs) in enumerate(zip(activity.volumes, cells, strict=True)):
            ts, te = to_ms(v.window.start), to_ms(v.window.end) if v.window.end else 0
            vols.append(
                dict(
                    activity_id=activity.id,
                    idx=i,
                    footprint=shapely.to_wkb(v.footprint),
                    alt_lower=v.altitude.lower,
                    alt_upper=v.altitude.upper,
                    t_start=ts,
                    t_end=te,
                    source=json_text.dumps(v.source),
                )
            )
            for day in day_buckets(v.window):
                idx_rows.extend(
                    dict(
                        cell=c,
                        day=day,
                        activity_id=activity.id,
                        idx=i,
                        party_id=activity.party_id,
                        t_start=ts,
                        t_end=te,
                        alt_lower=v.altitude.lower,
                        alt_upper=v.altitude.upper,
                    )
                    for c in cs
                )
        write_many(self.conn, _INSERT_VOLUME, vols)
        write_many(self.conn, _INSERT_VOLUME_CELLS, idx_rows)

    def replace(self, activity: Activity, cells: Sequence[set[int]]) -> None:
        """Store a new version of the activity: header, volumes and index rows."""
        w = activity.window
        self.conn.execute(
            update(t.activities)
            .where(t.activities.c.id == activity.id)
            .values(
                kind=activity.kind.value,
                title=activity.title,
                description=activity.description,
                status=activity.status.value,
                version=activity.version,
                t_start=to_ms(w.start),
                t_end=to_ms(w.end) if w.end else 0,
                updated_at=to_ms(activity.updated_at),
            )
        )
        self.drop_index(activity.id)
        self.conn.execute(delete(t.activity_volumes).where(t.activity_volumes.c.activity_id == activity.id))
        self._add_volumes(activity, cells)

    def drop_index(self, activity_id: str) -> None:
        self.conn.execute(delete(t.volume_cells).where(t.volume_cells.c.activity_id == activity_id))

    def set_status(self, activity: Activity) -> None:
        self.conn.execute(
            update(t.activities)
            .where(t.activities.c.id == activity.id)
            .values(status=activity.status.value, version=activity.version, updated_at=to_ms(activity.updated_at))
        )

    def versions(self, ids: Iterable[str]) -> dict[str, int]:
        """Each activity's version (every change to an activity moves it on), without loading it."""
        return _by_id(self.conn, t.activities.c.version, ids)

    def titles(self, ids: Iterable[str]) -> dict[str, str]:
        """Titles alone, without decoding the activities (conflicts are labelled with them)."""
        return _by_id(self.conn, t.activities.c.title, ids)

    def get(self, activity_id: str) -> Activity | None:
        got = self.get_many([activity_id])
        return got[0] if got else None

    def get_many(self, ids: Sequence[str]) -> list[Activity]:
        if not ids:
            return []
        heads: dict[str, Any] = {}
        vols: dict[str, list[Any]] = {}
        for chunk in _chunks(sorted(set(ids))):
            for r in read(self.conn, _ACTIVITIES_WITH_VOLUMES, {"ids": chunk}):
                heads[r.id] = r
                vols.setdefault(r.id, []).append(r)
        every = [r for rows in vols.values() for r in rows]
        decoded = dict(zip(map(id, every), _footprints([r.footprint for r in every]), strict=True))
        out = []
        for aid in ids:
            h = heads.get(aid)
            if h is None:
                continue
            volumes = [
                Volume(
                    footprint=decoded[id(r)],
                    altitude=AltitudeBand(r.alt_lower, r.alt_upper),
                    window=TimeWindow(_dt(r.v_start), _dt(r.v_end)),
                    source=json_text.loads(r.source),
                )
                for r in vols.get(aid, [])
            ]
            out.append(
                Activity(
                    id=h.id,
                    party_id=h.party_id,
                    kind=ActivityKind(h.kind),
                    title=h.title,
                    status=ActivityStatus(h.status),
                    version=h.version,
                    volumes=volumes,
                    created_at=_dt(h.created_at),
                    updated_at=_dt(h.updated_at),
                    description=h.description,
                )
            )
        return out

    def list(
        self,
        *,
        party_id: str,
        status: str | None = None,
        kind: str | None = None,
        window: TimeWindow | None = None,
        title: str | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> builtins.list[Activity]:
        """A party's activities in time order. ``title``: those whose title holds it, matched on the
        ids and titles alone before any activity is loaded (``_ids_holding``)."""
        q = select(t.activities.c.id, t.activities.c.title).where(t.activities.c.party_id == party_id)
        if status:
            q = q.where(t.activities.c.status == status)
        if kind:
            q = q.where(t.activities.c.kind == kind)
        if window is not None:
            if window.end is not None:
                q = q.where(t.activities.c.t_start < to_ms(window.end))
            q = q.where(t.activities.c.t_end > to_ms(window.start))
        q = q.order_by(t.activities.c.t_start, t.activities.c.id)
        if not title:
            return self.get_many([r.id for r in self.conn.execute(q.limit(limit).offset(offset))])
        return self.get_many(_ids_holding(self.conn.execute(q), title)[offset : offset + limit])

    def candidate_ids(
        self,
        cells: set[int],
        buckets: Sequence[int],
        window: TimeWindow,
        band: AltitudeBand,
        *,
        vertical_m: float = 0.0,
        exclude_party: str | None = None,
    ) -> set[str]:
        """Activities with a volume indexed in ``cells`` whose window overlaps and whose band comes
        within ``vertical_m`` of ``band``. Empty ``buckets`` means every bucket."""
        if not cells:
            return set()
        params: dict[str, Any] = {
            "t_end": to_ms(window.end) if window.end else 2**62,
            "t_start": to_ms(window.start),
            "alt_hi": band.upper + vertical_m,
            "alt_lo": band.lower - vertical_m,
            "party": exclude_party or "",
        }
        stmt = _CANDIDATES_ANY_DAY
        if buckets:
            stmt, params["days"] = _CANDIDATES_IN_DAYS, list(buckets)
        out: set[str] = set()
        for chunk in _chunks(sorted(cells)):
            out.update(r.activity_id for r in read(self.conn, stmt, {**params, "cells": chunk}))
        return out


# --------------------------------------------------------------------------------------------------


def region_json(r: Region) -> dict[str, Any]:
    return {
        "geometry": r.geojson,
        "time_start": to_ms(r.window.start),
        "time_end": to_ms(r.window.end) if r.window.end else None,
        "altitude_lower": r.altitude.lower,
        "altitude_upper": r.altitude.upper,
    }


def region_from(d: dict[str, Any]) -> Region:
    return Region(
        from_geojson(d["geometry"]),
        TimeWindow(_dt(d["time_start"]), from_ms(d["time_end"])),
        AltitudeBand(d["altitude_lower"], d["altitude_upper"]),
    )


_OPEN_TACTICAL = (
    t.conflicts.c.status == ConflictStatus.open.value,
    t.conflicts.c.rule.in_([ConflictRule.separation.value, ConflictRule.incursion.value]),
)
#: conflicts between plans, not live tracks: those reminded of before they begin
_PLANNED = frozenset({ConflictRule.zone_rule, ConflictRule.overlap})


class ConflictRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @staticmethod
    def _row(r: Any) -> Conflict:
        stored = json.loads(r.subjects)
        subjects = [
            Subject(
                s["activity_id"],
                s["party_id"],
                ActivityKind(s["kind"]),
                TimeWindow(_dt(s["t_start"]), from_ms(s["t_end"])),
            )
            for s in stored
            if "track_id" not in s
        ]
        tracks = [
            TrackRef(s["party_id"], s["track_id"], s["callsign"], ActivityKind(s["kind"]), s.get("activity_id"))
            for s in stored
            if "track_id" in s
        ]
        return Conflict(
            id=r.id,
            rule=ConflictRule(r.rule),
            status=ConflictStatus(r.status),
            reason=r.reason,
            party_ids=json.loads(r.parties),
            subjects=subjects,
            zone_id=r.zone_id,
            zone_revision=r.zone_revision,
            regions=[region_from(x) for x in json.loads(r.regions)],
            created_at=_dt(r.created_at),
            updated_at=_dt(r.updated_at),
            closed_at=from_ms(r.closed_at),
            closed_reason=r.closed_reason,
            tracks=tracks,
        )

    def get(self, conflict_id: str, *, for_update: bool = False) -> Conflict | None:
        q = select(t.conflicts).where(t.conflicts.c.id == conflict_id)
        r = self.conn.execute(q.with_for_update() if for_update else q).first()
        return self._row(r) if r else None

    def agreements(self, ids: Sequence[str]) -> dict[str, builtins.list[Agreement]]:
        """Each conflict's agreements, in the order they were given."""
        g = t.conflict_agreements.c
        out: dict[str, builtins.list[Agreement]] = {}
        for chunk in _chunks(sorted(set(ids))):
            for r in self.conn.execute(select(t.conflict_agreements).where(g.conflict_id.in_(chunk)).order_by(g.at)):
                out.setdefault(r.conflict_id, []).append(
                    Agreement(r.conflict_id, r.party_id, _dt(r.at), r.statement, r.basis)
                )
        return out

    def agreed_by(self, party_id: str) -> builtins.list[str]:
        """The conflicts ``party_id`` has agreed to (a party agrees to few: each is an officer's act)."""
        g = t.conflict_agreements.c
        return list(self.conn.execute(select(g.conflict_id).where(g.party_id == party_id)).scalars())

    def agree(self, a: Agreement) -> None:
        """Keep ``a`` as its party's agreement to the conflict, in place of any earlier one."""
        g = t.conflict_agreements.c
        self.conn.execute(
            delete(t.conflict_agreements).where(g.conflict_id == a.conflict_id, g.party_id == a.party_id)
        )
        self.conn.execute(
            insert(t.conflict_agreements),
            [{"conflict_id": a.conflict_id, "party_id": a.party_id, "at": to_ms(a.at), "statement": a.statement,
              "basis": a.basis}],
        )  # fmt: skip

    def withdraw(self, conflict_id: str, party_id: str) -> bool:
        g = t.conflict_agreements.c
        q = delete(t.conflict_agreements).where(g.conflict_id == conflict_id, g.party_id == party_id)
        return bool(self.conn.execute(q).rowcount)

    def get_many(self, ids: Sequence[str]) -> dict[str, Conflict]:
        out: dict[str, Conflict] = {}
        for chunk in _chunks(sorted(set(ids))):
            for r in read(self.conn, _CONFLICTS_BY_ID, {"ids": chunk}):
                out[r.id] = self._row(r)
        return out

    def open_ids_for_activity(self, activity_id: str) -> list[str]:
        return [r.id for r in self.conn.execute(_OPEN_CONFLICT_IDS_OF_ACTIVITY, {"activity_id": activity_id})]

    def open_for_zone(self, zone_id: str) -> list[Conflict]:
        """Open zone-rule conflicts of a zone (incursions of live tracks are the detector's)."""
        q = select(t.conflicts).where(
            t.conflicts.c.zone_id == zone_id,
            t.conflicts.c.status == ConflictStatus.open.value,
            t.conflicts.c.rule == ConflictRule.zone_rule.value,
        )
        return [self._row(r) for r in self.conn.execute(q)]

    @staticmethod
    def _values(c: Conflict) -> dict[str, Any]:
        start = min((r.window.start for r in c.regions), default=c.created_at)
        ends = [r.window.end for r in c.regions]
        end = None if (not ends or any(e is None for e in ends)) else max(e for e in ends if e is not None)
        subjects = [
            {
                "activity_id": s.activity_id,
                "party_id": s.party_id,
                "kind": s.kind.value,
                "t_start": to_ms(s.window.start),
                "t_end": to_ms(s.window.end) if s.window.end else None,
            }
            for s in c.subjects
        ] + [
            {
                "party_id": x.party_id,
                "track_id": x.track_id,
                "callsign": x.callsign,
                "kind": x.kind.value,
                "activity_id": x.activity_id,
            }
            for x in c.tracks
        ]
        return dict(
            id=c.id,
            rule=c.rule.value,
            status=c.status.value,
            reason=c.reason,
            zone_id=c.zone_id,
            zone_revision=c.zone_revision,
            subjects=json_text.dumps(subjects),
            regions=json_text.dumps([region_json(r) for r in c.regions]),
            parties=json_text.dumps(c.party_ids),
            t_start=to_ms(start),
            t_end=to_ms(end) if end else None,
            remind_at=to_ms(start) if c.status is ConflictStatus.open and c.rule in _PLANNED else None,
            created_at=to_ms(c.created_at),
            updated_at=to_ms(c.updated_at),
            closed_at=to_ms(c.closed_at) if c.closed_at else None,
            closed_reason=c.closed_reason,
        )

    def save_many(self, new: Sequence[Conflict], changed: Sequence[Conflict]) -> None:
        """Insert ``new`` and rewrite ``changed`` conflicts, a few statements for all of them."""
        if new:
            write_many(self.conn, _INSERT_CONFLICT, [{"key": self._key(c), **self._values(c)} for c in new])
        if changed:
            rows = []
            for c in changed:
                v = self._values(c)
                v["b_id"] = v.pop("id")
                rows.append(v)
            write_many(self.conn, _UPDATE_CONFLICT, rows)
            for chunk in _chunks([c.id for c in changed]):
                self.conn.execute(_DELETE_CONFLICT_PARTIES, {"ids": list(chunk)})
                self.conn.execute(_DELETE_CONFLICT_ACTIVITIES, {"ids": list(chunk)})
        every = [*new, *changed]
        parties = [{"party_id": p, "conflict_id": c.id} for c in every for p in c.party_ids]
        acts = [{"activity_id": a, "conflict_id": c.id} for c in every for a in sorted(set(c.activity_ids))]
        write_many(self.conn, _INSERT_CONFLICT_PARTIES, parties)
        write_many(self.conn, _INSERT_CONFLICT_ACTIVITIES, acts)  # none for conflicts between live tracks

    @staticmethod
    def _key(c: Conflict) -> str:
        if c.tracks:  # one conflict per episode: a pair that clears and meets again is a new one
            who = ":".join(f"{x.party_id}/{x.track_id}" for x in c.tracks)
            return f"{c.rule.value}:{who}:{c.zone_id or ''}:{to_ms(c.created_at)}"
        if c.rule is ConflictRule.zone_rule:
            return zone_key(c.subjects[0].activity_id, c.zone_id or "")
        return overlap_key(*c.activity_ids)

    def starting(self, after: datetime, before: datetime, *, told_ms: int, limit: int) -> builtins.list[Conflict]:
        """Open conflicts between plans that begin in ``[after, before)``, not yet reminded of, and
        not announced or changed in the ``told_ms`` before they begin."""
        c = t.conflicts.c
        q = (
            select(t.conflicts)
            .where(c.remind_at >= to_ms(after), c.remind_at < to_ms(before), c.updated_at <= c.remind_at - told_ms)
            .order_by(c.remind_at, c.id)
            .limit(limit)
        )
        return [self._row(row) for row in self.conn.execute(q)]

    def mark_reminded(self, ids: Sequence[str]) -> None:
        """Their parties were reminded: once (a change to a conflict arms it again)."""
        for chunk in _chunks(list(ids)):
            self.conn.execute(update(t.conflicts).where(t.conflicts.c.id.in_(chunk)).values(remind_at=None))

    def open_tactical_subjects(self) -> list[tuple[str, str, str | None, list[tuple[str, str]]]]:
        """(id, rule, zone id, [(party, track id)]) of each open conflict between live tracks: what the
        detector compares with, without reading whole conflicts."""
        q = select(t.conflicts.c.id, t.conflicts.c.rule, t.conflicts.c.zone_id, t.conflicts.c.subjects).where(
            *_OPEN_TACTICAL
        )
        return [
            (r.id, r.rule, r.zone_id, [(s["party_id"], s["track_id"]) for s in json.loads(r.subjects)])
            for r in self.conn.execute(q)
        ]

    def open_tactical(self) -> list[Conflict]:
        """Open conflicts between live tracks (and zones)."""
        q = select(t.conflicts).where(*_OPEN_TACTICAL)
        return [self._row(r) for r in self.conn.execute(q)]

    def list_for_party(
        self,
        party_id: str,
        *,
        status: str | None = None,
        rule: str | None = None,
        zone_id: str | None = None,
        window: TimeWindow | None = None,
        among: Collection[str] | None = None,
        excluding: Collection[str] = (),
        limit: int = 200,
        offset: int = 0,
    ) -> list[Conflict]:
        """``among``: only these conflicts; ``excluding``: not these (both a few: a party's own picks)."""
        cp, c = t.conflict_parties.c, t.conflicts.c
        q = (
            select(t.conflicts)
            .join_from(t.conflict_parties, t.conflicts, cp.conflict_id == c.id)
            .where(cp.party_id == party_id)
        )
        if among is not None:
            if not among:
                return []
            q = q.where(c.id.in_(sorted(among)))
        if excluding:
            q = q.where(c.id.not_in(sorted(excluding)))
        if status:
            q = q.where(c.status == status)
        if rule:
            q = q.where(c.rule == rule)
        if zone_id:
            q = q.where(c.zone_id == zone_id)
        if window is not None:  # half-open, as everywhere: a conflict that ends as the window starts is out
            if window.end is not None:
                q = q.where(c.t_start < to_ms(window.end))
            q = q.where(or_(c.t_end.is_(None), c.t_end > to_ms(window.start)))
        q = q.order_by(c.t_start, c.id).limit(limit).offset(offset)
        return [self._row(r) for r in self.conn.execute(q)]


# --------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Receipt:
    seq: int
    hash: str

    def header(self) -> str:
        return f"seq={self.seq}; hash={self.hash}"


@dataclasses.dataclass(frozen=True)
class StoredEntry:
    entry: Entry
    concerns: builtins.list[str]
    payload: Any
    #: the acting party's token that made the change, and the salt of its digest in the entry's body
    credential_id: str | None = None
    actor_salt: str | None = None


@dataclasses.dataclass(frozen=True)
class AuditFilter:
    """Which entries to read, in sequence order: after ``after`` (the oldest first), or the last
    ``limit`` before ``before``. ``reader``: only those a party may read (it made them, or they concern
    it or everyone); None for all."""

    after: int = 0
    before: int | None = None
    limit: int | None = None
    #: up to and including this entry (with ``after``: a stretch of the chain, oldest first)
    through: int | None = None
    reader: str | None = None
    #: the acting party, the entity (its id), the action (``zone.`` is every zone action), the token
    party_id: str | None = None
    entity_id: str | None = None
    action: str | None = None
    credential_id: str | None = None


@dataclasses.dataclass(frozen=True)
class SignedHead:
    seq: int
    hash: str
    signed_at: datetime
    public_key: str
    signature: str


class AuditRepository:
    """Append-only. Entries are appended in the transaction of the change they record. They are
    numbered and chained at ``flush``, just before commit, under the head row's lock: concurrent
    writers get consecutive numbers and one chain, and hold that lock only for their commit instead
    of for their whole transaction (on PostgreSQL the head row is the one point every writer meets)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._pending: builtins.list[tuple[EntryBody, str, str, str | None, str | None]] = []

    def append(
        self,
        *,
        at: datetime,
        party_id: str | None,
        action: str,
        entity_type: str,
        entity_id: str,
        payload: Any,
        concerns: Iterable[str] = ("*",),
        credential_id: str | None = None,
    ) -> None:
        """Add an entry to this transaction's part of the chain; ``flush`` numbers and writes them.
        ``credential_id``: the acting party's token that made the change."""
        body_payload = canonical(payload)
        salt = new_actor_salt() if credential_id is not None else None
        body = EntryBody(
            seq=0,  # numbered at flush
            at_ms=to_ms(at),
            party_id=party_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            payload_digest=sha256_hex(body_payload),
            actor_digest=actor_digest(credential_id, salt) if credential_id is not None and salt is not None else None,
        )
        self._pending.append((body, json.dumps(sorted(set(concerns))), body_payload.decode(), credential_id, salt))

    def first_entity(self) -> tuple[str, str] | None:
        """What the first entry appended in this transaction is about (type, id), if any."""
        return (self._pending[0][0].entity_type, self._pending[0][0].entity_id) if self._pending else None

    def flush(self) -> Receipt | None:
        """Number, chain and write the entries appended in this transaction and move the head (called
        just before commit); returns the receipt of the last one."""
        if not self._pending:
            return None
        pending, self._pending = self._pending, []
        (head,) = read(self.conn, _AUDIT_HEAD_LOCKED, {})
        seq, prev = head.seq, head.hash
        rows = []
        for body, concerns, payload, credential_id, salt in pending:
            seq += 1
            entry = Entry.make(dataclasses.replace(body, seq=seq), prev)
            rows.append(
                {
                    "seq": seq,
                    "at_ms": body.at_ms,
                    "party_id": body.party_id,
                    "action": body.action,
                    "entity_type": body.entity_type,
                    "entity_id": body.entity_id,
                    "payload_digest": body.payload_digest,
                    "concerns": concerns,
                    "payload": payload,
                    "prev_hash": prev,
                    "hash": entry.hash,
                    "credential_id": credential_id,
                    "actor_salt": salt,
                }
            )
            prev = entry.hash
        write_many(self.conn, _INSERT_AUDIT, rows)
        write_many(self.conn, _AUDIT_MOVE_HEAD, [{"b_seq": seq, "b_hash": prev}])
        return Receipt(seq, prev)

    def head(self) -> Receipt:
        r = self.conn.execute(_AUDIT_HEAD).one()
        return Receipt(r.seq, r.hash)

    @staticmethod
    def _body(r: Any) -> EntryBody:
        # The actor digest is recomputed from the stored token and salt, so a token changed in the
        # table no longer matches the entry's hash.
        actor = actor_digest(r.credential_id, r.actor_salt or "") if r.credential_id is not None else None
        return EntryBody(r.seq, r.at_ms, r.party_id, r.action, r.entity_type, r.entity_id, r.payload_digest, actor)

    @classmethod
    def _entry(cls, r: Any) -> StoredEntry:
        return StoredEntry(
            Entry(cls._body(r), r.prev_hash, r.hash),
            json.loads(r.concerns),
            json.loads(r.payload),
            r.credential_id,
            r.actor_salt,
        )

    def entries(self, f: AuditFilter | None = None) -> builtins.list[StoredEntry]:
        """Entries in sequence order, as ``f`` chooses (all of them without it)."""
        f = f or AuditFilter()
        a = t.audit_log.c
        q = select(t.audit_log).where(a.seq > f.after)
        if f.before is not None:
            q = q.where(a.seq < f.before)
        if f.through is not None:
            q = q.where(a.seq <= f.through)
        if f.reader is not None:
            # concerns is a JSON list of party ids (UUIDs) or "*": matched as quoted text, portably
            q = q.where(
                or_(
                    a.party_id == f.reader,
                    a.concerns.contains(f'"{f.reader}"', autoescape=True),
                    a.concerns.contains('"*"', autoescape=True),
                )
            )
        if f.party_id is not None:
            q = q.where(a.party_id == f.party_id)
        if f.entity_id is not None:
            q = q.where(a.entity_id == f.entity_id)
        if f.credential_id is not None:
            q = q.where(a.credential_id == f.credential_id)
        newest_first = f.before is not None

        def page(q: Select[Any]) -> builtins.list[Any]:
            q = q.order_by(a.seq.desc() if newest_first else a.seq)
            return builtins.list(self.conn.execute(q if f.limit is None else q.limit(f.limit)))

        if f.action is None:
            rows: Iterable[Any] = page(q)
        else:
            # One read per action along its (action, seq) index, merged: a rare action is found without
            # walking the whole log back, and a prefix (``zone.``) names every action it begins.
            pages = [page(q.where(a.action == act)) for act in self._actions(f.action)]
            rows = itertools.islice(
                heapq.merge(*pages, key=lambda r: r.seq, reverse=newest_first),
                f.limit,
            )
        out = [self._entry(r) for r in rows]
        return out[::-1] if newest_first else out

    def _actions(self, action: str) -> builtins.list[str]:
        """The action, or those that ``action`` begins when it ends in a dot. The log's few distinct
        actions are read one index seek at a time (the order is the database's own collation's, so no
        range of text is assumed)."""
        if not action.endswith("."):
            return [action]
        a = t.audit_log.c
        found: builtins.list[str] = []
        last = self.conn.execute(select(func.min(a.action))).scalar()
        while last is not None:
            if last.startswith(action):
                found.append(last)
            last = self.conn.execute(select(func.min(a.action)).where(a.action > last)).scalar()
        return found

    def zone_steps(self, from_ms: int, until_ms: int) -> builtins.list[StoredEntry]:
        """Zone and document entries made in [from_ms, until_ms), in time order (their own index)."""
        a = t.audit_log.c
        q = select(t.audit_log).where(t.ZONE_STEPS, a.at_ms >= from_ms, a.at_ms < until_ms).order_by(a.at_ms, a.seq)
        return [self._entry(r) for r in self.conn.execute(q)]

    def links(self, first: int, last: int) -> builtins.list[Link]:
        a = t.audit_log.c
        # every column of the body, and not the payload or concerns: a chain proof does not read them
        columns = [c for c in t.audit_log.c if c.name not in ("payload", "concerns")]
        rows = self.conn.execute(select(*columns).where(a.seq >= first, a.seq <= last).order_by(a.seq))
        return [Link(r.seq, self._body(r).body_digest, r.prev_hash, r.hash) for r in rows]

    def add_signed_head(self, h: SignedHead) -> None:
        self.conn.execute(
            insert(t.audit_heads),
            [
                dict(
                    seq=h.seq, hash=h.hash, signed_at=to_ms(h.signed_at), public_key=h.public_key, signature=h.signature
                )
            ],
        )

    def signed_heads(self) -> builtins.list[SignedHead]:
        rows = self.conn.execute(select(t.audit_heads).order_by(t.audit_heads.c.seq))
        return [SignedHead(r.seq, r.hash, _dt(r.signed_at), r.public_key, r.signature) for r in rows]

    def latest_signed_head(self) -> SignedHead | None:
        r = self.conn.execute(select(t.audit_heads).order_by(t.audit_heads.c.seq.desc()).limit(1)).first()
        return None if r is None else SignedHead(r.seq, r.hash, _dt(r.signed_at), r.public_key, r.signature)


__all__ = [
    "GENESIS",
    "ActivityRepository",
    "AuditRepository",
    "ConflictRepository",
    "PartyRepository",
    "Receipt",
    "ZoneRepository",
]
