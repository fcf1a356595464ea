"""The file formats gmnet reads and writes, their extensions, and the reader of each.

Every reader returns a :class:`gmnet.io.parsed.ParsedNetwork`; none imports pgmpy, so reading a
file costs no more than parsing it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gmnet.errors import InvalidArgumentError, UnknownNameError
from gmnet.io.parsed import ParsedNetwork

__all__ = ["FORMATS", "READ_FORMATS", "EXTENSIONS", "EXTENSION_OF", "FORMAT_NAMES",
           "SIDECAR_SUFFIX", "SIDECAR_KIND", "format_of", "sidecar_path", "check_format",
           "reader"]

#: formats gmnet writes (and reads)
FORMATS = ("bif", "xmlbif", "net", "xdsl", "uai")
#: formats gmnet reads
READ_FORMATS = ("bif", "xmlbif", "net", "xdsl", "dsl", "dne", "uai")
EXTENSIONS = {".bif": "bif", ".xml": "xmlbif", ".xmlbif": "xmlbif", ".bifxml": "xmlbif",
              ".net": "net", ".xdsl": "xdsl", ".dsl": "dsl", ".dne": "dne", ".uai": "uai"}
EXTENSION_OF = {"bif": ".bif", "xmlbif": ".xml", "net": ".net", "xdsl": ".xdsl", "dsl": ".dsl",
                "dne": ".dne", "uai": ".uai"}
FORMAT_NAMES = {"bif": "BIF", "xmlbif": "XMLBIF", "net": "Hugin NET", "xdsl": "GeNIe XDSL",
                "dsl": "GeNIe DSL", "dne": "Netica DNE", "uai": "UAI"}
SIDECAR_SUFFIX = ".gmnet.json"
SIDECAR_KIND = "gmnet-sidecar/1"


def format_of(path: str | Path) -> str | None:
    """The format a file name's extension stands for, or None (``.yaml`` is gmnet's own)."""
    return EXTENSIONS.get(Path(path).suffix.lower())


def sidecar_path(path: str | Path) -> Path:
    """Where the sidecar of ``path`` lives: the same name with ``.gmnet.json`` appended."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def check_format(fmt: str | None, path: str | Path | None, *, writing: bool = False) -> str:
    """The format to use: ``fmt`` if given (checked), else the one of ``path``'s extension."""
    allowed = FORMATS if writing else READ_FORMATS
    if fmt is None:
        found = format_of(path) if path is not None else None
        if found is not None and found in allowed:
            return found
        extensions = [e for e, f in EXTENSIONS.items() if f in allowed]
        raise InvalidArgumentError(
            f"cannot tell the format of {path}: give one of {', '.join(allowed)} or use an "
            f"extension: {', '.join(extensions)}")
    if fmt not in allowed:
        raise UnknownNameError("format", str(fmt), allowed,
                               context="to write" if writing else "to read")
    return fmt


def reader(fmt: str) -> Callable[[str], ParsedNetwork]:
    """The parser of ``fmt``: text -> :class:`ParsedNetwork` (imported on first use)."""
    if fmt == "bif":
        from gmnet.io.bif import parse_bif

        return parse_bif
    if fmt == "xmlbif":
        from gmnet.io.xmlbif import parse_xmlbif

        return parse_xmlbif
    if fmt == "net":
        from gmnet.io.net import parse_net

        return parse_net
    if fmt == "xdsl":
        from gmnet.io.genie import parse_xdsl

        return parse_xdsl
    if fmt == "dsl":
        from gmnet.io.genie import parse_dsl

        return parse_dsl
    if fmt == "dne":
        from gmnet.io.netica import parse_dne

        return parse_dne
    if fmt == "uai":
        from gmnet.io.uai import parse_uai_network

        return parse_uai_network
    raise UnknownNameError("format", str(fmt), READ_FORMATS)
