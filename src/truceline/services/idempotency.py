"""Writes sent again with their Idempotency-Key: the first answer, not a second write."""

from __future__ import annotations

from truceline.domain.idempotency import Claim, KeptRequest, answer_for
from truceline.domain.volumes import format_time
from truceline.services.unit_of_work import UnitOfWork


def recall(uow: UnitOfWork, claim: Claim) -> KeptRequest | None:
    """The kept answer when ``claim``'s key was used before by its party (None: a first request,
    go on). A different request under the key, or a write whose answer was not kept, is refused."""
    with uow:
        kept = uow.keys.get(claim.party_id, claim.key)
    return None if kept is None else answer_for(kept, claim, format_time(kept.at) or "")


def keep_answer(uow: UnitOfWork, claim: Claim, status: int, headers: dict[str, str], body: bytes) -> None:
    """Keep the answer of the keyed write that ``claim`` made (in its own transaction, once it is sent)."""
    with uow:
        uow.keys.answer(claim.party_id, claim.key, status, headers, body)
        uow.commit()
