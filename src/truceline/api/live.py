"""Waking live-feed streams when their party gets events. Commits happen on worker threads; streams
wait on the event loop. A stream that misses a wake-up (or whose events were written by another
process) still finds them at its next poll, so this only makes delivery prompt, never correct."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict


class FeedSignal:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subs: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._lock = threading.Lock()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(self, party_id: str) -> asyncio.Event:
        ev = asyncio.Event()
        with self._lock:
            self._subs[party_id].add(ev)
        return ev

    def unsubscribe(self, party_id: str, ev: asyncio.Event) -> None:
        with self._lock:
            self._subs[party_id].discard(ev)
            if not self._subs[party_id]:
                del self._subs[party_id]

    def notify(self, party_ids: set[str]) -> None:
        """Called after a commit, from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with self._lock:
            events = [ev for p in party_ids for ev in self._subs.get(p, ())]
        for ev in events:
            loop.call_soon_threadsafe(ev.set)
