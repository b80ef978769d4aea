"""When and from where each token was last used: noted in memory as requests come in, written in
batches by a background job, so a request (a read above all) costs no write of its own."""

from __future__ import annotations

import threading
from datetime import datetime

from truceline.domain.model import Credential, TokenUse
from truceline.services.unit_of_work import UnitOfWork

#: how much of a client address is kept (an IPv6 address with a zone fits)
ADDRESS_CHARS = 64


class TokenUses:
    """The uses this process has seen and not yet written: one per token, the latest."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, TokenUse] = {}

    def note(self, credential: Credential, at: datetime, address: str | None) -> None:
        address = address[:ADDRESS_CHARS] if address else None
        if not credential.use_is_news(at, address):
            return
        with self._lock:
            held = self._pending.get(credential.id)
            if held is None or held.at <= at:
                self._pending[credential.id] = TokenUse(credential.id, at, address)

    def flush(self, uow: UnitOfWork) -> int:
        """Write the uses noted since the last flush; how many. If the write fails they are kept for
        the next one (unless a later use of the same token has been noted meanwhile)."""
        with self._lock:
            batch, self._pending = self._pending, {}
        if not batch:
            return 0
        try:
            with uow:
                uow.parties.record_uses(batch.values())
                uow.commit()
        except BaseException:
            with self._lock:
                for cid, use in batch.items():
                    held = self._pending.get(cid)
                    if held is None or held.at < use.at:
                        self._pending[cid] = use
            raise
        return len(batch)
