"""Give every CPT entry of a network a range, so the uncertainty and sensitivity analyses work on
networks that come as plain tables (imported files, the classic networks).

:func:`with_uniform_cpt_ranges` turns each node's table into parameters: one parameter group per
row (parent configuration), keyed by the node's states, each entry a non-negative weight whose
range is the point value +- a relative amount. The node's CPT becomes an expression that picks
the row's weights and divides by their sum, so every draw is a proper distribution (each row
renormalised) and the point values reproduce the original tables.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from gmnet.errors import InvalidArgumentError, UnknownNameError
from gmnet.io.yaml_writer import spec_dict
from gmnet.model import schema
from gmnet.model.network import Network

__all__ = ["with_uniform_cpt_ranges", "cpt_group_name"]


def cpt_group_name(node: str, row: int) -> str:
    """The parameter group holding row ``row`` (0-based) of ``node``'s table: ``t_<node>_<row>``
    (shortened to stay within gmnet's 64-character names)."""
    name = f"t_{node}_{row}"
    if len(name) > 64:
        name = f"t_{node[: 64 - len(str(row)) - 3]}_{row}"
    return name


def with_uniform_cpt_ranges(network: Network, relative: float = 0.2, *,
                            nodes: list[str] | None = None, source: str | None = None) -> Network:
    """A new network whose CPT entries are ranged parameters: point value ``p``, range
    ``[p * (1 - relative), p * (1 + relative)]`` (to 12 significant digits), each row
    renormalised.

    Parameters
    ----------
    network : any network; its point-value CPTs are used, whatever their kind.
    relative : the half-width of each range as a fraction of the value (0.2 = +-20%).
    nodes : only these nodes (default: every node). The others keep their CPT as a table.
    source : the source given to the ranges (default: an "assumption: ..." naming ``relative``).

    Returns
    -------
    Network
        Same structure, targets and metadata; the original parameters are dropped (the
        tables are now the parameters). Zero entries stay zero (range [0, 0]).

    >>> from gmnet.io.classic import classic_network
    >>> asia = classic_network("asia")
    >>> ranged = with_uniform_cpt_ranges(asia, 0.2)
    >>> ranged.parameter("t_tub_0.yes").low, ranged.parameter("t_tub_0.yes").high
    (0.04, 0.06)
    >>> abs(ranged.query("dysp")["yes"] - asia.query("dysp")["yes"]) < 1e-12
    True
    """
    if not isinstance(network, Network):
        raise InvalidArgumentError(f"expected a gmnet Network, got {type(network).__name__}")
    if isinstance(relative, bool) or not isinstance(relative, int | float) or not (
            0.0 <= float(relative) < 1.0):
        raise InvalidArgumentError(f"relative range must be a number in [0, 1), got {relative!r}"
                                   " (0.2 means +-20%)")
    chosen = list(network.variables) if nodes is None else list(nodes)
    for v in chosen:
        if v not in network.variables:
            raise UnknownNameError("variable", str(v), network.variables)
    relative = float(relative)
    note = source or f"assumption: uniform +-{relative:.0%}, each row renormalised"
    data = spec_dict(network)
    data["parameters"] = {}
    for v in network.variables:
        node = data["nodes"][v]
        table = network.cpt(v)
        rows = table.reshape(-1, table.shape[-1])
        origin = getattr(network.node(v).cpt, "source", None) or f"the {network.name} network"
        if v not in chosen:
            node["cpt"] = {"kind": "table", "rows": rows.tolist(), "source": origin}
            continue
        parents = list(network.parents(v))
        states = list(network.states(v))
        configs = list(itertools.product(*[network.states(p) for p in parents]))
        for r, row in enumerate(rows):
            given = ", ".join(f"{p}={s}" for p, s in zip(parents, configs[r], strict=True))
            data["parameters"][cpt_group_name(v, r)] = {
                "description": f"weights of P({v} | {given})" if given else f"weights of P({v})",
                "unit": "multiplier",
                "index": v,
                "values": {s: _entry(float(p), relative, v, note)
                           for s, p in zip(states, row, strict=True)},
            }
        node["cpt"] = {
            "kind": "prior" if not parents else "expression",
            "probabilities": {s: _selector(v, s, parents, network, states) for s in states},
            "source": f"{origin}; {note}",
        }
    try:
        spec = schema.NetworkFile.model_validate(data)
    except Exception as exc:  # pragma: no cover - the data above is built to be valid
        raise InvalidArgumentError(f"cannot give {network.name} ranged CPTs: {exc}") from None
    return Network(spec, path=network.path)


def _entry(p: float, relative: float, node: str, note: str) -> dict[str, Any]:
    # ranges rounded to 12 significant digits (0.16, not 0.16000000000000003), still around p
    low = min(float(f"{p * (1.0 - relative):.12g}"), p)
    high = max(float(f"{p * (1.0 + relative):.12g}"), p)
    entry: dict[str, Any] = {"value": p,
                             "source": f"the table of {node} (its source); range: {note}"}
    if high > low:
        entry["range"] = [low, high]
    return entry


def _selector(v: str, state: str, parents: list[str], network: Network,
              states: list[str]) -> str:
    """The expression for P(v=state | parents): a nested ``where`` over the parents' states whose
    leaves are the row's normalised weight."""
    cards = [len(network.states(p)) for p in parents]

    def leaf(row: int) -> str:
        group = cpt_group_name(v, row)
        total = " + ".join(f"{group}[{s!r}]" for s in states)
        return f"{group}[{state!r}] / ({total})"

    def tree(level: int, offset: int) -> str:
        if level == len(parents):
            return leaf(offset)
        p = parents[level]
        stride = int(np.prod(cards[level + 1:])) if level + 1 < len(cards) else 1
        options = network.states(p)
        expr = tree(level + 1, offset + (len(options) - 1) * stride)
        for k in range(len(options) - 2, -1, -1):
            expr = (f"where({p} == {options[k]!r}, {tree(level + 1, offset + k * stride)}, "
                    f"{expr})")
        return expr

    return tree(0, 0)
