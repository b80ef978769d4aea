"""When a token's use is worth writing down: a new address, or a minute on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from truceline.domain.model import Credential
from truceline.services.token_uses import TokenUses

T0 = datetime(2017, 7, 9, 12, tzinfo=UTC)


def test_a_use_is_news_from_a_new_address_or_a_minute_later() -> None:
    c = Credential("c", "p", "desk", T0)
    assert c.use_is_news(T0, "10.0.0.1")  # never used
    used = Credential("c", "p", "desk", T0, last_used_at=T0, last_used_from="10.0.0.1")
    assert not used.use_is_news(T0 + timedelta(seconds=59), "10.0.0.1")
    assert used.use_is_news(T0 + timedelta(seconds=60), "10.0.0.1")
    assert used.use_is_news(T0 + timedelta(seconds=1), "10.0.0.2")
    assert used.use_is_news(T0, None)
    revoked = Credential("c", "p", "desk", T0, revoked_at=T0 + timedelta(seconds=5), last_used_at=T0,
                         last_used_from="10.0.0.1")  # fmt: skip
    assert not revoked.tried_after_revocation
    assert revoked.use_is_news(T0 + timedelta(seconds=6), "10.0.0.1")  # the first try after it, at once
    tried = Credential("c", "p", "desk", T0, revoked_at=T0 + timedelta(seconds=5),
                       last_used_at=T0 + timedelta(seconds=6), last_used_from="10.0.0.1")  # fmt: skip
    assert tried.tried_after_revocation and not tried.use_is_news(T0 + timedelta(seconds=20), "10.0.0.1")
    uses = TokenUses()
    uses.note(used, T0 + timedelta(seconds=30), "10.0.0.1")
    assert uses.flush(None) == 0  # type: ignore[arg-type]  # nothing to write: no transaction either
