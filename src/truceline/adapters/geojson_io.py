"""GeoJSON files (Features with properties) to API bodies: zones and activities.

A zone Feature's properties: ``name``, ``kind``, and optionally ``status``, ``forbidden_kinds``,
``standoff_m``, ``effective_from``, ``effective_until``, ``altitude_lower_m``, ``altitude_upper_m``,
``radius_m`` (Point zones), ``responsible`` ([{party, role}]), ``description``.

An activity Feature's properties: ``kind``, ``title``, ``time_start``, ``time_end``, and optionally
``altitude_lower_m``/``altitude_upper_m`` (default 0–1,000 m), ``radius_m`` (Point), ``half_width_m``
(LineString corridors), ``description``, and ``activity``: Features sharing it become the volumes
of one activity.
"""

from __future__ import annotations

from typing import Any

from truceline.domain.errors import InvalidInput


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
            k: v for k, v in props.items() if k not in ("altitude_lower_m", "altitude_upper_m", "source", "approximate")
        }
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
        body["volumes"].extend(_volumes(f, f"/features/{i}"))
    return list(groups.values())
