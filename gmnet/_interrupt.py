"""Ctrl+C on the command line: "gmnet: interrupted" and exit code 130, never a traceback.

Inside a command, :func:`gmnet.cli.main` catches the interrupt (output files are written
atomically, so none is left half-written). Before that, while the package is still being imported,
only a hook installed first can catch it: :func:`install` does that when, and only when, the
process is the ``gmnet`` command (a program that imports gmnet keeps Python's own behaviour).
"""

from __future__ import annotations

import os
import sys

__all__ = ["install", "interrupted_code"]

MESSAGE = "gmnet: interrupted"


def interrupted_code() -> int:
    """Print the interrupt line on stderr (after a newline on a terminal, which closes the
    ``^C`` echo) and return 130."""
    try:
        prefix = "\n" if sys.stderr.isatty() else ""
        sys.stderr.write(prefix + MESSAGE + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, KeyboardInterrupt):
        pass
    return 130


def _is_command_line() -> bool:
    name = os.path.basename(sys.argv[0]) if sys.argv else ""
    return name in ("gmnet", "gmnet.exe", "-m")


def install() -> None:
    """Make an interrupt that escapes to the top level exit 130 with one line, when this
    process is the ``gmnet`` command."""
    if not _is_command_line() or getattr(sys.excepthook, "_gmnet", False):
        return
    previous = sys.excepthook

    def hook(kind, value, traceback):
        if issubclass(kind, KeyboardInterrupt):
            interrupted_code()
            os._exit(130)
        previous(kind, value, traceback)

    hook._gmnet = True  # type: ignore[attr-defined]
    sys.excepthook = hook


install()
