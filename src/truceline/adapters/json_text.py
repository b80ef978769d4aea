"""JSON text for stored columns and feed payloads, encoded with orjson: several times faster than the
standard library, which matters on the notify path (a conflict's region is stored with the conflict,
its Alert and each member's feed event). The audit log does not use it: its hashed form is the
canonical encoding of ``domain.audit``."""

from __future__ import annotations

from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def dumps(obj: Any) -> str:
    """Compact JSON text. As with ``json.dumps``, dict keys that are not strings become strings and
    numpy numbers (which geometry code hands back) are written as numbers."""
    return orjson.dumps(obj, option=_OPTIONS).decode()


def loads(text: str | bytes) -> Any:
    """Parse JSON text (orjson: the notify path reads every candidate volume's source)."""
    return orjson.loads(text)
