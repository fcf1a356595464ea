"""Writing networks as gmnet YAML files that people read, diff and edit.

PyYAML's own dumper would work but writes long tables one number per line and cannot comment
them; this writer puts each CPT row on one line with the parent configuration it belongs to as a
comment, quotes only what YAML would otherwise misread (``yes``, ``no``, ``1e-05``, ...), and
writes every float so that it reads back as exactly the same number.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from gmnet.io.atomic import write_text
from gmnet.model import schema
from gmnet.model.network import Network

__all__ = ["network_yaml", "write_network_yaml", "spec_dict"]

_BARE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/ ]*$")
_ORDER = ("format", "name", "title", "description", "settings", "parameters", "nodes", "targets",
          "metadata")
_NODE_ORDER = ("label", "phase", "role", "states", "parents", "description", "cpt")
_WIDTH = 100


def spec_dict(network: Network | schema.NetworkFile) -> dict[str, Any]:
    """The network file as plain data. For a :class:`Network`, parameters carry the values,
    ranges and sources the network holds now (``with_parameters`` overrides included)."""
    spec = network.spec if isinstance(network, Network) else network
    data = spec.model_dump(mode="json", exclude_defaults=True)
    data = {"format": spec.format, **data}
    if isinstance(network, Network):
        for gname, group in data.get("parameters", {}).items():
            if "values" in group:
                for key, entry in group["values"].items():
                    _update_entry(entry, network.parameters[f"{gname}.{key}"])
            elif gname in network.parameters:
                _update_entry(group, network.parameters[gname])
    return data


def _update_entry(entry: dict, parameter) -> None:
    entry["value"] = parameter.value
    if parameter.low is not None:
        entry["range"] = [parameter.low, parameter.high]
    else:
        entry.pop("range", None)
    entry["source"] = parameter.source


def network_yaml(network: Network | schema.NetworkFile, *, header: str | None = None) -> str:
    """The text of a gmnet network file for ``network``.

    ``yaml.safe_load`` of the text validates to the same :class:`~gmnet.model.schema.NetworkFile`
    (floats included, bit for bit). ``header`` becomes a comment at the top.

    >>> import gmnet
    >>> text = network_yaml(gmnet.load_network())
    >>> gmnet.model.network.network_from_dict(yaml.safe_load(text)).query("harm") == \\
    ...     gmnet.load_network().query("harm")
    True
    """
    data = spec_dict(network)
    states = {name: node["states"] for name, node in data["nodes"].items()}
    lines: list[str] = []
    if header:
        lines += ["# " + line if line else "#" for line in header.splitlines()]
    for key in [k for k in _ORDER if k in data] + [k for k in data if k not in _ORDER]:
        value = data[key]
        if key == "nodes":
            lines.append("")
            lines.append("nodes:")
            for name, node in value.items():
                lines += _node_lines(name, node, states)
        elif key in ("parameters", "targets", "metadata", "settings") and value:
            lines.append("")
            lines += _block(key, value, 0)
        elif key not in ("parameters", "targets", "metadata", "settings"):
            lines += _block(key, value, 0)
    return "\n".join(lines) + "\n"


def write_network_yaml(network: Network | schema.NetworkFile, path: str | Path, *,
                       header: str | None = None) -> Path:
    """Write :func:`network_yaml` to ``path`` (atomically: never a half-written file)."""
    return write_text(path, network_yaml(network, header=header))


# ---------------------------------------------------------------------------- emitting
def _node_lines(name: str, node: dict, states: Mapping[str, list[str]]) -> list[str]:
    lines = [f"  {_key(name)}:"]
    keys = [k for k in _NODE_ORDER if k in node] + [k for k in node if k not in _NODE_ORDER]
    for key in keys:
        if key == "cpt" and node["cpt"].get("kind") == "table":
            lines += _table_lines(node, states)
        else:
            lines += _block(key, node[key], 4)
    return lines


def _table_lines(node: dict, states: Mapping[str, list[str]]) -> list[str]:
    cpt = node["cpt"]
    lines = ["    cpt:", "      kind: table"]
    for key in cpt:
        if key not in ("kind", "rows"):
            lines += _block(key, cpt[key], 6)
    parents = node.get("parents", [])
    configs = list(itertools.product(*[states[p] for p in parents])) if parents else [()]
    lines.append("      rows:" if cpt["rows"] else "      rows: []")
    own = ", ".join(str(s) for s in node["states"])
    for i, row in enumerate(cpt["rows"]):
        text = "        - " + _flow(row)
        if parents and i < len(configs):
            text += "  # " + ", ".join(f"{p}={s}" for p, s in zip(parents, configs[i],
                                                                    strict=True))
        elif not parents:
            text += f"  # P({own})"
        lines.append(text)
    return lines


def _block(key: str, value: Any, indent: int) -> list[str]:
    pad = " " * indent
    head = f"{pad}{_key(key)}:"
    if isinstance(value, Mapping):
        if not value:
            return [head + " {}"]
        flow = _flow(value)
        if _is_flat(value) and len(head) + 1 + len(flow) <= _WIDTH:
            return [f"{head} {flow}"]
        lines = [head]
        for k, v in value.items():
            lines += _block(str(k), v, indent + 2)
        return lines
    if isinstance(value, list | tuple):
        flow = _flow(value)
        if len(head) + 1 + len(flow) <= _WIDTH or all(not isinstance(v, Mapping | list | tuple)
                                                        for v in value):
            return [f"{head} {flow}"]
        lines = [head]
        for item in value:
            item_flow = _flow(item)
            if len(pad) + 4 + len(item_flow) <= _WIDTH or not isinstance(item, Mapping):
                lines.append(f"{pad}  - {item_flow}")
            else:
                sub = []
                for k, v in item.items():
                    sub += _block(str(k), v, indent + 4)
                sub[0] = f"{pad}  - " + sub[0].lstrip()
                lines += sub
        return lines
    return [f"{head} {_scalar(value)}"]


def _is_flat(value: Mapping) -> bool:
    return all(not isinstance(v, Mapping | list | tuple) or
               (isinstance(v, list | tuple) and all(not isinstance(x, Mapping | list | tuple)
                                                    for x in v))
               for v in value.values())


def _flow(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(str(k))}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def _key(text: str) -> str:
    return _scalar(text)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return yaml_float(value)
    text = str(value)
    if _BARE.match(text) and not text.endswith(" ") and ": " not in text and " #" not in text:
        try:
            if yaml.safe_load(text) == text:
                return text
        except yaml.YAMLError:  # pragma: no cover - the pattern admits only plain words
            pass
    return json.dumps(text, ensure_ascii=False)


def yaml_float(x: float) -> str:
    """A float as YAML 1.1 (PyYAML) reads back exactly: ``1e-05`` would be a string there."""
    if not math.isfinite(x):
        raise ValueError(f"{x} cannot be written to a network file")
    text = repr(float(x))
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        sign = exponent[0] if exponent[0] in "+-" else "+"
        text = f"{mantissa}e{sign}{exponent.lstrip('+-')}"
    return text
