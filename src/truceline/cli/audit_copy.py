"""``truceline audit pull``: a party keeps its own copy of the audit entries it may read, and of the
heads the service signed. Each pull checks, before it adds anything, that the chain the service
signs now still leads through the head the copy last kept (so nothing before it was rewritten),
and that every new entry matches its hash and sits in that chain. ``--full`` walks the whole chain
again and checks every kept entry is still the one at its place (an entry changed in the database,
its hash left as it was, shows there). A party that pulls now and then can prove that the log it
was shown was only ever appended to."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from truceline.cli.cards import moment
from truceline.cli.main import DEFAULT_URL, TokenOpt, UrlOpt, _client, audit_app, fail, guarded, out
from truceline.client import Client
from truceline.domain.audit import GENESIS, Link, follow, head_message, shown_entry_problem, verify_signature

FORMAT = "truceline-audit-copy"
#: the most links ``GET /v1/audit/chain`` returns at once
CHAIN_WINDOW = 100_000
PAGE = 5_000


class Copy:
    """The copy on disk: a JSON line for its header, then one per kept entry and signed head, only
    ever appended to."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.header: dict[str, Any] | None = None
        #: each kept entry's hash, by its number
        self.kept: dict[int, str] = {}
        self.last_head: dict[str, Any] | None = None
        if not path.exists():
            return
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, start=1):
                try:
                    item = json.loads(line)
                    if n == 1:
                        if not isinstance(item, dict) or item.get("format") != FORMAT:
                            fail(f"{path}: not a copy of an audit log (from `truceline audit pull`)")
                        self.header = item
                    elif "entry" in item:
                        self.kept[int(item["entry"]["seq"])] = str(item["entry"]["hash"])
                    else:
                        int(item["head"]["seq"])  # a head has its number
                        self.last_head = item["head"]
                except (ValueError, TypeError, KeyError):
                    fail(f"{path}:{n}: neither an entry nor a head: the copy is damaged")

    def append(self, header: dict[str, Any] | None, entries: list[dict[str, Any]], head: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            lines = [header] if header else []
            lines += [{"entry": e} for e in entries] + [{"head": head}]
            f.write("".join(json.dumps(x, sort_keys=True, ensure_ascii=False) + "\n" for x in lines))


def _links(c: Client, first: int, last: int) -> Iterator[Link]:
    """The chain's links from ``first`` to ``last``, a window at a time."""
    for start in range(first, last + 1, CHAIN_WINDOW):
        window = guarded(lambda a=start: c.audit_chain(a, min(last, a + CHAIN_WINDOW - 1)))  # type: ignore[misc]
        yield from (Link(int(x["seq"]), x["body_digest"], x["prev_hash"], x["hash"]) for x in window)


def _new_entries(c: Client, after: int, through: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        page = guarded(lambda a=after: c.audit_entries(after=a, limit=PAGE))  # type: ignore[misc]
        found += [e for e in page if e["seq"] <= through]
        if len(page) < PAGE or page[-1]["seq"] >= through:
            return found
        after = page[-1]["seq"]


def _walk(c: Client, copy: Copy, head: dict[str, Any], full: bool) -> dict[int, str]:
    """Check the chain up to ``head`` (from the copy's last head, or from its first entry); returns
    the hashes it has where the new entries may be. Exits naming the first problem."""
    last = copy.last_head
    hashes: dict[int, str] = {}
    if last is None or full:
        seq, prev = 1, GENESIS
    else:
        seq, prev = int(last["seq"]) + 1, str(last["hash"])
        if int(head["seq"]) < int(last["seq"]):
            fail(f"the log is shorter than when you last pulled (entry {head['seq']}, then {last['seq']})")

    def noted(links: Iterator[Link]) -> Iterator[Link]:
        for lk in links:
            hashes[lk.seq] = lk.hash
            yield lk

    problem, prev = follow(noted(_links(c, seq, int(head["seq"]))), seq=seq, prev=prev)
    if problem is None and prev != head["hash"]:
        problem = "the chain does not end at the signed head"
    if problem is None and full:
        if last is not None and hashes.get(int(last["seq"])) != last["hash"]:
            problem = f"the head your copy kept at entry {last['seq']} is no longer in the chain"
        changed = next((s for s, h in sorted(copy.kept.items()) if hashes.get(s) != h), None)
        if problem is None and changed is not None:
            problem = f"entry {changed} is no longer the one your copy kept"
    if problem:
        fail(f"the log was rewritten: {problem}")
    return hashes


@audit_app.command("pull")
def audit_pull(
    into: Annotated[Path, typer.Option("--into", help="the copy: a file of JSON lines, made on the first pull")],
    full: Annotated[bool, typer.Option("--full", help="walk the whole chain and check every kept entry again")] = False,
    public_key: Annotated[
        str | None, typer.Option(help="the service's public key you trust (base64); else the copy's first head's")
    ] = None,
    url: UrlOpt = DEFAULT_URL,
    token: TokenOpt = None,
) -> None:
    """Add the audit entries your party may read to your own copy, after checking that the log the
    service signs now extends the one you last kept: exit 1, naming what fails, if anything before
    was rewritten."""
    copy = Copy(into)
    with _client(url, token) as c:
        me = guarded(c.me)
        if copy.header is not None and copy.header["party"]["id"] != me["id"]:
            fail(f"{into} is {copy.header['party']['name']}'s copy, not {me['name']}'s")
        trusted = public_key or (copy.header or {}).get("public_key")
        head = guarded(c.audit_head)
        if trusted and head["public_key"] != trusted:
            fail("the service signed its head with another key than the one you trust")
        if not verify_signature(head["public_key"], head_message(int(head["seq"]), head["hash"]), head["signature"]):
            fail("the head's signature does not verify")
        hashes = _walk(c, copy, head, full)
        entries = _new_entries(c, max(copy.kept, default=0), int(head["seq"]))
    # each new entry must hold its own hash and be the one the signed chain has at its place
    for e in entries:
        wrong = shown_entry_problem(e)
        if wrong is None and hashes.get(e["seq"]) != e["hash"]:
            wrong = "it is not in the chain the service signed"
        if wrong:
            fail(f"entry {e['seq']}: {wrong}")
    header = None
    if copy.header is None:
        header = {"format": FORMAT, "version": 1, "party": {"id": me["id"], "name": me["name"]},
                  "public_key": trusted or head["public_key"], "url": url}  # fmt: skip
    copy.append(header, entries, head)
    last = copy.last_head
    how = "checked from its first entry" if last is None or full else f"extends your copy's head at entry {last['seq']}"
    out.print(f"kept {len(entries)} new entries ({len(copy.kept) + len(entries)} in all) in {into}", markup=False,
              soft_wrap=True)  # fmt: skip
    out.print(f"the log up to entry {head['seq']}, signed {moment(head['signed_at'])}, {how}", markup=False,
              soft_wrap=True)  # fmt: skip
