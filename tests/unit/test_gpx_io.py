"""A GPS's GPX file as GeoJSON Features: tracks (segments joined) and routes as lines, titled by name."""

from __future__ import annotations

import pytest

from truceline.adapters.geojson_io import activity_bodies
from truceline.adapters.gpx_io import gpx_features
from truceline.domain.errors import InvalidInput

GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
  <wpt lat="32.5" lon="36.0"><name>Depot</name></wpt>
  <rte><name>Return by Nasib</name>
    <rtept lat="32.62" lon="36.10"/><rtept lat="32.54" lon="36.20"/>
  </rte>
  <trk><name>Convoy Ramtha to Daraa</name>
    <trkseg><trkpt lat="32.56" lon="36.00"><ele>520</ele></trkpt><trkpt lat="32.58" lon="36.03"/></trkseg>
    <trkseg><trkpt lat="32.60" lon="36.07"/><trkpt lat="32.62" lon="36.10"/></trkseg>
  </trk>
  <trk><name>A single fix</name><trkseg><trkpt lat="32.6" lon="36.1"/></trkseg></trk>
</gpx>
"""


def test_tracks_and_routes_become_lines_titled_by_their_names() -> None:
    doc = gpx_features(GPX)
    got = [(f["properties"].get("title"), f["geometry"]["coordinates"]) for f in doc["features"]]
    assert got == [
        ("Convoy Ramtha to Daraa", [[36.0, 32.56], [36.03, 32.58], [36.07, 32.6], [36.1, 32.62]]),  # joined, 2D
        ("Return by Nasib", [[36.1, 32.62], [36.2, 32.54]]),
    ]  # the waypoint and the one-point track are left out
    assert len({f["properties"]["activity"] for f in doc["features"]}) == 2  # each its own plan


def test_with_what_a_gpx_cannot_say_they_read_as_corridors() -> None:
    doc = gpx_features(GPX)
    for f in doc["features"]:
        f["properties"].update(kind="humanitarian_convoy", time_start="2017-07-15T06:00:00Z",
                               time_end="2017-07-15T10:00:00Z", half_width_m=1500)  # fmt: skip
    bodies = activity_bodies(doc)
    assert [b["title"] for b in bodies] == ["Convoy Ramtha to Daraa", "Return by Nasib"]
    corridor = bodies[0]["volumes"][0]["volume"]["outline_corridor"]
    assert corridor["half_width_m"] == 1500 and len(corridor["line"]["coordinates"]) == 4


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("not xml at all", "not a GPX file"),
        ('<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><wpt lat="1" lon="2"/></gpx>',
         "no track or route"),
    ],
)
def test_a_file_with_no_route_is_refused_saying_why(text: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        gpx_features(text)
