"""Writing a network for other tools: :func:`export_network`, :func:`export_text`.

An exported file holds the network at its point values: plain tables. Everything else (the
parameters with their ranges and sources, the CPT expressions, labels, descriptions, phases,
calibration targets, metadata, and state names a format cannot spell) goes to a *sidecar* JSON
file beside it, ``FILE.gmnet.json`` (see :mod:`gmnet.io.sidecar`).

Every probability is written with the shortest decimal that reads back as the same float, so a
round trip reproduces each table bit for bit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gmnet.errors import InvalidArgumentError
from gmnet.io.atomic import check_destination, write_text, write_together
from gmnet.io.registry import (
    EXTENSION_OF,
    FORMAT_NAMES,
    SIDECAR_KIND,
    check_format,
    format_of,
    sidecar_path,
)
from gmnet.io.sidecar_hash import stamp
from gmnet.io.yaml_writer import spec_dict
from gmnet.model.compiled import CompiledModel
from gmnet.model.network import Network

__all__ = ["ExportResult", "export_network", "export_text", "READER_WARNINGS"]

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

@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_network` wrote."""

    path: Path
    format: str
    sidecar: Path | None
    renamed_states: dict[str, dict[str, str]]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "format": self.format,
                "sidecar": None if self.sidecar is None else str(self.sidecar),
                "renamed_states": self.renamed_states, "warnings": list(self.warnings)}


def export_text(network: Network, format: str) -> str:  # noqa: A002 - the domain's word
    """The text of ``network`` (at its point values) in ``format``; no sidecar."""
    fmt = check_format(format, None, writing=True)
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
    fmt = check_format(format, path, writing=True)
    _check_export_name(fmt, path, given=format is not None)
    side = sidecar_path(path) if sidecar else None
    _check_destination(path, side)
    if evidence:
        from gmnet.model.assignments import resolve_assignments

        resolve_assignments(network, evidence, what="evidence")
    model, renamed = _file_model(network, fmt)
    text = _model_text(model, fmt, network.name)
    if side is None:
        write_text(path, text)
    else:
        # the sidecar records its file's hash: a reader never pairs a new file with an old one
        payload = stamp(_sidecar_payload(network, model, fmt, path, evidence or {}), text)
        write_together([(path, text),
                        (side, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")])
    return ExportResult(path, fmt, side, renamed, reader_warnings(network, fmt))


#: Readers known to misread a format gmnet writes to its specification (checked with
#: pyAgrum 3.3.1: it lists multi-parent tables with the first parent fastest in XDSL and UAI,
#: where GeNIe and the UAI specification list the last fastest).
READER_WARNINGS = {
    "xdsl": "pyAgrum 3.3.1 reads multi-parent XDSL tables in the wrong order (first parent "
            "fastest, unlike GeNIe): for pyAgrum use BIF, XMLBIF or NET",
    "uai": "pyAgrum 3.3.1 reads multi-parent UAI tables in the wrong order (first parent "
           "fastest, unlike the UAI specification): for pyAgrum use BIF, XMLBIF or NET",
}


def reader_warnings(network: Network, fmt: str) -> tuple[str, ...]:
    """What a well-known reader gets wrong in this file (only when the network has a node with
    two or more parents, where the order of a table matters)."""
    if fmt in READER_WARNINGS and any(len(network.parents(v)) > 1 for v in network.variables):
        return (READER_WARNINGS[fmt],)
    return ()


def _check_export_name(fmt: str, path: Path, *, given: bool) -> None:
    """A format given explicitly must not contradict the file name's extension."""
    said = format_of(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        raise InvalidArgumentError(
            f"cannot export {fmt} to {str(path)!r}: a .yaml file is a gmnet network file; "
            f"name the file {path.with_suffix(EXTENSION_OF[fmt]).name}")
    if given and said is not None and said != fmt:
        raise InvalidArgumentError(
            f"format {fmt} contradicts the file name {str(path)!r} (a {FORMAT_NAMES[said]} "
            f"file); leave the format out to write {said}, or name the file "
            f"{path.with_suffix(EXTENSION_OF[fmt]).name}")


def _check_destination(path: Path, side: Path | None) -> None:
    """Before anything is computed: the folder exists and neither file name is a folder."""
    check_destination(path)
    if side is not None and side.is_dir():
        raise InvalidArgumentError(f"cannot write the sidecar {side} of {path}: it is a folder")


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


