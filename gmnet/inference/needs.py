"""What a batched query needs: its nodes, the states they can take, the parameters they read.

:func:`plan_nodes` is the planning half of :func:`gmnet.inference.batched.plan_query`: graph
surgery and barren nodes, roots whose fixed prior rules states out, and the states that
parameter-free CPTs rule out whatever the draws. It looks at the network's structure and its
parameter-free CPTs only, never at the values a run is given.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from gmnet.errors import GmnetError

if TYPE_CHECKING:
    from gmnet.model.network import Network

__all__ = ["plan_nodes"]


def plan_nodes(network: Network, target: str, evidence: Mapping[str, int],
               do: Mapping[str, int], free_do: tuple[str, ...],
               fixed: Mapping[str, int] | None = None):
    """(nodes, parameters, largest factor per draw, support) of P(target | evidence, do()).

    ``do`` and ``free_do`` are cut from their parents; ``fixed`` (the target at one state)
    is restricted like evidence. ``support``: variable -> the states that can have a positive
    probability whatever the draws (see :func:`_prune` and :func:`_prior_support`).
    """
    cut = set(do) | set(free_do)
    # ancestors of the target and the evidence in the cut graph: barren nodes drop out
    needed: set[str] = set()
    stack = [target, *evidence]
    while stack:
        v = stack.pop()
        if v in needed:
            continue
        needed.add(v)
        if v not in cut:
            stack.extend(network.parents(v))
    nodes = frozenset(needed - cut)
    support = {}
    for v in nodes:
        if v in evidence or v == target or network.parents(v):
            continue
        kept = _prior_support(network, v)
        if kept is not None and len(kept) < len(network.states(v)):
            support[v] = kept
    outputs = set(free_do) | ({target} if not fixed else set())
    support.update(_prune(network, nodes, {**support, **evidence, **do, **(fixed or {})},
                          outputs))
    restrict = {**support, **evidence, **do, **(fixed or {})}
    parameters = frozenset(network.parameters_for(nodes, restrict=restrict))

    def size_of(a):
        kept = restrict.get(a)
        if kept is None:
            return len(network.states(a))
        return 1 if isinstance(kept, int) else len(kept)

    size = 1
    for v in nodes:
        cpt = network.node(v).cpt
        route = set(getattr(cpt, "route_parents", ()))
        family = [*network.parents(v), v]
        if route:  # built as three factors; the largest (V) spans the other parents, twice
            cells = 2 * int(np.prod([size_of(a) for a in family if a not in route]))
        else:
            cells = int(np.prod([size_of(a) for a in family]))
        size = max(size, cells)
    return nodes, parameters, size, support


def _prune(network, nodes, restrict, outputs) -> dict[str, tuple[int, ...]]:
    """States that parameter-free CPTs rule out, whatever the draws: variable -> states kept.

    A CPT that reads no parameter (a deterministic AND, a 0/1 table, a uniform prior) is the
    same in every draw. Where it is 0 for every configuration with ``x = s``, the whole joint
    is 0 there, so state ``s`` of ``x`` can be dropped from every factor: exactly the answer,
    with less to compute. Built once at planning on the current restriction (one draw),
    repeated until nothing more drops (fixing the target ``harm=yes`` drops ``no``-states of
    its parents, which then drop states of theirs). Outputs (the free interventions, an
    unfixed target) and variables already at one state are left alone.
    """
    restrict = dict(restrict)
    pruned: dict[str, tuple[int, ...]] = {}
    constant = [v for v in network.variables if v in nodes
                and network.node(v).cpt.kind != "calibrated_route"
                and not network.parameters_for([v], restrict=restrict)]
    changed = True
    while changed:
        changed = False
        for v in constant:
            for nonzero, labels in _nonzero(network, v, restrict):
                for axis, var in enumerate(labels[:-1]):
                    if var in outputs or var not in network.variables:
                        continue
                    current = restrict.get(var)
                    if current is None:
                        current = tuple(range(len(network.states(var))))
                    elif isinstance(current, int | np.integer):
                        continue
                    if len(current) <= 1:
                        continue
                    others = tuple(a for a in range(nonzero.ndim) if a != axis)
                    alive = np.any(nonzero, axis=others) if others else nonzero
                    kept = tuple(current[i] for i in np.flatnonzero(alive))
                    if kept and len(kept) < len(current):  # none left: impossible; said later
                        restrict[var] = pruned[var] = kept
                        changed = True
    return pruned


def _nonzero(network, v, restrict) -> list[tuple[np.ndarray, tuple[str, ...]]]:
    """Where the factors of the parameter-free CPT of ``v`` are not zero, on the states
    ``restrict`` keeps: the factors built once per network on every state (at the point
    values, which a parameter-free CPT does not read) and sliced, which is what building them
    restricted gives (a restricted build is a slice of the whole, to the last bit) without
    building them again at every planning of every new question."""
    built = _WHOLE.setdefault(network, {})
    whole = built.get(v)
    if whole is None:
        try:
            whole = [(np.asarray(arr)[..., 0] != 0, labels)
                     for arr, labels in network.compile_factors({}, nodes=[v])]
        except GmnetError:  # a CPT that is only valid on some states: built restricted
            whole = False
        built[v] = whole
    if whole is False:
        return [(np.asarray(arr)[..., 0] != 0, labels)
                for arr, labels in network.compile_factors({}, restrict=restrict, nodes=[v])]
    out = []
    for nonzero, labels in whole:
        index = []
        for var in labels[:-1]:
            kept = restrict.get(var) if var in network.variables else None
            if kept is None:
                index.append(np.arange(nonzero.shape[len(index)]))
            else:
                index.append(np.asarray([kept] if isinstance(kept, int | np.integer)
                                        else sorted({int(i) for i in kept}), dtype=np.intp))
        out.append((nonzero[np.ix_(*index)], labels))
    return out


# The parameter-free CPTs' nonzero patterns on every state, per network and node (_nonzero).
_WHOLE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _prior_support(network, v) -> tuple[int, ...] | None:
    """The states a root node's fixed prior gives a positive probability (None: not fixed)."""
    cpt = network.node(v).cpt
    if cpt.kind == "prior" and all(not isinstance(p, str)
                                   for p in cpt.probabilities.values()):
        probs = [float(cpt.probabilities[s]) for s in network.states(v)]
    elif cpt.kind == "table":
        probs = [float(x) for x in cpt.rows[0]]
    else:
        return None
    return tuple(i for i, p in enumerate(probs) if p > 0)
