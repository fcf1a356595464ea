"""The process's allocator for long batched runs: glibc asked, once, to keep freed chunk arrays
for reuse instead of handing them back to the kernel and faulting them in again."""

from __future__ import annotations

import os
import sys

__all__ = ["KEEP_FREED_ENTRIES", "MALLOC_MMAP_THRESHOLD", "MALLOC_TRIM_THRESHOLD",
           "keep_freed_memory"]

# With glibc's defaults, the arrays of each chunk (up to ~16 MB) are either mapped afresh or
# carved from a heap whose freed top goes straight back to the kernel: either way every chunk
# faults its pages in again, one 4 KB page at a time (`gmnet uncertainty "P(harm=yes)"
# --samples 1000000`: 36 s in the kernel, 62 s wall). Serving arrays up to 32 MB from the heap
# and keeping up to 64 MB of freed memory there stops it (20-100x fewer page faults; 3 s in the
# kernel, 43 s wall) for at most that much more resident memory per arena. Done once per process,
# on glibc, when a run has more than one chunk; setting MALLOC_MMAP_THRESHOLD_,
# MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_ or GLIBC_TUNABLES in the environment leaves it to you.
# A run of at least this many entries (draws x the largest factor's entries per draw) does it
# by itself: 2^25, e.g. 100,000 draws of a question summing over 432 cells (about a second).
KEEP_FREED_ENTRIES = 1 << 25
MALLOC_MMAP_THRESHOLD = 32 << 20
MALLOC_TRIM_THRESHOLD = 64 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers
_MALLOC_ENVIRONMENT = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
                       "GLIBC_TUNABLES")
_heap_tuned = False


def keep_freed_memory() -> None:
    """Once per process, on glibc: reuse freed chunk arrays instead of faulting them in anew
    (see :data:`MALLOC_MMAP_THRESHOLD`).

    This changes the whole process's allocator (freed memory up to 64 MB is kept for reuse), so
    the library calls it only for a large run (:data:`KEEP_FREED_ENTRIES`), where faulting
    the chunks' pages in again would cost a third or more of the time; the command line calls
    it at start. Setting any of ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``,
    ``MALLOC_TOP_PAD_`` or ``GLIBC_TUNABLES`` in the environment leaves the allocator alone.
    """
    global _heap_tuned
    if _heap_tuned:
        return
    _heap_tuned = True
    if not sys.platform.startswith("linux") or any(k in os.environ for k in _MALLOC_ENVIRONMENT):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - glibc only: its mallopt numbers are known
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # pragma: no cover - another C library
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD)
