"""A thread-safe LRU bounded in bytes and in entries, for rendered tiles and results.

Keys carry the versions of the data they were computed from, so a data change makes old
entries unreachable; they age out. Every entry costs its value's size plus
:data:`ENTRY_OVERHEAD` (key and bookkeeping), so empty values are not free.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

#: Bytes an entry costs besides its value (key, bookkeeping).
ENTRY_OVERHEAD = 256


class SizedLRU(Generic[V]):
    """Least-recently-used cache of at most ``max_bytes`` (values measured by ``size_of``
    plus :data:`ENTRY_OVERHEAD` each) and at most ``max_entries`` entries."""

    def __init__(self, max_bytes: int, *, size_of: Callable[[V], int],
                 max_entries: int = 100_000) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._size_of = size_of
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def size(self) -> int:
        """Bytes counted against ``max_bytes``."""
        return self._size

    def _cost(self, value: V) -> int:
        return self._size_of(value) + ENTRY_OVERHEAD

    def get(self, key: Hashable) -> V | None:
        """The value under ``key`` (now the most recently used), or ``None``."""
        with self._lock:
            item = self._data.get(key)
            if item is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return item

    def put(self, key: Hashable, value: V) -> None:
        """Store ``value`` (a value larger than the whole cache is not kept)."""
        cost = self._cost(value)
        if cost > self.max_bytes:
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._size -= self._cost(old)
            self._data[key] = value
            self._size += cost
            while self._data and (self._size > self.max_bytes
                                  or len(self._data) > self.max_entries):
                _, v = self._data.popitem(last=False)
                self._size -= self._cost(v)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._size = 0

    def __len__(self) -> int:
        return len(self._data)
