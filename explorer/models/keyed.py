"""One keyed LRU with a lock per key: loaded models and analyses both live in one.

``get_or_create(key, make)`` returns the cached value or builds it once: two requests for
the same key at the same time share one build (two tabs opening the same text run one
forward pass), requests for other keys do not wait. Bounded by entry count and, when a
``size_of`` is given, by total bytes; the least recently used entries go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class KeyedCache(Generic[V]):
    def __init__(self, max_entries: int, max_bytes: int | None = None, size_of: Callable[[V], int] | None = None) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.size_of = size_of or (lambda value: 0)
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, tuple[threading.Lock, int]] = {}

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > 1 and (len(self._items) > self.max_entries or self._over_bytes()):
                self._items.popitem(last=False)

    def get_or_create(self, key: Hashable, make: Callable[[], V]) -> V:
        found = self.get(key)
        if found is not None:
            return found
        with self._lock:  # a lock per key, counted so the last waiter removes it
            lock, waiters = self._key_locks.get(key, (threading.Lock(), 0))
            self._key_locks[key] = (lock, waiters + 1)
        try:
            with lock:
                found = self.get(key)
                if found is None:
                    found = make()
                    self.put(key, found)
                return found
        finally:
            with self._lock:
                lock, waiters = self._key_locks[key]
                if waiters <= 1:
                    del self._key_locks[key]
                else:
                    self._key_locks[key] = (lock, waiters - 1)

    def _over_bytes(self) -> bool:
        return self.max_bytes is not None and self.total_bytes() > self.max_bytes

    def total_bytes(self) -> int:
        return sum(self.size_of(value) for value in self._items.values())

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._items)

    def pop(self, key: Hashable) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
