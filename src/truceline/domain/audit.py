"""The audit log's pure half: canonical JSON, entry hashing, chain verification, signed heads.

Each entry has a *body* (seq, time, acting party, action, entity, payload digest and, for a change a
party made with one of its tokens, the actor digest) and two hashes:

    body_digest = SHA-256(canonical JSON of the body)
    hash        = SHA-256(prev_hash ":" body_digest)

so the chain can be proven from (seq, body_digest, prev_hash, hash) alone, without showing what any
entry was about. The actor digest commits to which of the party's tokens made the change, salted, so
that the party (and the admin) can be shown the token and check it, while the other parties who read
the entry learn nothing of it, not even that two entries came from the same token.

The first entry's ``prev_hash`` is ``GENESIS``. A signed head is the service's Ed25519 signature over
``"truceline-audit-head:" seq ":" hash``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from truceline.domain.evidence import signed_form

GENESIS = "0" * 64


def canonical(obj: Any) -> bytes:
    """Canonical JSON (sorted keys, no spaces, UTF-8): the bytes that are hashed and signed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest(obj: Any) -> str:
    return sha256_hex(canonical(obj))


@dataclass(frozen=True)
class EntryBody:
    seq: int
    at_ms: int
    party_id: str | None
    action: str
    entity_type: str
    entity_id: str
    payload_digest: str
    #: ``actor_digest(token id, salt)`` when a party's token made the change; absent from the hashed
    #: body otherwise (so entries written before tokens were recorded keep their hashes)
    actor_digest: str | None = None

    def as_dict(self) -> dict[str, Any]:
        body = {
            "seq": self.seq,
            "at_ms": self.at_ms,
            "party_id": self.party_id,
            "action": self.action,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "payload_digest": self.payload_digest,
        }
        if self.actor_digest is not None:
            body["actor_digest"] = self.actor_digest
        return body

    @property
    def body_digest(self) -> str:
        return digest(self.as_dict())


def new_actor_salt() -> str:
    return secrets.token_hex(16)


def actor_digest(credential_id: str, salt: str) -> str:
    """The commitment to the token that made a change: checkable by whoever is shown the token and
    the salt, opaque to everyone else."""
    return digest({"credential_id": credential_id, "salt": salt})


def link(prev_hash: str, body_digest: str) -> str:
    return sha256_hex(f"{prev_hash}:{body_digest}".encode())


@dataclass(frozen=True)
class Entry:
    body: EntryBody
    prev_hash: str
    hash: str

    @classmethod
    def make(cls, body: EntryBody, prev_hash: str) -> Entry:
        return cls(body, prev_hash, link(prev_hash, body.body_digest))


@dataclass(frozen=True)
class Link:
    """What a chain proof shows of an entry: enough to check the chain, nothing of its content."""

    seq: int
    body_digest: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Finding:
    seq: int
    problem: str


def verify_chain(entries: Iterable[Entry], *, start_seq: int = 1, start_prev: str = GENESIS) -> Finding | None:
    """The first problem in a stored chain, or None. Detects a modified entry (its hash no longer
    matches its content), a deleted, inserted or reordered entry (a gap in the sequence or a broken
    link)."""
    expect_seq, prev = start_seq, start_prev
    for e in entries:
        if e.body.seq != expect_seq:
            return Finding(
                expect_seq, f"expected entry {expect_seq}, found {e.body.seq}: deleted, inserted or reordered"
            )
        if e.prev_hash != prev:
            return Finding(e.body.seq, "its previous-hash does not match the entry before it")
        if link(e.prev_hash, e.body.body_digest) != e.hash:
            return Finding(e.body.seq, "its content does not match its hash: the entry was modified")
        prev, expect_seq = e.hash, expect_seq + 1
    return None


def verify_links(
    links: Sequence[Link], *, receipt_seq: int, receipt_hash: str, head_seq: int, head_hash: str
) -> str | None:
    """Check that a receipt is an ancestor of a head through the given links; None if it is."""
    by_seq = {lk.seq: lk for lk in links}
    first = by_seq.get(receipt_seq)
    if first is None or first.hash != receipt_hash:
        return f"the chain does not contain the receipt's entry {receipt_seq} with that hash"
    prev = first.hash
    for seq in range(receipt_seq + 1, head_seq + 1):
        lk = by_seq.get(seq)
        if lk is None:
            return f"entry {seq} is missing from the chain"
        if lk.prev_hash != prev or link(lk.prev_hash, lk.body_digest) != lk.hash:
            return f"entry {seq} does not link to the entry before it"
        prev = lk.hash
    if prev != head_hash:
        return "the chain does not end at the signed head"
    return None


def follow(links: Iterable[Link], *, seq: int, prev: str) -> tuple[str | None, str]:
    """Walk ``links`` as the chain's next entries from ``seq`` on, the one before having the hash
    ``prev`` (``GENESIS`` before entry 1). Returns the first problem (None if they hold) and the hash
    of the last link walked, to go on from."""
    for lk in links:
        if lk.seq != seq:
            return f"entry {seq} is missing from the chain", prev
        if lk.prev_hash != prev:
            return f"entry {seq} does not link to the entry before it", prev
        if link(lk.prev_hash, lk.body_digest) != lk.hash:
            return f"entry {seq} was modified: its content no longer matches its hash", prev
        prev, seq = lk.hash, seq + 1
    return None, prev


def shown_entry_problem(e: dict[str, Any]) -> str | None:
    """Check an entry as ``GET /v1/audit`` shows it against its own hash: the payload (when shown)
    against its digest, the token (when shown) against the actor digest, and the body against the
    hash. None if it holds."""
    try:
        if e["payload"] is not None and sha256_hex(canonical(e["payload"])) != e["payload_digest"]:
            return "its payload does not match its digest"
        token = e.get("token")
        if token and actor_digest(token["id"], token["salt"]) != e.get("actor_digest"):
            return "its token does not match its actor digest"
        at = datetime.fromisoformat(e["at"].replace("Z", "+00:00"))
        body = EntryBody(int(e["seq"]), round(at.timestamp() * 1000), e["party_id"], e["action"], e["entity_type"],
                         e["entity_id"], e["payload_digest"], e.get("actor_digest"))  # fmt: skip
    except (KeyError, TypeError, ValueError) as err:
        return f"it is not an audit entry ({err})"
    if link(e["prev_hash"], body.body_digest) != e["hash"]:
        return "its content does not match its hash"
    return None


def request_message(method: str, path: str, body: Any, *, at: str, nonce: str) -> bytes:
    """What a party signs for one request: canonical JSON of the method, the path, the body (parsed
    JSON, or null when there is none), when it signed (RFC 3339) and a nonce of its choosing. The time
    and the nonce make each signature good for one request only: nobody who saw it (a proxy, a reader
    of the audit log) can send it again in the party's name.

    Evidence for an incident is signed with its content's SHA-256 in place of the content
    (``evidence.signed_form``): what was signed is kept in the audit log, and a file of megabytes has
    no place there. The service keeps the file, and its digest ties it to the signature."""
    if method.upper() == "POST" and _EVIDENCE_PATH.fullmatch(path):
        body = signed_form(body)
    return canonical({"method": method.upper(), "path": path, "body": body, "at": at, "nonce": nonce})


#: where evidence is attached (api.routes.incidents)
_EVIDENCE_PATH = re.compile(r"/v1/incidents/[^/]+/evidence")


#: the ``Truceline-Signature`` header's shape
SIGNATURE_SHAPE = "t=<RFC 3339 time>, nonce=<16 to 64 of A-Z a-z 0-9 _ ->, sig=<base64 Ed25519 signature>"
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass(frozen=True)
class RequestSignature:
    at: str
    nonce: str
    sig: str

    def header(self) -> str:
        return f"t={self.at}, nonce={self.nonce}, sig={self.sig}"

    @classmethod
    def parse(cls, value: str) -> RequestSignature:
        """Read the header; ValueError says what is wrong with it."""
        parts: dict[str, str] = {}
        for item in value.split(","):
            name, eq, text = item.strip().partition("=")  # base64 ends in "=": split at the first
            if not eq or name in parts:
                raise ValueError(f"it must be {SIGNATURE_SHAPE}")
            parts[name] = text.strip()
        if set(parts) != {"t", "nonce", "sig"}:
            raise ValueError(f"it must be {SIGNATURE_SHAPE}")
        if not _NONCE.fullmatch(parts["nonce"]):
            raise ValueError("its nonce must be 16 to 64 of A-Z a-z 0-9 _ - (a fresh random one per request)")
        return cls(parts["t"], parts["nonce"], parts["sig"])


def new_request_signature(key: Ed25519PrivateKey, method: str, path: str, body: Any, at: str) -> RequestSignature:
    """Sign one request at ``at`` (RFC 3339) with a fresh random nonce."""
    nonce = secrets.token_urlsafe(16)
    return RequestSignature(at, nonce, sign(key, request_message(method, path, body, at=at, nonce=nonce)))


def head_message(seq: int, head_hash: str) -> bytes:
    return f"truceline-audit-head:{seq}:{head_hash}".encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


def public_key_b64(key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return b64(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return b64(key.sign(message))


def verify_signature(public_key: str, message: bytes, signature: str) -> bool:
    """True when ``signature`` (base64) is a valid Ed25519 signature of ``message`` by ``public_key``."""
    try:
        Ed25519PublicKey.from_public_bytes(unb64(public_key)).verify(unb64(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True
