"""GeoJSON files (Features with properties) to API bodies: zones and activities.

A zone Feature's properties: ``name``, ``kind``, and optionally ``forbidden_kinds``,
``standoff_m``, ``effective_from``, ``effective_until``, ``altitude_lower_m``, ``altitude_upper_m``,
``radius_m`` (Point zones), ``schedule`` ([{days, start, end}]: its hours), ``responsible``
([{party, role}]), ``description``.

An activity Feature's properties: ``kind``, ``title``, ``time_start``, ``time_end``, and optionally
``altitude_lower_m``/``altitude_upper_m`` (default 0–1,000 m), ``radius_m`` (Point), ``half_width_m``
(LineString corridors), ``description``, ``repeat_every_days`` and ``repeat_until`` (the activity's
volumes again every so many days, each occurrence starting before then), and ``activity``: Features
sharing it become the volumes of one activity.

The other way, ``zone_feature``, ``activity_features`` and ``conflict_features`` turn what the API
shows into Features with the same properties, so an exported file reads back in: a zone exported,
its boundary edited in a GIS, makes a revision (``zones revise``) or a new proposal (``zones add``);
exported activities can be notified again. Properties the service computes (``id``, ``revision``,
``status``, timestamps) are written for the reader and ignored on the way in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from truceline.domain.errors import InvalidInput
from truceline.domain.volumes import FT

#: What an exported zone Feature carries that the service computes: read, never sent back.
COMPUTED_ZONE_PROPERTIES = frozenset({"id", "revision", "status", "created_by", "created_at", "updated_at"})


def _features(doc: object) -> list[dict[str, Any]]:
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection" and isinstance(doc.get("features"), list):
        return list(doc["features"])
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        return [doc]
    raise InvalidInput.at("/type", "the file must hold a GeoJSON Feature or FeatureCollection")


def _alt(v: object) -> dict[str, Any]:
    return {"value": v, "reference": "W84", "units": "M"}


def _time(v: object) -> dict[str, Any]:
    return {"value": v, "format": "RFC3339"}


def zone_bodies(doc: object) -> list[dict[str, Any]]:
    out = []
    for i, f in enumerate(_features(doc)):
        props = dict(f.get("properties") or {})
        body: dict[str, Any] = {
            k: v
            for k, v in props.items()
            if k not in ("altitude_lower_m", "altitude_upper_m", "source", "approximate", *COMPUTED_ZONE_PROPERTIES)
        }
        if isinstance(body.get("responsible"), list):  # an export says how each request was answered
            body["responsible"] = [_request(r) for r in body["responsible"] if _still_asked(r)]
        body["geometry"] = f.get("geometry")
        if "altitude_lower_m" in props:
            body["altitude_lower"] = _alt(props["altitude_lower_m"])
        if "altitude_upper_m" in props:
            body["altitude_upper"] = _alt(props["altitude_upper_m"])
        if "description" not in body and (props.get("source") or props.get("approximate")):
            body["description"] = provenance(props)
        if not isinstance(f, dict) or f.get("type") != "Feature":
            raise InvalidInput.at(f"/features/{i}", "must be a GeoJSON Feature")
        out.append(body)
    return out


def feature_of_zone(doc: object, zone_id: str) -> dict[str, Any]:
    """The Feature in ``doc`` that revises ``zone_id``: its only one, or the one exported with that
    id (so a whole export, one zone edited, revises that zone)."""
    features = _features(doc)
    if len(features) == 1:
        return features[0]
    mine = [f for f in features if isinstance(f, dict) and zone_id in (f.get("id"), _props(f).get("id"))]
    if not mine:
        raise InvalidInput.at(
            "/features",
            f"the file holds {len(features)} features and none is zone {zone_id}: "
            "give one Feature, or a file from `zones export` that holds the zone",
        )
    if len(mine) > 1:
        raise InvalidInput.at("/features", f"the file holds {len(mine)} features for zone {zone_id}: keep one")
    return mine[0]


def _props(f: dict[str, Any]) -> dict[str, Any]:
    props = f.get("properties")
    return props if isinstance(props, dict) else {}


def exported_revision(feature: dict[str, Any]) -> int | None:
    """The zone revision a Feature from the export was drawn on, if it says."""
    rev = _props(feature).get("revision")
    return rev if isinstance(rev, int) and not isinstance(rev, bool) else None


def _still_asked(r: object) -> bool:
    return not (isinstance(r, dict) and r.get("status") == "declined")


def _request(r: object) -> object:
    return {k: v for k, v in r.items() if k != "status"} if isinstance(r, dict) else r


def provenance(props: dict[str, Any]) -> str:
    """The note a feature's ``source`` and ``approximate`` properties make (empty without them)."""
    parts = []
    if props.get("source"):
        parts.append(f"Source: {props['source']}.")
    if props.get("approximate"):
        parts.append("Boundary approximate, drawn from the places the source names.")
    return " ".join(parts)


def _volumes(f: dict[str, Any], pointer: str) -> list[dict[str, Any]]:
    props = f.get("properties") or {}
    geom = f.get("geometry") or {}
    band = {
        "altitude_lower": _alt(props.get("altitude_lower_m", 0)),
        "altitude_upper": _alt(props.get("altitude_upper_m", 1000)),
    }
    times = {"time_start": _time(props.get("time_start")), "time_end": _time(props.get("time_end"))}
    gtype = geom.get("type")
    coords = geom.get("coordinates")
    outlines: list[dict[str, Any]]
    if gtype == "Point" and isinstance(coords, list) and len(coords) >= 2:
        outlines = [
            {
                "outline_circle": {
                    "center": {"lat": coords[1], "lng": coords[0]},
                    "radius": {"value": props.get("radius_m"), "units": "M"},
                }
            }
        ]
    elif gtype == "LineString":
        outlines = [{"outline_corridor": {"line": geom, "half_width_m": props.get("half_width_m")}}]
    elif gtype in ("Polygon", "MultiPolygon") and isinstance(coords, list):
        polys = [coords] if gtype == "Polygon" else coords
        outlines = []
        for j, rings in enumerate(polys):
            if not isinstance(rings, list) or not rings:
                raise InvalidInput.at(f"{pointer}/geometry/coordinates", "a polygon needs at least one ring")
            if len(rings) > 1:
                raise InvalidInput.at(
                    f"{pointer}/geometry/coordinates/{j}",
                    "holes are not supported in activity volumes (ASTM outline_polygon)",
                )
            outlines.append(
                {
                    "outline_polygon": {
                        "vertices": [
                            {"lat": p[1], "lng": p[0]}
                            if isinstance(p, list) and len(p) >= 2
                            else {"lat": None, "lng": None}
                            for p in rings[0]
                        ]
                    }
                }
            )
    else:
        raise InvalidInput.at(
            f"{pointer}/geometry/type",
            "an activity geometry must be a Point (with radius_m), LineString (with half_width_m), "
            "Polygon or MultiPolygon",
        )
    return [{"volume": {**o, **band}, **times} for o in outlines]


def activity_change(doc: object, activity_id: str) -> dict[str, Any]:
    """The body that replaces activity ``activity_id`` from a GeoJSON file: all of its Features if the
    file holds one activity, else the Features whose ``activity`` property is that id (so a whole
    export, one activity edited, changes that activity). The ``version`` they were exported at, if
    they say, is the one replaced."""
    features = _features(doc)
    keys = {str(_props(f).get("activity", f"#{i}")) if isinstance(f, dict) else f"#{i}" for i, f in enumerate(features)}
    if len(keys) > 1:
        features = [f for f in features if isinstance(f, dict) and _props(f).get("activity") == activity_id]
        if not features:
            raise InvalidInput.at(
                "/features",
                f"the file holds {len(keys)} activities and none is {activity_id}: "
                "give one activity's Features, or a file from `activities export` that holds it",
            )
    (body,) = activity_bodies({"type": "FeatureCollection", "features": features})
    versions = {_props(f).get("version") for f in features}
    version = versions.pop() if len(versions) == 1 else None
    if isinstance(version, int) and not isinstance(version, bool):
        body["version"] = version
    return body


def activity_bodies(doc: object) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for i, f in enumerate(_features(doc)):
        if not isinstance(f, dict) or f.get("type") != "Feature":
            raise InvalidInput.at(f"/features/{i}", "must be a GeoJSON Feature")
        props = f.get("properties") or {}
        key = str(props.get("activity", f"#{i}"))
        body = groups.setdefault(
            key,
            {
                "kind": props.get("kind"),
                "title": props.get("title"),
                "description": props.get("description", ""),
                "volumes": [],
            },
        )
        if "repeat_every_days" in props or "repeat_until" in props:
            body["repeat"] = {k: props[f"repeat_{k}"] for k in ("every_days", "until") if f"repeat_{k}" in props}
        body["volumes"].extend(_volumes(f, f"/features/{i}"))
    return list(groups.values())


# ---- API shapes to GeoJSON Features (exports) ----------------------------------------------------


def _metres(alt: dict[str, Any]) -> float:
    value = float(alt["value"])
    return round(value * FT, 3) if alt.get("units") == "FT" else value


def _name(ref: dict[str, Any]) -> str:
    return str(ref.get("name") or ref.get("party_name") or ref.get("id") or ref.get("party_id"))


def zone_feature(z: dict[str, Any]) -> dict[str, Any]:
    """A zone as the API shows it (``ZoneRead``), as a Feature ``zone_bodies`` reads back."""
    props: dict[str, Any] = {
        "id": z["id"],
        "name": z["name"],
        "kind": z["kind"],
        "status": z["status"],
        "revision": z["revision"],
        "effective_from": z["effective_from"],
        "effective_until": z.get("effective_until"),
        "forbidden_kinds": z["forbidden_kinds"],
        "standoff_m": z["standoff_m"],
        "altitude_lower_m": _metres(z["altitude_lower"]),
        "altitude_upper_m": _metres(z["altitude_upper"]),
    }
    for key in ("radius_m", "separation_m", "vertical_separation_m", "schedule"):
        if z.get(key) is not None:
            props[key] = z[key]
    props["signatories"] = [_name(p) for p in z.get("signatories", [])]
    props["responsible"] = [
        {"party": _name(r), "role": r["role"], "status": r["status"]} for r in z.get("responsible", [])
    ]
    props["description"] = z.get("description", "")
    return {"type": "Feature", "id": z["id"], "geometry": z["geometry"], "properties": props}


def _outline(volume: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Volume3D's outline as a GeoJSON geometry, and the properties it needs (radius, half-width)."""
    if "outline_circle" in volume:
        circle = volume["outline_circle"]
        centre = [circle["center"]["lng"], circle["center"]["lat"]]
        return {"type": "Point", "coordinates": centre}, {"radius_m": circle["radius"]["value"]}
    if "outline_corridor" in volume:
        corridor = volume["outline_corridor"]
        return corridor["line"], {"half_width_m": corridor["half_width_m"]}
    ring = [[p["lng"], p["lat"]] for p in volume["outline_polygon"]["vertices"]]
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}, {}


def activity_features(a: dict[str, Any]) -> list[dict[str, Any]]:
    """An activity as its owner sees it (``ActivityRead``): one Feature per volume, grouped by the
    ``activity`` property as ``activity_bodies`` expects."""
    base = {
        "activity": a["id"],
        "kind": a["kind"],
        "title": a["title"],
        "description": a.get("description", ""),
        "status": a["status"],
        "version": a["version"],
    }
    out = []
    for v in a["volumes"]:
        volume = v["volume"]
        geometry, extra = _outline(volume)
        props = {
            **base,
            "time_start": v["time_start"]["value"],
            "time_end": v["time_end"]["value"],
            "altitude_lower_m": _metres(volume["altitude_lower"]),
            "altitude_upper_m": _metres(volume["altitude_upper"]),
            **extra,
        }
        out.append({"type": "Feature", "geometry": geometry, "properties": props})
    return out


def conflict_features(c: dict[str, Any]) -> list[dict[str, Any]]:
    """A conflict as the caller sees it (``ConflictRead``, need-to-know applied): one Feature per 4D
    region where it happens, or one without geometry if it has none."""
    zone = c.get("zone") or {}
    base = {
        "conflict": c["id"],
        "rule": c["rule"],
        "status": c["status"],
        "reason": c["reason"],
        "parties": [_name(p) for p in c["parties"]],
        "zone": zone.get("name"),
        "zone_id": zone.get("id"),
        "zone_revision": zone.get("revision"),
        "activities": [
            {k: v for k, v in {**a, "owner": _name(a["owner"])}.items() if v is not None} for a in c["activities"]
        ],
        "tracks": [{**t, "owner": _name(t["owner"])} for t in c.get("tracks", [])],
        "created_at": c["created_at"],
        "closed_at": c.get("closed_at"),
        "closed_reason": c.get("closed_reason"),
        "coordinated": c.get("coordinated", False),
        "agreements": [
            {"party": _name(a["party"]), "statement": a["statement"], "at": a["at"], "current": a["current"]}
            for a in c.get("agreements", [])
        ],
    }
    regions = c.get("regions") or []
    if not regions:
        return [{"type": "Feature", "geometry": None, "properties": base}]
    return [
        {
            "type": "Feature",
            "geometry": r["geometry"],
            "properties": {
                **base,
                "time_start": r["time_start"],
                "time_end": r.get("time_end"),
                "altitude_lower_m": _metres(r["altitude_lower"]),
                "altitude_upper_m": _metres(r["altitude_upper"]),
            },
        }
        for r in regions
    ]


def feature_collection(features: Iterable[dict[str, Any]], *, every: int = 500) -> Iterator[bytes]:
    """A FeatureCollection as JSON text in chunks, one Feature per line, for streaming."""
    yield b'{"type":"FeatureCollection","features":[\n'
    chunk: list[bytes] = []
    first = True
    for f in features:
        chunk.append((b"" if first else b",\n") + orjson.dumps(f))
        first = False
        if len(chunk) >= every:
            yield b"".join(chunk)
            chunk.clear()
    chunk.append(b"\n]}\n")
    yield b"".join(chunk)
