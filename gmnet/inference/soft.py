"""Queries with soft evidence: likelihood (virtual) findings and fixed marginals (Jeffrey's rule).

Every finding becomes a likelihood on its node and then a virtual observed child of it
(:meth:`gmnet.model.compiled.CompiledModel.with_virtual_child`, or
:func:`gmnet.model.virtual.with_virtual_children` for the batched engine), so every engine
answers the question unchanged: it only sees one more observed node.

A likelihood finding's weights are used as given. A fixed marginal q on node A becomes the
likelihood ``q(s) / P(A=s | every other piece of evidence)``, which makes A's posterior exactly q
(Jeffrey's rule: P'(T) = sum_s q(s) P(T | A=s, other evidence)). Several fixed marginals are
fitted together by iterative proportional fitting (each pass refits one node given the others)
until every node's posterior is within :data:`FIT_TOLERANCE` of its q.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from gmnet.errors import ImpossibleEvidenceError, InvalidArgumentError, UnknownNameError
from gmnet.model.compiled import CompiledModel
from gmnet.model.soft_evidence import ResolvedFinding, resolve_soft
from gmnet.model.virtual import with_virtual_children

if TYPE_CHECKING:
    from gmnet.model.network import Network

__all__ = ["soft_query", "soft_posterior", "soft_likelihoods", "batched_soft_posterior",
           "FIT_TOLERANCE", "MAX_FIT_PASSES"]

#: Fixed marginals are fitted until every node's posterior is this close to the value asked.
FIT_TOLERANCE = 1e-13
MAX_FIT_PASSES = 1000

#: P(node | evidence, every finding's likelihood but ``skip``'s): (n, card).
Marginal = Callable[[str, Mapping[str, np.ndarray]], np.ndarray]


def soft_likelihoods(findings: Sequence[ResolvedFinding], node_posterior: Marginal
                     ) -> dict[str, np.ndarray]:
    """Each finding's likelihood, shape (n, card): weights as given, or Jeffrey's q / P.

    ``node_posterior(node, likelihoods)`` must return P(node | hard evidence, the given
    likelihoods) per draw.
    """
    weights: dict[str, np.ndarray] = {}
    fixed = [f for f in findings if f.kind == "marginal"]
    for f in findings:
        if f.kind == "likelihood":
            weights[f.node] = f.values.reshape(1, -1)
    if not fixed:
        return weights
    for f in fixed:
        weights[f.node] = np.ones((1, f.values.shape[0]))
    for _ in range(MAX_FIT_PASSES):
        worst = 0.0
        for f in fixed:
            others = {k: w for k, w in weights.items() if k != f.node}
            p = node_posterior(f.node, others)
            q = _wanted(f, p)
            worst = max(worst, float(np.max(np.abs(_normalised(p * weights[f.node]) - q))))
            with np.errstate(divide="ignore", invalid="ignore"):
                weights[f.node] = np.where(q > 0, q / np.where(p > 0, p, 1.0), 0.0)
        if len(fixed) == 1 or worst <= FIT_TOLERANCE:
            return weights
    raise InvalidArgumentError(
        "the fixed marginals (" + ", ".join(f.text for f in fixed) + ") cannot all hold "
        f"together (not fitted within {FIT_TOLERANCE:g} after {MAX_FIT_PASSES} passes); they "
        "contradict each other or the hard evidence")


def _normalised(p: np.ndarray) -> np.ndarray:
    total = p.sum(axis=1, keepdims=True)
    return p / np.where(total > 0, total, 1.0)


def _wanted(f: ResolvedFinding, p: np.ndarray) -> np.ndarray:
    """The distribution q a fixed marginal asks for, per draw: the named states as given, the
    others share the rest in proportion to their current probabilities ``p``."""
    p = np.atleast_2d(p)
    given = f.given
    q = np.broadcast_to(np.where(given, f.values, 0.0), p.shape).copy()
    rest = 1.0 - f.values[given].sum()
    if not given.all():
        free = p[:, ~given]
        share = free.sum(axis=1, keepdims=True)
        if rest > 1e-15 and np.any(share <= 0):
            raise ImpossibleEvidenceError(
                f"{f.text}: the states of {f.node} not named have probability 0 given the other "
                f"evidence, so they cannot share the remaining {rest:.6g}")
        q[:, ~given] = rest * free / np.where(share > 0, share, 1.0)
    bad = (q > 0) & ~(p > 0)
    if np.any(bad):
        state = int(np.argwhere(bad)[0][1])
        raise ImpossibleEvidenceError(
            f"{f.text}: a state of {f.node} with probability 0 given the other evidence (index "
            f"{state}) cannot be given a positive probability; Jeffrey's rule can only reweight "
            "possible states")
    return q


def _with_children(model: CompiledModel, weights: Mapping[str, np.ndarray]
                   ) -> tuple[CompiledModel, dict[str, int]]:
    seen: dict[str, int] = {}
    for node, w in weights.items():
        model, child = model.with_virtual_child(node, w)
        seen[child] = 0
    return model, seen


def soft_posterior(model: CompiledModel, target: str, evidence: Mapping[str, int],
                   do: Mapping[str, int], findings: Sequence[ResolvedFinding], *,
                   engine: str = "einsum") -> np.ndarray:
    """P(target | evidence, soft findings, do) for every draw of ``model``: (N, card(target)).

    Names are assumed checked (see :func:`soft_query`).
    """
    from gmnet.inference.query import posterior

    def node_posterior(node: str, weights: Mapping[str, np.ndarray]) -> np.ndarray:
        augmented, seen = _with_children(model, weights)
        return posterior(augmented, node, {**evidence, **seen}, do, engine=engine)

    weights = soft_likelihoods(findings, node_posterior)
    augmented, seen = _with_children(model, weights)
    return posterior(augmented, target, {**evidence, **seen}, do, engine=engine)


def soft_query(network: Network, target: str, *, soft, evidence: Mapping[str, str] | None = None,
               do: Mapping[str, str] | None = None, engine: str = "einsum") -> dict[str, float]:
    """P(target | evidence, soft evidence, do(...)) on ``network`` at its point values.

    ``soft`` is one finding or several: text (``"P(capability_level=superhuman)=0.3"``,
    ``"capability_level~=below_human:0.2,human_level:0.5,superhuman:0.3"``),
    :class:`gmnet.SoftFinding` values or (node, kind, values) tuples. ``network`` is unchanged.

    >>> import gmnet
    >>> net = gmnet.load_network()
    >>> p = soft_query(net, "capability_level", soft="P(capability_level=superhuman)=0.3")
    >>> round(p["superhuman"], 12)
    0.3
    """
    from gmnet.inference.query import ENGINES, resolve_query

    if not isinstance(target, str) or target not in network.variables:
        raise UnknownNameError("variable", str(target), network.variables, context="as target")
    if engine not in ENGINES:
        raise UnknownNameError("engine", str(engine), ENGINES)
    ev, dd = resolve_query(network, evidence, do)
    findings = resolve_soft(network.compiled.states, soft, observed=ev, intervened=dd)
    dist = soft_posterior(network.compiled, target, ev, dd, findings, engine=engine)[0]
    return {s: float(p) for s, p in zip(network.states(target), dist, strict=True)}


def batched_soft_posterior(network: Network, target: str, *, soft,
                           evidence: Mapping[str, str] | None = None,
                           do: Mapping[str, str] | None = None,
                           values: Mapping[str, np.ndarray] | None = None,
                           chunk: int | None = None, progress=None,
                           scheduler=None) -> np.ndarray:
    """:func:`gmnet.inference.batched.batched_posterior` with soft evidence: (N, card(target)).

    The findings become virtual children of a new network (the given one is unchanged); for
    fixed marginals their weights are fitted per draw and passed as parameter draws.
    """
    from gmnet.inference.batched import plan_query
    from gmnet.inference.query import resolve_query

    ev_idx, dd_idx = resolve_query(network, evidence, do)
    findings = resolve_soft(network.compiled.states, soft, observed=ev_idx, intervened=dd_idx)
    if not findings:
        return plan_query(network, target, evidence=evidence, do=do).run(
            values, chunk=chunk, progress=progress, scheduler=scheduler)
    virtual, made = with_virtual_children(network, {f.node: np.ones(len(f.values))
                                                    for f in findings})
    values = dict(values or {})

    def run(node: str, weights: Mapping[str, np.ndarray], progress=None) -> np.ndarray:
        draws = dict(values)
        seen = {}
        for f in findings:
            child, group = made[f.node]
            w = weights.get(f.node)
            if w is None:  # not part of this question: leave the child unobserved
                continue
            w = w / w.max(axis=1, keepdims=True)
            for i, state in enumerate(network.states(f.node)):
                draws[f"{group}.{state}"] = w[:, i]
            seen[child] = "observed"
        ev = {**(evidence or {}), **seen}
        return plan_query(virtual, node, evidence=ev, do=do).run(draws, chunk=chunk,
                                                                 progress=progress,
                                                                 scheduler=scheduler)

    weights = soft_likelihoods(findings, lambda node, w: run(node, w))
    return run(target, weights, progress)
