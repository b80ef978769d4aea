"""Load a scenario (parties, zones, activities) through the ordinary use cases.

Loading is idempotent: parties that exist get a fresh token (so a demo can print them again), zones
and activities that exist (same name / same party and title) are left as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from truceline.adapters.geojson_io import activity_bodies, zone_bodies
from truceline.domain.errors import InvalidInput
from truceline.domain.model import Party
from truceline.services import activities, parties, zones
from truceline.services.policy import Policy
from truceline.services.unit_of_work import UnitOfWork

SCENARIO_ONLY = ("ref", "creator", "party", "source", "approximate")


@dataclass
class Loaded:
    name: str
    tokens: dict[str, str] = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)  # ref -> zone id
    activities: dict[str, str] = field(default_factory=dict)  # ref -> activity id
    expected: dict[str, Any] = field(default_factory=dict)


def read(name: str) -> dict[str, Any]:
    """A scenario shipped with the package, by name (``syria-2017``)."""
    fname = name.replace("-", "_") + ".json"
    res = resources.files("truceline.scenarios").joinpath(fname)
    if not res.is_file():
        raise InvalidInput.at("/scenario", f"no scenario named {name!r}")
    data: dict[str, Any] = json.loads(res.read_text(encoding="utf-8"))
    return data


def _strip(feature: dict[str, Any]) -> dict[str, Any]:
    props = dict(feature.get("properties") or {})
    ref = props.get("ref")
    clean = {k: v for k, v in props.items() if k not in SCENARIO_ONLY}
    if props.get("source") or props.get("approximate"):
        note = f"Source: {props['source']}." if props.get("source") else ""
        if props.get("approximate"):
            note += " Boundary approximate, drawn from the places the source names."
        clean["description"] = (clean.get("description", "") + "\n\n" + note.strip()).strip()
    if ref is not None:
        clean["activity"] = ref
    return {**feature, "properties": clean}


def load(uow_factory: Callable[[], UnitOfWork], policy: Policy, scenario: dict[str, Any]) -> Loaded:
    out = Loaded(name=scenario.get("name", "scenario"), expected=scenario.get("expected", {}))
    by_name: dict[str, Party] = {p.name: p for p in parties.list_parties(uow_factory())}
    for p in scenario.get("parties", []):
        if p["name"] in by_name:
            out.tokens[p["name"]] = parties.rotate_token(uow_factory(), name=p["name"])
        else:
            party, token = parties.add(uow_factory(), name=p["name"], role=p["role"])
            by_name[party.name] = party
            out.tokens[party.name] = token
    existing_zones = {z.name: z.id for z in zones.list_zones(uow_factory(), by_name[next(iter(by_name))])}
    for f in scenario.get("zones", {}).get("features", []):
        props = f["properties"]
        (body,) = zone_bodies(_strip(f))
        body.pop("activity", None)
        if body["name"] in existing_zones:
            out.zones[props["ref"]] = existing_zones[body["name"]]
            continue
        result = zones.create(uow_factory(), policy, by_name[props["creator"]], body)
        out.zones[props["ref"]] = result.zone.id
    for f in scenario.get("activities", {}).get("features", []):
        props = f["properties"]
        owner = by_name[props["party"]]
        (body,) = activity_bodies({"type": "FeatureCollection", "features": [_strip(f)]})
        mine = {a.title: a.id for a in activities.list_activities(uow_factory(), owner, limit=1000)}
        if body["title"] in mine:
            out.activities[props["ref"]] = mine[body["title"]]
            continue
        notified = activities.notify(uow_factory(), policy, owner, body)
        out.activities[props["ref"]] = notified.activity.id
    return out
