"""Export networks to the formats other tools read, and import them back.

Formats: BIF (``.bif``), XMLBIF (``.xml``, ``.xmlbif``), Hugin/Netica NET (``.net``), GeNIe
XDSL (``.xdsl``) and UAI (``.uai``). BIF, XMLBIF, NET and XDSL go through pgmpy's readers and
writers (see :mod:`gmnet.inference.pgmpy_backend`); UAI through :mod:`gmnet.io.uai`.

An exported file holds the network at its point values: plain tables. Everything else (the
parameters with their ranges and sources, the CPT expressions, labels, descriptions, phases,
calibration targets, metadata, and state names a format cannot spell) goes to a *sidecar* JSON
file beside it, ``FILE.gmnet.json``. Importing the file with its sidecar gives back the original
network when the file's tables are unchanged; when the file was edited in another tool, the
edited tables win and the rest is restored where it still fits.

Every probability is written with the shortest decimal that reads back as the same float, so a
round trip reproduces each table bit for bit.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydantic

from gmnet.errors import InvalidArgumentError, NetworkFileError, UnknownNameError
from gmnet.io.atomic import check_destination, write_text
from gmnet.io.yaml_writer import spec_dict
from gmnet.model import schema
from gmnet.model.compiled import CompiledModel
from gmnet.model.network import MAX_FILE_BYTES, Network

__all__ = [
    "FORMATS",
    "EXTENSIONS",
    "SIDECAR_SUFFIX",
    "ExportResult",
    "export_network",
    "export_text",
    "import_network",
    "load_foreign",
    "format_of",
    "sidecar_path",
    "network_from_model",
]

FORMATS = ("bif", "xmlbif", "net", "xdsl", "uai")
EXTENSIONS = {".bif": "bif", ".xml": "xmlbif", ".xmlbif": "xmlbif", ".net": "net",
              ".xdsl": "xdsl", ".uai": "uai"}
_EXTENSION_OF = {"bif": ".bif", "xmlbif": ".xml", "net": ".net", "xdsl": ".xdsl", "uai": ".uai"}
FORMAT_NAMES = {"bif": "BIF", "xmlbif": "XMLBIF", "net": "Hugin NET", "xdsl": "GeNIe XDSL",
                "uai": "UAI"}
SIDECAR_SUFFIX = ".gmnet.json"
SIDECAR_KIND = "gmnet-sidecar/1"
MATCH_TOLERANCE = 1e-12
IMPORT_SUM_TOLERANCE = 1e-3

# names pgmpy's readers and writers put where a file has no network name
_PLACEHOLDER_TITLES = ("unknown", "bn_model", "MyNetwork", "UNTITLED")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# what each format can spell as a state name; others are renamed on export (the sidecar keeps
# the original). XMLBIF and XDSL want identifiers; BIF separates states by commas, braces or
# spaces; NET quotes them (no quotes, parentheses or backslashes inside).
_STATE_OK = {
    "bif": re.compile(r"^[^\s,{}();|\"']+$"),
    "xmlbif": re.compile(r"^[A-Za-z][A-Za-z0-9_]*$"),
    "net": re.compile(r"^[^\"()\\\n]+$"),
    "xdsl": re.compile(r"^[A-Za-z][A-Za-z0-9_]*$"),
    "uai": re.compile(r".*"),
}


# ============================================================================ format names
def format_of(path: str | Path) -> str | None:
    """The format a file name's extension stands for, or None (``.yaml`` is gmnet's own)."""
    return EXTENSIONS.get(Path(path).suffix.lower())


def sidecar_path(path: str | Path) -> Path:
    """Where the sidecar of ``path`` lives: the same name with ``.gmnet.json`` appended."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _check_format(fmt: str | None, path: str | Path | None) -> str:
    if fmt is None:
        if path is not None and format_of(path) is not None:
            return format_of(path)
        raise InvalidArgumentError(
            f"cannot tell the format of {path}: give one of {', '.join(FORMATS)} or use an "
            f"extension: {', '.join(EXTENSIONS)}")
    if fmt not in FORMATS:
        raise UnknownNameError("format", str(fmt), FORMATS)
    return fmt


# ============================================================================ export
@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_network` wrote."""

    path: Path
    format: str
    sidecar: Path | None
    renamed_states: dict[str, dict[str, str]]

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "format": self.format,
                "sidecar": None if self.sidecar is None else str(self.sidecar),
                "renamed_states": self.renamed_states}


def export_text(network: Network, format: str) -> str:  # noqa: A002 - the domain's word
    """The text of ``network`` (at its point values) in ``format``; no sidecar."""
    fmt = _check_format(format, None)
    model, _ = _file_model(network, fmt)
    return _model_text(model, fmt, network.name)


def export_network(network: Network, path: str | Path, *, format: str | None = None,  # noqa: A002
                   sidecar: bool = True, evidence: Mapping[str, str] | None = None
                   ) -> ExportResult:
    """Write ``network`` at its point values to ``path`` in ``format`` (default: from the
    extension), and, unless ``sidecar`` is False, everything the format cannot hold to
    ``path + ".gmnet.json"``.

    ``evidence`` (a scenario's observations, which no Bayesian-network file format can hold)
    is recorded in the sidecar. Both files are written atomically.

    >>> import gmnet, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> result = export_network(gmnet.load_network(), os.path.join(folder, "gm.bif"))
    >>> result.format, result.sidecar.name
    ('bif', 'gm.bif.gmnet.json')
    """
    if not isinstance(network, Network):
        raise InvalidArgumentError(f"expected a gmnet Network, got {type(network).__name__}")
    path = Path(path)
    fmt = _check_format(format, path)
    _check_export_name(fmt, path, given=format is not None)
    side = sidecar_path(path) if sidecar else None
    _check_destination(path, side)
    if evidence:
        from gmnet.inference.query import resolve_assignments

        resolve_assignments(network, evidence, what="evidence")
    model, renamed = _file_model(network, fmt)
    text = _model_text(model, fmt, network.name)
    if side is None:
        write_text(path, text)
    else:
        payload = _sidecar_payload(network, model, fmt, path, evidence or {})
        _write_together([(path, text),
                         (side, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")])
    return ExportResult(path, fmt, side, renamed)


def _check_export_name(fmt: str, path: Path, *, given: bool) -> None:
    """A format given explicitly must not contradict the file name's extension."""
    said = format_of(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        raise InvalidArgumentError(
            f"cannot export {fmt} to {str(path)!r}: a .yaml file is a gmnet network file; "
            f"name the file {path.with_suffix(_EXTENSION_OF[fmt]).name}")
    if given and said is not None and said != fmt:
        raise InvalidArgumentError(
            f"format {fmt} contradicts the file name {str(path)!r} (a {FORMAT_NAMES[said]} "
            f"file); leave the format out to write {said}, or name the file "
            f"{path.with_suffix(_EXTENSION_OF[fmt]).name}")


def _check_destination(path: Path, side: Path | None) -> None:
    """Before anything is computed: the folder exists and neither file name is a folder."""
    check_destination(path)
    if side is not None and side.is_dir():
        raise InvalidArgumentError(f"cannot write the sidecar {side} of {path}: it is a folder")


def _write_together(files: list[tuple[Path, str]]) -> None:
    """Write each (path, text) to a temporary file beside it, then rename them in order.

    Nothing is replaced until every file is fully written, and the first (the network file)
    lands before the second (its sidecar): a failure never leaves a sidecar without its file
    or a half-written file.
    """
    umask = os.umask(0)
    os.umask(umask)
    temps: list[Path] = []
    try:
        for target, text in files:
            folder = target.parent if str(target.parent) else Path(".")
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix,
                                       dir=folder)
            temps.append(Path(tmp))
            with os.fdopen(fd, "wb") as handle:
                handle.write(text.encode("utf-8"))
            os.chmod(tmp, 0o666 & ~umask)  # what a plain open() would give
        for (target, _), tmp in zip(files, temps, strict=True):
            os.replace(tmp, target)
    finally:
        for tmp in temps:
            if tmp.exists():
                tmp.unlink()


def _file_model(network: Network, fmt: str) -> tuple[CompiledModel, dict[str, dict[str, str]]]:
    """The network's point model with state names the format can spell."""
    ok = _STATE_OK[fmt]
    base = network.compiled
    states: dict[str, tuple[str, ...]] = {}
    renamed: dict[str, dict[str, str]] = {}
    for v in base.variables:
        original = base.states[v]
        new = _spellable(original, ok)
        states[v] = new
        if new != original:
            renamed[v] = {a: b for a, b in zip(original, new, strict=True) if a != b}
    cpts = {v: np.asarray(base.cpts[v][:1]) for v in base.variables}
    return CompiledModel(base.variables, states, base.parents, cpts), renamed


def _spellable(states: tuple[str, ...], ok: re.Pattern) -> tuple[str, ...]:
    if all(ok.match(s) for s in states):
        return states
    out: list[str] = []
    for s in states:
        if ok.match(s) and s not in out:
            out.append(s)
            continue
        base = re.sub(r"[^A-Za-z0-9_]", "_", s).strip("_") or "state"
        if not base[0].isalpha():
            base = "s_" + base
        name, k = base, 2
        while name in out or name in states:
            name, k = f"{base}_{k}", k + 1
        out.append(name)
    return tuple(out)


def _model_text(model: CompiledModel, fmt: str, name: str) -> str:
    if fmt == "uai":
        from gmnet.io.uai import uai_text

        return uai_text(model)
    from gmnet.inference.pgmpy_backend import model_file_text

    return model_file_text(model, fmt, name=name)


def _sidecar_payload(network: Network, model: CompiledModel, fmt: str, path: Path,
                     evidence: Mapping[str, str]) -> dict[str, Any]:
    file_names = _uai_names(model) if fmt == "uai" else {v: v for v in model.variables}
    return {
        "kind": SIDECAR_KIND,
        "note": ("Written by gmnet export beside " + path.name + ": what the " +
                 FORMAT_NAMES[fmt] + " file cannot hold. gmnet import (or --network) reads it "
                 "back; delete it to import the file alone."),
        "file": path.name,
        "format": fmt,
        "exported_from": Path(network.path).name,
        "variables": [
            {"name": v, "in_file": file_names[v], "states": list(network.states(v)),
             "states_in_file": ([f"s{k}" for k in range(model.card(v))] if fmt == "uai"
                                else list(model.states[v]))}
            for v in model.variables
        ],
        "evidence": dict(evidence),
        "network": spec_dict(network),
    }


def _uai_names(model: CompiledModel) -> dict[str, str]:
    return {v: f"v{i}" for i, v in enumerate(model.variables)}


# ============================================================================ import
def import_network(path: str | Path, *, format: str | None = None,  # noqa: A002
                   sidecar: bool | str | Path = True, name: str | None = None) -> Network:
    """Read a network file of another tool as a gmnet :class:`Network`.

    Parameters
    ----------
    path : the file (BIF, XMLBIF, NET, XDSL or UAI).
    format : one of :data:`FORMATS`; default from the extension.
    sidecar : True to use ``path + ".gmnet.json"`` when it exists, a path to use that file,
        False to ignore any sidecar.
    name : the network's name (default: from the file name).

    Returns
    -------
    Network
        Without a sidecar: one ``table`` CPT per node, sourced "imported from <file name>".
        With a sidecar whose tables match the file: the network as it was exported.

    >>> import gmnet, tempfile, os
    >>> target = os.path.join(tempfile.mkdtemp(), "gm.xdsl")
    >>> _ = export_network(gmnet.load_network(), target)
    >>> import_network(target).spec == gmnet.load_network().spec
    True
    """
    path = Path(path)
    fmt = _check_format(format, path)
    text = _read_text(path)
    model, file_name = _parse(text, fmt, path)
    side_file = None
    if sidecar is True:
        candidate = sidecar_path(path)
        side_file = candidate if candidate.is_file() else None
    elif sidecar:
        side_file = Path(sidecar)
        if not side_file.is_file():
            raise InvalidArgumentError(f"no such sidecar file: {side_file}")
    net_name = name or _safe_name(path.name.split(".")[0], set()) or "imported"
    if name is not None and not _NAME.match(name):
        raise InvalidArgumentError(f"network name {name!r} is not valid: use letters, digits "
                                   "and _, starting with a letter or _")
    if side_file is not None:
        return _with_sidecar(model, _read_sidecar(side_file), path, net_name, name is not None)
    return network_from_model(model, name=net_name, source=f"imported from {path.name}",
                              title=file_name or "", path=str(path))


def load_foreign(path: str | Path) -> Network:
    """:func:`import_network` with its sidecar, cached while neither file changes (what
    ``load_network`` and ``--network`` use for other tools' files)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidArgumentError(f"no such file: {path}")
    side = sidecar_path(path)
    key = (str(path.resolve()), path.stat().st_mtime_ns,
           side.stat().st_mtime_ns if side.is_file() else None)
    if key not in _FOREIGN_CACHE:
        if len(_FOREIGN_CACHE) > 32:
            _FOREIGN_CACHE.clear()
        _FOREIGN_CACHE[key] = import_network(path)
    return _FOREIGN_CACHE[key]


_FOREIGN_CACHE: dict[tuple, Network] = {}


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise InvalidArgumentError(f"no such file: {path}")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise NetworkFileError(str(path), [f"file is {size} bytes; the limit is {MAX_FILE_BYTES}"])
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # older Hugin and Netica files are Windows-1252 / Latin-1


def _parse(text: str, fmt: str, path: Path) -> tuple[CompiledModel, str | None]:
    try:
        if fmt == "uai":
            from gmnet.io.uai import parse_uai

            return parse_uai(text), None
        if fmt == "xdsl":
            text = _xdsl_prepare(text)
        if fmt == "net":
            _net_check(text)
        from gmnet.inference.pgmpy_backend import parse_model_text

        file_name, model = parse_model_text(text, fmt)
    except ValueError as exc:
        raise NetworkFileError(str(path), [f"not a valid {FORMAT_NAMES[fmt]} file: {exc}"]
                               ) from None
    return model, file_name


_NET_UNSUPPORTED = re.compile(
    r"^\s*(class\s+\w+|decision\s+\w+|utility\s+\w+|continuous\s+node|function\s+node)",
    re.MULTILINE)


def _net_check(text: str) -> None:
    """Hugin NET files can hold more than a Bayesian network of discrete chance nodes; name what
    gmnet cannot read instead of letting the reader misparse it."""
    found = _NET_UNSUPPORTED.search(text)
    if found:
        what = " ".join(found.group(1).split()[:2])
        raise ValueError(f"'{what}': gmnet reads discrete chance nodes only (no object-oriented "
                         "classes, decision, utility, continuous or function nodes)")


def _xdsl_prepare(text: str) -> str:
    """GeNIe XDSL may hold node kinds pgmpy does not read. ``deterministic`` nodes become the
    equivalent 0/1 ``cpt``; others (noisy-MAX, equations, decisions, utilities) are reported."""
    import xml.etree.ElementTree as etree

    try:
        root = etree.fromstring(text.encode("utf-8"))
    except etree.ParseError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from None
    nodes = root.find("nodes")
    if nodes is None:
        raise ValueError("no <nodes> element")
    states_of: dict[str, list[str]] = {}
    changed = False
    for elem in list(nodes):
        ident = elem.attrib.get("id", "?")
        states_of[ident] = [s.attrib.get("id", "") for s in elem.findall("state")]
        if elem.tag == "cpt":
            continue
        if elem.tag != "deterministic":
            raise ValueError(
                f"node {ident} is a <{elem.tag}> node; gmnet reads chance nodes with a CPT "
                "(<cpt>) or <deterministic> nodes: in GeNIe convert it to a general chance node")
        own = states_of[ident]
        parent_elem = elem.find("parents")
        parents = parent_elem.text.split() if parent_elem is not None and parent_elem.text else []
        result = elem.find("resultingstates")
        picks = result.text.split() if result is not None and result.text else []
        rows = 1
        for p in parents:
            rows *= len(states_of.get(p, []))
        if len(picks) != rows or any(s not in own for s in picks):
            raise ValueError(f"deterministic node {ident}: resultingstates must name one of its "
                             f"states for each of the {rows} parent configurations")
        probabilities = []
        for pick in picks:
            probabilities += ["1" if s == pick else "0" for s in own]
        elem.tag = "cpt"
        if result is not None:
            elem.remove(result)
        etree.SubElement(elem, "probabilities").text = " ".join(probabilities)
        changed = True
    return etree.tostring(root, encoding="unicode") if changed else text


# ---------------------------------------------------------------------------- building
def network_from_model(model: CompiledModel, *, name: str, source: str, title: str = "",
                       description: str = "", path: str = "<memory>") -> Network:
    """A gmnet :class:`Network` with one ``table`` CPT per node of ``model`` (draw 0).

    Variable names that are not valid gmnet names (letters, digits, ``_``) are renamed; the
    original name becomes the node's label.
    """
    names = _safe_names(model.variables)
    nodes: dict[str, Any] = {}
    rescaled: list[str] = []
    problems: list[str] = []
    for v in model.variables:
        parents = [names[p] for p in model.parents[v]]
        rows = np.asarray(model.cpts[v][0], dtype=float).reshape(-1, model.card(v))
        rows = _rescaled_rows(names[v], rows, rescaled, problems)
        node: dict[str, Any] = {
            "states": _state_names(model.states[v]),
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
    data: dict[str, Any] = {"name": name, "title": title,
                            "description": description or f"{source}.", "nodes": nodes}
    if rescaled:
        data["metadata"] = {"import_notes": [
            f"rows whose probabilities summed to 1 within {IMPORT_SUM_TOLERANCE:g} (but not "
            "within 1e-9) were rescaled to sum to 1, in: " + ", ".join(rescaled)]}
    return _build(data, path)


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


def _build(data: dict, path: str) -> Network:
    try:
        spec = schema.NetworkFile.model_validate(data)
    except pydantic.ValidationError as exc:
        from gmnet.model.network import _pydantic_problems

        raise NetworkFileError(path, _pydantic_problems(exc)) from None
    return Network(spec, path=path)


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


def _state_names(states) -> list[str]:
    out = []
    for s in states:
        s = str(s).strip() or "state"
        s = s[:64]
        while s in out:
            s = s[:60] + "_" + str(len(out))
        out.append(s)
    return out


# ---------------------------------------------------------------------------- sidecar
def _read_sidecar(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NetworkFileError(str(path), [f"not a readable sidecar JSON file: {exc}"]) from None
    problems = []
    if not isinstance(data, dict) or data.get("kind") != SIDECAR_KIND:
        problems.append(f"not a gmnet sidecar (expected \"kind\": \"{SIDECAR_KIND}\")")
    elif not isinstance(data.get("variables"), list) or not isinstance(data.get("network"), dict):
        problems.append("missing 'variables' or 'network'")
    if problems:
        raise NetworkFileError(str(path), problems)
    return data


def _with_sidecar(model: CompiledModel, side: dict, path: Path, name: str,
                  name_given: bool) -> Network:
    notes: list[str] = []
    model = _rename_from_sidecar(model, side, notes)
    original_data = dict(side["network"])
    if name_given:
        original_data["name"] = name
    try:
        original = _build(original_data, str(path))
    except NetworkFileError as exc:
        notes.append("the sidecar's network is not valid (" + exc.one_line() + "); ignored")
        return _annotated(network_from_model(model, name=name, source=f"imported from "
                                             f"{path.name}", path=str(path)), notes)
    same_structure = (
        set(original.variables) == set(model.variables)
        and all(original.states(v) == model.states[v] and original.parents(v) == model.parents[v]
                for v in original.variables)
    )
    if not same_structure:
        notes.append("the file's variables, states or parents differ from the sidecar's; "
                     "labels and descriptions restored for the nodes that still match")
        return _annotated(_tables_with_metadata(model, original, path, name), notes)
    changed = [v for v in original.variables if not _same(original.cpt(v), model.cpts[v][0])]
    if not changed:
        return original
    mixed = _mixed(original, model, changed, path)
    if mixed is not None:
        notes.append("tables edited since export, kept from the file: " + ", ".join(changed))
        return _annotated(mixed, notes)
    notes.append("tables edited since export (" + ", ".join(changed) + ") change other nodes' "
                 "computed tables; every node imported as a table, descriptions restored")
    return _annotated(_tables_with_metadata(model, original, path, name), notes)


def _rename_from_sidecar(model: CompiledModel, side: dict, notes: list[str]) -> CompiledModel:
    entries = [e for e in side["variables"] if isinstance(e, dict)]
    by_file = {e.get("in_file"): e for e in entries}
    if set(by_file) != set(model.variables):
        notes.append("the sidecar lists other variables than the file; names kept as in the file")
        return model
    rename = {v: str(by_file[v]["name"]) for v in model.variables}
    states = {}
    for v in model.variables:
        entry = by_file[v]
        in_file = [str(s) for s in entry.get("states_in_file", [])]
        if in_file == list(model.states[v]) and len(entry.get("states", [])) == len(in_file):
            states[rename[v]] = tuple(str(s) for s in entry["states"])
        else:
            states[rename[v]] = model.states[v]
    return CompiledModel(
        tuple(rename[v] for v in model.variables), states,
        {rename[v]: tuple(rename[p] for p in model.parents[v]) for v in model.variables},
        {rename[v]: model.cpts[v] for v in model.variables},
    )


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and float(np.max(np.abs(a - b), initial=0.0)) <= MATCH_TOLERANCE


def _mixed(original: Network, model: CompiledModel, changed: list[str],
           path: Path) -> Network | None:
    data = spec_dict(original)
    for v in changed:
        rows = np.asarray(model.cpts[v][0]).reshape(-1, model.card(v)).tolist()
        data["nodes"][v]["cpt"] = {"kind": "table", "rows": rows,
                                   "source": f"imported from {path.name} (edited after export)"}
    try:
        net = _build(data, str(path))
    except NetworkFileError:
        return None
    if all(_same(net.cpt(v), model.cpts[v][0]) for v in net.variables):
        return net
    return None


def _tables_with_metadata(model: CompiledModel, original: Network, path: Path,
                          name: str) -> Network:
    plain = network_from_model(model, name=name, source=f"imported from {path.name}",
                               title=original.title, description=original.description,
                               path=str(path))
    data = spec_dict(plain)
    for v, node in data["nodes"].items():
        if v in original.variables and tuple(node["states"]) == original.states(v):
            old = original.node(v)
            for key in ("label", "description", "phase", "role"):
                value = getattr(old, key)
                if value:
                    node[key] = value
    data["metadata"] = original.metadata
    names = set(plain.variables)
    data["targets"] = [t.model_dump(mode="json", exclude_defaults=True)
                       for t in original.spec.targets
                       if {t.target, *t.evidence, *t.do} <= names]
    return _build(data, str(path))


def _annotated(net: Network, notes: list[str]) -> Network:
    if not notes:
        return net
    data = spec_dict(net)
    data.setdefault("metadata", {})
    data["metadata"] = {**data["metadata"], "import_notes": notes}
    return _build(data, net.path)
