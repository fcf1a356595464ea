"""Importing a file with the sidecar ``gmnet export`` wrote beside it.

The sidecar (``FILE.gmnet.json``) holds what the file's format cannot: the network as gmnet
had it (parameters with ranges and sources, CPT expressions, labels, targets) and the names of
variables and states the format could not spell. When the file's tables still match the
sidecar's network, that network comes back unchanged; when the file was edited in another tool,
the edited tables win and the rest is restored where it still fits, with import notes saying so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gmnet.errors import NetworkFileError
from gmnet.io.importing import build_network, network_from_model
from gmnet.io.registry import SIDECAR_KIND
from gmnet.io.sidecar_hash import loads_strict
from gmnet.io.yaml_writer import spec_dict
from gmnet.model.compiled import CompiledModel
from gmnet.model.network import Network

__all__ = ["read_sidecar", "with_sidecar", "MATCH_TOLERANCE"]

MATCH_TOLERANCE = 1e-12


def read_sidecar(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NetworkFileError(str(path), [f"not a readable sidecar JSON file: {exc}"]) from None
    data = loads_strict(text, path=str(path))  # duplicate keys and deep nesting refused
    problems = []
    if not isinstance(data, dict) or data.get("kind") != SIDECAR_KIND:
        problems.append(f"not a gmnet sidecar (expected \"kind\": \"{SIDECAR_KIND}\")")
    elif not isinstance(data.get("variables"), list) or not isinstance(data.get("network"), dict):
        problems.append("missing 'variables' or 'network'")
    if problems:
        raise NetworkFileError(str(path), problems)
    return data


def with_sidecar(model: CompiledModel, side: dict, path: Path, name: str,
                  name_given: bool) -> Network:
    notes: list[str] = []
    model = _rename_from_sidecar(model, side, notes)
    original_data = dict(side["network"])
    if name_given:
        original_data["name"] = name
    try:
        original = build_network(original_data, str(path))
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
        net = build_network(data, str(path))
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
    return build_network(data, str(path))


def _annotated(net: Network, notes: list[str]) -> Network:
    if not notes:
        return net
    data = spec_dict(net)
    data.setdefault("metadata", {})
    data["metadata"] = {**data["metadata"], "import_notes": notes}
    return build_network(data, net.path)
