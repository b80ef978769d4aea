"""GPX files (a GPS's tracks and routes) as GeoJSON Features, for notifying a convoy's route as the
logistics office planned or drove it. Each track (its segments joined, in order) and each route becomes
a LineString Feature titled by its name; heights are dropped (a plan's band is its own) and waypoints
are left out (a point has no route). The Features then read as any GeoJSON file does
(``geojson_io.activity_bodies``), with the properties a GPX file cannot hold given by the caller."""

from __future__ import annotations

from typing import Any

import gpxpy
import gpxpy.gpx

from truceline.domain.errors import InvalidInput


def gpx_features(text: str) -> dict[str, Any]:
    """A FeatureCollection of the file's tracks and routes; refused, naming why, if it holds none."""
    try:
        doc = gpxpy.parse(text)
    except (gpxpy.gpx.GPXException, ValueError) as e:
        raise InvalidInput.at("", f"not a GPX file: {e}") from None
    lines: list[tuple[str | None, list[list[float]]]] = []
    for track in doc.tracks:
        lines.append((track.name, [[p.longitude, p.latitude] for s in track.segments for p in s.points]))
    for route in doc.routes:
        lines.append((route.name, [[p.longitude, p.latitude] for p in route.points]))
    features = []
    for i, (name, coords) in enumerate(lines):
        if len(coords) < 2:
            continue
        props: dict[str, Any] = {"activity": f"gpx-{i}"}  # each track or route its own activity
        if name:
            props["title"] = name
        features.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords},
                         "properties": props})  # fmt: skip
    if not features:
        raise InvalidInput.at("", "the GPX file holds no track or route of two points or more")
    return {"type": "FeatureCollection", "features": features}
