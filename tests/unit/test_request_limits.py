"""What every request must satisfy before a route sees it (``api.limits``): where a NUL character or
a number beyond a double is, as a JSON pointer, and no false alarm on text that only looks like one."""

from __future__ import annotations

import json

from truceline.api.limits import body_problem, query_problem
from truceline.domain.errors import FieldError
from truceline.domain.unstorable import HUGE_REASON, NUL_REASON

JSON = "application/json"


def test_a_nul_in_a_value_or_a_key_is_found_with_its_pointer() -> None:
    body = json.dumps({"a": [1, {"t/~x": "a\u0000b"}], "z": "fine"}).encode()
    assert body_problem(body, JSON) == FieldError("/a/1/t~1~0x", NUL_REASON)  # RFC 6901 escapes
    assert body_problem(json.dumps({"k\u0000": 1}).encode(), JSON) == FieldError("/k\u0000", NUL_REASON)
    assert body_problem(json.dumps(["ok", "\u0000"]).encode(), "application/json; charset=utf-8") == FieldError(
        "/1", NUL_REASON
    )


def test_text_that_only_looks_like_a_nul_passes() -> None:
    assert body_problem(json.dumps({"a": "\\u0000"}).encode(), JSON) is None  # a backslash, then "u0000"
    assert body_problem(b'{"a": "plain"}', JSON) is None


def test_numbers_beyond_a_double_are_found_and_those_within_pass() -> None:
    assert body_problem(b'{"n": [0, ' + b"9" * 309 + b"]}", JSON) == FieldError("/n/1", HUGE_REASON)
    assert body_problem(b'{"n": -' + b"9" * 400 + b"}", JSON) == FieldError("/n", HUGE_REASON)
    assert body_problem(b'{"n": ' + b"9" * 308 + b"}", JSON) is None  # still a double (about 1e308)
    assert body_problem(b'{"id": "' + b"9" * 400 + b'"}', JSON) is None  # digits in a string are text


def test_ndjson_names_the_line_and_a_raw_nul_byte_the_body() -> None:
    lines = b'{"ok": 1}\n\n{"t": "\\u0000"}\n'
    assert body_problem(lines, "application/x-ndjson") == FieldError("/2/t", "line 3: " + NUL_REASON)
    assert body_problem(b"a,b\n1,\x002\n", "text/csv") == FieldError("", NUL_REASON)
    # Not JSON, no NUL: left to the route, which says what is wrong with it.
    assert body_problem(b"{" + b"9" * 400, JSON) is None


def test_a_nul_in_the_query_names_the_parameter() -> None:
    assert query_problem(b"limit=5&zone_id=a%00b") == FieldError("#query/zone_id", NUL_REASON)
    assert query_problem(b"limit=5&zone_id=a%2500b") is None  # "%00" as text, percent-encoded
    assert query_problem(b"") is None
