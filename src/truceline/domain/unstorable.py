"""Values no field of ours may hold, wherever they appear in a request.

- A NUL character (U+0000): PostgreSQL's text cannot store one, and no name, title or id needs it.
- A number beyond a double's range (about 1.8e308): every number we take is a double, and a larger
  integer makes ``float()`` raise instead of giving a reason."""

from __future__ import annotations

from typing import Any

from truceline.domain.errors import FieldError

#: The largest integer the store holds (SQLite's INTEGER, PostgreSQL's BIGINT).
MAX_INT = 2**63 - 1
NUL_REASON = "must not contain the NUL character (U+0000)"
HUGE_REASON = "is too large a number (beyond about 1.8e308)"


def pointer_token(key: object) -> str:
    """A key as one RFC 6901 reference token."""
    return str(key).replace("~", "~0").replace("/", "~1")


def _fits_a_double(v: int) -> bool:
    try:
        float(v)
    except OverflowError:
        return False
    return True


def first_unstorable(doc: Any) -> FieldError | None:
    """The first string (or key) holding a NUL, or number beyond a double, in parsed JSON: where (an
    RFC 6901 pointer) and why."""
    stack: list[tuple[str, Any]] = [("", doc)]
    while stack:
        pointer, v = stack.pop()
        if isinstance(v, str):
            if "\x00" in v:
                return FieldError(pointer, NUL_REASON)
        elif isinstance(v, int) and not isinstance(v, bool):
            if v.bit_length() > 1000 and not _fits_a_double(v):
                return FieldError(pointer, HUGE_REASON)
        elif isinstance(v, dict):
            for k, item in reversed(v.items()):
                at = f"{pointer}/{pointer_token(k)}"
                if "\x00" in k:
                    return FieldError(at, NUL_REASON)
                stack.append((at, item))
        elif isinstance(v, list):
            stack.extend((f"{pointer}/{i}", item) for i, item in reversed(list(enumerate(v))))
    return None
