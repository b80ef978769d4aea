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
    after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[schemas.AuditEntryRead]:
    """Admin: every entry. Others: their own party's entries and those concerning them."""
    return [views.audit_entry(e) for e in audit.entries(ctx.uow(), caller, after=after, limit=limit)]


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
