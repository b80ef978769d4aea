"""Idempotency keys kept per party (see ``domain.idempotency``)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from truceline.adapters import tables as t
from truceline.adapters.repositories import from_ms
from truceline.domain.cells import to_ms
from truceline.domain.idempotency import Claim, KeptRequest

_K = t.idempotency_keys.c


class IdempotencyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, party_id: str, key: str) -> KeptRequest | None:
        r = self.conn.execute(select(t.idempotency_keys).where(_K.party_id == party_id, _K.key == key)).first()
        if r is None:
            return None
        return KeptRequest(
            party_id=r.party_id,
            key=r.key,
            fingerprint=r.fingerprint,
            method=r.method,
            path=r.path,
            at=from_ms(r.at) or datetime.min,
            entity_type=r.entity_type,
            entity_id=r.entity_id,
            status=r.status,
            headers=json.loads(r.headers) if r.headers else None,
            body=r.body,
        )

    def claim(self, claim: Claim, at: datetime, entity: tuple[str, str] | None) -> bool:
        """Keep the key in this transaction; False when another transaction kept it first (this one must
        then be undone: on PostgreSQL the failed insert has already ended it)."""
        row = {
            "party_id": claim.party_id,
            "key": claim.key,
            "fingerprint": claim.fingerprint,
            "method": claim.method,
            "path": claim.path,
            "at": to_ms(at),
            "entity_type": entity[0] if entity else None,
            "entity_id": entity[1] if entity else None,
        }
        try:
            self.conn.execute(insert(t.idempotency_keys), [row])
        except IntegrityError:
            return False
        return True

    def answer(self, party_id: str, key: str, status: int, headers: dict[str, str], body: bytes) -> None:
        self.conn.execute(
            update(t.idempotency_keys)
            .where(_K.party_id == party_id, _K.key == key, _K.status.is_(None))
            .values(status=status, headers=json.dumps(headers), body=body)
        )

    def prune(self, before_ms: int) -> int:
        return int(self.conn.execute(delete(t.idempotency_keys).where(_K.at < before_ms)).rowcount or 0)
