"""The HTTP API end to end: authentication, roles, need-to-know, bad input, the contract."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Match

from tests.e2e.conftest import Api
from tests.helpers import T0, activity_body, circle_volume, polygon_volume, square, zone_body
from truceline.api.app import create_app
from truceline.settings import Settings

PROBLEM = "application/problem+json"
OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_open_endpoints_and_authentication(api: Api) -> None:
    c = api.client
    assert c.get("/healthz").status_code == 200
    assert c.get("/openapi.json").status_code == 200
    assert c.get("/docs").status_code == 200
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        r = c.get("/v1/zones", headers=headers)
        assert r.status_code == 401 and r.headers["content-type"] == PROBLEM
        assert r.headers["www-authenticate"] == "Bearer"
    assert c.get("/v1/me", headers=api.h("A")).json()["name"] == "A"


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "status"),
    [
        ("Obs", "POST", "/v1/activities", activity_body(), 403),
        ("Mon", "POST", "/v1/activities", activity_body(), 403),
        ("Admin", "POST", "/v1/activities", activity_body(), 403),
        ("Obs", "POST", "/v1/zones", zone_body(), 403),
        ("A", "POST", "/v1/parties", {"name": "X", "role": "officer"}, 403),
        ("Admin", "POST", "/v1/parties", {"name": "X", "role": "officer"}, 201),
        ("A", "POST", "/v1/zones", zone_body(), 201),
        ("A", "POST", "/v1/activities", activity_body(), 201),
        ("Obs", "GET", "/v1/zones", None, 200),
        ("Mon", "GET", "/v1/conflicts", None, 200),
    ],
)
def test_roles(api: Api, who: str, method: str, path: str, body: Any, status: int) -> None:
    r = api.client.request(method, path, headers=api.h(who), json=body)
    assert r.status_code == status, r.text
    if status >= 400:
        assert r.headers["content-type"] == PROBLEM


def test_admin_creates_a_party_whose_token_works(api: Api) -> None:
    r = api.client.post("/v1/parties", headers=api.h("Admin"), json={"name": "Jordan", "role": "officer"})
    token = r.json()["token"]
    assert api.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["name"] == "Jordan"
    listed = api.client.get("/v1/parties", headers=api.h("A")).json()
    assert "Jordan" in [p["name"] for p in listed] and all("token" not in p for p in listed)
    again = api.client.post("/v1/parties", headers=api.h("Admin"), json={"name": "Jordan", "role": "officer"})
    assert again.status_code == 409


def test_need_to_know(api: Api) -> None:
    c = api.client
    secret = activity_body(title="Secret raid plan")
    secret["description"] = "go at dawn from the north"
    a = c.post("/v1/activities", headers=api.h("A"), json=secret).json()
    b = c.post("/v1/activities", headers=api.h("B"), json=activity_body(kind="patrol", lng=36.51)).json()
    assert c.get(f"/v1/activities/{a['activity']['id']}", headers=api.h("B")).status_code == 404
    assert [x["id"] for x in c.get("/v1/activities", headers=api.h("B")).json()] == [b["activity"]["id"]]
    seen_by_b = json.dumps(c.get("/v1/conflicts", headers=api.h("B")).json()) + json.dumps(b)
    assert "Secret raid plan" not in seen_by_b and "dawn" not in seen_by_b
    # The notify response labels the conflict with B's own title (the activity just sent), not A's.
    titles = {x["owner"]["name"]: x["title"] for x in b["conflicts"][0]["activities"]}
    assert titles == {"A": None, "B": "test activity"}
    (conflict,) = c.get("/v1/conflicts", headers=api.h("B")).json()
    other = next(x for x in conflict["activities"] if x["owner"]["name"] == "A")
    assert other["kind"] == "ground" and other["title"] is None and other["time_start"] == "2017-07-10T00:00:00Z"
    assert conflict["regions"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    (as_a,) = c.get("/v1/conflicts", headers=api.h("A")).json()
    assert next(x for x in as_a["activities"] if x["owner"]["name"] == "A")["title"] == "Secret raid plan"
    assert c.get("/v1/conflicts", headers=api.h("Obs")).json() == []
    assert c.get(f"/v1/conflicts/{conflict['id']}", headers=api.h("Obs")).status_code == 404


def _ring(n: int) -> list[tuple[float, float]]:
    import math

    return [(36 + 0.1 * math.cos(2 * math.pi * i / n), 33 + 0.1 * math.sin(2 * math.pi * i / n)) for i in range(n)]


H = 3600


def _v(**kw: Any) -> dict[str, Any]:
    from datetime import timedelta

    return circle_volume(33.0, 36.0, 1000, T0, T0 + timedelta(hours=1), **kw)


BAD: list[tuple[str, str, Any, int, str]] = [
    ("malformed JSON", "/v1/activities", b'{"kind": "ground", ', 400, ""),
    ("not an object", "/v1/activities", [1, 2], 422, ""),
    ("unknown kind", "/v1/activities", activity_body(kind="tanks"), 422, "/kind"),
    ("unknown field", "/v1/activities", {**activity_body(), "colour": "red"}, 422, "/colour"),
    ("no volumes", "/v1/activities", activity_body(volumes=[]), 422, "/volumes"),
    (
        "end before start",
        "/v1/activities",
        activity_body(volumes=[circle_volume(33, 36, 1000, T0, T0)]),
        422,
        "/volumes/0/time_end",
    ),
    (
        "lower above upper",
        "/v1/activities",
        activity_body(volumes=[_v(lo=900, hi=100)]),
        422,
        "/volumes/0/volume/altitude_lower",
    ),
    (
        "two distinct vertices",
        "/v1/activities",
        activity_body(volumes=[polygon_volume([(36, 33), (36.1, 33), (36, 33)], T0, T0.replace(hour=1))]),
        422,
        "/volumes/0/volume/outline_polygon/vertices",
    ),
    (
        "self-intersecting",
        "/v1/activities",
        activity_body(
            volumes=[polygon_volume([(36, 33), (36.1, 33.1), (36.1, 33), (36, 33.1)], T0, T0.replace(hour=1))]
        ),
        422,
        "/volumes/0/volume/outline_polygon/vertices",
    ),
    (
        "lat out of range",
        "/v1/activities",
        activity_body(volumes=[circle_volume(95, 36, 1000, T0, T0.replace(hour=1))]),
        422,
        "/volumes/0/volume/outline_circle/center/lat",
    ),
    (
        "too many vertices",
        "/v1/activities",
        activity_body(volumes=[polygon_volume(_ring(10_001), T0, T0.replace(hour=1))]),
        422,
        "/volumes/0/volume/outline_polygon/vertices",
    ),
    (
        "area over the maximum",
        "/v1/activities",
        activity_body(volumes=[circle_volume(33, 36, 299_000, T0, T0.replace(hour=1))]),
        422,
        "/volumes/0/volume",
    ),
    (
        "unclosed zone ring",
        "/v1/zones",
        zone_body(geometry={"type": "Polygon", "coordinates": [[[36, 33], [36.1, 33], [36.1, 33.1], [36, 33.1]]]}),
        422,
        "/geometry/coordinates/0",
    ),
    (
        "zone lon out of range",
        "/v1/zones",
        zone_body(geometry={"type": "Polygon", "coordinates": [[[36, 33], [200, 33], [36.1, 33.1], [36, 33]]]}),
        422,
        "/geometry/coordinates/0/1/0",
    ),
    (
        "zone Point without radius",
        "/v1/zones",
        zone_body(geometry={"type": "Point", "coordinates": [36, 33]}),
        422,
        "/radius_m",
    ),
    ("unknown zone kind", "/v1/zones", zone_body(kind="moat"), 422, "/kind"),
    ("unknown forbidden kind", "/v1/zones", zone_body(forbidden_kinds=["tanks"]), 422, "/forbidden_kinds/0"),
]


def _counts(api: Api) -> tuple[int, int, int]:
    c = api.client
    return (
        len(c.get("/v1/activities", headers=api.h("A")).json()),
        len(c.get("/v1/zones", headers=api.h("A")).json()),
        len(c.get("/v1/conflicts?status=all", headers=api.h("A")).json()),
    )


@pytest.mark.parametrize(("label", "path", "body", "status", "pointer"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_clear_problem_and_changes_nothing(
    api: Api, label: str, path: str, body: Any, status: int, pointer: str
) -> None:
    c = api.client
    c.post("/v1/activities", headers=api.h("A"), json=activity_body())
    c.post("/v1/zones", headers=api.h("A"), json=zone_body())
    before = _counts(api)
    if isinstance(body, bytes):
        r = c.post(path, headers={**api.h("A"), "content-type": "application/json"}, content=body)
    else:
        r = c.post(path, headers=api.h("A"), json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    p = r.json()
    assert p["status"] == status and p["title"] and p["detail"]
    assert any(e["pointer"] == pointer for e in p["errors"]), p["errors"]
    assert _counts(api) == before


def test_nan_and_infinity_are_refused(api: Api) -> None:
    raw = json.dumps(activity_body()).replace('"value": 1000', '"value": NaN', 1)
    r = api.client.post("/v1/activities", headers={**api.h("A"), "content-type": "application/json"}, content=raw)
    assert r.status_code == 422 and "finite" in r.text
    raw = json.dumps(zone_body()).replace("36.3", "Infinity", 1)
    r = api.client.post("/v1/zones", headers={**api.h("A"), "content-type": "application/json"}, content=raw)
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"].startswith("/geometry/coordinates")


def test_oversized_body_is_413(api: Api) -> None:
    big = b'{"kind": "ground", "title": "' + b"x" * (1024 * 1024) + b'"}'
    r = api.client.post("/v1/activities", headers={**api.h("A"), "content-type": "application/json"}, content=big)
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM
    assert _counts(api) == (0, 0, 0)


def test_unknown_route_and_ids_are_problems(api: Api) -> None:
    for path in ("/v1/nothing", "/v1/zones/nope", "/v1/activities/nope", "/v1/conflicts/nope"):
        r = api.client.get(path, headers=api.h("A"))
        assert r.status_code == 404 and r.headers["content-type"] == PROBLEM


def zone_in_force_over_http(api: Api, who: str = "A", **over: Any) -> dict[str, Any]:
    c = api.client
    z = c.post("/v1/zones", headers=api.h(who), json=zone_body(**over)).json()["zone"]
    r = c.post(f"/v1/zones/{z['id']}/signoffs", headers=api.h(who), json={"revision": 1, "strength": "final"})
    assert r.status_code == 200, r.text
    return dict(r.json()["zone"])


def test_negotiation_over_http(api: Api) -> None:
    c = api.client
    act = c.post("/v1/activities", headers=api.h("B"), json=activity_body()).json()
    r = c.post("/v1/zones", headers=api.h("A"), json=zone_body(signatories=["A", "B"], rationale="draft"))
    assert r.status_code == 201 and r.headers["truceline-receipt"].startswith("seq=")
    z = r.json()["zone"]
    assert z["status"] == "proposed" and [s["name"] for s in z["signatories"]] == ["A", "B"]
    sign = lambda who, body: c.post(f"/v1/zones/{z['id']}/signoffs", headers=api.h(who), json=body)  # noqa: E731
    waiting = lambda who: [(w["id"], w["revision"], w["signature"])  # noqa: E731
                           for w in c.get("/v1/zones/awaiting", headers=api.h(who)).json()]  # fmt: skip
    assert waiting("A") == waiting("B") == [(z["id"], 1, "in_principle")] and waiting("Obs") == []
    assert sign("Obs", {"revision": 1, "strength": "final"}).status_code == 403
    assert sign("A", {"revision": 2, "strength": "final"}).status_code == 409
    assert sign("A", {"revision": 1, "strength": "maybe"}).status_code == 422
    assert sign("A", {"revision": 1, "strength": "in_principle"}).json()["zone"]["status"] == "negotiating"
    assert waiting("A") == [(z["id"], 1, "final")] and waiting("B") == [(z["id"], 1, "in_principle")]
    assert sign("A", {"revision": 1, "strength": "final"}).json()["zone"]["status"] == "negotiating"
    assert waiting("A") == [] and waiting("B") == [(z["id"], 1, "in_principle")]
    assert (
        c.post(f"/v1/zones/{z['id']}/objections", headers=api.h("B"), json={"revision": 1, "statement": ""}).status_code
        == 422
    )
    r = sign("B", {"revision": 1, "strength": "final"}).json()
    assert r["zone"]["status"] == "in_force" and r["activities_in_conflict"] == 1
    assert waiting("A") == waiting("B") == []  # in force: nothing left to sign
    assert len(c.get("/v1/conflicts", headers=api.h("B")).json()) == 1
    # Status moves by hand: only the ones people make; agreement and force are computed.
    by_hand = c.patch(f"/v1/zones/{z['id']}", headers=api.h("A"), json={"status": "agreed_in_principle"})
    assert by_hand.status_code == 409 and "by hand" in by_hand.json()["detail"]
    revise = c.patch(f"/v1/zones/{z['id']}", headers=api.h("A"), json={"standoff_m": 500})
    assert revise.status_code == 409  # a zone in force is not revised
    page = c.get(f"/v1/zones/{z['id']}/negotiation", headers=api.h("Obs")).json()
    assert [p["position"] for p in page["positions"]] == ["in_principle", "final", "final"]
    assert page["awaiting_final"] == [] and page["revisions"][0]["rationale"] == "draft"
    # The moves open by hand: a signatory's, from the status the zone is in; nobody else's.
    moves = lambda who: c.get(f"/v1/zones/{z['id']}/negotiation", headers=api.h(who)).json()["status_moves"]  # noqa: E731
    assert page["status_moves"] == [] and moves("A") == ["lapsed", "suspended"]
    why = "shelling reported in the zone; suspended pending the monitors' report"
    suspended = c.patch(f"/v1/zones/{z['id']}", headers=api.h("A"), json={"status": "suspended", "rationale": why})
    assert suspended.json()["zone"]["status"] == "suspended" and moves("B") == ["in_force", "lapsed"]
    entries = c.get("/v1/audit", headers=api.h("A"), params={"limit": 5000}).json()
    (moved,) = [e for e in entries if e["action"] == "zone.status" and e["payload"].get("to") == "suspended"]
    assert moved["payload"]["rationale"] == why and moved["entity_id"] == z["id"]
    resumed = c.patch(f"/v1/zones/{z['id']}", headers=api.h("B"), json={"status": "in_force"})
    assert resumed.json()["zone"]["status"] == "in_force"
    assert c.get(f"/v1/zones/{z['id']}/revisions/1/diff/1", headers=api.h("A")).json()["added_km2"] == 0
    assert c.get(f"/v1/zones/{z['id']}/revisions/1/diff/5", headers=api.h("A")).status_code == 404
    assert c.post(f"/v1/zones/{z['id']}/lapse", headers=api.h("Obs")).status_code == 403
    lapsed = c.post(f"/v1/zones/{z['id']}/lapse", headers=api.h("B")).json()
    assert lapsed["zone"]["status"] == "lapsed" and c.get("/v1/conflicts", headers=api.h("B")).json() == []
    assert act["activity"]["status"] == "active"


def test_zone_revision_diff_and_filters(api: Api) -> None:
    c = api.client
    z = c.post("/v1/zones", headers=api.h("A"), json=zone_body(forbidden_kinds=["ground"])).json()["zone"]
    r2 = c.patch(
        f"/v1/zones/{z['id']}",
        headers=api.h("A"),
        json={
            "revision": 1,
            "geometry": square(36.6, 32.8, 0.2),
            "forbidden_kinds": ["ground", "air"],
            "rationale": "moved east, air added",
        },
    )
    assert r2.status_code == 200 and r2.json()["zone"]["revision"] == 2
    stale = c.patch(f"/v1/zones/{z['id']}", headers=api.h("A"), json={"standoff_m": 600, "revision": 1})
    assert stale.status_code == 409 and stale.json()["current_revision"] == 2
    assert c.patch(f"/v1/zones/{z['id']}", headers=api.h("B"), json={"standoff_m": 1}).status_code == 403
    d = c.get(f"/v1/zones/{z['id']}/revisions/1/diff/2", headers=api.h("B")).json()
    assert d["added"]["type"] in ("Polygon", "MultiPolygon") and d["removed"]["type"] in ("Polygon", "MultiPolygon")
    assert d["added_km2"] == pytest.approx(d["removed_km2"], rel=0.01) and d["added_km2"] > 100
    fields = {x["field"]: x for x in d["rule_changes"]}
    assert fields["forbidden_kinds"]["from"] == ["ground"] and fields["forbidden_kinds"]["to"] == ["air", "ground"]
    assert "boundary" in fields
    zone_in_force_over_http(api, name="in force")
    q = lambda s: c.get(f"/v1/zones?{s}", headers=api.h("Obs")).json()  # noqa: E731
    assert len(q("kind=de_escalation")) == 2 and q("kind=buffer") == []
    assert len(q("status=in_force")) == 1 and len(q("status=negotiating")) == 1
    assert len(q("bbox=36,32,37,33.5")) == 2 and q("bbox=0,0,1,1") == []
    assert len(q("time_start=2017-07-10T00:00:00Z&time_end=2017-07-11T00:00:00Z")) == 2
    assert q("time_start=2017-06-01T00:00:00Z&time_end=2017-06-02T00:00:00Z") == []
    assert c.get("/v1/zones?bbox=1,2", headers=api.h("A")).status_code == 422
    # by a part of the name: any case, any run of spaces, any script
    named = c.post("/v1/zones", headers=api.h("A"), json=zone_body(name="Zone  ÉCOLE de Daraa")).json()["zone"]
    for part in ("école", "ÉCOLE DE", "zone école", "  de   daraa "):
        assert [z["id"] for z in q(f"name={part}")] == [named["id"]], part
    assert {z["name"] for z in q("name=in")} >= {"in force"} and q("name=atlantis") == []
    assert q("name=école&status=in_force") == []  # with the other filters
    too_long = c.get("/v1/zones", params={"name": "x" * 201}, headers=api.h("A"))
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["pointer"] == "#query/name"
    # a party's activities by a part of the title, the same way; never another party's
    mine = [c.post("/v1/activities", headers=api.h(who), json=activity_body(title=title)).json()["activity"]
            for who, title in (("A", "Convoi  ÉCOLE Daraa"), ("A", "Patrol north"), ("B", "école run"))]  # fmt: skip
    def titled(who: str, part: str) -> list[str]:
        return [x["id"] for x in c.get("/v1/activities", params={"title": part}, headers=api.h(who)).json()]

    assert titled("A", "école") == [mine[0]["id"]] and titled("A", "  convoi   école ") == [mine[0]["id"]]
    assert titled("B", "ÉCOLE") == [mine[2]["id"]] and titled("A", "atlantis") == []
    assert len(titled("A", "o")) == 2


def test_openapi_document_is_current() -> None:
    """docs/openapi.json is the contract: regenerate it with `make openapi` when the API changes."""
    app = create_app(Settings(database_url="sqlite:///:memory:"))
    current = app.openapi()
    stored = json.loads(OPENAPI.read_text(encoding="utf-8"))
    assert current == stored, "the API changed: run `make openapi` and commit docs/openapi.json"
    ops = sorted(op["operationId"] for path in current["paths"].values() for op in path.values())
    assert "notifyActivity" in ops and len(ops) == len(set(ops))


def test_openapi_says_which_calls_need_a_token_and_what_an_error_looks_like(api: Api) -> None:
    """The document matches behaviour: every operation it marks as needing the bearer token answers 401
    without one, the others answer without one, and every error is described as problem+json."""
    doc = api.client.get("/openapi.json").json()
    bearer = doc["components"]["securitySchemes"]["bearer"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    assert "HTTPValidationError" not in json.dumps(doc)  # FastAPI's own 422 body, which we never send
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    open_paths = set()
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            assert op["responses"]["4XX"]["content"] == {PROBLEM: {"schema": problem_ref}}, (method, path)
            assert "422" not in op["responses"], (method, path)
            if "security" not in op:
                open_paths.add(path)
                continue
            assert op["security"] == [{"bearer": []}]
            if method == "get" and "{" not in path and path != "/v1/events":
                assert api.client.get(path).status_code == 401, path
    assert open_paths == {"/healthz", "/metrics", "/web/config"}
    for path in open_paths:
        assert api.client.get(path).status_code == 200, path
    members = set(doc["components"]["schemas"]["Problem"]["properties"])
    assert {"type", "title", "status", "detail", "errors"} <= members
    refused = api.client.post("/v1/zones", headers=api.h("A"), json={"name": ""})
    assert refused.status_code == 422 and set(refused.json()) <= members


def test_docs_keep_their_order_while_the_busiest_routes_are_matched_first() -> None:
    """Routers are tried in turn for each request, so notifications' and track reports' come first;
    /docs still lists its sections in their reading order, and none is left out of it."""
    app = create_app(Settings(database_url="sqlite:///:memory:"))
    doc = app.openapi()
    sections = [t["name"] for t in doc["tags"]]
    assert sections[:3] == ["system", "parties", "zones"]
    used = {tag for path in doc["paths"].values() for op in path.values() for tag in op.get("tags", [])}
    assert used <= set(sections), f"add {sorted(used - set(sections))} to DOC_ORDER"

    def first_match(method: str, path: str) -> int:
        scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}
        return next(i for i, r in enumerate(app.routes) if r.matches(scope)[0] is Match.FULL)

    pages = ("/openapi.json", "/docs", "/docs/oauth2-redirect")
    own_docs = sum(getattr(r, "path", None) in pages for r in app.routes)
    assert first_match("POST", "/v1/activities") == own_docs  # only FastAPI's own pages, matched by exact path
    assert first_match("POST", "/v1/tracks") == own_docs + 1
    assert first_match("GET", "/v1/zones") > own_docs + 1


def test_the_client_lists_every_item_whatever_the_page_size(api: Api) -> None:
    """The CLI's client pages through a listing to its end: nothing is cut off at a page."""
    import httpx

    from truceline.client import Client

    def forward(request: httpx.Request) -> httpx.Response:
        r = api.client.request(request.method, str(request.url), headers=dict(request.headers))
        return httpx.Response(r.status_code, headers=r.headers, content=r.content)

    made = set()
    for i in range(7):
        body = activity_body(title=f"plan {i}", lng=36 + i / 10)
        r = api.client.post("/v1/activities", headers=api.h("A"), json=body)
        made.add(r.json()["activity"]["id"])
    api.client.post("/v1/activities", headers=api.h("B"), json=activity_body(title="B", lng=36.3))
    with Client("http://testserver", api.tokens["A"], transport=httpx.MockTransport(forward)) as c:
        for page in (1, 3, 7, 1000):
            assert {a["id"] for a in c.every("/v1/activities", page=page)} == made
        assert {a["id"] for a in c.activities()} == made
        assert len(c.every("/v1/activities", page=2, status="cancelled")) == 0
        mine = c.conflicts()
        assert len(mine) == len(c.every("/v1/conflicts", page=1)) >= 1


def test_conflicts_filter_by_when_they_happen(api: Api) -> None:
    c = api.client
    for hour in (0, 10):  # two overlaps between A and B: 00-06 and 10-16 on 10 July
        t0 = T0 + timedelta(hours=hour)
        c.post("/v1/activities", headers=api.h("A"), json=activity_body(t0=t0, t1=t0 + timedelta(hours=6)))
        c.post("/v1/activities", headers=api.h("B"), json=activity_body(t0=t0, t1=t0 + timedelta(hours=6)))

    def starts(**window: str) -> list[str]:
        r = c.get("/v1/conflicts", headers=api.h("B"), params=window)
        assert r.status_code == 200, r.text
        exported = c.get("/v1/conflicts/export", headers=api.h("B"), params=window).json()["features"]
        assert sorted(f["properties"]["conflict"] for f in exported) == sorted(x["id"] for x in r.json())
        return [x["regions"][0]["time_start"][11:16] for x in r.json()]

    assert starts() == ["00:00", "10:00"]
    assert starts(time_start="2017-07-10T05:00:00Z") == ["00:00", "10:00"]
    assert starts(time_start="2017-07-10T06:00:00Z") == ["10:00"]  # half-open: ending at 06:00 is out
    assert starts(time_end="2017-07-10T10:00:00Z") == ["00:00"]
    assert starts(time_start="2017-07-10T07:00:00Z", time_end="2017-07-10T09:00:00Z") == []
    r = c.get("/v1/conflicts", headers=api.h("B"), params={"time_start": "yesterday"})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "#query/time_start"


def test_the_documented_examples_are_accepted_as_they_stand(api: Api) -> None:
    """Swagger UI's "Try it out" starts from the document's examples: each one must work."""
    c = api.client
    doc = c.get("/openapi.json").json()

    def example(schema: str) -> dict[str, Any]:
        return dict(doc["components"]["schemas"][schema]["examples"][0])

    zone = c.post("/v1/zones", headers=api.h("A"), json=example("ZoneCreate"))
    assert zone.status_code == 201, zone.text
    changed = c.patch(f"/v1/zones/{zone.json()['zone']['id']}", headers=api.h("A"), json=example("ZoneUpdate"))
    assert changed.status_code == 200 and changed.json()["zone"]["revision"] == 2, changed.text
    notified = c.post("/v1/activities", headers=api.h("A"), json=example("ActivityCreate"))
    assert notified.status_code == 201, notified.text
    thread = c.post("/v1/threads", headers=api.h("A"), json={**example("ThreadCreate"), "parties": ["B"]})  # a name
    assert thread.status_code == 201, thread.text
    assert {m["party"]["name"] for m in thread.json()["message"]["addresses"]} == {"B"}
    sent = c.post(f"/v1/threads/{thread.json()['thread']['id']}/messages", headers=api.h("A"),
                  json={**example("MessageCreate"), "addresses": ["B"]})  # fmt: skip
    assert sent.status_code == 201, sent.text
    unknown = c.post("/v1/threads", headers=api.h("A"), json={"subject": "s", "parties": ["B", "Nobody"]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0] == {"pointer": "/parties/1",
                                                                          "detail": "no party Nobody"}  # fmt: skip
    stranger = c.post(f"/v1/threads/{thread.json()['thread']['id']}/messages", headers=api.h("A"),
                      json={"headline": "h", "addresses": ["Obs"]})  # fmt: skip
    assert stranger.status_code == 422 and "not in this thread" in stranger.text
    geometry = doc["components"]["schemas"]["ZoneCreate"]["properties"]["geometry"]
    assert [g["title"] for g in geometry["oneOf"]] == ["Polygon", "MultiPolygon", "Point"]


def test_every_documented_request_example_fits_its_documented_schema() -> None:
    """The document's request schemas are real types (GeoJSON geometries, Volume4D, incident bodies),
    and each example it gives fits them: what a client generator builds from it is what the service takes."""
    from jsonschema import Draft202012Validator

    doc = json.loads(OPENAPI.read_text())

    def validator(schema: dict[str, Any]) -> Draft202012Validator:
        return Draft202012Validator({**schema, "components": doc["components"]})

    checked = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            media = op.get("requestBody", {}).get("content", {}).get("application/json")
            if not media:
                continue
            schema = media["schema"]
            target = doc["components"]["schemas"][schema["$ref"].split("/")[-1]] if "$ref" in schema else schema
            for example in [*target.get("examples", []), *([media["example"]] if "example" in media else [])]:
                errors = [e.message for e in validator(schema).iter_errors(example)]
                assert not errors, f"{method.upper()} {path}: {errors}"
                checked += 1
    assert checked >= 8
    zone = validator({"$ref": "#/components/schemas/ZoneCreate"})
    example = doc["components"]["schemas"]["ZoneCreate"]["examples"][0]
    assert zone.is_valid(example)
    circle, bare = {"type": "Circle", "coordinates": [36, 33]}, {"type": "Point"}
    for wrong in (circle, bare, {"type": "Polygon", "coordinates": [[[36, 33]]]}):
        assert not zone.is_valid({**example, "geometry": wrong}), wrong


def test_a_zone_s_hours_decide_when_its_rules_apply(api: Api) -> None:
    """A nightly no-fly zone: a flight in its hours conflicts, one by day does not; the hours are a
    rule, so changing them is a revision that re-checks what the zone touches."""
    c = api.client
    nights = [{"days": ["ANY"], "start": "22:00", "end": "05:00"}]
    bad = c.post("/v1/zones", headers=api.h("A"), json=zone_body(schedule=[{"start": "22:00", "end": "5"}]))
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/schedule/0/end"
    z = zone_in_force_over_http(api, name="Nightly no-fly", kind="no_fly", forbidden_kinds=["air"], schedule=nights)
    assert z["schedule"] == nights
    listed = next(x for x in c.get("/v1/zones", headers=api.h("B")).json() if x["id"] == z["id"])
    assert listed["schedule"] == nights

    def fly(hours: tuple[int, int]) -> dict[str, Any]:
        t0, t1 = T0 + timedelta(hours=hours[0]), T0 + timedelta(hours=hours[1])
        r = c.post("/v1/activities", headers=api.h("B"), json=activity_body(kind="air", t0=t0, t1=t1))
        assert r.status_code == 201, r.text
        return dict(r.json())

    night = fly((21, 23))
    (conflict,) = night["conflicts"]
    assert conflict["rule"] == "zone_rule" and "(daily 22:00–05:00 UTC)" in conflict["reason"]
    assert [(r["time_start"], r["time_end"]) for r in conflict["regions"]] == [
        ("2017-07-10T22:00:00Z", "2017-07-10T23:00:00Z")
    ]
    day = fly((9, 12))
    assert day["conflicts"] == []
    # Hours are a rule: a draft's hours dropped in negotiation make a revision; once it is in force,
    # the daytime flight conflicts with it.
    body = zone_body(name="Draft no-fly", kind="no_fly", forbidden_kinds=["air"], schedule=nights)
    draft = c.post("/v1/zones", headers=api.h("A"), json=body)
    zid = draft.json()["zone"]["id"]
    r = c.patch(f"/v1/zones/{zid}", headers=api.h("A"), json={"schedule": [], "rationale": "all day now"})
    assert r.status_code == 200 and r.json()["zone"]["schedule"] is None, r.text
    diff = c.get(f"/v1/zones/{zid}/revisions/1/diff/2", headers=api.h("A")).json()
    assert {"field": "schedule", "from": nights, "to": None} in diff["rule_changes"]
    c.post(f"/v1/zones/{zid}/signoffs", headers=api.h("A"), json={"revision": 2, "strength": "final"})
    again = c.get(f"/v1/activities/{day['activity']['id']}", headers=api.h("B")).json()
    assert [x["zone"]["name"] for x in again["conflicts"]] == ["Draft no-fly"]
    exported = {f["id"]: f["properties"] for f in c.get("/v1/zones/export", headers=api.h("B")).json()["features"]}
    assert exported[z["id"]]["schedule"] == nights and "schedule" not in exported[zid]
