"""A node's CPT for people: its formula as the network file writes it, and the table with every
row labelled by its parents' states.

>>> import gmnet
>>> net = gmnet.load_network()
>>> cpt_formula(net, "capability_transfer")
['P(yes) = p_capability_transfer[shift_type]', 'P(no) = 1 - P(yes)']
>>> parents, states, rows = cpt_rows(net, "capability_transfer")
>>> parents, states, rows[-1]
(('shift_type',), ('yes', 'no'), (('extreme',), (0.45, 0.55)))
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from gmnet.errors import GmnetError

if TYPE_CHECKING:
    from gmnet.model.network import Network

__all__ = ["cpt_formula", "cpt_rows", "cpt_frame", "require_pandas"]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def cpt_formula(network: Network, variable: str) -> list[str]:
    """How the network file defines ``variable``'s CPT, one line per state (or per part)."""
    node = network.node(variable)
    cpt = node.cpt
    if cpt.kind == "uniform":
        return [f"uniform: each of {len(node.states)} states 1/{len(node.states)}"]
    if cpt.kind in ("prior", "expression"):
        lines = []
        rest = None
        for state, expr in cpt.probabilities.items():
            if expr == "rest":
                rest = state
                continue
            lines.append(f"P({state}) = {_one_line(expr)}")
        if rest is not None:
            others = [s for s in cpt.probabilities if s != rest]
            lines.append(f"P({rest}) = 1 - " + " - ".join(f"P({s})" for s in others))
        return lines
    if cpt.kind == "calibrated_route":
        other = [s for s in node.states if s != cpt.state]
        return [f"P({cpt.state}) = {_one_line(cpt.target)}",
                f"  routed through: {_one_line(cpt.route)} (share {cpt.route_share}; see "
                "docs/model.md, calibrated route)",
                *(f"P({s}) = 1 - P({cpt.state})" for s in other[:1])]
    if cpt.kind == "table":
        return [f"an explicit table of {len(cpt.rows)} rows"]
    return [cpt.kind]  # pragma: no cover - every kind is listed above


def cpt_rows(network: Network, variable: str):
    """``(parents, states, rows)``: each row is ``(parent states, probabilities)`` at the point
    values, parents in the node's order (the last varies fastest)."""
    parents = network.parents(variable)
    states = network.states(variable)
    table = network.cpt(variable)
    rows = []
    for combo in itertools.product(*(range(len(network.states(p))) for p in parents)):
        labels = tuple(network.states(p)[i] for p, i in zip(parents, combo, strict=True))
        rows.append((labels, tuple(round(float(x), 15) for x in table[combo])))
    return parents, states, rows


def require_pandas():
    """The pandas module, or an error saying how to install it."""
    try:
        import pandas
    except ImportError:
        raise GmnetError("tables as DataFrames need pandas; install it with pip install pandas "
                         "(or pip install 'gmnet[analysis]')") from None
    return pandas


def cpt_frame(network: Network, variable: str) -> Any:
    """``variable``'s CPT as a pandas DataFrame: one row per combination of parent states
    (a MultiIndex named by the parents; ``prior`` for a root node), one column per state."""
    pd = require_pandas()
    parents, states, rows = cpt_rows(network, variable)
    data = [list(p) for _, p in rows]
    if parents:
        index = pd.MultiIndex.from_tuples([labels for labels, _ in rows], names=list(parents))
        if len(parents) == 1:
            index = pd.Index([labels[0] for labels, _ in rows], name=parents[0])
    else:
        index = pd.Index(["prior"], name="")
    frame = pd.DataFrame(data, index=index, columns=pd.Index(list(states), name=variable))
    frame.attrs["formula"] = cpt_formula(network, variable)
    frame.attrs["source"] = getattr(network.node(variable).cpt, "source", None)
    return frame
