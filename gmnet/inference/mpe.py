"""The most probable explanation (MPE) by max-product variable elimination, exactly.

The MPE given evidence e is the joint state of every unobserved variable with the largest
P(states, e). Max-product elimination is variable elimination with ``max`` in place of ``sum``:
each variable is eliminated by taking, for every state of its neighbours, the best of its own
states, and the table of those products is kept to read the best state back off
(traceback, in reverse elimination order). Nothing is approximated: on any network the result
equals an exhaustive search over every joint state (the tests check this).

Ties are reported: if, on the way back, some variable has two states that give the same best
product (to a relative 1e-12), another joint state is exactly as probable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import opt_einsum as oe

from gmnet.errors import ImpossibleEvidenceError
from gmnet.model.compiled import CompiledModel

__all__ = ["MostProbableExplanation", "most_probable_explanation", "max_marginal_map",
           "TIE_TOLERANCE"]

#: Two products within this relative distance count as a tie.
TIE_TOLERANCE = 1e-12


@dataclass(frozen=True)
class MostProbableExplanation:
    """The jointly most probable states of the unobserved variables.

    ``joint`` is P(states, evidence); ``probability`` is P(states | evidence) (``joint`` divided
    by P(evidence)); ``tied`` says another joint state is exactly as probable.
    """

    states: dict[str, str]
    joint: float
    evidence_probability: float
    tied: bool

    @property
    def probability(self) -> float:
        return self.joint / self.evidence_probability


Factor = tuple[np.ndarray, tuple[str, ...]]


def _factors(model: CompiledModel, fixed: Mapping[str, int]) -> list[Factor]:
    out: list[Factor] = []
    for v in model.variables:
        arr = np.asarray(model.cpts[v][0], dtype=float)
        axes = [*model.parents[v], v]
        index = tuple(fixed[a] if a in fixed else slice(None) for a in axes)
        out.append((arr[index], tuple(a for a in axes if a not in fixed)))
    return out


def _product(factors: list[Factor]) -> Factor:
    labels: list[str] = []
    for _, lab in factors:
        labels.extend(a for a in lab if a not in labels)
    letters = {a: oe.get_symbol(i) for i, a in enumerate(labels)}
    spec = ",".join("".join(letters[a] for a in lab) for _, lab in factors)
    out = "".join(letters[a] for a in labels)
    return np.einsum(f"{spec}->{out}", *[a for a, _ in factors]), tuple(labels)


def _order(factors: list[Factor], variables: list[str], card: Mapping[str, int]) -> list[str]:
    """A greedy elimination order: next, the variable whose merged table is smallest."""
    scopes = [set(lab) for _, lab in factors]
    left = list(variables)
    order = []
    while left:
        merged = {v: set().union({v}, *[s for s in scopes if v in s]) for v in left}
        best = min(left, key=lambda v: float(np.prod([card[a] for a in merged[v]])))
        scopes = [s for s in scopes if best not in s] + [merged[best] - {best}]
        left.remove(best)
        order.append(best)
    return order


def _max_eliminate(factors: list[Factor], order: list[str]
                   ) -> tuple[float, list[tuple[str, Factor]]]:
    """Max-product over ``order``; returns the maximum and the tables for the traceback."""
    trace: list[tuple[str, Factor]] = []
    pool = list(factors)
    for v in order:
        touching = [f for f in pool if v in f[1]]
        pool = [f for f in pool if v not in f[1]]
        if not touching:  # a variable in no factor (cannot happen for a CPT's own node)
            continue
        table, labels = _product(touching)
        trace.append((v, (table, labels)))
        axis = labels.index(v)
        pool.append((table.max(axis=axis), labels[:axis] + labels[axis + 1:]))
    value = 1.0
    for arr, labels in pool:  # only scalars are left
        value *= float(arr) if not labels else float(arr.max())
    return value, trace


def _traceback(trace: list[tuple[str, Factor]]) -> tuple[dict[str, int], bool]:
    chosen: dict[str, int] = {}
    tied = False
    for v, (table, labels) in reversed(trace):
        index = tuple(slice(None) if a == v else chosen[a] for a in labels)
        row = table[index]
        best = int(np.argmax(row))
        top = row[best]
        if top > 0 and np.count_nonzero(row >= top * (1 - TIE_TOLERANCE)) > 1:
            tied = True
        chosen[v] = best
    return chosen, tied


def most_probable_explanation(model: CompiledModel, evidence: Mapping[str, int],
                              do: Mapping[str, int] | None = None) -> MostProbableExplanation:
    """The MPE of the unobserved, unset variables of (the first draw of) ``model``.

    ``evidence`` and ``do`` map variables to state indices (checked by the caller). Intervened
    variables are cut from their parents and left out of the explanation, like the evidence.
    """
    from gmnet.inference.contraction import marginal

    do = dict(do or {})
    cut = model.intervene(do).point(0)
    fixed = {**evidence, **do}
    free = [v for v in cut.variables if v not in fixed]
    factors = _factors(cut, fixed)
    card = {v: cut.card(v) for v in cut.variables}
    best, trace = _max_eliminate(factors, _order(factors, free, card))
    if not best > 0:
        named = ", ".join(f"{v}={cut.states[v][i]}" for v, i in evidence.items())
        raise ImpossibleEvidenceError(
            f"the evidence ({named}) is impossible under the model (probability 0)")
    chosen, tied = _traceback(trace)
    p_evidence = float(marginal(cut, [], evidence).reshape(-1)[0])
    states = {v: cut.states[v][chosen[v]] for v in free}
    return MostProbableExplanation(states, best, p_evidence, tied)


def max_marginal_map(model: CompiledModel, variables: list[str], evidence: Mapping[str, int],
                     do: Mapping[str, int] | None = None) -> MostProbableExplanation:
    """The most probable joint state of ``variables`` alone (every other variable summed out),
    exactly, from their joint table: for a few variables (a pathway), not a whole network."""
    from gmnet.inference.contraction import marginal

    do = dict(do or {})
    cut = model.intervene(do).point(0)
    keep = [v for v in variables if v not in evidence and v not in do]
    joint = marginal(cut, keep, evidence)[0]
    total = float(joint.sum())
    if not total > 0:
        named = ", ".join(f"{v}={cut.states[v][i]}" for v, i in evidence.items())
        raise ImpossibleEvidenceError(
            f"the evidence ({named}) is impossible under the model (probability 0)")
    flat = joint.reshape(-1)
    best = int(np.argmax(flat))
    top = float(flat[best])
    tied = bool(np.count_nonzero(flat >= top * (1 - TIE_TOLERANCE)) > 1)
    index = np.unravel_index(best, joint.shape) if keep else ()
    states = {v: cut.states[v][int(i)] for v, i in zip(keep, index, strict=True)}
    return MostProbableExplanation(states, top, total, tied)
