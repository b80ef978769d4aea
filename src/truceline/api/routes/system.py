from __future__ import annotations

from fastapi import APIRouter

from truceline import __version__
from truceline.api import schemas
from truceline.api.deps import Caller

router = APIRouter()


@router.get("/healthz", operation_id="health", tags=["system"])
def health() -> dict[str, str]:
    """Liveness: no authentication needed."""
    return {"status": "ok", "version": __version__}


@router.get("/v1/me", operation_id="whoami", tags=["parties"], response_model=schemas.Me)
def me(caller: Caller) -> schemas.Me:
    """The party the bearer token belongs to."""
    return schemas.Me(id=caller.id, name=caller.name, role=caller.role)
