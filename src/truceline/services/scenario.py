"""Load a scenario through the ordinary use cases, replaying its history at the times it gives.

Parties come first. Then every zone proposal, negotiation step (revisions, sign-offs, objections,
responsibility requests and answers, documents) and activity notification runs in time order, each
with the clock set to its moment, so the audit log and each zone's history read as they happened.
Before each step the zones' clock-driven changes (entry into force) are applied.

Loading is idempotent: parties that exist get a fresh token (so a demo can print them again); zones
and activities that exist (same name / same party and title) are left as they are.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from truceline.adapters.geojson_io import activity_bodies, provenance, zone_bodies
from truceline.adapters.incident_store import IncidentFilter
from truceline.domain.clock import Clock
from truceline.domain.errors import InvalidInput
from truceline.domain.model import Party, ResponsibilityStatus
from truceline.domain.tracks import replay_schedule, restamp
from truceline.domain.volumes import parse_time
from truceline.services import activities, incidents, parties, tracks, zones
from truceline.services.policy import Policy
from truceline.services.tracks import TrackPolicy
from truceline.services.unit_of_work import UnitOfWork

SCENARIO_ONLY = (
    "ref",
    "creator",
    "party",
    "source",
    "approximate",
    "history",
    "proposed_at",
    "expected_status",
    "notified_at",
)
UowFactory = Callable[[Clock | None], UnitOfWork]


@dataclass
class Loaded:
    name: str
    tokens: dict[str, str] = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)  # ref -> zone id
    activities: dict[str, str] = field(default_factory=dict)  # ref -> activity id
    expected: dict[str, Any] = field(default_factory=dict)
    expected_status: dict[str, str] = field(default_factory=dict)  # zone ref -> status
    incidents: dict[str, str] = field(default_factory=dict)  # ref -> incident id


def read(name: str) -> dict[str, Any]:
    """A scenario shipped with the package, by name (``syria-2017``)."""
    res = resources.files("truceline.scenarios").joinpath(name.replace("-", "_") + ".json")
    if not res.is_file():
        raise InvalidInput.at("/scenario", f"no scenario named {name!r}")
    data: dict[str, Any] = json.loads(res.read_text(encoding="utf-8"))
    return data


def _strip(feature: dict[str, Any]) -> dict[str, Any]:
    props = dict(feature.get("properties") or {})
    clean = {k: v for k, v in props.items() if k not in SCENARIO_ONLY}
    note = provenance(props)
    if note:
        clean["description"] = (clean.get("description", "") + "\n\n" + note).strip()
    if props.get("ref") is not None:
        clean["activity"] = props["ref"]
    return {**feature, "properties": clean}


def _at(text: str) -> datetime:
    return parse_time(text, "/at")


def load(make_uow: UowFactory, policy: Policy, scenario: dict[str, Any]) -> Loaded:
    out = Loaded(name=scenario.get("name", "scenario"), expected=scenario.get("expected", {}))
    by_name: dict[str, Party] = {p.name: p for p in parties.list_parties(make_uow(None))}
    for p in scenario.get("parties", []):
        if p["name"] in by_name:
            out.tokens[p["name"]] = parties.rotate_token(make_uow(None), name=p["name"])
        else:
            party, token = parties.add(make_uow(None), name=p["name"], role=p["role"])
            by_name[party.name] = party
            out.tokens[party.name] = token
    anyone = next(iter(by_name.values()))
    existing_zones = {z.name: z.id for z in zones.list_zones(make_uow(None), anyone, limit=100_000)}

    events: list[tuple[datetime, int, Callable[[Clock], None]]] = []
    for f in scenario.get("zones", {}).get("features", []):
        props = f["properties"]
        ref = props["ref"]
        out.expected_status[ref] = props.get("expected_status", "")
        (body,) = zone_bodies(_strip(f))
        body.pop("activity", None)
        if body["name"] in existing_zones:
            out.zones[ref] = existing_zones[body["name"]]
            continue
        body["signatories"] = props.get("signatories", [props["creator"]])
        body["rationale"] = props.get("rationale", "")
        events.append(
            (
                _at(props["proposed_at"]),
                len(events),
                _propose(make_uow, policy, out, by_name, ref, props["creator"], body),
            )
        )
        for step in props.get("history", []):
            events.append((_at(step["at"]), len(events), _step(make_uow, policy, out, by_name, ref, step)))
    for f in scenario.get("activities", {}).get("features", []):
        props = f["properties"]
        owner = by_name[props["party"]]
        (body,) = activity_bodies({"type": "FeatureCollection", "features": [_strip(f)]})
        mine = {a.title: a.id for a in activities.list_activities(make_uow(None), owner, limit=1000)}
        if body["title"] in mine:
            out.activities[props["ref"]] = mine[body["title"]]
            continue
        when = _at(props["notified_at"]) if props.get("notified_at") else _at(props["time_start"]) - timedelta(hours=6)
        events.append((when, len(events), _notify(make_uow, policy, out, owner, props["ref"], body)))

    events += _incident_events(make_uow, policy, out, by_name, scenario, anyone)

    for when, _, run in sorted(events, key=lambda e: (e[0], e[1])):

        def clock(w: datetime = when) -> datetime:
            return w

        zones.advance(make_uow(clock), policy)
        run(clock)
    zones.advance(make_uow(None), policy)
    return out


def _incident_events(
    make_uow: UowFactory,
    policy: Policy,
    out: Loaded,
    by_name: dict[str, Party],
    scenario: dict[str, Any],
    anyone: Party,
) -> list[tuple[datetime, int, Callable[[Clock], None]]]:
    """Each incident is reported, reviewed, verified and merged at its time. A scenario incident is
    tagged with its reference, so loading again finds it instead of reporting it twice."""
    tag = f"{scenario.get('name', 'scenario')}:"
    existing = {
        t[len(tag) :]: v.incident.id
        for v in incidents.list_incidents(make_uow(None), anyone, IncidentFilter(include_merged=True), limit=1000,
                                          offset=0)
        for t in v.incident.tags
        if t.startswith(tag)
    }  # fmt: skip
    events: list[tuple[datetime, int, Callable[[Clock], None]]] = []
    base = 1_000_000  # after the zones' and activities' events at the same instant
    for item in scenario.get("incidents", []):
        ref = item["ref"]
        if ref in existing:
            out.incidents[ref] = existing[ref]
            continue

        def report(clock: Clock, item: dict[str, Any] = item, ref: str = ref) -> None:
            body = {**item["report"], "tags": [*item["report"].get("tags", []), tag + ref]}
            view = incidents.report(make_uow(clock), policy.monitoring, by_name[item["by"]], body)
            out.incidents[ref] = view.incident.id

        events.append((_at(item["reported_at"]), base + len(events), report))
        for st in item.get("steps", []):

            def step(clock: Clock, st: dict[str, Any] = st, ref: str = ref) -> None:
                body = {"step": st["step"], "statement": st.get("statement", "")}
                incidents.take_step(make_uow(clock), policy.monitoring, by_name[st["by"]], out.incidents[ref], body)

            events.append((_at(st["at"]), base + len(events), step))
        if item.get("merge_into"):

            def merge(clock: Clock, item: dict[str, Any] = item, ref: str = ref) -> None:
                monitor = next(p for p in by_name.values() if p.role.value == "monitor")
                body = {"duplicates": [out.incidents[ref]], "statement": "the same offensive, reported twice"}
                incidents.merge(make_uow(clock), monitor, out.incidents[item["merge_into"]], body)

            events.append((_at(item["merged_at"]), base + len(events), merge))
    return events


def _propose(
    make_uow: UowFactory,
    policy: Policy,
    out: Loaded,
    by_name: dict[str, Party],
    ref: str,
    creator: str,
    body: dict[str, Any],
) -> Callable[[Clock], None]:
    def run(clock: Clock) -> None:
        out.zones[ref] = zones.create(make_uow(clock), policy, by_name[creator], body).zone.id

    return run


def _notify(
    make_uow: UowFactory, policy: Policy, out: Loaded, owner: Party, ref: str, body: dict[str, Any]
) -> Callable[[Clock], None]:
    def run(clock: Clock) -> None:
        out.activities[ref] = activities.notify(make_uow(clock), policy, owner, body).activity.id

    return run


def _step(
    make_uow: UowFactory, policy: Policy, out: Loaded, by_name: dict[str, Party], ref: str, step: dict[str, Any]
) -> Callable[[Clock], None]:
    def run(clock: Clock) -> None:
        zid = out.zones[ref]
        who = by_name[step["by"]]
        do = step["do"]
        zone = zones.get(make_uow(clock), who, zid)
        if do == "sign":
            zones.take_position(
                make_uow(clock),
                policy,
                who,
                zid,
                {"revision": zone.revision, "strength": step["strength"], "statement": step.get("statement", "")},
            )
        elif do == "object":
            zones.take_position(
                make_uow(clock),
                policy,
                who,
                zid,
                {"revision": zone.revision, "statement": step["statement"]},
                objection=True,
            )
        elif do == "revise":
            changes = {k: v for k, v in step.items() if k not in ("at", "by", "do")}
            zones.update(make_uow(clock), policy, who, zid, changes)
        elif do == "request":
            zones.request_responsibility(
                make_uow(clock), policy, who, zid, {"party": step["party"], "role": step["role"]}
            )
        elif do in ("accept", "decline"):
            party = by_name[step["party"]]
            rid = next(
                r.id
                for r in zone.responsible
                if r.party_id == party.id
                and r.role.value == step["role"]
                and r.status is ResponsibilityStatus.requested
            )
            zones.answer_responsibility(
                make_uow(clock), policy, who, zid, rid, {"statement": step.get("statement", "")}, accept=do == "accept"
            )
        elif do == "document":
            zones.add_document(make_uow(clock), who, zid, {"title": step["title"], "body": step["body"]})
        elif do == "sign_document":
            n = zones.negotiation(make_uow(clock), who, zid)
            d = next(x.document for x in n.documents if x.document.title == step["title"])
            zones.sign_document(make_uow(clock), who, zid, d.id, {"version": d.version, "strength": step["strength"]})
        else:
            raise InvalidInput.at("/history", f"unknown scenario step {do!r}")

    return run


def traffic(scenario: dict[str, Any]) -> list[dict[str, Any]]:
    """The scenario's recorded live traffic (NDJSON shipped beside it), or none."""
    name = scenario.get("traffic")
    if not name:
        return []
    res = resources.files("truceline.scenarios").joinpath(name)
    return [json.loads(line) for line in res.read_text(encoding="utf-8").splitlines() if line.strip()]


def replay(
    make_uow: Callable[[], UnitOfWork],
    policy: TrackPolicy,
    records: list[dict[str, Any]],
    *,
    clock: Clock,
    speed: float = 1.0,
    stop: threading.Event | None = None,
    loop: bool = False,
) -> int:
    """Replay recorded reports as live ones (each re-stamped with the clock's time when it is due),
    through the ordinary ingest, as the party each record names. Returns how many were accepted."""
    stop = stop or threading.Event()
    schedule = replay_schedule(records, speed)
    with make_uow() as u:
        by_name = {p.name: p for p in u.parties.list()}
    accepted = 0
    while not stop.is_set():
        started = time.monotonic()
        for offset, group in schedule:
            if stop.wait(max(0.0, offset - (time.monotonic() - started))):
                return accepted
            at = clock()
            per_party: dict[str, list[tuple[int, object]]] = {}
            for n, r in enumerate(group, start=1):
                per_party.setdefault(str(r.get("party")), []).append((n, restamp(r, at)))
            for name, items in per_party.items():
                who = by_name.get(name)
                if who is not None:
                    accepted += tracks.ingest(make_uow(), policy, who, items).accepted
        if not loop:
            break
    return accepted
