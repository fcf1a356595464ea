"""The files this run has read, so that no output replaces one of them.

Every reader of a data file calls :func:`note_input` (networks, scenarios, worldviews, files of
other tools and their sidecars). Inside :func:`guard_inputs` (the command line runs every
command inside it) :func:`gmnet.io.atomic.check_destination` refuses an output path that is, or
resolves to (through symbolic or hard links), a file that was read. Outside it nothing is
recorded, so a long-running program (a notebook, the web server) keeps no list.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["note_input", "guard_inputs", "input_matching", "SIDECAR_SUFFIX"]

# the sidecar of FILE is FILE + this (gmnet.io.formats.sidecar_path)
SIDECAR_SUFFIX = ".gmnet.json"

_lock = threading.Lock()
_inputs: dict[str, str] | None = None  # real path -> the path as the user named it
_inodes: dict[tuple[int, int], str] = {}


def note_input(path: str | Path, *, with_sidecar: bool = False) -> None:
    """Record ``path`` (and, if asked, its sidecar ``path + ".gmnet.json"``) as read by this
    run; a no-op outside :func:`guard_inputs`."""
    if _inputs is None:
        return
    paths = [Path(path)]
    if with_sidecar:
        paths.append(Path(str(path) + SIDECAR_SUFFIX))
    with _lock:
        if _inputs is None:
            return
        for p in paths:
            _inputs.setdefault(os.path.realpath(p), str(p))
            try:
                st = os.stat(p)
            except OSError:
                continue
            _inodes.setdefault((st.st_dev, st.st_ino), str(p))


def input_matching(path: str | Path) -> str | None:
    """The input (as it was named) that ``path`` is or resolves to, or None."""
    if _inputs is None:
        return None
    with _lock:
        real = os.path.realpath(path)
        if real in _inputs:
            return _inputs[real]
        try:
            st = os.stat(path)
        except OSError:
            return None
        return _inodes.get((st.st_dev, st.st_ino))


@contextlib.contextmanager
def guard_inputs() -> Iterator[None]:
    """Within this block, files read are recorded and outputs may not replace them."""
    global _inputs
    with _lock:
        outer = _inputs
        if outer is None:
            _inputs = {}
            _inodes.clear()
    try:
        yield
    finally:
        with _lock:
            if outer is None:
                _inputs = None
                _inodes.clear()
