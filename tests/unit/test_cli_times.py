"""The CLI compares the server's RFC 3339 times as times: a fraction of a second late is late."""

from __future__ import annotations

from truceline.cli.hotline import was_late


def test_an_acknowledgement_is_late_by_its_time_not_its_spelling() -> None:
    assert was_late("2017-07-12T00:00:00.500000Z", "2017-07-12T00:00:00Z")  # as text it sorts first
    assert not was_late("2017-07-11T23:59:59.900000Z", "2017-07-12T00:00:00Z")
    assert not was_late("2017-07-12T00:00:00Z", "2017-07-12T00:00:00Z")  # on the deadline is in time
    assert not was_late(None, "2017-07-12T00:00:00Z") and not was_late("2017-07-12T00:00:00Z", None)
