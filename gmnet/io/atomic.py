"""Output files, written so that nothing is lost.

- A file is written to a temporary file beside the target, then renamed over it: an interrupted
  run never leaves a half-written file and never replaces a good file with a broken one.
- An output never replaces one of the run's inputs or an input's sidecar (also through a
  symbolic or hard link; see :mod:`gmnet.model.inputs`), nor anything that is not a regular
  file (a device, a pipe, a socket).
- Replacing an existing file keeps its permission bits (a 0600 file stays 0600); a symbolic link
  is written through (the link stays, its target gets the new text); a file with several hard
  links is rewritten in place so that every link sees the new text.
- Ctrl+C during the renames is held back until they are done, so several files written together
  (a file and its sidecar) land together.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from gmnet.errors import InvalidArgumentError
from gmnet.model.inputs import input_matching

__all__ = ["atomic_path", "check_destination", "write_text", "write_bytes", "write_together",
           "deferred_interrupt"]

_KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"))


def check_destination(target: str | Path, *, inputs: Iterable[str | Path] = ()) -> Path:
    """Check that a file can be written at ``target``; call it before long work so a bad path
    fails at once. Returns ``target`` as a Path.

    Refused: a name that ends with a path separator or is empty, a folder that does not exist
    or cannot be written, a target that is a folder or not a regular file, and a target that is
    (or resolves to) one of ``inputs`` or a file this run has read.
    """
    text = str(target)
    if not text.strip():
        raise InvalidArgumentError("an empty output file name; name a file such as out/x.svg")
    if text.endswith(("/", os.sep)) and not Path(text).is_dir():
        raise InvalidArgumentError(f"cannot write {text}: it ends with '/', so it names a "
                                   "folder; name a file in it (e.g. " + text + "audit.md)")
    target = Path(target)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise InvalidArgumentError(f"cannot write {target}: folder {directory} does not exist")
    if target.is_dir():
        raise InvalidArgumentError(f"cannot write {target}: it is a folder; name a file")
    _check_kind(target)
    same = input_matching(target)
    if same is None:
        for item in inputs:
            if _same_file(target, Path(item)):
                same = str(item)
                break
    if same is not None:
        via = "" if os.path.abspath(same) == os.path.abspath(target) else f" ({same})"
        raise InvalidArgumentError(f"cannot write {target}: it is an input of this command{via}"
                                   "; write the output to another file")
    _check_writable(target)
    return target


def _check_kind(target: Path) -> None:
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return  # does not exist yet (or a dangling link: the rename replaces the link)
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise InvalidArgumentError(f"cannot write {target}: it is {kind}, not a regular file; "
                               "name a file")


def _same_file(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _check_writable(target: Path) -> None:
    """A temporary file can be created beside ``target`` (catches read-only and virtual
    folders such as /proc before the work is done)."""
    folder = _real_target(target).parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    except OSError as exc:
        raise InvalidArgumentError(f"cannot write {target}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(tmp)


def _real_target(target: Path) -> Path:
    """Where the bytes go: a symbolic link is written through to the file it names."""
    return Path(os.path.realpath(target)) if target.is_symlink() else target


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Hold back Ctrl+C (SIGINT) and SIGTERM in this block; one that arrived is raised after
    it. Outside the main thread this does nothing (signals go to the main thread anyway)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[tuple[int, object]] = []
    previous = {}

    def hold(signum, frame):  # noqa: ARG001 - signal handler signature
        received.append((signum, frame))

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, hold)
        except (ValueError, OSError):
            pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if received:
            signum, frame = received[0]
            handler = previous.get(signum)
            if callable(handler):
                handler(signum, frame)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), signum)


def _mode_for(target: Path) -> int:
    """The permission bits of the existing file, or what a plain open() would give."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _temp_beside(target: Path, suffix: str | None = None) -> Path:
    real = _real_target(target)
    folder = real.parent if str(real.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=suffix or real.suffix,
                                   dir=folder)
    except OSError as exc:
        raise InvalidArgumentError(f"cannot write {target}: {exc.strerror or exc}") from None
    os.close(fd)
    os.chmod(tmp, _mode_for(real))
    return Path(tmp)


def _land(tmp: Path, target: Path) -> None:
    """Put the finished temporary file in place of ``target`` (see the module's rules)."""
    real = _real_target(target)
    try:
        st = os.stat(real)
    except OSError:
        st = None
    if st is not None and stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
        # several names for one file: rewrite it in place so that every name sees the new text
        with open(tmp, "rb") as src, open(real, "r+b") as dst:
            dst.truncate(0)
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        tmp.unlink()
        return
    if st is not None and hasattr(os, "chown"):
        with contextlib.suppress(OSError):
            os.chown(tmp, st.st_uid, st.st_gid)
    os.replace(tmp, real)


@contextlib.contextmanager
def atomic_path(target: str | Path, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``.

    Use it for libraries that insist on writing to a path themselves (matplotlib, graphviz).
    """
    target = check_destination(target)
    tmp_path = _temp_beside(target, suffix)
    try:
        yield tmp_path
        _check_kind(target)  # nothing else appeared there meanwhile
        with deferred_interrupt():
            _land(tmp_path, target)
    except OSError as exc:
        # name the file the user asked for, not the temporary beside it
        raise InvalidArgumentError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(target: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically (see the module's rules). Returns the path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically. Returns the path."""
    return write_bytes(target, text.encode("utf-8"))


def write_together(files: Sequence[tuple[str | Path, str | bytes]]) -> list[Path]:
    """Write several files (a file and its sidecar) so that they land together.

    Every file is fully written beside its target before any target is replaced; then all are
    renamed in order with Ctrl+C held back, so an interrupted run leaves either every old file
    or every new one. Each target is checked as :func:`check_destination` does.
    """
    targets = [check_destination(t) for t, _ in files]
    temps: list[Path] = []
    target = targets[0]
    try:
        for target, (_, content) in zip(targets, files, strict=True):
            tmp = _temp_beside(target)
            temps.append(tmp)
            tmp.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        for target in targets:
            _check_kind(target)
        with deferred_interrupt():
            for tmp, target in zip(temps, targets, strict=True):
                _land(tmp, target)
    except OSError as exc:
        raise InvalidArgumentError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        for tmp in temps:
            if tmp.exists():
                tmp.unlink()
    return targets
