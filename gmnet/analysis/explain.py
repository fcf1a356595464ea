"""Explanations of an answer: the most probable explanation, the most probable path, and what
each observation did to the target.

- The **most probable explanation** (MPE): the jointly most probable states of every variable
  not observed or set, given the evidence, with P(those states | evidence), exactly
  (max-product elimination, :mod:`gmnet.inference.mpe`).
- The **most probable path**: the most probable joint state of the pathway's nodes alone (the
  nodes whose role is ``pathway`` or ``outcome``: training, deployment, response, harm), every
  other node summed out. It can differ from the MPE restricted to those nodes: the MPE commits to
  one context and one mitigation set, the path averages over them.
- **What each observation did**: P(target | all the evidence) against P(target | all but that
  one), for each observation in turn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gmnet.errors import InvalidArgumentError, UnknownNameError
from gmnet.model.network import Network

__all__ = ["Explanation", "explain", "PATH_ROLES"]

PATH_ROLES = ("pathway", "outcome")


@dataclass(frozen=True)
class Explanation:
    """The result of :func:`explain`; ``to_dict()`` for JSON."""

    network: str
    evidence: dict[str, str]
    do: dict[str, str]
    soft: tuple[str, ...]
    mpe: dict[str, str]
    mpe_probability: float
    mpe_joint: float
    mpe_tied: bool
    path: dict[str, str]
    path_probability: float | None
    path_tied: bool
    target: str | None
    target_state: str | None
    target_probability: float | None
    observations: tuple[dict, ...]

    def to_dict(self) -> dict:
        return {
            "network": self.network, "evidence": self.evidence, "do": self.do,
            "soft": list(self.soft),
            "mpe": {"states": self.mpe, "probability": self.mpe_probability,
                    "joint_with_evidence": self.mpe_joint, "tied": self.mpe_tied},
            "path": {"states": self.path, "probability": self.path_probability,
                     "tied": self.path_tied},
            "target": None if self.target is None else {
                "variable": self.target, "state": self.target_state,
                "probability": self.target_probability},
            "observations": list(self.observations),
            "assumptions": [
                "numbers at the network's point values",
                "most probable explanation: every variable not observed or set, jointly",
                "most probable path: the pathway's nodes only, every other node summed out"],
        }


def explain(network: Network, evidence: Mapping[str, str] | None = None,
            do: Mapping[str, str] | None = None, *, target: str | None = None,
            state: str | None = None, soft=None) -> Explanation:
    """Explain the evidence: MPE, most probable path and, for ``target=state``, how much each
    observation moved it.

    ``soft`` findings (see :func:`gmnet.inference.soft.soft_query`) join the evidence as
    virtual children; the MPE never lists those children.

    >>> import gmnet
    >>> r = explain(gmnet.load_network(), {"harm": "yes"}, target="harm", state="yes")
    >>> r.mpe["goal_misgeneralizes"], r.path["containment"]
    ('yes', 'uncontained')
    """
    from gmnet.inference.mpe import max_marginal_map, most_probable_explanation
    from gmnet.inference.query import resolve_query
    from gmnet.inference.soft import soft_likelihoods, soft_posterior
    from gmnet.model.soft_evidence import resolve_soft

    evidence, do = dict(evidence or {}), dict(do or {})
    ev, dd = resolve_query(network, evidence, do)
    findings = resolve_soft(network.compiled.states, soft, observed=ev, intervened=dd)
    if target is not None:
        if target not in network.variables:
            raise UnknownNameError("variable", str(target), network.variables,
                                   context="as target")
        state = network.states(target)[0] if state is None else state
        network.check_state(target, state)
    elif state is not None:
        raise InvalidArgumentError("a target state needs a target; give target= too")
    model = network.compiled
    seen: dict[str, int] = {}
    if findings:
        from gmnet.inference.query import posterior

        def node_posterior(node, weights):
            m, s = model, {}
            for n, w in weights.items():
                m, child = m.with_virtual_child(n, w)
                s[child] = 0
            return posterior(m, node, {**ev, **s}, dd)

        for node, w in soft_likelihoods(findings, node_posterior).items():
            model, child = model.with_virtual_child(node, w)
            seen[child] = 0
    full = {**ev, **seen}
    mpe = most_probable_explanation(model, full, dd)
    mpe_states = {v: s for v, s in mpe.states.items() if v in network.variables}
    path_nodes = [v for v in network.variables if network.node(v).role in PATH_ROLES]
    path = max_marginal_map(model, path_nodes, full, dd) if path_nodes else None
    p_target = None
    rows: list[dict] = []
    if target is not None:
        index = network.check_state(target, state)

        def p(e):
            return float(soft_posterior(network.compiled, target, e, dd, findings)[0][index])

        p_target = p(ev)
        for var, value in evidence.items():
            if var == target:
                continue
            without = p({k: v for k, v in ev.items() if k != var})
            rows.append({"variable": var, "state": value, "soft": None, "without": without,
                         "with": p_target, "change": p_target - without})
        for f in findings:
            rest = tuple(g for g in findings if g.node != f.node)
            without = float(soft_posterior(network.compiled, target, ev, dd, rest)[0][index])
            rows.append({"variable": f.node, "state": None, "soft": f.text, "without": without,
                         "with": p_target, "change": p_target - without})
    return Explanation(
        network.name, evidence, do, tuple(f.text for f in findings), mpe_states,
        mpe.probability, mpe.joint, mpe.tied, dict(path.states) if path else {},
        path.probability if path else None, path.tied if path else False, target, state,
        p_target, tuple(rows))
