"""Odd input anywhere gets a 4xx problem+json, never a 500, on SQLite and PostgreSQL.

The sweep puts each of ``ODD`` in place of every field of every write the permission matrix makes
(and of the writes it does not: track reports, documents, escalation contacts), sends bodies that are
not what they claim, odd values for every query and path parameter the OpenAPI document lists, and
odd values of the headers routes read. The cases after it check what the refusals say and that
nothing stored changes."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from tests.e2e.conftest import Api
from tests.e2e.test_permissions import MATRIX, World, _fill, open_world
from tests.helpers import acled_csv, activity_body, zone_body
from truceline.domain.unstorable import NUL_REASON as NUL

PROBLEM = "application/problem+json"
ODD: list[Any] = [
    None, True, 0, -1, 2**70, -(2**70), 10**400, 1.5e308, math.inf, math.nan,
    "", "x", "x" * 5000, "²", "٣", "\u0000", "2017-07-10T00:00:00", [], [None], {}, [{}], {"a": {}},
]  # fmt: skip
ODD_BODIES = [b"", b"{", b"null", b"[]", b'"x"', b"1e999", b"\xff\xfe", b'{"a": NaN}', b"[" * 50_000 + b"]" * 50_000]
ODD_PARAMS = ["", "x", str(2**70), str(-(2**70)), "1e999", "nan", "-1", "0", "\u0000", "x" * 5000, "²", "2017-13-45"]
ODD_HEADERS = {
    "If-Match": ["x", '"99999999999999999999999999"', '"-1"', '""', '"²"', 'W/"1"', "*"],
    "Truceline-Signature": ["!!!", "", "AAAA", "x" * 5000],
    "Last-Event-ID": ["²", "9" * 30, "-1", "x", "9" * 5000],
    "Content-Type": ["application/x-ndjson", "text/csv", "x/y", ""],
}
TRACK = {"track_id": "T1", "time": "2017-07-10T06:00:00Z", "lat": 33.0, "lon": 36.0, "altitude_m": 500.0,
         "ground_speed_mps": 100.0, "track_deg": 90.0, "kind": "air"}  # fmt: skip


def _leaves(body: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths to the body itself, each member, and the first item of each list, all the way down."""
    yield path
    if isinstance(body, dict):
        for k, v in body.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(body, list) and body:
        yield from _leaves(body[0], (*path, 0))


def _with(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    out = copy.deepcopy(body)
    at = out
    for k in path[:-1]:
        at = at[k]
    at[path[-1]] = value
    return out


class Sweep:
    def __init__(self, w: World) -> None:
        self.w = w
        self.failures: list[str] = []
        self.sent = 0

    def send(self, what: str, method: str, url: str, headers: dict[str, Any], content: bytes | None) -> None:
        r = self.w.client.request(method, url, headers=headers, content=content)
        self.sent += 1
        if r.status_code >= 500 or (r.status_code >= 400 and r.headers.get("content-type") != PROBLEM):
            self.failures.append(f"{r.status_code} {method} {url[:80]} {what}: {r.text[:160]}")


def _json(v: Any) -> bytes:
    return json.dumps(v).encode()  # NaN and Infinity as Python writes them: not JSON, still sent


def test_odd_input_anywhere_is_a_problem_never_a_500(db_url: str) -> None:
    with open_world(db_url, raise_server_exceptions=False) as w:
        c, ids = w.client, w.ids
        zone = ids["zone"]
        doc = c.post(f"/v1/zones/{zone}/documents", headers=w.h("A"), json={"title": "t", "body": "b"})
        ids["document"] = doc.json()["id"]
        OK = {"A": 200}
        writes: list[tuple[str, str, Any, dict[str, int]]] = [
            *MATRIX,
            ("POST", "/v1/tracks", [TRACK], OK),
            ("POST", "/v1/zones/{zone}/documents/{document}/signoffs", {"version": 1, "strength": "final"}, OK),
            ("POST", "/v1/zones/{zone}/documents/{document}/objections", {"version": 1, "statement": "no"}, OK),
            ("PATCH", "/v1/zones/{zone}/documents/{document}", {"title": "t2", "body": "b2"}, OK),
            ("PUT", "/v1/parties/{partyA}/escalation-contacts", {"contacts": [{"party": "B", "after_s": 60}]}, OK),
        ]  # fmt: skip
        s = Sweep(w)
        for method, path, body, expected in writes:
            if body is None:
                continue
            # as the caller whom the matrix expects to succeed, so the odd value is what is judged
            who = next((k for k in ("A", "B", "Mon", "Adm", "Obs") if 200 <= expected.get(k, 0) < 300), "A")
            url, good = path.format(**ids), _fill(body, ids)
            headers = {**w.h(who), "content-type": "application/json"}
            for leaf in _leaves(good):
                for odd in ODD:
                    s.send(f"{leaf}={odd!r:.40}", method, url, headers, _json(_with(good, leaf, odd)))
            for raw in ODD_BODIES:
                s.send(f"body {raw[:20]!r}", method, url, headers, raw)
        known = {"zone_id": zone, "activity_id": ids["activity"], "conflict_id": ids["conflict"],
                 "thread_id": ids["thread"], "message_id": ids["message"], "webhook_id": ids["hook"],
                 "delivery_id": ids["delivery"], "incident_id": ids["incident"], "party_id": ids["partyA"],
                 "responsibility_id": ids["resp"], "document_id": ids["document"], "a": "1", "b": "1",
                 "evidence_id": ids["evidence"],
                 "token_id": c.get("/v1/parties/me/tokens", headers=w.h("A")).json()[0]["id"]}  # fmt: skip
        for path, operations in c.get("/openapi.json").json()["paths"].items():
            if path == "/v1/events":  # a stream that stays open; its parameters are /v1/events/history's
                continue
            for method, op in operations.items():
                params = op.get("parameters", [])
                url = path.format(**known)
                for p in params:
                    for odd in ODD_PARAMS if p["in"] in ("query", "path") else []:
                        if p["in"] == "query":
                            target = c.build_request(method, url, params={p["name"]: odd}).url
                        else:
                            odd_path = path.format(**{**known, p["name"]: quote(odd, safe="")})
                            target = c.build_request(method, odd_path).url
                        s.send(f"{p['in']} {p['name']}={odd:.30}", method.upper(), str(target), w.h("A"), None)
        for name, values in ODD_HEADERS.items():
            for value in values:
                for method, path, body in [
                    ("PATCH", f"/v1/zones/{zone}", {"standoff_m": 5, "rationale": "r"}),
                    ("POST", "/v1/activities", activity_body(lng=38.5)),
                    ("POST", "/v1/tracks", [TRACK]),
                    ("GET", "/v1/events/history", None),
                ]:
                    headers = {"content-type": "application/json", **w.h("A"), name: value.encode()}
                    s.send(f"{name}: {value:.30}", method, path, headers, None if body is None else _json(body))
        assert s.sent > 4000
        assert s.failures == []


def _counts(api: Api) -> tuple[int, int, int]:
    get = api.client.get
    return (
        len(get("/v1/activities", headers=api.h("A")).json()),
        len(get("/v1/zones", headers=api.h("A")).json()),
        len(get("/v1/incidents", headers=api.h("Mon")).json()),
    )


def _refused(r: Any, status: int, pointer: str, reason: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    (err,) = r.json()["errors"]
    assert (err["pointer"], reason in err["detail"], reason in r.json()["detail"]) == (pointer, True, True), r.text


def test_a_nul_character_is_refused_where_it_is_and_nothing_is_stored(api: Api) -> None:
    """PostgreSQL's text cannot hold U+0000; no field of ours needs it, so it is refused everywhere alike."""
    c, a = api.client, api.h("A")
    made = c.post("/v1/activities", headers=a, json=activity_body(title="kept"))
    assert made.status_code == 201
    before = _counts(api)
    nul = "must not contain the NUL character"
    _refused(c.post("/v1/activities", headers=a, json=activity_body(title="convoy\u0000")), 422, "/title", nul)
    bad_zone = zone_body()
    bad_zone["forbidden_kinds"] = ["ground", "air\u0000"]
    _refused(c.post("/v1/zones", headers=a, json=bad_zone), 422, "/forbidden_kinds/1", nul)
    _refused(c.post("/v1/zones", headers=a, json={**zone_body(), "k\u0000": 1}), 422, "/k\u0000", nul)
    _refused(c.get("/v1/zones/%00", headers=a), 422, "#path", nul)
    _refused(c.get("/v1/conflicts", headers=a, params={"zone_id": "z\u0000"}), 422, "#query/zone_id", nul)
    # Track reports are refused one by one: the bad one alone, naming its line; the good one is kept.
    tracks = (json.dumps(TRACK) + "\n\n" + json.dumps({**TRACK, "track_id": "T\u0000"})).encode()
    ingested = c.post("/v1/tracks", headers={**a, "content-type": "application/x-ndjson"}, content=tracks)
    assert (ingested.status_code, ingested.json()["accepted"]) == (200, 1), ingested.text
    assert ingested.json()["rejected"] == [{"line": 3, "errors": [{"pointer": "/track_id", "detail": NUL}]}]
    csv = acled_csv(2, bad={1: ("notes", "a\x00b")}).encode()
    imported = c.post("/v1/incidents/import", headers={**api.h("Mon"), "content-type": "text/csv"}, content=csv)
    _refused(imported, 422, "", nul)
    assert "the body: must not contain" in imported.json()["detail"]
    assert _counts(api) == before
    assert c.get(f"/v1/activities/{made.json()['activity']['id']}", headers=a).json()["activity"]["title"] == "kept"
    # A backslash followed by "u0000" is text like any other (JSON writes it "\\u0000"): kept as sent.
    literal = c.post("/v1/activities", headers=a, json=activity_body(title="\\u0000 is not a NUL"))
    assert literal.status_code == 201 and literal.json()["activity"]["title"] == "\\u0000 is not a NUL"


def test_numbers_beyond_what_is_stored_are_refused_naming_the_parameter(api: Api) -> None:
    c, a = api.client, api.h("A")
    huge = zone_body()
    huge["geometry"]["coordinates"][0][0][0] = 10**400  # beyond a double: float() would raise
    _refused(c.post("/v1/zones", headers=a, json=huge), 422, "/geometry/coordinates/0/0/0", "too large a number")
    bounded = [("/v1/activities", "offset"), ("/v1/zones", "offset"), ("/v1/audit", "after"),
               ("/v1/events/history", "after"), ("/v1/incidents", "offset"), ("/v1/inbox", "offset")]  # fmt: skip
    for path, name in bounded:
        r = c.get(path, headers=a, params={name: 2**63})  # one past SQLite's INTEGER and PostgreSQL's BIGINT
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == f"#query/{name}", (path, r.text)
        assert c.get(path, headers=a, params={name: 2**63 - 1}).status_code == 200, path
    chain = c.get("/v1/audit/chain", headers=a, params={"from": 1, "to": 2**64})
    assert chain.status_code == 422 and chain.json()["errors"][0]["pointer"] == "#query/to"
    made = c.post("/v1/zones", headers=a, json=zone_body()).json()["zone"]
    diff = c.get(f"/v1/zones/{made['id']}/revisions/1/diff/{2**70}", headers=a)
    assert diff.status_code == 422 and diff.json()["errors"][0]["pointer"] == "#path/b"
    for resume in ("9" * 30, "²", "x"):  # refused before the stream opens
        feed = c.get("/v1/events", headers={**a, "Last-Event-ID": resume.encode()})
        assert (feed.status_code, feed.json()["errors"][0]["pointer"]) == (422, "#header/Last-Event-ID")
    # An import reports such a row by its column and keeps the others.
    rows = acled_csv(3, bad={2: ("fatalities", "9" * 25), 3: ("iso", "-" + "9" * 25)})
    r = c.post("/v1/incidents/import", headers={**api.h("Mon"), "content-type": "text/csv"}, content=rows.encode())
    body = r.json()
    assert (r.status_code, body["inserted"], body["rejected"]) == (200, 1, 2), r.text
    assert [(p["row"], p["column"], "out of range" in p["detail"]) for p in body["problems"]] == [
        (2, "fatalities", True), (3, "iso", True)]  # fmt: skip


def test_a_track_report_whose_kind_is_not_a_string_or_a_number_too_large_is_rejected_alone(api: Api) -> None:
    bad = [{**TRACK, "track_id": "T2", "kind": ["air"]}, {**TRACK, "track_id": "T3", "lat": 10**400}]
    r = api.client.post("/v1/tracks", headers=api.h("A"), json=[TRACK, *bad])
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    assert [(x["line"], x["errors"][0]["pointer"]) for x in r.json()["rejected"]] == [(2, "/kind"), (3, "/lat")]
    assert "too large a number" in r.json()["rejected"][1]["errors"][0]["detail"]


def test_a_body_over_the_limit_without_a_length_is_413_and_nothing_is_stored(api: Api) -> None:
    """A chunked body has no Content-Length to refuse it by up front: counted as it arrives."""
    before = _counts(api)
    body = json.dumps(activity_body(title="x" * (1024 * 1024))).encode()
    chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
    r = api.client.post("/v1/activities", headers={**api.h("A"), "content-type": "application/json"}, content=chunks)
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM, r.text
    assert "larger than" in r.json()["detail"]
    assert _counts(api) == before
