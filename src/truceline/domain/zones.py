"""Zone input: validation and normalisation of a zone's fields (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shapely.geometry import Point

from truceline.domain import geometry as geo
from truceline.domain.errors import InvalidInput
from truceline.domain.model import (
    ActivityKind,
    AltitudeBand,
    ResponsibilityRole,
    TimeWindow,
    ZoneKind,
    ZoneStatus,
)
from truceline.domain.schedule import Schedule, parse_schedule
from truceline.domain.volumes import MAX_RADIUS_M, parse_band, parse_time

DEFAULT_BAND = {
    "lower": {"value": -500, "reference": "W84", "units": "M"},
    "upper": {"value": 100_000, "reference": "W84", "units": "M"},
}


def describe_band(lower_m: float, upper_m: float) -> str:
    """A zone's band in words, its default ends as "the ground" and "no ceiling": "the ground to 3000 m"."""
    low = "the ground" if lower_m == DEFAULT_BAND["lower"]["value"] else f"{lower_m:g} m"
    high = "no ceiling" if upper_m == DEFAULT_BAND["upper"]["value"] else f"{upper_m:g} m"
    return f"{low} to {high}"
MAX_STANDOFF_M = 100_000.0
EDITABLE = (
    "name",
    "kind",
    "geometry",
    "radius_m",
    "altitude_lower",
    "altitude_upper",
    "effective_from",
    "effective_until",
    "forbidden_kinds",
    "standoff_m",
    "responsible",
    "description",
    "separation_m",
    "vertical_separation_m",
    "schedule",
)


@dataclass(frozen=True)
class ZoneFields:
    name: str
    kind: ZoneKind
    geometry: dict[str, Any]
    radius_m: float | None
    footprint: Any
    altitude: AltitudeBand
    effective: TimeWindow
    forbidden_kinds: frozenset[ActivityKind]
    standoff_m: float
    responsible: list[tuple[str, ResponsibilityRole]]  # (party reference as given, role)
    description: str
    separation_m: float | None = None
    vertical_separation_m: float | None = None
    schedule: Schedule | None = None


def _minimum(data: dict[str, Any], key: str, top: float) -> float | None:
    """An optional separation minimum for live tracks inside the zone (metres)."""
    v = data.get(key)
    if v is None:
        return None
    if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v) or not 0 < v <= top:
        raise InvalidInput.at(f"/{key}", f"{key} must be a number of metres in (0, {top:.0f}]")
    return float(v)


def _enum(enum: type[Any], value: object, pointer: str, what: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise InvalidInput.at(pointer, f"unknown {what} {value!r}; one of {', '.join(e.value for e in enum)}") from None


def parse_status(value: object, pointer: str = "/status") -> ZoneStatus:
    return _enum(ZoneStatus, value, pointer, "zone status")  # type: ignore[no-any-return]


def parse_zone(data: object, *, now: datetime, limits: geo.GeometryLimits) -> ZoneFields:
    if not isinstance(data, dict):
        raise InvalidInput.at("", "the body must be a JSON object")
    name = data.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
        raise InvalidInput.at("/name", "name is required: 1 to 200 characters")
    kind = _enum(ZoneKind, data.get("kind"), "/kind", "zone kind")
    gobj = data.get("geometry")
    shape = geo.parse_geometry(gobj, "/geometry", allowed=["Polygon", "MultiPolygon", "Point"], limits=limits)
    radius = data.get("radius_m")
    if shape.geom_type == "Point":
        if (
            not isinstance(radius, int | float)
            or isinstance(radius, bool)
            or not math.isfinite(radius)
            or not 0 < radius <= MAX_RADIUS_M
        ):
            raise InvalidInput.at("/radius_m", f"a Point zone needs radius_m in (0, {MAX_RADIUS_M:.0f}] metres")
        assert isinstance(shape, Point)
        footprint = geo.circle(shape.x, shape.y, float(radius))
        radius = float(radius)
    else:
        if radius is not None:
            raise InvalidInput.at("/radius_m", "radius_m is only for Point zones")
        footprint = shape
    geo.check_area(footprint, "/geometry", limits)
    band = parse_band(
        data.get("altitude_lower", DEFAULT_BAND["lower"]), data.get("altitude_upper", DEFAULT_BAND["upper"]), ""
    )
    start = parse_time(data["effective_from"], "/effective_from") if data.get("effective_from") else now
    end = parse_time(data["effective_until"], "/effective_until") if data.get("effective_until") else None
    if end is not None and end <= start:
        raise InvalidInput.at("/effective_until", "effective_until must be after effective_from")
    fk = data.get("forbidden_kinds", [])
    if not isinstance(fk, list):
        raise InvalidInput.at("/forbidden_kinds", "must be an array of activity kinds")
    forbidden = frozenset(_enum(ActivityKind, k, f"/forbidden_kinds/{i}", "activity kind") for i, k in enumerate(fk))
    standoff = data.get("standoff_m", 0)
    if (
        not isinstance(standoff, int | float)
        or isinstance(standoff, bool)
        or not math.isfinite(standoff)
        or not 0 <= standoff <= MAX_STANDOFF_M
    ):
        raise InvalidInput.at("/standoff_m", f"standoff_m must be a number in [0, {MAX_STANDOFF_M:.0f}] metres")
    resp = data.get("responsible", [])
    if not isinstance(resp, list):
        raise InvalidInput.at("/responsible", "must be an array of {party, role}")
    responsible = []
    for i, r in enumerate(resp):
        if not isinstance(r, dict) or not isinstance(r.get("party"), str):
            raise InvalidInput.at(f"/responsible/{i}/party", "party (a party id or name) is required")
        responsible.append(
            (r["party"], _enum(ResponsibilityRole, r.get("role"), f"/responsible/{i}/role", "responsibility role"))
        )
    desc = data.get("description", "")
    if not isinstance(desc, str) or len(desc) > 10_000:
        raise InvalidInput.at("/description", "description must be a string of at most 10,000 characters")
    return ZoneFields(
        name=name.strip(),
        kind=kind,
        geometry=dict(gobj) if isinstance(gobj, dict) else {},
        radius_m=radius if shape.geom_type == "Point" else None,
        footprint=geo.densify(footprint),
        altitude=band,
        effective=TimeWindow(start, end),
        forbidden_kinds=forbidden,
        standoff_m=float(standoff),
        responsible=responsible,
        description=desc,
        separation_m=_minimum(data, "separation_m", 200_000.0),
        vertical_separation_m=_minimum(data, "vertical_separation_m", 10_000.0),
        schedule=parse_schedule(data.get("schedule")),
    )
