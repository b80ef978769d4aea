"""The audit log's pure checks that a party runs on its own side: an entry as the API shows it
against its hash, and a run of chain links from where a copy last stopped."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from truceline.domain.audit import (
    GENESIS,
    Entry,
    EntryBody,
    Link,
    actor_digest,
    digest,
    follow,
    shown_entry_problem,
)


def _chain(n: int) -> list[Entry]:
    prev, out = GENESIS, []
    for seq in range(1, n + 1):
        body = EntryBody(seq, 1_499_680_800_000 + seq * 1_001, "p1", "activity.notified", "activity", f"a{seq}",
                         digest({"n": seq}), actor_digest("t1", f"{seq:032x}") if seq % 2 else None)  # fmt: skip
        e = Entry.make(body, prev)
        out.append(e)
        prev = e.hash
    return out


def _links(entries: list[Entry]) -> list[Link]:
    return [Link(e.body.seq, e.body.body_digest, e.prev_hash, e.hash) for e in entries]


def _shown(e: Entry, *, payload: Any = None, token: dict[str, str] | None = None) -> dict[str, Any]:
    b = e.body
    at = datetime.fromtimestamp(b.at_ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")
    return {"seq": b.seq, "at": at, "party_id": b.party_id, "action": b.action, "entity_type": b.entity_type,
            "entity_id": b.entity_id, "payload_digest": b.payload_digest, "actor_digest": b.actor_digest,
            "token": token, "payload": payload, "prev_hash": e.prev_hash, "hash": e.hash}  # fmt: skip


def test_an_entry_as_shown_is_checked_against_its_hash() -> None:
    entries = _chain(4)
    first, second = entries[0], entries[1]
    mine = _shown(first, payload={"n": 1}, token={"id": "t1", "label": "desk", "salt": f"{1:032x}"})
    assert shown_entry_problem(mine) is None
    assert shown_entry_problem(_shown(second)) is None  # another party's: no payload, no token, still checked
    # what could be altered on the way, or in the store: each is caught
    for change, words in (
        ({"payload": {"n": 2}}, "payload"),
        ({"token": {"id": "t2", "label": "desk", "salt": f"{1:032x}"}}, "token"),
        ({"action": "activity.cancelled"}, "hash"),
        ({"at": "2017-07-10T10:00:00Z"}, "hash"),
        ({"actor_digest": None}, "token"),
        ({"actor_digest": None, "token": None}, "hash"),  # the change pinned on no token at all
        ({"party_id": "p2"}, "hash"),
    ):
        problem = shown_entry_problem({**mine, **change})
        assert problem is not None and words in problem, (change, problem)
    assert "not an audit entry" in (shown_entry_problem({"seq": 1}) or "")


def test_links_are_followed_from_where_a_copy_stopped() -> None:
    links = _links(_chain(6))
    assert follow(links, seq=1, prev=GENESIS) == (None, links[-1].hash)
    assert follow(links[3:], seq=4, prev=links[2].hash) == (None, links[-1].hash)
    # the copy's head is not the one the chain now leads through: a rewrite
    problem, _ = follow(links[3:], seq=4, prev="f" * 64)
    assert problem == "entry 4 does not link to the entry before it"
    # an entry whose content changed, its hash left as it was
    forged = [*links[:2], Link(3, digest({"forged": True}), links[2].prev_hash, links[2].hash), *links[3:]]
    assert follow(forged, seq=1, prev=GENESIS)[0] == "entry 3 was modified: its content no longer matches its hash"
    # a gap
    assert follow([*links[:2], *links[3:]], seq=1, prev=GENESIS)[0] == "entry 3 is missing from the chain"


def test_evidence_is_signed_with_its_content_s_digest_in_place_of_the_content() -> None:
    import base64
    import hashlib
    import json

    from truceline.domain.audit import request_message

    content = b"\xff\xd8\xff\xe0 a photograph"
    body = {"resourceDesc": "crater", "mimeType": "image/jpeg", "derefUri": base64.b64encode(content).decode()}
    digest = {"sha256": hashlib.sha256(content).hexdigest()}
    path = "/v1/incidents/abc/evidence"
    signed = json.loads(request_message("POST", path, body, at="2017-07-10T00:00:00Z", nonce="n" * 16))
    assert signed["body"] == {**body, "derefUri": digest}
    # the form kept in the audit log signs the same message (a reader checks it from the log alone)
    assert request_message("post", path, signed["body"], at="2017-07-10T00:00:00Z", nonce="n" * 16) == (
        request_message("POST", path, body, at="2017-07-10T00:00:00Z", nonce="n" * 16))  # fmt: skip
    # other paths, other methods, and content that is not base64 are signed as they are
    for method, where, given in (("POST", "/v1/incidents", body), ("PUT", path, body),
                                 ("POST", "/v1/incidents/abc/evidence/x", body),
                                 ("POST", path, {**body, "derefUri": "not base64!"}),
                                 ("POST", path, [body])):  # fmt: skip
        assert json.loads(request_message(method, where, given, at="t", nonce="n" * 16))["body"] == given
