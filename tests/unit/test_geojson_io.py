"""GeoJSON files in and out: the edge cases of the round trip, without a server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from truceline.adapters.geojson_io import (
    activity_bodies,
    activity_change,
    activity_features,
    conflict_features,
    exported_revision,
    feature_collection,
    feature_of_zone,
    zone_bodies,
)
from truceline.domain.errors import InvalidInput


def _zone(zid: str, revision: Any = 1, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": zid,
        "geometry": {"type": "Point", "coordinates": [36.0, 33.0]},
        "properties": {"id": zid, "name": zid, "kind": "buffer", "radius_m": 500, "revision": revision, **props},
    }


def test_the_feature_that_revises_a_zone() -> None:
    one = _zone("a")
    assert feature_of_zone(one, "anything") is one  # a file of one Feature is that zone's, whatever it says
    many = {"type": "FeatureCollection", "features": [_zone("a"), _zone("b"), _zone("c")]}
    assert feature_of_zone(many, "b")["id"] == "b"
    by_property = {"type": "FeatureCollection", "features": [{**_zone("a"), "id": None}, _zone("b")]}
    assert feature_of_zone(by_property, "a")["properties"]["id"] == "a"
    with pytest.raises(InvalidInput, match="3 features and none is zone d"):
        feature_of_zone(many, "d")
    twice = {"type": "FeatureCollection", "features": [_zone("a"), _zone("a", revision=2), _zone("b")]}
    with pytest.raises(InvalidInput, match="2 features for zone a: keep one"):
        feature_of_zone(twice, "a")


@pytest.mark.parametrize(("revision", "expected"), [(3, 3), (True, None), ("3", None), (None, None), (2.0, None)])
def test_only_a_whole_number_is_an_exported_revision(revision: Any, expected: int | None) -> None:
    assert exported_revision(_zone("a", revision=revision)) == expected
    assert exported_revision({"type": "Feature", "geometry": None, "properties": None}) is None


def test_what_the_service_computes_is_not_sent_back() -> None:
    responsible = [
        {"party": "B", "role": "police", "status": "accepted"},
        {"party": "C", "role": "monitor", "status": "declined"},
        {"party": "D", "role": "guarantor"},
    ]
    (body,) = zone_bodies(_zone("a", status="in_force", created_at="x", updated_at="y", responsible=responsible))
    assert not {"id", "revision", "status", "created_at", "updated_at"} & set(body)
    assert body["responsible"] == [{"party": "B", "role": "police"}, {"party": "D", "role": "guarantor"}]
    assert (body["name"], body["kind"], body["radius_m"]) == ("a", "buffer", 500)


def test_activity_volumes_out_and_back() -> None:
    activity = {
        "id": "x",
        "kind": "air",
        "title": "sortie",
        "status": "active",
        "version": 2,
        "volumes": [
            {
                "volume": {
                    "outline_polygon": {"vertices": [{"lat": 33.0, "lng": 36.0}, {"lat": 33.0, "lng": 36.1},
                                                     {"lat": 33.1, "lng": 36.1}]},
                    "altitude_lower": {"value": 10_000, "reference": "W84", "units": "FT"},
                    "altitude_upper": {"value": 4_000, "reference": "W84", "units": "M"},
                },
                "time_start": {"value": "2017-07-10T00:00:00Z", "format": "RFC3339"},
                "time_end": {"value": "2017-07-10T01:00:00Z", "format": "RFC3339"},
            }
        ],
    }
    (feature,) = activity_features(activity)
    ring = feature["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] == [36.0, 33.0] and len(ring) == 4  # the ring is closed for GeoJSON
    assert (feature["properties"]["altitude_lower_m"], feature["properties"]["altitude_upper_m"]) == (3048.0, 4000)
    (body,) = activity_bodies({"type": "FeatureCollection", "features": [feature]})
    assert body["kind"] == "air" and body["volumes"][0]["volume"]["altitude_lower"]["value"] == 3048.0
    assert body["volumes"][0]["time_end"]["value"] == "2017-07-10T01:00:00Z"


def test_a_conflict_without_a_region_is_a_feature_without_geometry() -> None:
    conflict = {
        "id": "c", "rule": "overlap", "status": "closed", "reason": "r", "parties": [{"id": "p", "name": None}],
        "zone": None, "activities": [], "tracks": [], "regions": [], "created_at": "t",
    }  # fmt: skip
    (feature,) = conflict_features(conflict)
    assert feature["geometry"] is None and feature["properties"]["parties"] == ["p"]  # no name: its id


@pytest.mark.parametrize("n", [0, 1, 7, 1_001])
def test_a_feature_collection_in_chunks_is_one_valid_document(n: int) -> None:
    features = [{"type": "Feature", "geometry": None, "properties": {"i": i, "name": "Ḥamāh"}} for i in range(n)]
    chunks = list(feature_collection(iter(features), every=100))
    doc = json.loads(b"".join(chunks))
    assert doc == {"type": "FeatureCollection", "features": features}
    assert len(chunks) == 2 + n // 100  # the opening, a chunk per hundred, the rest with the closing


def _volume_feature(activity: str | None, version: Any = 3, **props: Any) -> dict[str, Any]:
    p = {"kind": "patrol", "title": "t", "time_start": "2017-07-10T00:00:00Z", "time_end": "2017-07-10T01:00:00Z",
         "radius_m": 100, "version": version, **props}  # fmt: skip
    if activity is not None:
        p["activity"] = activity
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [36.0, 33.0]}, "properties": p}


def test_the_features_that_change_an_activity() -> None:
    whole = {"type": "FeatureCollection",
             "features": [_volume_feature("a"), _volume_feature("b"), _volume_feature("a", title="t")]}  # fmt: skip
    body = activity_change(whole, "a")
    assert len(body["volumes"]) == 2 and body["version"] == 3  # both of a's volumes, at the version exported
    assert activity_change(_volume_feature(None, version=None), "anything").get("version") is None
    with pytest.raises(InvalidInput, match="2 activities and none is c"):
        activity_change(whole, "c")
    mixed = {"type": "FeatureCollection", "features": [_volume_feature("a", version=2), _volume_feature("a")]}
    assert "version" not in activity_change(mixed, "a")  # volumes of different versions: no check claimed
