"""Every endpoint × every role × own/other party: the exact status code, and no response body leaks
another party's activity. Callers: A (officer; owns the activity, sole signatory of the zone), B
(officer of another party; asked to monitor the zone), Mon (monitor), Obs (observer), Adm (admin).
The callers run in the order below, so the one expected to succeed goes last."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import activity_body, incident_body, zone_body
from truceline.api.app import create_app
from truceline.services import parties
from truceline.settings import Settings

CALLERS = ["Obs", "Mon", "Adm", "B", "A"]
SECRET = "SECRET-PLAN-TITLE"


@dataclass
class World:
    client: TestClient
    tokens: dict[str, str]
    ids: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@contextmanager
def open_world(database_url: str, *, raise_server_exceptions: bool = True) -> Iterator[World]:
    """The parties above and one of everything the matrix names (activity, zone, responsibility,
    conflict, hotline message and thread, webhook and delivery, incidents), served in process."""
    app = create_app(Settings(database_url=database_url))
    ctx = app.state.ctx
    tokens = {}
    ids = {}
    for name, role in [("A", "officer"), ("B", "officer"), ("Mon", "monitor"), ("Obs", "observer"), ("Adm", "admin")]:
        p, tokens[name] = parties.add(ctx.uow(write=True), name=name, role=role)
        ids[f"party{name}"] = p.id
    with TestClient(app, raise_server_exceptions=raise_server_exceptions) as c:
        w = World(c, tokens, ids)
        hook = c.post("/v1/webhooks", headers=w.h("B"), json={"url": "https://example.invalid/hook"}).json()
        w.ids["hook"] = hook["id"]
        body = activity_body(title=SECRET)
        w.ids["activity"] = c.post("/v1/activities", headers=w.h("A"), json=body).json()["activity"]["id"]
        z = c.post("/v1/zones", headers=w.h("A"), json=zone_body(name="Z")).json()["zone"]
        w.ids["zone"] = z["id"]
        r = c.post(f"/v1/zones/{z['id']}/responsibilities", headers=w.h("A"), json={"party": "B", "role": "monitor"})
        w.ids["resp"] = r.json()["id"]
        other = c.post("/v1/activities", headers=w.h("B"), json=activity_body(kind="patrol", lng=36.51)).json()
        w.ids["conflict"] = other["conflicts"][0]["id"]
        (alert,) = c.get("/v1/inbox", headers=w.h("A")).json()
        w.ids["message"], w.ids["thread"] = alert["id"], alert["thread_id"]
        w.ids["delivery"] = c.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=w.h("B")).json()[0]["id"]
        w.ids["incident"] = c.post("/v1/incidents", headers=w.h("A"), json=incident_body(alleged=["B"])).json()["id"]
        w.ids["incident2"] = c.post("/v1/incidents", headers=w.h("Mon"), json=incident_body()).json()["id"]
        made = c.post(f"/v1/incidents/{w.ids['incident']}/evidence", headers=w.h("Mon"), json=EVIDENCE)
        w.ids["evidence"] = made.json()["evidence"]["id"]
        yield w


@pytest.fixture
def world(tmp_path: Any) -> Iterator[World]:
    with open_world(f"sqlite:///{tmp_path / 'w.db'}") as w:
        yield w


def _b(n: int) -> dict[str, int]:
    return dict(zip(CALLERS, [n] * 5, strict=True))


def _with(base: int, **over: int) -> dict[str, int]:
    return {**_b(base), **over}


Z, ACT, R, C = "{zone}", "{activity}", "{resp}", "{conflict}"
TH, MSG, HOOK, DLV, PB = "{thread}", "{message}", "{hook}", "{delivery}", "{partyB}"
INC, INC2, EV = "{incident}", "{incident2}", "{evidence}"
#: POSTs that read: a plan checked against the zones
WRITES_NOTHING = frozenset({"/v1/activities/check"})
EVIDENCE = {"resourceDesc": "photograph", "mimeType": "image/jpeg", "derefUri": "/9j/4AAQSkZJRg=="}
MATRIX: list[tuple[str, str, Any, dict[str, int]]] = [
    ("GET", "/v1/me", None, _b(200)),
    ("GET", "/v1/parties", None, _b(200)),
    ("POST", "/v1/parties", {"name": "New", "role": "observer"}, _with(403, Adm=201)),
    ("PUT", "/v1/me/key", {"public_key": "A" * 43 + "="}, _b(200)),
    ("GET", "/v1/zones", None, _b(200)),
    ("GET", "/v1/zones/export", None, _b(200)),
    ("POST", "/v1/zones", zone_body(name="Z2"), _with(403, B=201, A=201)),
    ("GET", f"/v1/zones/{Z}", None, _b(200)),
    ("PATCH", f"/v1/zones/{Z}", {"standoff_m": 100, "rationale": "r"}, _with(403, A=200)),
    ("POST", f"/v1/zones/{Z}/lapse", None, _with(403, A=409)),  # A may, but a proposed zone does not lapse
    ("GET", f"/v1/zones/{Z}/revisions", None, _b(200)),
    ("GET", f"/v1/zones/{Z}/revisions/1/diff/1", None, _b(200)),
    ("GET", f"/v1/zones/{Z}/negotiation", None, _b(200)),
    ("POST", f"/v1/zones/{Z}/signoffs", {"revision": 1, "strength": "final"}, _with(403, A=200)),
    ("POST", f"/v1/zones/{Z}/objections", {"revision": 1, "statement": "no"}, _with(403, A=200)),
    ("POST", f"/v1/zones/{Z}/responsibilities", {"party": "Mon", "role": "monitor"}, _with(403, A=201)),
    ("POST", f"/v1/zones/{Z}/responsibilities/{R}/accept", {}, _with(403, B=200)),
    ("POST", f"/v1/zones/{Z}/responsibilities/{R}/decline", {"statement": "no"}, _with(403, B=200)),
    ("POST", f"/v1/zones/{Z}/documents", {"title": "t", "body": "b"}, _with(403, A=201)),
    ("GET", "/v1/activities", None, _b(200)),
    ("GET", "/v1/activities/export", None, _b(200)),
    ("POST", "/v1/activities", activity_body(lng=38.0), _with(403, B=201, A=201)),
    ("POST", "/v1/activities/check", activity_body(lng=38.0), _with(403, B=200, A=200)),
    ("GET", f"/v1/activities/{ACT}", None, _with(404, A=200)),
    ("PUT", f"/v1/activities/{ACT}", activity_body(title=SECRET), _with(403, B=404, A=200)),
    ("POST", f"/v1/activities/{ACT}/cancel", None, _with(403, B=404, A=200)),
    ("GET", "/v1/conflicts", None, _b(200)),
    ("GET", "/v1/conflicts/export", None, _b(200)),
    ("GET", f"/v1/conflicts/{C}", None, _with(404, B=200, A=200)),
    ("GET", f"/v1/conflicts/{C}/messages", None, _with(404, B=200, A=200)),
    ("GET", "/v1/audit", None, _b(200)),
    ("GET", "/v1/audit/head", None, _b(200)),
    ("GET", "/v1/audit/chain?from=1&to=3", None, _b(200)),
    ("GET", "/v1/threads", None, _b(200)),
    ("POST", "/v1/threads", {"subject": "s", "parties": [PB]}, _with(201, Obs=403, B=422)),  # B: nobody else
    ("GET", f"/v1/threads/{TH}", None, _with(404, B=200, A=200)),
    ("POST", f"/v1/threads/{TH}/messages", {"headline": "h"}, _with(404, Obs=403, B=201, A=201)),
    ("GET", f"/v1/messages/{MSG}", None, _with(404, B=200, A=200)),
    ("POST", f"/v1/messages/{MSG}/ack", {"note": "seen"}, _with(404, B=200, A=200)),
    ("GET", "/v1/inbox", None, _b(200)),
    ("GET", "/v1/inbox/summary", None, _b(200)),
    ("GET", "/v1/events/history", None, _b(200)),
    ("POST", "/v1/webhooks", {"url": "https://example.invalid/x"}, _b(201)),
    ("GET", "/v1/webhooks", None, _b(200)),
    ("GET", f"/v1/webhooks/{HOOK}/deliveries", None, _with(404, B=200)),
    ("POST", f"/v1/webhooks/{HOOK}/deliveries/{DLV}/replay", None, _with(404, B=201)),
    ("DELETE", f"/v1/webhooks/{HOOK}", None, _with(404, B=204)),
    ("GET", f"/v1/parties/{PB}/escalation-contacts", None, _with(403, Adm=200, B=200)),
    ("PUT", f"/v1/parties/{PB}/escalation-contacts", {"contacts": []}, _with(403, Adm=200, B=200)),
    ("GET", "/v1/incidents", None, _b(200)),
    ("POST", "/v1/incidents", incident_body(), _with(403, Mon=201, B=201, A=201)),
    ("GET", f"/v1/incidents/{INC}", None, _b(200)),
    ("POST", f"/v1/incidents/{INC}/steps", {"step": "review"}, _with(403, Mon=200)),
    ("POST", f"/v1/incidents/{INC}/evidence", EVIDENCE, _with(403, Mon=201, B=201, A=201)),
    ("GET", f"/v1/incidents/{INC}/evidence/{EV}", None, _b(200)),
    ("POST", f"/v1/incidents/{INC}/steps", {"step": "dispute", "statement": "not us"}, _with(403, B=200)),
    ("GET", f"/v1/incidents/{INC}/duplicates", None, _b(200)),
    ("POST", f"/v1/incidents/{INC}/merge", {"duplicates": [INC2]}, _with(403, Mon=200)),
    ("POST", f"/v1/incidents/{INC}/unmerge", {"duplicate": INC2}, _with(403, Mon=422)),  # nothing merged
    ("GET", "/v1/incidents/export", None, _b(200)),
    ("POST", "/v1/incidents/import", {"not": "csv"}, _with(403, Mon=422, Adm=422)),
    ("GET", f"/v1/zones/{Z}/ceasefire", None, _b(200)),
    ("GET", "/v1/sitrep?date=2017-07-10", None, _b(200)),
]


def _fill(body: Any, ids: dict[str, str]) -> Any:
    if body is None:
        return None
    text = json.dumps(body)
    for k, v in ids.items():
        text = text.replace("{" + k + "}", v)
    return json.loads(text)


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_permission_matrix(world: World, method: str, path: str, body: Any, expected: dict[str, int]) -> None:
    url = path.format(**world.ids)
    for who in CALLERS:
        r = world.client.request(method, url, headers=world.h(who), json=_fill(body, world.ids))
        assert r.status_code == expected[who], f"{who}: {r.status_code} {r.text}"
        if r.status_code >= 400:
            assert r.headers["content-type"] == "application/problem+json"
        if who != "A":
            assert SECRET not in r.text, f"{who} saw A's plan via {method} {path}"
        if path in WRITES_NOTHING and r.status_code < 300:
            assert "truceline-receipt" not in r.headers  # a check stores nothing, so it has no receipt
        elif method != "GET" and r.status_code < 300:
            assert r.headers["truceline-receipt"].startswith("seq=")  # every write carries its receipt


def test_unauthenticated_is_401_everywhere(world: World) -> None:
    for method, path, body, _ in MATRIX:
        r = world.client.request(method, path.format(**world.ids), json=_fill(body, world.ids))
        assert r.status_code == 401, f"{method} {path}"
    assert world.client.get("/v1/events").status_code == 401


def test_signed_writes(world: World) -> None:
    """A party that registers a key must sign its writes; the audit log keeps what it signed. A signature
    is good for one request, near the time it was made: seen once, it cannot be sent again."""
    import base64
    from datetime import UTC, datetime, timedelta

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from truceline.client import ApiError, Client
    from truceline.domain.audit import (
        RequestSignature,
        new_request_signature,
        public_key_b64,
        request_message,
        verify_signature,
    )
    from truceline.domain.volumes import format_time

    key = Ed25519PrivateKey.generate()
    c = world.client
    assert c.put("/v1/me/key", headers=world.h("B"), json={"public_key": "bm90IGEga2V5"}).status_code == 422
    assert c.put("/v1/me/key", headers=world.h("B"), json={"public_key": public_key_b64(key)}).status_code == 200
    body = activity_body(lng=39.0)
    unsigned = c.post("/v1/activities", headers=world.h("B"), json=body)
    assert unsigned.status_code == 401 and "sign" in unsigned.json()["detail"]
    now = format_time(datetime.now(UTC)) or ""

    def post(signed: RequestSignature | str, path: str = "/v1/activities") -> Any:
        header = signed if isinstance(signed, str) else signed.header()
        return c.post(path, headers={**world.h("B"), "Truceline-Signature": header}, json=body)

    forged = new_request_signature(Ed25519PrivateKey.generate(), "POST", "/v1/activities", body, now)
    assert post(forged).status_code == 401
    # Signed with the right key but for another path: refused too (no replay elsewhere).
    assert post(new_request_signature(key, "POST", "/v1/zones", body, now)).status_code == 401
    # The old shape (a bare signature, no time, no nonce) is refused, saying what the header must be.
    bare = base64.b64encode(key.sign(request_message("POST", "/v1/activities", body, at=now, nonce="x" * 16)))
    old = post(bare.decode())
    assert old.status_code == 401 and "t=<RFC 3339 time>, nonce=" in old.json()["detail"]
    # Signed too long ago, or ahead of the server's clock: refused, naming the clock.
    for minutes in (-10, 10):
        at = format_time(datetime.now(UTC) + timedelta(minutes=minutes)) or ""
        late = post(new_request_signature(key, "POST", "/v1/activities", body, at))
        assert late.status_code == 401 and "the server's clock" in late.json()["detail"]
    short = RequestSignature(now, "abc", new_request_signature(key, "POST", "/v1/activities", body, now).sig)
    assert "nonce" in post(short).json()["detail"]

    # A good signature is taken once: sent again as it was (by a proxy that saw it), it is refused and
    # nothing more is stored.
    once = new_request_signature(key, "POST", "/v1/activities", body, now)
    first = post(once)
    assert first.status_code == 201, first.text
    mine = lambda: len(c.get("/v1/activities", headers=world.h("B"), params={"limit": 1000}).json())  # noqa: E731
    before = mine()
    again = post(once)
    assert again.status_code == 409 and "received before" in again.json()["detail"], again.text
    assert mine() == before

    client = Client("http://testserver", world.tokens["B"], transport=c._transport, signing_key=key)
    made = client.notify(body)
    assert made["activity"]["title"] == "test activity" and client.last_receipt
    entries = c.get("/v1/audit?limit=5000", headers=world.h("B")).json()
    (entry,) = [e for e in entries if e["action"] == "activity.notified" and e["entity_id"] == made["activity"]["id"]]
    p = entry["payload"]
    # Anyone can check, from the log alone, that B sent exactly this, and when.
    signed = p["signed"]
    message = request_message(signed["method"], signed["path"], signed["body"], at=signed["at"], nonce=signed["nonce"])
    assert verify_signature(p["public_key"], message, p["signature"])
    assert signed["body"] == json.loads(json.dumps(body))
    # ... but a reader of the log cannot send it again
    assert post(RequestSignature(signed["at"], signed["nonce"], p["signature"])).status_code == 409
    assert mine() == before + 1
    with pytest.raises(ApiError):
        Client("http://testserver", world.tokens["B"], transport=c._transport).notify(body)
