"""A file and its sidecar belong together: the sidecar records the SHA-256 of the file it was
written with, and a reader checks it, so a new file is never read with an old sidecar (an
export interrupted between its two renames, a file copied without its sidecar's update).

The exporter calls :func:`stamp` on the sidecar's payload before writing both files with
:func:`gmnet.io.atomic.write_together`; the importer calls :func:`check_pair` with the text it
read. Sidecars written before the hash was recorded are accepted as they were.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gmnet.errors import NetworkFileError

__all__ = ["HASH_KEY", "file_hash", "stamp", "check_pair", "loads_strict"]

HASH_KEY = "file_sha256"


def file_hash(content: str | bytes) -> str:
    """The hex SHA-256 of ``content`` (text is hashed as UTF-8, as it is written)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    return hashlib.sha256(data).hexdigest()


def stamp(payload: Mapping[str, Any], content: str | bytes) -> dict[str, Any]:
    """``payload`` with the hash of the file it accompanies (``content``, as written)."""
    return {**payload, HASH_KEY: file_hash(content)}


def check_pair(path: str | Path, content: str | bytes, side: Mapping[str, Any],
               side_path: str | Path, *, edited: bool = False) -> str | None:
    """Check that the sidecar ``side`` (read from ``side_path``) was written with the file
    ``path`` whose content is ``content``.

    Returns None when they match (or the sidecar predates the hash). When they do not: raises
    NetworkFileError naming both files and the ways out, unless ``edited`` is True (the user
    says the file was changed on purpose in another tool), in which case it returns a note for
    the import notes.
    """
    recorded = side.get(HASH_KEY)
    if recorded is None:
        return None
    if not isinstance(recorded, str):
        raise NetworkFileError(str(side_path), [f"{HASH_KEY!r} must be a hex string"])
    if recorded == file_hash(content):
        return None
    name = Path(path).name
    if edited:
        return (f"{name} changed after its sidecar was written; the file's tables are used "
                "where they differ")
    raise NetworkFileError(str(side_path), [
        f"this sidecar was written with another version of {name} (its SHA-256 differs): "
        f"export again to pair them, delete {Path(side_path).name} (or import with "
        f"--no-sidecar) to read {name} alone, or say the file was edited on purpose"])


def loads_strict(text: str, *, path: str = "<text>") -> Any:
    """JSON text as data, refusing a key given twice in one object and nesting deeper than
    Python can follow (a NetworkFileError naming ``path``)."""
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise NetworkFileError(path, [f"key {key[:60]!r} is given twice in one object"])
            out[key] = value
        return out

    try:
        return json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise NetworkFileError(path, [f"not valid JSON at line {exc.lineno}, column "
                                      f"{exc.colno}: {exc.msg}"]) from None
    except RecursionError:
        raise NetworkFileError(path, ["values nested too deeply"]) from None
