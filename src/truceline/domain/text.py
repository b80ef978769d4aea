"""Text as people look things up by it."""

from __future__ import annotations


def folded_text(text: str) -> str:
    """A name, title or subject as people look it up: any case, runs of white space as one space."""
    return " ".join(text.split()).casefold()
