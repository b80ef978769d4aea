from __future__ import annotations

from fastapi import APIRouter, status

from truceline.api import schemas, views
from truceline.api.deps import Caller, Ctx, Write
from truceline.services import access, parties

router = APIRouter(prefix="/v1/parties", tags=["parties"])


@router.get("", operation_id="listParties", response_model=list[schemas.PartyRead])
def list_parties(ctx: Ctx, caller: Caller) -> list[schemas.PartyRead]:
    """Every party's name and role (who is who); never their tokens."""
    access.require(caller, "party.list")
    return [views.party(p) for p in parties.list_parties(ctx.uow())]


@router.post("", operation_id="createParty", status_code=status.HTTP_201_CREATED, response_model=schemas.PartyCreated)
def create_party(body: schemas.PartyCreate, ctx: Ctx, caller: Caller, w: Write) -> schemas.PartyCreated:
    """Admin only. The token in the response is shown once."""
    p, token = parties.add_as(w.uow(), caller, name=body.name, role=body.role)
    return schemas.PartyCreated(**views.party(p).model_dump(), token=token)
