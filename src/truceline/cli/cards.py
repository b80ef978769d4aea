"""Listings for people: one row per item, a short fact at the side (a state, a time) and the rest in
lines, ending with the item's whole id, to act on it by.

A column per field squeezed every word to a letter or two on an 80-column terminal and cut ids to
their first half, which time-ordered ids share: every row then showed the same "01a25160-…"."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.table import Column, Table
from rich.text import Text


def cards(side: str, main: str) -> Table:
    return Table(Column(side, no_wrap=True), Column(main, min_width=40))


def add_card(table: Table, side: str | Text, title: str, lines: Iterable[str | None], item_id: str | None) -> None:
    """``title`` in bold, then each line given (None and empty ones left out), then ``id <item_id>``.
    Text, not markup: titles and lines hold the parties' own words, which may hold brackets."""
    body = Text(title, style="bold")
    for line in [*lines, f"id {item_id}" if item_id else None]:
        if line:
            body.append("\n" + line)
    table.add_row(side if isinstance(side, Text) else Text(side), body, end_section=True)


def day_time(stamp: str | None) -> str:
    """An RFC 3339 time on two short lines (day, then time to the second), for the side column."""
    if not stamp:
        return ""
    day, _, time = stamp.rstrip("Z").partition("T")
    return f"{day}\n{time[:8]}"


_FRACTION = re.compile(r"(T\d\d:\d\d:\d\d)\.\d+")


def moment(stamp: str | None) -> str:
    """An RFC 3339 time to the second, for people: the server keeps the fraction of a second, which
    only makes a line longer to read."""
    return _FRACTION.sub(r"\1", stamp) if stamp else ""
