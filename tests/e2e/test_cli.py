"""The CLI through its entry point, against a real server process on loopback."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory

from tests.e2e.demo_server import BIN, demo_server
from tests.helpers import cap_schema
from truceline.adapters.db import make_engine
from truceline.adapters.migrate import alembic_config
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.domain.errors import NotAuthenticated
from truceline.services import parties

OPPOSITION = "Armed opposition (Southern Front)"
FRACTION = re.compile(r"T\d\d:\d\d:\d\d\.\d")  # a time with a fraction of a second


def run(*args: str, token: str | None = None, url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("TRUCELINE_TOKEN", None)
    if token:
        env["TRUCELINE_TOKEN"] = token
    if url:
        env["TRUCELINE_URL"] = url
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], str]]:
    with demo_server(tmp_path_factory.mktemp("cli")) as running:
        yield running


def test_demo_serves_the_scenario(server: tuple[str, dict[str, str], str]) -> None:
    url, tokens, _ = server
    assert "World Food Programme" in tokens and len(tokens) >= 10
    r = run("conflicts", "list", "--json", token=tokens["Syrian Arab Republic"], url=url)
    assert r.returncode == 0, r.stderr
    rules = sorted(c["rule"] for c in json.loads(r.stdout))
    assert rules == ["overlap", "overlap", "zone_rule", "zone_rule"]
    human = run("conflicts", "list", "--url", url, "--token", tokens["Iran"])
    assert human.returncode == 0 and "Al-Tanf" in human.stdout and "forbids ground" in human.stdout
    zones = run("zones", "list", "--json", "--status", "in_force", token=tokens["Kazakhstan"], url=url)
    assert {z["name"] for z in json.loads(zones.stdout)} >= {"Izra joint US-Russian operations centre"}
    sw = next(z for z in json.loads(zones.stdout) if z["name"].startswith("Southwest"))
    show = run("zones", "show", sw["id"], token=tokens["Kazakhstan"], url=url)
    assert "police: Russian Federation" in show.stdout and "approximate" in show.stdout


def test_notify_and_zones_add_from_geojson(server: tuple[str, dict[str, str], str], tmp_path: Path) -> None:
    url, tokens, _ = server
    f = tmp_path / "plan.geojson"
    f.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [36.45, 32.75]},
                        "properties": {
                            "kind": "patrol",
                            "title": "Jordanian liaison visit",
                            "radius_m": 1500,
                            "time_start": "2017-07-10T06:00:00Z",
                            "time_end": "2017-07-10T09:00:00Z",
                        },
                    }
                ],
            }
        )
    )
    r = run("notify", str(f), "--json", token=tokens["Jordan"], url=url)
    assert r.returncode == 0, r.stderr
    (result,) = json.loads(r.stdout)
    owners = {a["owner"]["name"] for c in result["conflicts"] for a in c["activities"]}
    assert {"Syrian Arab Republic", "Armed opposition (Southern Front)"} <= owners
    listed = run("activities", "list", "--json", token=tokens["Jordan"], url=url)
    assert [a["title"] for a in json.loads(listed.stdout)] == ["Jordanian liaison visit"]
    z = tmp_path / "zone.geojson"
    z.write_text(
        json.dumps(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [36.1, 32.62]},
                "properties": {
                    "name": "Daraa hospital",
                    "kind": "protected_site",
                    "radius_m": 800,
                    "forbidden_kinds": ["fires"],
                },
            }
        )
    )
    added = run("zones", "add", str(z), "--json", token=tokens["Jordan"], url=url)
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)[0]["kind"] == "protected_site"


def test_plans_checked_against_the_zones_before_they_are_notified(
    server: tuple[str, dict[str, str], str], tmp_path: Path
) -> None:
    url, tokens, _ = server
    syria = tokens["Syrian Arab Republic"]
    plan = tmp_path / "plans.geojson"
    feature = lambda geometry, **props: {"type": "Feature", "geometry": geometry, "properties": props}  # noqa: E731
    plan.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feature({"type": "Point", "coordinates": [36.5, 32.7]}, kind="ground", title="Daraa resupply",
                radius_m=2000, time_start="2017-07-11T04:00:00Z", time_end="2017-07-11T10:00:00Z",
                altitude_lower_m=0, altitude_upper_m=200),
        feature({"type": "Point", "coordinates": [36.45, 33.55]}, kind="air", title="Ghouta sortie",
                radius_m=5000, time_start="2017-07-11T04:00:00Z", time_end="2017-07-11T05:00:00Z",
                altitude_lower_m=1000, altitude_upper_m=4000),
    ]}))  # fmt: skip
    before = run("activities", "list", "--json", token=syria, url=url).stdout
    r = run("notify", str(plan), "--check", token=syria, url=url)
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())  # the way rich wraps it aside
    first, second = text[: text.index("checked air")], text[text.index("checked air") :]
    assert first.startswith("checked ground 'Daraa resupply' (not notified): 1 zone conflict(s) now, "
                            "0 once a zone is in force zone_rule now × zone Southwest de-escalation zone")  # fmt: skip
    assert "which is in force and forbids ground activities, from 2017-07-11T04:00:00Z" in first
    assert "at 0–200 m a notification would concern: " in first and "Russian Federation" in first
    assert second.startswith("checked air 'Ghouta sortie' (not notified): 0 zone conflict(s) now, "
                             "1 once a zone is in force zone_rule once in force (agreed in principle) "
                             "× zone Eastern Ghouta")  # fmt: skip
    assert "which is agreed in principle and would forbid air activities once in force" in second
    assert second.endswith("They are checked when you notify, and any conflict is shown to both.")
    assert "Other parties' activities are not checked here" in second
    # nothing was notified
    assert run("activities", "list", "--json", token=syria, url=url).stdout == before
    got = json.loads(run("notify", str(plan), "--check", "--json", token=syria, url=url).stdout)
    assert [(len(x["conflicts"]), len(x["once_in_force"])) for x in got] == [(1, 0), (0, 1)]
    # a plan the check refuses is one line naming the field, as notify's
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps(feature({"type": "Point", "coordinates": [36.5, 32.7]}, kind="bombing", title="x",
                                      time_start="2017-07-11T04:00:00Z", time_end="2017-07-11T10:00:00Z")))  # fmt: skip
    refused = run("notify", str(bad), "--check", token=syria, url=url)
    assert refused.returncode != 0 and refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1 and "/kind" in refused.stderr


def test_a_patrol_every_day_is_notified_once_from_a_file(
    server: tuple[str, dict[str, str], str], tmp_path: Path
) -> None:
    url, tokens, _ = server
    russia = tokens["Russian Federation"]
    patrol = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [35.95, 33.0]},
              "properties": {"kind": "patrol", "title": "Military police patrol, Quneitra", "radius_m": 3000,
                             "time_start": "2017-07-10T06:00:00Z", "time_end": "2017-07-10T10:00:00Z",
                             "repeat_every_days": 1, "repeat_until": "2017-07-15T00:00:00Z"}}  # fmt: skip
    f = tmp_path / "patrol.geojson"
    f.write_text(json.dumps(patrol))
    r = run("notify", str(f), "--json", token=russia, url=url)
    assert r.returncode == 0, r.stderr
    (made,) = json.loads(r.stdout)
    assert [v["time_start"]["value"] for v in made["activity"]["volumes"]] == [
        f"2017-07-{d}T06:00:00Z" for d in range(10, 15)
    ]
    listed = run("activities", "list", token=russia, url=url)
    assert "Military police patrol, Quneitra" in listed.stdout and "5 volumes (every day, 5 times)" in listed.stdout
    # shown as the repeat it is, with its first occurrence, not five lines of volumes
    shown = run("activities", "show", made["activity"]["id"], token=russia, url=url)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[1].strip() == "every day, 5 times, from 2017-07-10T06:00:00Z to 2017-07-14T10:00:00Z; the first time:"
    assert lines[2:] == [
        "  volume 0: circle of 3000 m around 33.0000, 35.9500, 0–1000 m, 2017-07-10T06:00:00Z → 2017-07-10T10:00:00Z"]
    patrol["properties"]["repeat_until"] = "2017-12-31T00:00:00Z"
    f.write_text(json.dumps(patrol))
    refused = run("notify", str(f), token=russia, url=url)
    assert refused.returncode != 0 and len(refused.stderr.strip().splitlines()) == 1
    assert "/repeat/until" in refused.stderr and "more than the limit of 100" in refused.stderr


def test_evidence_attached_to_an_incident_and_fetched_back(
    server: tuple[str, dict[str, str], str], tmp_path: Path
) -> None:
    url, tokens, _ = server
    un = tokens["UN Ceasefire Monitoring Mission"]
    incident = json.loads(run("incidents", "list", "--json", token=un, url=url).stdout)[0]["id"]
    photo = tmp_path / "crater.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 64 + b"\xff\xd9")
    added = run("incidents", "evidence", "add", incident, str(photo), "--desc", "Crater by the market, 09:40",
                token=un, url=url)  # fmt: skip
    assert added.returncode == 0, added.stderr
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    said = " ".join(added.stdout.split())
    assert f"Crater by the market, 09:40 (image/jpeg, 16 kB), sha256 {digest}" in said
    evidence = said.split("attached evidence ")[1].split()[0]
    shown = " ".join(run("incidents", "show", incident, token=tokens["Jordan"], url=url).stdout.split())
    assert f"evidence {evidence}: Crater by the market, 09:40 (image/jpeg, 16 kB), " in shown
    assert f"sha256 {digest}" in shown
    back = tmp_path / "back.jpg"
    got = run("incidents", "evidence", "get", incident, evidence, "-o", str(back), token=tokens["Jordan"], url=url)
    assert got.returncode == 0, got.stderr
    assert back.read_bytes() == photo.read_bytes() and "matches" in got.stdout
    missing = run("incidents", "evidence", "add", incident, str(tmp_path / "none.jpg"), "--desc", "x", token=un,
                  url=url)  # fmt: skip
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1 and "none.jpg" in missing.stderr
    bad = run("incidents", "evidence", "add", incident, str(photo), "--desc", " ", token=un, url=url)
    assert bad.returncode == 1 and "/resourceDesc" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_errors_are_one_line(server: tuple[str, dict[str, str], str], tmp_path: Path) -> None:
    url, tokens, _ = server
    bad = run("activities", "list", token="nope", url=url)
    assert bad.returncode == 1 and bad.stderr.strip().count("\n") == 0 and "401" in bad.stderr
    f = tmp_path / "bad.geojson"
    f.write_text(
        json.dumps(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [36.45, 32.75]},
                "properties": {
                    "kind": "patrol",
                    "title": "x",
                    "radius_m": 1500,
                    "time_start": "2017-07-10T09:00:00Z",
                    "time_end": "2017-07-10T06:00:00Z",
                },
            }
        )
    )
    r = run("notify", str(f), token=tokens["Jordan"], url=url)
    assert r.returncode == 1 and "/volumes/0/time_end" in r.stderr and r.stderr.strip().count("\n") == 0
    f.write_text("{not json")
    r = run("notify", str(f), token=tokens["Jordan"], url=url)
    assert (r.returncode, r.stderr.count("\n")) == (1, 1)
    assert r.stderr.startswith(f"error: {f}: not valid JSON: ") and r.stderr.endswith(" at line 1 column 2\n")
    r = run("notify", str(tmp_path / "missing.geojson"), token=tokens["Jordan"], url=url)
    assert (r.returncode, r.stderr) == (1, f"error: {tmp_path / 'missing.geojson'}: no such file or directory\n")
    r = run("conflicts", "list", url=url)
    assert (r.returncode, r.stderr.count("\n")) == (1, 1) and "no token" in r.stderr
    down = run("zones", "list", token=tokens["Jordan"], url="http://127.0.0.1:9")
    *tries, last = down.stderr.splitlines()
    assert down.returncode == 1 and len(tries) == 3, down.stderr  # sent again after 0.5, 1 and 2 s
    assert all(t.startswith("no answer from the server (") and t.endswith("sending it again in " + w)
               for t, w in zip(tries, ("0.5 s", "1 s", "2 s"), strict=True))  # fmt: skip
    assert last.startswith("error: cannot reach http://127.0.0.1:9/v1/zones") and "TRUCELINE_URL" in last
    # a write is sent again with its key, and says so
    write = run("tokens", "issue", "Zarqa desk", token=tokens["Jordan"], url="http://127.0.0.1:9")
    assert write.returncode == 1 and write.stderr.count("(with its Idempotency-Key: it is not done twice)") == 3


def test_party_and_db_commands(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    up = run("db", "upgrade", "--db", db)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert up.returncode == 0 and f"revision {head}" in up.stdout
    r = run("party", "add", "UNDOF", "--role", "monitor", "--db", db, "--json")
    assert r.returncode == 0, r.stderr
    made = json.loads(r.stdout)
    assert made["token"].startswith("tl_") and made["role"] == "monitor"
    dup = run("party", "add", "UNDOF", "--db", db)
    assert dup.returncode == 1 and "already exists" in dup.stderr
    wrong = run("party", "add", "X", "--role", "king", "--db", db)
    assert wrong.returncode == 1 and "/role" in wrong.stderr
    listed = json.loads(run("party", "list", "--db", db, "--json").stdout)
    assert [p["name"] for p in listed] == ["UNDOF"] and "token" not in listed[0]
    # a leaked token: the operator revokes every token of the party and hands out one new one
    rotated = run("party", "rotate", "UNDOF", "--db", db, "--json")
    assert rotated.returncode == 0, rotated.stderr
    fresh = json.loads(rotated.stdout)["token"]
    store = make_engine(db)
    with pytest.raises(NotAuthenticated, match="revoked"):
        parties.authenticate(SqlUnitOfWork(store), made["token"])
    assert parties.authenticate(SqlUnitOfWork(store), fresh).name == "UNDOF"
    store.dispose()
    assert "no party named 'Atlantis'" in run("party", "rotate", "Atlantis", "--db", db).stderr
    # back up, restore into a new store, verify; a restore onto a store in use is one line and changes nothing
    saved = run("db", "backup", str(tmp_path / "p.backup"), "--db", db)
    assert saved.returncode == 0 and "rows from" in saved.stdout, saved.stderr
    other = f"sqlite:///{tmp_path / 'q.db'}"
    back = run("db", "restore", str(tmp_path / "p.backup"), "--db", other)
    assert back.returncode == 0 and "restored" in back.stdout, back.stderr
    assert [p["name"] for p in json.loads(run("party", "list", "--db", other, "--json").stdout)] == ["UNDOF"]
    assert run("audit", "verify", "--db", other).returncode == 0
    again = run("db", "restore", str(tmp_path / "p.backup"), "--db", db)
    assert again.returncode == 1 and again.stderr.count("\n") == 1 and "not empty" in again.stderr
    missing = run("db", "restore", str(tmp_path / "nothing.backup"), "--db", f"sqlite:///{tmp_path / 'r.db'}")
    assert missing.returncode == 1 and "nothing.backup" in missing.stderr


def test_negotiation_commands(server: tuple[str, dict[str, str], str], tmp_path: Path) -> None:
    url, tokens, _ = server
    israel = {"Authorization": f"Bearer {tokens['Israel']}"}
    before = httpx.get(f"{url}/v1/inbox/summary", headers=israel).json()["last_event_id"]
    f = tmp_path / "zone.geojson"
    f.write_text(
        json.dumps(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [35.9, 32.7]},
                "properties": {
                    "name": "Yarmouk valley buffer",
                    "kind": "buffer",
                    "radius_m": 3000,
                    "forbidden_kinds": ["fires"],
                },
            }
        )
    )
    made = run(
        "zones",
        "propose",
        str(f),
        "--signatory",
        "Jordan",
        "--signatory",
        "Israel",
        "--rationale",
        "draft",
        "--json",
        token=tokens["Jordan"],
        url=url,
    )
    assert made.returncode == 0, made.stderr
    assert made.stderr.startswith("receipt: seq=")
    zid = json.loads(made.stdout)[0]["id"]
    f.write_text(
        json.dumps(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [35.9, 32.7]},
                "properties": {"radius_m": 4000},
            }
        )
    )
    rev = run(
        "zones",
        "revise",
        zid,
        "--file",
        str(f),
        "--rationale",
        "wider",
        "--revision",
        "1",
        "--json",
        token=tokens["Israel"],
        url=url,
    )
    assert rev.returncode == 0, rev.stderr
    assert json.loads(rev.stdout)["revision"] == 2
    # the new revision waits for both signatories, and for nobody else
    waiting = run("zones", "awaiting", "--json", token=tokens["Israel"], url=url)
    assert {"id": zid, "name": "Yarmouk valley buffer", "kind": "buffer", "status": "negotiating", "revision": 2,
            "signature": "in_principle"} in json.loads(waiting.stdout)  # fmt: skip
    assert zid in run("zones", "awaiting", token=tokens["Jordan"], url=url).stdout
    assert zid not in run("zones", "awaiting", "--json", token=tokens["Kazakhstan"], url=url).stdout
    diff = run("zones", "diff", zid, "1", "2", token=tokens["Jordan"], url=url)
    assert diff.returncode == 0 and "km² added" in diff.stdout
    stale = run("zones", "sign", zid, "--revision", "1", "--strength", "final", token=tokens["Jordan"], url=url)
    assert stale.returncode == 1 and "not current" in stale.stderr
    for who in ("Jordan", "Israel"):
        ok = run("zones", "sign", zid, "--revision", "2", "--strength", "final", token=tokens[who], url=url)
        assert ok.returncode == 0, ok.stderr
    assert "zone is in_force" in ok.stdout
    assert zid not in run("zones", "awaiting", "--json", token=tokens["Jordan"], url=url).stdout
    ask = run("responsibilities", "request", zid, "Kazakhstan", "monitor", token=tokens["Jordan"], url=url)
    assert ask.returncode == 0 and "requested" in ask.stdout
    rid = ask.stdout.strip().split("id ")[-1].rstrip(")")
    no = run(
        "responsibilities", "decline", zid, rid, "--statement", "not our troops", token=tokens["Kazakhstan"], url=url
    )
    assert no.returncode == 0 and "declined" in no.stdout
    page = run("zones", "negotiation", zid, token=tokens["Kazakhstan"], url=url)
    assert "revision 2" in page.stdout and "wider" in page.stdout and "monitor: Kazakhstan (declined)" in page.stdout
    obj = run("zones", "object", zid, "--revision", "2", "--statement", "x", token=tokens["Jordan"], url=url)
    assert obj.returncode == 1 and "negotiation is over" in obj.stderr
    # a signatory suspends it, with the reason kept in the audit log, and lapses it
    why = "ceasefire broken at Ramtha"
    sus = run("zones", "status", zid, "suspended", "--rationale", why, token=tokens["Israel"], url=url)
    assert sus.returncode == 0 and "zone is suspended" in sus.stdout
    audit = httpx.get(f"{url}/v1/audit", params={"limit": 5000}, headers=israel)
    assert [e["payload"].get("rationale") for e in audit.json() if e["action"] == "zone.status"
            and e["entity_id"] == zid and e["payload"]["to"] == "suspended"] == [why]  # fmt: skip
    gone = run("zones", "status", zid, "lapsed", token=tokens["Jordan"], url=url)
    assert gone.returncode == 0 and "zone is lapsed" in gone.stdout
    # Israel, a signatory, heard each step on its feed; `watch` tells them in a sentence each.
    history = httpx.get(f"{url}/v1/events/history", params={"after": before}, headers=israel).json()
    last = max(i for i, e in enumerate(history) if e["type"] == "zone.status" and e["data"]["zone"]["id"] == zid)
    watched = run("watch", "--after", str(before), "--count", str(last + 1), token=tokens["Israel"], url=url)
    assert watched.returncode == 0, watched.stderr
    said = [x.split(None, 2)[1:] for x in watched.stdout.splitlines() if x.startswith("#") and "Yarmouk" in x]
    assert said[0] == ["zone.proposed",
                       "Jordan proposed the zone 'Yarmouk valley buffer' (signatories: Jordan, Israel): draft"]
    assert ["zone.responsibility_declined",
            "Kazakhstan declined to monitor 'Yarmouk valley buffer': not our troops"] in said
    assert said[-1] == ["zone.status", "Jordan made 'Yarmouk valley buffer' lapsed"]
    # the same events for scripts: a JSON object a line, as the feed has them
    scripted = run("watch", "--after", str(before), "--count", str(last + 1), "--json", token=tokens["Israel"], url=url)
    events = [json.loads(line) for line in scripted.stdout.splitlines()]
    assert [e["id"] for e in events] == [e["id"] for e in history[: last + 1]]
    proposed = next(e for e in events if e["type"] == "zone.proposed" and e["data"]["zone"]["id"] == zid)
    assert proposed["data"]["summary"] == said[0][1] and proposed["data"]["by"]["name"] == "Jordan"


def test_geojson_exports_edited_and_sent_back(server: tuple[str, dict[str, str], str], tmp_path: Path) -> None:
    """Zones, activities and conflicts out as GeoJSON files; an edited boundary back in as a revision
    of the revision it was exported at, refused once someone else has revised the zone."""
    url, tokens, _ = server
    sar, turkey = tokens["Syrian Arab Republic"], tokens["Turkey"]
    draft = tmp_path / "draft.geojson"
    draft.write_text(json.dumps({
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[[36.9, 36.0], [37.1, 36.0], [37.1, 36.2], [36.9, 36.0]]]},
        "properties": {"name": "Afrin buffer (draft)", "kind": "buffer", "forbidden_kinds": ["fires"]},
    }))  # fmt: skip
    made = run("zones", "propose", str(draft), "--signatory", "Turkey", "--signatory", "Russian Federation",
               "--json", token=turkey, url=url)  # fmt: skip
    assert made.returncode == 0, made.stderr
    zid = json.loads(made.stdout)[0]["id"]

    every = tmp_path / "zones.geojson"
    r = run("zones", "export", "--out", str(every), token=sar, url=url)
    assert r.returncode == 0 and f"wrote {every}" in r.stderr, r.stderr
    names = {f["properties"]["name"] for f in json.loads(every.read_text())["features"]}
    assert {"Afrin buffer (draft)", "Al-Tanf deconfliction area (55 km)", "Nasib border crossing"} <= names
    r = run("zones", "export", "--status", "proposed", token=sar, url=url)  # to standard output
    assert r.returncode == 0, r.stderr
    (feature,) = (f for f in json.loads(r.stdout)["features"] if f["id"] == zid)
    feature["geometry"]["coordinates"][0][2] = [37.2, 36.3]  # moved in a GIS
    edited = tmp_path / "edited.geojson"
    edited.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    rev = run("zones", "revise", zid, "--file", str(edited), "--rationale", "Tal Rifaat side", "--json",
              token=turkey, url=url)  # fmt: skip
    assert rev.returncode == 0, rev.stderr
    assert json.loads(rev.stdout)["revision"] == 2
    assert re.fullmatch(r"receipt: seq=\d+; hash=[0-9a-f]{64}\n", rev.stderr)  # one line, whatever the width
    again = run("zones", "revise", zid, "--file", str(edited), "--rationale", "again", token=turkey, url=url)
    assert again.returncode == 1
    assert again.stderr == "error: Conflict with current state (409): the zone is at revision 2, not 1\n"
    # the whole export, one zone edited in it, revises that zone
    run("zones", "export", "--out", str(every), token=sar, url=url)
    whole = json.loads(every.read_text())
    mine = next(f for f in whole["features"] if f["id"] == zid)
    mine["properties"]["standoff_m"] = 250
    every.write_text(json.dumps(whole))
    third = run("zones", "revise", zid, "--file", str(every), "--rationale", "wider", "--json", token=turkey, url=url)
    assert third.returncode == 0, third.stderr
    assert (json.loads(third.stdout)["revision"], json.loads(third.stdout)["standoff_m"]) == (3, 250)
    nobody = "00000000-0000-7000-8000-000000000000"
    other = run("zones", "revise", nobody, "--file", str(every), "--rationale", "x", token=turkey, url=url)
    assert other.returncode == 1 and len(other.stderr.splitlines()) == 1
    assert f"the file holds {len(whole['features'])} features and none is zone {nobody}" in other.stderr
    unnamed = run("zones", "revise", "no-such-zone", "--file", str(every), "--rationale", "x", token=turkey, url=url)
    assert unnamed.returncode == 1
    assert unnamed.stderr == "error: no zone named 'no-such-zone'; see `truceline zones list`\n"

    plans = tmp_path / "plans.geojson"
    r = run("activities", "export", "-o", str(plans), token=sar, url=url)
    assert r.returncode == 0, r.stderr
    features = json.loads(plans.read_text())["features"]
    assert "5th Armoured Division offensive on rebel positions in Al-Suweida province" in {
        f["properties"]["title"] for f in features
    }
    assert all(f["properties"]["altitude_upper_m"] >= f["properties"]["altitude_lower_m"] for f in features)
    conflicts = run("conflicts", "export", token=sar, url=url)
    assert conflicts.returncode == 0, conflicts.stderr
    regions = [f["properties"] for f in json.loads(conflicts.stdout)["features"]]
    assert any(p["rule"] == "zone_rule" and p["zone"].startswith("Southwest") for p in regions)
    # an activity out to a file, its window moved, back in as the next version of the one exported
    plan = tmp_path / "plan.geojson"
    plan.write_text(json.dumps({"type": "Feature", "geometry": {"type": "Point", "coordinates": [36.45, 32.75]},
                                "properties": {"kind": "patrol", "title": "Turkish observers", "radius_m": 800,
                                               "time_start": "2017-07-10T06:00:00Z",
                                               "time_end": "2017-07-10T08:00:00Z"}}))  # fmt: skip
    notified = run("notify", str(plan), "--json", token=turkey, url=url)
    assert notified.returncode == 0, notified.stderr
    aid = json.loads(notified.stdout)[0]["activity"]["id"]
    mine = tmp_path / "mine.geojson"
    assert run("activities", "export", "-o", str(mine), token=turkey, url=url).returncode == 0
    doc = json.loads(mine.read_text())
    for f in doc["features"]:
        if f["properties"]["activity"] == aid:
            f["properties"]["time_end"] = "2017-07-10T11:00:00Z"
    mine.write_text(json.dumps(doc))
    moved = run("activities", "update", aid, "--file", str(mine), token=turkey, url=url)
    assert moved.returncode == 0, moved.stderr
    assert f"updated patrol 'Turkish observers' id {aid} version 2" in moved.stdout
    assert "2017-07-10T06:00:00Z → 2017-07-10T11:00:00Z" in moved.stdout and "circle of 800 m" in moved.stdout
    stale = run("activities", "update", aid, "--file", str(mine), token=turkey, url=url)
    assert stale.returncode == 1 and len(stale.stderr.splitlines()) == 1 and "version" in stale.stderr
    shown = run("activities", "show", aid, token=turkey, url=url)
    assert shown.returncode == 0 and "version 2 (active)" in shown.stdout and "open conflict(s)" in shown.stdout
    (first,) = json.loads(run("conflicts", "list", "--json", token=turkey, url=url).stdout)[:1]
    one = run("conflicts", "show", first["id"], token=turkey, url=url)
    assert one.returncode == 0 and first["reason"] in one.stdout and "where: Polygon" in one.stdout
    # what was said about it on the hotline, and the thread where it is settled
    said = httpx.get(f"{url}/v1/conflicts/{first['id']}/messages", headers={"Authorization": f"Bearer {turkey}"})
    assert said.status_code == 200 and said.json(), said.text
    assert f"Alert from Truceline: {said.json()[0]['headline']}" in one.stdout
    assert f"  thread: {said.json()[-1]['thread_id']}" in one.stdout
    assert run("conflicts", "show", "no-such-conflict", token=turkey, url=url).stderr.startswith("error: Not found")

    morning = run("conflicts", "list", "--json", "--from", "2017-07-10T06:00:00Z", "--to", "2017-07-10T07:00:00Z",
                  token=sar, url=url)  # fmt: skip
    assert morning.returncode == 0, morning.stderr
    assert "zone_rule" in {x["rule"] for x in json.loads(morning.stdout)}
    later = run("conflicts", "list", "--json", "--from", "2017-08-01T00:00:00Z", "--to", "2017-09-01T00:00:00Z",
                token=sar, url=url)  # live track alerts happen now, not in 2017  # fmt: skip
    assert later.returncode == 0 and json.loads(later.stdout) == []
    bad = run("conflicts", "list", "--from", "tomorrow", token=sar, url=url)
    assert bad.returncode == 1 and "time_start" in bad.stderr and len(bad.stderr.splitlines()) == 1
    bad = run("zones", "export", "--bbox", "1,2", token=sar, url=url)
    assert bad.returncode == 1 and "bbox" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_audit_receipts_proofs_and_verify(server: tuple[str, dict[str, str], str], tmp_path: Path) -> None:
    url, tokens, db = server
    f = tmp_path / "plan.geojson"
    f.write_text(
        json.dumps(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [37.0, 34.0]},
                "properties": {
                    "kind": "patrol",
                    "title": "receipt check",
                    "radius_m": 500,
                    "time_start": "2017-07-20T06:00:00Z",
                    "time_end": "2017-07-20T09:00:00Z",
                },
            }
        )
    )
    r = run("notify", str(f), token=tokens["Turkey"], url=url)
    receipt = r.stderr.strip().removeprefix("receipt: ")
    assert receipt.startswith("seq=")
    proof = tmp_path / "proof.json"
    assert (
        run("audit", "proof", "--receipt", receipt, "--out", str(proof), token=tokens["Turkey"], url=url).returncode
        == 0
    )
    ok = run("audit", "check-receipt", "--receipt", receipt, "--proof", str(proof))  # offline: no url, no token
    assert ok.returncode == 0, ok.stderr
    head = json.loads(proof.read_text())["head"]
    pinned = run(
        "audit", "check-receipt", "--receipt", receipt, "--proof", str(proof), "--public-key", head["public_key"]
    )
    assert pinned.returncode == 0 and "pass --public-key" not in pinned.stdout
    seq = int(receipt.split(";")[0].split("=")[1])
    forged = receipt.replace(receipt.split("hash=")[1], "0" * 64)
    bad = run("audit", "check-receipt", "--receipt", forged, "--proof", str(proof))
    assert bad.returncode == 1 and "not proven" in bad.stderr
    data = json.loads(proof.read_text())
    data["head"]["hash"] = "1" * 64
    proof.write_text(json.dumps(data))
    assert (
        "signature does not verify" in run("audit", "check-receipt", "--receipt", receipt, "--proof", str(proof)).stderr
    )
    intact = run("audit", "verify", "--db", db)
    assert intact.returncode == 0 and "intact" in intact.stdout
    import sqlite3

    path = db.removeprefix("sqlite:///")
    with sqlite3.connect(path) as c:
        (original,) = c.execute("SELECT entity_id FROM audit_log WHERE seq = ?", (seq,)).fetchone()
        c.execute("UPDATE audit_log SET entity_id = 'someone-else' WHERE seq = ?", (seq,))
    broken = run("audit", "verify", "--db", db)
    assert broken.returncode == 1 and f"entry {seq}" in broken.stderr and "modified" in broken.stderr
    with sqlite3.connect(path) as c:  # put it back for the tests that follow
        c.execute("UPDATE audit_log SET entity_id = ? WHERE seq = ?", (original, seq))
    assert run("audit", "verify", "--db", db).returncode == 0


def test_keys_generate_and_signed_cli_writes(server: tuple[str, dict[str, str], str], tmp_path: Path) -> None:
    url, tokens, _ = server
    key = tmp_path / "israel.pem"
    gen = run("keys", "generate", "--out", str(key))
    assert gen.returncode == 0 and len(gen.stdout.strip()) == 44
    assert run("keys", "register", str(key), token=tokens["Israel"], url=url).returncode == 0
    f = tmp_path / "plan.geojson"
    f.write_text(
        json.dumps(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [35.7, 33.2]},
                "properties": {
                    "kind": "air",
                    "title": "signed sortie",
                    "radius_m": 500,
                    "time_start": "2017-07-21T06:00:00Z",
                    "time_end": "2017-07-21T07:00:00Z",
                },
            }
        )
    )
    unsigned = run("notify", str(f), token=tokens["Israel"], url=url)
    assert unsigned.returncode == 1 and "sign" in unsigned.stderr
    env = {
        **os.environ,
        "COLUMNS": "200",
        "TRUCELINE_TOKEN": tokens["Israel"],
        "TRUCELINE_URL": url,
        "TRUCELINE_SIGNING_KEY": str(key),
    }
    signed = subprocess.run([str(BIN), "notify", str(f)], capture_output=True, text=True, env=env, timeout=120)
    assert signed.returncode == 0, signed.stderr
    # Israel's alerting system posts a CAP alert in a thread: signed too (by the XML's digest)
    israel = {"Authorization": f"Bearer {tokens['Israel']}"}
    jordan = httpx.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {tokens['Jordan']}"}).json()
    th = subprocess.run([str(BIN), "send", "Drone sortie over Quneitra at 06:00", "--to", "Jordan", "--json"],
                        capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert th.returncode == 0, th.stderr
    thread_id = json.loads(th.stdout)["thread_id"]
    alert = tmp_path / "alert.xml"
    alert.write_text(
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>IL-1</identifier><sender>il</sender>'
        "<sent>2017-07-21T05:00:00+03:00</sent><status>Actual</status><msgType>Alert</msgType><scope>Private</scope>"
        f"<addresses>urn:truceline:party:{jordan['id']}</addresses><info><category>Security</category>"
        "<event>Sortie</event><urgency>Expected</urgency><severity>Moderate</severity><certainty>Likely</certainty>"
        "<headline>Sortie moved to 07:00</headline></info></alert>"
    )
    posted = subprocess.run([str(BIN), "cap-send", str(alert), "--thread", thread_id],
                            capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert posted.returncode == 0 and "to acknowledge: Jordan" in posted.stdout, posted.stderr
    unsigned_cap = run("cap-send", str(alert), "--thread", thread_id, token=tokens["Israel"], url=url)
    assert unsigned_cap.returncode == 1 and "sign" in unsigned_cap.stderr
    said = httpx.get(f"{url}/v1/threads/{thread_id}", headers=israel).json()["messages"]
    assert [m["headline"] for m in said] == ["Drone sortie over Quneitra at 06:00", "Sortie moved to 07:00"]
    # evidence, signed by its digest: the audit log keeps the signature and not the file
    from tests.helpers import incident_body

    incident = httpx.post(f"{url}/v1/incidents", headers={"Authorization": f"Bearer {tokens['Jordan']}"},
                          json=incident_body(event_date="2017-07-21")).json()  # fmt: skip
    photo = tmp_path / "sortie.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 100 + b"\xff\xd9")
    added = subprocess.run([str(BIN), "incidents", "evidence", "add", incident["id"], str(photo), "--desc", "Photo"],
                           capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert added.returncode == 0, added.stderr
    (entry,) = [e for e in httpx.get(f"{url}/v1/audit", headers=israel, params={"entity_id": incident["id"]}).json()
                if e["action"] == "incident.evidence_added"]  # fmt: skip
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    assert entry["payload"]["signed"]["body"]["derefUri"] == {"sha256": digest}


def test_hotline_from_the_cli(server: tuple[str, dict[str, str], str], tmp_path: Path) -> None:
    url, tokens, _ = server
    us, jordan = tokens["United States"], tokens["Jordan"]
    summary = httpx.get(f"{url}/v1/inbox/summary", headers={"Authorization": f"Bearer {jordan}"}).json()
    sent = run("send", "Convoy crossing Nasib at 06:00", "--to", "united states", "--severity", "Severe",
               "--ack-within", "600", "--json", token=jordan, url=url)
    assert sent.returncode == 0, sent.stderr
    m = json.loads(sent.stdout)
    assert [a["party"]["name"] for a in m["addresses"]] == ["United States"]
    inbox = run("inbox", "--json", token=us, url=url)
    assert m["id"] in [x["id"] for x in json.loads(inbox.stdout)]
    human = run("inbox", token=us, url=url)
    assert "Convoy crossing Nasib" in human.stdout and "unacknowledged:" in human.stdout
    wrong = run("ack", m["id"], token=jordan, url=url)
    assert wrong.returncode == 1 and "403" in wrong.stderr and wrong.stderr.strip().count("\n") == 0
    ok = run("ack", m["id"], "--note", "seen, will hold fire", token=us, url=url)
    assert ok.returncode == 0 and f"acknowledged {m['id']}" in ok.stdout
    twice = run("ack", m["id"], token=us, url=url)
    assert twice.returncode == 1 and "409" in twice.stderr
    reply = run("send", "Roger, corridor clear", "--thread", m["thread_id"], "--type", "Update", "--ref", m["id"],
                token=us, url=url)
    assert reply.returncode == 0 and "to acknowledge: Jordan" in reply.stdout
    # Jordan's feed since before it sent: its message, the ack, and the reply, in order. The demo's own
    # history may interleave (its 2017 Alerts fall overdue step by step once the server runs), so the
    # events of this thread are told apart by their ids.
    history = httpx.get(f"{url}/v1/events/history", params={"after": summary["last_event_id"]},
                        headers={"Authorization": f"Bearer {jordan}"}).json()

    def thread_of(ev: dict[str, object]) -> object:
        data = ev["data"]
        assert isinstance(data, dict)
        return data.get("thread_id") or data.get("message", {}).get("thread_id")  # zone news has neither

    ours = [e["id"] for e in history if thread_of(e) == m["thread_id"]]
    upto = next(i for i, e in enumerate(history) if e["id"] == ours[2]) + 1
    watched = run("watch", "--after", str(summary["last_event_id"]), "--count", str(upto), token=jordan, url=url)
    assert watched.returncode == 0, watched.stderr
    lines = [x for x in watched.stdout.splitlines() if x.startswith("#")]
    assert [int(x.split()[0][1:]) for x in lines] == [e["id"] for e in history[:upto]]
    ours_seen = [x.split()[1] for x in lines if int(x.split()[0][1:]) in ours]
    assert ours_seen == ["message", "message.acknowledged", "message"]
    assert "acknowledged by United States" in watched.stdout and "overdue:" in watched.stdout
    shown = run("threads", "show", m["thread_id"], token=us, url=url)
    assert "Ack" in shown.stdout and "Jordan: awaiting" in shown.stdout
    bad = run("send", "x", "--to", "Atlantis", token=jordan, url=url)
    assert bad.returncode == 1 and "no party named 'Atlantis'" in bad.stderr
    # the message as a CAP 1.2 alert, for an alerting system: to standard output or a file
    xml = run("cap", m["id"], token=us, url=url)
    assert xml.returncode == 0 and xml.stdout.startswith("<?xml")
    assert f"<identifier>{m['id']}</identifier>" in xml.stdout
    cap_schema().validate(xml.stdout)
    saved = tmp_path / "alert.xml"
    assert run("cap", m["id"], "--out", str(saved), token=jordan, url=url).returncode == 0
    assert saved.read_text() == xml.stdout
    outsider = run("cap", m["id"], token=tokens["Israel"], url=url)
    assert outsider.returncode == 1 and "404" in outsider.stderr and outsider.stderr.strip().count("\n") == 0


def test_tokens_from_the_cli(server: tuple[str, dict[str, str], str]) -> None:
    """An officer gets a token of its own, uses it, and loses it alone."""
    url, tokens, _ = server
    made = run("tokens", "issue", "Amman desk", "--expires", "2099-01-01T00:00:00Z", "--json",
               token=tokens["Jordan"], url=url)  # fmt: skip
    assert made.returncode == 0, made.stderr
    desk = json.loads(made.stdout)
    assert run("conflicts", "list", "--json", token=desk["token"], url=url).returncode == 0
    listed = run("tokens", "list", token=tokens["Jordan"], url=url)
    assert "Amman desk" in listed.stdout and desk["token"] not in listed.stdout
    assert desk["id"] in listed.stdout and "active until 2099-01-01T00:00:00Z" in listed.stdout  # whole, to revoke by
    assert re.search(r"(first token|rotated \S+)\s+.\s+active \(this one\)", listed.stdout), listed.stdout
    assert re.search(r"last used 20\S+Z from 127\.0\.0\.1", listed.stdout), listed.stdout
    gone = run("tokens", "revoke", desk["id"], token=tokens["Jordan"], url=url)
    assert gone.returncode == 0 and "revoked 'Amman desk'" in gone.stdout
    refused = run("conflicts", "list", token=desk["token"], url=url)
    assert refused.returncode == 1 and "was revoked" in refused.stderr and refused.stderr.strip().count("\n") == 0
    # the desk's laptop is lost, and someone tries its token: the party sees it, on 80 columns too
    narrow = {**os.environ, "COLUMNS": "80", "TRUCELINE_TOKEN": tokens["Jordan"], "TRUCELINE_URL": url}
    tried = subprocess.run([str(BIN), "tokens", "list"], env=narrow, capture_output=True, text=True, timeout=120)
    assert "TRIED AFTER ITS REVOCATION" in tried.stdout and desk["id"] in tried.stdout, tried.stdout
    assert run("conflicts", "list", token=tokens["Jordan"], url=url).returncode == 0  # the party's other token
    others = run("tokens", "list", "--party", "x", token=tokens["Jordan"], url=url)
    assert others.returncode == 1 and "403" in others.stderr


def test_the_audit_log_from_the_cli(server: tuple[str, dict[str, str], str]) -> None:
    """Who did what: a desk's token sends a message; Jordan reads what that token did, whole ids on
    an 80-column terminal; Russia's zone steps; what no one else may ask."""
    url, tokens, _ = server
    jordan = tokens["Jordan"]
    desk = json.loads(run("tokens", "issue", "Zarqa desk", "--json", token=jordan, url=url).stdout)
    sent = run("send", "Convoy held at Nasib", "--to", "Israel", "--json", token=desk["token"], url=url)
    assert sent.returncode == 0, sent.stderr
    did = json.loads(run("audit", "list", "--token-id", desk["id"], "--json", token=jordan, url=url).stdout)
    assert [(e["action"], e["token"]["label"]) for e in did] == [("thread.opened", "Zarqa desk"),
                                                                  ("message.sent", "Zarqa desk")]  # fmt: skip
    thread_id = did[0]["entity_id"]
    env = {**os.environ, "COLUMNS": "80", "TRUCELINE_TOKEN": jordan, "TRUCELINE_URL": url}
    narrow = subprocess.run(
        [str(BIN), "audit", "list", "--token-id", desk["id"]], capture_output=True, text=True, env=env
    )
    assert narrow.returncode == 0, narrow.stderr
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 80
    assert thread_id in narrow.stdout and "thread.opened" in narrow.stdout
    assert "Convoy held at Nasib" in narrow.stdout  # the message's headline: what a person knows it by
    assert "(Zarqa" in narrow.stdout and "desk)" in narrow.stdout  # the label may wrap
    # Israel sees the thread opened to it, by Jordan, not by which desk; nor may it ask
    israel = json.loads(run("audit", "list", "--party", "jordan", "--json", token=tokens["Israel"], url=url).stdout)
    assert thread_id in {e["entity_id"] for e in israel} and all(e["token"] is None for e in israel)
    asked = run("audit", "list", "--token-id", desk["id"], token=tokens["Israel"], url=url)
    assert asked.returncode == 1 and "404" in asked.stderr and asked.stderr.strip().count("\n") == 0
    # Russia's steps in the zones' negotiations, from the scenario
    steps = run("audit", "list", "--party", "Russian Federation", "--action", "zone.", "--last", "500", "--json",
                token=tokens["Kazakhstan"], url=url)  # fmt: skip
    actions = {e["action"] for e in json.loads(steps.stdout)}
    assert "zone.signed" in actions and all(a.startswith("zone.") for a in actions)
    # an overdue message escalated: whose copy, which step, who was told
    escalated = run("audit", "list", "--action", "message.escalated", "--last", "500", token=jordan, url=url)
    assert re.search(r"Jordan's copy overdue: step \d+, told", escalated.stdout), escalated.stdout
    unknown = run("audit", "list", "--party", "Atlantis", token=jordan, url=url)
    assert unknown.returncode == 1 and "no party named 'Atlantis'" in unknown.stderr


def test_listings_fit_80_columns_with_whole_ids(server: tuple[str, dict[str, str], str]) -> None:
    """Every listing a duty officer reads on a terminal keeps each item's whole id (to act on it by)
    and its words whole, within 80 columns. Time-ordered ids share their first half: an id cut to fit
    a column showed the same "01a25160-…" on every row."""
    url, tokens, _ = server
    syria = tokens["Syrian Arab Republic"]
    hook = run("webhooks", "add", "https://alerts.example.org/hook", "--json", token=syria, url=url)
    assert hook.returncode == 0, hook.stderr
    sw = next(z for z in json.loads(run("zones", "list", "--json", token=syria, url=url).stdout)
              if z["name"].startswith("Southwest"))  # fmt: skip
    listings = {
        ("zones", "list"): lambda items: [z["id"] for z in items],
        ("activities", "list"): lambda items: [a["id"] for a in items],
        ("inbox",): lambda items: [m["id"] for m in items],
        ("threads", "list"): lambda items: [t["id"] for t in items],
        ("webhooks", "list"): lambda items: [h["id"] for h in items],
        ("zones", "awaiting"): lambda items: [z["id"] for z in items],
        ("responsibilities", "list", sw["id"]): lambda items: [r["id"] for r in items],
    }
    env = {**os.environ, "COLUMNS": "80", "TRUCELINE_TOKEN": syria, "TRUCELINE_URL": url}
    for args, ids_of in listings.items():
        ids = ids_of(json.loads(run(*args, "--json", token=syria, url=url).stdout))
        assert ids, args  # the scenario gives each something to list
        shown = subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=120)
        assert shown.returncode == 0, (args, shown.stderr)
        assert max(len(line) for line in shown.stdout.splitlines()) <= 80, (args, shown.stdout)
        assert "…" not in shown.stdout, (args, shown.stdout)  # nothing cut short
        assert all(f"id {i}" in shown.stdout for i in ids), (args, shown.stdout)
        assert not FRACTION.search(shown.stdout), (args, shown.stdout)  # times to the second
    # a token's times, to the second too (the server keeps their milliseconds)
    made = run("tokens", "list", "--json", token=syria, url=url).stdout
    assert FRACTION.search(made)
    shown = subprocess.run([str(BIN), "tokens", "list"], capture_output=True, text=True, env=env, timeout=120)
    assert "issued 20" in shown.stdout and not FRACTION.search(shown.stdout), shown.stdout


def test_parties_agree_to_a_conflict_from_the_cli(server: tuple[str, dict[str, str], str], tmp_path: Path) -> None:
    """The opposition's and Turkey's plans meet; each says how it is handled; the conflict is coordinated, and
    the day's report says so. At 80 columns, whole."""
    url, tokens, _ = server  # parties with no signing key (another test gives Israel one)
    ids = []
    for who, kind in ((OPPOSITION, "patrol"), ("Turkey", "humanitarian_convoy")):
        plan = tmp_path / f"{who[:6]}.geojson"
        plan.write_text(json.dumps({"type": "Feature", "geometry": {"type": "Point", "coordinates": [41.2, 36.1]},
                                    "properties": {"kind": kind, "title": f"{who} plan", "radius_m": 2000,
                                                   "time_start": "2017-07-11T06:00:00Z",
                                                   "time_end": "2017-07-11T09:00:00Z",
                                                   "altitude_lower_m": 0, "altitude_upper_m": 100}}))  # fmt: skip
        made = run("notify", str(plan), "--json", token=tokens[who], url=url)
        assert made.returncode == 0, made.stderr
        ids.append(json.loads(made.stdout))
    (conflict,) = ids[1][0]["conflicts"]  # one result per Feature
    env = {**os.environ, "COLUMNS": "80", "TRUCELINE_URL": url}
    agree = lambda who, words: subprocess.run(  # noqa: E731
        [str(BIN), "conflicts", "agree", conflict["id"], "-m", words], capture_output=True, text=True,
        env={**env, "TRUCELINE_TOKEN": tokens[who]}, timeout=120,
    )  # fmt: skip
    first = agree(OPPOSITION, "Convoy passes after 08:00")
    assert first.returncode == 0, first.stderr
    assert f"agreed by {OPPOSITION}: Convoy passes after 08:00" in first.stdout
    assert "waiting for the agreement of: Turkey" in first.stdout and "coordinated" not in first.stdout
    both = agree("Turkey", "Holding until 08:00")
    assert both.returncode == 0 and f"open coordinated  id {conflict['id']}" in both.stdout, both.stdout
    assert max(len(line) for line in both.stdout.splitlines()) <= 80 and "waiting" not in both.stdout
    handled = run("conflicts", "list", "--coordinated", "--json", token=tokens["Turkey"], url=url)
    to_handle = run("conflicts", "list", "--to-handle", "--json", token=tokens["Turkey"], url=url)
    assert conflict["id"] in {x["id"] for x in json.loads(handled.stdout)}
    assert conflict["id"] not in {x["id"] for x in json.loads(to_handle.stdout)}
    # the day's report lists it as coordinated
    rep = run("sitrep", "--date", "2017-07-11", "--out", str(tmp_path / "rep"), token=tokens[OPPOSITION], url=url)
    assert rep.returncode == 0, rep.stderr
    assert "overlap, coordinated" in (tmp_path / "rep" / "sitrep-2017-07-11.html").read_text(encoding="utf-8")
    # a party it does not concern: one line
    other = run("conflicts", "agree", conflict["id"], "-m", "fine", token=tokens["Jordan"], url=url)
    assert other.returncode == 1 and other.stderr.count("\n") == 1 and "404" in other.stderr
    gone = run("conflicts", "withdraw", conflict["id"], "-m", "plans changed", token=tokens["Turkey"], url=url)
    assert gone.returncode == 0 and "waiting for the agreement of: Turkey" in gone.stdout


def test_zones_and_activities_are_named_by_their_id_or_their_words(
    server: tuple[str, dict[str, str], str], tmp_path: Path
) -> None:
    url, tokens, _ = server
    jordan = tokens["Jordan"]
    zones = json.loads(run("zones", "list", "--json", token=jordan, url=url).stdout)
    nasib = next(z["id"] for z in zones if z["name"] == "Nasib border crossing")
    for ref in ("Nasib border crossing", "nasib", "  NASIB ", "border cross", nasib):
        shown = run("zones", "show", ref, "--json", token=jordan, url=url)
        assert shown.returncode == 0 and json.loads(shown.stdout)["id"] == nasib, (ref, shown.stderr)
    both = run("zones", "show", "de-escalation", token=jordan, url=url)
    assert both.returncode == 1 and "'de-escalation' names 4 zones" in both.stderr, both.stderr
    assert "Idlib de-escalation zone (" in both.stderr and both.stderr.strip().count("\n") == 0
    unknown = run("zones", "negotiation", "Atlantis", token=jordan, url=url)
    assert unknown.returncode == 1 and "no zone named 'Atlantis'" in unknown.stderr
    timeline = run("ceasefire", "southwest", "--from", "2017-07-10", "--to", "2017-07-10", "--json",
                   token=jordan, url=url)  # fmt: skip
    assert json.loads(timeline.stdout)["zone"]["name"].startswith("Southwest")
    # one of your activities, by its title
    plan = tmp_path / "plan.geojson"
    plan.write_text(json.dumps({"type": "Feature", "geometry": {"type": "Point", "coordinates": [36.2, 32.55]},
                                "properties": {"kind": "patrol", "title": "Ramtha road patrol", "radius_m": 500,
                                               "time_start": "2017-07-21T06:00:00Z", "time_end": "2017-07-21T08:00:00Z",
                                               "altitude_lower_m": 0, "altitude_upper_m": 50}}))  # fmt: skip
    assert run("notify", str(plan), token=jordan, url=url).returncode == 0
    shown = run("activities", "show", "ramtha ROAD", "--json", token=jordan, url=url)
    assert shown.returncode == 0 and json.loads(shown.stdout)["activity"]["title"] == "Ramtha road patrol"
    gone = run("activities", "cancel", "Ramtha", token=jordan, url=url)
    assert gone.returncode == 0 and gone.stdout.startswith("cancelled "), gone.stderr
    again = run("activities", "cancel", "Ramtha", token=jordan, url=url)  # only active ones are cancelled
    assert again.returncode == 1
    assert again.stderr == "error: no activity titled 'Ramtha'; see `truceline activities list`\n"
    # a hotline thread, by words of its subject
    threads = json.loads(run("threads", "list", "--json", token=jordan, url=url).stdout)
    assert len(threads) >= 2
    listed = run("threads", "list", token=jordan, url=url).stdout  # each with its latest message
    last = threads[0]["last_message"]
    assert f"last: {last['msgType']} from {last['sender']['name']}: {last['headline'][:40]}" in listed
    subject = threads[0]["subject"]
    shown = run("threads", "show", subject.upper(), "--json", token=jordan, url=url)
    assert shown.returncode == 0 and json.loads(shown.stdout)["thread"]["id"] == threads[0]["id"], shown.stderr
    many = run("threads", "show", "deconfliction", token=jordan, url=url)
    assert many.returncode == 1 and "'deconfliction' names" in many.stderr and " threads: " in many.stderr
    none = run("send", "hello", "--thread", "Atlantis", token=jordan, url=url)
    assert none.returncode == 1 and none.stderr == "error: no thread about 'Atlantis'; see `truceline threads list`\n"
    me = run("me", token=jordan, url=url)
    assert me.returncode == 0 and me.stdout.startswith("Jordan (officer), token 'first token'"), me.stdout


def test_tracks_from_the_cli(server: tuple[str, dict[str, str], str], tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    url, tokens, _ = server
    now = datetime.now(UTC)

    def rep(track: str, t: datetime, lat: float = 32.0, **kw: object) -> str:
        return json.dumps({"track_id": track, "time": t.isoformat().replace("+00:00", "Z"), "lat": lat, "lon": 36.0,
                           "altitude_m": 1000, "ground_speed_mps": 50, "track_deg": 0, **kw})

    f = tmp_path / "tracks.ndjson"
    f.write_text("\n".join([rep("j1", now), rep("j2", now, lat=95.0), rep("j3", now)]) + "\n")
    sent = run("tracks", "send", str(f), token=tokens["Jordan"], url=url)
    assert sent.returncode == 0, sent.stderr
    assert "2 accepted, 1 refused" in sent.stdout and f"{f}:line 2: /lat" in sent.stderr
    # a recording replayed at 20x: three reports a second apart go out in about 0.1 s, re-stamped to now
    old = datetime(2017, 7, 10, 6, tzinfo=UTC)
    rec = tmp_path / "rec.ndjson"
    rec.write_text("\n".join(rep("r1", old + timedelta(seconds=s), lat=32.0 + s / 100) for s in range(3)) + "\n")
    replayed = run("tracks", "replay", str(rec), "--speed", "20", token=tokens["Jordan"], url=url)
    assert replayed.returncode == 0 and "replayed 3 reports at 20x: 3 accepted" in replayed.stdout
    for _ in range(50):  # the picture is refreshed by the next detection cycle (every second)
        seen = httpx.get(f"{url}/v1/tracks", headers={"Authorization": f"Bearer {tokens['Jordan']}"}).json()
        if any(t["track_id"] == "r1" for t in seen["tracks"]):
            break
        time.sleep(0.1)
    r1 = next(t for t in seen["tracks"] if t["track_id"] == "r1")
    assert r1["time"] > now.isoformat()[:19]  # re-stamped: live, not 2017
    # the demo replays the scenario's traffic: the US sees the predicted loss of separation with Russia
    for _ in range(100):
        alerts = run("alerts", "--json", token=tokens["United States"], url=url)
        found = json.loads(alerts.stdout)["alerts"] if alerts.returncode == 0 else []
        if any(a["rule"] == "separation" for a in found):
            break
        time.sleep(0.2)
    sep = next(a for a in found if a["rule"] == "separation")
    assert {t["callsign"] for t in sep["tracks"]} == {"USAF21", "RFAF07"}
    human = run("alerts", token=tokens["United States"], url=url)
    assert "USAF21" in human.stdout and "separation" in human.stdout
    # its conflict names the two tracks it is between
    listed = run("conflicts", "list", token=tokens["United States"], url=url)
    sides = {"United States (air track USAF21)", "Russian Federation (air track RFAF07)"}
    assert any(set(line.strip().split(", ")) == sides for line in listed.stdout.splitlines()), listed.stdout


def test_ceasefire_monitoring_from_the_cli(server: tuple[str, dict[str, str], str], tmp_path: Path) -> None:
    from tests.helpers import acled_csv, incident_body

    url, tokens, _ = server
    un, us = tokens["UN Ceasefire Monitoring Mission"], tokens["United States"]
    # The scenario's incidents, as a table and as JSON.
    listed = run("incidents", "list", "--from", "2017-07-10", "--to", "2017-07-10", token=us, url=url)
    assert listed.returncode == 0 and "Al-Suweida province" in listed.stdout and "verified" in listed.stdout
    # on an 80-column terminal too: statuses and ids whole
    env = {**os.environ, "COLUMNS": "80", "TRUCELINE_TOKEN": us, "TRUCELINE_URL": url}
    narrow = subprocess.run([str(BIN), "incidents", "list", "--from", "2017-07-10", "--to", "2017-07-10"],
                            capture_output=True, text=True, env=env).stdout  # fmt: skip
    day = json.loads(run("incidents", "list", "--from", "2017-07-10", "--to", "2017-07-10", "--json", token=us,
                         url=url).stdout)  # fmt: skip
    assert day and max(len(line) for line in narrow.splitlines()) <= 80
    assert all(f"id {i['id']}" in narrow for i in day) and "verified" in narrow and "Armed clash" in narrow
    # Import with bad rows: each is named by its file line (records here span two lines each).
    f = tmp_path / "acled.csv"
    f.write_text(acled_csv(30, bad={5: ("event_type", "Skirmish")}, first_id=5000), encoding="utf-8")
    r = run("incidents", "import", str(f), "--chunk", "7", token=un, url=url)
    assert r.returncode == 0, r.stderr
    assert "30 rows: 29 imported, 0 already there, 1 refused" in r.stdout
    assert f"{f}:10: event_type: unknown event type 'Skirmish'" in r.stderr
    again = run("incidents", "import", str(f), "--json", token=un, url=url)
    assert json.loads(again.stdout)["unchanged"] == 29
    refused = run("incidents", "import", str(f), token=us, url=url)  # officers do not import
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "403" in refused.stderr
    # Report, review, verify, export.
    body = tmp_path / "incident.json"
    actor = {"name": "Brigade [/] of the [bold]North", "inter": 3}  # names are shown as typed, never as markup
    body.write_text(json.dumps(incident_body(event_date="2017-07-11", actor1=actor)), encoding="utf-8")
    made = run("incidents", "report", str(body), "--json", token=us, url=url)
    iid = json.loads(made.stdout)["id"]
    assert run("incidents", "step", iid, "review", token=un, url=url).stdout.strip() == f"{iid}: under_review"
    bad = run("incidents", "step", iid, "verify", token=un, url=url)
    assert bad.returncode == 1 and "statement" in bad.stderr
    assert "verified" in run("incidents", "step", iid, "verify", "-m", "seen by patrol 2", token=un, url=url).stdout
    shown = run("incidents", "show", iid, token=us, url=url).stdout
    assert "review reported → under_review" in shown and "seen by patrol 2" in shown
    everything = run("incidents", "list", token=us, url=url)  # statuses without a style, names with brackets
    assert everything.returncode == 0, everything.stderr
    assert "reported" in everything.stdout and "Brigade [/] of the [bold]North" in everything.stdout
    out = tmp_path / "export.csv"
    assert run("incidents", "export", "--out", str(out), token=us, url=url).returncode == 0
    assert out.read_text(encoding="utf-8").splitlines()[0].startswith("event_id_cnty,event_date,year")
    # The southwest zone's ceasefire, with its chart; the day's report as HTML and PDF.
    zones = json.loads(run("zones", "list", "--json", token=us, url=url).stdout)
    sw = next(z["id"] for z in zones if z["name"].startswith("Southwest"))
    chart = tmp_path / "sw.svg"
    cf = run("ceasefire", sw, "--from", "2017-07-08", "--to", "2017-07-12", "--chart", str(chart), token=us, url=url)
    assert cf.returncode == 0 and "strained" in cf.stdout and "not in force" in cf.stdout
    # at 80 columns each day is one line, its date and status whole
    narrow = subprocess.run([str(BIN), "ceasefire", sw, "--from", "2017-07-08", "--to", "2017-07-12"], text=True,
                            capture_output=True, timeout=120, env=env)  # fmt: skip
    days = [line for line in narrow.stdout.splitlines() if line.startswith("2017-07-")]
    assert [line.split()[0] for line in days] == [f"2017-07-{d:02d}" for d in range(8, 13)], narrow.stdout
    assert days[0].startswith("2017-07-08 not in force ") and "2017-07-10 strained " in narrow.stdout
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 80
    assert chart.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    rep = run("sitrep", "--date", "2017-07-10", "--out", str(tmp_path / "rep"), token=us, url=url)
    assert rep.returncode == 0, rep.stderr
    assert (tmp_path / "rep" / "sitrep-2017-07-10.pdf").read_bytes().startswith(b"%PDF-")
    assert "Southwest de-escalation zone" in (tmp_path / "rep" / "sitrep-2017-07-10.html").read_text(encoding="utf-8")


def test_a_bad_setting_is_one_line_naming_its_variable(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    for name, value, words in (("TRUCELINE_RETAIN_FEED_DAYS", "a week", "valid number"),
                               ("TRUCELINE_LOG_FORMAT", "xml", "'text' or 'json'")):  # fmt: skip
        env = {**os.environ, name: value}
        r = subprocess.run([str(BIN), "serve", "--port", "1", "--db", db], capture_output=True, text=True, env=env)
        assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
        assert r.stderr.startswith(f"error: {name}: ") and words in r.stderr and repr(value) in r.stderr
    assert not (tmp_path / "x.db").exists()  # nothing was started, nothing written


def test_a_zones_documents_from_the_cli(server: tuple[str, dict[str, str], str], tmp_path: Path) -> None:
    """The scenario's memorandum and buffer rules on the Idlib zone: listed with who has yet to sign,
    read, signed, revised from a file and refused, each step one line; a wrong name is one line too."""
    url, tokens, _ = server
    russia, turkey = tokens["Russian Federation"], tokens["Turkey"]
    listed = run("zones", "documents", "list", "idlib de-escalation", token=russia, url=url)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Memorandum on the creation of de-escalation areas  version 1")
    assert "to sign final: Turkey, Iran" in lines[0]
    shown = run("zones", "documents", "show", "idlib de-escalation", "memorandum", token=russia, url=url)
    assert "Russian Federation: final on version 1" in shown.stdout and "guarantors" in shown.stdout
    signed = run("zones", "documents", "sign", "idlib de-escalation", "memorandum", "-m", "as agreed in Astana",
                 token=turkey, url=url)  # fmt: skip
    assert signed.returncode == 0 and "signed version 1 (final)" in signed.stdout, signed.stderr
    assert "to sign final: Iran" in signed.stdout
    rules = tmp_path / "rules.md"
    rules.write_text("# Rules\n\nMilitary police with light weapons only.\n", encoding="utf-8")
    revised = run("zones", "documents", "revise", "idlib de-escalation", "buffer territory", "--file", str(rules),
                  token=turkey, url=url)  # fmt: skip
    assert revised.returncode == 0 and "version 2" in revised.stdout, revised.stderr
    objected = run("zones", "documents", "object", "idlib de-escalation", "buffer territory", "-m", "too vague",
                   token=russia, url=url)  # fmt: skip
    assert objected.returncode == 0 and "objected to version 2" in objected.stdout, objected.stderr
    as_json = json.loads(run("zones", "documents", "show", "idlib de-escalation", "buffer territory", "--json",
                             token=russia, url=url).stdout)  # fmt: skip
    assert as_json["body"] == rules.read_text(encoding="utf-8")
    assert [(p["party"]["name"], p["position"], p["revision"]) for p in as_json["positions"]][-1] == (
        "Russian Federation", "objection", 2)  # fmt: skip
    idlib = "idlib de-escalation"
    for args, says in ((["show", idlib, "nothing like it"], "no document of the zone matches"),
                       (["show", idlib, "o"], "more than one document"),
                       (["sign", idlib, "memorandum", "--strength", "total"], "/strength")):  # fmt: skip
        bad = run("zones", "documents", *args, token=turkey, url=url)
        assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1 and says in bad.stderr, bad.stderr
    outsider = run("zones", "documents", "sign", idlib, "memorandum", token=tokens["Jordan"], url=url)  # no signatory
    assert outsider.returncode == 1 and "403" in outsider.stderr


def test_zones_show_says_how_its_rules_apply(server: tuple[str, dict[str, str], str]) -> None:
    """A duty officer at a terminal reads a zone's whole rules: its shape, band, stand-off, hours,
    separation minima and signatories, on 80 columns, each line whole."""
    url, tokens, _ = server
    jordan = tokens["Jordan"]
    body = {
        "name": "Ramtha night no-fly zone", "kind": "no_fly", "forbidden_kinds": ["air"],
        "geometry": {"type": "Point", "coordinates": [36.0, 32.56]}, "radius_m": 8000,
        "altitude_upper": {"value": 3000}, "standoff_m": 500, "separation_m": 20000,
        "schedule": [{"days": ["ANY"], "start": "18:00", "end": "06:00"},
                     {"days": ["FRI"], "start": "06:00", "end": "12:00"}],
        "signatories": ["Jordan", "Syrian Arab Republic"],
    }  # fmt: skip
    r = httpx.post(f"{url}/v1/zones", headers={"Authorization": f"Bearer {jordan}"}, json=body)
    assert r.status_code == 201, r.text
    env = {**os.environ, "COLUMNS": "80", "TRUCELINE_TOKEN": jordan, "TRUCELINE_URL": url}
    shown = subprocess.run([str(BIN), "zones", "show", r.json()["zone"]["id"]], capture_output=True, text=True,
                           env=env, timeout=120)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    lines = [line.strip() for line in shown.stdout.splitlines()]
    assert "area: circle of 8,000 m around 32.5600, 36.0000" in lines
    assert "altitude: the ground to 3000 m, and 500 m beyond its edge" in lines
    assert "hours: daily 18:00–06:00; FRI 06:00–12:00 UTC" in lines
    assert "live tracks inside: at least 20,000 m apart" in lines
    assert "signatories: Jordan, Syrian Arab Republic" in lines
    assert all(len(line) <= 80 for line in shown.stdout.splitlines())
    # a zone without hours or minima says so plainly
    sw = next(z for z in httpx.get(f"{url}/v1/zones", headers={"Authorization": f"Bearer {jordan}"}).json()
              if z["name"].startswith("Southwest"))  # fmt: skip
    plain = subprocess.run([str(BIN), "zones", "show", sw["id"]], capture_output=True, text=True, env=env, timeout=120)
    assert "hours: all the time it is in effect" in plain.stdout and "live tracks inside" not in plain.stdout
    assert re.search(r"area: (multi)?polygon of \d+ vertices", plain.stdout), plain.stdout
    # the zones for a phone's map app, offline
    kml = run("zones", "export", "--format", "kml", "--status", "in_force", token=jordan, url=url)
    assert kml.returncode == 0 and kml.stdout.startswith("<?xml") and "<name>Southwest" in kml.stdout, kml.stderr


def test_notify_a_convoy_from_a_gps_file_with_what_it_cannot_say(
    server: tuple[str, dict[str, str], str], tmp_path: Path
) -> None:
    """A logistics officer notifies the route its GPS recorded: the GPX track becomes a corridor, its
    name the title; the kind, window and width come from the options. A plain GIS line takes them the
    same way, and a file with no route is one line naming why."""
    url, tokens, _ = server
    wfp = tokens["World Food Programme"]
    route = tmp_path / "route.gpx"
    route.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
  <trk><name>Convoy Mafraq to Bosra</name>
    <trkseg><trkpt lat="32.34" lon="36.21"/><trkpt lat="32.45" lon="36.30"/></trkseg>
    <trkseg><trkpt lat="32.52" lon="36.48"/></trkseg>
  </trk>
</gpx>
""")
    window = ["--kind", "humanitarian_convoy", "--start", "2017-07-20T05:00:00Z", "--end", "2017-07-20T09:00:00Z"]
    r = run("notify", str(route), *window, "--half-width-m", "1200", "--json", token=wfp, url=url)
    assert r.returncode == 0, r.stderr
    (made,) = json.loads(r.stdout)
    a = made["activity"]
    assert (a["kind"], a["title"]) == ("humanitarian_convoy", "Convoy Mafraq to Bosra")
    corridor = a["volumes"][0]["volume"]["outline_corridor"]
    assert corridor["half_width_m"] == 1200
    assert corridor["line"]["coordinates"] == [[36.21, 32.34], [36.3, 32.45], [36.48, 32.52]]
    # a GIS line with no properties: the options say all of it; the file's own would win
    line = tmp_path / "line.geojson"
    line.write_text(json.dumps({"type": "Feature", "properties": {"title": "Its own title"},
                                "geometry": {"type": "LineString", "coordinates": [[36.2, 32.3], [36.3, 32.4]]}}))
    r = run("notify", str(line), *window, "--title", "Not this one", "--half-width-m", "800", token=wfp, url=url)
    assert r.returncode == 0, r.stderr
    assert "notified humanitarian_convoy 'Its own title'" in r.stdout
    # without a width or window, the server names the fields; with no route, the GPX reader says so
    r = run("notify", str(route), "--kind", "humanitarian_convoy", token=wfp, url=url)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "outline_corridor/half_width_m: Input should be a valid number (+2 more)" in r.stderr
    empty = tmp_path / "depot.gpx"
    empty.write_text('<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><wpt lat="1" lon="2"/></gpx>')
    r = run("notify", str(empty), *window, token=wfp, url=url)
    assert r.returncode == 1 and "no track or route" in r.stderr and len(r.stderr.strip().splitlines()) == 1
