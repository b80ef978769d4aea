"""A zone's documents over HTTP: attached, revised and signed or refused by its signatories, each
answer saying who has yet to sign the current version final and every position taken; read by every
party on the zone's negotiation. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Line
from tests.helpers import zone_body


def _positions(doc: dict[str, Any]) -> list[tuple[str, str, int, str]]:
    return [(p["party"]["name"], p["position"], p["revision"], p["statement"]) for p in doc["positions"]]


def test_documents_are_signed_and_refused_version_by_version(line: Line) -> None:
    c = line.client
    zid = c.post("/v1/zones", headers=line.h("A"), json=zone_body(signatories=["A", "B"])).json()["zone"]["id"]
    base = f"/v1/zones/{zid}/documents"
    made = c.post(base, headers=line.h("A"), json={"title": "Rules of the buffer", "body": "# Rules"})
    assert made.status_code == 201, made.text
    doc = made.json()
    did = doc["id"]
    # a new document waits for every signatory: the answer says so
    assert [p["name"] for p in doc["unsigned_by"]] == ["A", "B"] and doc["positions"] == []
    signed = c.post(f"{base}/{did}/signoffs", headers=line.h("A"), json={"version": 1, "strength": "final"}).json()
    assert [p["name"] for p in signed["unsigned_by"]] == ["B"] and _positions(signed) == [("A", "final", 1, "")]
    revised = c.patch(f"{base}/{did}", headers=line.h("B"), json={"version": 1, "body": "# Rules, amended"}).json()
    assert revised["version"] == 2 and [p["name"] for p in revised["unsigned_by"]] == ["A", "B"]
    # refused, saying why; a refusal without a reason, or of a version not current, records nothing
    for body, status, pointer in (({"version": 2, "statement": ""}, 422, "/statement"),
                                  ({"statement": "no"}, 422, "/version")):  # fmt: skip
        r = c.post(f"{base}/{did}/objections", headers=line.h("B"), json=body)
        assert r.status_code == status and r.json()["errors"][0]["pointer"] == pointer, r.text
    stale = c.post(f"{base}/{did}/objections", headers=line.h("B"), json={"version": 1, "statement": "no"})
    assert stale.status_code == 409, stale.text
    objected = c.post(f"{base}/{did}/objections", headers=line.h("B"), json={"version": 2, "statement": "too vague"})
    assert objected.status_code == 200, objected.text
    assert _positions(objected.json()) == [("A", "final", 1, ""), ("B", "objection", 2, "too vague")]
    # who may: a signatory's officers; the others read them on the zone's negotiation
    r = c.post(f"{base}/{did}/objections", headers=line.h("HQ"), json={"version": 2, "statement": "x"})
    assert r.status_code == 403, r.text
    r = c.post(f"{base}/{did}/signoffs", headers=line.h("Obs"), json={"version": 2, "strength": "final"})
    assert r.status_code == 403, r.text
    (shown,) = c.get(f"/v1/zones/{zid}/negotiation", headers=line.h("Obs")).json()["documents"]
    assert shown == objected.json()
    assert "document.objected" in line.audit_actions()
