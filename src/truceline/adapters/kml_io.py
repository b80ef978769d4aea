"""Zones as KML, for the maps a field office has offline (Google Earth, a phone's or a GPS's map app):
each zone a placemark with its boundary (a circle zone as the polygon that contains it), coloured by
kind, and its rules in words. One way only: zones come back as GeoJSON (``geojson_io``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import simplekml

from truceline.domain.geometry import circle
from truceline.domain.schedule import parse_schedule
from truceline.domain.zones import describe_band

#: the web map's colours by kind (frontend/src/layers.js), as KML's aabbggrr with the alpha given
KIND_COLOURS = {
    "de_escalation": "1f6fb2", "buffer": "d9822b", "safe": "2a9d5c", "no_fly": "8e44ad",
    "protected_site": "c0392b", "crossing": "0f8b8d", "restricted": "7a6400",
}  # fmt: skip


def _kml_colour(rgb: str, alpha: str) -> str:
    return f"{alpha}{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}"


def _polygons(feature: dict[str, Any]) -> list[list[list[tuple[float, float]]]]:
    """The zone's polygons, each its rings of (lon, lat)."""
    g = feature["geometry"]
    if g["type"] == "Point":
        lon, lat = g["coordinates"][:2]
        shape = circle(lon, lat, float(feature["properties"]["radius_m"]))
        parts = getattr(shape, "geoms", [shape])  # split at the antimeridian
        return [[[(x, y) for x, y in p.exterior.coords]] for p in parts]
    polygons = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
    return [[[(float(x), float(y)) for x, y, *_ in ring] for ring in rings] for rings in polygons]


def _describe(p: dict[str, Any]) -> str:
    hours = parse_schedule(p.get("schedule"))
    lines = [
        f"{p['kind'].replace('_', ' ')}, {p['status'].replace('_', ' ')}, revision {p['revision']}",
        f"In effect from {p['effective_from']}" + (f" until {until}" if (until := p.get("effective_until")) else ""),
        f"Forbids: {', '.join(k.replace('_', ' ') for k in p['forbidden_kinds']) or 'nothing'}",
        f"Altitude: {describe_band(p['altitude_lower_m'], p['altitude_upper_m'])}",
        *([f"Stand-off: {p['standoff_m']:g} m beyond its edge"] if p.get("standoff_m") else []),
        *([f"Hours: {hours.describe()}"] if hours else []),
        f"Signatories: {', '.join(p['signatories'])}",
        *(f"{r['role'].capitalize()}: {r['party']} ({r['status']})" for r in p.get("responsible", [])),
    ]
    return "\n".join(lines)


def zones_kml(features: Iterable[dict[str, Any]]) -> str:
    """A KML document of zone Features (``geojson_io.zone_feature``), a placemark each."""
    doc = simplekml.Kml(name="Truceline zones")
    for f in features:
        p = f["properties"]
        polygons = _polygons(f)
        where = doc.newmultigeometry(name=p["name"]) if len(polygons) > 1 else doc
        shapes = []
        for rings in polygons:
            made = where.newpolygon(outerboundaryis=rings[0], innerboundaryis=rings[1:])
            if where is doc:
                made.name = p["name"]
            shapes.append(made)
        holder = where if where is not doc else shapes[0]
        holder.description = _describe(p)
        holder.extendeddata.newdata("id", p["id"])
        holder.extendeddata.newdata("kind", p["kind"])
        holder.extendeddata.newdata("status", p["status"])
        rgb = KIND_COLOURS.get(p["kind"], "555555")
        holder.style.polystyle.color = _kml_colour(rgb, "55")
        holder.style.linestyle.color = _kml_colour(rgb, "ff")
        holder.style.linestyle.width = 2
    return str(doc.kml())
