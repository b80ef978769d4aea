from __future__ import annotations

from fastapi import APIRouter

from truceline import __version__
from truceline.api import schemas, views
from truceline.api.deps import Caller, Ctx, Token, Write
from truceline.services import parties

router = APIRouter()


@router.get("/healthz", operation_id="health", tags=["system"])
def health() -> dict[str, str]:
    """Liveness: no authentication needed."""
    return {"status": "ok", "version": __version__}


@router.get("/v1/me", operation_id="whoami", tags=["parties"], response_model=schemas.Me)
def me(caller: Caller, token: Token) -> schemas.Me:
    """The party the bearer token belongs to, and which of its tokens this is."""
    return schemas.Me(
        id=caller.id, name=caller.name, role=caller.role, public_key=caller.public_key,
        token=schemas.TokenRef(id=token.id, label=token.label),
    )  # fmt: skip


@router.put("/v1/me/key", operation_id="registerKey", tags=["parties"], response_model=schemas.PartyRead)
def register_key(body: schemas.KeyIn, ctx: Ctx, caller: Caller, w: Write) -> schemas.PartyRead:
    """Register your party's Ed25519 public key. From then on, every write must carry a detached
    signature: `Truceline-Signature: t=<RFC 3339 time>, nonce=<16 to 64 of A-Z a-z 0-9 _ ->,
    sig=<base64>`, the Ed25519 signature over canonical JSON of `{"method", "path", "body", "at",
    "nonce"}` (keys sorted, no spaces, UTF-8; `at` is `t`). The time must be within 5 minutes of the
    server's clock and a nonce is taken once, so nobody can send a signed request again."""
    return views.party(parties.register_key(w.uow(), caller, body.public_key))
