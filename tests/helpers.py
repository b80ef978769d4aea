"""Builders for request bodies and domain objects used across the tiers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shapely.geometry.base import BaseGeometry

from truceline.domain import geometry as geo
from truceline.domain.model import (
    Activity,
    ActivityKind,
    ActivityStatus,
    AltitudeBand,
    TimeWindow,
    Volume,
    Zone,
    ZoneKind,
    ZoneStatus,
)

T0 = datetime(2017, 7, 10, 0, 0, tzinfo=UTC)


def rfc(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def alt(v: float, units: str = "M") -> dict[str, Any]:
    return {"value": v, "reference": "W84", "units": units}


def circle_volume(
    lat: float, lng: float, radius: float, t0: datetime, t1: datetime, lo: float = 0, hi: float = 1000
) -> dict[str, Any]:
    return {
        "volume": {
            "outline_circle": {"center": {"lat": lat, "lng": lng}, "radius": {"value": radius, "units": "M"}},
            "altitude_lower": alt(lo),
            "altitude_upper": alt(hi),
        },
        "time_start": {"value": rfc(t0), "format": "RFC3339"},
        "time_end": {"value": rfc(t1), "format": "RFC3339"},
    }


def polygon_volume(
    ring: list[tuple[float, float]], t0: datetime, t1: datetime, lo: float = 0, hi: float = 1000
) -> dict[str, Any]:
    """``ring`` as (lon, lat) pairs."""
    return {
        "volume": {
            "outline_polygon": {"vertices": [{"lat": la, "lng": lo_} for lo_, la in ring]},
            "altitude_lower": alt(lo),
            "altitude_upper": alt(hi),
        },
        "time_start": {"value": rfc(t0), "format": "RFC3339"},
        "time_end": {"value": rfc(t1), "format": "RFC3339"},
    }


def activity_body(
    kind: str = "ground", title: str = "test activity", volumes: list[dict[str, Any]] | None = None, **circle: Any
) -> dict[str, Any]:
    if volumes is None:
        c = {"lat": 32.8, "lng": 36.5, "radius": 2000.0, "t0": T0, "t1": T0 + timedelta(hours=6), **circle}
        volumes = [circle_volume(c["lat"], c["lng"], c["radius"], c["t0"], c["t1"])]
    return {"kind": kind, "title": title, "volumes": volumes}


def square(lon: float, lat: float, half_deg: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [
            [
                [lon - half_deg, lat - half_deg],
                [lon + half_deg, lat - half_deg],
                [lon + half_deg, lat + half_deg],
                [lon - half_deg, lat + half_deg],
                [lon - half_deg, lat - half_deg],
            ]
        ],
    }


def zone_body(**over: Any) -> dict[str, Any]:
    body = {
        "name": "test zone",
        "kind": "de_escalation",
        "geometry": square(36.5, 32.8, 0.2),
        "effective_from": "2017-07-01T00:00:00Z",
        "forbidden_kinds": ["ground", "fires"],
    }
    body.update(over)
    return body


def make_activity(
    footprint: BaseGeometry,
    *,
    party: str = "A",
    kind: ActivityKind = ActivityKind.ground,
    window: TimeWindow | None = None,
    band: AltitudeBand = AltitudeBand(0, 1000),
    ident: str | None = None,
) -> Activity:
    w = window or TimeWindow(T0, T0 + timedelta(hours=6))
    return Activity(
        id=ident or str(uuid.uuid4()),
        party_id=party,
        kind=kind,
        title="t",
        status=ActivityStatus.active,
        version=1,
        volumes=[Volume(geo.densify(footprint), band, w)],
        created_at=T0,
        updated_at=T0,
    )


def make_zone(
    footprint: BaseGeometry,
    *,
    forbidden: frozenset[ActivityKind] = frozenset({ActivityKind.ground}),
    standoff: float = 0.0,
    status: ZoneStatus = ZoneStatus.in_force,
    ident: str | None = None,
    band: AltitudeBand = AltitudeBand(-500, 100_000),
    window: TimeWindow | None = None,
) -> Zone:
    return Zone(
        id=ident or str(uuid.uuid4()),
        name="z",
        kind=ZoneKind.de_escalation,
        status=status,
        revision=1,
        geometry={},
        radius_m=None,
        footprint=geo.densify(footprint),
        altitude=band,
        effective=window or TimeWindow(T0 - timedelta(days=1), None),
        forbidden_kinds=forbidden,
        standoff_m=standoff,
        responsible=[],
        created_by="A",
        created_at=T0,
        updated_at=T0,
    )


def zone_in_force(uow: Any, policy: Any, party: Any, **over: Any) -> Zone:
    """Propose a zone with ``party`` as its only signatory and sign it final: it enters force."""
    from truceline.services import zones

    z = zones.create(uow(), policy, party, zone_body(**over)).zone
    return zones.take_position(uow(), policy, party, z.id, {"revision": z.revision, "strength": "final"}).zone
