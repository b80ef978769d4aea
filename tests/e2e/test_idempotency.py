"""Idempotency-Key: a write sent again with its key (its answer lost on a field office's link) is done
once and answered as the first time; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from tests.e2e.conftest import Api
from tests.helpers import activity_body
from truceline.adapters import tables as t

NOTIFIED = "activity.notified"


def _mine(api: Api, who: str = "A") -> list[dict[str, Any]]:
    r = api.client.get("/v1/activities", headers=api.h(who), params={"limit": 1000})
    assert r.status_code == 200, r.text
    return list(r.json())


def _notified(api: Api) -> int:
    entries = api.client.get("/v1/audit", headers=api.h("Admin"), params={"limit": 5000}).json()
    return sum(e["action"] == NOTIFIED for e in entries)


def test_a_write_sent_again_with_its_key_is_done_once_and_answered_alike(api: Api) -> None:
    c, body = api.client, activity_body(title="Nasib convoy")
    keyed = {**api.h("A"), "Idempotency-Key": '"6f1c2a43-0d7e-4f55-9a3e-2b1f3c4d5e6f"'}
    first = c.post("/v1/activities", headers=keyed, json=body)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = c.post("/v1/activities", headers=keyed, json=body)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content  # the same activity, the same conflicts, byte for byte
    assert again.headers["truceline-receipt"] == first.headers["truceline-receipt"]
    assert again.headers["content-type"] == first.headers["content-type"]
    # the bare key is the same key as the quoted one
    bare = c.post("/v1/activities", headers={**api.h("A"), "Idempotency-Key": "6f1c2a43-0d7e-4f55-9a3e-2b1f3c4d5e6f"},
                  json=body)  # fmt: skip
    assert bare.headers.get("idempotent-replayed") == "true" and bare.content == first.content
    assert [a["id"] for a in _mine(api)] == [first.json()["activity"]["id"]]
    assert _notified(api) == 1
    # without a key, a request sent twice is two writes
    for _ in range(2):
        assert c.post("/v1/activities", headers=api.h("A"), json=body).status_code == 201
    assert len(_mine(api)) == 3


def test_each_party_has_its_own_keys_and_a_key_is_for_one_request(api: Api) -> None:
    c = api.client
    key = {"Idempotency-Key": "convoy-2017-07-10"}
    a = c.post("/v1/activities", headers={**api.h("A"), **key}, json=activity_body(title="A's convoy"))
    b = c.post("/v1/activities", headers={**api.h("B"), **key}, json=activity_body(title="B's patrol"))
    assert a.status_code == b.status_code == 201 and "idempotent-replayed" not in b.headers
    assert b.json()["activity"]["title"] == "B's patrol"
    # A sends another request under the same key: refused, naming the header; nothing is stored
    other = c.post("/v1/activities", headers={**api.h("A"), **key}, json=activity_body(title="another plan"))
    assert other.status_code == 422 and other.headers["content-type"] == "application/problem+json"
    problem = other.json()
    assert problem["errors"][0]["pointer"] == "#header/Idempotency-Key"
    assert "POST /v1/activities" in problem["detail"], problem
    # the same body to another path is another request too
    cancel = c.post(f"/v1/activities/{a.json()['activity']['id']}/cancel", headers={**api.h("A"), **key})
    assert cancel.status_code == 422
    assert [x["title"] for x in _mine(api)] == ["A's convoy"] and _mine(api)[0]["status"] == "active"


def test_a_refused_write_keeps_no_key_and_bad_keys_are_named(api: Api) -> None:
    c = api.client
    key = {**api.h("A"), "Idempotency-Key": "first-try"}
    bad = activity_body()
    bad["volumes"][0]["time_end"] = bad["volumes"][0]["time_start"]
    assert c.post("/v1/activities", headers=key, json=bad).status_code == 422
    # mended and sent again under the same key: done, as a first request
    good = c.post("/v1/activities", headers=key, json=activity_body())
    assert good.status_code == 201 and "idempotent-replayed" not in good.headers
    for value, reason in [("", "empty"), ('""', "empty"), ("x" * 256, "more than 255"), ("convoy é", "visible ASCII"),
                          ("two words", "visible ASCII")]:
        r = c.post("/v1/activities", headers={**api.h("A"), "Idempotency-Key": value.encode()},
                   json=activity_body())  # fmt: skip
        assert r.status_code == 400, (value, r.text)
        err = r.json()["errors"][0]
        assert err["pointer"] == "#header/Idempotency-Key" and reason in err["detail"], (value, err)
    assert len(_mine(api)) == 1


def test_a_write_whose_answer_was_not_kept_is_named_not_done_again(api: Api) -> None:
    """The server stopped between the write's commit and keeping its answer: a retry is told what the
    write made (409), and nothing is written twice."""
    c = api.client
    keyed = {**api.h("A"), "Idempotency-Key": "lost-answer"}
    made = c.post("/v1/activities", headers=keyed, json=activity_body())
    assert made.status_code == 201
    ctx = c.app.state.ctx  # type: ignore[attr-defined]
    with ctx.engine.begin() as conn:  # as if the server had stopped before keeping the answer
        conn.execute(update(t.idempotency_keys).values(status=None, headers=None, body=None))
    again = c.post("/v1/activities", headers=keyed, json=activity_body())
    assert again.status_code == 409, again.text
    problem = again.json()
    assert problem["entity_type"] == "activity" and problem["entity_id"] == made.json()["activity"]["id"]
    assert "was carried out at" in problem["detail"] and len(_mine(api)) == 1


def test_other_writes_take_a_key_too(api: Api) -> None:
    """A hotline message and an acknowledgement, sent twice under their keys: one message, one ack."""
    c = api.client
    opened = {"subject": "Nasib crossing", "parties": ["B"], "message": {"headline": "Convoy at 06:00"}}
    keyed = {**api.h("A"), "Idempotency-Key": "thread-1"}
    first = c.post("/v1/threads", headers=keyed, json=opened)
    assert first.status_code == 201, first.text
    again = c.post("/v1/threads", headers=keyed, json=opened)
    assert again.headers.get("idempotent-replayed") == "true" and again.content == first.content
    threads = c.get("/v1/threads", headers=api.h("B")).json()
    assert len(threads) == 1
    inbox = c.get("/v1/inbox", headers=api.h("B")).json()
    (message,) = inbox
    acked = [c.post(f"/v1/messages/{message['id']}/ack", headers={**api.h("B"), "Idempotency-Key": "ack-1"})
             for _ in range(2)]  # fmt: skip
    assert [r.status_code for r in acked] == [200, 200], [r.text for r in acked]
    assert acked[1].headers.get("idempotent-replayed") == "true"
    assert datetime.fromisoformat(acked[0].json()["addresses"][0]["acknowledged_at"]) <= datetime.now(UTC)


def test_the_client_sends_a_write_again_when_its_answer_is_lost(api: Api) -> None:
    """The link drops after the server did the write: the client tries again with the same key and
    gets the first answer; the write is done once. Each try is signed afresh."""
    import httpx
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from truceline.client import Client
    from truceline.domain.audit import public_key_b64

    key = Ed25519PrivateKey.generate()
    assert api.client.put("/v1/me/key", headers=api.h("A"), json={"public_key": public_key_b64(key)}).status_code == 200
    sent: list[httpx.Request] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        r = api.client.request(request.method, str(request.url), headers=dict(request.headers), content=request.content)
        if len(sent) == 1:  # the server did it; the answer never arrives
            raise httpx.ReadError("connection reset by peer", request=request)
        return httpx.Response(r.status_code, headers=r.headers, content=r.content)

    told: list[float] = []
    with Client("http://testserver", api.tokens["A"], transport=httpx.MockTransport(flaky), signing_key=key,
                retry_waits=(0.01, 0.01), on_retry=lambda e, wait: told.append(wait)) as c:  # fmt: skip
        made = c.notify(activity_body(title="Nasib convoy"))
    assert told == [0.01] and len(sent) == 2
    assert sent[0].headers["idempotency-key"] == sent[1].headers["idempotency-key"]
    assert sent[0].headers["truceline-signature"] != sent[1].headers["truceline-signature"]  # a new nonce
    assert [a["id"] for a in _mine(api)] == [made["activity"]["id"]]
    assert _notified(api) == 1
    # every write gets a key of its own
    with Client("http://testserver", api.tokens["A"], transport=httpx.MockTransport(flaky), signing_key=key) as c:
        c.notify(activity_body(title="second"))
    assert sent[2].headers["idempotency-key"] != sent[0].headers["idempotency-key"] and len(_mine(api)) == 2
