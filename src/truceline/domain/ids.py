"""Identifiers: UUIDs laid out as RFC 9562 version 7 (time-ordered).

Time order keeps B-tree inserts at the right edge of each index instead of scattering them over
random pages, which matters to every write's cost once a store holds millions of rows."""

from __future__ import annotations

import os
import time
import uuid


def new_id() -> str:
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | rand & ((1 << 80) - 1)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC variant
    return str(uuid.UUID(int=value))
