"""Ceasefire monitoring: report, verify, merge and unmerge incidents; import and export ACLED/UCDP data;
each zone's ceasefire timeline."""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, TextIO

from truceline.adapters import charts
from truceline.adapters.geojson_io import feature_collection
from truceline.adapters.incident_store import IncidentFilter, StepRecord, ZoneLink
from truceline.domain import incident_formats as fmt
from truceline.domain.ceasefire import Day, ForceIndex, Period, force_periods, timeline
from truceline.domain.errors import FieldError, InvalidInput, NotFound, StateConflict
from truceline.domain.evidence import Evidence, parse_evidence
from truceline.domain.ids import new_id
from truceline.domain.incidents import (
    INTER,
    NEEDS_STATEMENT,
    Candidate,
    Incident,
    Source,
    Step,
    parse_report,
    rank_duplicates,
    steps_open,
    verification_step,
)
from truceline.domain.model import Party, Role, Zone
from truceline.domain.volumes import format_time
from truceline.services import audit
from truceline.services.access import may, require
from truceline.services.policy import MonitoringPolicy
from truceline.services.unit_of_work import UnitOfWork

INCIDENT = "incident"
FORMATS = ("acled", "ucdp")


@dataclass
class IncidentView:
    """An incident with what a reader needs around it: its zones, its steps, its merged duplicates
    and every source (its own and theirs)."""

    incident: Incident
    zones: list[tuple[str, int]]
    steps: list[StepRecord] = field(default_factory=list)
    merged: list[Incident] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    zone_names: dict[str, str] = field(default_factory=dict)
    #: attached to it or to a duplicate merged into it, oldest first
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def all_sources(self) -> list[Source]:
        return [*self.incident.sources, *(s for m in self.merged for s in m.sources)]


def _zone_index(uow: UnitOfWork) -> ForceIndex:
    zones = uow.zones.list(limit=1_000_000)
    return ForceIndex(zones, uow.zones.status_history([z.id for z in zones]) if zones else {})


def _links(index: ForceIndex, incidents: list[Incident]) -> list[ZoneLink]:
    return [
        ZoneLink(incidents[h.index].id, h.zone_id, h.zone_revision, incidents[h.index].event_date)
        for h in index.hits(incidents)
    ]


def _view(uow: UnitOfWork, incident: Incident) -> IncidentView:
    v = IncidentView(
        incident,
        uow.incidents.zones_of([incident.id]).get(incident.id, []),
        uow.incidents.steps(incident.id),
        uow.incidents.merged_into(incident.id),
    )
    v.evidence = uow.incidents.evidence([incident.id, *(m.id for m in v.merged)])
    _name([v], uow)
    return v


def _name(views: list[IncidentView], uow: UnitOfWork) -> None:
    """Fill in the names of the parties and zones the views mention."""
    pids: set[str] = set()
    zids: set[str] = set()
    for v in views:
        for i in (v.incident, *v.merged):
            pids.update(i.alleged)
            if i.reported_by:
                pids.add(i.reported_by)
        pids.update(s.party_id for s in v.steps if s.party_id)
        pids.update(e.added_by for e in v.evidence)
        zids.update(z for z, _ in v.zones)
    names = uow.parties.names(pids) if pids else {}
    zone_names = {z: zone.name for z in zids if (zone := uow.zones.get(z)) is not None}
    for v in views:
        v.names, v.zone_names = names, zone_names


def _audience(uow: UnitOfWork, incident: Incident, zone_ids: Iterable[str]) -> set[str]:
    """Who hears of an incident on the live feed: its reporter, the parties it is alleged against, and
    the parties that guarantee, police or monitor the zones it happened in."""
    parties = {*incident.alleged, *([incident.reported_by] if incident.reported_by else [])}
    for zid in zone_ids:
        z = uow.zones.get(zid)
        if z is not None:
            parties |= z.party_ids
    return parties


def _incident(uow: UnitOfWork, incident_id: str, *, for_update: bool = False) -> Incident:
    i = uow.incidents.get(incident_id, for_update=for_update)
    if i is None:
        raise NotFound(f"no incident {incident_id}")
    return i


def _statement(data: object) -> str:
    """The optional statement of a merge or unmerge."""
    value = data.get("statement", "") if isinstance(data, dict) else ""
    if not isinstance(value, str) or len(value) > 10_000:
        raise InvalidInput.at("/statement", "must be a string of at most 10,000 characters")
    return value.strip()


def _resolve_parties(uow: UnitOfWork, refs: list[str]) -> list[str]:
    out = []
    for k, ref in enumerate(refs):
        p = uow.parties.get(ref) or uow.parties.by_name(ref)
        if p is None:
            raise InvalidInput.at(f"/alleged/{k}", f"no party {ref!r}")
        if p.id not in out:
            out.append(p.id)
    return out


def _summary(i: Incident) -> dict[str, Any]:
    return {
        "id": i.id,
        "event_date": i.event_date.isoformat(),
        "event_type": i.event_type,
        "sub_event_type": i.sub_event_type,
        "location": i.location,
        "status": i.status.value,
    }


def report(uow: UnitOfWork, policy: MonitoringPolicy, caller: Party, data: object) -> IncidentView:
    """Record an incident a party reports; link it to every zone it is a possible violation of."""
    require(caller, "incident.report")
    with uow:
        now = uow.clock()
        incident, alleged = parse_report(data, now=now, new_id=new_id(), reported_by=caller.id)
        incident.alleged = _resolve_parties(uow, alleged)
        uow.incidents.add(incident)
        links = _links(_zone_index(uow), [incident])
        uow.incidents.link(links)
        zone_ids = [lk.zone_id for lk in links]
        audit.record(uow, caller, "incident.reported", INCIDENT, incident.id, data)
        uow.feed.publish(
            _audience(uow, incident, zone_ids), "incident.reported", {**_summary(incident), "zones": zone_ids}, now
        )
        view = _view(uow, incident)
        uow.commit()
    return view


def add_evidence(
    uow: UnitOfWork, policy: MonitoringPolicy, caller: Party, incident_id: str, data: object
) -> tuple[IncidentView, Evidence]:
    """Attach evidence to an incident (whoever may report one): the file is kept as given, and its
    digest, type and size go in the audit log, so it cannot be swapped unnoticed."""
    require(caller, "incident.report")
    given = parse_evidence(data, policy.max_evidence_bytes)
    with uow:
        incident = _incident(uow, incident_id, for_update=True)
        now = uow.clock()
        e = Evidence(new_id(), incident.id, given.description, given.mime_type, len(given.content), given.sha256,
                     caller.id, now)  # fmt: skip
        uow.incidents.add_evidence(e, given.content)
        said = {"evidence": e.id, "resourceDesc": e.description, "mimeType": e.mime_type, "size": e.size,
                "sha256": e.sha256}  # fmt: skip
        audit.record(uow, caller, "incident.evidence_added", INCIDENT, incident.id, said)
        view = _view(uow, incident)
        uow.feed.publish(_audience(uow, incident, [z for z, _ in view.zones]), "incident.evidence_added",
                         {**_summary(incident), **said}, now)  # fmt: skip
        uow.commit()
    return view, e


def evidence_content(uow: UnitOfWork, caller: Party, incident_id: str, evidence_id: str) -> tuple[Evidence, bytes]:
    require(caller, "incident.read")
    with uow:
        found = uow.incidents.evidence_content(incident_id, evidence_id)
    if found is None:
        raise NotFound(f"no evidence {evidence_id} on incident {incident_id}")
    return found


def get(uow: UnitOfWork, caller: Party, incident_id: str) -> IncidentView:
    require(caller, "incident.read")
    with uow:
        return _view(uow, _incident(uow, incident_id))


def list_incidents(uow: UnitOfWork, caller: Party, f: IncidentFilter, *, limit: int, offset: int) -> list[IncidentView]:
    require(caller, "incident.read")
    with uow:
        found = uow.incidents.list(f, limit=limit, offset=offset)
        zones = uow.incidents.zones_of([i.id for i in found])
        views = [IncidentView(i, zones.get(i.id, [])) for i in found]
        _name(views, uow)
        return views


def list_by_ids(uow: UnitOfWork, caller: Party, ids: list[str]) -> list[IncidentView]:
    require(caller, "incident.read")
    with uow:
        found = uow.incidents.get_many(ids)
        zones = uow.incidents.zones_of(list(found))
        views = [IncidentView(found[i], zones.get(i, [])) for i in ids if i in found]
        _name(views, uow)
        return views


def _is_monitor(caller: Party) -> bool:
    return caller.role is Role.monitor


def _is_alleged(caller: Party, i: Incident) -> bool:
    return caller.id in i.alleged and caller.role is Role.officer


def take_step(uow: UnitOfWork, policy: MonitoringPolicy, caller: Party, incident_id: str, data: object) -> IncidentView:
    """A verification step: a monitor reviews, verifies or rejects; an alleged party disputes."""
    require(caller, "incident.read")
    if not isinstance(data, dict):
        raise InvalidInput.at("", "the body must be a JSON object")
    try:
        step = Step(str(data.get("step")))
    except ValueError:
        raise InvalidInput.at("/step", f"unknown step {data.get('step')!r}; one of {', '.join(Step)}") from None
    statement = data.get("statement", "")
    if not isinstance(statement, str) or len(statement) > 10_000:
        raise InvalidInput.at("/statement", "must be a string of at most 10,000 characters")
    statement = statement.strip()
    if step in NEEDS_STATEMENT and not statement:
        raise InvalidInput.at("/statement", f"a statement is required to {step} an incident")
    with uow:
        now = uow.clock()
        i = _incident(uow, incident_id, for_update=True)
        if i.merged_into:
            raise StateConflict(f"the incident was merged into {i.merged_into}; verify that one")
        expected = data.get("version")
        if expected is not None and expected != i.version:
            raise StateConflict(f"the incident is at version {i.version}, not {expected}",
                                extra={"current_version": i.version})  # fmt: skip
        target = verification_step(i.status, step, is_monitor=_is_monitor(caller), is_alleged=_is_alleged(caller, i))
        before = i.status
        i.status, i.updated_at, i.version = target, now, i.version + 1
        uow.incidents.save(i)
        uow.incidents.add_step(i.id, now, caller.id, step.value, before.value, target.value, statement)
        audit.record(
            uow, caller, f"incident.{step.value}", INCIDENT, i.id,
            {"from": before.value, "to": target.value, "statement": statement},
        )  # fmt: skip
        zones = [z for z, _ in uow.incidents.zones_of([i.id]).get(i.id, [])]
        uow.feed.publish(
            _audience(uow, i, zones), "incident.status",
            {**_summary(i), "from": before.value, "step": step.value, "statement": statement}, now,
        )  # fmt: skip
        view = _view(uow, i)
        uow.commit()
    return view


# ---- duplicates ----------------------------------------------------------------------------------


def duplicates(uow: UnitOfWork, policy: MonitoringPolicy, caller: Party, incident_id: str) -> list[Candidate]:
    """Records that may be the same event: near in space and time, same type, an actor in common."""
    require(caller, "incident.read")
    rules = policy.duplicates
    with uow:
        i = _incident(uow, incident_id)
        km = max(rules.km_by_geo_precision.values(), default=rules.km) + rules.km
        days = max(rules.days_by_time_precision.values(), default=rules.days)
        dlat = km / 111.0
        dlon = km / max(1.0, 111.32 * abs(math.cos(math.radians(i.latitude))))
        first = i.event_date - timedelta(days=days)
        last = (i.date_end or i.event_date) + timedelta(days=days)
        near = uow.incidents.near(i.latitude, i.longitude, dlat, dlon, first, last, i.event_type)
    return rank_duplicates(i, near, rules)


def merge(uow: UnitOfWork, caller: Party, incident_id: str, data: object) -> IncidentView:
    """Fold duplicates into one record. Nothing is lost: each duplicate keeps its own row, sources and
    steps, marked as merged into the kept one, whose view shows them all."""
    require(caller, "incident.merge")
    ids = data.get("duplicates") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(x, str) for x in ids) or len(ids) > 100:
        raise InvalidInput.at("/duplicates", "must list the ids of the records to merge into this one (1-100)")
    statement = _statement(data)
    with uow:
        now = uow.clock()
        keep = _incident(uow, incident_id, for_update=True)
        if keep.merged_into:
            raise StateConflict(f"the incident was itself merged into {keep.merged_into}")
        found = uow.incidents.get_many(ids)
        for k, dup_id in enumerate(ids):
            d = found.get(dup_id)
            if d is None:
                raise InvalidInput.at(f"/duplicates/{k}", f"no incident {dup_id}")
            if dup_id == keep.id:
                raise InvalidInput.at(f"/duplicates/{k}", "an incident cannot be merged into itself")
            if d.merged_into:
                raise StateConflict(f"incident {dup_id} is already merged into {d.merged_into}")
            if uow.incidents.merged_into(dup_id):
                raise StateConflict(f"incident {dup_id} has duplicates merged into it; unmerge those first")
        for dup_id in ids:
            d = found[dup_id]
            d.merged_into, d.updated_at, d.version = keep.id, now, d.version + 1
            uow.incidents.save(d)
            uow.incidents.add_step(d.id, now, caller.id, "merge", d.status.value, d.status.value,
                                   statement or f"merged into {keep.id}")  # fmt: skip
        keep.updated_at, keep.version = now, keep.version + 1
        uow.incidents.save(keep)
        uow.incidents.add_step(keep.id, now, caller.id, "merge", keep.status.value, keep.status.value,
                               statement or f"absorbed {', '.join(ids)}")  # fmt: skip
        audit.record(uow, caller, "incident.merged", INCIDENT, keep.id, {"duplicates": ids, "statement": statement})
        view = _view(uow, keep)
        uow.commit()
    return view


def unmerge(uow: UnitOfWork, caller: Party, incident_id: str, data: object) -> IncidentView:
    """Undo a merge: the duplicate stands on its own again, with its sources and steps as they were."""
    require(caller, "incident.merge")
    dup_id = data.get("duplicate") if isinstance(data, dict) else None
    if not isinstance(dup_id, str):
        raise InvalidInput.at("/duplicate", "must be the id of a record merged into this one")
    statement = _statement(data)
    with uow:
        now = uow.clock()
        keep = _incident(uow, incident_id, for_update=True)
        d = uow.incidents.get(dup_id, for_update=True)
        if d is None or d.merged_into != keep.id:
            raise InvalidInput.at("/duplicate", f"incident {dup_id} is not merged into {keep.id}")
        d.merged_into, d.updated_at, d.version = None, now, d.version + 1
        uow.incidents.save(d)
        uow.incidents.add_step(d.id, now, caller.id, "unmerge", d.status.value, d.status.value,
                               statement or f"separated from {keep.id}")  # fmt: skip
        keep.updated_at, keep.version = now, keep.version + 1
        uow.incidents.save(keep)
        uow.incidents.add_step(keep.id, now, caller.id, "unmerge", keep.status.value, keep.status.value,
                               statement or f"released {d.id}")  # fmt: skip
        audit.record(uow, caller, "incident.unmerged", INCIDENT, keep.id, {"duplicate": d.id, "statement": statement})
        view = _view(uow, keep)
        uow.commit()
    return view


# ---- import and export ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    line: int  # the physical line the record starts on (the header is line 1)
    row: int  # the record's number among the data rows (1 = the first after the header)
    column: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "row": self.row, "column": self.column, "detail": self.reason}


@dataclass
class ImportReport:
    format: str
    rows: int = 0
    inserted: int = 0
    unchanged: int = 0
    rejected: int = 0
    linked: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    digest: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "rows": self.rows,
            "inserted": self.inserted,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "zone_links": self.linked,
            "problems": [p.as_dict() for p in self.problems],
            "problems_truncated": self.rejected > len(self.problems),
            "sha256": self.digest,
        }


def read_csv(stream: TextIO, fmt_name: str) -> Iterator[tuple[int, int, dict[str, str] | RowProblem]]:
    """(line, row, record) for each data row, or a problem for a row with the wrong number of fields."""
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput.at("/header", "the file is empty") from None
    except csv.Error as e:
        raise InvalidInput.at("/header", f"not a CSV file: {e}") from None
    names = fmt.check_header(header, fmt_name)
    width = len(names)
    line, row = reader.line_num + 1, 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            row += 1
            yield line, row, RowProblem(line, row, "", f"unreadable CSV: {e}")
            line = reader.line_num + 1
            continue
        row += 1
        if len(values) != width:
            if values:
                yield line, row, RowProblem(line, row, "", f"expected {width} fields, found {len(values)}")
            else:
                row -= 1  # a blank line is not a record
        else:
            yield line, row, dict(zip(names, values, strict=True))
        line = reader.line_num + 1


def import_csv(
    make_uow: Callable[[], UnitOfWork],
    policy: MonitoringPolicy,
    caller: Party,
    stream: TextIO,
    fmt_name: str,
    *,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import an ACLED or UCDP GED CSV, streaming, one transaction per batch. Bad rows are reported by
    line with the column and reason; the good ones are kept. A record already stored (same dataset and
    source id) is left alone, so importing the same file again adds nothing. (Storing a batch in a
    thread while the next is parsed was measured slower: the two contend for the GIL.)"""
    require(caller, "incident.import")
    if fmt_name not in FORMATS:
        raise InvalidInput.at("/format", f"unknown format {fmt_name!r}; one of {', '.join(FORMATS)}")
    parse = fmt.from_acled if fmt_name == "acled" else fmt.from_ucdp
    out = ImportReport(fmt_name)
    digest = hashlib.sha256()
    with make_uow() as uow:
        now = uow.clock()
        index = _zone_index(uow)
    records = read_csv(stream, fmt_name)
    batch: list[Incident] = []
    part = hashlib.sha256()  # of the batch's valid rows, as read (for the audit log)

    def flush() -> None:
        nonlocal batch, part
        if batch:
            _store_batch(make_uow(), index, caller, fmt_name, batch, part, out, digest)
            batch, part = [], hashlib.sha256()
            if on_progress is not None:
                on_progress(out.rows)

    for line, row, rec in records:
        out.rows = row
        if isinstance(rec, RowProblem):
            _problem(out, policy, rec)
            continue
        try:
            incident = parse(rec, now=now, reported_by=caller.id)
        except InvalidInput as e:
            err = e.errors[0] if e.errors else FieldError("", e.detail)
            _problem(out, policy, RowProblem(line, row, err.pointer.lstrip("/"), err.reason))
            continue
        batch.append(incident)
        part.update("\x1f".join(rec.values()).encode())
        part.update(b"\x1e")
        if len(batch) >= policy.import_batch:
            flush()
    flush()
    out.digest = digest.hexdigest()
    return out


def _problem(out: ImportReport, policy: MonitoringPolicy, p: RowProblem) -> None:
    out.rejected += 1
    if len(out.problems) < policy.max_problems:
        out.problems.append(p)


def _store_batch(
    uow: UnitOfWork,
    index: ForceIndex,
    caller: Party,
    fmt_name: str,
    batch: list[Incident],
    part: Any,
    out: ImportReport,
    digest: Any,
) -> None:
    # Two rows of one file with the same source id: the first wins, as it would on a second import.
    seen: dict[str, Incident] = {}
    for inc in batch:
        seen.setdefault(inc.id, inc)
    incidents = sorted(seen.values(), key=lambda i: i.id)
    with uow:
        # A record already stored is skipped by the insert itself (and so are its zone links).
        inserted = uow.incidents.add_many(incidents)
        links = uow.incidents.link(_links(index, incidents))
        audit.record(
            uow, caller, "incidents.imported", "import", incidents[0].id if incidents else "-",
            {"format": fmt_name, "inserted": inserted, "unchanged": len(batch) - inserted,
             "zone_links": links, "rows_sha256": part.hexdigest()},
        )  # fmt: skip
        uow.commit()
    digest.update(part.digest())
    out.inserted += inserted
    out.unchanged += len(batch) - inserted
    out.linked += links


def export_csv(uow: UnitOfWork, caller: Party, f: IncidentFilter) -> Iterator[str]:
    """ACLED's 31 columns, a chunk of rows at a time. A record's merged duplicates add their sources."""
    require(caller, "incident.read")
    with uow:
        merged = uow.incidents.merged_sources()
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(fmt.ACLED_COLUMNS)
        for n, i in enumerate(uow.incidents.stream(f), 1):
            extra = merged.get(i.id)
            w.writerow(fmt.to_acled(i, [*i.sources, *extra] if extra else None))
            if n % 2_000 == 0:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()


def feature(view: IncidentView) -> dict[str, Any]:
    """An incident as a GeoJSON Feature (RFC 7946): a point, with ACLED-named properties."""
    i = view.incident
    row = dict(zip(fmt.ACLED_COLUMNS, fmt.to_acled(i, view.all_sources), strict=True))
    props: dict[str, Any] = {
        "id": i.id,
        **{k: v for k, v in row.items() if k not in ("latitude", "longitude")},
        "fatalities_low": i.fatalities.low,
        "fatalities_high": i.fatalities.high,
        "status": i.status.value,
        "zones": [z for z, _ in view.zones],
    }
    return {
        "type": "Feature",
        "id": i.id,
        "geometry": {"type": "Point", "coordinates": [round(i.longitude, 6), round(i.latitude, 6)]},
        "properties": props,
    }


def export_geojson(uow: UnitOfWork, caller: Party, f: IncidentFilter) -> Iterator[bytes]:
    require(caller, "incident.read")
    with uow:
        merged = uow.incidents.merged_sources()
        yield from feature_collection(
            feature(IncidentView(replace(i, sources=[*i.sources, *merged[i.id]]) if i.id in merged else i, []))
            for i in uow.incidents.stream(f)
        )


# ---- the ceasefire timeline ----------------------------------------------------------------------


@dataclass
class Timeline:
    zone: Zone
    periods: list[Period]
    first: date
    last: date
    days: list[Day]


def ceasefire(
    uow: UnitOfWork,
    policy: MonitoringPolicy,
    caller: Party,
    zone_id: str,
    first: date | None = None,
    last: date | None = None,
) -> Timeline:
    """The zone's status for each day from ``first`` to ``last`` (default: 30 days from its entry into
    force, up to today)."""
    require(caller, "incident.read")
    with uow:
        z = uow.zones.get(zone_id)
        if z is None:
            raise NotFound(f"no zone {zone_id}")
        periods = force_periods(uow.zones.status_history([z.id]).get(z.id, []))
        today = uow.clock().date()
        start = first or (periods[0].start.date() if periods else z.created_at.date())
        end = last or min(today, start + timedelta(days=29))
        if end < start:
            raise InvalidInput.at("/to", f"{end.isoformat()} is before {start.isoformat()}")
        if (end - start).days + 1 > policy.max_timeline_days:
            raise InvalidInput.at("/to", f"at most {policy.max_timeline_days} days at a time")
        linked = uow.incidents.for_zone(z.id, start, end)
    return Timeline(z, periods, start, end, timeline(start, end, periods, linked, policy.thresholds))


# ---- JSON ----------------------------------------------------------------------------------------


def _ref(party_id: str | None, names: dict[str, str]) -> dict[str, Any] | None:
    return None if party_id is None else {"id": party_id, "name": names.get(party_id)}


def _actor_json(a: Any) -> dict[str, Any] | None:
    if not a.name:
        return None
    return {"name": a.name, "inter": a.inter, "inter_label": INTER.get(a.inter, ""), "associated": a.associated}


def incident_json(v: IncidentView, *, full: bool = True, caller: Party | None = None) -> dict[str, Any]:
    """An incident as the API shows it; ``full`` adds its steps and merged duplicates, and for a
    ``caller`` what it may do with the record now (``your_steps``, ``you_may_merge``)."""
    i = v.incident
    out: dict[str, Any] = {
        "id": i.id,
        "dataset": i.dataset.value,
        "external_id": i.external_id,
        "event_date": i.event_date.isoformat(),
        "date_end": i.date_end.isoformat() if i.date_end else None,
        "occurred_at": format_time(i.occurred_at),
        "time_precision": i.time_precision,
        "disorder_type": i.disorder_type,
        "event_type": i.event_type,
        "sub_event_type": i.sub_event_type,
        "actor1": _actor_json(i.actor1),
        "actor2": _actor_json(i.actor2),
        "interaction": i.interaction,
        "civilian_targeting": i.civilian_targeting,
        "location": {
            "name": i.location, "latitude": i.latitude, "longitude": i.longitude, "geo_precision": i.geo_precision,
            "admin1": i.admin1, "admin2": i.admin2, "admin3": i.admin3, "country": i.country, "iso": i.iso,
            "region": i.region,
        },
        "fatalities": {"low": i.fatalities.low, "best": i.fatalities.best, "high": i.fatalities.high},
        "sources": [s.as_dict() for s in v.all_sources],
        "notes": i.notes,
        "tags": i.tags,
        "reported_by": _ref(i.reported_by, v.names),
        "alleged": [_ref(p, v.names) for p in i.alleged],
        "status": i.status.value,
        "merged_into": i.merged_into,
        "possible_violation_of": [
            {"zone_id": z, "zone_name": v.zone_names.get(z), "zone_revision": rev} for z, rev in v.zones
        ] if i.violent else [],
        "zones": [{"zone_id": z, "zone_name": v.zone_names.get(z), "zone_revision": rev} for z, rev in v.zones],
        "version": i.version,
        "created_at": format_time(i.created_at),
        "updated_at": format_time(i.updated_at),
    }  # fmt: skip
    if full:
        out["evidence"] = [evidence_json(e, v.names) for e in v.evidence]
        out["steps"] = [
            {"seq": s.seq, "at": format_time(s.at), "party": _ref(s.party_id, v.names), "step": s.step,
             "from": s.from_status, "to": s.to_status, "statement": s.statement}
            for s in v.steps
        ]  # fmt: skip
        out["merged"] = [
            {"id": m.id, "dataset": m.dataset.value, "external_id": m.external_id, "status": m.status.value,
             "reported_by": _ref(m.reported_by, v.names), "sources": [s.as_dict() for s in m.sources],
             "fatalities": {"low": m.fatalities.low, "best": m.fatalities.best, "high": m.fatalities.high}}
            for m in v.merged
        ]  # fmt: skip
    if full and caller is not None:
        # A merged record is verified as part of the one it was merged into: no steps of its own.
        steps = [] if i.merged_into else steps_open(i.status, is_monitor=_is_monitor(caller),
                                                    is_alleged=_is_alleged(caller, i))  # fmt: skip
        out["your_steps"] = [{"step": s.value, "needs_statement": s in NEEDS_STATEMENT} for s in steps]
        out["you_may_merge"] = may(caller, "incident.merge") and not i.merged_into
    return out


def evidence_json(e: Evidence, names: dict[str, str]) -> dict[str, Any]:
    """Evidence as the API shows it, in CAP 1.2 resource terms, with where to fetch it."""
    return {"id": e.id, "incident_id": e.incident_id, "resourceDesc": e.description, "mimeType": e.mime_type,
            "size": e.size, "sha256": e.sha256, "uri": f"/v1/incidents/{e.incident_id}/evidence/{e.id}",
            "added_by": _ref(e.added_by, names), "added_at": format_time(e.added_at)}  # fmt: skip


def timeline_json(tl: Timeline) -> dict[str, Any]:
    return {
        "zone": {"id": tl.zone.id, "name": tl.zone.name, "kind": tl.zone.kind.value, "status": tl.zone.status.value},
        "from": tl.first.isoformat(),
        "to": tl.last.isoformat(),
        "in_force": [{"from": format_time(p.start), "until": format_time(p.end)} for p in tl.periods],
        "days": [
            {"date": d.day.isoformat(), "status": d.status.value, "reason": d.reason,
             "in_force_hours": d.in_force_hours, "incidents": d.incidents, "by_type": d.by_type,
             "fatalities": d.fatalities, "possible_violations": d.possible_violations,
             "verified_violations": d.verified_violations, "disputed": d.disputed, "rejected": d.rejected,
             "incident_ids": d.incident_ids}
            for d in tl.days
        ],
    }  # fmt: skip


def rules_json(policy: MonitoringPolicy) -> dict[str, Any]:
    th = policy.thresholds
    return {
        "broken": f"≥ {th.broken_verified} verified violations in the day, or ≥ {th.broken_fatalities} deaths "
        "in verified violations",
        "strained": f"a verified violation, or ≥ {th.strained_reported} possible violations not yet settled, or "
        f"≥ {th.strained_fatalities} deaths in possible violations",
        "holding": "in force, and neither strained nor broken",
        "not_in_force": "the zone was not in force that day",
        "possible_violation": "a battle, explosion/remote violence or violence against civilians inside the zone "
        "while it was in force, not rejected and not merged into another record",
    }


def timeline_chart(tl: Timeline, image_format: str) -> bytes:
    bars = [charts.DayBar(d.day, d.status.value, d.by_type, d.fatalities, d.verified_violations) for d in tl.days]
    title = f"{tl.zone.name}: ceasefire {tl.first.isoformat()} to {tl.last.isoformat()}"
    return charts.ceasefire_chart(title, bars, image_format)
