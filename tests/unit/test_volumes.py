from __future__ import annotations

import math
from datetime import timedelta

import pytest

from tests.helpers import T0, circle_volume, polygon_volume
from truceline.domain.errors import InvalidInput
from truceline.domain.geometry import GeometryLimits
from truceline.domain.volumes import parse_volume4d, parse_volumes

LIM = GeometryLimits(max_vertices=50, max_area_km2=1000)
H = timedelta(hours=1)


def good() -> dict:
    return circle_volume(33.0, 36.0, 1000, T0, T0 + H)


def with_(path: list[str | int], value: object) -> dict:
    v = good()
    node = v
    for k in path[:-1]:
        node = node[k]  # type: ignore[index]
    node[path[-1]] = value  # type: ignore[index]
    return v


BAD = [
    ("end before start", with_(["time_end", "value"], "2017-07-09T00:00:00Z"), "/v/time_end", "after"),
    ("end equals start", with_(["time_end", "value"], "2017-07-10T00:00:00Z"), "/v/time_end", "after"),
    ("no offset", with_(["time_start", "value"], "2017-07-10T00:00:00"), "/v/time_start/value", "offset"),
    ("not a time", with_(["time_start", "value"], "yesterday"), "/v/time_start/value", "RFC 3339"),
    ("lower above upper", with_(["volume", "altitude_lower", "value"], 5000), "/v/volume/altitude_lower", "above"),
    (
        "NaN altitude",
        with_(["volume", "altitude_upper", "value"], math.nan),
        "/v/volume/altitude_upper/value",
        "finite",
    ),
    ("bad units", with_(["volume", "altitude_upper", "units"], "NM"), "/v/volume/altitude_upper/units", "units"),
    (
        "bad reference",
        with_(["volume", "altitude_upper", "reference"], "AGL"),
        "/v/volume/altitude_upper/reference",
        "W84",
    ),
    (
        "negative radius",
        with_(["volume", "outline_circle", "radius", "value"], -5),
        "/v/volume/outline_circle/radius/value",
        "radius",
    ),
    (
        "lat out of range",
        with_(["volume", "outline_circle", "center", "lat"], 95),
        "/v/volume/outline_circle/center/lat",
        "latitude",
    ),
    ("area too large", with_(["volume", "outline_circle", "radius", "value"], 100_000), "/v/volume", "km²"),
    ("two outlines", with_(["volume", "outline_polygon"], {"vertices": []}), "/v/volume", "exactly one"),
]


@pytest.mark.parametrize(("label", "obj", "pointer", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_volume_names_the_field(label: str, obj: dict, pointer: str, words: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_volume4d(obj, "/v", LIM)
    assert e.value.errors[0].pointer == pointer, e.value.errors
    assert words in e.value.errors[0].reason


def test_feet_become_metres_and_times_utc() -> None:
    v = good()
    v["volume"]["altitude_upper"] = {"value": 1000, "reference": "W84", "units": "FT"}
    v["time_start"]["value"] = "2017-07-10T03:00:00+03:00"
    vol = parse_volume4d(v, "/v", LIM)
    assert vol.altitude.upper == pytest.approx(304.8)
    assert vol.window.start == T0


def test_polygon_outline_and_errors_of_several_volumes() -> None:
    ok = polygon_volume([(36.0, 33.0), (36.1, 33.0), (36.1, 33.1)], T0, T0 + H)
    assert parse_volume4d(ok, "/v", LIM).footprint.area > 0
    bad_ring = polygon_volume([(36.0, 33.0), (36.1, 33.1), (36.1, 33.0), (36.0, 33.1)], T0, T0 + H)
    with pytest.raises(InvalidInput) as e:
        parse_volumes([ok, bad_ring, with_(["time_end", "value"], "2017-07-09T00:00:00Z")], "/volumes", LIM)
    pointers = [x.pointer for x in e.value.errors]
    assert pointers[0].startswith("/volumes/1/volume/outline_polygon")
    assert pointers[1] == "/volumes/2/time_end"
    with pytest.raises(InvalidInput, match="at least one"):
        parse_volumes([], "/volumes", LIM)
