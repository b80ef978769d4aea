from __future__ import annotations

from fastapi import APIRouter

from truceline import __version__
from truceline.api import schemas, views
from truceline.api.deps import Caller, Ctx, Write
from truceline.services import parties

router = APIRouter()


@router.get("/healthz", operation_id="health", tags=["system"])
def health() -> dict[str, str]:
    """Liveness: no authentication needed."""
    return {"status": "ok", "version": __version__}


@router.get("/v1/me", operation_id="whoami", tags=["parties"], response_model=schemas.Me)
def me(caller: Caller) -> schemas.Me:
    """The party the bearer token belongs to."""
    return schemas.Me(id=caller.id, name=caller.name, role=caller.role, public_key=caller.public_key)


@router.put("/v1/me/key", operation_id="registerKey", tags=["parties"], response_model=schemas.PartyRead)
def register_key(body: schemas.KeyIn, ctx: Ctx, caller: Caller, w: Write) -> schemas.PartyRead:
    """Register your party's Ed25519 public key. From then on, every write must carry a detached
    signature in `Truceline-Signature`: base64 Ed25519 over canonical JSON of
    `{"method", "path", "body"}` (keys sorted, no spaces, UTF-8)."""
    return views.party(parties.register_key(w.uow(), caller, body.public_key))
