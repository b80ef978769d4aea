"""Idempotency keys (the IETF httpapi draft's ``Idempotency-Key`` header): a write sent again with the
key it was first sent with — a retry after an answer lost on a field office's link — gets the first
answer instead of being done twice.

A key is kept per party, with a fingerprint of the request it came with. The kept row is written in
the write's own transaction, so it exists exactly when the write does; its answer is added just after.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from truceline.domain.errors import FieldError, InvalidInput, MalformedRequest, StateConflict

HEADER = "Idempotency-Key"
POINTER = f"#header/{HEADER}"
MAX_KEY = 255


def parse_key(value: str) -> str:
    """The key from the header's value: a Structured Fields string (``"…"``) or the bare text, 1 to 255
    visible ASCII characters."""
    key = value.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key:
        raise MalformedRequest(f"{HEADER} is empty", errors=[FieldError(POINTER, "empty: send a fresh random key")])
    if len(key) > MAX_KEY:
        raise MalformedRequest(
            f"{HEADER} is longer than {MAX_KEY} characters",
            errors=[FieldError(POINTER, f"{len(key)} characters, more than {MAX_KEY}")],
        )
    if any(not (0x21 <= ord(c) <= 0x7E) or c in '"\\' for c in key):
        raise MalformedRequest(
            f"{HEADER} holds a character other than visible ASCII",
            errors=[FieldError(POINTER, "only visible ASCII characters, without quotes or backslashes")],
        )
    return key


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes a request the same request: its method, its path and its body, byte for byte."""
    h = hashlib.sha256(f"{method.upper()} {path}\n".encode())
    h.update(body)
    return h.hexdigest()


@dataclass
class Claim:
    """A keyed write under way: its unit of work keeps the key at commit (``taken`` then)."""

    party_id: str
    key: str
    fingerprint: str
    method: str
    path: str
    taken: bool = False


@dataclass(frozen=True)
class KeptRequest:
    """A key kept from a write that was done: the request's fingerprint and, once sent, its answer."""

    party_id: str
    key: str
    fingerprint: str
    method: str
    path: str
    at: datetime
    #: what the write was about (its first audit entry): named when the answer was not kept
    entity_type: str | None
    entity_id: str | None
    status: int | None = None
    headers: dict[str, str] | None = None
    body: bytes | None = None


def answer_for(kept: KeptRequest, claim: Claim, at_text: str) -> KeptRequest:
    """The kept answer to send again for ``claim``, the same request sent again. A different request
    under the same key is refused (422), as is a write done whose answer was never kept (409: the
    server stopped between the two; the client reads what was made instead)."""
    if kept.fingerprint != claim.fingerprint:
        raise InvalidInput(
            f"this {HEADER} was used for another request ({kept.method} {kept.path} at {at_text})",
            errors=[FieldError(POINTER, "already used for a different request: a new request needs a new key")],
        )
    if kept.status is None:
        what = f" ({kept.entity_type} {kept.entity_id})" if kept.entity_id else ""
        raise StateConflict(
            f"the request with this {HEADER} was carried out at {at_text}{what}, but its answer was not kept "
            "(the server stopped, or another copy of the request is still being answered): read what it made "
            "instead of sending it again",
            extra={"entity_type": kept.entity_type, "entity_id": kept.entity_id},
        )
    return kept


def key_in_use() -> StateConflict:
    """Two copies of one keyed request at once: the one that commits second is undone."""
    return StateConflict(
        f"another request with this {HEADER} was carried out while this one was: send it again to get its answer"
    )
