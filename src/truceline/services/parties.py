"""Parties and their bearer tokens. Tokens are shown once and stored only as SHA-256 digests."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime

from truceline.domain.cells import to_ms
from truceline.domain.errors import InvalidInput, NotAuthenticated, NotFound, StateConflict
from truceline.domain.ids import new_id
from truceline.domain.model import Party, Role
from truceline.services import audit
from truceline.services.access import require
from truceline.services.unit_of_work import UnitOfWork

TOKEN_PREFIX = "tl_"


def hash_token(token: str) -> str:
    # Tokens carry 256 bits of randomness, so a plain digest is enough (no password stretching needed).
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput.at("/name", "a party name must be 1 to 200 characters")
    return name


def add(uow: UnitOfWork, *, name: str, role: Role | str, actor: Party | None = None) -> tuple[Party, str]:
    """Create a party; return it with its token (the only time the token is visible)."""
    name = _check_name(name)
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput.at("/role", f"role {role!r} must be one of {', '.join(r.value for r in Role)}") from None
    with uow:
        if uow.parties.by_name(name) is not None:
            raise StateConflict(f"a party named {name!r} already exists")
        party = Party(id=new_id(), name=name, role=role, created_at=uow.clock())
        token = new_token()
        uow.parties.add(party, hash_token(token))
        audit.record(uow, actor, "party.created", "party", party.id, {"name": name, "role": party.role.value})
        uow.commit()
    return party, token


def add_as(uow: UnitOfWork, caller: Party, *, name: str, role: Role | str) -> tuple[Party, str]:
    require(caller, "party.create")
    return add(uow, name=name, role=role, actor=caller)


def rotate_token(uow: UnitOfWork, *, name: str) -> str:
    """Issue a new token for a party; the old one stops working."""
    with uow:
        party = uow.parties.by_name(name)
        if party is None:
            raise NotFound(f"no party named {name!r}")
        token = new_token()
        uow.parties.set_token_hash(party.id, hash_token(token))
        audit.record(uow, None, "party.token_rotated", "party", party.id, {"name": name})
        uow.commit()
    return token


def list_parties(uow: UnitOfWork) -> list[Party]:
    with uow:
        return uow.parties.list()


def authenticate(uow: UnitOfWork, token: str | None) -> Party:
    if not token:
        raise NotAuthenticated()
    with uow:
        party = uow.parties.by_token_hash(hash_token(token))
    if party is None:
        raise NotAuthenticated("the bearer token is not valid")
    return party


def names(uow: UnitOfWork, ids: set[str]) -> dict[str, str]:
    with uow:
        return uow.parties.names(ids)


def register_key(uow: UnitOfWork, caller: Party, public_key: object) -> Party:
    """Register (or replace) the caller's Ed25519 public key. From then on every write of the party must
    carry its signature, so it cannot deny what it sent and nobody can send in its name."""
    if not isinstance(public_key, str):
        raise InvalidInput.at("/public_key", "public_key must be a base64 string")
    try:
        raw = base64.b64decode(public_key, validate=True)
    except ValueError:
        raise InvalidInput.at("/public_key", "public_key is not valid base64") from None
    if len(raw) != 32:
        raise InvalidInput.at("/public_key", "an Ed25519 public key is 32 bytes")
    with uow:
        uow.parties.set_public_key(caller.id, public_key)
        audit.record(uow, caller, "party.key_registered", "party", caller.id, {"public_key": public_key})
        uow.commit()
    return Party(caller.id, caller.name, caller.role, caller.created_at, public_key)


def take_nonce(uow: UnitOfWork, party: Party, nonce: str, at: datetime) -> None:
    """Spend a signed request's nonce, so that its signature is good for this one request."""
    with uow:
        if not uow.parties.take_nonce(party.id, nonce, to_ms(at)):
            raise StateConflict(
                "this signed request was received before (its nonce is spent): a signature is good for one "
                "request; sign it afresh to send it again"
            )
        uow.commit()
