"""The web server's cache of answers: encoded response bodies by request, bounded.

An answer depends only on the request (the networks a server serves are loaded once and never
change; every computation, the draws included, is deterministic given its seed), so the body
a request got is served again, byte for byte, to the same request. The key is the endpoint,
the network's name and the whole validated request (evidence, do(), scenarios, worldview,
context policy, your numbers, fixed Critical Unknowns, target, state, samples, seed, bins...),
so two requests that differ in anything are never served each other's answer. Only
successful answers are kept; errors are computed every time.

The cache is bounded twice: in entries and in bytes (the least recently used go first), so a
stream of new questions cannot grow the server's memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field

__all__ = ["ResponseCache", "DEFAULT_CACHE_ENTRIES", "DEFAULT_CACHE_BYTES"]

DEFAULT_CACHE_ENTRIES = 2048
DEFAULT_CACHE_BYTES = 32 * 1024 * 1024


@dataclass
class ResponseCache:
    """A thread-safe least-recently-used map from a request key to its response body.

    Parameters
    ----------
    max_entries
        Bodies kept at most (0: keep none, the cache is off).
    max_bytes
        Total size of the bodies kept at most; a body larger than this is not kept.
    """

    max_entries: int = DEFAULT_CACHE_ENTRIES
    max_bytes: int = DEFAULT_CACHE_BYTES
    hits: int = 0
    misses: int = 0
    size: int = 0
    _items: OrderedDict[Hashable, bytes] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: Hashable) -> bytes | None:
        """The body kept for ``key`` (now the most recently used), or None."""
        with self._lock:
            body = self._items.get(key)
            if body is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return body

    def put(self, key: Hashable, body: bytes) -> None:
        """Keep ``body`` for ``key``, dropping the least recently used beyond the bounds."""
        if self.max_entries <= 0 or len(body) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= len(old)
            self._items[key] = body
            self.size += len(body)
            while len(self._items) > self.max_entries or self.size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self.size -= len(dropped)

    def __len__(self) -> int:
        return len(self._items)

    def stats(self) -> dict[str, int]:
        """Entries, bytes, hits and misses so far, and the bounds."""
        with self._lock:
            return {"entries": len(self._items), "bytes": self.size, "hits": self.hits,
                    "misses": self.misses, "max_entries": self.max_entries,
                    "max_bytes": self.max_bytes}
