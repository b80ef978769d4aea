"""A party keeps its own copy of the audit log (``truceline audit pull``) and so finds out, from its
side alone, when the operator has rewritten what it was shown."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.demo_server import BIN, server
from truceline.adapters.db import make_engine
from truceline.adapters.migrate import upgrade
from truceline.adapters.unit_of_work import SqlUnitOfWork
from truceline.domain.audit import GENESIS, Entry, EntryBody
from truceline.services import parties


def _run(*args: str, token: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "TRUCELINE_TOKEN": token, "TRUCELINE_URL": url}
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=120)


def _sql(db: str, *statements: str) -> None:
    engine = make_engine(db)
    with engine.begin() as c:
        for s in statements:
            c.exec_driver_sql(s)
    engine.dispose()


def _rewrite_from(db: str, seq: int, action: str) -> None:
    """What an operator with the database and the service's key could do: change entry ``seq``,
    recompute every hash after it and the head, and drop the heads signed before (the key signs
    new ones), so that the chain and its signed heads are consistent again."""
    engine = make_engine(db)
    with SqlUnitOfWork(engine) as u:
        stored = u.audit.entries()
    prev = GENESIS
    with engine.begin() as c:
        for e in stored:
            b = e.entry.body
            if b.seq == seq:
                b = EntryBody(b.seq, b.at_ms, b.party_id, action, b.entity_type, b.entity_id, b.payload_digest,
                              b.actor_digest)  # fmt: skip
            new = Entry.make(b, prev)
            c.exec_driver_sql("UPDATE audit_log SET action = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                              (b.action, new.prev_hash, new.hash, b.seq))  # fmt: skip
            prev = new.hash
        c.exec_driver_sql("UPDATE audit_state SET hash = ? WHERE id = 1", (prev,))
        c.exec_driver_sql("DELETE FROM audit_heads")
    engine.dispose()


Running = tuple[str, dict[str, str], str]


@pytest.fixture
def parties_on_a_server(tmp_path: Path) -> Iterator[Running]:
    """Jordan and Israel on a server of their own: (URL, {name: token}, database URL)."""
    db = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(db)
    upgrade(engine)
    tokens = {}
    for name in ("Jordan", "Israel"):
        tokens[name] = parties.add(SqlUnitOfWork(engine, write=True), name=name, role="officer")[1]
    engine.dispose()
    with server(db, tmp_path) as url:
        yield url, tokens, db


def test_a_party_keeps_its_copy_and_catches_a_rewrite(parties_on_a_server: Running, tmp_path: Path) -> None:
    url, tokens, db = parties_on_a_server
    jordan, israel = tokens["Jordan"], tokens["Israel"]
    copy = tmp_path / "jordan-audit.jsonl"
    first = _run("audit", "pull", "--into", str(copy), token=jordan, url=url)
    assert first.returncode == 0, first.stderr
    assert "checked from its first entry" in first.stdout
    kept = [json.loads(line) for line in copy.read_text().splitlines()]
    assert kept[0]["party"]["name"] == "Jordan" and kept[0]["public_key"] == kept[-1]["head"]["public_key"]
    assert {x["entry"]["action"] for x in kept[1:-1]} == {"party.created", "credential.issued"}
    # nothing changed: the same signed head, to the millisecond it was signed at, as it was first answered
    again = _run("audit", "pull", "--into", str(copy), token=jordan, url=url)
    assert again.returncode == 0 and "kept 0 new entries" in again.stdout
    heads = [json.loads(line)["head"] for line in copy.read_text().splitlines() if '"head"' in line]
    assert len(heads) == 2 and heads[0] == heads[1], heads
    kept = [json.loads(line) for line in copy.read_text().splitlines()]
    # Jordan works; the next pull adds what it may read, and says the log grew from the copy's head
    made = _run("tokens", "issue", "Amman desk", "--json", token=jordan, url=url)
    _run("send", "Convoy at Nasib", "--to", "Israel", token=json.loads(made.stdout)["token"], url=url)
    second = _run("audit", "pull", "--into", str(copy), token=jordan, url=url)
    assert second.returncode == 0, second.stderr
    head_seq = kept[-1]["head"]["seq"]
    assert "kept 3 new entries" in second.stdout and f"extends your copy's head at entry {head_seq}" in second.stdout
    lines = [json.loads(line) for line in copy.read_text().splitlines()]
    assert [x["entry"]["action"] for x in lines if "entry" in x][-3:] == ["credential.issued", "thread.opened",
                                                                           "message.sent"]  # fmt: skip
    assert [x["entry"]["token"]["label"] for x in [x for x in lines if "entry" in x][-2:]] == ["Amman desk"] * 2
    # Israel's copy is its own
    other = _run("audit", "pull", "--into", str(copy), token=israel, url=url)
    assert other.returncode == 1 and "is Jordan's copy, not Israel's" in other.stderr

    # The operator edits the message's entry in the database, its hash left as it was: the next
    # pull looks only at what is new, the full walk finds it.
    sent = next(x["entry"] for x in reversed(lines) if "entry" in x)
    _sql(db, f"UPDATE audit_log SET action = 'message.withdrawn' WHERE seq = {sent['seq']}")
    assert _run("audit", "pull", "--into", str(copy), token=jordan, url=url).returncode == 0
    full = _run("audit", "pull", "--into", str(copy), "--full", token=jordan, url=url)
    assert full.returncode == 1 and full.stderr.strip().count("\n") == 0
    assert f"entry {sent['seq']} was modified" in full.stderr
    _sql(db, f"UPDATE audit_log SET action = 'message.sent' WHERE seq = {sent['seq']}")
    assert _run("audit", "pull", "--into", str(copy), "--full", token=jordan, url=url).returncode == 0

    # Now the operator rewrites the chain from that entry on, hashes, head and signed heads included:
    # the database's own check passes. The full walk finds it at once; the next pull after a change
    # does too (until then the service shows the head it signed before).
    _rewrite_from(db, sent["seq"], "message.withdrawn")
    assert "intact" in _run("audit", "verify", "--db", db, token=jordan, url=url).stdout
    at_once = _run("audit", "pull", "--into", str(copy), "--full", token=jordan, url=url)
    assert at_once.returncode == 1 and "the log was rewritten" in at_once.stderr, at_once.stdout
    assert "no longer in the chain" in at_once.stderr or "no longer the one your copy kept" in at_once.stderr
    _run("tokens", "issue", "night desk", token=jordan, url=url)
    before = copy.read_text()
    caught = _run("audit", "pull", "--into", str(copy), token=jordan, url=url)
    assert caught.returncode == 1 and "the log was rewritten" in caught.stderr, caught.stdout + caught.stderr
    assert "does not link to the entry before it" in caught.stderr
    assert copy.read_text() == before  # nothing was added to the copy


def test_a_copy_takes_heads_signed_with_the_key_it_trusts_only(parties_on_a_server: Running, tmp_path: Path) -> None:
    url, tokens, _ = parties_on_a_server
    copy = tmp_path / "copy.jsonl"
    wrong = _run("audit", "pull", "--into", str(copy), "--public-key", "A" * 43 + "=", token=tokens["Jordan"], url=url)
    assert wrong.returncode == 1 and "another key than the one you trust" in wrong.stderr and not copy.exists()
    copy.write_text("not a copy\n")
    damaged = _run("audit", "pull", "--into", str(copy), token=tokens["Jordan"], url=url)
    assert damaged.returncode == 1 and "damaged" in damaged.stderr and damaged.stderr.strip().count("\n") == 0
