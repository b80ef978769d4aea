"""The daily situation report: for one day, each zone's ceasefire status and incidents, the day's
incidents on a map, the caller's open conflicts touching that day, and its overdue hotline messages."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shapely.geometry import MultiPolygon, Polygon

from truceline.adapters import charts
from truceline.adapters.incident_store import IncidentFilter
from truceline.adapters.repositories import StoredEntry
from truceline.domain import zone_news
from truceline.domain.ceasefire import Day, force_periods, timeline
from truceline.domain.cells import to_ms
from truceline.domain.errors import NotFound
from truceline.domain.incidents import Incident
from truceline.domain.model import Conflict, Party, Zone, ZoneStatus
from truceline.domain.volumes import format_time
from truceline.services.access import require
from truceline.services.conflicts import standings_in
from truceline.services.hotline import INBOX_STATES
from truceline.services.policy import Policy
from truceline.services.unit_of_work import UnitOfWork
from truceline.services.zones import DOCUMENT, ZONE, Awaiting, awaiting_in

#: Zones shown on the report: those that can be in force, or were.
SHOWN = (ZoneStatus.agreed_in_principle, ZoneStatus.in_force, ZoneStatus.suspended, ZoneStatus.lapsed)


@dataclass
class ZoneDay:
    zone: Zone
    day: Day
    incidents: list[Incident]


@dataclass
class Sitrep:
    day: date
    party: Party
    generated_at: datetime
    zones: list[ZoneDay]
    incidents: list[Incident]
    incident_zones: dict[str, list[str]]
    conflicts: list[Conflict]
    overdue: list[dict[str, Any]]
    #: the day's steps in zones' negotiations that the party was told of (as on its live feed)
    negotiations: list[dict[str, Any]] = field(default_factory=list)
    #: zones whose current revision awaits the party's signature, as the report is made
    awaiting: list[Awaiting] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    zone_filter: str | None = None
    #: the conflicts every party concerned agrees to (still open, known to be handled)
    coordinated: set[str] = field(default_factory=set)

    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(z.day.status.value == s for z in self.zones) for s in ("broken", "strained", "holding")}


def _footprint_rings(z: Zone) -> list[list[tuple[float, float]]]:
    geoms = z.footprint.geoms if isinstance(z.footprint, MultiPolygon) else [z.footprint]
    return [[(x, y) for x, y, *_ in g.exterior.coords] for g in geoms if isinstance(g, Polygon)]


def build(uow: UnitOfWork, policy: Policy, caller: Party, day: date, zone_id: str | None = None) -> Sitrep:
    require(caller, "incident.read")
    with uow:
        now = uow.clock()
        every_zone = {z.id: z for z in uow.zones.list(limit=100_000)}
        all_zones = [z for z in every_zone.values() if z.status in SHOWN]
        if zone_id is not None:
            z = uow.zones.get(zone_id)
            if z is None:
                raise NotFound(f"no zone {zone_id}")
            all_zones = [z]
        history = uow.zones.status_history([z.id for z in all_zones]) if all_zones else {}
        zone_days = []
        for z in all_zones:
            periods = force_periods(history.get(z.id, []))
            linked = uow.incidents.for_zone(z.id, day, day)
            d = timeline(day, day, periods, linked, policy.monitoring.thresholds)[0]
            found = uow.incidents.get_many(sorted(set(d.incident_ids))).values()
            zone_days.append(ZoneDay(z, d, [i for i in found if not i.merged_into]))
        f = IncidentFilter(first=day, last=day, zone_id=zone_id)
        incidents = uow.incidents.list(f, limit=10_000, offset=0)
        links = uow.incidents.zones_of([i.id for i in incidents])
        merged = uow.incidents.merged_sources()
        start = datetime(day.year, day.month, day.day, tzinfo=now.tzinfo)
        end = start + timedelta(days=1)
        steps = _steps_told(uow, caller, uow.audit.zone_steps(to_ms(start), to_ms(end)), every_zone, zone_id)
        awaiting = [a for a in awaiting_in(uow, caller, every_zone.values()) if zone_id in (None, a.zone.id)]
        mine = uow.conflicts.list_for_party(caller.id, status="open", rule=None, zone_id=zone_id, limit=500, offset=0)
        conflicts = [
            c
            for c in mine
            if any(r.window.start < end and (r.window.end is None or r.window.end > start) for r in c.regions)
        ]
        coordinated = {cid for cid, s in standings_in(uow, conflicts).items() if s.coordinated}
        overdue = uow.hotline.inbox(caller.id, INBOX_STATES["overdue"], limit=200, offset=0)
        party_ids = {p for c in conflicts for p in c.party_ids} | {p for i in incidents for p in i.alleged}
        party_ids |= {i.reported_by for i in incidents if i.reported_by} | {m.sender_id for m in overdue if m.sender_id}
        party_ids |= {p for s in steps for p in s.parties()}
        names = uow.parties.names(party_ids) if party_ids else {}
    order = {"broken": 0, "strained": 1, "holding": 2, "not_in_force": 3}
    zone_days.sort(key=lambda zd: (order.get(zd.day.status.value, 9), zd.zone.name))
    zone_names = {z.id: z.name for z in all_zones}
    return Sitrep(
        day=day,
        party=caller,
        generated_at=now,
        zones=zone_days,
        incidents=sorted(
            (replace(i, sources=[*i.sources, *merged.get(i.id, [])]) for i in incidents),
            key=lambda i: (i.event_type, i.location, i.id),
        ),
        incident_zones={i.id: [zone_names.get(z, z) for z, _ in links.get(i.id, [])] for i in incidents},
        conflicts=conflicts,
        coordinated=coordinated,
        overdue=[
            {
                "headline": m.headline,
                "severity": m.severity.value,
                "from": names.get(m.sender_id, "Truceline") if m.sender_id else "Truceline",
                "sent": format_time(m.created_at),
                "deadline": format_time(next((a.deadline for a in m.addressees if a.party_id == caller.id), None)),
            }
            for m in overdue
        ],
        negotiations=[s.row(names) for s in steps],
        awaiting=awaiting,
        names=names,
        zone_filter=zone_id,
    )


@dataclass(frozen=True)
class _Step:
    at_ms: int
    action: str
    zone: Zone
    actor_id: str | None
    details: dict[str, Any]

    def parties(self) -> set[str]:
        named = [*self.details.get("signatories", []), self.details.get("party")]
        return {p for p in (self.actor_id, *named) if isinstance(p, str)}

    def row(self, names: dict[str, str]) -> dict[str, Any]:
        by = names.get(self.actor_id, self.actor_id) if self.actor_id else None
        sentence = zone_news.summary(self.action, self.zone.name, by, self.details, lambda i: names.get(i, i))
        at = datetime.fromtimestamp(self.at_ms / 1000, tz=UTC)
        return {"at": format_time(at), "zone": self.zone.name, "action": self.action,
                "summary": sentence}  # fmt: skip


def _steps_told(
    uow: UnitOfWork, caller: Party, entries: list[StoredEntry], every_zone: dict[str, Zone], zone_id: str | None
) -> list[_Step]:
    """The audit log's zone and document entries as the steps the caller's feed told it of."""
    steps = []
    titles: dict[str, str] = {}  # document id: its title now (an entry for a new version has none)
    read: set[str] = set()
    for e in entries:
        body = e.entry.body
        if body.action not in zone_news.ZONE_EVENT_TYPES:
            continue  # a zone's other records (e.g. its cells being re-checked) are not news
        payload = e.payload if isinstance(e.payload, dict) else {}
        change = payload.get("change", payload)  # a signed request keeps the change under "change"
        zid = body.entity_id if body.entity_type == ZONE else str(change.get("zone", ""))
        zone = every_zone.get(zid)
        if zone is None or zone_id not in (None, zid):
            continue
        extra: list[tuple[str, Any]] = []
        if body.entity_type == DOCUMENT:
            if zid not in read:
                read.add(zid)
                titles |= {d.id: d.title for d in uow.zones.documents(zid)}
            extra = [("document", body.entity_id), ("title", change.get("title") or titles.get(body.entity_id, ""))]
        details = zone_news.details_of(change, extra)
        if zone_news.is_told(caller.id, body.action, details, zone, body.party_id):
            steps.append(_Step(body.at_ms, body.action, zone, body.party_id, details))
    return steps


def situation_map(rep: Sitrep, image_format: str) -> bytes:
    zones = [charts.MapZone(zd.zone.name, zd.zone.kind.value, zd.zone.status.value, _footprint_rings(zd.zone))
             for zd in rep.zones]  # fmt: skip
    points = [
        charts.MapPoint(str(n), i.longitude, i.latitude, i.event_type, i.status.value)
        for n, i in enumerate(rep.incidents, start=1)
    ]
    title = f"Situation on {rep.day.isoformat()}"
    return charts.situation_map(title, zones, points, charts.borders(), image_format)


def _actors(i: Incident) -> str:
    return " / ".join(a.name for a in (i.actor1, i.actor2) if a.name)


def context(rep: Sitrep, policy: Policy) -> dict[str, Any]:
    """What the report shows, as plain values for the HTML template and the PDF."""
    from truceline.services.incidents import rules_json

    def when(c: Conflict) -> str:
        starts = min(r.window.start for r in c.regions)
        ends = [r.window.end for r in c.regions if r.window.end is not None]
        return f"{format_time(starts)} – {format_time(max(ends)) if ends else 'open'}"

    scope = rep.zones[0].zone.name if rep.zone_filter and rep.zones else None
    return {
        "day": rep.day.isoformat(),
        "day_long": rep.day.strftime("%A %d %B %Y"),
        "party": rep.party.name,
        "generated": format_time(rep.generated_at),
        "generated_at": rep.generated_at,
        "scope": scope,
        "counts": rep.counts,
        "zones": [
            {"name": zd.zone.name, "kind": zd.zone.kind.value.replace("_", " "),
             "zone_status": zd.zone.status.value.replace("_", " "), "status": zd.day.status.value,
             "reason": zd.day.reason, "incidents": zd.day.incidents, "possible": zd.day.possible_violations,
             "verified": zd.day.verified_violations, "deaths": zd.day.fatalities}
            for zd in rep.zones
        ],
        "incidents": [
            {"n": n, "event": f"{i.event_type}: {i.sub_event_type}",
             "where": i.location or f"{i.latitude:.3f}, {i.longitude:.3f}", "actors": _actors(i),
             "deaths": i.fatalities.best, "status": i.status.value,
             "zones": ", ".join(rep.incident_zones.get(i.id, [])), "sources": "; ".join(s.name for s in i.sources)}
            for n, i in enumerate(rep.incidents, start=1)
        ],
        "conflicts": [
            {"rule": c.rule.value.replace("_", " ") + (", coordinated" if c.id in rep.coordinated else ""),
             "reason": c.reason,
             "parties": ", ".join(rep.names.get(p, p) for p in c.party_ids), "when": when(c)}
            for c in rep.conflicts
        ],
        "overdue": rep.overdue,
        "negotiations": rep.negotiations,
        "awaiting": [
            {"zone": a.zone.name, "status": a.zone.status.value.replace("_", " "), "revision": a.zone.revision,
             "signature": a.signature.replace("_", " ")}
            for a in rep.awaiting
        ],
        "rules": rules_json(policy.monitoring),
    }  # fmt: skip


def render(rep: Sitrep, policy: Policy, fmt: str) -> bytes:
    """``html`` (self-contained, the map inlined as SVG) or ``pdf``."""
    from truceline.adapters import report_render

    ctx = context(rep, policy)
    if fmt == "pdf":
        return report_render.pdf(ctx, situation_map(rep, "png"))
    return report_render.html(ctx, situation_map(rep, "svg").decode()).encode()
