"""Output files are written to a temporary file beside the target, then renamed: an interrupted
run never leaves a half-written file and never replaces a good file with a broken one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from gmnet.errors import InvalidArgumentError

__all__ = ["atomic_path", "check_destination", "write_text", "write_bytes"]


def check_destination(target: str | Path) -> Path:
    """Check that a file can be written at ``target`` (its folder exists, it is not a folder);
    call it before long work so a bad path fails at once. Returns ``target`` as a Path."""
    target = Path(target)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise InvalidArgumentError(f"cannot write {target}: folder {directory} does not exist")
    if target.is_dir():
        raise InvalidArgumentError(f"cannot write {target}: it is a folder; name a file")
    return target


@contextlib.contextmanager
def atomic_path(target: str | Path, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``.

    Use it for libraries that insist on writing to a path themselves (matplotlib, graphviz).
    """
    target = check_destination(target)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix,
                                   dir=directory)
    except OSError as exc:
        raise InvalidArgumentError(f"cannot write {target}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates the file owner-only; give it the mode a plain open() would (0666 - umask)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except OSError as exc:
        # name the file the user asked for, not the temporary beside it
        raise InvalidArgumentError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(target: str | Path, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: str | Path, text: str) -> Path:
    return write_bytes(target, text.encode("utf-8"))
