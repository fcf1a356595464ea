"""Importing another tool's network file: :func:`import_network` (with its sidecar, when
``gmnet export`` wrote one) and :func:`load_foreign` (the same, cached, for ``--network``).

The reading is in :mod:`gmnet.io.importing` (the formats' models) and :mod:`gmnet.io.sidecar`
(what a sidecar restores); this module puts them together.
"""

from __future__ import annotations

import re
from pathlib import Path

from gmnet.errors import InvalidArgumentError
from gmnet.io.importing import _safe_name, network_from_model, read_model
from gmnet.io.registry import check_format, sidecar_path
from gmnet.io.sidecar import read_sidecar, with_sidecar
from gmnet.io.sidecar_hash import check_pair
from gmnet.model.network import Network, register_foreign_readers

__all__ = ["import_network", "load_foreign"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def import_network(path: str | Path, *, format: str | None = None,  # noqa: A002
                   sidecar: bool | str | Path = True, name: str | None = None,
                   edited: bool = False) -> Network:
    """Read a network file of another tool as a gmnet :class:`Network`.

    Parameters
    ----------
    path : the file (BIF, XMLBIF, Hugin NET, GeNIe XDSL or DSL, Netica DNE, or UAI).
    format : one of :data:`gmnet.io.registry.READ_FORMATS`; default from the extension.
    sidecar : True to use ``path + ".gmnet.json"`` when it exists, a path to use that file,
        False to ignore any sidecar.
    name : the network's name (default: from the file name).
    edited : the file was changed on purpose in another tool after its sidecar was written:
        its tables win and an import note says so (without it, a file that does not match
        the hash its sidecar recorded is an error: a stale pair).

    Returns
    -------
    Network
        Without a sidecar: one ``table`` CPT per node, sourced "imported from <file name>",
        with ``metadata["import_notes"]`` listing what the import changed.
        With a sidecar whose tables match the file: the network as it was exported.

    >>> import gmnet, tempfile, os
    >>> from gmnet.io.formats import export_network
    >>> target = os.path.join(tempfile.mkdtemp(), "gm.xdsl")
    >>> _ = export_network(gmnet.load_network(), target)
    >>> import_network(target).spec == gmnet.load_network().spec
    True
    """
    path = Path(path)
    fmt = check_format(format, path)
    model, file_name, notes = read_model(path, fmt)
    side_file = None
    if sidecar is True:
        candidate = sidecar_path(path)
        side_file = candidate if candidate.is_file() else None
    elif sidecar:
        side_file = Path(sidecar)
        if not side_file.is_file():
            raise InvalidArgumentError(f"no such sidecar file: {side_file}")
    if name is not None and not _NAME.match(name):
        raise InvalidArgumentError(f"network name {name!r} is not valid: use letters, digits "
                                   "and _, starting with a letter or _")
    net_name = name or _safe_name(path.name.split(".")[0], set()) or "imported"
    if side_file is not None:
        side = read_sidecar(side_file)
        note = check_pair(path, path.read_bytes(), side, side_file, edited=edited)
        net = with_sidecar(model, side, path, net_name, name is not None)
        if note is None:
            return net
        metadata = {**net.metadata,
                    "import_notes": [*net.metadata.get("import_notes", []), note]}
        return Network(net.spec.model_copy(update={"metadata": metadata}), path=net.path,
                       parameters=net.parameters)
    return network_from_model(model, name=net_name, source=f"imported from {path.name}",
                              title=file_name or "", path=str(path), notes=notes)


def load_foreign(path: str | Path, *, format: str | None = None) -> Network:  # noqa: A002
    """:func:`import_network` with its sidecar, cached while neither file changes (what
    ``load_network`` and ``--network`` use for other tools' files)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidArgumentError(f"no such file: {path}")
    side = sidecar_path(path)
    key = (str(path.resolve()), path.stat().st_mtime_ns,
           side.stat().st_mtime_ns if side.is_file() else None, format)
    if key not in _FOREIGN_CACHE:
        if len(_FOREIGN_CACHE) > 32:
            _FOREIGN_CACHE.clear()
        _FOREIGN_CACHE[key] = import_network(path, format=format)
    return _FOREIGN_CACHE[key]


_FOREIGN_CACHE: dict[tuple, Network] = {}


register_foreign_readers(load=load_foreign, validate=import_network)
