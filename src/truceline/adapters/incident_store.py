"""Incident storage: the records, the zones they are possible violations of, and their verification steps.

Imports are the hot path (a million rows a minute): they write through the driver's own
``executemany`` with portable SQL, and exports read through the driver's cursor in batches, so memory
stays flat whatever the size of the file.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from truceline.adapters import tables as t
from truceline.adapters.db import is_sqlite
from truceline.domain.ceasefire import Linked
from truceline.domain.cells import to_ms
from truceline.domain.evidence import Evidence
from truceline.domain.incidents import ActorRef, Dataset, Fatalities, Incident, Source, Verification

_COLS = (
    "id", "dataset", "external_id", "event_date", "date_end", "occurred_at", "time_precision", "disorder_type",
    "event_type", "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2",
    "civilian_targeting", "iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude",
    "longitude", "geo_precision", "fatalities_low", "fatalities_best", "fatalities_high", "sources", "notes",
    "tags", "source_timestamp", "reported_by", "alleged", "status", "merged_into", "version", "created_at",
    "updated_at",
)  # fmt: skip
_SELECT = ", ".join(_COLS)
_DAY_MS = 86_400_000


def day_ms(d: date) -> int:
    return (d.toordinal() - 719_163) * _DAY_MS  # 719163 = date(1970, 1, 1).toordinal()


def ms_day(ms: int) -> date:
    return date.fromordinal(ms // _DAY_MS + 719_163)


_DAYS: dict[int, date] = {}


def _day(ms: int) -> date:
    found = _DAYS.get(ms)
    if found is None:
        found = ms_day(ms)
        if len(_DAYS) < 100_000:
            _DAYS[ms] = found
    return found


def _dt(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


# Imports and exports move a million rows: sources, tags and party lists repeat, so each distinct value
# is encoded or decoded once (the caches are bounded).
_ENCODED: dict[tuple[Source, ...], str] = {}
_DECODED: dict[str, list[Source]] = {}
_EMPTY = "[]"


def _sources_json(sources: Sequence[Source]) -> str:
    key = tuple(sources)
    found = _ENCODED.get(key)
    if found is None:
        found = json.dumps([s.as_dict() for s in sources], ensure_ascii=False, separators=(",", ":"))
        if len(_ENCODED) > 50_000:
            _ENCODED.clear()
        _ENCODED[key] = found
    return found


def _sources(text: str) -> list[Source]:
    found = _DECODED.get(text)
    if found is None:
        found = [Source(**s) for s in json.loads(text)]
        if len(_DECODED) > 50_000:
            _DECODED.clear()
        _DECODED[text] = found
    return list(found)


def _list_json(items: Sequence[str]) -> str:
    return json.dumps(items, ensure_ascii=False) if items else _EMPTY


def _list(text: str) -> list[str]:
    return [] if text == _EMPTY else list(json.loads(text))


_DATASET = {d: d.value for d in Dataset}
_STATUS = {v: v.value for v in Verification}
_DATASET_OF = {d.value: d for d in Dataset}
_STATUS_OF = {v.value: v for v in Verification}


def row_values(i: Incident) -> tuple[Any, ...]:
    return (
        i.id, _DATASET[i.dataset], i.external_id, day_ms(i.event_date), day_ms(i.date_end) if i.date_end else None,
        to_ms(i.occurred_at) if i.occurred_at else None, i.time_precision, i.disorder_type, i.event_type,
        i.sub_event_type, i.actor1.name, i.actor1.associated, i.actor1.inter, i.actor2.name, i.actor2.associated,
        i.actor2.inter, int(i.civilian_targeting), i.iso, i.region, i.country, i.admin1, i.admin2, i.admin3,
        i.location, i.latitude, i.longitude, i.geo_precision, i.fatalities.low, i.fatalities.best,
        i.fatalities.high, _sources_json(i.sources), i.notes, _list_json(i.tags),
        i.source_timestamp, i.reported_by, _list_json(i.alleged), _STATUS[i.status], i.merged_into, i.version,
        to_ms(i.created_at), to_ms(i.updated_at),
    )  # fmt: skip


def from_row(r: Sequence[Any]) -> Incident:
    (id_, dataset, external_id, event_date, date_end, occurred_at, tprec, disorder, etype, sub, a1, aa1, i1, a2,
     aa2, i2, civ, iso, region, country, ad1, ad2, ad3, location, lat, lon, gprec, flo, fbe, fhi, sources, notes,
     tags, stamp, reported_by, alleged, status, merged_into, version, created_at, updated_at) = r  # fmt: skip
    return Incident(
        id=id_,
        dataset=_DATASET_OF[dataset],
        external_id=external_id,
        event_date=_day(event_date),
        date_end=ms_day(date_end) if date_end is not None else None,
        occurred_at=_dt(occurred_at),
        time_precision=tprec,
        disorder_type=disorder,
        event_type=etype,
        sub_event_type=sub,
        actor1=ActorRef(a1, i1, aa1),
        actor2=ActorRef(a2, i2, aa2),
        civilian_targeting=bool(civ),
        iso=iso,
        region=region,
        country=country,
        admin1=ad1,
        admin2=ad2,
        admin3=ad3,
        location=location,
        latitude=lat,
        longitude=lon,
        geo_precision=gprec,
        fatalities=Fatalities(flo, fbe, fhi),
        sources=_sources(sources),
        notes=notes,
        tags=_list(tags),
        source_timestamp=stamp,
        reported_by=reported_by,
        alleged=_list(alleged),
        status=_STATUS_OF[status],
        merged_into=merged_into,
        version=version,
        created_at=_dt(created_at) or datetime.now(UTC),
        updated_at=_dt(updated_at) or datetime.now(UTC),
    )


@dataclass(frozen=True)
class StepRecord:
    seq: int
    at: datetime
    party_id: str | None
    step: str
    from_status: str
    to_status: str
    statement: str


@dataclass(frozen=True)
class ZoneLink:
    incident_id: str
    zone_id: str
    zone_revision: int
    event_date: date


@dataclass(frozen=True)
class IncidentFilter:
    #: any of these
    status: tuple[str, ...] | None = None
    event_type: str | None = None
    zone_id: str | None = None
    first: date | None = None
    last: date | None = None
    bbox: tuple[float, float, float, float] | None = None
    dataset: str | None = None
    include_merged: bool = False


def _evidence(r: Any) -> Evidence:
    return Evidence(r.id, r.incident_id, r.description, r.mime_type, r.size, r.sha256, r.added_by,
                    datetime.fromtimestamp(r.added_at / 1000, UTC))  # fmt: skip


class IncidentRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @property
    def _mark(self) -> str:
        return "?" if is_sqlite(self.conn.engine) else "%s"

    # ---- writing ---------------------------------------------------------------------------------

    def add(self, incident: Incident) -> None:
        self.conn.execute(insert(t.incidents).values(dict(zip(_COLS, row_values(incident), strict=True))))

    def add_many(self, incidents: Sequence[Incident]) -> int:
        """Insert records in one driver call, skipping any already stored (same id: the same source
        row); returns how many were new."""
        if not incidents:
            return 0
        marks = ", ".join([self._mark] * len(_COLS))
        result = self.conn.exec_driver_sql(
            f"INSERT INTO incidents ({_SELECT}) VALUES ({marks}) ON CONFLICT (id) DO NOTHING",
            [row_values(i) for i in incidents],
        )
        return max(0, int(result.rowcount))

    def save(self, incident: Incident) -> None:
        values = dict(zip(_COLS, row_values(incident), strict=True))
        values.pop("id")
        self.conn.execute(update(t.incidents).where(t.incidents.c.id == incident.id).values(**values))

    def link(self, links: Sequence[ZoneLink]) -> int:
        """Record zone links (a link already there is kept); returns how many were new."""
        if not links:
            return 0
        m = self._mark
        result = self.conn.exec_driver_sql(
            f"INSERT INTO incident_zones (incident_id, zone_id, zone_revision, event_date) VALUES ({m}, {m}, {m}, {m}) "
            "ON CONFLICT (incident_id, zone_id) DO NOTHING",
            [(lk.incident_id, lk.zone_id, lk.zone_revision, day_ms(lk.event_date)) for lk in links],
        )
        return max(0, int(result.rowcount))

    def unlink(self, incident_id: str) -> None:
        self.conn.execute(t.incident_zones.delete().where(t.incident_zones.c.incident_id == incident_id))

    def add_step(
        self, incident_id: str, at: datetime, party_id: str | None, step: str, before: str, after: str, statement: str
    ) -> None:
        seq = self.conn.execute(
            select(func.coalesce(func.max(t.incident_steps.c.seq), 0)).where(
                t.incident_steps.c.incident_id == incident_id
            )
        ).scalar_one()
        self.conn.execute(
            insert(t.incident_steps).values(
                incident_id=incident_id,
                seq=seq + 1,
                at=to_ms(at),
                party_id=party_id,
                step=step,
                from_status=before,
                to_status=after,
                statement=statement,
            )
        )

    def add_evidence(self, e: Evidence, content: bytes) -> None:
        self.conn.execute(insert(t.incident_evidence), [{
            "id": e.id, "incident_id": e.incident_id, "description": e.description, "mime_type": e.mime_type,
            "size": e.size, "sha256": e.sha256, "content": content, "added_by": e.added_by,
            "added_at": to_ms(e.added_at)}])  # fmt: skip

    # ---- reading ---------------------------------------------------------------------------------

    def evidence(self, incident_ids: Sequence[str]) -> builtins.list[Evidence]:
        """The evidence attached to any of these incidents, oldest first, without the content."""
        ev = t.incident_evidence.c
        cols = [c for c in t.incident_evidence.columns if c.name != "content"]
        q = select(*cols).where(ev.incident_id.in_(sorted(set(incident_ids)))).order_by(ev.added_at, ev.id)
        return [_evidence(r) for r in self.conn.execute(q)]

    def evidence_content(self, incident_id: str, evidence_id: str) -> tuple[Evidence, bytes] | None:
        ev = t.incident_evidence.c
        q = select(t.incident_evidence).where(ev.id == evidence_id, ev.incident_id == incident_id)
        r = self.conn.execute(q).first()
        return None if r is None else (_evidence(r), bytes(r.content))

    def get(self, incident_id: str, *, for_update: bool = False) -> Incident | None:
        q = select(*(t.incidents.c[c] for c in _COLS)).where(t.incidents.c.id == incident_id)
        r = self.conn.execute(q.with_for_update() if for_update else q).first()
        return from_row(r) if r is not None else None

    def get_many(self, ids: Sequence[str]) -> dict[str, Incident]:
        out: dict[str, Incident] = {}
        for k in range(0, len(ids), 500):
            chunk = list(ids[k : k + 500])
            q = select(*(t.incidents.c[c] for c in _COLS)).where(t.incidents.c.id.in_(chunk))
            out.update((r[0], from_row(r)) for r in self.conn.execute(q))
        return out

    def merged_into(self, primary_id: str) -> list[Incident]:
        q = select(*(t.incidents.c[c] for c in _COLS)).where(t.incidents.c.merged_into == primary_id)
        return [from_row(r) for r in self.conn.execute(q.order_by(t.incidents.c.created_at, t.incidents.c.id))]

    def merged_sources(self) -> dict[str, list[Source]]:
        """Every merged record's sources, by the record it was merged into (merges are few)."""
        out: dict[str, list[Source]] = {}
        q = select(t.incidents.c.merged_into, t.incidents.c.sources).where(t.incidents.c.merged_into.is_not(None))
        for primary, sources in self.conn.execute(q):
            out.setdefault(primary, []).extend(Source(**s) for s in json.loads(sources))
        return out

    def steps(self, incident_id: str) -> list[StepRecord]:
        s = t.incident_steps.c
        q = select(t.incident_steps).where(s.incident_id == incident_id).order_by(s.seq)
        return [
            StepRecord(r.seq, _dt(r.at) or datetime.now(UTC), r.party_id, r.step, r.from_status, r.to_status,
                       r.statement)
            for r in self.conn.execute(q)
        ]  # fmt: skip

    def zones_of(self, incident_ids: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
        out: dict[str, list[tuple[str, int]]] = {}
        z = t.incident_zones.c
        for k in range(0, len(incident_ids), 500):
            chunk = list(incident_ids[k : k + 500])
            q = select(z.incident_id, z.zone_id, z.zone_revision).where(z.incident_id.in_(chunk))
            for iid, zid, rev in self.conn.execute(q.order_by(z.zone_id)):
                out.setdefault(iid, []).append((zid, rev))
        return out

    def _where(self, f: IncidentFilter) -> list[Any]:
        c = t.incidents.c
        conds: list[Any] = []
        if not f.include_merged:
            conds.append(c.merged_into.is_(None))
        if f.status:
            conds.append(c.status.in_(f.status))
        if f.event_type:
            conds.append(c.event_type == f.event_type)
        if f.dataset:
            conds.append(c.dataset == f.dataset)
        if f.first:
            conds.append(c.event_date >= day_ms(f.first))
        if f.last:
            conds.append(c.event_date <= day_ms(f.last))
        if f.bbox:
            w, s, e, n = f.bbox
            conds += [c.latitude >= s, c.latitude <= n]
            conds.append(
                and_(c.longitude >= w, c.longitude <= e) if w <= e else or_(c.longitude >= w, c.longitude <= e)
            )
        if f.zone_id:
            z = t.incident_zones.c
            conds.append(c.id.in_(select(z.incident_id).where(z.zone_id == f.zone_id)))
        return conds

    def list(self, f: IncidentFilter, *, limit: int, offset: int) -> list[Incident]:
        c = t.incidents.c
        q = (
            select(*(c[k] for k in _COLS))
            .where(*self._where(f))
            .order_by(c.event_date.desc(), c.created_at.desc(), c.id)
            .limit(limit)
            .offset(offset)
        )
        return [from_row(r) for r in self.conn.execute(q)]

    def near(self, lat: float, lon: float, dlat: float, dlon: float, first: date, last: date, event_type: str
             ) -> builtins.list[Incident]:  # fmt: skip
        """Unmerged records of one event type in a lat/lon box and a date range (duplicate candidates)."""
        c = t.incidents.c
        q = select(*(c[k] for k in _COLS)).where(
            c.merged_into.is_(None),
            c.event_type == event_type,
            c.event_date >= day_ms(first),
            c.event_date <= day_ms(last),
            c.latitude.between(lat - dlat, lat + dlat),
            c.longitude.between(lon - dlon, lon + dlon),
        )
        return [from_row(r) for r in self.conn.execute(q.limit(1_000))]

    def stream(self, f: IncidentFilter, batch: int = 5_000) -> Iterator[Incident]:
        """Every matching record, oldest first, read through the driver's cursor in batches."""
        c = t.incidents.c
        q = select(*(c[k] for k in _COLS)).where(*self._where(f)).order_by(c.event_date, c.id)
        compiled = q.compile(self.conn, compile_kwargs={"literal_binds": True})
        dbapi = self.conn.connection.dbapi_connection
        # PostgreSQL: a named (server-side) cursor, or the driver would fetch every row at once.
        cursor = dbapi.cursor() if is_sqlite(self.conn.engine) else dbapi.cursor(name="incident_stream")  # type: ignore[union-attr,call-arg]
        try:
            cursor.execute(str(compiled))
            while rows := cursor.fetchmany(batch):
                yield from (from_row(r) for r in rows)
        finally:
            cursor.close()

    def for_zone(self, zone_id: str, first: date, last: date) -> builtins.list[Linked]:
        """What the ceasefire timeline needs of the zone's linked, unmerged incidents in a date range."""
        c, z = t.incidents.c, t.incident_zones.c
        q = (
            select(c.id, c.event_date, c.event_type, c.status, c.fatalities_best)
            .join_from(t.incident_zones, t.incidents, c.id == z.incident_id)
            .where(z.zone_id == zone_id, z.event_date >= day_ms(first), z.event_date <= day_ms(last),
                   c.merged_into.is_(None))
        )  # fmt: skip
        return [Linked(r[0], ms_day(r[1]), r[2], Verification(r[3]), r[4]) for r in self.conn.execute(q)]

    def zones_with_incidents(self, first: date, last: date) -> set[str]:
        z = t.incident_zones.c
        q = select(z.zone_id).where(z.event_date >= day_ms(first), z.event_date <= day_ms(last)).distinct()
        return set(self.conn.execute(q).scalars())
