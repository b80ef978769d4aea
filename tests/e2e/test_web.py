"""The web map in a real browser: Playwright driving Debian's Chromium headless against the demo server.

Screenshots are written to build/screenshots/ for people to look at."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.demo_server import demo_server
from tests.helpers import activity_body, cap_schema, square

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 820, "height": 1180}


def chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("the browser tests need Debian's chromium: apt-get install chromium (.ci/run and make test do)")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], str]]:
    with demo_server(tmp_path_factory.mktemp("web")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Session:
    """One party signed in to the web map, with every request the page made and every script error."""

    def __init__(self, page: Page, url: str, token: str) -> None:
        self.page, self.url, self.token = page, url, token
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.in_flight: set[Any] = set()
        page.on("request", lambda r: (self.requests.append(r.url), self.in_flight.add(r)))
        page.on("requestfinished", lambda r: self.in_flight.discard(r))
        page.on("requestfailed", lambda r: self.in_flight.discard(r))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def settle(self, quiet_ms: int = 500, timeout_s: float = 30) -> None:
        """Wait until the page has made every request it was going to, but for its live feed, which
        stays open (so Playwright's "networkidle" never comes)."""
        deadline, quiet = time.monotonic() + timeout_s, 0
        while quiet < quiet_ms:
            assert time.monotonic() < deadline, f"still loading: {[r.url for r in self.in_flight]}"
            busy = any(not r.url.startswith(f"{self.url}/v1/events") for r in list(self.in_flight))
            quiet = 0 if busy else quiet + 100
            self.page.wait_for_timeout(100)

    def api(self, path: str, **params: Any) -> Any:
        r = httpx.get(f"{self.url}{path}", params=params, headers={"Authorization": f"Bearer {self.token}"})
        r.raise_for_status()
        return r.json()

    def at(self, lat: float, lng: float) -> tuple[float, float]:
        """The page coordinates of a point on the map."""
        x, y = self.page.evaluate(
            """([lat, lng]) => {
                const m = window.truceline.map, p = m.latLngToContainerPoint([lat, lng]);
                const r = m.getContainer().getBoundingClientRect();
                return [r.left + p.x, r.top + p.y];
            }""",
            [lat, lng],
        )
        return float(x), float(y)

    def draw_area(self, form: Any, corners: list[tuple[float, float]]) -> None:
        """Draw a polygon from a form's "Draw on the map": each corner, then the first again to close it."""
        form.get_by_role("button", name="Draw on the map").click()
        for lat, lng in [*corners, corners[0]]:
            self.page.mouse.click(*self.at(lat, lng))

    def view(self, lat: float, lng: float, zoom: int) -> None:
        self.page.evaluate("([lat, lng, z]) => window.truceline.map.setView([lat, lng], z, {animate: false})",
                           [lat, lng, zoom])  # fmt: skip

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


def sign_in(browser: Browser, server: tuple[str, dict[str, str], str], party: str, viewport: dict[str, int] = DESKTOP
            ) -> Session:  # fmt: skip
    url, tokens, _ = server
    page = browser.new_page(viewport=viewport)  # type: ignore[arg-type]
    s = Session(page, url, tokens[party])
    page.goto(f"{url}/")
    dialog = page.get_by_role("dialog", name="Sign in")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=party, exact=True).click()
    expect(page.locator("body.signed-in")).to_have_count(1)
    expect(page.locator("#who")).to_contain_text(party)
    return s


def test_sign_in_with_a_token_and_see_the_demo_zones_on_10_july_2017(
    browser: Browser, server: tuple[str, dict[str, str], str]
) -> None:
    url, tokens, _ = server
    page = browser.new_page(viewport=DESKTOP)  # type: ignore[arg-type]
    page.goto(f"{url}/")
    form = page.get_by_role("dialog", name="Sign in")
    form.get_by_label("Party token").fill("tl_not-a-token")
    form.get_by_role("button", name="Sign in", exact=True).click()
    expect(form.locator(".field-error")).to_contain_text("not valid")
    form.get_by_label("Party token").fill(tokens["UN Ceasefire Monitoring Mission"])
    form.get_by_label("Party token").press("Enter")
    expect(page.locator("#who")).to_contain_text("UN Ceasefire Monitoring Mission · monitor")
    # the demo opens on the morning of 10 July 2017, with the southwest ceasefire in force
    expect(page.locator("#moment")).to_have_text("10 Jul 2017 09:00Z")
    expect(page.locator("#day")).to_have_value("2017-07-10")
    zones = Session(page, url, tokens["UN Ceasefire Monitoring Mission"]).api("/v1/zones")
    in_force = [z for z in zones if z["status"] == "in_force" and z["effective_from"] <= "2017-07-10T09:00:00Z"]
    expect(page.locator("#summary")).to_contain_text(re.compile(rf"^{len(in_force)} zones? in force"))
    # every zone the API lists is drawn (lapsed ones excepted), and the zones list names them all
    drawn = page.evaluate("window.truceline.overlays.zones.getLayers().length")
    assert drawn == len([z for z in zones if z["status"] not in ("lapsed", "withdrawn")])
    page.get_by_role("button", name="Zones", exact=True).click()
    for z in zones:
        expect(page.locator("#panel")).to_contain_text(z["name"])
    # crossings and protected sites have their own markers; place names come from the gazetteer
    expect(page.locator(".site-crossing")).to_have_count(1)
    expect(page.locator(".site-protected_site")).to_have_count(1)
    expect(page.locator(".place-label", has_text="Damascus")).to_have_count(1)
    page.screenshot(path=str(SHOTS / "web-01-signed-in.png"))
    page.close()


Server = tuple[str, dict[str, str], str]


def test_the_time_slider_shows_the_picture_at_a_moment(browser: Browser, server: Server) -> None:
    s = sign_in(browser, server, "Syrian Arab Republic")
    page = s.page
    # 10 July 09:00: the Al-Suweida offensive is under way and conflicts with the southwest zone
    expect(page.locator("#summary")).to_contain_text("1 own activity volume under way")
    expect(page.locator("#summary")).not_to_contain_text(" 0 conflicts at this moment")
    assert page.locator("path.conflict-region").count() > 0
    # a conflict's history from the audit log: Truceline opened it
    card = page.locator("#panel li.card").first
    card.get_by_role("button", name="History").click()
    expect(card.get_by_role("list", name=re.compile("^History of the conflict"))).to_contain_text(
        "conflict.opened by Truceline"
    )
    # the evening after: nothing of the Syrian government's is under way, no conflict is drawn
    page.locator("#minute").fill("88")  # 22:00
    expect(page.locator("#moment")).to_have_text("10 Jul 2017 22:00Z")
    expect(page.locator("#summary")).to_contain_text("0 own activity volumes under way · 0 conflicts at this moment")
    assert page.locator("path.conflict-region").count() == 0
    # a month before, the southwest zone was not yet in effect: fewer zones in force
    page.locator("#day").fill("2017-06-10")
    page.locator("#day").dispatch_event("change")
    expect(page.locator("#moment")).to_have_text("10 Jun 2017 22:00Z")
    zones = s.api("/v1/zones")
    then = [z for z in zones if z["status"] == "in_force" and z["effective_from"] <= "2017-06-10T22:00:00Z"]
    assert len(then) == 1
    expect(page.locator("#summary")).to_contain_text("1 zone in force ·")
    page.get_by_role("button", name="Next day").click()
    expect(page.locator("#moment")).to_have_text("11 Jun 2017 22:00Z")
    assert not s.errors
    page.close()


def test_draw_and_notify_an_activity_and_see_its_conflict_at_once(
    browser: Browser, server: tuple[str, dict[str, str], str]
) -> None:
    s = sign_in(browser, server, "Syrian Arab Republic")
    page = s.page
    before = len(s.api("/v1/activities"))
    page.get_by_role("button", name="Notify", exact=True).click()
    form = page.locator("#panel form")
    form.get_by_label("Kind").select_option("ground")
    form.get_by_label("Title").fill("Armoured column to Izra")
    form.get_by_label("Start (UTC)").fill("2017-07-10T10:00")
    form.get_by_label("End (UTC)").fill("2017-07-10T12:00")
    form.get_by_label("Highest altitude (m)").fill("500")
    s.view(32.8, 36.2, 10)
    s.draw_area(form, [(32.75, 36.15), (32.75, 36.25), (32.85, 36.25), (32.85, 36.15)])
    expect(form.locator("output[name=geometry]")).to_contain_text("Area of 4 points drawn")
    s.shot("web-02-drawn")
    form.get_by_role("button", name="Notify", exact=True).click()
    result = form.locator(".results")
    expect(result).to_contain_text("Notified: Armoured column to Izra")
    expect(result.locator(".conflict-count")).to_contain_text("conflict")
    expect(result).to_contain_text("Southwest de-escalation zone")
    expect(result).to_contain_text("forbids ground")
    s.shot("web-03-notified-with-conflict")
    # it is stored as drawn, and its conflicts are the ones the page shows
    activities = s.api("/v1/activities")
    assert len(activities) == before + 1
    mine = next(a for a in activities if a["title"] == "Armoured column to Izra")
    ring = mine["volumes"][0]["volume"]["outline_polygon"]["vertices"]
    assert len(ring) == 5 and ring[0] == ring[-1]
    assert all(32.7 < v["lat"] < 32.9 and 36.1 < v["lng"] < 36.3 for v in ring)
    conflicts = [c for c in s.api("/v1/conflicts") if any(a["id"] == mine["id"] for a in c["activities"])]
    assert conflicts and any(c["rule"] == "zone_rule" for c in conflicts)
    assert result.locator(".conflict-list li").count() == len(conflicts)
    # and the map moved to its start, where the conflict is drawn
    expect(page.locator("#moment")).to_have_text("10 Jul 2017 10:00Z")
    assert page.locator("path.conflict-region").count() >= 1
    assert not s.errors
    page.close()


def test_a_plan_is_checked_against_the_zones_before_it_is_notified(browser: Browser, server: Server) -> None:
    s = sign_in(browser, server, "Turkey")
    page = s.page
    before = s.api("/v1/activities")
    page.get_by_role("button", name="Notify", exact=True).click()
    form = page.locator("#panel form")
    result = form.locator(".results")
    check = form.get_by_role("button", name="Check against the zones")
    form.get_by_label("Title").fill("Observation post relief")
    form.get_by_label("Start (UTC)").fill("2017-07-11T06:00")
    form.get_by_label("End (UTC)").fill("2017-07-11T09:00")
    form.get_by_label("Highest altitude (m)").fill("300")
    s.view(32.8, 36.2, 10)
    s.draw_area(form, [(32.75, 36.15), (32.75, 36.25), (32.85, 36.25), (32.85, 36.15)])
    check.click()
    expect(result).to_contain_text("Checked, not notified: Observation post relief")
    expect(result.locator(".check-now .conflict-count")).to_have_text("1 zone conflict")
    expect(result.locator(".check-now")).to_contain_text("Southwest de-escalation zone")
    expect(result.locator(".check-now")).to_contain_text("forbids ground activities")
    expect(result.locator(".check-now")).to_contain_text("A notification would concern: ")
    expect(result).to_contain_text("Other parties' activities are not checked here")
    assert result.locator(".check-later").count() == 0
    # the region where it would conflict is drawn, with the plan, and nothing was notified
    s.shot("web-check-plan")
    assert page.locator("path.plan-check.now").count() == 1
    assert s.api("/v1/activities") == before
    assert not [u for u in s.requests if u.endswith("/v1/activities") and "check" not in u]
    # an air plan over Eastern Ghouta, agreed in principle: nothing now, but once it is in force
    form.get_by_label("Kind").select_option("air")
    form.get_by_label("Highest altitude (m)").fill("3000")
    s.view(33.55, 36.45, 10)
    s.draw_area(form, [(33.5, 36.4), (33.5, 36.5), (33.6, 36.5), (33.6, 36.4)])
    check.click()
    expect(result.locator(".check-later")).to_contain_text("Once in force, this zone would forbid it:")
    expect(result.locator(".check-later")).to_contain_text("Eastern Ghouta de-escalation zone (agreed in principle)")
    expect(result).to_contain_text("No zone in force forbids it.")
    expect(page.locator("path.plan-check.later")).to_have_count(1)
    assert page.locator("path.plan-check.now").count() == 0  # the last check's regions only
    # a check refused names the field, as notify does
    form.get_by_label("Title").fill("")
    check.click()
    expect(form.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    assert s.api("/v1/activities") == before
    assert not s.errors
    page.close()


def test_a_plan_that_happens_every_week_is_notified_once(browser: Browser, server: Server) -> None:
    s = sign_in(browser, server, "Kazakhstan")
    page = s.page
    before = s.api("/v1/activities")
    page.get_by_role("button", name="Notify", exact=True).click()
    form = page.locator("#panel form")
    until = form.get_by_label("Until (UTC; the last one starts before)")
    expect(until).to_be_hidden()
    form.get_by_label("Kind").select_option("patrol")
    form.get_by_label("Title").fill("Weekly visit to Busra al-Harir")
    form.get_by_label("Shape").select_option("circle")
    form.get_by_label("Start (UTC)").fill("2017-07-12T07:00")
    form.get_by_label("End (UTC)").fill("2017-07-12T11:00")
    s.view(32.84, 36.34, 11)
    form.get_by_role("button", name="Draw on the map").click()
    x, y = s.at(32.84, 36.34)
    page.mouse.click(x, y)
    page.mouse.click(x + 30, y)
    form.get_by_label("Repeat").select_option("Every week")
    expect(until).to_be_visible()
    # a last start before the first is named on its field, and nothing is stored
    until.fill("2017-07-01T00:00")
    form.get_by_role("button", name="Notify", exact=True).click()
    expect(until).to_have_attribute("aria-invalid", "true")
    expect(form.locator(f"#{until.get_attribute('id')}-error")).to_contain_text("after the first volume's start")
    assert s.api("/v1/activities") == before
    until.fill("2017-08-01T00:00")
    form.get_by_role("button", name="Notify", exact=True).click()
    expect(form.locator(".results")).to_contain_text("Notified: Weekly visit to Busra al-Harir")
    expect(form.locator(".results .meta")).to_contain_text("3 volumes")
    expect(form.locator(".results")).to_contain_text("No conflicts.")  # Kazakhstan's hotline stays as it was
    (stored,) = [a for a in s.api("/v1/activities") if a["title"] == "Weekly visit to Busra al-Harir"]
    assert [v["time_start"]["value"] for v in stored["volumes"]] == [
        "2017-07-12T07:00:00Z", "2017-07-19T07:00:00Z", "2017-07-26T07:00:00Z"]  # fmt: skip
    # its page reads it as the repeat it is, and changes it as one: its first time, how often, until when
    page.get_by_role("button", name="Activities", exact=True).click()
    listed = page.locator(f'#panel li[data-activity="{stored["id"]}"]')
    expect(listed.locator(".meta")).to_contain_text("3 volumes (every week, 3 times)")
    listed.get_by_role("button", name="Weekly visit").click()
    panel = page.locator("#panel .activity-page")
    expect(panel.locator("p.series")).to_have_text(
        "Every week, 3 times, from 12 Jul 2017 07:00Z to 26 Jul 2017 11:00Z. The first time:")
    expect(panel.locator("ol.volumes li")).to_have_count(1)
    expect(panel.locator("details.occurrences li")).to_have_count(3)
    change = panel.locator("form.change")
    expect(change.locator("fieldset")).to_have_count(1)
    expect(change.get_by_label("Repeat")).to_have_value("7")
    expect(change.get_by_label("Until (UTC; the last one starts before)")).to_have_value("2017-07-29T19:00")
    change.get_by_label("Start (UTC)").fill("2017-07-12T08:00")
    change.get_by_label("End (UTC)").fill("2017-07-12T12:00")
    change.get_by_role("button", name="Save a new version").click()
    expect(panel.locator("p.meta")).to_contain_text("version 2")
    (stored,) = [a for a in s.api("/v1/activities") if a["title"] == "Weekly visit to Busra al-Harir"]
    assert [(v["time_start"]["value"], v["time_end"]["value"]) for v in stored["volumes"]] == [
        (f"2017-07-{d}T08:00:00Z", f"2017-07-{d}T12:00:00Z") for d in (12, 19, 26)]
    # once only: the first time stays
    panel.locator("form.change").get_by_label("Repeat").select_option("")
    panel.locator("form.change").get_by_role("button", name="Save a new version").click()
    expect(panel.locator("p.meta")).to_contain_text("version 3")
    expect(panel.locator("p.series")).to_have_count(0)
    (stored,) = [a for a in s.api("/v1/activities") if a["title"] == "Weekly visit to Busra al-Harir"]
    assert [v["time_start"]["value"] for v in stored["volumes"]] == ["2017-07-12T08:00:00Z"]
    assert not s.errors
    page.close()


def test_go_to_a_place_or_a_zone_by_its_name(browser: Browser, server: Server) -> None:
    s = sign_in(browser, server, "Kazakhstan")
    page = s.page
    s.settle()
    box = page.get_by_role("combobox", name="Go to a place or zone")
    options = page.locator("#finder-list [role=option]")
    # as one says it: no accents, apostrophes or doubled letters needed
    box.fill("daraa")
    expect(options.first).to_contain_text("Dar‘ā")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("Enter")
    expect(box).to_have_attribute("aria-expanded", "false")
    centre = page.evaluate("(() => { const c = window.truceline.map.getCenter(); return [c.lat, c.lng]; })()")
    assert abs(centre[0] - 32.62) < 0.05 and abs(centre[1] - 36.10) < 0.05, centre
    assert page.evaluate("window.truceline.map.getZoom()") >= 11
    expect(page.locator("path.found-place")).to_have_count(1)
    # zones come first, by their names
    box.fill("nasib")
    expect(options.first).to_contain_text("Nasib border crossing")
    expect(options.first).to_contain_text("crossing zone, agreed in principle")
    options.first.click()
    zoomed = page.evaluate("window.truceline.map.getBounds().contains([32.547, 36.207])")
    assert zoomed and page.evaluate("window.truceline.map.getZoom()") >= 12
    expect(page.locator("path.found-place")).to_have_count(0)
    # the arrow keys choose among several; Escape closes; a name nobody has says so
    box.fill("izra")
    expect(options).to_have_count(3)  # the joint centre, and two places
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    box.press("Escape")
    expect(page.locator("#finder-list")).to_be_hidden()
    box.fill("zzqx")
    expect(page.locator("#finder-list")).to_contain_text("Nothing of that name")
    assert not s.errors
    page.close()


def test_a_corridor_and_a_circle_can_be_drawn(browser: Browser, server: tuple[str, dict[str, str], str]) -> None:
    s = sign_in(browser, server, "World Food Programme")
    page = s.page
    page.get_by_role("button", name="Notify", exact=True).click()
    form = page.locator("#panel form")
    s.view(32.6, 36.1, 10)
    for shape, title in (("corridor", "Convoy through Nasib"), ("circle", "Distribution point")):
        form.get_by_label("Kind").select_option("humanitarian_convoy")
        form.get_by_label("Title").fill(title)
        form.get_by_label("Shape").select_option(shape)
        form.get_by_label("Start (UTC)").fill("2017-07-11T06:00")
        form.get_by_label("End (UTC)").fill("2017-07-11T09:00")
        form.get_by_role("button", name="Draw on the map").click()
        if shape == "corridor":
            page.mouse.click(*s.at(32.45, 36.05))
            page.mouse.click(*s.at(32.55, 36.1))
            page.mouse.dblclick(*s.at(32.62, 36.1))
        else:
            x, y = s.at(32.62, 36.1)
            page.mouse.click(x, y)
            page.mouse.click(x + 40, y)
        expect(form.locator("output[name=geometry]")).to_contain_text("drawn")
        form.get_by_role("button", name="Notify", exact=True).click()
        expect(form.locator(".results")).to_contain_text(f"Notified: {title}")
    kinds = {a["title"]: a["volumes"][0]["volume"] for a in s.api("/v1/activities")}
    assert "outline_corridor" in kinds["Convoy through Nasib"] or "outline_polygon" in kinds["Convoy through Nasib"]
    assert kinds["Distribution point"]["outline_circle"]["radius"]["value"] > 0
    assert not s.errors
    page.close()


GPX_ROUTE = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="a logistics office's GPS" xmlns="http://www.topografix.com/GPX/1/1">
  <trk><name>Convoy Ramtha to Daraa</name>
    <trkseg>
      <trkpt lat="32.560" lon="36.000"><ele>520</ele></trkpt><trkpt lat="32.580" lon="36.030"><ele>530</ele></trkpt>
    </trkseg>
    <trkseg>
      <trkpt lat="32.600" lon="36.070"><ele>540</ele></trkpt><trkpt lat="32.620" lon="36.100"><ele>550</ele></trkpt>
    </trkseg>
  </trk>
</gpx>
"""
KML_AREA = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>Tall Shihab buffer</name>
  <Polygon><outerBoundaryIs><LinearRing><coordinates>
    35.95,32.68 36.05,32.68 36.05,32.74 35.95,32.74 35.95,32.68
  </coordinates></LinearRing></outerBoundaryIs></Polygon>
</Placemark></Document></kml>
"""


def test_a_route_and_a_boundary_are_loaded_from_a_gps_or_gis_file(
    browser: Browser, server: Server, tmp_path: Path
) -> None:
    """A logistics officer notifies a convoy from the GPX track its office planned (the segments joined
    into one corridor, the GPS's heights dropped), and a zone is proposed from a KML polygon. A file
    with no shape the form takes is named with why, and nothing is drawn."""
    s = sign_in(browser, server, "World Food Programme")
    page = s.page
    page.get_by_role("button", name="Notify", exact=True).click()
    form = page.locator("#panel form")
    output = form.locator("output[name=geometry]")
    point = tmp_path / "depot.geojson"
    point.write_text(json.dumps({"type": "Feature", "geometry": {"type": "Point", "coordinates": [36.0, 32.56]},
                                 "properties": {}}))  # fmt: skip
    form.get_by_label("Or load it from a file").set_input_files(str(point))
    expect(output).to_have_text("depot.geojson holds no line (a route or a track) or polygon")
    route = tmp_path / "route.gpx"
    route.write_text(GPX_ROUTE)
    form.get_by_label("Kind").select_option("humanitarian_convoy")
    form.get_by_label("Or load it from a file").set_input_files(str(route))
    expect(output).to_have_text("Corridor of 4 points loaded from route.gpx.")
    expect(form.get_by_label("Shape")).to_have_value("corridor")
    expect(form.get_by_label("Title")).to_have_value("Convoy Ramtha to Daraa")
    form.get_by_label("Half width (m)").fill("1500")
    form.get_by_label("Start (UTC)").fill("2017-07-15T06:00")
    form.get_by_label("End (UTC)").fill("2017-07-15T10:00")
    form.get_by_role("button", name="Notify", exact=True).click()
    expect(form.locator(".results")).to_contain_text("Notified: Convoy Ramtha to Daraa")
    made = next(a for a in s.api("/v1/activities") if a["title"] == "Convoy Ramtha to Daraa")
    corridor = made["volumes"][0]["volume"]["outline_corridor"]
    assert corridor["half_width_m"] == 1500
    assert corridor["line"]["coordinates"] == [[36.0, 32.56], [36.03, 32.58], [36.07, 32.6], [36.1, 32.62]]
    # rerouted in the office: the new track replaces the corridor on the plan's page, its width kept
    reroute = tmp_path / "reroute.gpx"
    reroute.write_text(GPX_ROUTE.replace('lon="36.030"', 'lon="36.050"'))
    page.evaluate("(id) => window.truceline.openActivity({id})", made["id"])
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text("Convoy Ramtha to Daraa")
    panel.get_by_label("Or its new outline from a file").set_input_files(str(reroute))
    expect(panel).to_contain_text("Corridor 1500 m either side of 4 points loaded from reroute.gpx")
    panel.get_by_role("button", name="Save a new version").click()
    expect(panel).to_contain_text("humanitarian convoy · active · version 2")
    after = next(a for a in s.api("/v1/activities") if a["id"] == made["id"])["volumes"][0]["volume"]
    assert after["outline_corridor"]["line"]["coordinates"][1] == [36.05, 32.58]
    assert after["outline_corridor"]["half_width_m"] == 1500

    page.get_by_role("button", name="Propose zone").click()
    zone_form = page.locator("#panel form")
    area = tmp_path / "buffer.kml"
    area.write_text(KML_AREA)
    zone_form.get_by_label("Or load its boundary from a file").set_input_files(str(route))
    expect(zone_form.locator("#zone-geometry")).to_have_text("route.gpx holds no polygon")
    zone_form.get_by_label("Or load its boundary from a file").set_input_files(str(area))
    expect(zone_form.locator("#zone-geometry")).to_have_text("Area of 4 points loaded from buffer.kml.")
    expect(zone_form.get_by_label("Name")).to_have_value("Tall Shihab buffer")
    zone_form.get_by_label("Kind").select_option("buffer")
    zone_form.get_by_role("button", name="Propose").click()
    expect(page.locator("#panel h2")).to_have_text("Tall Shihab buffer", timeout=15_000)
    zone = next(z for z in s.api("/v1/zones") if z["name"] == "Tall Shihab buffer")
    assert zone["geometry"]["coordinates"][0][:4] == [[35.95, 32.68], [36.05, 32.68], [36.05, 32.74], [35.95, 32.74]]
    assert not s.errors
    page.close()


def test_errors_from_the_api_show_next_to_the_field_and_nothing_is_stored(
    browser: Browser, server: tuple[str, dict[str, str], str]
) -> None:
    s = sign_in(browser, server, "Jordan")
    page = s.page
    before = s.api("/v1/activities")
    page.get_by_role("button", name="Notify", exact=True).click()
    form = page.locator("#panel form")
    # from the keyboard: a title, then Enter, with nothing drawn
    title = form.get_by_label("Title")
    title.fill("Border patrol")
    title.press("Enter")
    expect(form.locator("#geometry-error")).to_contain_text("outline_polygon, outline_circle, outline_corridor")
    expect(form.locator("output[name=geometry]")).to_have_attribute("aria-invalid", "true")
    # an end before the start is named on the end field
    s.view(32.5, 36.2, 10)
    s.draw_area(form, [(32.4, 36.1), (32.4, 36.2), (32.45, 36.2)])
    form.get_by_label("Start (UTC)").fill("2017-07-10T12:00")
    form.get_by_label("End (UTC)").fill("2017-07-10T11:00")
    form.get_by_role("button", name="Notify", exact=True).click()
    end_error = form.get_by_label("End (UTC)")
    expect(end_error).to_have_attribute("aria-invalid", "true")
    error_id = end_error.get_attribute("aria-describedby")
    expect(page.locator(f"#{error_id}")).to_contain_text("time_end")
    s.shot("web-04-field-error")
    assert s.api("/v1/activities") == before
    page.close()


def test_the_hotline_inbox_shows_badges_and_acknowledges(browser: Browser, server: Server) -> None:
    # Iran: its messages come from the scenario's conflicts, not from the live traffic that keeps arriving
    s = sign_in(browser, server, "Iran")
    page = s.page
    summary = s.api("/v1/inbox/summary")
    assert summary["unacknowledged"] > 0
    expect(page.locator("#badge-unack")).to_have_text(str(summary["unacknowledged"]))
    expect(page.locator("#badge-overdue")).to_have_text(str(summary["overdue"]))
    page.get_by_role("button", name="Hotline").click()
    cards = page.locator("#panel li.card")
    expect(cards).to_have_count(summary["unacknowledged"])
    first = cards.first
    message_id = first.get_attribute("data-message")
    s.shot("web-05-inbox")
    first.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#badge-unack")).to_have_text(str(summary["unacknowledged"] - 1))
    expect(page.locator(f'#panel li[data-message="{message_id}"]')).to_have_count(0)
    message = s.api(f"/v1/messages/{message_id}")
    jordan = next(a for a in message["addresses"] if a["party"]["name"] == "Iran")
    assert jordan["state"] == "acknowledged" and jordan["acknowledged_at"]
    page.locator("#panel").get_by_label("Show", exact=True).select_option("acknowledged")
    acknowledged = page.locator(f'#panel li[data-message="{message_id}"]')
    expect(acknowledged).to_contain_text("acknowledged")
    # the message as a CAP alert, for Iran's own alerting system
    with page.expect_download() as info:
        acknowledged.get_by_role("button", name="CAP", exact=True).click()
    assert info.value.suggested_filename == f"{message_id}.cap.xml"
    xml = Path(info.value.path()).read_text()
    cap_schema().validate(xml)
    assert f"<identifier>{message_id}</identifier>" in xml
    # its history: Truceline sent it; Iran acknowledged it, with the token this page signed in with
    acknowledged.get_by_role("button", name="History").click()
    history = acknowledged.get_by_role("list", name=re.compile("^History of"))
    expect(history).to_contain_text("message.acknowledged by Iran, first token")  # (the others may be late)
    expect(history.locator("li").last).to_contain_text("message.sent by Truceline")
    # the live feed redraws the inbox (an escalation, an overdue message): an open History stays open
    page.evaluate("window.truceline.panels.inbox.refresh()")
    expect(history.locator("li").last).to_contain_text("message.sent by Truceline")
    # its thread, and a reply to the other members
    acknowledged.get_by_role("button", name="Open the thread").click()
    reply = page.locator("#panel form.reply")
    reply.get_by_label("Headline").fill("Iranian advisers informed")
    reply.get_by_label("Severity").select_option("Minor")
    reply.get_by_role("button", name="Send").click()
    expect(page.locator("#panel ol.cards")).to_contain_text("Iranian advisers informed")
    thread = s.api(f"/v1/threads/{message['thread_id']}")
    sent = [m for m in thread["messages"] if m["headline"] == "Iranian advisers informed"]
    assert len(sent) == 1 and sent[0]["severity"] == "Minor" and sent[0]["sender"]["name"] == "Iran"
    assert not s.errors
    page.close()


def _new_party(server: Server, name: str, role: str = "officer") -> str:
    """A party of the test's own, so that nothing it is sent moves another test's counts."""
    url, tokens, _ = server
    r = httpx.post(f"{url}/v1/parties", headers={"Authorization": f"Bearer {tokens['Truceline operator']}"},
                   json={"name": name, "role": role})  # fmt: skip
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def _sign_in_with(browser: Browser, server: Server, token: str, name: str, page: Page | None = None) -> Session:
    """``token``'s party signed in, on a new page or on ``page`` (one of a context of the test's own)."""
    url = server[0]
    page = page or browser.new_page(viewport=DESKTOP)  # type: ignore[arg-type]
    s = Session(page, url, token)
    page.goto(f"{url}/")
    dialog = page.get_by_role("dialog", name="Sign in")
    dialog.get_by_label("Party token").fill(token)
    dialog.get_by_label("Party token").press("Enter")
    expect(page.locator("body.signed-in")).to_have_count(1)  # the picture is read and the first panel shown
    expect(page.locator("#who")).to_contain_text(name)
    return s


def test_open_a_hotline_thread_to_another_party_and_find_it_among_the_threads(browser: Browser, server: Server) -> None:
    """The standing line between commands: an officer opens a thread to another party from the page,
    not only from a conflict; the other party finds it among its threads, waiting for it."""
    url = server[0]
    made = {name: _new_party(server, name) for name in ("Line test north", "Line test south")}
    watcher = _new_party(server, "Line test watcher", role="observer")
    north = _sign_in_with(browser, server, made["Line test north"], "Line test north")
    page = north.page
    page.get_by_role("button", name="Hotline").click()
    panel = page.locator("#panel")
    panel.get_by_role("navigation", name="Hotline").get_by_role("button", name="New thread").click()
    form = panel.locator("form.new-thread")
    expect(form.get_by_role("heading")).to_have_text("New hotline thread")
    # nothing chosen or written: each field says why, and nothing is opened
    form.get_by_role("button", name="Send").click()
    expect(form.locator("#new-thread-to-error")).not_to_be_empty()
    expect(form.get_by_label("Subject")).to_have_attribute("aria-invalid", "true")
    assert north.api("/v1/threads") == []
    boxes = form.locator("fieldset.parties")
    boxes.get_by_role("checkbox", name="Line test south").check()
    form.get_by_label("Subject").fill("Convoy timing at Nasib")
    form.get_by_label("Message").fill("Our convoy reaches Nasib at 06:00 tomorrow")
    form.get_by_label("Details").fill("Twelve trucks, escorted; please hold fire on the M5 between 05:00 and 08:00.")
    form.get_by_label("Severity").select_option("Severe")
    form.get_by_role("button", name="Send").click()
    expect(panel.locator("h2")).to_have_text("Convoy timing at Nasib")
    expect(panel.locator("p.meta").first).to_contain_text("Members: Line test north, Line test south")
    expect(panel.locator("ol.cards li.card")).to_have_count(1)
    expect(panel.locator("ol.cards")).to_contain_text("Our convoy reaches Nasib at 06:00 tomorrow")
    # who has read it, and who not yet
    expect(panel.locator("ol.cards .receipts")).to_have_text(
        re.compile(r"^To: Line test south \(awaiting, due \d\d:\d\dZ\)$"))
    threads = north.api("/v1/threads")
    assert [t["subject"] for t in threads] == ["Convoy timing at Nasib"] and not threads[0]["automatic"]
    south_token = made["Line test south"]
    inbox = httpx.get(f"{url}/v1/inbox", headers={"Authorization": f"Bearer {south_token}"}).json()
    assert [(m["headline"], m["severity"], m["sender"]["name"]) for m in inbox] == [
        ("Our convoy reaches Nasib at 06:00 tomorrow", "Severe", "Line test north")]
    # the sender's thread list: opened by it, with the other party
    panel.get_by_role("navigation", name="Hotline").get_by_role("button", name="Threads").click()
    card = panel.locator("li[data-thread]")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("opened by Line test north")
    expect(card).to_contain_text("With Line test south")
    expect(card.locator(".last-message")).to_have_text("Line test north: Our convoy reaches Nasib at 06:00 tomorrow")
    expect(card.locator(".badge")).to_have_count(0)  # nothing in it waits for the sender
    assert not north.errors
    page.close()

    # the other party: the thread waits for its acknowledgement, found by words of its subject
    south = _sign_in_with(browser, server, south_token, "Line test south")
    page = south.page
    page.get_by_role("button", name="Hotline").click()
    panel = page.locator("#panel")
    panel.get_by_role("navigation", name="Hotline").get_by_role("button", name="Threads").click()
    card = panel.locator("li[data-thread]")
    expect(card).to_have_count(1)
    expect(card.locator(".badge")).to_have_text("1 to acknowledge")
    panel.get_by_label("Opened by").select_option("conflict")
    expect(panel.locator("li.empty")).to_have_text("No thread matches.")
    panel.get_by_label("Opened by").select_option("")
    panel.get_by_label("Find a thread").fill("nasib")
    expect(panel.locator(".thread-count")).to_have_text("1 of 1 thread.")
    panel.get_by_label("Find a thread").fill("tanf")
    expect(panel.locator(".thread-count")).to_have_text("0 of 1 thread.")
    panel.get_by_label("Find a thread").fill("")
    card.get_by_role("button", name="Convoy timing at Nasib").click()
    message = panel.locator("ol.cards li.card")
    message.get_by_role("button", name="Acknowledge").click()
    expect(message.locator(".badge")).to_have_text("acknowledged")
    expect(message.locator(".receipts .state-acknowledged")).to_have_text(
        re.compile(r"^Line test south \(acknowledged \d\d:\d\dZ\)$"))
    panel.get_by_role("navigation", name="Hotline").get_by_role("button", name="Threads").click()
    expect(panel.locator("li[data-thread]")).to_have_count(1)
    expect(panel.locator("li[data-thread] .badge")).to_have_count(0)
    expect(panel.locator("li[data-thread] .last-message")).to_contain_text("Line test south: Acknowledged: ")
    assert not south.errors
    page.close()

    # an observer reads the hotline but may not open threads: no New thread, no reply form
    s = _sign_in_with(browser, server, watcher, "Line test watcher")
    s.page.get_by_role("button", name="Hotline").click()
    nav = s.page.locator("#panel").get_by_role("navigation", name="Hotline")
    expect(nav.get_by_role("button")).to_have_text(["Inbox", "Threads", "Escalation"])
    assert not s.errors
    s.page.close()


def test_an_officer_sets_its_partys_escalation_contacts_in_order(browser: Browser, server: Server) -> None:
    """Who is told when the party lets a message go overdue, in the order they are told; a monitor
    reads them and may not change them."""
    token = _new_party(server, "Escalation test")
    s = _sign_in_with(browser, server, token, "Escalation test")
    page = s.page
    page.get_by_role("button", name="Hotline").click()
    panel = page.locator("#panel")
    panel.get_by_role("navigation", name="Hotline").get_by_role("button", name="Escalation").click()
    expect(panel.locator("h2")).to_have_text("Escalation contacts")
    contacts = panel.locator("ol.escalation-contacts li")
    expect(contacts).to_have_text(["Nobody: an overdue message is re-sent to your party only."])
    add = panel.get_by_label("Add")
    expect(add.locator("option", has_text="Escalation test")).to_have_count(0)  # not its own contact
    for name in ("Jordan", "United States", "Russian Federation"):
        add.select_option(label=name)
    expect(contacts.locator(".who")).to_have_text(["Jordan", "United States", "Russian Federation"])
    expect(add.locator("option", has_text="Jordan")).to_have_count(0)  # once each
    panel.get_by_role("button", name="Move Russian Federation up").click()
    panel.get_by_role("button", name="Remove Jordan").click()
    expect(contacts.locator(".who")).to_have_text(["Russian Federation", "United States"])
    expect(contacts.first).to_contain_text("at the deadline")
    panel.get_by_role("button", name="Save").click()
    me = s.api("/v1/me")
    got = s.api(f"/v1/parties/{me['id']}/escalation-contacts")
    assert [c["name"] for c in got["contacts"]] == ["Russian Federation", "United States"]
    # read again, as saved
    panel.get_by_role("navigation", name="Hotline").get_by_role("button", name="Inbox").click()
    panel.get_by_role("navigation", name="Hotline").get_by_role("button", name="Escalation").click()
    expect(contacts.locator(".who")).to_have_text(["Russian Federation", "United States"])
    assert not s.errors
    page.close()
    # a monitor reads its own, and has nothing to change them with
    monitor = _new_party(server, "Escalation test monitor", role="monitor")
    s = _sign_in_with(browser, server, monitor, "Escalation test monitor")
    s.page.get_by_role("button", name="Hotline").click()
    s.page.locator("#panel").get_by_role("navigation", name="Hotline").get_by_role("button", name="Escalation").click()
    expect(s.page.locator("#panel ol.escalation-contacts li")).to_have_count(1)
    expect(s.page.locator("#panel").get_by_role("button", name="Save")).to_have_count(0)
    expect(s.page.locator("#panel select[name=add]")).to_have_count(0)
    assert not s.errors
    s.page.close()


def test_raise_a_zone_on_the_hotline_from_its_page(browser: Browser, server: Server) -> None:
    """A zone's page opens a thread to its signatories and responsible parties, about the zone."""
    url = server[0]
    token = _new_party(server, "Zone line test")
    other = _new_party(server, "Zone line test other")
    s = _sign_in_with(browser, server, token, "Zone line test")
    page = s.page
    zone = next(z for z in s.api("/v1/zones") if z["name"].startswith("Nasib"))
    expected = {p["name"] for p in zone["signatories"]} | {r["party_name"] for r in zone["responsible"]}
    assert len(expected) >= 2
    page.evaluate("(id) => window.truceline.openZone(id)", zone["id"])
    panel = page.locator("#panel")
    panel.get_by_role("button", name="New thread about it").click()
    form = panel.locator("form.new-thread")
    expect(form.get_by_label("Subject")).to_have_value(zone["name"])
    expect(form.locator("p.refers")).to_have_text(f"Refers to the zone {zone['name']}.")
    checked = form.locator("fieldset.parties input:checked")
    expect(checked).to_have_count(len(expected))
    names = form.locator("fieldset.parties label:has(input:checked)").all_inner_texts()
    assert {n.strip() for n in names} == expected
    # sent to a party of the test's own only (the demo parties' inboxes are other tests' business)
    for box in form.locator("fieldset.parties input").all():
        box.uncheck()
    form.locator("fieldset.parties").get_by_role("checkbox", name="Zone line test other").check()
    form.get_by_label("Message").fill("Is the crossing open to trucks on Friday?")
    form.get_by_role("button", name="Send").click()
    expect(panel.locator("h2")).to_have_text(zone["name"])
    inbox = httpx.get(f"{url}/v1/inbox", headers={"Authorization": f"Bearer {other}"}).json()
    assert [(m["headline"], m["zone_ids"]) for m in inbox] == [
        ("Is the crossing open to trucks on Friday?", [zone["id"]])]
    assert not s.errors
    page.close()


def test_incidents_are_listed_by_status_date_zone_and_words(browser: Browser, server: Server) -> None:
    """The Incidents panel: a monitor's queue of reports waiting for it, narrowed by status, dates,
    zone and words; an incident opens its page or shows on the map at its day."""
    from tests.helpers import incident_body

    url, tokens, _ = server
    monitor = {"Authorization": f"Bearer {tokens['UN Ceasefire Monitoring Mission']}"}
    jordan = {"Authorization": f"Bearer {tokens['Jordan']}"}
    made = {}
    for day, place, lat, lon in (("2017-08-02", "Tell Shihab", 32.69, 35.97), ("2017-08-03", "Palmyra", 34.56, 38.28),
                                 ("2017-08-04", "Bosra", 32.52, 36.48)):  # fmt: skip
        body = incident_body(event_date=day, location={"name": place, "latitude": lat, "longitude": lon,
                                                      "geo_precision": 1, "country": "Syria"})  # fmt: skip
        r = httpx.post(f"{url}/v1/incidents", json=body, headers=jordan)
        assert r.status_code == 201, r.text
        made[place] = r.json()
    for place, steps in (("Palmyra", ["review"]), ("Bosra", ["review", "verify"])):
        for step in steps:
            i = httpx.get(f"{url}/v1/incidents/{made[place]['id']}", headers=monitor).json()
            r = httpx.post(f"{url}/v1/incidents/{i['id']}/steps", headers=monitor,
                           json={"step": step, "statement": "seen by the team", "version": i["version"]})  # fmt: skip
            assert r.status_code == 200, r.text

    s = sign_in(browser, server, "UN Ceasefire Monitoring Mission")
    page = s.page
    page.get_by_role("button", name="Incidents", exact=True).click()
    panel = page.locator("#panel")
    expect(panel.locator("h2")).to_have_text("Incidents")
    # a monitor opens on its queue: reported or under review, every date
    expect(panel.get_by_label("Status")).to_have_value("waiting")
    waiting = len(s.api("/v1/incidents", status="reported", limit=200)) + len(
        s.api("/v1/incidents", status="under_review", limit=200))
    plural = "" if waiting == 1 else "s"
    expect(panel.locator(".incident-count")).to_have_text(f"{waiting} of {waiting} incident{plural}.")
    panel.get_by_label("From (optional)").fill("2017-08-01")
    panel.get_by_label("To (optional)").fill("2017-08-05")
    panel.get_by_label("To (optional)").dispatch_event("change")
    cards = panel.locator("li[data-incident]")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("Armed clash, Palmyra")  # newest first
    expect(cards.first.locator(".badge").first).to_have_text("under review")
    expect(cards.nth(1)).to_contain_text("Armed clash, Tell Shihab")
    expect(cards.nth(1)).to_contain_text(
        "2017-08-02 · Military Forces of Syria (2000-) v. Southern Front · 0 fatalities · reported by Jordan")
    # the queue downloads as ACLED's CSV: what the filters choose
    with page.expect_download() as got:
        panel.get_by_role("button", name="Download as ACLED CSV").click()
    assert got.value.suggested_filename == "incidents.csv"
    rows = list(csv.DictReader(Path(got.value.path()).read_text(encoding="utf-8").splitlines()))
    assert sorted(r["location"] for r in rows) == ["Palmyra", "Tell Shihab"]
    panel.get_by_label("Status").select_option("verified")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Armed clash, Bosra")
    panel.get_by_label("Status").select_option("")
    expect(cards).to_have_count(3)
    # words narrow what was read, without reading again
    panel.get_by_label("Find an incident").fill("shihab")
    expect(cards).to_have_count(1)
    expect(panel.locator(".incident-count")).to_have_text("1 of 3 incidents.")
    panel.get_by_label("Find an incident").fill("")
    # a zone: the server says which incidents fall in it
    # a zone: the server says which incidents fall in it (Bosra and Tell Shihab are in the southwest
    # zone, Palmyra in none)
    zone = made["Bosra"]["zones"][0]
    in_zone = s.api("/v1/incidents", zone=zone["zone_id"], **{"from": "2017-08-01", "to": "2017-08-05"})
    assert sorted(i["location"]["name"] for i in in_zone) == ["Bosra", "Tell Shihab"]
    panel.get_by_label("Zone").select_option(zone["zone_id"])
    expect(cards).to_have_count(len(in_zone))
    panel.get_by_label("Zone").select_option("")
    expect(cards).to_have_count(3)
    # dates the server refuses: said above the list, which stays as it was
    panel.get_by_label("To (optional)").fill("2017-07-01")
    panel.get_by_label("To (optional)").dispatch_event("change")
    expect(panel.locator("section.incidents > .form-error")).to_contain_text("must not be before from")
    expect(cards).to_have_count(3)
    panel.get_by_label("To (optional)").fill("2017-08-05")
    panel.get_by_label("To (optional)").dispatch_event("change")
    expect(panel.locator("section.incidents > .form-error")).to_be_empty()
    s.shot("web-incidents-list")
    # on the map at its day, then its page
    bosra = panel.locator(f'li[data-incident="{made["Bosra"]["id"]}"]')
    bosra.get_by_role("button", name="Show on map").click()
    expect(page.locator("#day")).to_have_value("2017-08-04")
    centre = page.evaluate("(() => { const c = window.truceline.map.getCenter(); return [c.lat, c.lng]; })()")
    assert abs(centre[0] - 32.52) < 0.01 and abs(centre[1] - 36.48) < 0.01, centre
    bosra.get_by_role("button", name="Armed clash, Bosra").click()
    expect(panel.locator(".incident-page h2")).to_have_text("Armed clash, Bosra")
    # back to the list: its filters are kept
    page.get_by_role("button", name="Incidents", exact=True).click()
    expect(panel.get_by_label("From (optional)")).to_have_value("2017-08-01")
    expect(cards).to_have_count(3)
    # from an incident to its zone's page, and from there to every incident of the zone and its day report
    bosra.get_by_role("button", name="Armed clash, Bosra").click()
    panel.locator("dd.zones").get_by_role("button", name=zone["zone_name"]).click()
    expect(panel.locator("h2")).to_have_text(zone["zone_name"])
    panel.get_by_role("button", name="Its incidents").click()
    expect(panel.get_by_label("Zone")).to_have_value(zone["zone_id"])
    expect(panel.get_by_label("Status")).to_have_value("")
    expect(panel.get_by_label("From (optional)")).to_have_value("")
    every = s.api("/v1/incidents", zone=zone["zone_id"], limit=200)
    expect(cards).to_have_count(len(every))
    shihab = panel.locator(f'li[data-incident="{made["Tell Shihab"]["id"]}"]')
    shihab.get_by_role("button", name="Armed clash, Tell Shihab").click()
    panel.locator("dd.zones").get_by_role("button", name=zone["zone_name"]).click()
    with page.expect_download() as report:
        panel.get_by_role("button", name="Its day report").click()
    assert report.value.suggested_filename == f"sitrep-2017-08-04-{zone['zone_id']}.html"
    assert zone["zone_name"] in Path(report.value.path()).read_text(encoding="utf-8")
    assert not s.errors
    page.close()


def test_a_zones_documents_are_read_attached_revised_and_signed_on_its_page(
    browser: Browser, server: Server, tmp_path: Path
) -> None:
    """The rules of a buffer, a memorandum: every party reads them on the zone's page; its signatories
    attach, revise and sign or refuse them there, each version on its own."""
    from tests.helpers import zone_body

    url = server[0]
    north, south = _new_party(server, "Doc test north"), _new_party(server, "Doc test south")
    proposed = httpx.post(f"{url}/v1/zones", headers={"Authorization": f"Bearer {north}"},
                          json=zone_body(name="Doc test buffer", signatories=["Doc test north", "Doc test south"],
                                         geometry=square(38.0, 35.0, 0.1)))  # fmt: skip
    assert proposed.status_code == 201, proposed.text
    zid = proposed.json()["zone"]["id"]
    s = _sign_in_with(browser, server, north, "Doc test north")
    page = s.page
    page.evaluate("(id) => window.truceline.openZone(id)", zid)
    panel = page.locator("#panel")
    expect(panel.locator("h2")).to_have_text("Doc test buffer")
    expect(panel.locator("ol.documents")).to_have_count(0)
    # attached from a file: its name is the title
    rules = tmp_path / "Rules of the buffer.md"
    rules.write_text("# Rules\n\nMilitary police with light weapons only.\n", encoding="utf-8")
    panel.get_by_text("Attach a document").click()
    attach = panel.locator("form.attach-document")
    attach.get_by_label("Or read it from a file").set_input_files(str(rules))
    expect(attach.get_by_label("Title")).to_have_value("Rules of the buffer")
    attach.get_by_role("button", name="Attach the document").click()
    doc = panel.locator("li.document")
    expect(doc).to_have_count(1)
    expect(doc).to_contain_text("Rules of the buffer · version 1")
    expect(doc.locator(".meta")).to_have_text("To sign final: Doc test north, Doc test south")
    doc.get_by_text("Read it").click()
    expect(doc.locator("pre.document-body")).to_have_text("# Rules\n\nMilitary police with light weapons only.\n")
    # signed final by one; the other still to sign
    doc.get_by_role("button", name="Sign this document final").click()
    expect(doc.locator(".meta")).to_have_text("To sign final: Doc test south")
    expect(doc.locator("ul.positions")).to_contain_text("Doc test north: final on version 1")
    # a new version: the earlier signature no longer counts
    doc.get_by_text("Revise it").click()
    doc.locator("form.document-revise").get_by_label("Text (markdown)").fill("# Rules\n\nNo heavy weapons.")
    doc.get_by_role("button", name="Save its new version").click()
    expect(doc).to_contain_text("Rules of the buffer · version 2")
    expect(doc.locator(".meta")).to_have_text("To sign final: Doc test north, Doc test south")
    # refused without a reason: the field says so, and nothing is recorded
    doc.get_by_role("button", name="Object to this document").click()
    reason = doc.get_by_label("Statement on version 2")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(doc.locator(f"#{reason.get_attribute('id')}-error")).not_to_be_empty()
    assert len(s.api(f"/v1/zones/{zid}/negotiation")["documents"][0]["positions"]) == 1
    page.close()
    # the other signatory refuses version 2, saying why; both see it
    s = _sign_in_with(browser, server, south, "Doc test south")
    s.page.evaluate("(id) => window.truceline.openZone(id)", zid)
    doc = s.page.locator("#panel li.document")
    doc.get_by_label("Statement on version 2").fill("heavy weapons at the checkpoints")
    doc.get_by_role("button", name="Object to this document").click()
    expect(doc.locator("ul.positions")).to_contain_text(
        "Doc test south: objection on version 2 — “heavy weapons at the checkpoints”")
    (stored,) = s.api(f"/v1/zones/{zid}/negotiation")["documents"]
    assert [(p["party"]["name"], p["position"], p["revision"]) for p in stored["positions"]] == [
        ("Doc test north", "final", 1), ("Doc test south", "objection", 2)]  # fmt: skip
    assert not s.errors
    s.page.close()
    # a party that is no signatory reads them, and has nothing to sign
    s = sign_in(browser, server, "Jordan")
    s.page.evaluate("(id) => window.truceline.openZone(id)", zid)
    expect(s.page.locator("#panel li.document")).to_contain_text("Rules of the buffer · version 2")
    expect(s.page.locator("#panel form.document-signoff")).to_have_count(0)
    expect(s.page.locator("#panel details.attach")).to_have_count(0)
    s.page.close()

def test_a_zone_page_shows_history_responsibilities_diff_and_ceasefire_chart(
    browser: Browser, server: tuple[str, dict[str, str], str]
) -> None:
    s = sign_in(browser, server, "United States")
    page = s.page
    zone = next(z for z in s.api("/v1/zones") if z["name"].startswith("Southwest"))
    # open it from the map, by clicking inside it
    s.view(32.8, 36.3, 8)
    page.mouse.click(*s.at(32.75, 36.3))
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text(zone["name"])
    expect(panel).to_contain_text("in force · revision 2")
    expect(panel).to_contain_text("Negotiation history")
    expect(panel.locator("ol.history li")).to_have_count(2)
    for r in zone["responsible"]:
        expect(panel).to_contain_text(f"{r['party_name']}: {r['role']}")
    chart = panel.get_by_role("img", name=f"Ceasefire timeline chart for {zone['name']}")
    expect(chart).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", chart.element_handle()) > 100
    panel.get_by_role("button", name="Show the difference on the map").click()
    expect(panel.locator(".diff .results")).to_contain_text("km²")
    diff = s.api(f"/v1/zones/{zone['id']}/revisions/1/diff/2")
    expect(panel.locator(".diff .results")).to_contain_text(f"added {diff['added_km2']} km²")
    s.shot("web-06-zone-page")
    assert not s.errors
    page.close()


def test_zones_conflicts_and_activities_download_as_geojson(browser: Browser, server: Server) -> None:
    s = sign_in(browser, server, "Syrian Arab Republic")
    page, panel = s.page, s.page.locator("#panel")

    def download(tab: str, label: str) -> tuple[str, dict[str, Any]]:
        page.get_by_role("button", name=tab, exact=True).click()
        with page.expect_download() as info:
            panel.get_by_role("button", name=label).click()
        return info.value.suggested_filename, json.loads(Path(info.value.path()).read_text())

    name, zones = download("Zones", "Download as GeoJSON (for a GIS)")
    assert name == "zones.geojson" and zones["type"] == "FeatureCollection"
    assert {f["properties"]["name"] for f in zones["features"]} == {z["name"] for z in s.api("/v1/zones")}
    with page.expect_download() as info:  # for Google Earth or a phone's map app
        panel.get_by_role("button", name="Download as KML").click()
    assert info.value.suggested_filename == "zones.kml"
    kml = Path(info.value.path()).read_text()
    assert kml.count("<Placemark") >= len(zones["features"]) and all(
        f"<name>{f['properties']['name']}</name>" in kml for f in zones["features"])  # fmt: skip
    name, conflicts = download("Conflicts", "Download as GeoJSON (for a GIS)")
    expected = s.api("/v1/conflicts")
    assert name == "conflicts.geojson" and expected
    assert sorted(f["properties"]["conflict"] for f in conflicts["features"]) == sorted(
        c["id"] for c in expected for _ in c["regions"]
    )
    name, plans = download("Notify", "Download your activities as GeoJSON")
    titles = {a["title"] for a in s.api("/v1/activities", status="active")}
    assert name == "activities.geojson" and {f["properties"]["title"] for f in plans["features"]} == titles
    assert not s.errors
    page.close()


def test_find_a_zone_by_name_kind_or_party_and_by_status(browser: Browser, server: Server) -> None:
    """A theatre holds hundreds of zones: the Zones panel finds them by a part of a name, a kind or a
    responsible party, and narrows by status; the choice survives the live feed's redraws."""
    s = sign_in(browser, server, "Jordan")
    page = s.page
    zones = s.api("/v1/zones")
    page.get_by_role("button", name="Zones", exact=True).click()
    panel = page.locator("#panel")
    cards = panel.locator("li.card")
    expect(cards).to_have_count(len(zones))
    expect(panel.locator(".zone-count")).to_have_text(f"{len(zones)} zones.")
    panel.get_by_label("Find a zone").fill("  NASIB ")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Nasib border crossing")
    expect(panel.locator(".zone-count")).to_have_text(f"1 of {len(zones)} zones.")
    s.shot("web-19-find-a-zone")
    # a kind, in words, and a responsible party
    panel.get_by_label("Find a zone").fill("de escalation")
    expect(cards).to_have_count(sum(1 for z in zones if z["kind"] == "de_escalation"))
    policed = [z for z in zones if any(r["party_name"] == "Kazakhstan" for r in z["responsible"])]
    assert policed  # the scenario asks Kazakhstan to monitor the southwest zone
    panel.get_by_label("Find a zone").fill("kazakhstan")
    expect(cards).to_have_count(len(policed))
    # by status: what is in force, of every kind
    panel.get_by_label("Find a zone").fill("")
    panel.get_by_label("Status").select_option("in_force")
    in_force = [z for z in zones if z["status"] == "in_force"]
    expect(cards).to_have_count(len(in_force))
    page.evaluate("window.truceline.panels.zones.refresh()")  # what the live feed does on news
    expect(cards).to_have_count(len(in_force))
    cards.first.get_by_role("button").click()  # to a zone's page and back: the choice is kept
    expect(panel.locator("h2")).not_to_have_text("Zones")
    page.get_by_role("button", name="Zones", exact=True).click()
    expect(panel.get_by_label("Status")).to_have_value("in_force")
    expect(cards).to_have_count(len(in_force))
    panel.get_by_label("Find a zone").fill("atlantis")
    expect(cards).to_have_count(0)
    expect(panel.locator("li.empty")).to_have_text("No zone matches.")
    assert not s.errors
    page.close()


def test_narrow_the_conflicts_by_words_and_rule(browser: Browser, server: Server) -> None:
    s = sign_in(browser, server, "Syrian Arab Republic")
    page = s.page
    conflicts = s.api("/v1/conflicts")
    page.get_by_role("button", name="Conflicts", exact=True).click()
    panel = page.locator("#panel")
    cards = panel.locator("li.card")
    expect(cards).to_have_count(len(conflicts))
    zone_rules = [c for c in conflicts if c["rule"] == "zone_rule"]
    with_opposition = [c for c in conflicts if any(p["name"].startswith("Armed opposition") for p in c["parties"])]
    assert zone_rules and with_opposition
    panel.get_by_label("Rule").select_option("zone_rule")
    expect(cards).to_have_count(len(zone_rules))
    expect(panel.locator(".conflict-count")).to_have_text(f"{len(zone_rules)} of {len(conflicts)} open conflicts.")
    panel.get_by_label("Rule").select_option("")
    panel.get_by_label("Find a conflict").fill("ARMED  opposition")  # a party, any case and spacing
    expect(cards).to_have_count(len(with_opposition))
    panel.get_by_label("Find a conflict").fill("5th Armoured")  # the title of Syria's own activity
    titled = [c for c in conflicts if any("5th Armoured" in (a.get("title") or "") for a in c["activities"])]
    expect(cards).to_have_count(len(titled))
    panel.get_by_label("Find a conflict").fill("atlantis")
    expect(panel.locator("li.empty")).to_have_text("No open conflict matches.")
    page.get_by_role("button", name="Zones", exact=True).click()  # elsewhere and back: the words are kept
    page.get_by_role("button", name="Conflicts", exact=True).click()
    expect(panel.get_by_label("Find a conflict")).to_have_value("atlantis")
    assert not s.errors
    page.close()


def test_agree_to_a_conflict_until_it_is_coordinated(browser: Browser, server: Server) -> None:
    """Turkey's patrol and the opposition's convoy meet east of Deir ez-Zor: the opposition agrees on
    the page (what it types survives a redraw), Turkey agrees too, and the card says coordinated."""
    url, tokens, _ = server
    when = {"t0": datetime(2017, 7, 10, 6, tzinfo=UTC), "t1": datetime(2017, 7, 10, 12, tzinfo=UTC)}
    here = {"lat": 35.8, "lng": 40.6, "radius": 3000.0}
    as_ = lambda who: {"Authorization": f"Bearer {tokens[who]}"}  # noqa: E731
    plans = [("Turkey", "patrol", "Euphrates patrol"),
             ("Armed opposition (Southern Front)", "humanitarian_convoy", "Flour to Mayadin")]  # fmt: skip
    made = [
        httpx.post(f"{url}/v1/activities", headers=as_(who), json=activity_body(kind=kind, title=title, **here, **when))
        for who, kind, title in plans
    ]
    assert [r.status_code for r in made] == [201, 201], [r.text for r in made]
    (conflict,) = made[1].json()["conflicts"]
    s = sign_in(browser, server, "Armed opposition (Southern Front)")
    page = s.page
    page.get_by_role("button", name="Conflicts", exact=True).click()
    card = page.locator(f'#panel li.card[data-conflict="{conflict["id"]}"]')
    card.get_by_label("Agree to it: how it is handled").fill("Turkish patrol escorts the convoy")
    page.evaluate("window.truceline.render()")  # a live redraw: the words typed are kept
    card = page.locator(f'#panel li.card[data-conflict="{conflict["id"]}"]')
    expect(card.get_by_label("Agree to it: how it is handled")).to_have_value("Turkish patrol escorts the convoy")
    card.get_by_role("button", name="Agree", exact=True).click()
    expect(card.locator("ul.agreements")).to_contain_text(
        "Armed opposition (Southern Front) agrees: “Turkish patrol escorts the convoy”"
    )
    expect(card.locator(".waiting")).to_have_text("Waiting for the agreement of Turkey.")
    expect(card.locator(".badge.coordinated")).to_have_count(0)
    turkey = httpx.post(f"{url}/v1/conflicts/{conflict['id']}/agreement", headers=as_("Turkey"),
                        json={"statement": "Escort at 06:00"})  # fmt: skip
    assert turkey.status_code == 200 and turkey.json()["coordinated"] is True
    page.evaluate("window.truceline.refreshConflicts()")
    expect(card.locator(".badge.coordinated")).to_have_text("coordinated")
    expect(card.locator(".waiting")).to_have_count(0)
    # on the map at its hour: green and dashed, apart from the conflicts not yet handled (red)
    expect(page.locator("path.conflict-region.coordinated")).to_have_count(1)
    expect(page.locator("#summary")).to_contain_text(re.compile(r"\d conflicts? at this moment \(1 coordinated\)"))
    page.locator("#panel").get_by_label("Only those not yet coordinated").check()  # what is still to handle
    expect(card).to_have_count(0)
    expect(page.locator("#panel li.card").first).to_be_visible()
    page.locator("#panel").get_by_label("Only those not yet coordinated").uncheck()
    s.shot("web-conflict-coordinated")
    card.get_by_role("button", name="Withdraw our agreement").click()
    expect(card.locator(".badge.coordinated")).to_have_count(0)
    expect(card.locator(".waiting")).to_have_text("Waiting for the agreement of Armed opposition (Southern Front).")
    # its thread, where it was announced and each side's word on it was posted
    card.get_by_role("button", name="Its thread").click()
    thread = page.locator("#panel")
    expect(thread.locator("h2")).to_have_text("Deconfliction: Turkey / Armed opposition (Southern Front)")
    expect(thread.locator("ol.cards")).to_contain_text("Turkey agrees to the conflict: Escort at 06:00")
    expect(thread.locator("ol.cards")).to_contain_text("no longer agrees")
    assert not s.errors
    page.close()


def test_find_your_partys_activities_and_open_one(browser: Browser, server: Server) -> None:
    """A plan with no conflict, not under way at the map's moment, is found again in the Activities
    panel: by words and status, with its open conflicts counted, opened to change or cancel it."""
    url, tokens, _ = server
    wfp = {"Authorization": f"Bearer {tokens['World Food Programme']}"}
    body = activity_body(kind="humanitarian_convoy", title="Fuel convoy to Busra al-Harir",
                         t0=datetime(2017, 7, 20, 6, tzinfo=UTC), t1=datetime(2017, 7, 20, 9, tzinfo=UTC))  # fmt: skip
    made = httpx.post(f"{url}/v1/activities", headers=wfp, json=body)
    assert made.status_code == 201, made.text
    s = sign_in(browser, server, "World Food Programme")
    page = s.page
    mine = s.api("/v1/activities")
    active = [a for a in mine if a["status"] == "active"]
    page.get_by_role("button", name="Activities", exact=True).click()
    panel = page.locator("#panel")
    cards = panel.locator("li.card")
    expect(cards).to_have_count(len(active))
    expect(panel.locator(".activity-count")).to_have_text(f"{len(active)} of {len(mine)} activities.")
    s.shot("web-20-activities")
    panel.get_by_label("Find an activity").fill("fuel  CONVOY")
    expect(cards).to_have_count(1)
    card = cards.first
    expect(card).to_contain_text("humanitarian convoy · active")
    expect(card).to_contain_text("20 Jul 2017")
    # to its hour on the map, then its page, where it is cancelled
    card.get_by_role("button", name="Go to its first hour").click()
    expect(page.locator("#moment")).to_contain_text("20 Jul 2017 06:00")
    card.get_by_role("button", name="Fuel convoy to Busra al-Harir").click()
    expect(panel.locator("h2")).to_have_text("Fuel convoy to Busra al-Harir")
    httpx.post(f"{url}/v1/activities/{made.json()['activity']['id']}/cancel", headers=wfp).raise_for_status()
    page.evaluate("window.truceline.loadAll()")
    page.get_by_role("button", name="Activities", exact=True).click()
    expect(panel.get_by_label("Find an activity")).to_have_value("fuel  CONVOY")  # kept
    expect(panel.locator("li.empty")).to_have_text("No activity matches.")  # active only, by default
    panel.get_by_label("Status").select_option("cancelled")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("humanitarian convoy · cancelled")
    assert not s.errors
    page.close()


def test_an_activity_card_counts_its_open_conflicts(browser: Browser, server: Server) -> None:
    s = sign_in(browser, server, "Syrian Arab Republic")
    page = s.page
    conflicts = s.api("/v1/conflicts")
    offensive = next(a for a in s.api("/v1/activities") if a["title"].startswith("5th Armoured"))
    n = sum(1 for c in conflicts if any(x.get("id") == offensive["id"] for x in c["activities"]))
    assert n >= 2  # the zone's rules and the opposition's patrol
    page.get_by_role("button", name="Activities", exact=True).click()
    card = page.locator("#panel li.card", has_text="5th Armoured")
    expect(card.locator(".badge")).to_have_text(f"{n} open conflicts")
    assert not s.errors
    page.close()


def test_sign_off_a_revision_from_the_zone_page(browser: Browser, server: tuple[str, dict[str, str], str]) -> None:
    s = sign_in(browser, server, "Turkey")
    page = s.page
    zone = next(z for z in s.api("/v1/zones") if z["name"].startswith("Northern Homs"))
    negotiation = s.api(f"/v1/zones/{zone['id']}/negotiation")
    assert any(p["name"] == "Turkey" for p in negotiation["awaiting_final"])
    page.get_by_role("button", name="Zones", exact=True).click()
    page.locator("#panel").get_by_role("button", name=zone["name"]).click()
    panel = page.locator("#panel")
    panel.get_by_label(f"Statement on revision {zone['revision']}").fill("Turkey agrees the final boundary.")
    panel.get_by_role("button", name="Sign final").click()
    expect(page.locator(".toast")).to_contain_text(f"Signed revision {zone['revision']} (final)")
    after = s.api(f"/v1/zones/{zone['id']}/negotiation")
    mine = [p for p in after["positions"] if p["party"]["name"] == "Turkey" and p["position"] == "final"]
    assert mine and mine[-1]["statement"] == "Turkey agrees the final boundary."
    expect(panel).to_contain_text("Turkey: final on revision")
    page.close()


def test_propose_a_zone_by_drawing_it(browser: Browser, server: tuple[str, dict[str, str], str]) -> None:
    s = sign_in(browser, server, "Jordan")
    page = s.page
    page.get_by_role("button", name="Propose zone").click()
    form = page.locator("#panel form")
    s.view(32.40, 36.27, 10)  # the shape above the map's middle: the hotline's pop-ups take its lower left
    form.get_by_role("button", name="Draw an area").click()
    corners = [(32.45, 36.2), (32.45, 36.35), (32.55, 36.35), (32.55, 36.2)]
    for lat, lng in [*corners, corners[0]]:
        page.mouse.click(*s.at(lat, lng))
    form.get_by_label("Name").fill("Ramtha buffer")
    form.get_by_label("Kind").select_option("buffer")
    form.get_by_label("fires").check()
    # its rules: a ceiling, a stand-off and working hours (its rules apply on weekdays by day only)
    form.get_by_label("Highest altitude (m, WGS84)").fill("3000")
    form.get_by_label("Stand-off (m)").fill("500")
    form.get_by_label("Separation inside (m)", exact=True).fill("20000")
    form.get_by_role("button", name="Add hours").click()
    hours = form.locator(".hours-row")
    for day in ("Sat", "Sun"):
        hours.get_by_label(day).uncheck()
    hours.get_by_label("From (UTC)").fill("06:00")
    hours.get_by_label("To (UTC)").fill("18:00")
    form.get_by_label("Rationale").fill("Keeps fires away from the border villages")
    form.get_by_role("button", name="Propose").click()
    panel = page.locator("#panel")
    expect(panel.locator("h2")).to_have_text("Ramtha buffer", timeout=15_000)
    expect(panel).to_contain_text("buffer · proposed · revision 1")
    expect(panel.locator("dd.hours")).to_have_text("MON, TUE, WED, THU, FRI 06:00–18:00 UTC")
    expect(panel.locator("dd.band")).to_have_text("the ground – 3000 m")
    expect(panel.locator("dl")).to_contain_text("Stand-off500 m beyond its edge")
    expect(panel.locator("dl")).to_contain_text("Live tracks insideat least 20,000 m apart")
    zone = next(z for z in s.api("/v1/zones") if z["name"] == "Ramtha buffer")
    assert zone["forbidden_kinds"] == ["fires"] and zone["geometry"]["type"] == "Polygon"
    assert zone["altitude_upper"]["value"] == 3000 and zone["altitude_lower"]["value"] == -500  # the ground
    assert zone["standoff_m"] == 500 and zone["separation_m"] == 20000 and zone["vertical_separation_m"] is None
    assert zone["schedule"] == [{"days": ["MON", "TUE", "WED", "THU", "FRI"], "start": "06:00", "end": "18:00"}]

    # revised on its page: the form holds the rules as they are; unchanged, it makes no revision
    panel.get_by_role("button", name="Revise its rules").click()
    rules = panel.locator("form.revise-rules")
    expect(rules.get_by_label("Highest altitude (m, WGS84)")).to_have_value("3000")
    expect(rules.get_by_label("Lowest altitude (m, WGS84)")).to_have_value("")
    expect(rules.get_by_label("Separation inside (m)", exact=True)).to_have_value("20000")
    expect(rules.get_by_label("fires")).to_be_checked()
    expect(rules.locator(".hours-row").get_by_label("Sat")).not_to_be_checked()
    rules.get_by_role("button", name="Save the rules as a new revision").click()
    expect(rules.locator(".form-error")).to_contain_text("Nothing has changed")
    # a refusal lands on its field, and stores nothing
    rules.get_by_label("Stand-off (m)").fill("-5")
    rules.get_by_role("button", name="Save the rules as a new revision").click()
    slot = rules.locator("#" + rules.get_by_label("Stand-off (m)").get_attribute("id") + "-error")
    expect(slot).to_contain_text("standoff_m must be a number")
    assert next(z for z in s.api("/v1/zones") if z["id"] == zone["id"])["revision"] == 1
    # no aircraft either, all day every day, and until the end of the year
    rules.get_by_label("Stand-off (m)").fill("500")
    rules.get_by_label("air", exact=True).check()
    rules.get_by_role("button", name="Remove these hours").click()
    rules.get_by_label("Until (UTC, optional)").fill("2017-12-31T00:00")
    rules.get_by_label("Why these rules").fill("Aircraft too, and at any hour")
    rules.get_by_role("button", name="Save the rules as a new revision").click()
    expect(page.locator("#toasts")).to_contain_text("Ramtha buffer: its rules, revision 2, saved")
    expect(panel).to_contain_text("buffer · negotiating · revision 2")
    expect(panel.locator("dd.hours")).to_have_count(0)
    revised = next(z for z in s.api("/v1/zones") if z["id"] == zone["id"])
    assert revised["revision"] == 2 and revised["forbidden_kinds"] == ["air", "fires"], revised
    assert revised["schedule"] is None and revised["effective_until"] == "2017-12-31T00:00:00Z"
    assert revised["altitude_upper"]["value"] == 3000 and revised["standoff_m"] == 500
    assert revised["separation_m"] == 20000
    expect(panel.locator("ol.history")).to_contain_text("Aircraft too, and at any hour")
    assert not s.errors
    page.close()


def test_report_an_incident_by_clicking_the_map(browser: Browser, server: Server) -> None:
    s = sign_in(browser, server, "UN Ceasefire Monitoring Mission")
    page = s.page
    page.get_by_role("button", name="Report incident").click()
    form = page.locator("#panel form")
    s.view(32.62, 36.1, 11)
    page.mouse.click(*s.at(32.619, 36.102))
    # the place name is the gazetteer's (GeoNames), not typed
    expect(form.get_by_label("Place")).to_have_value("Dar‘ā")
    form.get_by_label("Event type", exact=True).select_option("Explosions/Remote violence")
    form.get_by_label("Sub-event type").select_option("Shelling/artillery/missile attack")
    form.get_by_label("Actor 1", exact=True).fill("Military Forces of Syria (2000-)")
    form.get_by_label("Fatalities (best estimate)").fill("2")
    form.get_by_label("Source").fill("UN monitors in Daraa")
    form.get_by_label("Alleged against").select_option("Syrian Arab Republic")
    form.get_by_role("button", name="Report").click()
    result = form.locator(".results")
    expect(result).to_contain_text("Reported: Shelling/artillery/missile attack at Dar‘ā on 2017-07-10")
    expect(result).to_contain_text("possible violation of Southwest")
    s.shot("web-07-incident")
    found = [i for i in s.api("/v1/incidents", **{"from": "2017-07-10", "to": "2017-07-10"})
             if i["location"]["name"] == "Dar‘ā"]  # fmt: skip
    assert found and found[0]["alleged"][0]["name"] == "Syrian Arab Republic"
    # the incidents layer draws it (clustered or not) after the report
    page.get_by_role("button", name="Conflicts", exact=True).click()
    assert page.evaluate("window.truceline.overlays.incidents.getLayers().length") >= 1
    assert not s.errors
    page.close()


def test_a_report_whose_answer_is_lost_is_sent_again_and_made_once(browser: Browser, server: Server) -> None:
    """A monitor's link drops after the server took the report: the page sends it again with the same
    Idempotency-Key and shows the first answer; one incident is stored. When the page gives up, the
    report waits in the outbox and is sent from there, still with that key."""
    s = sign_in(browser, server, "UN Ceasefire Monitoring Mission")
    page = s.page
    keys: list[str] = []
    lose = {"answers": 1}

    def link(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.headers["idempotency-key"])
        if lose["answers"]:
            lose["answers"] -= 1
            route.fetch()  # the server does it ...
            route.abort("connectionreset")  # ... and the answer is lost on the way
        else:
            route.continue_()

    page.route("**/v1/incidents", link)
    page.get_by_role("button", name="Report incident").click()
    form = page.locator("#panel form")
    s.view(33.0, 36.2, 11)
    page.mouse.click(*s.at(33.01, 36.21))
    form.get_by_label("Actor 1", exact=True).fill("Unidentified Armed Group (Syria)")
    form.get_by_label("Source").fill("UN monitors, lost link test")
    form.get_by_role("button", name="Report").click()
    expect(form.locator(".results")).to_contain_text("Reported: ")
    assert len(keys) == 2 and keys[0] == keys[1], keys
    mine = lambda: [i for i in s.api("/v1/incidents", limit=1000)  # noqa: E731
                    if any(src["name"] == "UN monitors, lost link test" for src in i["sources"])]  # fmt: skip
    assert len(mine()) == 1
    # the link stays down through every try: the report is kept on the device and the form cleared (so
    # it is not made twice); sent from the outbox once the link is back, same key, made once
    lose["answers"] = 4
    page.mouse.click(*s.at(33.01, 36.21))
    form.get_by_label("Actor 1", exact=True).fill("Unidentified Armed Group (Syria)")
    form.get_by_label("Source").fill("UN monitors, lost link test 2")
    form.get_by_role("button", name="Report").click()
    expect(form.locator(".results .kept")).to_contain_text("kept on this device", timeout=15_000)
    expect(form.get_by_label("Source")).to_have_value("")
    outbox = page.locator("#outbox-button")
    expect(outbox).to_contain_text("Outbox 1")
    assert len(keys) == 6 and len(set(keys[2:])) == 1 and keys[2] != keys[0], keys
    outbox.click()
    panel = page.locator("#panel .outbox")
    expect(panel.locator("li.kept")).to_contain_text("Waiting for the link. Last tried")
    panel.get_by_role("button", name="Send now").click()
    expect(page.locator("#toasts")).to_contain_text("Sent from this device: ")
    expect(outbox).to_be_hidden()
    expect(panel.get_by_role("status")).to_contain_text("Nothing waits")
    assert len(keys) == 7 and len(set(keys[2:])) == 1, keys
    again = [i for i in s.api("/v1/incidents", limit=1000)
             if any(src["name"] == "UN monitors, lost link test 2" for src in i["sources"])]  # fmt: skip
    assert len(again) == 1
    assert not s.errors
    page.close()


def test_a_report_made_while_the_link_is_down_waits_on_the_device_and_is_sent_once(
    browser: Browser, server: Server, tmp_path: Path
) -> None:
    """A monitor in the field reports with a photograph while the link is down; the first try did
    reach the server but its answer was lost. The tab is closed. Signed in again on the same device,
    the report waits in the outbox (another party signed in there does not see or send it); once the
    browser is back online it goes by itself, with the keys it was first sent with: one incident,
    one photograph."""
    url = server[0]
    monitor = _new_party(server, "Outbox test monitor", role="monitor")
    officer = _new_party(server, "Outbox test officer")
    device = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    keys: list[str] = []
    reached = {"report": 1}

    def link_down(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.headers["idempotency-key"])
        if "/evidence" not in route.request.url and reached["report"]:
            reached["report"] -= 1
            route.fetch()  # the server takes the report, and the answer is lost
        route.abort("internetdisconnected")

    def open_tab(token: str, name: str, down: bool) -> Session:
        page = device.new_page()
        if down:
            page.route("**/v1/incidents**", link_down)
        return _sign_in_with(browser, server, token, name, page)

    first = open_tab(monitor, "Outbox test monitor", down=True)
    page = first.page
    page.get_by_role("button", name="Report incident").click()
    form = page.locator("#panel form")
    first.view(32.62, 36.10, 11)
    page.mouse.click(*first.at(32.62, 36.10))
    form.get_by_label("Actor 1", exact=True).fill("Unidentified Armed Group (Syria)")
    form.get_by_label("Source").fill("Outbox test: monitors at the crossing")
    photo = tmp_path / "crater.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 20)
    form.get_by_label("Evidence (optional)").set_input_files(str(photo))
    form.get_by_role("button", name="Report").click()
    expect(form.locator(".results .kept")).to_contain_text("kept on this device", timeout=15_000)
    expect(page.locator("#outbox-button")).to_contain_text("Outbox 1")
    assert len(keys) == 4 and len(set(keys)) == 1, keys  # one request, tried four times
    assert not first.errors
    page.close()  # the tab is closed with the link still down

    mine = lambda: [i for i in first.api("/v1/incidents", limit=1000)  # noqa: E731
                    if any(src["name"] == "Outbox test: monitors at the crossing" for src in i["sources"])]  # fmt: skip
    assert len(mine()) == 1  # the server did take the first try
    again = open_tab(monitor, "Outbox test monitor", down=True)
    page = again.page
    outbox = page.locator("#outbox-button")
    expect(outbox).to_contain_text("Outbox 1")  # kept across the tab, and tried at once on sign-in
    outbox.click()
    card = page.locator("#panel .outbox li.kept")
    expect(card).to_contain_text("Armed clash")
    expect(card).to_contain_text("files: crater.jpg")
    expect(card).to_contain_text("Last tried")
    deadline = time.monotonic() + 15
    while len(keys) < 8 and time.monotonic() < deadline:  # the try on sign-in: four more, same key
        page.wait_for_timeout(100)
    assert len(keys) == 8 and len(set(keys)) == 1, keys
    # another party signed in on the same device neither sees nor sends it
    other = open_tab(officer, "Outbox test officer", down=False)
    expect(other.page.locator("#panel")).not_to_contain_text("Loading")
    expect(other.page.locator("#outbox-button")).to_be_hidden()
    other.page.close()
    # the link comes back: the browser says it is online, and the outbox goes by itself
    device.set_offline(True)
    page.unroute("**/v1/incidents**")
    device.set_offline(False)
    expect(page.locator("#toasts")).to_contain_text("Sent from this device: Armed clash", timeout=15_000)
    expect(page.locator("#toasts")).to_contain_text("with crater.jpg")
    expect(outbox).to_be_hidden()
    expect(page.locator("#panel .outbox").get_by_role("status")).to_contain_text("Nothing waits")
    stored = mine()
    assert len(stored) == 1, stored
    ev = httpx.get(f"{url}/v1/incidents/{stored[0]['id']}", headers={"Authorization": f"Bearer {monitor}"}).json()
    assert [e["resourceDesc"] for e in ev["evidence"]] == ["crater.jpg"], ev["evidence"]
    # evidence attached on the incident's page while the link is down waits the same way
    page.route("**/v1/incidents/*/evidence", lambda route: route.abort("internetdisconnected"))
    page.evaluate("(id) => window.truceline.openIncident({ id, event_type: 'Incident' })", stored[0]["id"])
    form = page.locator("#panel .incident-page form.evidence-form")
    form.get_by_label("File").set_input_files(str(photo))
    form.get_by_label("What it is").fill("The crater, second photograph")
    form.get_by_role("button", name="Attach").click()
    expect(form.locator(".kept")).to_contain_text("crater.jpg is kept on this device", timeout=15_000)
    expect(outbox).to_contain_text("Outbox 1")
    page.unroute("**/v1/incidents/*/evidence")
    outbox.click()
    expect(page.locator("#panel .outbox li.kept")).to_contain_text("Evidence for Armed clash")
    page.locator("#panel .outbox").get_by_role("button", name="Send now").click()
    expect(page.locator("#toasts")).to_contain_text("with The crater, second photograph")
    expect(outbox).to_be_hidden()
    ev = httpx.get(f"{url}/v1/incidents/{stored[0]['id']}", headers={"Authorization": f"Bearer {monitor}"}).json()
    assert [e["resourceDesc"] for e in ev["evidence"]] == ["crater.jpg", "The crater, second photograph"]
    assert not again.errors
    device.close()


def test_live_tracks_with_predicted_vectors(browser: Browser, server: tuple[str, dict[str, str], str]) -> None:
    s = sign_in(browser, server, "United States")
    expect(s.page.locator("#live")).to_contain_text("tracks", timeout=15_000)
    assert s.page.locator("path.track").count() > 0
    s.page.close()


def test_live_alerts_say_what_is_predicted_and_show_it_on_the_map(browser: Browser, server: Server) -> None:
    """Two parties of their own (so no other test's hotline counts move) fly head-on: the Alerts
    panel says who will lose separation with whom and when, counts on its button, and shows the pair."""
    url, tokens, _ = server
    admin = {"Authorization": f"Bearer {tokens['Truceline operator']}"}
    made = {}
    for name in ("Alert test east", "Alert test west"):
        r = httpx.post(f"{url}/v1/parties", headers=admin, json={"name": name, "role": "officer"})
        assert r.status_code == 201, r.text
        made[name] = r.json()["token"]
    page = browser.new_page(viewport=DESKTOP)  # type: ignore[arg-type]
    s = Session(page, url, made["Alert test east"])
    page.goto(f"{url}/")
    dialog = page.get_by_role("dialog", name="Sign in")
    dialog.get_by_label("Party token").fill(made["Alert test east"])
    dialog.get_by_label("Party token").press("Enter")
    expect(page.locator("#who")).to_contain_text("Alert test east")
    page.get_by_role("button", name=re.compile("^(Alerts|Live alerts)")).click()
    panel = page.locator("#panel")
    expect(panel.locator("h2")).to_have_text("Live alerts")
    expect(panel).to_contain_text("No separation or incursion alert concerns your party now.")
    # 60 km apart on one parallel, closing at 400 m/s: separation is lost in about two minutes
    lat, lon = 34.0, 40.0
    dlon = math.degrees(60_000 / (6_371_000 * math.cos(math.radians(lat))))
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    for who, callsign, at, heading in (("Alert test east", "EAST1", lon, 90.0),
                                       ("Alert test west", "WEST1", lon + dlon, 270.0)):  # fmt: skip
        r = httpx.post(f"{url}/v1/tracks", headers={"Authorization": f"Bearer {made[who]}"}, json=[{
            "track_id": callsign.lower(), "callsign": callsign, "time": now, "lat": lat, "lon": at,
            "altitude_m": 3000, "ground_speed_mps": 200, "track_deg": heading, "vertical_rate_mps": 0}])  # fmt: skip
        assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    card = panel.locator("li.live-alert")
    expect(card).to_have_count(1, timeout=15_000)
    expect(card.locator(".rule")).to_have_text("separation")
    expect(card).to_contain_text("EAST1 (Alert test east, air) and WEST1 (Alert test west, air)")
    expect(card.locator(".badge")).to_contain_text(re.compile(r"^in \d+ (s|min)$"))
    expect(card.locator(".meta")).to_contain_text("m apart now, 0 m vertically; closest")
    expect(card.locator(".meta")).to_contain_text(re.compile(r"from \d\d:\d\d:\d\dZ to \d\d:\d\d:\d\dZ$"))
    expect(page.locator("#badge-alerts")).to_have_text("1")
    expect(page.locator("#alerts-button")).to_have_attribute("aria-label", "Live alerts: 1")
    s.shot("web-live-alerts")
    # the pair on the map
    card.get_by_role("button", name="Show on map").click()
    bounds = page.evaluate("(() => { const b = window.truceline.map.getBounds(); "
                           "return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; })()")  # fmt: skip
    assert bounds[0] < lat < bounds[2] and bounds[1] < lon and lon + dlon < bounds[3], bounds
    assert page.evaluate("window.truceline.map.getZoom()") >= 7
    # and its conflict, opened for both on the hotline
    expect(card.get_by_role("button", name="Its conflict")).to_be_visible(timeout=15_000)
    card.get_by_role("button", name="Its conflict").click()
    expect(panel.locator("h2")).to_have_text("Conflicts")
    assert not s.errors
    page.close()


def test_tablet_width_and_no_request_leaves_the_machine(browser: Browser, server: Server) -> None:
    url = server[0]
    s = sign_in(browser, server, "Russian Federation", viewport=TABLET)
    page = s.page
    expect(page.locator("#panel h2")).to_have_text("Conflicts")
    expect(page.locator("#feed")).to_have_text("Hotline: live")
    s.settle()
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page is wider than a tablet: {width}"
    map_box, panel_box = page.locator("#map").bounding_box(), page.locator("#panel").bounding_box()
    assert map_box and panel_box and map_box["width"] > 700 and panel_box["y"] >= map_box["y"] + map_box["height"] - 1
    s.shot("web-08-tablet")
    outside = [r for r in s.requests if not r.startswith((url, "data:", "blob:"))]
    assert not outside, f"the page reached beyond the server: {outside}"
    assert not s.errors
    page.close()


def test_the_api_docs_work_offline_and_try_a_call_with_a_token(browser: Browser, server: Server) -> None:
    """/docs is Swagger UI served by the server itself (no CDN): a field office with no internet can
    read the API, authorize with a party token, and try a call."""
    url, tokens, _ = server
    page = browser.new_page(viewport=DESKTOP)  # type: ignore[arg-type]
    s = Session(page, url, tokens["World Food Programme"])
    page.goto(f"{url}/docs")
    expect(page.locator(".opblock-summary-path", has_text="/v1/activities").first).to_be_visible(timeout=15_000)
    page.locator(".auth-wrapper .authorize").click()
    page.locator(".modal-ux input").fill(s.token)
    page.locator(".modal-ux .auth-btn-wrapper .authorize").click()
    page.locator(".modal-ux .auth-btn-wrapper .btn-done").click()
    me = page.locator(".opblock").filter(has=page.locator(".opblock-summary-path", has_text=re.compile(r"^/v1/me$")))
    me.locator(".opblock-summary").click()
    me.locator(".try-out__btn").click()
    me.locator(".execute").click()
    expect(me.locator(".live-responses-table .response .response-col_status").first).to_have_text("200", timeout=10_000)
    expect(me.locator(".live-responses-table .response .microlight").first).to_contain_text("World Food Programme")
    # a write, straight from the document's example body: it is accepted as it stands
    notify = page.locator(".opblock-post").filter(
        has=page.locator(".opblock-summary-path", has_text=re.compile(r"^/v1/activities$"))
    )
    notify.locator(".opblock-summary").click()
    notify.locator(".try-out__btn").click()
    expect(notify.locator("textarea.body-param__text")).to_contain_text("Nasib")
    notify.locator(".execute").click()
    expect(notify.locator(".live-responses-table .response .response-col_status").first).to_have_text(
        "201", timeout=10_000
    )
    s.shot("web-10-api-docs")
    outside = [r for r in s.requests if not r.startswith((url, "data:", "blob:"))]
    assert not outside, f"the docs reached beyond the server: {outside}"
    assert not s.errors
    page.close()


def test_web_config_offers_the_demo_parties_and_the_scenario_day(server: tuple[str, dict[str, str], str]) -> None:
    r = httpx.get(f"{server[0]}/web/config")
    assert r.status_code == 200
    body = r.json()
    assert body["opens_at"] == "2017-07-10T09:00:00Z" and body["tile_url"] is None
    assert {p["name"] for p in body["demo_parties"]} == set(server[1])
    assert body["event_types"]["Battles"] == ["Armed clash", "Government regains territory",
                                              "Non-state actor overtakes territory"]  # fmt: skip


def test_revise_a_boundary_by_dragging_a_corner(browser: Browser, server: Server) -> None:
    s = sign_in(browser, server, "Russian Federation")
    page = s.page
    zone = next(z for z in s.api("/v1/zones") if z["name"] == "Idlib de-escalation zone")
    page.get_by_role("button", name="Zones", exact=True).click()
    page.locator("#panel").get_by_role("button", name=zone["name"]).click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text(zone["name"])
    panel.get_by_role("button", name="Revise the boundary").click()
    lng, lat = zone["geometry"]["coordinates"][0][0]
    x, y = s.at(lat, lng)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 30, y + 20, steps=5)
    page.mouse.up()
    panel.get_by_label("Why this revision").fill("Moved the western corner to the Orontes")
    panel.get_by_role("button", name="Save as a new revision").click()
    expect(page.locator(".toast")).to_contain_text("new revision saved")
    expect(panel).to_contain_text(f"revision {zone['revision'] + 1}")
    revised = next(z for z in s.api("/v1/zones") if z["id"] == zone["id"])
    assert revised["revision"] == zone["revision"] + 1
    assert revised["geometry"]["coordinates"][0][0] != [lng, lat]
    expect(panel.locator("ol.history")).to_contain_text("Moved the western corner to the Orontes")
    assert not s.errors
    page.close()


def test_change_and_cancel_an_own_activity_from_its_conflict(browser: Browser, server: Server) -> None:
    """From a conflict to the plan behind it: move its window (a new version, checked again), refused
    if someone changed it first, then cancel it, and its conflicts close."""
    url, tokens, _ = server
    turkey = {"Authorization": f"Bearer {tokens['Turkey']}"}
    window = {"time_start": {"value": "2017-07-10T08:00:00Z", "format": "RFC3339"},
              "time_end": {"value": "2017-07-10T10:00:00Z", "format": "RFC3339"}}  # fmt: skip
    volume = {"outline_circle": {"center": {"lat": 32.78, "lng": 36.5}, "radius": {"value": 3000, "units": "M"}},
              "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
              "altitude_upper": {"value": 500, "reference": "W84", "units": "M"}}  # fmt: skip
    plan = {"kind": "ground", "title": "Turkish liaison convoy", "volumes": [{"volume": volume, **window}]}
    made = httpx.post(f"{url}/v1/activities", json=plan, headers=turkey).json()
    aid = made["activity"]["id"]
    assert made["conflicts"]
    s = sign_in(browser, server, "Turkey")
    page, panel = s.page, s.page.locator("#panel")
    panel.get_by_role("button", name="Change “Turkish liaison convoy”").first.click()
    expect(panel.get_by_role("heading", level=2)).to_have_text("Turkish liaison convoy")
    expect(panel).to_contain_text("ground · active · version 1")
    expect(panel.locator(".cards li")).to_have_count(len(made["conflicts"]))
    # someone (another officer of the same party) changes it first: the page's save is refused
    httpx.put(f"{url}/v1/activities/{aid}", json={**plan, "version": 1}, headers=turkey).raise_for_status()
    panel.get_by_label("End (UTC)").fill("2017-07-10T12:30")
    panel.get_by_role("button", name="Save a new version").click()
    expect(panel.locator(".form-error")).to_contain_text("version")
    assert httpx.get(f"{url}/v1/activities/{aid}", headers=turkey).json()["activity"]["version"] == 2
    # read again, then move the end: checked against the zones first (nothing saved), then saved as
    # a new version, its conflicts checked again
    page.evaluate("(id) => window.truceline.openActivity({id})", aid)
    expect(panel).to_contain_text("version 2")
    panel.get_by_label("End (UTC)").fill("2017-07-10T12:30")
    panel.get_by_role("button", name="Check against the zones").click()
    expect(panel.locator(".results")).to_contain_text("Checked, not notified: Turkish liaison convoy")
    expect(panel.locator(".results .check-now")).to_contain_text("Southwest de-escalation zone")
    expect(panel.locator(".results .check-now")).to_contain_text("to 2017-07-10T12:30:00Z")
    expect(page.locator("path.plan-check.now")).to_have_count(1)
    assert httpx.get(f"{url}/v1/activities/{aid}", headers=turkey).json()["activity"]["version"] == 2
    panel.get_by_role("button", name="Save a new version").click()
    expect(panel).to_contain_text("ground · active · version 3")
    expect(panel.locator(".volumes")).to_contain_text("10 Jul 2017 08:00Z – 10 Jul 2017 12:30Z")
    after = httpx.get(f"{url}/v1/activities/{aid}", headers=turkey).json()
    assert after["activity"]["time_end"] == "2017-07-10T12:30:00Z" and after["activity"]["version"] == 3
    # its history from the audit log, newest first, with the token each change came with
    history = panel.get_by_role("list", name="History").locator("li")
    expect(history).to_have_count(3)
    expect(history.first).to_contain_text("activity.updated by first token")
    expect(history.last).to_contain_text("activity.notified by first token")
    s.shot("web-12-activity-page")
    # a conflict's thread, where the parties settle it, and back
    first = panel.locator(".cards li").first
    reason = first.locator(".reason").inner_text()
    first.get_by_role("button", name="Its thread").click()
    expect(panel.locator("h2")).to_contain_text("Deconfliction: ")
    expect(panel.locator("ol.cards")).to_contain_text(reason[:60])
    page.evaluate("(id) => window.truceline.openActivity({id})", aid)
    expect(panel).to_contain_text("version 3")
    # cancelling takes two clicks; then its conflicts close
    panel.get_by_role("button", name="Cancel this activity").click()
    expect(panel).to_contain_text("ground · active")
    panel.get_by_role("button", name="Click again to cancel it: its conflicts close").click()
    expect(panel).to_contain_text("ground · cancelled · version 4")
    expect(history.first).to_contain_text("activity.cancelled")
    expect(panel.get_by_role("button", name="Save a new version")).to_have_count(0)
    assert httpx.get(f"{url}/v1/activities/{aid}", headers=turkey).json()["conflicts"] == []
    open_ids = {c["id"] for c in httpx.get(f"{url}/v1/conflicts", headers=turkey).json()}
    assert not open_ids & {c["id"] for c in made["conflicts"]}
    assert not s.errors
    page.close()


def test_drag_an_activity_s_outline_into_a_new_version(browser: Browser, server: Server) -> None:
    """On its page, an activity's outline is dragged on the map like a zone's boundary; saving sends
    the new outline as the next version, and its conflicts are checked again."""
    url, tokens, _ = server
    jordan = {"Authorization": f"Bearer {tokens['Jordan']}"}
    ring = [[36.9, 32.0], [37.0, 32.0], [37.0, 32.1], [36.9, 32.1], [36.9, 32.0]]
    window = {"time_start": {"value": "2017-07-10T08:00:00Z", "format": "RFC3339"},
              "time_end": {"value": "2017-07-10T10:00:00Z", "format": "RFC3339"}}  # fmt: skip
    volume = {"outline_polygon": {"vertices": [{"lat": la, "lng": lo} for lo, la in ring]},
              "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
              "altitude_upper": {"value": 500, "reference": "W84", "units": "M"}}  # fmt: skip
    plan = {"kind": "patrol", "title": "Border patrol east of Ramtha", "volumes": [{"volume": volume, **window}]}
    aid = httpx.post(f"{url}/v1/activities", json=plan, headers=jordan).json()["activity"]["id"]
    s = sign_in(browser, server, "Jordan")
    page, panel = s.page, s.page.locator("#panel")
    page.evaluate("(id) => window.truceline.openActivity({id})", aid)
    expect(panel.get_by_role("heading", level=2)).to_have_text("Border patrol east of Ramtha")
    panel.get_by_role("button", name="Edit the outline on the map").click()
    expect(panel).to_contain_text("Drag its corners")
    x, y = s.at(32.1, 37.0)  # the north-east corner
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 40, y - 30, steps=5)
    page.mouse.up()
    panel.get_by_role("button", name="Save a new version").click()
    expect(panel).to_contain_text("patrol · active · version 2")
    after = httpx.get(f"{url}/v1/activities/{aid}", headers=jordan).json()["activity"]
    vertices = after["volumes"][0]["volume"]["outline_polygon"]["vertices"]
    moved = {(round(p["lng"], 3), round(p["lat"], 3)) for p in vertices}
    assert (37.0, 32.1) not in moved and {(36.9, 32.0), (37.0, 32.0), (36.9, 32.1)} <= moved
    assert after["time_start"] == "2017-07-10T08:00:00Z"  # the window is kept
    assert page.evaluate("window.truceline.overlays.scratch.getLayers().length") == 0
    assert not s.errors
    page.close()


def israeli_zone_in_force(server: Server, name: str, kind: str, lng: float, lat: float, **rules: Any) -> dict[str, Any]:
    """A 0.1° square zone at (lng, lat) that Israel proposes alone and signs into force, from July 2017."""
    url, tokens, _ = server
    israel = {"Authorization": f"Bearer {tokens['Israel']}"}
    ring = [[lng, lat], [lng + 0.1, lat], [lng + 0.1, lat + 0.1], [lng, lat + 0.1], [lng, lat]]
    body = {"name": name, "kind": kind, "geometry": {"type": "Polygon", "coordinates": [ring]},
            "effective_from": "2017-07-01T00:00:00Z", **rules}  # fmt: skip
    z = httpx.post(f"{url}/v1/zones", json=body, headers=israel).json()["zone"]
    signed = httpx.post(f"{url}/v1/zones/{z['id']}/signoffs", json={"revision": 1, "strength": "final"}, headers=israel)
    assert signed.json()["zone"]["status"] == "in_force", signed.text
    return dict(z)


def test_a_zone_s_hours_show_on_the_map(browser: Browser, server: Server) -> None:
    """A nightly no-fly zone counts as in force on the map only in its hours (UTC), and its page says
    which hours they are."""
    url, tokens, _ = server
    israel = {"Authorization": f"Bearer {tokens['Israel']}"}
    z = israeli_zone_in_force(server, "Golan night no-fly", "no_fly", 35.7, 33.0, forbidden_kinds=["air"],
                              schedule=[{"days": ["MON", "TUE"], "start": "22:00", "end": "05:00"}])  # fmt: skip
    try:
        s = sign_in(browser, server, "Israel")
        page = s.page

        def in_force_at(moment: str) -> int:
            page.evaluate("(t) => window.truceline.setMoment(Date.parse(t))", moment)
            text = page.locator("#summary").inner_text()
            return int(re.split(r" zones? in force", text)[0])

        # a quarter of an hour either side of the hours' edges: only this zone changes
        assert in_force_at("2017-07-10T22:00:00Z") == in_force_at("2017-07-10T21:45:00Z") + 1  # a Monday
        assert in_force_at("2017-07-11T04:45:00Z") == in_force_at("2017-07-11T05:00:00Z") + 1  # into Tuesday
        assert in_force_at("2017-07-12T04:45:00Z") == in_force_at("2017-07-12T05:00:00Z") + 1  # Tuesday's night
        assert in_force_at("2017-07-13T04:45:00Z") == in_force_at("2017-07-13T05:00:00Z")  # no Wednesday night
        page.evaluate("(id) => window.truceline.openZone(id)", z["id"])
        expect(page.locator("#panel .hours")).to_have_text("MON, TUE 22:00–05:00 UTC")
        assert not s.errors
        page.close()
    finally:
        httpx.post(f"{url}/v1/zones/{z['id']}/lapse", headers=israel).raise_for_status()


def _notify_form(s: Session, title: str, lat: float, lng: float) -> Any:
    """Fill the Notify panel with a two-hour ground activity around (lat, lng), drawn on the map."""
    page = s.page
    page.get_by_role("button", name="Notify", exact=True).click()
    form = page.locator("#panel form")
    form.get_by_label("Kind").select_option("ground")
    form.get_by_label("Title").fill(title)
    form.get_by_label("Start (UTC)").fill("2017-07-11T10:00")
    form.get_by_label("End (UTC)").fill("2017-07-11T12:00")
    form.get_by_label("Highest altitude (m)").fill("300")
    s.view(lat, lng, 10)
    s.draw_area(form, [(lat - 0.05, lng - 0.05), (lat - 0.05, lng + 0.05), (lat + 0.05, lng + 0.05),
                       (lat + 0.05, lng - 0.05)])  # fmt: skip
    expect(form.locator("output[name=geometry]")).to_contain_text("Area of 4 points drawn")
    return form


def test_a_party_with_a_signing_key_signs_its_changes_from_the_page(
    browser: Browser, server: Server, tmp_path: Path
) -> None:
    """Once a party registers a key, the page asks for the private key, checks it against the registered
    one, and signs every change with it; without it the page stays read-only and sends nothing."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from truceline.domain.audit import public_key_b64, request_message, verify_signature

    url, tokens, _ = server
    files = {}
    for name, k in (("ours", Ed25519PrivateKey.generate()), ("other", Ed25519PrivateKey.generate())):
        files[name] = tmp_path / f"{name}.pem"
        files[name].write_bytes(k.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        if name == "ours":
            public = public_key_b64(k)
    files["notes"] = tmp_path / "notes.txt"
    files["notes"].write_text("not a key\n")
    iran = {"Authorization": f"Bearer {tokens['Iran']}"}
    httpx.put(f"{url}/v1/me/key", json={"public_key": public}, headers=iran).raise_for_status()

    s = sign_in(browser, server, "Iran")
    page = s.page
    dialog = page.get_by_role("dialog", name="Signing key")
    expect(dialog).to_contain_text("Iran has registered a signing key")
    dialog.get_by_role("button", name="Continue read-only").click()
    expect(dialog).to_have_count(0)
    signing = page.locator("#signing")
    expect(signing).to_have_text("Signing key: not loaded")
    # read-only: a change is refused in the page, and no write request leaves it
    before = len(s.api("/v1/activities"))
    form = _notify_form(s, "Rotation at Al-Bukamal", 34.45, 40.92)
    writes: list[str] = []
    page.on("request", lambda r: r.method != "GET" and writes.append(r.url))
    form.get_by_role("button", name="Notify", exact=True).click()
    expect(form.locator(".form-error")).to_contain_text("load its signing key first")
    assert not writes
    # another key, and a file that is no key at all, are refused by name
    signing.click()
    for name, says in (("other", "is not your party's registered key"), ("notes", "not a PEM private key")):
        dialog.get_by_label("Private key (PEM)").set_input_files(str(files[name]))
        dialog.get_by_role("button", name="Use this key").click()
        expect(dialog.locator(".form-error")).to_contain_text(f"{files[name].name}: ")
        expect(dialog.locator(".form-error")).to_contain_text(says)
    s.shot("web-13-signing-key")
    dialog.get_by_label("Private key (PEM)").set_input_files(str(files["ours"]))
    dialog.get_by_role("button", name="Use this key").click()
    expect(dialog).to_have_count(0)
    expect(signing).to_have_text("Signing ✓")
    # signed: the same form now notifies, and the audit log holds the request as signed
    form.get_by_role("button", name="Notify", exact=True).click()
    expect(form.locator(".results")).to_contain_text("Notified: Rotation at Al-Bukamal")
    mine = [a for a in s.api("/v1/activities") if a["title"] == "Rotation at Al-Bukamal"]
    assert len(s.api("/v1/activities")) == before + 1 and len(mine) == 1
    entries = s.api("/v1/audit", limit=5000)
    (entry,) = [e for e in entries if e["action"] == "activity.notified" and e["entity_id"] == mine[0]["id"]]
    signed = entry["payload"]["signed"]
    assert entry["payload"]["public_key"] == public
    assert (signed["method"], signed["path"]) == ("POST", "/v1/activities")
    assert signed["body"]["title"] == "Rotation at Al-Bukamal"
    message = request_message(signed["method"], signed["path"], signed["body"], at=signed["at"], nonce=signed["nonce"])
    assert verify_signature(public, message, entry["payload"]["signature"])
    # signed as it was sent, with a fresh nonce: good for that one request
    signed_at = datetime.fromisoformat(signed["at"])
    assert abs((datetime.now(UTC) - signed_at).total_seconds()) < 120 and re.fullmatch(r"[\w-]{22}", signed["nonce"])
    seen = f"t={signed['at']}, nonce={signed['nonce']}, sig={entry['payload']['signature']}"  # from the log
    replayed = httpx.post(f"{url}/v1/activities", content=json.dumps(signed["body"]),
                          headers={**iran, "Content-Type": "application/json", "Truceline-Signature": seen})
    assert replayed.status_code == 409
    # evidence is signed with its content's digest in place of the content: the log keeps the
    # signature checkable, not the file
    from tests.helpers import incident_body

    jordan = {"Authorization": f"Bearer {tokens['Jordan']}"}
    where = {"name": "Al-Bukamal", "latitude": 34.45, "longitude": 40.92, "geo_precision": 1, "country": "Syria"}
    incident = httpx.post(f"{url}/v1/incidents", headers=jordan,
                          json=incident_body(event_date="2017-07-14", location=where)).json()  # fmt: skip
    page.evaluate("(id) => window.truceline.openIncident({ id, event_type: 'Incident' })", incident["id"])
    panel = page.locator("#panel .incident-page")
    expect(panel.get_by_role("heading", name="Armed clash, Al-Bukamal")).to_be_visible()
    photo = tmp_path / "rotation.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 400 + b"\xff\xd9")
    panel.get_by_label("What it is").fill("Photograph of the rotation")
    panel.get_by_label("File").set_input_files(str(photo))
    panel.get_by_role("button", name="Attach").click()
    expect(panel.locator("ul.evidence li")).to_contain_text("Photograph of the rotation (image/jpeg, 100 kB) · Iran")
    (entry,) = [e for e in s.api("/v1/audit", entity_id=incident["id"]) if e["action"] == "incident.evidence_added"]
    signed = entry["payload"]["signed"]
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    assert signed["body"] == {"resourceDesc": "Photograph of the rotation", "mimeType": "image/jpeg",
                              "derefUri": {"sha256": digest}}  # fmt: skip
    assert entry["payload"]["change"]["sha256"] == digest and len(json.dumps(entry)) < 3000
    message = request_message(signed["method"], signed["path"], signed["body"], at=signed["at"], nonce=signed["nonce"])
    assert verify_signature(public, message, entry["payload"]["signature"])
    # a reload keeps the token but not the key: the page asks again
    page.reload()
    expect(page.get_by_role("dialog", name="Signing key")).to_be_visible()
    assert not s.errors
    page.close()


def _edge_values() -> list[Any]:
    """JSON values whose canonical text is easy to get wrong: floats across every exponent (Python writes
    1e-05 and 1e+16 where JavaScript writes 0.00001 and 10000000000000000), integer-valued floats, huge
    and tiny magnitudes, escapes, and keys that sort differently by UTF-16 unit and by code point."""
    import random
    import struct

    rng = random.Random(2017)
    floats = [0.1, -0.0, 1e16, 1e15 + 0.5, 1e-5, 1e-4, 0.00012, 1.5e-7, 1e21, 1e22, 123456789012345.67,
              5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 36.0, -180.0, 2**53 + 0.0]  # fmt: skip
    floats += [m * 10.0**e for e in range(-30, 31) for m in (1, 1.5, 9.999999999999999)]
    floats += [round(rng.uniform(-180, 180), rng.randint(0, 15)) for _ in range(500)]
    while len(floats) < 2500:
        (x,) = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))
        if x == x and abs(x) != float("inf"):
            floats.append(x)
    ints = [0, -1, 2**53 - 1, -(2**53) + 1, *(rng.randint(-(2**53), 2**53) for _ in range(200))]
    texts = ["", 'quote " and \\ backslash', "tab\tnew\nline\r\x00\x1f\x7f", "Дераа — درعا ✓", "\u2028\u2029",
             "astral 𝔸 😀", "</script>"]  # fmt: skip
    keyed = {"b": 1, "a": [1.5, None, True, False], "\uffff": "high BMP", "😀": "astral", "A": {"z": {}, "y": []}}
    return [floats, ints, texts, keyed, {"nested": [[{"x": f} for f in floats[:50]]]}]


def test_the_page_writes_bodies_as_the_server_re_serialises_them(browser: Browser, server: Server) -> None:
    """A signature holds only if the canonical JSON the page signs is, byte for byte, what the server
    rebuilds in Python from the body it receives: checked in Chromium against Python's own."""
    from truceline.domain.audit import canonical

    url, _, _ = server
    page = browser.new_page()
    page.goto(f"{url}/")
    page.wait_for_function("window.truceline && window.truceline.api")
    for value in _edge_values():
        text = page.evaluate("(v) => window.truceline.api.bodyText(v)", value)
        parsed = json.loads(text)
        assert parsed == value
        assert canonical(parsed) == text.encode(), text[:200]
    page.close()


def test_evidence_is_attached_to_an_incident_and_downloaded_from_its_page(
    browser: Browser, server: Server, tmp_path: Path
) -> None:
    from tests.helpers import incident_body

    url, tokens, _ = server
    monitor = {"Authorization": f"Bearer {tokens['UN Ceasefire Monitoring Mission']}"}
    where = {"name": "Nawa", "latitude": 32.89, "longitude": 36.04, "geo_precision": 1, "country": "Syria"}
    made = httpx.post(f"{url}/v1/incidents", headers=monitor,
                      json=incident_body(event_date="2017-07-13", location=where)).json()  # fmt: skip
    s = sign_in(browser, server, "UN Ceasefire Monitoring Mission")
    page = s.page
    s.page.evaluate("(id) => window.truceline.openIncident({ id, event_type: 'Incident' })", made["id"])
    panel = page.locator("#panel .incident-page")
    expect(panel.get_by_role("heading", name="Armed clash, Nawa")).to_be_visible()
    expect(panel).to_contain_text("No evidence attached.")
    # nothing chosen: the field says so
    panel.get_by_label("What it is").fill("Photograph of the crater")
    panel.get_by_role("button", name="Attach").click()
    expect(panel.locator("#" + panel.get_by_label("File").get_attribute("id") + "-error")).to_contain_text("base64")
    photo = tmp_path / "crater.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    panel.get_by_label("File").set_input_files(str(photo))
    panel.get_by_role("button", name="Attach").click()
    item = panel.locator("ul.evidence li")
    expect(item).to_contain_text("Photograph of the crater (image/png, 10 kB) · UN Ceasefire Monitoring Mission")
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    expect(item.locator(".hint")).to_have_text(f"SHA-256 {digest}")
    with page.expect_download() as got:
        item.get_by_role("button", name="Download").click()
    assert Path(got.value.path()).read_bytes() == photo.read_bytes()
    # reported from the field with its files: the report is stored, then each file attached; one too
    # large is named, and the report stands
    video = tmp_path / "shelling.mp4"
    video.write_bytes(b"\0" * 11_000_000)
    page.get_by_role("button", name="Report incident").click()
    form = page.locator("#panel form")
    s.view(32.89, 36.04, 11)
    page.mouse.click(*s.at(32.89, 36.04))
    form.get_by_label("Actor 1", exact=True).fill("Military Forces of Syria (2000-)")
    form.get_by_label("Source").fill("UN monitors in Nawa")
    form.get_by_label("Evidence (optional)").set_input_files([str(photo), str(video)])
    form.get_by_role("button", name="Report").click()
    result = form.locator(".results")
    expect(result.locator(".evidence-attached")).to_have_text("Evidence attached: crater.png.")
    expect(result.locator(".evidence-refused")).to_contain_text("shelling.mp4: ")
    result.get_by_role("button", name="Open its page").click()
    panel = page.locator("#panel .incident-page")
    expect(panel.locator("ul.evidence li")).to_have_count(1)
    expect(panel.locator("ul.evidence li")).to_contain_text("crater.png (image/png, 10 kB)")
    assert not s.errors
    page.close()


def test_verify_dispute_and_merge_an_incident_from_its_page(browser: Browser, server: Server) -> None:
    """An incident's page offers each party the steps it may take: the party it is alleged against
    disputes it, a monitor reviews and verifies it and merges a duplicate into it, then undoes that."""
    from tests.helpers import incident_body

    url, tokens, _ = server
    where = {"name": "Khan Arnabah", "latitude": 33.18, "longitude": 35.89, "geo_precision": 1, "country": "Syria"}
    body = incident_body(event_date="2017-07-12", location=where, alleged=["Syrian Arab Republic"],
                         sources=[{"name": "UN team Quneitra", "notes": "tank fire at noon"}])  # fmt: skip
    monitor = {"Authorization": f"Bearer {tokens['UN Ceasefire Monitoring Mission']}"}
    first = httpx.post(f"{url}/v1/incidents", json=body, headers=monitor).json()
    twin = {**body, "location": {**where, "latitude": 33.19}, "sources": [{"name": "Local council", "scale": "Local"}]}
    israel = {"Authorization": f"Bearer {tokens['Israel']}"}
    second = httpx.post(f"{url}/v1/incidents", json=twin, headers=israel).json()

    def open_page(s: Session) -> Any:
        s.page.evaluate("(id) => window.truceline.openIncident({ id, event_type: 'Incident' })", first["id"])
        panel = s.page.locator("#panel .incident-page")
        expect(panel.get_by_role("heading", name="Armed clash, Khan Arnabah")).to_be_visible()
        return panel

    # the party it is alleged against may only dispute, and must say why
    s = sign_in(browser, server, "Syrian Arab Republic")
    panel = open_page(s)
    expect(panel.locator("form.steps button")).to_have_text(["Dispute"])
    expect(panel.locator("form.duplicates")).to_have_count(0)
    panel.get_by_role("button", name="Dispute").click()
    expect(panel.locator("form.steps .field-error")).to_contain_text("a statement is required to dispute")
    panel.locator("form.steps").get_by_label("Statement").fill("our units were in Khan Arnabah barracks")
    panel.get_by_role("button", name="Dispute").click()
    expect(panel.locator("p.meta")).to_contain_text("disputed")
    expect(panel.locator("form.steps")).to_have_count(0)  # nothing more it may do now
    expect(panel.locator("ol.steps")).to_contain_text("dispute by Syrian Arab Republic")
    s.page.close()

    # the monitor weighs the dispute, verifies, and merges the second report in
    s = sign_in(browser, server, "UN Ceasefire Monitoring Mission")
    page = s.page
    panel = open_page(s)
    expect(panel.locator("form.steps button")).to_have_text(["Take up for review"])
    panel.get_by_role("button", name="Take up for review").click()
    expect(panel.locator("form.steps button")).to_have_text(["Verify", "Reject"])
    panel.locator("form.steps").get_by_label("Statement").fill("tank tracks and two witnesses")
    panel.get_by_role("button", name="Verify").click()
    expect(panel.locator("p.meta")).to_contain_text("verified")
    expect(panel.locator("ol.steps li")).to_have_count(3)
    dupes = panel.locator("form.duplicates")
    candidate = dupes.locator("li", has_text="Israel")
    expect(candidate).to_contain_text("km apart")
    candidate.get_by_role("checkbox").check()
    dupes.get_by_label("Statement").fill("the same tank fire")
    s.shot("web-14-incident-page")
    dupes.get_by_role("button", name="Merge the chosen into this record").click()
    expect(panel.locator(".sources")).to_contain_text("Local council")
    merged = panel.locator("form.merged")
    expect(merged).to_contain_text("Israel: Local council")
    got = s.api(f"/v1/incidents/{first['id']}")
    assert got["status"] == "verified" and [m["id"] for m in got["merged"]] == [second["id"]]
    assert [x["step"] for x in got["steps"]] == ["dispute", "review", "verify", "merge"]
    # and undone: the second record stands alone again
    merged.get_by_label("Statement (why they are separate events)").fill("two separate strikes after all")
    merged.get_by_role("button", name="Unmerge").click()
    expect(panel.locator("form.merged")).to_have_count(0)
    assert s.api(f"/v1/incidents/{second['id']}")["merged_into"] is None
    # the day's situation report downloads from the time bar
    page.evaluate("() => window.truceline.setMoment(Date.parse('2017-07-12T12:00:00Z'))")
    with page.expect_download() as got_report:
        page.get_by_role("button", name="Day report").click()
    report = got_report.value
    assert report.suggested_filename == "sitrep-2017-07-12.html"
    html = Path(report.path()).read_text()
    assert "12 July 2017" in html or "2017-07-12" in html
    assert "Khan Arnabah" in html
    assert not s.errors
    page.close()


def test_suspend_resume_and_hand_out_responsibilities_from_the_zone_page(browser: Browser, server: Server) -> None:
    """A signatory suspends and resumes its zone, with the reason, and asks another party to monitor
    it; that party answers on the same page (a refusal needs a statement)."""
    url, tokens, _ = server
    israel = {"Authorization": f"Bearer {tokens['Israel']}"}
    z = israeli_zone_in_force(server, "Hermon observation strip", "buffer", 35.75, 33.2)
    try:
        s = sign_in(browser, server, "Israel")
        page = s.page
        page.evaluate("(id) => window.truceline.openZone(id)", z["id"])
        panel = page.locator("#panel .zone-page")
        moves = panel.locator("form.status-moves")
        expect(moves.locator("button")).to_have_text(["Lapse", "Suspend"])
        # asking: Jordan, as monitor
        ask = panel.locator("form.ask")
        ask.get_by_label("Ask party").select_option(label="Jordan")
        ask.get_by_label("to be").select_option("monitor")
        ask.get_by_role("button", name="Ask").click()
        expect(panel.locator(".responsibilities")).to_contain_text("Jordan: monitor (requested)")
        # suspending takes two clicks, and keeps the reason
        moves.get_by_label("Reason (kept in the audit log)").fill("shelling near Hadar; suspended for the inquiry")
        moves.get_by_role("button", name="Suspend").click()
        expect(moves.get_by_role("button", name="Click again to suspend it: its rules stop applying")).to_be_visible()
        assert s.api(f"/v1/zones/{z['id']}")["status"] == "in_force"  # not yet
        moves.get_by_role("button", name="Click again to suspend it: its rules stop applying").click()
        expect(panel.locator("p.meta").first).to_contain_text("buffer · suspended")
        expect(panel.locator("form.status-moves button")).to_have_text(["Resume", "Lapse"])
        s.shot("web-15-zone-status")
        entries = s.api("/v1/audit", limit=5000)
        (moved,) = [e for e in entries if e["action"] == "zone.status" and e["entity_id"] == z["id"]
                    and e["payload"]["to"] == "suspended"]  # fmt: skip
        assert moved["payload"]["rationale"] == "shelling near Hadar; suspended for the inquiry"
        panel.locator("form.status-moves").get_by_role("button", name="Resume").click()
        panel.locator("form.status-moves").get_by_role("button", name="Click again to put it back in force").click()
        expect(panel.locator("p.meta").first).to_contain_text("buffer · in force")
        assert not s.errors
        page.close()

        # Jordan answers on the zone's page: a refusal needs a reason; it accepts
        s = sign_in(browser, server, "Jordan")
        page = s.page
        page.evaluate("(id) => window.truceline.openZone(id)", z["id"])
        panel = page.locator("#panel .zone-page")
        answer = panel.locator("form.answer")
        expect(answer).to_contain_text("Jordan is asked to be monitor by Israel")
        expect(panel.locator("form.status-moves")).to_have_count(0)  # not a signatory
        expect(panel.locator("form.ask")).to_have_count(0)
        answer.get_by_role("button", name="Decline").click()
        expect(answer.locator(".field-error")).to_contain_text("declining needs a statement")
        answer.get_by_label("Statement (needed to decline)").fill("our observers will cover the strip from Quneitra")
        answer.get_by_role("button", name="Accept").click()
        expect(panel.locator(".responsibilities")).to_contain_text("Jordan: monitor (accepted)")
        expect(panel.locator("form.answer")).to_have_count(0)
        (resp,) = s.api(f"/v1/zones/{z['id']}")["responsible"]
        assert resp["status"] == "accepted" and resp["statement"].startswith("our observers")
        assert not s.errors
        page.close()
    finally:
        httpx.post(f"{url}/v1/zones/{z['id']}/lapse", headers=israel).raise_for_status()


def test_a_monitor_imports_a_partners_acled_file_from_the_incidents_panel(
    browser: Browser, server: Server, tmp_path: Path
) -> None:
    """A monitor imports a partner's ACLED CSV from the page: the good rows are kept and the bad one
    named by line and column; sent again, nothing is added. An officer is not offered the form."""
    from tests.helpers import acled_csv

    s = sign_in(browser, server, "UN Ceasefire Monitoring Mission")
    page = s.page
    data = tmp_path / "partner.csv"
    data.write_text(acled_csv(5, bad={3: ("event_date", "2017-02-30")}, first_id=7000))
    page.get_by_role("button", name="Incidents", exact=True).click()
    form = page.locator("#panel form.import")
    form.get_by_role("button", name="Import").click()
    expect(form.locator(".form-error").first).to_have_text("Choose a CSV file first.")
    form.get_by_label("CSV file").set_input_files(str(data))
    form.get_by_role("button", name="Import").click()
    result = form.locator(".import-result")
    expect(result.locator(".ok")).to_have_text("partner.csv: 5 rows, 4 new, 0 already imported, 1 refused.")
    expect(result.locator("li")).to_have_count(1)
    expect(result.locator("li")).to_contain_text("line 6 (row 3), event_date: ")  # each row's notes take 2 lines
    ids = {i["external_id"] for i in s.api("/v1/incidents", limit=1000)}
    assert {f"SYR{7000 + k}" for k in (1, 2, 4, 5)} <= ids and "SYR7003" not in ids
    form.get_by_label("CSV file").set_input_files(str(data))
    form.get_by_role("button", name="Import").click()
    expect(result.locator(".ok")).to_have_text("partner.csv: 5 rows, 0 new, 4 already imported, 1 refused.")
    assert not s.errors
    page.close()
    officer = sign_in(browser, server, "Jordan")
    officer.page.get_by_role("button", name="Incidents", exact=True).click()
    expect(officer.page.locator("#panel .incidents h2")).to_have_text("Incidents")
    expect(officer.page.locator("#panel form.import")).to_have_count(0)
    officer.page.close()


def test_a_kept_report_of_a_signing_party_waits_for_its_key(browser: Browser, server: Server, tmp_path: Path) -> None:
    """A party that signs its writes reports with the link down; the tab is reopened read-only (its key
    not loaded): the report waits, saying so, and nothing leaves the page. Once the key is loaded, it
    goes, signed."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from truceline.domain.audit import public_key_b64

    url = server[0]
    token = _new_party(server, "Outbox signing monitor", role="monitor")
    key = Ed25519PrivateKey.generate()
    pem = tmp_path / "monitor.pem"
    pem.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    me = {"Authorization": f"Bearer {token}"}
    httpx.put(f"{url}/v1/me/key", json={"public_key": public_key_b64(key)}, headers=me).raise_for_status()
    device = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]

    def load_key(page: Page) -> None:
        dialog = page.get_by_role("dialog", name="Signing key")
        dialog.get_by_label("Private key (PEM)").set_input_files(str(pem))
        dialog.get_by_role("button", name="Use this key").click()
        expect(page.locator("#signing")).to_have_text("Signing ✓")

    first = device.new_page()
    first.route("**/v1/incidents", lambda route: route.abort("internetdisconnected"))
    s = _sign_in_with(browser, server, token, "Outbox signing monitor", first)
    load_key(first)
    first.get_by_role("button", name="Report incident").click()
    form = first.locator("#panel form")
    s.view(32.62, 36.10, 11)
    first.mouse.click(*s.at(32.62, 36.10))
    form.get_by_label("Actor 1", exact=True).fill("Unidentified Armed Group (Syria)")
    form.get_by_label("Source").fill("Outbox signing test")
    form.get_by_role("button", name="Report").click()
    expect(form.locator(".results .kept")).to_contain_text("kept on this device", timeout=15_000)
    first.close()

    page = device.new_page()
    writes: list[str] = []
    page.on("request", lambda r: r.method == "POST" and writes.append(r.url))
    again = _sign_in_with(browser, server, token, "Outbox signing monitor", page)
    page.get_by_role("dialog", name="Signing key").get_by_role("button", name="Continue read-only").click()
    page.locator("#outbox-button").click()
    card = page.locator("#panel .outbox li.kept")
    expect(card).to_contain_text("Waiting for your party's signing key")
    assert not [w for w in writes if "/v1/incidents" in w]
    page.locator("#signing").click()
    load_key(page)
    expect(page.locator("#toasts")).to_contain_text("Sent from this device: ", timeout=15_000)
    (made,) = [i for i in again.api("/v1/incidents", limit=1000)
               if any(src["name"] == "Outbox signing test" for src in i["sources"])]  # fmt: skip
    entries = again.api("/v1/audit", limit=5000)
    (entry,) = [e for e in entries if e["action"] == "incident.reported" and e["entity_id"] == made["id"]]
    assert entry["payload"]["signed"]["path"] == "/v1/incidents"
    # a file imported from the page is signed by its digest, as the server checks it
    from tests.helpers import acled_csv

    data = tmp_path / "signed.csv"
    data.write_text(acled_csv(2, first_id=8000))
    page.get_by_role("button", name="Incidents", exact=True).click()
    form = page.locator("#panel form.import")
    form.get_by_label("CSV file").set_input_files(str(data))
    form.get_by_role("button", name="Import").click()
    expect(form.locator(".import-result .ok")).to_have_text("signed.csv: 2 rows, 2 new, 0 already imported, 0 refused.")
    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    signed_imports = [e["payload"]["signed"] for e in again.api("/v1/audit", limit=5000)
                      if e["action"] == "incidents.imported" and "signed" in e["payload"]]  # fmt: skip
    assert [x["body"] for x in signed_imports] == [{"sha256": digest}], signed_imports
    assert not again.errors
    device.close()


# Records each notification the page makes (the system shows it; headless, nothing can see it there)
# and passes it on to the browser's own Notification, whose permission the context grants.
NOTIFICATION_SPY = """
  window.__notifications = [];
  window.Notification = new Proxy(window.Notification, {
    construct(Real, args) {
      const made = new Real(...args);
      window.__notifications.push({ title: args[0], body: args[1].body, tag: args[1].tag, made });
      return made;
    },
  });
"""


def test_desktop_notifications_tell_a_duty_officer_working_in_another_window(browser: Browser, server: Server) -> None:
    """A duty officer turns desktop notifications on from the hotline panel; a message to acknowledge
    arriving while the page is not in front shows as the system's notification, and a click on it brings
    the page forward on its thread. While the page is in front, the page's own box is enough."""
    url = server[0]
    desk = _new_party(server, "Desktop test desk")
    caller = _new_party(server, "Desktop test caller")
    context = browser.new_context(viewport=DESKTOP, permissions=["notifications"])  # type: ignore[arg-type]
    context.add_init_script(NOTIFICATION_SPY)
    s = _sign_in_with(browser, server, desk, "Desktop test desk", context.new_page())
    page = s.page
    page.get_by_role("button", name="Hotline").click()
    switch = page.locator("#panel").get_by_role("checkbox", name=re.compile("Desktop notifications"))
    expect(switch).not_to_be_checked()
    switch.check()
    expect(page.locator("#panel p.desktop")).to_contain_text("On.")
    shown = lambda: page.evaluate("window.__notifications.map(({ made, ...n }) => n)")  # noqa: E731
    call = {"Authorization": f"Bearer {caller}"}

    def send(headline: str) -> dict[str, Any]:
        r = httpx.post(f"{url}/v1/threads", headers=call, json={
            "subject": headline, "parties": ["Desktop test desk"], "message": {"headline": headline}})  # fmt: skip
        assert r.status_code == 201, r.text
        return dict(r.json())

    # in front: the page's box says it, the system is not bothered
    send("Convoy at Nasib at 06:00")
    expect(page.locator("#toasts .alert", has_text="Convoy at Nasib at 06:00")).to_be_visible()
    assert shown() == []
    # the officer works in another window: the system shows it, until it is seen
    # (headless, Playwright keeps every page focused: the window's focus is taken as another window would)
    page.evaluate("document.hasFocus = () => false; window.dispatchEvent(new Event('blur'))")
    sent = send("Patrol moved to 07:00")
    page.wait_for_function("window.__notifications.length === 1")
    (note,) = shown()
    assert note["title"] == "Alert from Desktop test caller: Patrol moved to 07:00", note
    assert note["tag"] == sent["message"]["id"] and note["body"].startswith("acknowledge by ")
    # a click on it brings the page forward on the message's thread
    page.evaluate("window.__notifications[0].made.onclick()")
    expect(page.locator("#panel h2")).to_have_text("Patrol moved to 07:00")
    # turned off, it stays off for this party on this device
    page.get_by_role("button", name="Hotline").click()
    page.locator("#panel").get_by_role("checkbox", name=re.compile("Desktop notifications")).uncheck()
    page.reload()
    expect(page.locator("body.signed-in")).to_have_count(1)
    page.get_by_role("button", name="Hotline").click()
    expect(page.locator("#panel").get_by_role("checkbox", name=re.compile("Desktop notifications"))).not_to_be_checked()
    assert not s.errors
    context.close()


def test_hotline_messages_and_zone_news_arrive_live(browser: Browser, server: Server) -> None:
    """The page holds its party's live feed open: a message for it shows at once and stays until it is
    acknowledged, the badges follow; another party's step in a zone it negotiates shows as it happens,
    in the zones list and on the zone's open page, without sweeping that page away."""
    url, tokens, _ = server
    jordan = {"Authorization": f"Bearer {tokens['Jordan']}"}
    s = sign_in(browser, server, "Kazakhstan")  # no live traffic in the demo, no key: its counts move only here
    page = s.page
    expect(page.locator("#feed")).to_have_text("Hotline: live")
    unack = s.api("/v1/inbox/summary")["unacknowledged"]
    expect(page.locator("#badge-unack")).to_have_text(str(unack))
    sent = httpx.post(f"{url}/v1/threads", headers=jordan, json={
        "subject": "Nasib", "parties": ["Kazakhstan"],
        "message": {"headline": "Convoy through Nasib at 06:00", "severity": "Severe"}})  # fmt: skip
    assert sent.status_code == 201, sent.text
    alert = page.locator("#toasts .alert", has_text="Convoy through Nasib at 06:00")
    expect(alert).to_contain_text("Alert from Jordan", timeout=3000)  # pushed: nothing polls the inbox
    expect(page.locator("#badge-unack")).to_have_text(str(unack + 1))
    expect(page).to_have_title(f"({unack + 1}) Truceline — common operating picture")  # seen from another tab
    page.wait_for_timeout(6500)  # longer than a passing notice lasts: this one waits to be acknowledged
    expect(alert).to_be_visible()
    s.shot("web-16-live-alert")
    alert.get_by_role("button", name="Acknowledge").click()
    expect(alert).to_have_count(0)
    expect(page.locator("#badge-unack")).to_have_text(str(unack))
    message = sent.json()["message"]
    (kazakhstan,) = s.api(f"/v1/messages/{message['id']}")["addresses"]
    assert kazakhstan["state"] == "acknowledged"
    # The stream drops; what is sent meanwhile arrives once the page has reconnected (Last-Event-ID).
    page.evaluate("window.truceline.feed.controller.abort()")
    expect(page.locator("#feed")).to_have_text("Hotline: reconnecting…")
    meanwhile = httpx.post(f"{url}/v1/threads/{message['thread_id']}/messages", headers=jordan,
                           json={"headline": "Convoy delayed to 07:00", "severity": "Minor", "msgType": "Update",
                                 "references": [message["id"]]})
    assert meanwhile.status_code == 201, meanwhile.text
    expect(page.locator("#toasts .alert", has_text="Convoy delayed to 07:00")).to_contain_text(
        "Update from Jordan", timeout=15_000)
    expect(page.locator("#feed")).to_have_text("Hotline: live")
    expect(page.locator("#badge-unack")).to_have_text(str(unack + 1))
    # acknowledged elsewhere (the CLI, another officer): the box goes, the badge follows
    kz = {"Authorization": f"Bearer {tokens['Kazakhstan']}"}
    httpx.post(f"{url}/v1/messages/{meanwhile.json()['id']}/ack", headers=kz, json={}).raise_for_status()
    expect(page.locator("#toasts .alert", has_text="Convoy delayed to 07:00")).to_have_count(0)
    expect(page.locator("#badge-unack")).to_have_text(str(unack))

    # Resumed from before what retention kept (the server's side: test_live): the page says so and reloads.
    page.evaluate("""() => window.truceline.onEvent({id: 12, type: "feed.pruned", data: {after: 3, missed_through: 12,
        summary: "Events 4–12 of your feed were removed by retention before you read them."}})""")  # fmt: skip
    expect(page.locator("#toasts .toast", has_text="Events 4–12 of your feed were removed")).to_be_visible()
    expect(page.locator("#badge-unack")).to_have_text(str(unack))

    # Jordan proposes a zone with Kazakhstan as a signatory: Kazakhstan's zones list shows it as it happens.
    page.get_by_role("button", name="Zones", exact=True).click()
    badge = page.locator("#badge-zones")
    awaiting = int(badge.inner_text()) if badge.is_visible() else 0
    ring = [[36.4, 33.4], [36.5, 33.4], [36.5, 33.5], [36.4, 33.5], [36.4, 33.4]]
    z = httpx.post(f"{url}/v1/zones", headers=jordan, json={
        "name": "Jdeidet Yabous crossing area", "kind": "buffer", "signatories": ["Jordan", "Kazakhstan"],
        "geometry": {"type": "Polygon", "coordinates": [ring]}, "effective_from": "2017-07-01T00:00:00Z",
        "rationale": "first draft"}).json()["zone"]  # fmt: skip
    try:
        said = "Jordan proposed the zone 'Jdeidet Yabous crossing area' (signatories: Jordan, Kazakhstan): first draft"
        expect(page.locator("#toasts .toast", has_text=said)).to_be_visible(timeout=3000)
        card = page.locator(f'#panel li[data-zone="{z["id"]}"]')
        expect(card).to_contain_text("buffer · proposed")
        # ... and that it waits for Kazakhstan's signature: on the card, and counted on the Zones button
        expect(card).to_contain_text("awaiting your signature (in principle)")
        expect(page.locator("#badge-zones")).to_have_text(str(awaiting + 1))
        # Kazakhstan has the zone's page open and starts writing an objection when Jordan revises it
        page.evaluate("(id) => window.truceline.openZone(id)", z["id"])
        zone_page = page.locator("#panel .zone-page")
        expect(zone_page.locator("p.meta").first).to_contain_text("revision 1")
        statement = zone_page.get_by_label("Statement")
        statement.fill("the draft leaves out the Masnaa road")
        revised = httpx.patch(f"{url}/v1/zones/{z['id']}", headers=jordan,
                              json={"revision": 1, "standoff_m": 300, "rationale": "Masnaa road included"})
        assert revised.status_code == 200, revised.text
        notice = zone_page.locator(".notice")
        expect(notice.locator("li")).to_have_text([
            "Jordan revised 'Jdeidet Yabous crossing area' to revision 2; earlier sign-offs no longer count: "
            "Masnaa road included", "'Jdeidet Yabous crossing area' is now negotiating"], timeout=3000)  # fmt: skip
        s.shot("web-17-zone-changed")
        expect(statement).to_have_value("the draft leaves out the Masnaa road")  # kept until Kazakhstan asks
        notice.get_by_role("button", name="Show it now").click()
        expect(zone_page.locator("p.meta").first).to_contain_text("revision 2")
        expect(zone_page.locator(".notice")).to_have_count(0)
        # Kazakhstan's own steps are not announced back to it
        zone_page.get_by_role("button", name="Sign in principle").click()
        expect(zone_page.locator("ul.positions")).to_contain_text("Kazakhstan: in principle on revision 2")
        page.get_by_role("button", name="Zones", exact=True).click()
        expect(card).to_contain_text("awaiting your signature (final)")
        page.wait_for_timeout(1000)
        expect(page.locator("#toasts .toast", has_text="Kazakhstan signed")).to_have_count(0)
        # The parser the feed reads with gives the same events however the stream is cut into chunks.
        stream = ("retry: 2000\r\n: resuming after 7\r\n\r\nid: 8\r\nevent: message\ndata: {\"a\":\r\ndata:  1}\n\n"
                  "id: 9\revent: zone.status\rdata:{}\r\r: keep-alive\n\nid: 10\n\nevent: x\ndata\n\n")
        expected = [{"id": "8", "type": "message", "data": '{"a":\n 1}'},
                    {"id": "9", "type": "zone.status", "data": "{}"},
                    {"id": "10", "type": "x", "data": ""}]
        cuts = page.evaluate("""(text) => {
            const Parser = window.truceline.feed.constructor.Parser, runs = [];
            const parse = (chunks) => { const got = [], p = new Parser((e) => got.push(e));
                                        for (const c of chunks) p.push(c); return {got, retry: p.retry}; };
            runs.push(parse([...text]));
            for (let i = 0; i <= text.length; i++) runs.push(parse([text.slice(0, i), text.slice(i)]));
            return runs;
        }""", stream)  # fmt: skip
        assert len(cuts) == len(stream) + 2
        for run in cuts:
            assert run == {"got": expected, "retry": 2000}
        assert not s.errors
        page.close()
    finally:
        httpx.patch(f"{url}/v1/zones/{z['id']}", headers=jordan, json={"status": "withdrawn"}).raise_for_status()


def test_a_message_escalated_to_the_party_pops_up_until_its_addressee_acknowledges_it(
    browser: Browser, server: Server
) -> None:
    """Kazakhstan is Jordan's escalation contact: when Jordan lets a message fall overdue, Kazakhstan's
    page says so at once (it cannot acknowledge for Jordan, but can open the thread it has joined); the
    notice goes once Jordan acknowledges."""
    url, tokens, _ = server
    h = {name: {"Authorization": f"Bearer {tokens[name]}"} for name in ("Jordan", "United States", "Kazakhstan")}
    ids = {p["name"]: p["id"] for p in httpx.get(f"{url}/v1/parties", headers=h["Jordan"]).json()}
    contacts = f"{url}/v1/parties/{ids['Jordan']}/escalation-contacts"
    httpx.put(contacts, headers=h["Jordan"], json={"contacts": [ids["Kazakhstan"]]}).raise_for_status()
    try:
        s = sign_in(browser, server, "Kazakhstan")
        page = s.page
        expect(page.locator("#feed")).to_have_text("Hotline: live")
        sent = httpx.post(f"{url}/v1/threads", headers=h["United States"], json={
            "subject": "Al-Tanf", "parties": ["Jordan"],
            "message": {"headline": "Patrol leaving Al-Tanf at 05:00", "severity": "Severe",
                        "ack_within_s": 10}})  # fmt: skip
        assert sent.status_code == 201, sent.text
        first = sent.json()["message"]
        second = httpx.post(f"{url}/v1/threads/{first['thread_id']}/messages", headers=h["United States"], json={
            "headline": "Second patrol at 05:30", "severity": "Severe", "ack_within_s": 10}).json()  # fmt: skip
        boxes = [page.locator(f'#toasts .alert[data-message="{m["id"]}"]') for m in (first, second)]
        for box, headline in zip(boxes, ("Patrol leaving Al-Tanf at 05:00", "Second patrol at 05:30"), strict=True):
            expect(box).to_contain_text(f"Escalated to you: Jordan has not acknowledged “{headline}”", timeout=30_000)
            expect(box.get_by_role("button", name="Acknowledge")).to_have_count(0)  # not Kazakhstan's to acknowledge
        s.shot("web-18-escalated")
        # Jordan acknowledges the second: its notice goes; the first opens the thread Kazakhstan has joined
        httpx.post(f"{url}/v1/messages/{second['id']}/ack", headers=h["Jordan"], json={}).raise_for_status()
        expect(boxes[1]).to_have_count(0)
        boxes[0].get_by_role("button", name="Open the thread").click()
        expect(boxes[0]).to_have_count(0)
        expect(page.locator("#panel h2")).to_have_text("Al-Tanf")
        expect(page.locator("#panel ol.cards")).to_contain_text("Acknowledged: Second patrol at 05:30")
        assert not s.errors
        page.close()
    finally:
        httpx.put(contacts, headers=h["Jordan"], json={"contacts": []}).raise_for_status()


def test_an_officer_issues_and_revokes_its_partys_tokens_from_the_page(browser: Browser, server: Server) -> None:
    """Each officer, desk or script its own token: issued from the page (shown once, to hand over),
    listed with its state, and revoked alone (two clicks), while the page's own token goes on."""
    url, _, _ = server
    s = sign_in(browser, server, "UN Ceasefire Monitoring Mission")
    page = s.page
    page.get_by_role("button", name="Tokens", exact=True).click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="Tokens")).to_be_visible()
    mine = panel.locator("li.card").first
    expect(mine).to_contain_text("active")
    expect(mine).to_contain_text("this page's")  # the token this page signed in with: not revoked from here
    expect(mine.get_by_role("button", name="Revoke")).to_have_count(0)
    panel.get_by_role("button", name="Issue", exact=True).click()  # no label: the server names the field
    expect(panel.get_by_label("Who holds it")).to_have_attribute("aria-invalid", "true")
    expect(panel.locator(".field-error").first).to_contain_text("at least 1 character")
    panel.get_by_label("Who holds it").fill("field team Daraa")
    panel.get_by_label("Expires (UTC, optional)").fill("2099-01-01T06:00")
    panel.get_by_role("button", name="Issue", exact=True).click()
    shown = panel.get_by_label("Token for field team Daraa")
    expect(shown).to_have_value(re.compile(r"^tl_"))
    token = shown.input_value()
    team = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{url}/v1/me", headers=team).json()["name"] == "UN Ceasefire Monitoring Mission"
    card = panel.locator("li.card", has_text="field team Daraa")
    expect(card).to_contain_text("expires")
    expect(card.locator(".last-use")).to_have_text("never used")
    expect(mine.locator(".last-use")).to_contain_text("last used")  # the page's own requests
    # The team uses its token (it issues one for its driver); the page shows what the token did.
    driver = httpx.post(f"{url}/v1/parties/me/tokens", headers=team, json={"label": "driver"})
    assert driver.status_code == 201
    card.get_by_role("button", name="What it did").click()
    did = card.get_by_role("list", name="What field team Daraa did")
    expect(did.locator("li")).to_have_count(1)
    expect(did).to_contain_text(f"credential.issued credential {driver.json()['id']}")
    s.shot("web-18-tokens")
    card.get_by_role("button", name="Revoke").click()
    expect(card.get_by_role("button", name=re.compile("Click again"))).to_be_visible()
    card.get_by_role("button", name=re.compile("Click again")).click()
    expect(card).to_contain_text("revoked")
    # the page's own token did the revoking
    first = panel.locator("li.card").first
    first.get_by_role("button", name="What it did").click()
    expect(first.get_by_role("list")).to_contain_text("credential.revoked")
    refused = httpx.get(f"{url}/v1/me", headers=team)
    assert refused.status_code == 401 and "was revoked" in refused.json()["detail"]
    # someone still holds the team's token and tries it: the panel says so, and from where
    page.get_by_role("button", name="Tokens", exact=True).click()
    tried = panel.locator("li.card", has_text="field team Daraa").locator(".last-use.tried")
    expect(tried).to_contain_text("Tried after it was revoked")
    expect(tried).to_contain_text("from 127.0.0.1")
    s.shot("web-18-token-tried")
    page.get_by_role("button", name="Zones", exact=True).click()  # the page's own token still works
    expect(page.locator("#panel li.card").first).to_be_visible()
    assert not s.errors
    page.close()


def test_an_officer_registers_a_webhook_and_sends_a_delivery_again(browser: Browser, server: Server) -> None:
    """A party's desk sends its hotline messages to its own message system: it registers the receiver
    from the page (the secret shown once), reads each delivery (a first try refused, then delivered),
    sends one again by hand after an outage, and removes the webhook, its log kept."""
    from tests.e2e.test_live import Receiver

    url = server[0]
    desk = _new_party(server, "Webhook test desk")
    caller = _new_party(server, "Webhook test caller")
    rx = Receiver(fail=1)

    def received(n: int) -> None:
        deadline = time.monotonic() + 30
        while len(rx.received) < n and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(rx.received) >= n, rx.received

    try:
        s = _sign_in_with(browser, server, desk, "Webhook test desk")
        page, panel = s.page, s.page.locator("#panel")
        page.get_by_role("button", name="Webhooks").click()
        expect(panel.locator("ul.webhooks")).to_contain_text("None registered.")
        form = panel.locator("form.register-webhook")
        form.get_by_label("Receiver URL").fill("ftp://ops.example.org/inbox")
        form.get_by_role("button", name="Register").click()
        slot = form.locator("#" + str(form.get_by_label("Receiver URL").get_attribute("id")) + "-error")
        expect(slot).to_contain_text("must be an http or https URL")
        form.get_by_label("Receiver URL").fill(rx.url)
        form.get_by_label("message", exact=True).check()
        form.get_by_role("button", name="Register").click()
        secret = panel.get_by_label(f"Secret for {rx.url}")
        expect(secret).to_have_value(re.compile(r"^whsec_"))
        rx.secret = secret.input_value()
        card = panel.locator("ul.webhooks li.card")
        expect(card).to_contain_text("JSON · message · registered")
        expect(card).to_contain_text("nothing sent yet")
        # another party calls the desk on the hotline: the first try is refused (500), the next delivered
        r = httpx.post(f"{url}/v1/threads", headers={"Authorization": f"Bearer {caller}"},
                       json={"subject": "Webhook test", "parties": ["Webhook test desk"],
                             "message": {"headline": "Convoy at the crossing at 06:00"}})  # fmt: skip
        assert r.status_code == 201, r.text
        received(2)
        assert [ok for ok, _, _ in rx.received] == [True, True] and rx.received[0][2] == rx.received[1][2]
        card.get_by_role("button", name="Deliveries").click()
        item = card.locator("ol.deliveries li")
        expect(item).to_have_count(1)
        expect(item).to_contain_text("delivered")
        expect(item).to_contain_text("2 tries · HTTP 200")
        # sent again by hand (the receiver lost it): the same event, signed afresh
        item.get_by_role("button", name="Send again").click()
        expect(page.locator("#toasts")).to_contain_text("Sent again: message (event ")
        received(3)
        assert rx.received[2][0] and rx.received[2][2] == rx.received[0][2]
        card.get_by_role("button", name="Read again").click()
        expect(card.locator("ol.deliveries li")).to_have_count(2)
        expect(card.locator("ol.deliveries li").first).to_contain_text("sent again by hand")
        # removed with two clicks: no more deliveries, its log kept
        card.get_by_role("button", name="Remove").click()
        card.get_by_role("button", name=re.compile("^Click again")).click()
        expect(panel.locator("ul.webhooks li.card")).to_contain_text("removed")
        hooks = httpx.get(f"{url}/v1/webhooks", headers={"Authorization": f"Bearer {desk}"}).json()
        assert [(h["active"], h["deliveries"].get("delivered")) for h in hooks] == [(False, 2)], hooks
        assert not s.errors
        page.close()
    finally:
        rx.close()


def test_a_page_whose_token_is_revoked_goes_back_to_sign_in_saying_why(browser: Browser, server: Server) -> None:
    url, tokens, _ = server
    un = {"Authorization": f"Bearer {tokens['UN Ceasefire Monitoring Mission']}"}
    laptop = httpx.post(f"{url}/v1/parties/me/tokens", headers=un, json={"label": "field laptop"}).json()
    page = browser.new_page(viewport=DESKTOP)  # type: ignore[arg-type]
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{url}/")
    dialog = page.get_by_role("dialog", name="Sign in")
    dialog.get_by_label("Party token").fill(laptop["token"])
    dialog.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("body.signed-in")).to_have_count(1)
    expect(page.locator("#feed")).to_have_text("Hotline: live")
    # The laptop is lost: another officer revokes its token. The page's next request is refused.
    gone = httpx.post(f"{url}/v1/parties/me/tokens/{laptop['id']}/revoke", headers=un)
    assert gone.status_code == 200, gone.text
    page.get_by_role("button", name="Conflicts", exact=True).click()
    try:
        page.evaluate("window.truceline.api.get('/v1/inbox/summary').catch(() => null)")
    except PlaywrightError as e:  # the live picture's own poll was refused first: the page is already going
        assert "Execution context was destroyed" in str(e), e
    dialog = page.get_by_role("dialog", name="Sign in")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Signed out: this bearer token ('field laptop') was revoked.")
    expect(page.locator("body.signed-in")).to_have_count(0)
    # A tab reopened on a token revoked meanwhile says why too.
    page.evaluate("token => sessionStorage.setItem('truceline-token', token)", laptop["token"])
    page.reload()
    said = "Signed out: this bearer token ('field laptop') was revoked."
    expect(page.get_by_role("dialog", name="Sign in")).to_contain_text(said)
    assert not errors
    page.close()


def test_the_audit_log_panel_reads_the_record_by_party_kind_and_thing(browser: Browser, server: Server) -> None:
    """A duty officer reads the audit log on the page: what its party may read, newest first, in a
    few words; by party, kind of action or thing; a page back at a time."""
    url, tokens, _ = server
    jordan = {"Authorization": f"Bearer {tokens['Jordan']}"}
    zone_steps = httpx.get(f"{url}/v1/audit", headers=jordan, params={"action": "zone.", "limit": 5000}).json()
    s = sign_in(browser, server, "Jordan")
    page, panel = s.page, s.page.locator("#panel")
    page.get_by_role("button", name="Audit log").click()
    expect(panel.get_by_role("heading", name="Audit log")).to_be_visible()
    entries = panel.get_by_role("list", name="Audit entries").locator("li")
    expect(entries).to_have_count(20)  # the latest 20; more a page back
    panel.get_by_label("Kind").select_option("zone.")
    expect(entries.first).to_contain_text(zone_steps[-1]["action"])
    for text in entries.all_inner_texts():
        assert " zone." in text, text
    if len(zone_steps) > 20:
        panel.get_by_role("button", name="Earlier").click()
        expect(entries).to_have_count(min(40, len(zone_steps)))
    # Russia's steps, with their words (a move from one status to another, a statement)
    panel.get_by_label("Party").select_option(label="Russian Federation")
    expect(entries.first).to_contain_text("by Russian Federation")
    for text in entries.all_inner_texts():
        assert "by Russian Federation" in text and " zone." in text, text
    # one zone's history: every kind of step on it
    sw = next(e for e in zone_steps if e["action"] == "zone.revised")
    panel.get_by_label("Party").select_option("")
    panel.get_by_label("Kind").select_option("")
    panel.get_by_label("About (the id of a zone, activity, conflict, message…)").fill(sw["entity_id"])
    panel.get_by_label("About (the id of a zone, activity, conflict, message…)").press("Enter")
    expect(entries.filter(has_text="zone.proposed")).to_have_count(1)
    about_it = httpx.get(f"{url}/v1/audit", headers=jordan, params={"entity_id": sw["entity_id"], "limit": 5000})
    expect(entries).to_have_count(min(20, len(about_it.json())))
    expect(panel).to_contain_text("Extended east to Al-Suweida")  # the revision's rationale, in a few words
    s.shot("web-19-audit-log")
    assert not s.errors
    page.close()
