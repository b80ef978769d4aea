"""Evidence attached to an incident: kept byte for byte, fetched with its digest, its digest in the
audit log, bad input refused with nothing stored. SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

from tests.e2e.conftest import Line, quiet_settings
from tests.e2e.test_incidents import LATER, report
from truceline.api.app import create_app
from truceline.services import parties

PROBLEM = "application/problem+json"
PHOTO = b"\xff\xd8\xff\xe0" + os.urandom(200_000) + b"\x00\xff\xd9"  # a JPEG's marks around random bytes


def _attach(line: Line, who: str, incident_id: str, content: bytes = PHOTO, **over: Any) -> Any:
    body = {"resourceDesc": "Photograph of the crater, Izra market", "mimeType": "image/jpeg",
            "derefUri": base64.b64encode(content).decode(), **over}  # fmt: skip
    return line.client.post(f"/v1/incidents/{incident_id}/evidence", headers=line.h(who), json=body)


def test_evidence_is_kept_as_given_and_its_digest_is_in_the_audit_log(line: Line) -> None:
    c = line.client
    line.clock.now = LATER
    incident = report(line, "A")
    r = _attach(line, "Mon", incident["id"])
    assert r.status_code == 201, r.text[:500]
    got = r.json()["evidence"]
    digest = hashlib.sha256(PHOTO).hexdigest()
    assert (got["resourceDesc"], got["mimeType"], got["size"], got["sha256"]) == (
        "Photograph of the crater, Izra market", "image/jpeg", len(PHOTO), digest)  # fmt: skip
    assert got["added_by"]["name"] == "Mon" and got["added_at"] == "2017-07-20T08:00:00Z"
    # every party reads the incident with its evidence, and fetches the file as it was given
    shown = c.get(f"/v1/incidents/{incident['id']}", headers=line.h("B")).json()
    assert [e["id"] for e in shown["evidence"]] == [got["id"]]
    f = c.get(got["uri"], headers=line.h("B"))
    assert f.status_code == 200 and f.content == PHOTO
    assert f.headers["content-type"] == "image/jpeg"
    assert f.headers["repr-digest"] == f"sha-256=:{base64.b64encode(hashlib.sha256(PHOTO).digest()).decode()}:"
    assert f.headers["content-disposition"] == f'attachment; filename="evidence-{got["id"]}.jpg"'
    assert f.headers["x-content-type-options"] == "nosniff"
    # the audit log holds its digest, not its bytes
    (entry,) = [e for e in c.get("/v1/audit", headers=line.h("A"), params={"entity_id": incident["id"]}).json()
                if e["action"] == "incident.evidence_added"]  # fmt: skip
    assert entry["payload"] == {"evidence": got["id"], "resourceDesc": got["resourceDesc"], "mimeType": "image/jpeg",
                                "size": len(PHOTO), "sha256": digest}  # fmt: skip
    # an alleged party answers with its own evidence; both are listed, oldest first
    doc = b"%PDF-1.4 statement of the 5th Division"
    mine = _attach(line, "B", incident["id"], doc, resourceDesc="Our statement", mimeType="application/pdf")
    assert mine.status_code == 201, mine.text[:300]
    listed = [(e["added_by"]["name"], e["mimeType"]) for e in mine.json()["incident"]["evidence"]]
    assert listed == [("Mon", "image/jpeg"), ("B", "application/pdf")]
    # unknown ids
    assert c.get(f"/v1/incidents/{incident['id']}/evidence/nope", headers=line.h("A")).status_code == 404
    assert _attach(line, "A", "nope").status_code == 404


def test_bad_evidence_is_refused_naming_the_field_and_nothing_is_stored(line: Line) -> None:
    line.clock.now = LATER
    incident = report(line, "A")
    for over, pointer in [
        ({"derefUri": "not base64!"}, "/derefUri"),
        ({"derefUri": ""}, "/derefUri"),
        ({"mimeType": "jpeg"}, "/mimeType"),
        ({"resourceDesc": " "}, "/resourceDesc"),
        ({"resourceDesc": "x" * 301}, "/resourceDesc"),
        ({"uri": "http://example.org/photo.jpg"}, "/uri"),
    ]:
        r = _attach(line, "A", incident["id"], **over)
        assert r.status_code == 422 and r.headers["content-type"] == PROBLEM, (over, r.text[:300])
        assert [e["pointer"] for e in r.json()["errors"]] == [pointer], over
    assert _attach(line, "Obs", incident["id"]).status_code == 403
    assert line.client.get(f"/v1/incidents/{incident['id']}", headers=line.h("A")).json()["evidence"] == []
    assert "incident.evidence_added" not in line.audit_actions()


def test_evidence_over_the_limit_is_413(db_url: str) -> None:
    from fastapi.testclient import TestClient

    app = create_app(quiet_settings(db_url, max_evidence_bytes=100_000))
    ctx = app.state.ctx
    _, token = parties.add(ctx.uow(write=True), name="Mon", role="monitor")
    h = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as c:
        from tests.helpers import incident_body

        made = c.post("/v1/incidents", headers=h, json=incident_body())
        assert made.status_code == 201, made.text
        iid = made.json()["id"]
        body = {"resourceDesc": "video", "mimeType": "video/mp4"}
        big = c.post(f"/v1/incidents/{iid}/evidence", headers=h,
                     json={**body, "derefUri": base64.b64encode(b"x" * 100_001).decode()})  # fmt: skip
        assert big.status_code == 413 and big.headers["content-type"] == PROBLEM
        assert "at most 100,000 bytes" in big.text
        # far larger than the route's own limit: refused before it is read
        huge = c.post(f"/v1/incidents/{iid}/evidence", headers=h,
                      json={**body, "derefUri": base64.b64encode(b"x" * 300_000).decode()})  # fmt: skip
        assert huge.status_code == 413
        ok = c.post(f"/v1/incidents/{iid}/evidence", headers=h,
                    json={**body, "derefUri": base64.b64encode(b"x" * 100_000).decode()})  # fmt: skip
        assert ok.status_code == 201, ok.text[:300]


def test_a_signing_party_signs_evidence_by_its_digest_and_the_log_keeps_no_file(line: Line) -> None:
    """A party that signs its writes signs evidence with the content's SHA-256 in place of the content:
    the audit log keeps what was signed, so anyone checks the signature from the log, and the file
    (tied to it by the digest) is kept once, by the evidence store."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from truceline.domain.audit import (
        canonical,
        new_request_signature,
        public_key_b64,
        request_message,
        sign,
        verify_signature,
    )
    from truceline.domain.volumes import format_time

    c = line.client
    line.clock.now = LATER
    incident = report(line, "A")
    key = Ed25519PrivateKey.generate()
    assert c.put("/v1/me/key", headers=line.h("Mon"), json={"public_key": public_key_b64(key)}).status_code == 200
    path = f"/v1/incidents/{incident['id']}/evidence"
    body = {"resourceDesc": "Photograph of the crater, Izra market", "mimeType": "image/jpeg",
            "derefUri": base64.b64encode(PHOTO).decode()}  # fmt: skip
    now = format_time(LATER) or ""
    # signed over the whole content, as before: refused, and nothing is stored
    whole = canonical({"method": "POST", "path": path, "body": body, "at": now, "nonce": "n" * 16})
    header = f"t={now}, nonce={'n' * 16}, sig={sign(key, whole)}"
    refused = c.post(path, headers={**line.h("Mon"), "Truceline-Signature": header}, json=body)
    assert refused.status_code == 401 and "does not verify" in refused.json()["detail"]
    assert c.get(f"/v1/incidents/{incident['id']}", headers=line.h("A")).json()["evidence"] == []
    # signed as the client signs (new_request_signature): the digest form
    ok = new_request_signature(key, "POST", path, body, now)
    made = c.post(path, headers={**line.h("Mon"), "Truceline-Signature": ok.header()}, json=body)
    assert made.status_code == 201, made.text[:300]
    got = made.json()["evidence"]
    digest = hashlib.sha256(PHOTO).hexdigest()
    assert got["sha256"] == digest and c.get(got["uri"], headers=line.h("B")).content == PHOTO
    (entry,) = [e for e in c.get("/v1/audit", headers=line.h("A"), params={"entity_id": incident["id"]}).json()
                if e["action"] == "incident.evidence_added"]  # fmt: skip
    p = entry["payload"]
    assert p["signed"]["body"] == {**body, "derefUri": {"sha256": digest}}
    assert len(json.dumps(entry)) < 3000  # the 200 kB photograph is not in the log
    signed = p["signed"]
    message = request_message(signed["method"], signed["path"], signed["body"], at=signed["at"], nonce=signed["nonce"])
    assert verify_signature(p["public_key"], message, p["signature"])
    # the same signature does not fit other content: a file swapped in transit is refused
    other = {**body, "derefUri": base64.b64encode(PHOTO[:-1] + b"\x00").decode()}
    swapped = new_request_signature(key, "POST", path, body, now)
    r = c.post(path, headers={**line.h("Mon"), "Truceline-Signature": swapped.header()}, json=other)
    assert r.status_code == 401
    assert len(c.get(f"/v1/incidents/{incident['id']}", headers=line.h("A")).json()["evidence"]) == 1
