"""Joint targets: P(a, b | evidence, do(...)), exact, by the chain rule over any engine.

P(a=x, b=y | e) = P(a=x | e) P(b=y | a=x, e): each factor is an ordinary single-target query, so
every engine answers joint questions without a joint kernel of its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from gmnet.errors import ImpossibleEvidenceError, InvalidArgumentError, UnknownNameError
from gmnet.inference.query import query
from gmnet.inference.soft import soft_query

__all__ = ["joint_query"]

#: The most cells a joint target may have (the answer is a table of this many numbers).
MAX_JOINT_CELLS = 4096


def joint_query(network, targets: Sequence[str], *, evidence: Mapping[str, str] | None = None,
                do: Mapping[str, str] | None = None, engine: str = "einsum",
                soft=()) -> dict[tuple[str, ...], float]:
    """P(targets | evidence, do) as a mapping (state of each target) -> probability."""
    targets = list(targets)
    for t in targets:
        if t not in network.variables:
            raise UnknownNameError("variable", str(t), network.variables, context="as target")
    cells = 1
    for t in targets:
        cells *= len(network.states(t))
    if cells > MAX_JOINT_CELLS:
        raise InvalidArgumentError(
            f"the joint target {', '.join(targets)} has {cells} combinations of states; at most "
            f"{MAX_JOINT_CELLS}: ask about fewer nodes at once")
    evidence = dict(evidence or {})
    out: dict[tuple[str, ...], float] = {}
    if soft and any(f.kind == "marginal" for f in soft):
        # a fixed marginal is a likelihood relative to ALL the other evidence; the chain rule
        # adds evidence step by step, so each step would refit it: refuse rather than answer
        # a different question
        raise InvalidArgumentError(
            "a joint target does not take a fixed-marginal finding (P(x=a)=p); give it as a "
            "likelihood (x~=a:w,...) or ask about one target")
    _chain(network, targets, evidence, dict(do or {}), engine, (), 1.0, out, tuple(soft or ()))
    return out


def _chain(network, targets, evidence, do, engine, prefix, weight, out, soft=()) -> None:
    first, rest = targets[0], targets[1:]
    dist = (soft_query(network, first, soft=soft, evidence=evidence, do=do, engine=engine)
            if soft else query(network, first, evidence=evidence, do=do, engine=engine))
    for state, p in dist.items():
        key = (*prefix, state)
        if not rest:
            out[key] = weight * p
        elif p == 0.0:
            for tail in itertools.product(*(network.states(t) for t in rest)):
                out[(*key, *tail)] = 0.0
        else:
            try:
                _chain(network, rest, {**evidence, first: state}, do, engine, key,
                       weight * p, out, soft)
            except ImpossibleEvidenceError:  # p > 0 but below double precision's reach
                for tail in itertools.product(*(network.states(t) for t in rest)):
                    out[(*key, *tail)] = 0.0
