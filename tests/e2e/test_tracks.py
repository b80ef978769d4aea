"""Live tracks end to end: ingest with per-line refusals, separation and incursion conflicts opened
once per episode and routed to the hotline, closed when clear, stale tracks dropped, and each party
seeing only its part of the picture."""

from __future__ import annotations

import json
import math
from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.conftest import Line
from tests.helpers import rfc, zone_body
from truceline.domain.tactical import RE
from truceline.services import tracks


def report(track: str, lat: float, lon: float, trk: float, when: Any, *, alt: float = 3000.0, gs: float = 200.0,
           vs: float = 0.0, **kw: Any) -> dict[str, Any]:
    return {"track_id": track, "callsign": track.upper(), "time": rfc(when), "lat": lat, "lon": lon,
            "altitude_m": alt, "ground_speed_mps": gs, "track_deg": trk, "vertical_rate_mps": vs, **kw}


def head_on(line: Line, gap_km: float = 60.0, lat: float = 33.0, lon: float = 37.0) -> None:
    """A (eastbound) and B (westbound) on the same parallel, ``gap_km`` apart, closing at 400 m/s."""
    dlon = math.degrees(gap_km * 1000 / (RE * math.cos(math.radians(lat))))
    now = line.clock.now
    post(line, "A", [report("a1", lat, lon, 90.0, now)])
    post(line, "B", [report("b1", lat, lon + dlon, 270.0, now)])


def post(line: Line, who: str, reports: list[dict[str, Any]], ndjson: bool = False) -> Any:
    if ndjson:
        body = "\n".join(json.dumps(r) for r in reports).encode()
        r = line.client.post("/v1/tracks", headers={**line.h(who), "content-type": "application/x-ndjson"},
                             content=body)
    else:
        r = line.client.post("/v1/tracks", headers=line.h(who), json=reports)
    return r


def cycle(line: Line) -> tracks.Picture:
    ctx = line.ctx
    return tracks.cycle(lambda w: ctx.uow(write=w), ctx.policy, ctx.tracks, ctx.detector)


def conflicts(line: Line, who: str, rule: str, status: str = "open") -> list[dict[str, Any]]:
    r = line.client.get("/v1/conflicts", headers=line.h(who), params={"rule": rule, "status": status})
    assert r.status_code == 200, r.text
    return list(r.json())


def test_ingest_keeps_good_reports_and_refuses_bad_ones_by_line(line: Line) -> None:
    now = line.clock.now
    good = report("a1", 33.0, 37.0, 90.0, now)
    lines = [
        good,
        {**good, "track_id": "a2", "lat": 91.0},
        {**good, "track_id": "a3", "time": "yesterday"},
        {**good, "track_id": "a4", "speed": 3},
        {**good, "track_id": "a5", "party": "B"},
        {**good, "track_id": "a6", "kind": "submarine"},
        {**good, "track_id": "a7", "time": rfc(now + timedelta(minutes=5))},
        {**good, "track_id": "a8", "activity_id": "not-mine"},
        report("a9", 33.1, 37.1, 45.0, now),
    ]
    r = post(line, "A", lines, ndjson=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 2
    assert [(x["line"], x["errors"][0]["pointer"]) for x in body["rejected"]] == [
        (2, "/lat"), (3, "/time"), (4, "/speed"), (5, "/party"), (6, "/kind"), (7, "/time"), (8, "/activity_id")
    ]
    # a line that is not JSON is refused on its own too
    raw = (json.dumps(good) + "\n{oops\n").encode()
    r = line.client.post("/v1/tracks", headers={**line.h("A"), "content-type": "application/x-ndjson"}, content=raw)
    assert r.status_code == 200 and r.json()["rejected"][0]["line"] == 2
    # every report bad: 422 problem+json naming each line
    r = post(line, "A", [{**good, "lat": "north"}, {**good, "lon": 500}])
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert [e["pointer"] for e in r.json()["errors"]] == ["/0/lat", "/1/lon"]
    assert post(line, "Obs", [good]).status_code == 403
    assert line.client.post("/v1/tracks", headers=line.h("A"), content=b"[{").status_code == 400
    seen = line.client.get("/v1/tracks", headers=line.h("A")).json()["tracks"]
    assert sorted(t["track_id"] for t in seen) == ["a1", "a9"]
    # an older report never overwrites a newer state
    post(line, "A", [report("a1", 10.0, 10.0, 0.0, now - timedelta(seconds=5))])
    (a1,) = [t for t in line.client.get("/v1/tracks", headers=line.h("A")).json()["tracks"] if t["track_id"] == "a1"]
    assert a1["lat"] == pytest.approx(33.0)


def test_a_predicted_loss_of_separation_opens_one_conflict_on_the_hotline_and_closes_when_clear(line: Line) -> None:
    head_on(line)
    pic = cycle(line)
    assert len(pic.pairs) == 1
    (c,) = conflicts(line, "A", "separation")
    assert {t["callsign"] for t in c["tracks"]} == {"A1", "B1"} and c["zone"] is None
    assert "predicted to lose separation in 127 s" in c["reason"]  # (60 km - 9,260 m) / 400 m/s
    assert conflicts(line, "B", "separation")[0]["id"] == c["id"]
    assert conflicts(line, "Obs", "separation") == []
    (alert,) = line.inbox("B")
    assert alert["conflict_id"] == c["id"] and alert["severity"] == "Extreme"
    assert alert["addresses"][0]["deadline"] == rfc(line.clock.now + timedelta(minutes=2))  # separation: 2 min
    # the next cycles: the same episode, no new conflict, no new alert (no storms)
    for _ in range(3):
        line.clock.now += timedelta(seconds=1)
        cycle(line)
    assert [x["id"] for x in conflicts(line, "A", "separation")] == [c["id"]]
    assert len(line.inbox("B", "all")) == 1
    # B turns away: clear, but the conflict stays open for the grace period, then closes
    now = line.clock.now
    post(line, "B", [report("b1", 33.0, 37.6, 0.0, now, alt=6000.0)])
    cycle(line)
    assert len(conflicts(line, "A", "separation")) == 1
    line.clock.now += timedelta(seconds=11)
    post(line, "A", [report("a1", 33.0, 37.0, 90.0, line.clock.now)])
    post(line, "B", [report("b1", 33.05, 37.6, 0.0, line.clock.now, alt=6000.0)])
    cycle(line)
    assert conflicts(line, "A", "separation") == []
    (closed,) = conflicts(line, "A", "separation", "closed")
    assert closed["closed_reason"].startswith("cleared")
    msgs = line.client.get(f"/v1/threads/{alert['thread_id']}", headers=line.h("A")).json()["messages"]
    assert [m["msgType"] for m in msgs] == ["Alert", "Update"]


def test_stale_tracks_drop_out(line: Line) -> None:
    head_on(line)
    cycle(line)
    assert len(conflicts(line, "A", "separation")) == 1
    line.clock.now += timedelta(seconds=31)  # nobody reports for longer than the stale limit
    assert len(cycle(line).snap) == 0
    line.clock.now += timedelta(seconds=11)
    cycle(line)
    assert conflicts(line, "A", "separation") == []
    assert line.client.get("/v1/tracks", headers=line.h("A")).json()["tracks"] == []


def _no_fly(line: Line, **extra: Any) -> dict[str, Any]:
    body = zone_body(**{"name": "Daraa no-fly", "kind": "no_fly", "forbidden_kinds": ["air"],
                        "effective_from": "2017-07-01T00:00:00Z", **extra})
    body["geometry"] = {"type": "Polygon", "coordinates": [[[36.0, 32.5], [36.3, 32.5], [36.3, 32.8], [36.0, 32.8],
                                                              [36.0, 32.5]]]}
    body["altitude_upper"] = {"value": 10000, "reference": "W84", "units": "M"}
    r = line.client.post("/v1/zones", headers=line.h("HQ"), json=body)
    assert r.status_code == 201, r.text
    z = r.json()["zone"]
    line.client.post(f"/v1/zones/{z['id']}/responsibilities", headers=line.h("HQ"),
                     json={"party": line.ids["JC"], "role": "police"})
    rid = line.client.get(f"/v1/zones/{z['id']}", headers=line.h("HQ")).json()["responsible"][0]["id"]
    line.client.post(f"/v1/zones/{z['id']}/responsibilities/{rid}/accept", headers=line.h("JC"), json={})
    r = line.client.post(f"/v1/zones/{z['id']}/signoffs", headers=line.h("HQ"), json={"revision": 1,
                                                                                      "strength": "final"})
    assert r.json()["zone"]["status"] == "in_force", r.text
    return dict(z)


def test_a_predicted_incursion_into_a_zone_that_forbids_the_kind(line: Line) -> None:
    z = _no_fly(line)
    now = line.clock.now
    # 20 km west of the zone, flying east at 200 m/s: enters in ~100 s; a ground track on the same line does not
    lon = 36.0 - math.degrees(20_000 / (RE * math.cos(math.radians(32.65))))
    post(line, "A", [report("jet", 32.65, lon, 90.0, now), report("truck", 32.6, lon, 90.0, now, kind="ground",
                                                                    gs=20.0)])
    pic = cycle(line)
    assert [(pic.snap.track_ids[i.track], i.zone_id) for i in pic.incursions] == [("jet", z["id"])]
    (c,) = conflicts(line, "A", "incursion")
    assert c["zone"]["id"] == z["id"] and "predicted to enter Daraa no-fly" in c["reason"]
    assert {p["name"] for p in c["parties"]} == {"A", "JC"}  # the owner and who polices the zone
    assert conflicts(line, "JC", "incursion")[0]["id"] == c["id"]
    # JC polices the zone: it sees the jet's alert and the track, though it has none of its own nearby
    view = line.client.get("/v1/alerts", headers=line.h("JC")).json()
    assert [a["rule"] for a in view["alerts"]] == ["incursion"] and view["alerts"][0]["t_in_s"] == pytest.approx(
        100.0, abs=3)


def test_no_incursion_outside_the_zone_s_hours(line: Line) -> None:
    now = line.clock.now

    def hours(start: timedelta, end: timedelta) -> list[dict[str, Any]]:
        return [{"days": ["ANY"], "start": (now + start).strftime("%H:00"), "end": (now + end).strftime("%H:00")}]

    later = _no_fly(line, schedule=hours(timedelta(hours=3), timedelta(hours=5)))
    lon = 36.0 - math.degrees(20_000 / (RE * math.cos(math.radians(32.65))))
    post(line, "A", [report("jet", 32.65, lon, 90.0, now)])
    assert cycle(line).incursions == [] and conflicts(line, "A", "incursion") == []
    body = {"name": "Daraa night no-fly", "schedule": hours(timedelta(hours=-1), timedelta(hours=2))}
    now_on = _no_fly(line, **body)
    line.clock.now += timedelta(seconds=1)
    post(line, "A", [report("jet", 32.65, lon, 90.0, line.clock.now)])
    assert {i.zone_id for i in cycle(line).incursions} == {now_on["id"]} != {later["id"]}


def test_a_zone_can_widen_the_minima_inside_it(line: Line) -> None:
    _no_fly(line, separation_m=40_000.0)
    now = line.clock.now
    # two level tracks crossing inside the zone, 8 NM apart at closest: clear by 5 NM, not by the zone's 40 km
    off = math.degrees(8 * 1852 / RE)
    post(line, "A", [report("a1", 32.65, 36.1, 0.0, now, gs=0.1, kind="patrol")])
    post(line, "B", [report("b1", 32.65 + off, 36.1, 0.0, now, gs=0.1, kind="patrol")])
    assert len(cycle(line).pairs) == 1
    assert "minimum 21.6 NM" in conflicts(line, "A", "separation")[0]["reason"]


def test_each_party_sees_its_part_of_the_picture(line: Line) -> None:
    now = line.clock.now
    post(line, "A", [report("a1", 33.0, 37.0, 0.0, now, gs=10.0)])
    post(line, "B", [report("b-near", 33.2, 37.0, 180.0, now, gs=10.0, alt=9000.0),
                     report("b-far", 35.0, 40.0, 0.0, now, gs=10.0)])
    post(line, "JC", [report("jc1", 20.0, 20.0, 0.0, now, gs=10.0)])
    cycle(line)

    def seen(who: str) -> list[str]:
        return sorted(t["track_id"] for t in line.client.get("/v1/tracks", headers=line.h(who)).json()["tracks"])

    assert seen("A") == ["a1", "b-near"]  # b-near is 22 km away; b-far is not shown
    assert seen("B") == ["a1", "b-far", "b-near"]
    assert seen("JC") == ["jc1"]
    assert seen("Obs") == []
    (a1,) = [t for t in line.client.get("/v1/tracks", headers=line.h("A")).json()["tracks"] if t["track_id"] == "a1"]
    assert a1["predicted"]["in_s"] == 300.0 and a1["predicted"]["lat"] > a1["lat"]
