"""The CLI reads the server's RFC 3339 times as times: a fraction of a second late is late, and
people are shown them to the second."""

from __future__ import annotations

from truceline.cli.cards import moment
from truceline.cli.hotline import was_late


def test_an_acknowledgement_is_late_by_its_time_not_its_spelling() -> None:
    assert was_late("2017-07-12T00:00:00.500000Z", "2017-07-12T00:00:00Z")  # as text it sorts first
    assert not was_late("2017-07-11T23:59:59.900000Z", "2017-07-12T00:00:00Z")
    assert not was_late("2017-07-12T00:00:00Z", "2017-07-12T00:00:00Z")  # on the deadline is in time
    assert not was_late(None, "2017-07-12T00:00:00Z") and not was_late("2017-07-12T00:00:00Z", None)


def test_times_are_shown_to_the_second() -> None:
    assert moment("2026-12-07T19:07:34.278000Z") == "2026-12-07T19:07:34Z"
    assert moment("2017-07-12T00:00:00Z") == "2017-07-12T00:00:00Z"
    assert moment("2017-07-12T03:00:00.5+03:00") == "2017-07-12T03:00:00+03:00"
    assert moment(None) == "" and moment("") == ""
