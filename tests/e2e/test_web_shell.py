"""The web map's shell over HTTP: the page, its configuration, and what happens when it is not built."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from truceline.api.app import create_app
from truceline.api.routes import web
from truceline.settings import Settings


def client(tmp_path: Path, **kw: object) -> TestClient:
    return TestClient(create_app(Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}", **kw)))  # type: ignore[arg-type]


def test_the_page_is_served_at_the_root_without_a_token(tmp_path: Path) -> None:
    r = client(tmp_path).get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<div id="map"' in r.text and "/static/app/main.js" in r.text
    assert client(tmp_path).get("/static/app/main.js").status_code == 200


def test_an_unbuilt_page_says_how_to_build_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web, "BUILT", tmp_path / "missing.js")
    r = client(tmp_path).get("/")
    assert r.status_code == 503 and "make assets" in r.text


def test_config_offers_no_tokens_outside_the_demo_and_takes_the_tile_setting(tmp_path: Path) -> None:
    c = client(tmp_path, web_tile_url="https://tiles.example.org/{z}/{x}/{y}.png", web_opens_at="2017-07-10T09:00:00Z")
    body = c.get("/web/config").json()
    assert body["demo_parties"] == []
    assert body["tile_url"] == "https://tiles.example.org/{z}/{x}/{y}.png"
    assert body["opens_at"] == "2017-07-10T09:00:00Z"
    assert "humanitarian_convoy" in body["activity_kinds"] and "no_fly" in body["zone_kinds"]


def test_the_opening_moment_must_be_a_time() -> None:
    with pytest.raises(ValidationError, match="RFC 3339"):
        Settings(web_opens_at="10 July")
