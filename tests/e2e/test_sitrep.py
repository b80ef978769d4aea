"""The daily situation report, rendered from the syria-2017 scenario: HTML and PDF, offline, with the
map, each zone's status that day, the day's incidents, open conflicts and overdue messages."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from tests.conftest import FakeClock
from truceline.api.app import create_app
from truceline.services import scenario
from truceline.settings import Settings


@dataclass
class Demo:
    client: TestClient
    tokens: dict[str, str]
    zones: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    clock = FakeClock(datetime(2017, 7, 14, 12, tzinfo=UTC))
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", hotline_clock_seconds=3600,
                              zone_clock_seconds=3600), clock=clock)  # fmt: skip
    ctx = app.state.ctx
    loaded = scenario.load(ctx.writer_at, ctx.policy, scenario.read("syria-2017"))
    with TestClient(app) as c:
        yield Demo(c, loaded.tokens, loaded.zones)


def test_the_html_report_is_self_contained_and_says_what_happened(demo: Demo) -> None:
    r = demo.client.get("/v1/sitrep", headers=demo.h("United States"), params={"date": "2017-07-10"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "Monday 10 July 2017" in page and "Prepared for United States" in page
    # Offline: nothing is loaded from anywhere (no scripts, styles or images by URL).
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<svg" in page and "<path" in page  # the map, inline, with borders and zones drawn
    row = re.search(r"<tr><td>Southwest de-escalation zone.*?</tr>", page, re.S)
    assert row is not None and 'class="status strained"' in row.group(0) and "1 verified violation" in row.group(0)
    assert "Battles: Armed clash" in page and "Al-Suweida province" in page
    assert "Southern Front field commanders; DEBKA Weekly" in page  # the merged report's source is kept
    # The United States' open conflicts touching 10 July, and its overdue hotline messages (the scenario's
    # alerts were never acknowledged).
    assert "Open conflicts" in page and "zone rule" in page
    assert "Overdue hotline messages" in page


def test_the_pdf_report_has_the_same_content(demo: Demo, tmp_path: Path) -> None:
    r = demo.client.get("/v1/sitrep", headers=demo.h("UN Ceasefire Monitoring Mission"),
                        params={"date": "2017-07-12", "format": "pdf"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    (tmp_path / "sitrep.pdf").write_bytes(r.content)
    pdf = PdfReader(io.BytesIO(r.content))
    assert len(pdf.pages) >= 2
    text = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
    assert "Daily situation report: Wednesday 12 July 2017" in text
    assert "Change to group/activity" in text and "Daraa" in text and "Non-violent transfer of territory" in text
    assert "Southwest de-escalation zone" in text and "holding" in text
    assert any("/Image" in str(p.get("/Resources", {}).get("/XObject", {})) or p.images for p in pdf.pages)


def test_the_report_for_one_zone_and_bad_dates(demo: Demo) -> None:
    sw = demo.zones["southwest"]
    r = demo.client.get("/v1/sitrep", headers=demo.h("Jordan"),
                        params={"date": "2017-07-10", "zone": sw, "format": "json"})
    assert r.status_code == 200
    body = r.json()
    assert [z["name"] for z in body["zones"]] == ["Southwest de-escalation zone (Deraa, Quneitra, Al-Suweida)"]
    assert body["zones"][0]["status"] == "strained" and body["scope"].startswith("Southwest")
    assert [i["event"] for i in body["incidents"]] == ["Battles: Armed clash"]
    bad = demo.client.get("/v1/sitrep", headers=demo.h("Jordan"), params={"date": "2017-07-32"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "#query/date"
    missing = demo.client.get("/v1/sitrep", headers=demo.h("Jordan"), params={"date": "2017-07-10", "zone": "nope"})
    assert missing.status_code == 404


def test_the_report_tells_each_party_the_days_negotiation_steps_it_was_told_of(demo: Demo) -> None:
    """The day's zone negotiation, in sentences, as each party's live feed told it: a party the zone
    concerns reads every step; any other party only the status moves. And what awaits its signature."""

    def report(who: str, day: str, **more: str) -> dict[str, Any]:
        r = demo.client.get("/v1/sitrep", headers=demo.h(who), params={"date": day, "format": "json", **more})
        assert r.status_code == 200, r.text
        return dict(r.json())

    sw = "'Southwest de-escalation zone (Deraa, Quneitra, Al-Suweida)'"
    jordan = report("Jordan", "2017-07-09")
    said = [(n["at"], n["summary"]) for n in jordan["negotiations"]]
    assert said == [
        ("2017-07-09T08:00:00Z", f"Russian Federation undertook to police {sw}"),
        ("2017-07-09T08:10:00Z", f"United States asked UN Ceasefire Monitoring Mission to monitor {sw}"),
        ("2017-07-09T08:20:00Z", f"Russian Federation asked Kazakhstan to monitor {sw}"),
        ("2017-07-09T18:00:00Z", f"{sw} is now in force"),
    ]
    assert [n["summary"] for n in report("Turkey", "2017-07-09")["negotiations"]] == [f"{sw} is now in force"]
    declined = report("Jordan", "2017-07-10")["negotiations"][0]["summary"]
    assert declined.startswith(f"Kazakhstan declined to monitor {sw}: Astana will not")
    # The awaiting list is the zones' state as the report is made, whatever the day.
    waiting = {(a["zone"], a["signature"]) for a in report("Turkey", "2017-07-09")["awaiting"]}
    assert ("Idlib de-escalation zone", "in principle") in waiting
    assert ("Eastern Ghouta de-escalation zone", "final") in waiting
    assert report("Jordan", "2017-07-12")["awaiting"] == [
        {"zone": "Nasib border crossing", "status": "agreed in principle", "revision": 1, "signature": "final"}
    ]
    # A report for one zone keeps to that zone.
    nasib = report("Jordan", "2017-07-12", zone=demo.zones["nasib"])
    assert {n["zone"] for n in nasib["negotiations"]} == {"Nasib border crossing"}
    assert report("Jordan", "2017-07-12", zone=demo.zones["southwest"])["awaiting"] == []
    # The HTML and the PDF say the same.
    page = demo.client.get("/v1/sitrep", headers=demo.h("Jordan"), params={"date": "2017-07-09"}).text
    assert "Zone negotiations this day" in page and "Russian Federation asked Kazakhstan to monitor" in page
    row = "<tr><td>Nasib border crossing</td><td>agreed in principle</td><td>1</td><td>final</td></tr>"
    assert row in page
    pdf = demo.client.get("/v1/sitrep", headers=demo.h("Jordan"), params={"date": "2017-07-09", "format": "pdf"})
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Zone negotiations this day" in text and "asked Kazakhstan to monitor" in text
    assert "Awaiting your signature" in text and "1 zone(s) awaiting your signature" in text
