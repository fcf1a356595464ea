"""Table sizes checked before any table is built: a node with many parents (30 binary parents
make a table of 2.1e9 entries) is an error that says how large its table would be, not a
MemoryError after minutes of work."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["MAX_TABLE_ENTRIES", "table_entries", "size_problems", "describe_size"]

#: The most entries one conditional probability table may hold (float64: 8 bytes each).
MAX_TABLE_ENTRIES = 1 << 24


def table_entries(states: int, parent_states: Sequence[int]) -> int:
    """Entries of a table with ``states`` own states and parents of ``parent_states``."""
    return states * math.prod(parent_states)


def describe_size(entries: int) -> str:
    """'2.1e9 entries, 17 GB' (as float64 numbers)."""
    count = f"{entries:,}" if entries < 10**7 else _short(entries)
    return f"{count} entries, {_bytes(entries * 8)}"


def _short(n: int) -> str:
    return f"{n:.2g}".replace("e+0", "e").replace("e+", "e")


def _bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1000
    raise AssertionError  # pragma: no cover


def size_problems(states: Mapping[str, Sequence[str]], parents: Mapping[str, Sequence[str]],
                  *, limit: int = MAX_TABLE_ENTRIES) -> list[str]:
    """One problem per node whose table would hold more than ``limit`` entries, naming the node
    and the size (parents missing from ``states`` are skipped: another check names them)."""
    problems = []
    for var, own in states.items():
        cards = [len(states[p]) for p in parents.get(var, ()) if p in states]
        entries = table_entries(len(own), cards)
        if entries > limit:
            problems.append(
                f"node {var!r}: its table would hold {describe_size(entries)} "
                f"({len(own)} states x {_short(math.prod(cards))} configurations of "
                f"{len(cards)} parents); the "
                f"limit is {describe_size(limit)}: give it fewer parents or states")
    return problems
