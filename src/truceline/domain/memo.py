"""A bounded memo for results that are pure functions of their key: each entry costs something (one
entry, its bytes, its vertices), and when the next would pass the budget everything goes. Emptying
at once is cruder than LRU but costs nothing per hit, and the working sets here refill quickly."""

from __future__ import annotations

from collections.abc import Hashable, Iterator, ValuesView
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Bounded(Generic[K, V]):
    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._entries: dict[K, V] = {}
        self._spent = 0

    def get(self, key: K) -> V | None:
        return self._entries.get(key)

    def put(self, key: K, value: V, cost: int = 1) -> None:
        if self._spent + cost > self.budget:
            self.clear()
        self._entries[key] = value
        self._spent += cost

    def clear(self) -> None:
        self._entries.clear()
        self._spent = 0

    def values(self) -> ValuesView[V]:
        return self._entries.values()

    def __iter__(self) -> Iterator[K]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
