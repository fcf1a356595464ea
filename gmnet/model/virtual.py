"""Soft evidence as network structure: a virtual observed child per soft finding (the batched
engine's way to take likelihoods; see :mod:`gmnet.model.soft_evidence`). Returns a new network;
the given one is never changed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from gmnet.errors import InvalidArgumentError
from gmnet.model import schema
from gmnet.model.checks import _collect_parameters
from gmnet.model.network import Network
from gmnet.model.soft_evidence import VIRTUAL_STATES

__all__ = ["with_virtual_children"]


def _child_name(existing: Iterable[str], node: str) -> str:
    taken = set(existing)
    name = f"{node}__soft"
    k = 2
    while name in taken:
        name, k = f"{node}__soft{k}", k + 1
    return name


def with_virtual_children(network: Network, likelihoods: Mapping[str, Sequence[float]]
                          ) -> tuple[Network, dict[str, tuple[str, str]]]:
    """A new network with one observed-to-be child per node of ``likelihoods``.

    The child ``<node>__soft`` has states :data:`VIRTUAL_STATES`; P(observed | node=s) is the
    parameter ``<node>__soft_weight.<s>``, the weight of s divided by the largest weight. Give
    per-draw weights through those parameters (the batched engine does, for Jeffrey's rule).
    Returns the network and, per node, (child name, parameter group). ``network`` is unchanged.
    """

    spec = network.spec
    nodes = dict(spec.nodes)
    groups = dict(spec.parameters)
    made: dict[str, tuple[str, str]] = {}
    for node, weights in likelihoods.items():
        states = list(spec.nodes[node].states)
        w = np.asarray(weights, dtype=float).reshape(-1)
        if w.shape[0] != len(states) or not w.max() > 0 or np.any(w < 0):
            raise InvalidArgumentError(f"virtual evidence on {node}: needs {len(states)} "
                                       f"weights >= 0, not all 0; got {list(w)}")
        w = w / w.max()
        child = _child_name([*nodes, *groups], node)
        group = f"{child}_weight"
        source = "soft evidence given with the question (not the source document)"
        groups[group] = schema.ParameterGroup(
            description=f"P(report | {node}) of soft evidence on {node}", unit="probability",
            index=node, values={s: schema.ParameterValue(value=float(x), source=source)
                                for s, x in zip(states, w, strict=True)})
        nodes[child] = schema.NodeSpec(
            states=list(VIRTUAL_STATES), parents=[node], phase=spec.nodes[node].phase,
            role="alarm", label=f"Soft evidence on {node}",
            cpt=schema.ExpressionCPT(kind="expression", source=source, probabilities={
                VIRTUAL_STATES[0]: f"{group}[{node}]", VIRTUAL_STATES[1]: "rest"}))
        made[node] = (child, group)
    new_spec = spec.model_copy(update={"nodes": nodes, "parameters": groups})
    problems: list[str] = []
    params = {**_collect_parameters(new_spec, problems), **network.parameters}
    if problems:  # pragma: no cover - the groups above are well formed
        raise InvalidArgumentError("; ".join(problems))
    return Network(new_spec, path=network.path, parameters=params), made
