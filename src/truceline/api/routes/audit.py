from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from truceline.api import schemas, views
from truceline.api.deps import Caller, Ctx
from truceline.api.routes.params import MAX_INT
from truceline.domain.errors import NotFound
from truceline.services import audit

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", operation_id="listAuditEntries", response_model=list[schemas.AuditEntryRead])
def list_entries(
    ctx: Ctx,
    caller: Caller,
    after: Annotated[int, Query(ge=0, le=MAX_INT, description="entries after this one, oldest first")] = 0,
    before: Annotated[
        int | None,
        Query(ge=1, le=MAX_INT, description="the last `limit` entries before this one (in order): page back"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    party_id: Annotated[str | None, Query(max_length=64, description="made by this party")] = None,
    entity_id: Annotated[
        str | None, Query(max_length=64, description="about this zone, activity, conflict, message …: its history")
    ] = None,
    action: Annotated[
        str | None, Query(max_length=64, description="this action; ending in `.`, every one it begins (`zone.`)")
    ] = None,
    token_id: Annotated[
        str | None, Query(max_length=64, description="made with this token of your party (admin: of any party)")
    ] = None,
) -> list[schemas.AuditEntryRead]:
    """Admin: every entry. Others: their own party's entries and those concerning them. Which token
    made a change is shown to its own party and the admin."""
    found = audit.entries(
        ctx.uow(),
        caller,
        after=after,
        before=before,
        limit=limit,
        party_id=party_id,
        entity_id=entity_id,
        action=action,
        token_id=token_id,
    )
    return [views.audit_entry(e, found.tokens) for e in found.entries]


@router.get("/head", operation_id="getAuditHead", response_model=schemas.SignedHeadRead)
def head(ctx: Ctx, caller: Caller) -> schemas.SignedHeadRead:
    """The chain's head, signed by the service (signed now if the chain moved since the last one).
    Keep it: with it, a receipt can be checked offline (`truceline audit check-receipt`)."""
    signed = audit.sign_head(ctx.uow(write=True), ctx.audit_key)
    if signed is None:
        raise NotFound("the audit log is empty")
    return views.signed_head(signed)


@router.get("/chain", operation_id="getAuditChain", response_model=list[schemas.AuditLinkRead])
def chain(
    ctx: Ctx,
    caller: Caller,
    first: Annotated[int, Query(alias="from", ge=1, le=MAX_INT)],
    last: Annotated[int, Query(alias="to", ge=1, le=MAX_INT)],
) -> list[schemas.AuditLinkRead]:
    """The chain's links between two entries: proves a receipt leads to a head, shows no content."""
    return [
        schemas.AuditLinkRead(seq=lk.seq, body_digest=lk.body_digest, prev_hash=lk.prev_hash, hash=lk.hash)
        for lk in audit.chain(ctx.uow(), caller, first, last)
    ]
