"""Mitigation layers compared by intervention: every portfolio, marginal values, Shapley shares.

A *portfolio* is a set of mitigations switched on by ``do()``; every other mitigation is switched
off by ``do()``. With k mitigation nodes there are 2**k portfolios, all evaluated in one tensor
contraction: the mitigation nodes are cut from their parents (as ``do()`` does) but their states
are kept as free indices instead of being fixed, so the contraction returns
P(target | evidence, do(context, portfolio)) for every portfolio at once, for every parameter
draw of the compiled model.

From those numbers :func:`compare_mitigations` reports each mitigation alone, each layer alone,
each pair of layers and all layers; each mitigation's marginal value given all the others; the
exact Shapley attribution of the all-on reduction; and how the layers interact.

Portfolio indices: bit ``i`` of an index is set when ``mitigations[i]`` is on, so index 0 is
"no mitigation" and ``2**k - 1`` is "all on".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gmnet.analysis.portfolio_math import OFF, ON, portfolio_probabilities, shapley_values
from gmnet.errors import InvalidArgumentError, UnknownNameError
from gmnet.inference.query import resolve_assignments, resolve_query
from gmnet.model.network import Network

__all__ = [
    "LAYERS",
    "CONTEXT_MODES",
    "Mitigation",
    "PortfolioResult",
    "MitigationValue",
    "LayerInteraction",
    "MitigationComparison",
    "mitigations_of",
    "portfolio_index",
    "portfolio_members",
    "portfolio_probabilities",
    "shapley_values",
    "compare_mitigations",
]

LAYERS = ("prevention", "detection", "response")
CONTEXT_MODES = ("neutral", "prior")


# ============================================================================ the mitigations
@dataclass(frozen=True)
class Mitigation:
    """A mitigation node and what the source document says of it.

    ``cost``, ``document_reduction`` and ``priority`` are the Intervention Effectiveness
    Analysis's columns as stored in the network's ``metadata.mitigations`` ("-" where the
    table has no row for it).
    """

    name: str
    label: str
    layer: str
    method: str = "-"
    cost: str = "-"
    document_reduction: str = "-"
    priority: str = "-"

    def to_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "layer": self.layer,
                "method": self.method, "cost": self.cost,
                "document_reduction": self.document_reduction, "priority": self.priority}


def mitigations_of(network: Network) -> tuple[Mitigation, ...]:
    """The network's mitigation nodes (role ``mitigation``), layer by layer, in network order.

    A node's layer is its phase (prevention, detection or response); the document's cost,
    stated reduction and priority come from ``metadata.mitigations`` where present.

    >>> import gmnet
    >>> [m.name for m in mitigations_of(gmnet.load_network())][:3]
    ['adversarial_training', 'objective_specification', 'interpretability_verification']
    """
    info = network.metadata.get("mitigations", {}) or {}
    found = []
    for v in network.variables:
        node = network.node(v)
        if node.role != "mitigation":
            continue
        states = network.states(v)
        if ON not in states or OFF not in states:
            raise InvalidArgumentError(
                f"mitigation node {v!r} has states {', '.join(states)}; a mitigation node needs "
                f"the states '{ON}' and '{OFF}'")
        meta = info.get(v, {}) if isinstance(info, Mapping) else {}
        layer = str(meta.get("layer", node.phase))
        found.append(Mitigation(
            v, node.label or v, layer, str(meta.get("method", "-")), str(meta.get("cost", "-")),
            str(meta.get("document_reduction", "-")), str(meta.get("priority", "-"))))
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    return tuple(sorted(found, key=lambda m: rank.get(m.layer, len(LAYERS))))


def portfolio_index(mitigations: Sequence[str], on: Iterable[str]) -> int:
    """The index of the portfolio with exactly ``on`` switched on.

    >>> portfolio_index(["a", "b", "c"], ["a", "c"])
    5
    """
    names = list(mitigations)
    index = 0
    for name in on:
        if name not in names:
            raise UnknownNameError("mitigation", str(name), names)
        index |= 1 << names.index(name)
    return index


def portfolio_members(mitigations: Sequence[str], index: int) -> tuple[str, ...]:
    """The mitigations switched on in portfolio ``index``.

    >>> portfolio_members(["a", "b", "c"], 5)
    ('a', 'c')
    """
    return tuple(m for i, m in enumerate(mitigations) if index >> i & 1)


# ============================================================================ results
@dataclass(frozen=True)
class PortfolioResult:
    """One named portfolio: its members, P(target) and the reduction from no mitigation."""

    name: str
    kind: str  # none, mitigation, layer, layer pair, all
    members: tuple[str, ...]
    probability: float
    absolute_reduction: float
    relative_reduction: float

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "members": list(self.members),
                "probability": self.probability, "absolute_reduction": self.absolute_reduction,
                "relative_reduction": self.relative_reduction}


@dataclass(frozen=True)
class MitigationValue:
    """What one mitigation is worth: alone, added last (given all others), and its Shapley share.

    ``alone`` and ``marginal`` are absolute reductions of P(target); ``shapley`` is its share
    of the all-on reduction (the shares of all mitigations sum to it).
    """

    mitigation: Mitigation
    probability_alone: float
    alone: float
    alone_relative: float
    marginal: float
    shapley: float
    shapley_share: float

    @property
    def name(self) -> str:
        return self.mitigation.name

    def to_dict(self) -> dict:
        return {**self.mitigation.to_dict(), "probability_alone": self.probability_alone,
                "alone": self.alone, "alone_relative": self.alone_relative,
                "marginal": self.marginal, "shapley": self.shapley,
                "shapley_share": self.shapley_share}


@dataclass(frozen=True)
class LayerInteraction:
    """Layers together against the sum of their parts.

    ``interaction`` = reduction together - sum of the reductions apart (> 0: the whole is more
    than the sum). ``remaining_ratio`` = the share of risk left together, divided by the product
    of the shares left by each alone (< 1: better than independent layers, > 1: worse).
    """

    layers: tuple[str, ...]
    together: float
    apart: tuple[float, ...]
    interaction: float
    remaining_ratio: float

    def to_dict(self) -> dict:
        return {"layers": list(self.layers), "together": self.together,
                "apart": list(self.apart), "sum_apart": float(sum(self.apart)),
                "interaction": self.interaction, "remaining_ratio": self.remaining_ratio}


@dataclass(frozen=True)
class MitigationComparison:
    """The result of :func:`compare_mitigations`.

    ``probabilities`` holds P(target = state) for all ``2**k`` portfolios (see
    :func:`portfolio_index`); the other fields are derived from it.
    """

    network: str
    target: str
    state: str
    evidence: dict[str, str]
    do: dict[str, str]
    context: str
    mitigations: tuple[Mitigation, ...]
    probabilities: np.ndarray
    as_adopted: float
    portfolios: tuple[PortfolioResult, ...]
    values: tuple[MitigationValue, ...]
    interactions: tuple[LayerInteraction, ...]
    layers: tuple[str, ...] = field(default=LAYERS)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.mitigations)

    @property
    def baseline(self) -> float:
        """P(target) with no mitigation in place."""
        return float(self.probabilities[0])

    @property
    def all_on(self) -> float:
        """P(target) with every mitigation in place."""
        return float(self.probabilities[-1])

    def probability(self, on: Iterable[str] = ()) -> float:
        """P(target) for the portfolio with exactly ``on`` switched on (any of the 2**k)."""
        return float(self.probabilities[portfolio_index(self.names, on)])

    def value(self, name: str) -> MitigationValue:
        for v in self.values:
            if v.name == name:
                return v
        raise UnknownNameError("mitigation", name, self.names)

    def portfolio(self, name: str) -> PortfolioResult:
        for p in self.portfolios:
            if p.name == name:
                return p
        raise UnknownNameError("portfolio", name, [p.name for p in self.portfolios])

    def to_dict(self, *, all_portfolios: bool = False) -> dict:
        out: dict[str, Any] = {
            "network": self.network, "target": self.target, "state": self.state,
            "evidence": dict(self.evidence), "do": dict(self.do), "context": self.context,
            "baseline": self.baseline, "all_on": self.all_on, "as_adopted": self.as_adopted,
            "mitigations": [v.to_dict() for v in self.values],
            "portfolios": [p.to_dict() for p in self.portfolios],
            "interactions": [i.to_dict() for i in self.interactions],
        }
        if all_portfolios:
            out["all_portfolios"] = [
                {"on": list(portfolio_members(self.names, i)), "probability": float(p)}
                for i, p in enumerate(self.probabilities)]
        return out

    def to_frame(self, table: str = "mitigations"):
        """A pandas DataFrame: ``"mitigations"`` (one row each, sorted by Shapley value),
        ``"portfolios"`` (none, each layer, each pair, all) or ``"interactions"``."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas comes with pgmpy
            raise InvalidArgumentError("to_frame needs pandas: pip install pandas") from exc
        if table == "mitigations":
            rows = [v.to_dict() for v in self.values]
            return pd.DataFrame(rows).set_index("name")
        if table == "portfolios":
            rows = [{**p.to_dict(), "members": ", ".join(p.members) or "-"}
                    for p in self.portfolios]
            return pd.DataFrame(rows).set_index("name")
        if table == "interactions":
            rows = [{**i.to_dict(), "layers": " + ".join(i.layers),
                     "apart": ", ".join(f"{a:.6g}" for a in i.apart)} for i in self.interactions]
            return pd.DataFrame(rows).set_index("layers")
        raise UnknownNameError("table", table, ("mitigations", "portfolios", "interactions"))


# ============================================================================ the comparison
def reshaped_priors(base: Network, network: Network) -> list[str]:
    """Context nodes whose prior a scenario or worldview replaced between ``base`` and
    ``network``: a comparison at the neutral context must leave them at their (new) priors
    (pass them as ``keep_priors`` to :func:`compare_mitigations`)."""
    from gmnet.analysis.whatif import neutral_context

    return [v for v in neutral_context(network)
            if v in base.variables and base.parents(v) == network.parents(v)
            and not np.array_equal(base.cpt(v), network.cpt(v))]


def compare_mitigations(
    network: Network,
    *,
    evidence: Mapping[str, str] | None = None,
    do: Mapping[str, str] | None = None,
    context: str = "neutral",
    keep_priors: Iterable[str] | None = (),
    target: str = "harm",
    state: str = "yes",
) -> MitigationComparison:
    """Compare every portfolio of mitigations by intervention.

    Each portfolio is ``do(mitigations in it = on, all others = off)``: what adding them would
    do, not what deployments that happen to have them look like (see docs/mitigations.md).

    Parameters
    ----------
    network
        A network with mitigation nodes (role ``mitigation``, states on/off).
    evidence, do
        Conditions on and interventions in the context, e.g. ``{"shift_type": "extreme"}``.
        Neither may name a mitigation, and evidence may not lie downstream of one (the
        mitigations would change it).
    context
        ``"neutral"`` (default): context nodes not named in ``evidence`` or ``do`` are set to
        the network's neutral context, where the document's table holds; ``"prior"``: they keep
        their priors.
    keep_priors
        Context nodes left at their priors even with ``context="neutral"``: e.g. those whose
        prior a scenario has replaced (None or empty: none; one name may be given alone).
    target, state
        What to reduce (default P(harm = yes)).

    Examples
    --------
    >>> import gmnet
    >>> result = gmnet.compare_mitigations(gmnet.load_network())
    >>> round(result.value("ai_control").alone_relative, 3)
    0.75
    """
    if context not in CONTEXT_MODES:
        raise UnknownNameError("context", str(context), CONTEXT_MODES)
    keep_priors = _names(keep_priors, "keep_priors")
    for v in sorted(keep_priors):
        if v not in network.variables:
            raise UnknownNameError("variable", str(v), network.variables, context="in keep_priors")
    if not isinstance(target, str) or target not in network.variables:
        raise UnknownNameError("variable", str(target), network.variables, context="as target")
    state_index = network.check_state(target, state)
    ev, dd = resolve_query(network, evidence, do)
    mitigations = mitigations_of(network)
    if not mitigations:
        raise InvalidArgumentError(
            f"network {network.name!r} has no mitigation nodes (nodes with role 'mitigation' "
            "and states on/off); nothing to compare")
    names = [m.name for m in mitigations]
    named = sorted((set(ev) | set(dd)) & set(names))
    if named:
        raise InvalidArgumentError(
            f"{named[0]} is a mitigation: compare sets every mitigation itself; remove it from "
            f"the evidence and do(). Mitigations: {', '.join(names)}")
    downstream = _descendants(network, names)
    late = [v for v in ev if v in downstream]
    if late:
        raise InvalidArgumentError(
            f"cannot condition on {late[0]}: the mitigations change it, so observing it would "
            "not compare like with like; condition on context nodes, or set it with do()")
    if target in names:
        raise InvalidArgumentError(f"the target {target} is a mitigation; choose an outcome")
    do_states = {v: network.states(v)[i] for v, i in dd.items()}
    ev_states = {v: network.states(v)[i] for v, i in ev.items()}
    if context == "neutral":
        from gmnet.analysis.whatif import neutral_context

        for v, s in neutral_context(network).items():
            if v not in names and v not in ev_states and v not in do_states \
                    and v not in keep_priors:
                do_states[v] = s
    dd = resolve_assignments(network, do_states, what="do()")
    probabilities = portfolio_probabilities(network.compiled, names, target, state_index, ev,
                                            dd)[0]
    as_adopted = network.query(target, evidence=ev_states, do=do_states)[state]
    return _summarise(network.name, target, state, ev_states, do_states, context, mitigations,
                      probabilities, as_adopted)


def _descendants(network: Network, nodes: Iterable[str]) -> set[str]:
    """Every node reachable from one of ``nodes`` by at least one edge (networkx's
    descendants of each, joined), walked over the parents' lists: no graph is built for
    each comparison."""
    children: dict[str, list[str]] = {}
    for v in network.variables:
        for p in network.parents(v):
            children.setdefault(p, []).append(v)
    out: set[str] = set()
    stack = [c for v in nodes for c in children.get(v, ())]
    while stack:
        v = stack.pop()
        if v not in out:
            out.add(v)
            stack.extend(children.get(v, ()))
    return out


def _summarise(network_name, target, state, evidence, do, context, mitigations,
               probabilities: np.ndarray, as_adopted: float) -> MitigationComparison:
    names = [m.name for m in mitigations]
    k = len(names)
    p = np.asarray(probabilities, dtype=float)
    base = float(p[0])
    reduction = base - p
    full = (1 << k) - 1

    def relative(r: float) -> float:
        return r / base if base > 0 else float("nan")

    shapley = shapley_values(reduction)
    total = float(reduction[full])
    values = []
    for i, m in enumerate(mitigations):
        alone = float(reduction[1 << i])
        last = float(p[full & ~(1 << i)] - p[full])
        values.append(MitigationValue(
            m, float(p[1 << i]), alone, relative(alone), last, float(shapley[i]),
            float(shapley[i]) / total if total > 0 else float("nan")))
    values.sort(key=lambda v: (-v.shapley, v.name))

    layers = [layer for layer in LAYERS if any(m.layer == layer for m in mitigations)]
    layers += sorted({m.layer for m in mitigations} - set(layers))
    members = {layer: tuple(m.name for m in mitigations if m.layer == layer) for layer in layers}
    index = {layer: portfolio_index(names, members[layer]) for layer in layers}

    def row(name, kind, on_index):
        r = float(reduction[on_index])
        return PortfolioResult(name, kind, portfolio_members(names, on_index),
                               float(p[on_index]), r, relative(r))

    portfolios = [row("none", "none", 0)]
    portfolios += [row(m, "mitigation", 1 << i) for i, m in enumerate(names)]
    portfolios += [row(layer, "layer", index[layer]) for layer in layers]
    for a, b in itertools.combinations(layers, 2):
        portfolios.append(row(f"{a} + {b}", "layer pair", index[a] | index[b]))
    portfolios.append(row("all", "all", full))

    interactions = []
    for size in range(2, len(layers) + 1):
        for group in itertools.combinations(layers, size):
            together_index = 0
            for layer in group:
                together_index |= index[layer]
            together = float(reduction[together_index])
            apart = tuple(float(reduction[index[layer]]) for layer in group)
            if base > 0:
                left_apart = math.prod(float(p[index[layer]]) / base for layer in group)
                left = float(p[together_index]) / base
                ratio = left / left_apart if left_apart > 0 else float("nan")
            else:
                ratio = float("nan")
            interactions.append(LayerInteraction(group, together, apart,
                                                 together - sum(apart), ratio))
    return MitigationComparison(
        network_name, target, state, dict(evidence), dict(do), context, tuple(mitigations), p,
        float(as_adopted), tuple(portfolios), tuple(values), tuple(interactions), tuple(layers))


def _names(value: object, what: str) -> set[str]:
    """A set of variable names from None, one name, or an iterable of names."""
    if value is None:
        return set()
    if isinstance(value, str):
        return {value}
    try:
        names = set(value)  # type: ignore[call-overload]
    except TypeError:
        raise InvalidArgumentError(f"{what} must be variable names (a list), got "
                                   f"{type(value).__name__}") from None
    for name in names:
        if not isinstance(name, str):
            raise InvalidArgumentError(f"{what} must be variable names, got {name!r}")
    return names
