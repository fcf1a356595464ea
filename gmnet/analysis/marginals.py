"""Every node's distribution under one question's evidence and do() (what the diagram and the
per-node posterior view show)."""

from __future__ import annotations

from collections.abc import Mapping

from gmnet.inference.query import posterior, resolve_query
from gmnet.model.network import Network

__all__ = ["node_marginals"]


def node_marginals(network: Network, evidence: Mapping[str, str] | None = None,
                   do: Mapping[str, str] | None = None) -> dict[str, dict[str, float]]:
    """Every node's distribution given ``evidence`` and ``do``: {variable: {state: p}}.

    Observed and intervened nodes get their fixed state with probability 1.

    >>> import gmnet
    >>> m = node_marginals(gmnet.load_network(), do={"shift_type": "extreme"})
    >>> round(m["capability_transfer"]["yes"], 2)
    0.45
    """
    ev, dd = resolve_query(network, evidence, do)
    return _node_marginals(network, ev, dd)


def _node_marginals(network: Network, ev: Mapping[str, int],
                    dd: Mapping[str, int]) -> dict[str, dict[str, float]]:
    out = {}
    for var in network.variables:
        dist = posterior(network.compiled, var, ev, dd)[0]
        out[var] = {s: float(p) for s, p in zip(network.states(var), dist, strict=True)}
    return out
