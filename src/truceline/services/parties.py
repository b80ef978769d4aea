"""Parties and their bearer tokens. Tokens are shown once and stored only as SHA-256 digests. A party
holds as many tokens as it has officers, desks or scripts, each named, and each revoked or expiring
on its own; every change to them is in the audit log (never the token)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime

from truceline.domain.cells import to_ms
from truceline.domain.errors import Forbidden, InvalidInput, NotAuthenticated, NotFound, StateConflict
from truceline.domain.ids import new_id
from truceline.domain.model import Credential, Party, Role
from truceline.domain.volumes import format_time, parse_time
from truceline.services import audit
from truceline.services.access import require
from truceline.services.token_uses import TokenUses
from truceline.services.unit_of_work import UnitOfWork

TOKEN_PREFIX = "tl_"
FIRST_TOKEN = "first token"
MAX_LABEL = 100


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
        uow.parties.add(party)
        audit.record(uow, actor, "party.created", "party", party.id, {"name": name, "role": party.role.value})
        _, token = _issue(uow, actor, party, FIRST_TOKEN, None)
        uow.commit()
    return party, token


def add_as(uow: UnitOfWork, caller: Party, *, name: str, role: Role | str) -> tuple[Party, str]:
    require(caller, "party.create")
    return add(uow, name=name, role=role, actor=caller)


def rotate_token(uow: UnitOfWork, *, name: str) -> str:
    """The operator's way back in for a party (a token lost or leaked, every officer locked out):
    revoke every token it holds and issue one new one."""
    with uow:
        party = uow.parties.by_name(name)
        if party is None:
            raise NotFound(f"no party named {name!r}")
        now = uow.clock()
        live = [c for c in uow.parties.credentials(party.id) if c.refusal(now) is None]
        uow.parties.revoke_credentials(party.id, [c.id for c in live], now)
        audit.record(uow, None, "party.token_rotated", "party", party.id,
                     {"name": name, "revoked": [c.id for c in live]}, concerns=[party.id])  # fmt: skip
        _, token = _issue(uow, None, party, f"rotated {format_time(now)}", None)
        uow.commit()
    return token


def _issue(
    uow: UnitOfWork, actor: Party | None, party: Party, label: str, expires_at: datetime | None
) -> tuple[Credential, str]:
    token = new_token()
    c = Credential(new_id(), party.id, label, uow.clock(), expires_at)
    uow.parties.add_credential(c, hash_token(token))
    audit.record(uow, actor, "credential.issued", "credential", c.id,
                 {"party": party.id, "label": label, "expires_at": format_time(expires_at)},
                 concerns=[party.id])  # fmt: skip
    return c, token


def _whose(uow: UnitOfWork, caller: Party, party_id: str, *, lock: bool = False) -> Party:
    """The party whose tokens ``caller`` manages: its own, or any party's for an admin. ``lock``: its
    row, so that two officers revoking two tokens at once cannot leave the party none."""
    if party_id != caller.id and caller.role is not Role.admin:
        raise Forbidden("only the party itself or an admin may manage its tokens")
    party = uow.parties.get(party_id, for_update=lock)
    if party is None:
        raise NotFound(f"no party {party_id}")
    return party


def credentials(uow: UnitOfWork, caller: Party, party_id: str) -> list[Credential]:
    """A party's tokens, oldest first, revoked and expired ones included (never the tokens)."""
    with uow:
        _whose(uow, caller, party_id)
        return uow.parties.credentials(party_id)


def issue_credential(uow: UnitOfWork, caller: Party, party_id: str, data: object) -> tuple[Credential, str]:
    """A new named token for the party; the token is in the answer, and nowhere ever again."""
    body = data if isinstance(data, dict) else {}
    label = body.get("label")
    if not isinstance(label, str) or not 1 <= len(label.strip()) <= MAX_LABEL:
        raise InvalidInput.at("/label", f"label must be 1 to {MAX_LABEL} characters: who or what holds the token")
    expires_at = None
    if body.get("expires_at") is not None:
        expires_at = parse_time(body["expires_at"], "/expires_at")
    with uow:
        party = _whose(uow, caller, party_id)
        now = uow.clock()
        if expires_at is not None and expires_at <= now:
            raise InvalidInput.at("/expires_at", f"expires_at must be after now ({format_time(now)})")
        if label.strip() in {c.label for c in uow.parties.credentials(party.id) if c.refusal(now) is None}:
            raise StateConflict(
                f"the party already holds a token labelled {label.strip()!r}; revoke it or pick another label"
            )
        c, token = _issue(uow, caller, party, label.strip(), expires_at)
        uow.commit()
    return c, token


def revoke_credential(uow: UnitOfWork, caller: Party, party_id: str, credential_id: str) -> Credential:
    """Revoke one token at once (the next request with it gets a 401). A party's last working token
    is not revoked: issue another first, so that the party is never locked out by mistake."""
    with uow:
        party = _whose(uow, caller, party_id, lock=True)
        now = uow.clock()
        held = {c.id: c for c in uow.parties.credentials(party.id)}
        c = held.get(credential_id)
        if c is None:
            raise NotFound(f"{party.name} holds no token {credential_id}")
        if c.revoked_at is not None:
            raise StateConflict(f"the token '{c.label}' was revoked at {format_time(c.revoked_at)}")
        if not [o for o in held.values() if o.id != c.id and o.refusal(now) is None]:
            raise StateConflict(f"'{c.label}' is {party.name}'s last working token; issue another before revoking it")
        uow.parties.revoke_credentials(party.id, [c.id], now)
        audit.record(uow, caller, "credential.revoked", "credential", c.id,
                     {"party": party.id, "label": c.label}, concerns=[party.id])  # fmt: skip
        uow.commit()
    return Credential(c.id, c.party_id, c.label, c.created_at, c.expires_at, now)


def list_parties(uow: UnitOfWork) -> list[Party]:
    with uow:
        return uow.parties.list()


def authenticate(
    uow: UnitOfWork, token: str | None, *, uses: TokenUses | None = None, address: str | None = None
) -> Party:
    return admit(uow, token, uses=uses, address=address)[0]


def admit(
    uow: UnitOfWork, token: str | None, *, uses: TokenUses | None = None, address: str | None = None
) -> tuple[Party, Credential]:
    """The party a bearer token is for, and which of its tokens it is (for the request log). The use,
    refused or not, is noted in ``uses`` with the client's ``address``: a revoked token still being
    tried shows in its "last used"."""
    if not token:
        raise NotAuthenticated()
    with uow:
        found = uow.parties.by_token_hash(hash_token(token))
        now = uow.clock()
    if found is None:
        raise NotAuthenticated("the bearer token is not valid")
    party, credential = found
    if uses is not None:
        uses.note(credential, now, address)
    refused = credential.refusal(now)
    if refused is not None:
        raise NotAuthenticated(refused)
    return party, credential


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
