from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from truceline.api import schemas, views
from truceline.api.deps import Caller, Ctx, Write
from truceline.domain.model import Party
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


PartyRef = Annotated[str, Path(description="a party id, or `me` for your own party")]


def _party(caller: Party, ref: str) -> str:
    return caller.id if ref == "me" else ref


@router.get("/{party_id}/tokens", operation_id="listTokens", response_model=list[schemas.TokenRead])
def list_tokens(party_id: PartyRef, ctx: Ctx, caller: Caller) -> list[schemas.TokenRead]:
    """A party's bearer tokens (yours, or any party's for an admin): one per officer, desk or script,
    named, with when each was issued, expires or was revoked, and when and from which address it was
    last used (to the minute; a time after its revocation means someone still tried it). Never the
    tokens themselves."""
    ctx.token_uses.flush(ctx.uow(write=True))  # this process's latest uses, this request's among them
    now = ctx.clock()
    return [views.token(c, now) for c in parties.credentials(ctx.uow(), caller, _party(caller, party_id))]


@router.post(
    "/{party_id}/tokens", operation_id="issueToken", status_code=status.HTTP_201_CREATED,
    response_model=schemas.TokenCreated,
)  # fmt: skip
def issue_token(
    party_id: PartyRef, body: schemas.TokenCreate, ctx: Ctx, caller: Caller, w: Write
) -> schemas.TokenCreated:
    """Issue a named token for the party, optionally expiring. The token is in this answer only. Each
    officer with a token of their own can lose it without locking the others out."""
    c, token = parties.issue_credential(
        w.uow(), caller, _party(caller, party_id), body.model_dump(mode="json", exclude_none=True)
    )
    return schemas.TokenCreated(**views.token(c, ctx.clock()).model_dump(), token=token)


@router.post("/{party_id}/tokens/{token_id}/revoke", operation_id="revokeToken", response_model=schemas.TokenRead)
def revoke_token(party_id: PartyRef, token_id: str, ctx: Ctx, caller: Caller, w: Write) -> schemas.TokenRead:
    """Revoke one token now: the next request with it is refused (401, saying it was revoked). The
    party's last working token is kept (409): issue another first."""
    c = parties.revoke_credential(w.uow(), caller, _party(caller, party_id), token_id)
    return views.token(c, ctx.clock())
