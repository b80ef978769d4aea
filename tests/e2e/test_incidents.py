"""Ceasefire monitoring end to end: incidents reported and linked to the zones they may violate, bad input
refused with nothing stored, the verification workflow, duplicates merged and unmerged, the per-zone
timeline and its chart, ACLED/UCDP import (bad rows by line, no duplicates on re-import) and export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.conftest import Line
from tests.helpers import acled_csv, incident_body, ucdp_csv, zone_body
from truceline.domain.incident_formats import ACLED_COLUMNS

SIGNED = datetime(2017, 7, 9, 12, tzinfo=UTC)
LATER = datetime(2017, 7, 20, 8, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _after_the_events(line: Line) -> None:
    """Reports are written after the events (an event in the future is refused)."""
    line.clock.now = LATER


def zone_in_force(line: Line, *, name: str = "Daraa zone") -> dict[str, Any]:
    """A de-escalation zone around (36.5 E, 32.8 N), ±0.2°, in force from 9 July 2017 12:00 UTC, with JC
    as its monitor."""
    line.clock.now = SIGNED
    r = line.client.post("/v1/zones", headers=line.h("HQ"), json=zone_body(name=name))
    assert r.status_code == 201, r.text
    z = r.json()["zone"]
    line.client.post(f"/v1/zones/{z['id']}/responsibilities", headers=line.h("HQ"),
                     json={"party": line.ids["JC"], "role": "monitor"})
    rid = line.client.get(f"/v1/zones/{z['id']}", headers=line.h("HQ")).json()["responsible"][0]["id"]
    line.client.post(f"/v1/zones/{z['id']}/responsibilities/{rid}/accept", headers=line.h("JC"), json={})
    r = line.client.post(f"/v1/zones/{z['id']}/signoffs", headers=line.h("HQ"), json={"revision": 1,
                                                                                      "strength": "final"})
    assert r.json()["zone"]["status"] == "in_force", r.text
    line.clock.now = LATER
    return dict(z)


def report(line: Line, who: str = "A", **over: Any) -> dict[str, Any]:
    r = line.client.post("/v1/incidents", headers=line.h(who), json=incident_body(**over))
    assert r.status_code == 201, r.text
    return dict(r.json())


def step(line: Line, who: str, incident_id: str, step: str, statement: str = "", expect: int = 200) -> dict[str, Any]:
    r = line.client.post(f"/v1/incidents/{incident_id}/steps", headers=line.h(who),
                         json={"step": step, "statement": statement})
    assert r.status_code == expect, r.text
    return dict(r.json())


def count(line: Line) -> int:
    return len(line.client.get("/v1/incidents", headers=line.h("Obs"), params={"limit": 1000}).json())


def test_an_incident_inside_a_zone_in_force_is_a_possible_violation(line: Line) -> None:
    z = zone_in_force(line)
    inside = report(line, event_date="2017-07-10", alleged=["B"])
    assert [v["zone_id"] for v in inside["possible_violation_of"]] == [z["id"]]
    assert inside["possible_violation_of"][0]["zone_name"] == "Daraa zone"
    assert inside["status"] == "reported" and inside["reported_by"]["name"] == "A"
    assert inside["alleged"] == [{"id": line.ids["B"], "name": "B"}]
    assert inside["interaction"] == 12 and inside["disorder_type"] == "Political violence"
    # Outside the zone, or before the zone entered into force: not linked.
    outside = report(line, event_date="2017-07-10", location={"latitude": 34.0, "longitude": 38.0})
    before = report(line, event_date="2017-07-05")
    assert outside["possible_violation_of"] == [] and before["possible_violation_of"] == []
    # A strategic development inside the zone is linked to it but is not a possible violation.
    deployment = report(line, event_date="2017-07-12", event_type="Strategic developments",
                        sub_event_type="Change to group/activity")
    assert deployment["zones"][0]["zone_id"] == z["id"] and deployment["possible_violation_of"] == []
    # The zone's monitor and the alleged party heard of it on their live feeds.
    for who in ("JC", "B"):
        assert any(e["type"] == "incident.reported" and e["data"]["id"] == inside["id"] for e in line.events(who))
    assert not any(e["type"] == "incident.reported" and e["data"]["id"] == inside["id"] for e in line.events("HQ"))
    # Filters: by zone, status, type and box.
    by_zone = line.client.get("/v1/incidents", headers=line.h("Obs"), params={"zone": z["id"]}).json()
    assert {i["id"] for i in by_zone} == {inside["id"], deployment["id"]}
    box = line.client.get("/v1/incidents", headers=line.h("Obs"), params={"bbox": "37.5,33.5,38.5,34.5"}).json()
    assert [i["id"] for i in box] == [outside["id"]]


@pytest.mark.parametrize(
    ("over", "pointer"),
    [
        ({"event_type": "Skirmish"}, "/event_type"),
        ({"sub_event_type": "Air/drone strike"}, "/sub_event_type"),  # a sub-type of another type
        ({"event_date": "2017-02-30"}, "/event_date"),
        ({"event_date": "2031-01-01"}, "/event_date"),
        ({"location": {"latitude": 95.0, "longitude": 36.5}}, "/location/latitude"),
        ({"location": {"latitude": 32.8, "longitude": "east"}}, "/location/longitude"),
        ({"fatalities": {"low": 5, "best": 2, "high": 9}}, "/fatalities"),
        ({"fatalities": -1}, "/fatalities/low"),
        ({"sources": []}, "/sources"),
        ({"alleged": ["Nobody"]}, "/alleged/0"),
        ({"actor1": {"name": "X", "inter": 12}}, "/actor1/inter"),
        ({"time_precision": 7}, "/time_precision"),
    ],
)
def test_bad_reports_are_refused_naming_the_field_and_nothing_is_stored(
    line: Line, over: dict[str, Any], pointer: str
) -> None:
    report(line)
    before = count(line)
    r = line.client.post("/v1/incidents", headers=line.h("A"), json=incident_body(**over))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["pointer"] == pointer
    assert count(line) == before


def test_the_verification_workflow_records_every_step_with_who_when_and_why(line: Line) -> None:
    i = report(line, alleged=["B"])
    iid = i["id"]
    step(line, "Obs", iid, "review", expect=403)  # observers cannot review
    step(line, "A", iid, "dispute", "not us", expect=403)  # A is not alleged
    step(line, "Mon", iid, "verify", "seen", expect=409)  # verification comes after review
    def offered(who: str) -> list[tuple[str, bool]]:
        got = line.client.get(f"/v1/incidents/{iid}", headers=line.h(who)).json()
        assert got["you_may_merge"] is (who == "Mon")
        return [(s["step"], s["needs_statement"]) for s in got["your_steps"]]

    assert offered("Mon") == [("review", False)] and offered("B") == [("dispute", True)]
    assert offered("A") == [] and offered("Obs") == []
    step(line, "Mon", iid, "review")
    assert offered("Mon") == [("verify", True), ("reject", True)] and offered("B") == [("dispute", True)]
    step(line, "B", iid, "dispute", expect=422)  # a dispute needs a statement
    d = step(line, "B", iid, "dispute", "our units were 20 km away")
    assert d["status"] == "disputed"
    step(line, "Mon", iid, "review", "weighing the dispute")
    v = step(line, "Mon", iid, "verify", "crater analysis and two witnesses")
    assert v["status"] == "verified"
    step(line, "Mon", iid, "verify", "again", expect=409)
    assert [(s["step"], s["from"], s["to"], s["party"]["name"]) for s in v["steps"]] == [
        ("review", "reported", "under_review", "Mon"),
        ("dispute", "under_review", "disputed", "B"),
        ("review", "disputed", "under_review", "Mon"),
        ("verify", "under_review", "verified", "Mon"),
    ]
    assert v["steps"][1]["statement"] == "our units were 20 km away" and v["steps"][3]["at"].endswith("Z")
    r = line.client.post(f"/v1/incidents/{iid}/steps", headers=line.h("Mon"), json={"step": "approve"})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/step"
    actions = line.audit_actions()
    assert actions.count("incident.review") == 2 and "incident.verify" in actions and "incident.dispute" in actions


def test_incidents_are_listed_and_exported_by_one_status_or_several(line: Line) -> None:
    """A monitor's queue is the reports waiting for a monitor: reported or under review, in one listing."""
    made = {name: report(line, location={"name": name, "latitude": 32.8, "longitude": 36.5 + k / 10,
                                          "geo_precision": 1, "country": "Syria"})["id"]
            for k, name in enumerate(("Izra", "Nawa", "Bosra"))}  # fmt: skip
    step(line, "Mon", made["Nawa"], "review")
    step(line, "Mon", made["Bosra"], "review")
    step(line, "Mon", made["Bosra"], "verify", "seen")

    def listed(*statuses: str) -> list[str]:
        r = line.client.get("/v1/incidents", headers=line.h("Mon"), params={"status": list(statuses)})
        assert r.status_code == 200, r.text
        return sorted(i["location"]["name"] for i in r.json())

    assert listed("reported") == ["Izra"] and listed("verified") == ["Bosra"]
    assert listed("reported", "under_review") == ["Izra", "Nawa"]
    assert listed("reported", "under_review", "reported") == ["Izra", "Nawa"]
    assert listed() == ["Bosra", "Izra", "Nawa"]
    csv = line.client.get("/v1/incidents/export", headers=line.h("Mon"),
                          params={"status": ["reported", "under_review"], "format": "csv"})  # fmt: skip
    assert csv.status_code == 200 and len(csv.text.strip().splitlines()) == 3  # a header and two rows
    bad = line.client.get("/v1/incidents", headers=line.h("Mon"), params={"status": ["reported", "approved"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "#query/status/1", bad.text


def test_duplicates_are_offered_with_reasons_merged_keeping_every_source_and_unmerged(line: Line) -> None:
    a = report(line, "A", sources=[{"name": "Field team 3", "notes": "heard shelling at dawn"}])
    b = report(line, "Mon", location={"latitude": 32.83, "longitude": 36.52},
               sources=[{"name": "Local council", "scale": "Local"}])
    far = report(line, "B", location={"latitude": 33.6, "longitude": 36.5})
    other_type = report(line, "B", event_type="Protests", sub_event_type="Peaceful protest",
                        actor1={"name": "Protesters (Syria)", "inter": 6})
    r = line.client.get(f"/v1/incidents/{a['id']}/duplicates", headers=line.h("Obs"))
    assert r.status_code == 200
    found = r.json()
    assert [c["incident"]["id"] for c in found] == [b["id"]]
    assert any("km apart" in x for x in found[0]["reasons"]) and any("shared actors" in x for x in found[0]["reasons"])
    assert far["id"] not in str(found) and other_type["id"] not in str(found)
    assert line.client.post(f"/v1/incidents/{a['id']}/merge", headers=line.h("A"),
                            json={"duplicates": [b["id"]]}).status_code == 403  # monitors merge
    m = line.client.post(f"/v1/incidents/{a['id']}/merge", headers=line.h("Mon"),
                         json={"duplicates": [b["id"]], "statement": "same shelling"}).json()
    assert {s["name"] for s in m["sources"]} == {"Field team 3", "Local council"}
    assert [x["id"] for x in m["merged"]] == [b["id"]]
    assert b["id"] not in {i["id"] for i in line.client.get("/v1/incidents", headers=line.h("Obs")).json()}
    merged_b = line.client.get(f"/v1/incidents/{b['id']}", headers=line.h("Mon")).json()
    assert merged_b["merged_into"] == a["id"]
    assert merged_b["your_steps"] == [] and merged_b["you_may_merge"] is False  # it is verified as part of a
    step(line, "Mon", b["id"], "review", expect=409)  # the merged record is not verified on its own
    again = line.client.post(f"/v1/incidents/{a['id']}/merge", headers=line.h("Mon"), json={"duplicates": [b["id"]]})
    assert again.status_code == 409
    u = line.client.post(f"/v1/incidents/{a['id']}/unmerge", headers=line.h("Mon"),
                         json={"duplicate": b["id"], "statement": "two separate strikes"}).json()
    assert u["merged"] == [] and [s["name"] for s in u["sources"]] == ["Field team 3"]
    restored = line.client.get(f"/v1/incidents/{b['id']}", headers=line.h("Obs")).json()
    assert restored["merged_into"] is None and restored["sources"] == [{"name": "Local council", "scale": "Local"}]
    assert [s["step"] for s in restored["steps"]] == ["merge", "unmerge"]


def test_the_zone_ceasefire_timeline_and_its_chart(line: Line) -> None:
    z = zone_in_force(line)
    zid = z["id"]
    i1 = report(line, event_date="2017-07-10", fatalities={"low": 1, "best": 3, "high": 4})
    report(line, event_date="2017-07-11")
    report(line, event_date="2017-07-11", location={"latitude": 32.75, "longitude": 36.45})
    rejected = report(line, event_date="2017-07-12")
    step(line, "Mon", i1["id"], "review")
    step(line, "Mon", i1["id"], "verify", "confirmed")
    step(line, "Mon", rejected["id"], "review")
    step(line, "Mon", rejected["id"], "reject", "no such event")
    r = line.client.get(f"/v1/zones/{zid}/ceasefire", headers=line.h("Obs"),
                        params={"from": "2017-07-08", "to": "2017-07-13"})
    assert r.status_code == 200, r.text
    tl = r.json()
    days = {d["date"]: d for d in tl["days"]}
    assert [days[d]["status"] for d in sorted(days)] == [
        "not_in_force", "holding", "strained", "strained", "holding", "holding"]
    assert days["2017-07-09"]["in_force_hours"] == 12.0
    assert days["2017-07-10"]["verified_violations"] == 1 and days["2017-07-10"]["fatalities"] == 3
    assert days["2017-07-11"]["possible_violations"] == 2 and "not yet settled" in days["2017-07-11"]["reason"]
    assert days["2017-07-12"]["rejected"] == 1 and days["2017-07-12"]["incidents"] == 0
    assert tl["in_force"][0]["from"] == "2017-07-09T12:00:00Z" and "broken" in tl["rules"]
    png = line.client.get(f"/v1/zones/{zid}/ceasefire", headers=line.h("Obs"),
                          params={"from": "2017-07-08", "to": "2017-07-13", "format": "png"})
    assert png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    svg = line.client.get(f"/v1/zones/{zid}/ceasefire", headers=line.h("Obs"), params={"format": "svg"})
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content[:500]
    bad = line.client.get(f"/v1/zones/{zid}/ceasefire", headers=line.h("Obs"), params={"from": "2017-13-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "#query/from"
    too_long = line.client.get(f"/v1/zones/{zid}/ceasefire", headers=line.h("Obs"),
                               params={"from": "2015-01-01", "to": "2017-07-13"})
    assert too_long.status_code == 422


def _import(line: Line, body: str, fmt: str = "acled", who: str = "Mon") -> dict[str, Any]:
    r = line.client.post("/v1/incidents/import", headers={**line.h(who), "Content-Type": "text/csv"},
                         params={"format": fmt}, content=body.encode())
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_acled_import_reports_bad_rows_by_line_keeps_the_good_and_never_duplicates(line: Line) -> None:
    zone_in_force(line)
    text = acled_csv(40, bad={3: ("event_type", "Skirmish"), 7: ("event_date", "2017-02-30"),
                              11: ("latitude", "123.0"), 15: ("inter1", "9")})
    r = _import(line, text)
    assert (r["rows"], r["inserted"], r["rejected"], r["unchanged"]) == (40, 36, 4, 0)
    # Each record's notes span two lines: row k starts on line 2k (the header is line 1).
    assert [(p["row"], p["line"], p["column"]) for p in r["problems"]] == [
        (3, 6, "event_type"), (7, 14, "event_date"), (11, 22, "latitude"), (15, 30, "inter1")]
    assert "Skirmish" in r["problems"][0]["detail"] and "world" in r["problems"][2]["detail"]
    assert r["zone_links"] > 0
    again = _import(line, text)
    assert (again["inserted"], again["unchanged"]) == (0, 36)
    assert count(line) == 36
    # Older ACLED exports: extra columns, "10 July 2017" dates, actor types as labels.
    old = acled_csv(3, old=True, first_id=1000)
    assert _import(line, old)["inserted"] == 3
    # A file that is not ACLED at all is refused whole.
    r2 = line.client.post("/v1/incidents/import", headers={**line.h("Mon"), "Content-Type": "text/csv"},
                          params={"format": "acled"}, content=b"a,b,c\n1,2,3\n")
    assert r2.status_code == 422 and "missing column" in r2.json()["detail"]
    # Officers report; they do not import.
    r3 = line.client.post("/v1/incidents/import", headers={**line.h("A"), "Content-Type": "text/csv"},
                          params={"format": "acled"}, content=text.encode())
    assert r3.status_code == 403


def test_ucdp_import_keeps_low_best_high_and_maps_to_acled_vocabulary(line: Line) -> None:
    r = _import(line, ucdp_csv(5, bad={2: ("date_end", "2017-07-01")}), "ucdp")
    assert (r["inserted"], r["rejected"]) == (4, 1) and r["problems"][0]["column"] == "date_end"
    items = line.client.get("/v1/incidents", headers=line.h("Obs"), params={"dataset": "ucdp"}).json()
    one = next(i for i in items if i["external_id"] == "900001")
    assert one["fatalities"] == {"low": 2, "best": 3, "high": 5}
    assert one["event_type"] == "Violence against civilians" and one["actor2"]["inter"] == 7
    assert one["date_end"] == "2017-07-12"


def test_export_as_acled_csv_and_geojson(line: Line) -> None:
    _import(line, acled_csv(25))
    a = report(line, sources=[{"name": "Field team 3"}])
    b = report(line, "Mon", sources=[{"name": "Local council"}])
    line.client.post(f"/v1/incidents/{a['id']}/merge", headers=line.h("Mon"), json={"duplicates": [b["id"]]})
    r = line.client.get("/v1/incidents/export", headers=line.h("Obs"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert tuple(rows[0]) == ACLED_COLUMNS and len(ACLED_COLUMNS) == 31
    assert len(rows) == 1 + 25 + 1  # the merged record is folded into its primary
    mine = next(x for x in rows if x[0] == f"TL-{a['id']}")
    assert mine[ACLED_COLUMNS.index("source")] == "Field team 3; Local council"
    g = line.client.get("/v1/incidents/export", headers=line.h("Obs"), params={"format": "geojson", "to": "2017-07-11"})
    fc = json.loads(g.text)
    assert fc["type"] == "FeatureCollection" and g.headers["content-type"] == "application/geo+json"
    assert all(f["geometry"]["type"] == "Point" and -180 <= f["geometry"]["coordinates"][0] <= 180
               for f in fc["features"])
    assert all(f["properties"]["event_date"] <= "2017-07-11" for f in fc["features"]) and fc["features"]
    # What goes out comes back in: ACLED rows are recognised by their ids; ours arrive as one new record.
    back = _import(line, r.text)
    assert (back["rows"], back["rejected"], back["unchanged"], back["inserted"]) == (26, 0, 25, 1)
