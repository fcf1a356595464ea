"""Connections the server holds: bounded in number and in idle time.

uvicorn keeps a connection that never finishes its request headers open for ever, and accepts
connections until the process runs out of file descriptors (then every new one, a health probe
included, fails). :func:`guarded_protocol` wraps uvicorn's HTTP protocol so that

- a connection must send a complete request head within ``header_timeout`` seconds of being
  opened or of its previous response (slow or silent clients are closed);
- at most ``max_connections`` are open at once: a new connection beyond that closes the oldest
  idle one (no request in progress), or is itself closed when every connection is busy. So idle
  sockets, however many, never lock out a new request.

:func:`connection_limit` caps the limit below the process's file-descriptor limit.
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["guarded_protocol", "connection_limit", "raise_fd_limit", "DEFAULT_MAX_CONNECTIONS",
           "DEFAULT_HEADER_TIMEOUT", "BACKLOG"]

DEFAULT_MAX_CONNECTIONS = 1000
DEFAULT_HEADER_TIMEOUT = 10.0
_RESERVED_FDS = 64  # for the listening socket, logs, files, the thread pool
BACKLOG = 64  # connections waiting to be accepted (also how many are accepted at a time)


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's soft limit of open files towards ``wanted`` (never above the hard
    limit); returns the soft limit in force."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return wanted + _RESERVED_FDS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft if soft != resource.RLIM_INFINITY else wanted


def connection_limit(requested: int, *, backlog: int = BACKLOG) -> int:
    """``requested``, lowered so that the connections fit in the file-descriptor limit (the
    event loop accepts up to ``backlog`` connections at a time, and a few such batches arrive
    before the connections they push out are closed)."""
    reserve = _RESERVED_FDS + 3 * backlog
    soft = raise_fd_limit(requested + reserve)
    return max(8, min(requested, soft - reserve))


def _idle(protocol: Any) -> bool:
    cycle = getattr(protocol, "cycle", None)
    return cycle is None or bool(getattr(cycle, "response_complete", False))


def _closing(protocol: Any) -> bool:
    transport = getattr(protocol, "transport", None)
    return transport is None or transport.is_closing()


def guarded_protocol(base: type, *, max_connections: int = DEFAULT_MAX_CONNECTIONS,
                     header_timeout: float = DEFAULT_HEADER_TIMEOUT) -> type:
    """A subclass of uvicorn's HTTP protocol class ``base`` with the two bounds above."""

    class Guarded(base):  # type: ignore[misc, valid-type]
        def connection_made(self, transport: Any) -> None:
            self._gmnet_since = time.monotonic()
            self._gmnet_timer = None
            super().connection_made(transport)
            self._arm()
            open_ = [c for c in self.connections if not _closing(c)]
            if len(open_) > max_connections:
                self._make_room(open_)

        def _make_room(self, open_: list[Any]) -> None:
            idle = [c for c in open_ if c is not self and _idle(c) and hasattr(c, "_gmnet_since")]
            if not idle:
                self.transport.close()  # every connection is busy: this one waits its turn
                return
            oldest = min(idle, key=lambda c: c._gmnet_since)
            oldest.transport.close()

        def data_received(self, data: bytes) -> None:
            self._gmnet_bytes = getattr(self, "_gmnet_bytes", 0) + len(data)
            super().data_received(data)

        def _arm(self) -> None:
            seen = (self.cycle, getattr(self, "_gmnet_bytes", 0))
            self._gmnet_timer = self.loop.call_later(header_timeout, self._check_idle, seen)

        def _check_idle(self, seen: tuple[Any, int]) -> None:
            self._gmnet_timer = None
            if self.transport is None or self.transport.is_closing():
                return
            cycle, received = seen
            stalled_head = _idle(self) and self.cycle is cycle
            stalled_body = (not _idle(self) and getattr(self.cycle, "more_body", False)
                            and getattr(self, "_gmnet_bytes", 0) == received)
            if stalled_head or stalled_body:
                self.transport.close()  # no request head (or body) within the time limit
                return
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._gmnet_timer is not None:
                self._gmnet_timer.cancel()
                self._gmnet_timer = None
            super().connection_lost(exc)

    Guarded.__name__ = Guarded.__qualname__ = f"Guarded{base.__name__}"
    return Guarded
