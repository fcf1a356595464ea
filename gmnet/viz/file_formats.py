"""Which file format a path asks for: the diagram's formats, and file name endings that
contradict a format (SVG bytes written to ``x.png``). Used by the diagram, the plots and the
command line."""

from __future__ import annotations

from pathlib import Path

from gmnet.errors import InvalidArgumentError, UnknownNameError

__all__ = ["FORMATS", "KNOWN_SUFFIXES", "format_from_suffix", "suffix_format",
           "check_format_matches", "diagram_format"]

#: The formats a diagram is written in.
FORMATS = ("svg", "png", "pdf", "dot")


def format_from_suffix(path: str | Path) -> str:
    """``svg``/``png``/``pdf``/``dot`` from a file name (``.gv`` counts as dot)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    suffix = "dot" if suffix == "gv" else suffix
    if suffix not in FORMATS:
        raise InvalidArgumentError(
            f"cannot tell the diagram format from {str(path)!r}; end the file name with one of: "
            + ", ".join("." + f for f in FORMATS))
    return suffix


# file name endings that say what a file is: a format contradicting one of them is a mistake
KNOWN_SUFFIXES = {"svg": "svg", "png": "png", "pdf": "pdf", "dot": "dot", "gv": "dot",
                  "jpg": "jpg", "jpeg": "jpg", "gif": "gif", "bmp": "bmp", "tif": "tiff",
                  "tiff": "tiff", "webp": "webp", "eps": "eps", "ps": "ps", "html": "html",
                  "htm": "html", "json": "json", "txt": "txt"}


def suffix_format(path: str | Path) -> str | None:
    """What a file name's ending says the file is (``x.png`` -> ``png``), or None."""
    return KNOWN_SUFFIXES.get(Path(path).suffix.lower().lstrip("."))


def check_format_matches(fmt: str, path: str | Path) -> None:
    """Raise if ``fmt`` contradicts the ending of ``path`` (SVG bytes in ``x.png``)."""
    said = suffix_format(path)
    if said is not None and said != fmt:
        wanted = Path(path).with_suffix("." + fmt).name
        raise InvalidArgumentError(
            f"format {fmt} contradicts the file name {str(path)!r} (a .{said} file); leave "
            f"the format out to write {said}, or name the file {wanted}")


def diagram_format(path: str | Path, format: str | None = None) -> str:  # noqa: A002
    """The format to write ``path`` in: ``format`` if given (it must agree with the file
    name's ending, when that ending names a format), else the one the ending names."""
    if format is None:
        return format_from_suffix(path)
    if format not in FORMATS:
        raise UnknownNameError("diagram format", str(format), FORMATS)
    check_format_matches(format, path)
    return format
