"""Reading other tools' network files as gmnet networks: :func:`import_network`.

A file is read by gmnet's own reader of its format (:mod:`gmnet.io.registry`), checked
(:func:`gmnet.io.parsed.to_model`) and turned into a network with one ``table`` CPT per node
(:func:`network_from_model`). Whatever the import had to change is said in the network's
``metadata["import_notes"]``: rows rescaled to sum to 1, percent tables, names that gmnet cannot
use (renamed; the original becomes the label), state names cut to 64 characters or renamed to
stay distinct, tables read in a writer's own order. With the sidecar that ``gmnet export``
wrote, the original network comes back instead (:mod:`gmnet.io.sidecar`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from gmnet.errors import InvalidArgumentError, NetworkFileError
from gmnet.io.parsed import FileFormatError, to_model
from gmnet.io.registry import FORMAT_NAMES, reader
from gmnet.model.compiled import CompiledModel
from gmnet.model.network import Network, network_from_dict

__all__ = ["network_from_model", "read_model",
           "MAX_FOREIGN_BYTES", "IMPORT_SUM_TOLERANCE"]

#: Largest foreign file read (pgmpy's diabetes is 5.5 MB, munin 4 MB; UAI-2014 instances
#: reach tens of MB). Above it, an error says the size.
MAX_FOREIGN_BYTES = 100_000_000
IMPORT_SUM_TOLERANCE = 1e-3
MAX_STATE_CHARS = 64

# names other tools put where a file has no network name
_PLACEHOLDER_TITLES = ("unknown", "bn_model", "MyNetwork", "UNTITLED", "anonymousBN")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")




def read_model(path: Path, fmt: str) -> tuple[CompiledModel, str | None, list[str]]:
    """The file's model, the network name it states (if any) and the reader's notes."""
    text = _read_text(path)
    try:
        parsed = reader(fmt)(text)
        model = to_model(parsed)
    except FileFormatError as exc:
        raise NetworkFileError(str(path), [f"not a valid {FORMAT_NAMES[fmt]} file: {exc}"]
                               ) from None
    except RecursionError:
        raise NetworkFileError(str(path), [f"not a valid {FORMAT_NAMES[fmt]} file: nested "
                                           "too deeply"]) from None
    return model, parsed.name, list(parsed.notes)


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise InvalidArgumentError(f"no such file: {path}")
    size = path.stat().st_size
    if size > MAX_FOREIGN_BYTES:
        raise NetworkFileError(str(path), [f"file is {size:,} bytes; gmnet reads network files "
                                           f"up to {MAX_FOREIGN_BYTES:,}"])
    raw = path.read_bytes()
    if not raw.strip():
        raise NetworkFileError(str(path), ["the file is empty"])
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise NetworkFileError(str(path), ["not readable as UTF-16 text"]) from None
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")  # older Hugin and Netica files are Windows-1252
    if "\x00" in text:
        raise NetworkFileError(str(path), ["the file contains NUL characters: it is binary or "
                                           "in an encoding without a byte-order mark (save it "
                                           "as UTF-8 text)"])
    return text


# ---------------------------------------------------------------------------- building
def network_from_model(model: CompiledModel, *, name: str, source: str, title: str = "",
                       description: str = "", path: str = "<memory>",
                       notes: list[str] | None = None) -> Network:
    """A gmnet :class:`Network` with one ``table`` CPT per node of ``model`` (draw 0).

    Variable names that are not valid gmnet names (letters, digits, ``_``) are renamed; the
    original name becomes the node's label. Every change is listed in
    ``metadata["import_notes"]``, after ``notes``.
    """
    names = _safe_names(model.variables)
    notes = list(notes or [])
    nodes: dict[str, Any] = {}
    rescaled: list[str] = []
    problems: list[str] = []
    renamed = [v for v in model.variables if names[v] != v]
    if renamed:
        notes.append("names gmnet cannot use were renamed (the original is the label): "
                     + ", ".join(f"{v[:40]} -> {names[v]}" for v in renamed[:10])
                     + (f" and {len(renamed) - 10} more" if len(renamed) > 10 else ""))
    for v in model.variables:
        parents = [names[p] for p in model.parents[v]]
        rows = np.asarray(model.cpts[v][0], dtype=float).reshape(-1, model.card(v))
        rows = _rescaled_rows(names[v], rows, rescaled, problems)
        node: dict[str, Any] = {
            "states": _state_names(names[v], model.states[v], notes),
            "parents": parents,
            "role": "pathway" if parents else "context",
            "cpt": {"kind": "table", "rows": rows.tolist(), "source": source},
        }
        if names[v] != v:
            node["label"] = v
        nodes[names[v]] = node
    if problems:
        raise NetworkFileError(path, problems)
    if not title or title in _PLACEHOLDER_TITLES:
        title = name
    if rescaled:
        notes.append(f"rows whose probabilities summed to 1 within {IMPORT_SUM_TOLERANCE:g} (but "
                     "not within 1e-9) were rescaled to sum to 1, in: " + ", ".join(rescaled))
    data: dict[str, Any] = {"name": name, "title": title,
                            "description": description or f"{source}.", "nodes": nodes}
    if notes:
        data["metadata"] = {"import_notes": notes}
    return build_network(data, path)


def _rescaled_rows(name: str, rows: np.ndarray, rescaled: list[str],
                   problems: list[str]) -> np.ndarray:
    """Rows summing to 1 up to a file's rounding are rescaled; others are reported."""
    sums = rows.sum(axis=1)
    off = np.abs(sums - 1.0)
    if np.any(~np.isfinite(rows)) or np.any(rows < 0):
        problems.append(f"node {name!r}: the table has negative or non-numeric entries")
        return rows
    if np.any(off > IMPORT_SUM_TOLERANCE):
        k = int(np.argmax(off))
        problems.append(f"node {name!r}: row {k + 1} of the table sums to {sums[k]:.6g}, not 1")
        return rows
    if np.any(off > 1e-9):
        rescaled.append(name)
        return rows / sums[:, None]
    return rows


def build_network(data: dict, path: str) -> Network:
    """Validate ``data`` as a network file's contents (every problem reported at once)."""
    return network_from_dict(data, path=path)


def _safe_names(variables) -> dict[str, str]:
    taken: set[str] = set()
    out = {}
    for v in variables:
        out[v] = _safe_name(v, taken)
        taken.add(out[v])
    return out


def _safe_name(text: str, taken: set[str]) -> str:
    if _NAME.match(text) and len(text) <= 64 and text not in taken:
        return text
    base = re.sub(r"[^A-Za-z0-9_]", "_", text)[:60] or "node"
    if not (base[0].isalpha() or base[0] == "_"):
        base = "n_" + base[:58]
    candidate, k = base, 2
    while candidate in taken:
        candidate, k = f"{base}_{k}", k + 1
    return candidate


def _state_names(node: str, states, notes: list[str]) -> list[str]:
    out = []
    changed = []
    for s in states:
        original = str(s)
        s = original.strip() or "state"
        s = s[:MAX_STATE_CHARS]
        k = 2
        while s in out:
            s = f"{s[:MAX_STATE_CHARS - 6]}_{k}"
            k += 1
        if s != original:
            changed.append((original, s))
        out.append(s)
    if changed:
        notes.append(f"states of {node} renamed (gmnet keeps state names distinct, non-blank "
                     f"and at most {MAX_STATE_CHARS} characters): "
                     + "; ".join(f"{a[:30]!r}{'...' if len(a) > 30 else ''} -> {b[:30]!r}"
                                 for a, b in changed[:5]))
    return out
