"""A party's bearer tokens over HTTP: one per officer, desk or script, each issued, expiring and
revoked on its own; a party never locks itself out; tokens never reach the audit log."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.conftest import FakeClock
from tests.e2e.conftest import Line, quiet_settings
from truceline.api.app import create_app
from truceline.domain.model import Role
from truceline.services import parties


def _tokens(line: Line, who: str, party: str = "me") -> list[dict[str, object]]:
    r = line.client.get(f"/v1/parties/{party}/tokens", headers=line.h(who))
    assert r.status_code == 200, r.text
    return list(r.json())


def _me(line: Line, token: str) -> int:
    return line.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_officers_hold_tokens_of_their_own_and_lose_them_one_at_a_time(line: Line) -> None:
    c = line.client
    (first,) = _tokens(line, "A")
    assert (first["label"], first["state"], first["revoked_at"]) == ("first token", "active", None)
    issue = lambda body, who="A", party="me": c.post(f"/v1/parties/{party}/tokens", headers=line.h(who), json=body)  # noqa: E731
    r = issue({"label": "duty officer Karimov"})
    assert r.status_code == 201, r.text
    karimov = r.json()
    assert karimov["token"].startswith("tl_") and karimov["state"] == "active" and karimov["expires_at"] is None
    assert _me(line, karimov["token"]) == 200
    me = c.get("/v1/me", headers={"Authorization": f"Bearer {karimov['token']}"}).json()
    assert me["token"] == {"id": karimov["id"], "label": "duty officer Karimov"}  # which token this is
    assert "token" not in _tokens(line, "A")[1]  # shown once, never listed
    # bad requests name the field and change nothing
    for body, pointer in (({"label": ""}, "/label"), ({"label": "x", "expires_at": "2017-07-09T11:00:00Z"},
                          "/expires_at"), ({"label": "x", "expires_at": "soon"}, "/expires_at"),
                          ({"label": "x", "scope": "all"}, "/scope")):  # fmt: skip
        bad = issue(body)
        assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"].endswith(pointer), (body, bad.text)
    assert issue({"label": "duty officer Karimov"}).status_code == 409  # one working token per label
    assert len(_tokens(line, "A")) == 2
    # a night desk's token lapses on its own
    night = issue({"label": "night desk", "expires_at": "2017-07-09T13:00:00Z"}).json()
    assert _me(line, night["token"]) == 200
    line.clock.now += timedelta(hours=2)
    expired = c.get("/v1/me", headers={"Authorization": f"Bearer {night['token']}"})
    assert expired.status_code == 401 and "'night desk') has expired" in expired.json()["detail"]
    assert {t["label"]: t["state"] for t in _tokens(line, "A")}["night desk"] == "expired"
    # Karimov leaves: his token stops, the party's others go on
    revoke = lambda tid, who="A", party="me": c.post(f"/v1/parties/{party}/tokens/{tid}/revoke", headers=line.h(who))  # noqa: E731
    gone = revoke(karimov["id"])
    assert gone.status_code == 200 and gone.json()["state"] == "revoked" and gone.json()["revoked_at"]
    refused = c.get("/v1/inbox", headers={"Authorization": f"Bearer {karimov['token']}"})
    assert refused.status_code == 401 and "'duty officer Karimov') was revoked" in refused.json()["detail"]
    assert _me(line, line.tokens["A"]) == 200
    assert revoke(karimov["id"]).status_code == 409 and revoke("nope").status_code == 404
    # the last working token stays: A would lock itself out
    last = revoke(first["id"])
    assert last.status_code == 409 and "last working token" in last.json()["detail"]
    assert issue({"label": "duty officer Karimov"}).status_code == 201  # the label is free again


def test_only_the_party_itself_or_an_admin_manages_its_tokens(line: Line) -> None:
    c = line.client
    a = line.ids["A"]
    assert c.get(f"/v1/parties/{a}/tokens", headers=line.h("B")).status_code == 403
    assert c.post(f"/v1/parties/{a}/tokens", headers=line.h("B"), json={"label": "mine now"}).status_code == 403
    assert c.get("/v1/parties/nope/tokens", headers=line.h("Admin")).status_code == 404
    assert c.get("/v1/parties/me/tokens").status_code == 401
    # an admin hands A a new token and revokes A's first one (say it leaked)
    made = c.post(f"/v1/parties/{a}/tokens", headers=line.h("Admin"), json={"label": "reissued"}).json()
    (first,) = [t for t in _tokens(line, "Admin", a) if t["label"] == "first token"]
    assert c.post(f"/v1/parties/{a}/tokens/{first['id']}/revoke", headers=line.h("Admin")).status_code == 200
    assert _me(line, line.tokens["A"]) == 401 and _me(line, str(made["token"])) == 200
    # any role keeps its own tokens, observers too
    assert c.post("/v1/parties/me/tokens", headers=line.h("Obs"), json={"label": "analyst"}).status_code == 201
    # every change is in the audit log, with its label, never a token
    entries = c.get("/v1/audit", headers=line.h("Admin"), params={"limit": 5000}).json()
    said = [(e["action"], e["payload"]["label"]) for e in entries
            if e["action"].startswith("credential.") and e["payload"]]  # fmt: skip  (the admin's own, in full)
    assert ("credential.issued", "reissued") in said and ("credential.revoked", "first token") in said
    assert made["token"] not in json.dumps(entries) and line.tokens["A"] not in json.dumps(entries)
    # what A sees of them: its own, not B's
    mine = c.get("/v1/audit", headers={"Authorization": f"Bearer {made['token']}"}, params={"limit": 5000}).json()
    assert {e["payload"]["party"] for e in mine if e["action"].startswith("credential.") and e["payload"]} == {a}


def test_each_token_shows_when_and_from_where_it_was_last_used_even_after_it_was_revoked(line: Line) -> None:
    c = line.client
    issued = c.post("/v1/parties/me/tokens", headers=line.h("A"), json={"label": "field laptop"}).json()
    laptop = {"Authorization": f"Bearer {issued['token']}"}
    listed = lambda: {t["label"]: t for t in _tokens(line, "A")}  # noqa: E731
    assert (issued["last_used_at"], issued["last_used_from"]) == (None, None)
    assert (listed()["field laptop"]["last_used_at"], listed()["field laptop"]["last_used_from"]) == (None, None)
    # the listing's own request is a use of the token that made it
    assert listed()["first token"]["last_used_at"] == "2017-07-09T12:00:00Z"
    assert listed()["first token"]["last_used_from"] == "testclient"

    assert c.get("/v1/inbox", headers=laptop).status_code == 200
    seen = listed()["field laptop"]
    assert (seen["last_used_at"], seen["last_used_from"]) == ("2017-07-09T12:00:00Z", "testclient")
    # within the minute from the same place: not written again (a read costs no write)
    line.clock.now += timedelta(seconds=40)
    assert c.get("/v1/inbox", headers=laptop).status_code == 200
    assert listed()["field laptop"]["last_used_at"] == "2017-07-09T12:00:00Z"
    # from somewhere else: at once, whatever the minute
    elsewhere = TestClient(line.client.app, client=("10.20.30.40", 40000))
    assert elsewhere.get("/v1/zones", headers=laptop).status_code == 200
    assert listed()["field laptop"]["last_used_from"] == "10.20.30.40"
    assert listed()["field laptop"]["last_used_at"] == "2017-07-09T12:00:40Z"
    line.clock.now += timedelta(minutes=3)
    assert c.get("/v1/inbox", headers=laptop).status_code == 200
    assert (listed()["field laptop"]["last_used_at"], listed()["field laptop"]["last_used_from"]) == (
        "2017-07-09T12:03:40Z", "testclient")  # fmt: skip

    # the laptop is lost and its token revoked; someone keeps trying it
    assert c.post(f"/v1/parties/me/tokens/{issued['id']}/revoke", headers=line.h("A")).status_code == 200
    line.clock.now += timedelta(hours=2)
    assert elsewhere.get("/v1/inbox", headers=laptop).status_code == 401
    tried = listed()["field laptop"]
    assert tried["state"] == "revoked" and tried["revoked_at"] == "2017-07-09T12:03:40Z"
    assert tried["tried_after_revocation"] and not listed()["first token"]["tried_after_revocation"]
    assert (tried["last_used_at"], tried["last_used_from"]) == ("2017-07-09T14:03:40Z", "10.20.30.40")
    # the admin sees it too; another party does not
    a = line.ids["A"]
    by_admin = {t["label"]: t for t in _tokens(line, "Admin", a)}
    assert by_admin["field laptop"]["last_used_at"] == "2017-07-09T14:03:40Z"
    assert c.get(f"/v1/parties/{a}/tokens", headers=line.h("B")).status_code == 403
    # an unknown token is no party's use
    assert c.get("/v1/inbox", headers={"Authorization": "Bearer tl_nothing"}).status_code == 401


def test_token_uses_are_written_by_the_background_job_and_at_shutdown(db_url: str) -> None:
    """Uses seen by a process reach the store without anyone listing tokens: every
    ``token_use_seconds``, and when the server stops."""
    clock = FakeClock(datetime(2017, 7, 9, 12, tzinfo=UTC))

    def serve(every: float) -> TestClient:
        return TestClient(create_app(quiet_settings(db_url, token_use_seconds=every), clock=clock))

    first = serve(3600)
    ctx = first.app.state.ctx  # type: ignore[attr-defined]
    p, token = parties.add(ctx.uow(write=True), name="Desk", role=Role.officer)
    auth = {"Authorization": f"Bearer {token}"}
    stored = lambda: {c.label: c.last_used_at for c in parties.credentials(ctx.uow(), p, p.id)}["first token"]  # noqa: E731
    with first as client:
        assert client.get("/v1/me", headers=auth).status_code == 200
        assert stored() is None  # noted, not yet written
    assert stored() == clock.now  # written as the server stopped

    clock.now += timedelta(minutes=5)
    with serve(0.05) as client:
        assert client.get("/v1/me", headers=auth).status_code == 200
        for _ in range(300):
            if stored() == clock.now:
                break
            time.sleep(0.01)
        assert stored() == clock.now  # written by the job while the server runs
