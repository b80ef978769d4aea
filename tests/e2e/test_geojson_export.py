"""GeoJSON downloads of zones, activities and conflicts: what a GIS reads, need-to-know kept, and
files that come back in (a revision drawn on an exported boundary, activities notified again)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from shapely.geometry import shape

from tests.e2e.conftest import Api
from tests.e2e.test_api import zone_in_force_over_http
from tests.helpers import T0, activity_body, alt, circle_volume, polygon_volume, rfc, square, zone_body
from truceline.adapters.geojson_io import activity_bodies, exported_revision, zone_bodies
from truceline.api.routes.export import pages

GEOJSON = "application/geo+json"


def download(api: Api, who: str, path: str, **params: Any) -> dict[str, Any]:
    r = api.client.get(path, headers=api.h(who), params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == GEOJSON
    assert r.headers["content-disposition"].startswith("attachment; filename=")
    doc = r.json()
    assert doc["type"] == "FeatureCollection"
    for f in doc["features"]:
        assert f["type"] == "Feature" and set(f) >= {"geometry", "properties"}
    return dict(doc)


def test_zones_download_as_features_that_come_back_as_a_revision_or_a_proposal(api: Api) -> None:
    c = api.client
    z = zone_in_force_over_http(api, name="Southwest", standoff_m=500)
    r = c.post(f"/v1/zones/{z['id']}/responsibilities", headers=api.h("A"), json={"party": "B", "role": "police"})
    assert r.status_code == 201, r.text
    c.post("/v1/zones", headers=api.h("B"), json=zone_body(name="Proposed buffer", kind="buffer"))
    c.post(
        "/v1/zones",
        headers=api.h("B"),
        json=zone_body(name="Hospital", kind="protected_site", geometry={"type": "Point", "coordinates": [36.1, 32.6]},
                       radius_m=800, altitude_upper=alt(3000, "FT")),
    )  # fmt: skip

    everything = download(api, "Obs", "/v1/zones/export")
    by_name = {f["properties"]["name"]: f for f in everything["features"]}
    assert set(by_name) == {"Southwest", "Proposed buffer", "Hospital"}
    sw = by_name["Southwest"]
    assert sw["id"] == z["id"] and sw["geometry"] == square(36.5, 32.8, 0.2)
    props = sw["properties"]
    assert props["status"] == "in_force" and props["revision"] == 1 and props["standoff_m"] == 500
    assert props["forbidden_kinds"] == ["fires", "ground"] and props["signatories"] == ["A"]
    assert props["responsible"] == [{"party": "B", "role": "police", "status": "requested"}]
    hospital = by_name["Hospital"]
    assert hospital["geometry"] == {"type": "Point", "coordinates": [36.1, 32.6]}
    assert hospital["properties"]["radius_m"] == 800 and hospital["properties"]["altitude_upper_m"] == 914.4

    in_force = download(api, "Obs", "/v1/zones/export", status="in_force", bbox="36,32,37,33.5")
    assert [f["properties"]["name"] for f in in_force["features"]] == ["Southwest"]

    # A GIS moves a proposed boundary; the file comes back as a revision of the one it was drawn on.
    proposed = by_name["Proposed buffer"]
    edited = {**proposed, "geometry": square(36.6, 32.8, 0.25)}
    (fields,) = zone_bodies(edited)
    assert exported_revision(edited) == 1
    assert not {"id", "status", "revision"} & set(fields)
    change = {k: v for k, v in fields.items() if k not in ("signatories", "responsible") and v is not None}
    r = c.patch(f"/v1/zones/{proposed['id']}", headers=api.h("B"),
                json={**change, "revision": exported_revision(edited), "rationale": "moved east"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["zone"]["revision"] == 2 and r.json()["zone"]["geometry"] == square(36.6, 32.8, 0.25)
    stale = c.patch(f"/v1/zones/{proposed['id']}", headers=api.h("B"), json={**change, "revision": 1, "rationale": "x"})
    assert stale.status_code == 409 and stale.json()["current_revision"] == 2

    # The same file proposes the zone afresh: same rules, a new proposal, police asked again.
    (fields,) = zone_bodies(sw)
    r = c.post("/v1/zones", headers=api.h("A"), json={**fields, "name": "Southwest (copy)"})
    assert r.status_code == 201, r.text
    copy = r.json()["zone"]
    assert copy["status"] == "proposed" and copy["revision"] == 1 and copy["standoff_m"] == 500
    assert [(x["party_name"], x["role"], x["status"]) for x in copy["responsible"]] == [("B", "police", "requested")]


def test_activities_download_as_features_notified_again_unchanged(api: Api) -> None:
    c = api.client
    t1 = T0 + timedelta(hours=3)
    ring = [(36.0, 33.0), (36.1, 33.0), (36.1, 33.1), (36.0, 33.1)]
    corridor = {
        "volume": {
            "outline_corridor": {"line": {"type": "LineString", "coordinates": [[36.2, 33.2], [36.4, 33.3]]},
                                 "half_width_m": 400},
            "altitude_lower": alt(1000, "FT"),
            "altitude_upper": alt(5000, "FT"),
        },
        "time_start": {"value": rfc(T0), "format": "RFC3339"},
        "time_end": {"value": rfc(t1), "format": "RFC3339"},
    }  # fmt: skip
    volumes = [circle_volume(32.9, 36.3, 1500, T0, t1), polygon_volume(ring, t1, t1 + timedelta(hours=2)), corridor]
    plan = {**activity_body(kind="humanitarian_convoy", title="Convoy to Deraa", volumes=volumes), "description": "x"}
    mine = c.post("/v1/activities", headers=api.h("A"), json=plan).json()["activity"]
    c.post("/v1/activities", headers=api.h("B"), json=activity_body(title="B's own plan"))

    doc = download(api, "A", "/v1/activities/export")
    assert [f["geometry"]["type"] for f in doc["features"]] == ["Point", "Polygon", "LineString"]
    first, second, third = (f["properties"] for f in doc["features"])
    assert {p["activity"] for p in (first, second, third)} == {mine["id"]}
    assert first["radius_m"] == 1500 and first["title"] == "Convoy to Deraa" and first["time_end"] == rfc(t1)
    assert doc["features"][1]["geometry"]["coordinates"] == [[list(p) for p in [*ring, ring[0]]]]
    assert third["half_width_m"] == 400 and (third["altitude_lower_m"], third["altitude_upper_m"]) == (304.8, 1524.0)
    assert "B's own plan" not in json.dumps(doc)  # another party's plan is never in your file

    (again,) = activity_bodies(doc)
    r = c.post("/v1/activities", headers=api.h("A"), json=again)
    assert r.status_code == 201, r.text
    copy = r.json()["activity"]
    assert (copy["kind"], copy["title"], copy["description"]) == ("humanitarian_convoy", "Convoy to Deraa", "x")
    assert (copy["time_start"], copy["time_end"]) == (mine["time_start"], mine["time_end"])
    assert copy["volumes"][0]["volume"]["outline_circle"] == mine["volumes"][0]["volume"]["outline_circle"]
    assert copy["volumes"][2]["volume"]["altitude_upper"]["value"] == 1524.0

    cancelled = c.post(f"/v1/activities/{copy['id']}/cancel", headers=api.h("A"))
    assert cancelled.status_code == 200
    active = download(api, "A", "/v1/activities/export", status="active")
    assert {f["properties"]["activity"] for f in active["features"]} == {mine["id"]}


def test_conflicts_download_as_their_regions_showing_only_what_the_conflict_shows(api: Api) -> None:
    c = api.client
    zone_in_force_over_http(api, name="Southwest")
    secret = {**activity_body(title="Secret raid plan"), "description": "go at dawn from the north"}
    a = c.post("/v1/activities", headers=api.h("A"), json=secret).json()
    c.post("/v1/activities", headers=api.h("B"), json=activity_body(kind="patrol", title="B patrol", lng=36.51))
    assert {x["rule"] for x in a["conflicts"]} == {"zone_rule"}

    seen_by_b = download(api, "B", "/v1/conflicts/export")
    (overlap,) = seen_by_b["features"]
    props = overlap["properties"]
    assert props["rule"] == "overlap" and props["status"] == "open" and sorted(props["parties"]) == ["A", "B"]
    assert props["time_start"] == rfc(T0) and props["altitude_lower_m"] == 0
    assert shape(overlap["geometry"]).area > 0
    text = json.dumps(seen_by_b)
    assert "Secret raid plan" not in text and "dawn" not in text and "B patrol" in text

    seen_by_a = download(api, "A", "/v1/conflicts/export")
    rules = sorted(f["properties"]["rule"] for f in seen_by_a["features"])
    assert rules == ["overlap", "zone_rule"]
    zone_rule = next(f["properties"] for f in seen_by_a["features"] if f["properties"]["rule"] == "zone_rule")
    assert zone_rule["zone"] == "Southwest" and "Secret raid plan" in json.dumps(zone_rule["activities"])
    only = download(api, "A", "/v1/conflicts/export", rule="zone_rule")
    assert [f["properties"]["rule"] for f in only["features"]] == ["zone_rule"]
    # agreed to by both: the file says so, and who said what
    for who in ("A", "B"):
        agreed = c.post(f"/v1/conflicts/{overlap['properties']['conflict']}/agreement", headers=api.h(who),
                        json={"statement": f"{who}: escort at dawn"})  # fmt: skip
        assert agreed.status_code == 200, agreed.text
    (coordinated,) = download(api, "B", "/v1/conflicts/export")["features"]
    assert coordinated["properties"]["coordinated"] is True
    assert [(x["party"], x["statement"], x["current"]) for x in coordinated["properties"]["agreements"]] == [
        ("A", "A: escort at dawn", True), ("B", "B: escort at dawn", True)]  # fmt: skip

    c.post(f"/v1/activities/{a['activity']['id']}/cancel", headers=api.h("A"))
    assert download(api, "B", "/v1/conflicts/export")["features"] == []
    closed = download(api, "B", "/v1/conflicts/export", status="closed")
    assert [f["properties"]["closed_at"] is not None for f in closed["features"]] == [True]


def test_a_refused_download_is_a_problem_not_a_cut_file(api: Api) -> None:
    c = api.client
    for path in ("/v1/zones/export", "/v1/activities/export", "/v1/conflicts/export"):
        r = c.get(path)
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    r = c.get("/v1/zones/export", headers=api.h("A"), params={"bbox": "1,2,3"})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "#query/bbox"
    r = c.get("/v1/activities/export", headers=api.h("A"),
              params={"time_start": "2017-07-10T00:00:00Z", "time_end": "2017-07-09T00:00:00Z"})  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "#query/time_end"
    r = c.get("/v1/conflicts/export", headers=api.h("A"), params={"rule": "nonsense"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    # An empty selection is an empty collection, still valid GeoJSON.
    assert download(api, "Mon", "/v1/activities/export")["features"] == []


def test_pages_read_every_item_once_whatever_the_page_size() -> None:
    items = list(range(1201))
    calls: list[tuple[int, int]] = []

    def fetch(limit: int, offset: int) -> list[int]:
        calls.append((limit, offset))
        return items[offset : offset + limit]

    assert [x for page in pages(fetch, size=500) for x in page] == items
    assert calls == [(500, 0), (500, 500), (500, 1000)]
    calls.clear()
    assert [x for page in pages(fetch, size=1201) for x in page] == items
    assert calls == [(1201, 0), (1201, 1201)]  # a full page may not be the last: ask once more
    assert list(pages(lambda limit, offset: [], size=10)) == []


KML_NS = "{http://www.opengis.net/kml/2.2}"


def _ring(node: Any) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y, *_ in (c.split(",") for c in node.text.split())]


def test_zones_download_as_kml_for_the_maps_a_field_office_has_offline(api: Api) -> None:
    """Google Earth or a phone's map app in a field office reads the zones as KML: a placemark each
    with its boundary (holes kept; a circle zone as the polygon that contains it), coloured by kind,
    its rules in words and its id; the filters choose them as for GeoJSON."""
    from defusedxml.ElementTree import fromstring
    from pyproj import Geod

    c = api.client
    zone_in_force_over_http(api, name="Southwest", standoff_m=500)
    holed = square(36.0, 32.0, 0.4)
    holed["coordinates"].append([[35.95, 31.95], [35.95, 32.05], [36.05, 32.05], [36.05, 31.95], [35.95, 31.95]])
    for body in (
        zone_body(name="Ring buffer", kind="buffer", geometry=holed,
                  schedule=[{"days": ["FRI"], "start": "06:00", "end": "12:00"}]),
        zone_body(name="Hospital", kind="protected_site", geometry={"type": "Point", "coordinates": [36.1, 32.6]},
                  radius_m=800),
    ):  # fmt: skip
        assert c.post("/v1/zones", headers=api.h("B"), json=body).status_code == 201
    r = c.get("/v1/zones/export", headers=api.h("Obs"), params={"format": "kml"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.google-earth.kml+xml"
    assert r.headers["content-disposition"] == 'attachment; filename="zones.kml"'
    root = fromstring(r.content)
    marks = {pm.find(f"{KML_NS}name").text: pm for pm in root.iter(f"{KML_NS}Placemark")}
    assert set(marks) == {"Southwest", "Ring buffer", "Hospital"}
    sw = marks["Southwest"]
    assert _ring(sw.find(f".//{KML_NS}outerBoundaryIs//{KML_NS}coordinates")) == [
        tuple(p) for p in square(36.5, 32.8, 0.2)["coordinates"][0]]  # fmt: skip
    said = sw.find(f"{KML_NS}description").text
    assert "Forbids: fires, ground" in said and "Stand-off: 500 m beyond its edge" in said
    assert "Altitude: the ground to no ceiling" in said and "in force" in said
    ids = {d.get("name"): d.find(f"{KML_NS}value").text for d in sw.iter(f"{KML_NS}Data")}
    assert ids["kind"] == "de_escalation" and ids["status"] == "in_force" and ids["id"]
    ring = marks["Ring buffer"]
    assert len(ring.findall(f".//{KML_NS}innerBoundaryIs")) == 1
    assert "Hours: FRI 06:00–12:00 UTC" in ring.find(f"{KML_NS}description").text
    hospital = _ring(marks["Hospital"].find(f".//{KML_NS}outerBoundaryIs//{KML_NS}coordinates"))
    _, _, far = Geod(ellps="WGS84").inv([36.1] * len(hospital), [32.6] * len(hospital),
                                        [x for x, _ in hospital], [y for _, y in hospital])  # fmt: skip
    assert len(hospital) > 16 and min(far) >= 800  # it contains the circle
    # colours by kind differ; the filters choose as for GeoJSON; a format it does not write is named
    styles = {st.get("id"): st.find(f"{KML_NS}PolyStyle/{KML_NS}color").text for st in root.iter(f"{KML_NS}Style")}
    colours = {n: styles[pm.find(f"{KML_NS}styleUrl").text.lstrip("#")] for n, pm in marks.items()}
    assert len(set(colours.values())) == 3
    only = c.get("/v1/zones/export", headers=api.h("Obs"), params={"format": "kml", "status": "in_force"})
    assert [pm.find(f"{KML_NS}name").text for pm in fromstring(only.content).iter(f"{KML_NS}Placemark")] == [
        "Southwest"]  # fmt: skip
    r = c.get("/v1/zones/export", headers=api.h("Obs"), params={"format": "shp"})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "#query/format"
