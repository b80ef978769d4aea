"""Whether this process has begun to shut down.

A graceful shutdown lets requests in flight finish, but a live feed (Server-Sent Events) never does:
held open by every web map and ``truceline watch``, it would make each restart wait out the whole grace
period. The feed ends its stream as soon as the shutdown begins, and its clients resume elsewhere with
``Last-Event-ID``, losing nothing. A signal is the whole process's business, hence one flag for it."""

from __future__ import annotations

import threading

_stopping = threading.Event()


def begin() -> None:
    _stopping.set()


def reset() -> None:
    _stopping.clear()


def is_stopping() -> bool:
    return _stopping.is_set()
