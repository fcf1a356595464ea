"""What the web API says about a network: its default question and its full description.

:func:`default_target` is the node a page asks about first; :func:`describe_network` is the
body of ``GET /api/networks/{name}`` (what ``gmnet show --json`` prints): nodes, states,
parents, roles, CPT sources, and every number with its source.
"""

from __future__ import annotations

from typing import Any

from gmnet.analysis.whatif import neutral_context
from gmnet.model.expressions import names_used
from gmnet.model.network import Network

__all__ = ["default_target", "describe_network"]


def default_target(net: Network) -> str:
    """The node a page about ``net`` asks about first: ``harm``, else an outcome, else the last."""
    if "harm" in net.variables:
        return "harm"
    outcomes = [v for v in net.variables if net.node(v).role == "outcome"]
    return outcomes[-1] if outcomes else net.variables[-1]


def describe_network(net: Network) -> dict[str, Any]:
    """Nodes (states, parents, role, CPT source, the parameters each uses) and every number."""
    target = default_target(net)
    states = net.states(target)
    return {
        "name": net.name, "title": net.title, "description": net.description,
        "rule": net.rule, "default_target": target,
        "default_state": "yes" if "yes" in states else states[0],
        "neutral_context": neutral_context(net),
        "nodes": [_node_info(net, v) for v in net.variables],
        "parameters": [_parameter_info(net, p) for p in net.parameters.values()],
    }


def _node_info(net: Network, var: str) -> dict[str, Any]:
    node = net.node(var)
    groups = _groups_used(node)
    return {"name": var, "label": node.label or var, "description": node.description,
            "states": list(node.states), "parents": list(net.parents(var)),
            "phase": node.phase, "role": node.role, "cpt_kind": node.cpt.kind,
            "source": getattr(node.cpt, "source", None),
            "parameters": [p.name for p in net.parameters.values() if p.group in groups]}


def _groups_used(node) -> set[str]:
    cpt = node.cpt
    texts: list[str] = []
    if cpt.kind in ("prior", "expression"):
        texts = [t for t in cpt.probabilities.values() if isinstance(t, str) and t != "rest"]
    elif cpt.kind == "calibrated_route":
        texts = [cpt.target, cpt.route]
        if isinstance(getattr(cpt, "route_share", None), str):
            texts.append(cpt.route_share)
    groups: set[str] = set()
    for text in texts:
        groups |= set(names_used(text))
    return groups


def _parameter_info(net: Network, p) -> dict[str, Any]:
    spec = net.spec.parameters.get(p.group) if hasattr(net.spec, "parameters") else None
    description = getattr(spec, "description", None) if spec is not None else None
    return {"name": p.name, "value": p.value,
            "range": None if p.low is None else [p.low, p.high], "source": p.source,
            "unit": p.unit, "assumption": p.is_assumption,
            "description": " ".join(description.split()) if description else None}
