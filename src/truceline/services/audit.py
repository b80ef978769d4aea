"""The audit log's use cases: record, read (need-to-know), prove, sign the head, verify."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from truceline.adapters.repositories import AuditFilter, SignedHead, StoredEntry
from truceline.domain.audit import (
    GENESIS,
    Finding,
    Link,
    head_message,
    public_key_b64,
    sign,
    verify_chain,
    verify_signature,
)
from truceline.domain.errors import InvalidInput, NotFound
from truceline.domain.model import Credential, Party, Role
from truceline.services.access import require
from truceline.services.unit_of_work import UnitOfWork

EVERYONE = "*"


def record(
    uow: UnitOfWork,
    actor: Party | None,
    action: str,
    entity_type: str,
    entity_id: str,
    payload: Any,
    *,
    concerns: Iterable[str] = (EVERYONE,),
) -> None:
    """Append an entry in the current transaction (the unit of work keeps the receipt of its last
    entry at commit). A signed request is kept whole with its signature, so anyone can check later
    who sent exactly what."""
    if uow.signature is not None:
        payload = {"change": payload, **uow.signature}
    # Which of the party's tokens made the change: only for the party the token belongs to (a change
    # recorded for another party in the same transaction, or by the service, has none).
    token = uow.credential
    uow.audit.append(
        at=uow.clock(),
        party_id=actor.id if actor else None,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        payload=payload,
        concerns=concerns,
        credential_id=token.id if token is not None and actor is not None and token.party_id == actor.id else None,
    )


@dataclass(frozen=True)
class Entries:
    entries: list[StoredEntry]
    #: the tokens shown (a party's own, or any to the admin), by id
    tokens: dict[str, Credential]


def entries(
    uow: UnitOfWork,
    caller: Party,
    *,
    after: int = 0,
    before: int | None = None,
    limit: int = 500,
    party_id: str | None = None,
    entity_id: str | None = None,
    action: str | None = None,
    token_id: str | None = None,
) -> Entries:
    """Admin: every entry. Others: their own party's entries and those concerning them. A payload is
    shown only to the parties it concerns: the admin sees that a plan was notified, and its digest,
    never the plan. Which token made a change is shown to its party and the admin only; the others
    see its salted digest in the entry's body, which tells them nothing."""
    require(caller, "audit.read")
    admin = caller.role is Role.admin
    with uow:
        if token_id is not None:
            token = uow.parties.credentials_by_id([token_id]).get(token_id)
            # Another party's token is not named: filtering by it would tell who sent what.
            if token is None or not (admin or token.party_id == caller.id):
                raise NotFound(f"no token {token_id} of yours")
            if party_id is not None and party_id != token.party_id:
                return Entries([], {})
            # a token's changes are its party's: read them through the party's index
            party_id = token.party_id
        found = uow.audit.entries(
            AuditFilter(
                after=after,
                before=before,
                limit=limit,
                reader=None if admin else caller.id,
                party_id=party_id,
                entity_id=entity_id,
                action=action,
                credential_id=token_id,
            )
        )
        shown = [_shown(e, caller, admin) for e in found]
        tokens = uow.parties.credentials_by_id({e.credential_id for e in shown if e.credential_id is not None})
    return Entries(shown, tokens)


def _shown(e: StoredEntry, caller: Party, admin: bool) -> StoredEntry:
    if not _concerns(e, caller):
        e = replace(e, payload=None)
    if not (admin or e.entry.body.party_id == caller.id):
        e = replace(e, credential_id=None, actor_salt=None)
    return e


def _concerns(e: StoredEntry, caller: Party) -> bool:
    return e.entry.body.party_id == caller.id or caller.id in e.concerns or EVERYONE in e.concerns


def chain(uow: UnitOfWork, caller: Party, first: int, last: int) -> list[Link]:
    """The links from ``first`` to ``last``: proves one entry leads to another, shows no content."""
    require(caller, "audit.read")
    if first < 1 or last < first or last - first > 100_000:
        raise InvalidInput.at("#query/from", "from must be ≥ 1 and at most 100,000 entries before to")
    with uow:
        return uow.audit.links(first, last)


#: one process at a time signs the head, so each head is signed once
HEAD_LOCK = 0x7472_6865_6164  # "trhead"


def sign_head(uow: UnitOfWork, key: Ed25519PrivateKey) -> SignedHead | None:
    """Sign the chain's head unless it is signed already; returns the latest signed head."""
    with uow:
        if not uow.try_lock(HEAD_LOCK):  # another process is signing this head
            return uow.audit.latest_signed_head()
        head = uow.audit.head()
        latest = uow.audit.latest_signed_head()
        if head.seq == 0 or (latest is not None and latest.seq >= head.seq):
            return latest
        # to the millisecond, as it is stored: the head answered now and read back later are the same
        now = uow.clock()
        at = now.replace(microsecond=now.microsecond // 1000 * 1000)
        signed = SignedHead(head.seq, head.hash, at, public_key_b64(key), sign(key, head_message(head.seq, head.hash)))
        uow.audit.add_signed_head(signed)
        uow.commit()
        return signed


@dataclass(frozen=True)
class Verification:
    #: entries checked (all of them when the chain is intact; up to the first problem otherwise)
    entries: int
    signed_heads: int
    problem: Finding | None


#: entries read and checked at a time: a log of millions is verified in bounded memory
VERIFY_BATCH = 5_000


def verify(uow: UnitOfWork, *, batch: int = VERIFY_BATCH) -> Verification:
    """Check the whole chain, then every signed head against it. Names the first bad entry.
    The heads and the chain's head row are read first; entries committed after that (the server may
    be running) are left for the next check."""
    with uow:
        heads = uow.audit.signed_heads()
        state = uow.audit.head()
        wanted = {h.seq for h in heads}
        hashes: dict[int, str] = {}
        problem: Finding | None = None
        count, last_seq, last_hash = 0, 0, GENESIS
        while problem is None:
            page = uow.audit.entries(AuditFilter(after=last_seq, through=state.seq, limit=batch))
            if not page:
                break
            problem = verify_chain((e.entry for e in page), start_seq=last_seq + 1, start_prev=last_hash)
            hashes.update((e.entry.body.seq, e.entry.hash) for e in page if e.entry.body.seq in wanted)
            count += len(page)
            last_seq, last_hash = page[-1].entry.body.seq, page[-1].entry.hash
        if problem is None and (state.seq, state.hash) != (last_seq, last_hash):
            problem = Finding(
                min(state.seq, last_seq) + 1,
                f"entries after this one were deleted (the head says {state.seq}, the log ends at {last_seq})",
            )
        # An entry past the head is a writer's only if the head has moved since (same transaction).
        if problem is None and uow.audit.entries(AuditFilter(after=state.seq, limit=1)) and uow.audit.head() == state:
            problem = Finding(state.seq + 1, "an entry was added after the chain's head, outside any change")
    for h in heads:
        if problem is not None:
            break
        if not verify_signature(h.public_key, head_message(h.seq, h.hash), h.signature):
            problem = Finding(h.seq, "a signed head's signature is not valid")
        elif h.seq not in hashes:
            problem = Finding(h.seq, "a signed head names an entry that is no longer in the log")
        elif hashes[h.seq] != h.hash:
            problem = Finding(h.seq, "the log was rewritten: this entry no longer has the hash the service signed")
    return Verification(count, len(heads), problem)
