"""Exact inference as one tensor contraction over the CPTs (variable elimination by einsum).

Every CPT keeps its leading draw axis, so one contraction answers a query for all N parameter
draws at once. Contraction paths come from opt_einsum and are cached per query shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

import numpy as np
import opt_einsum as oe

from gmnet.model.compiled import CompiledModel

__all__ = ["marginal", "relevant_nodes"]

DRAW = 0


def relevant_nodes(model: CompiledModel, keep: Iterable[str], evidence: Iterable[str]) -> set[str]:
    """Nodes whose CPTs matter: ancestors of the kept and observed nodes (barren nodes drop)."""
    return model.ancestors_of(set(keep) | set(evidence))


def marginal(
    model: CompiledModel,
    keep: Sequence[str],
    evidence: Mapping[str, int] | None = None,
    *,
    factors_of: Iterable[str] | None = None,
    chunk: int | None = None,
) -> np.ndarray:
    """Sum of the product of CPTs over every variable but ``keep``, with ``evidence`` fixed.

    Returns an array of shape ``(N, *[card(k) for k in keep])``: the unnormalised joint
    P(keep, evidence) per draw. ``factors_of`` restricts the product to those nodes' CPTs (their
    parents outside the set then act as free indices, which must be listed in ``keep``).
    """
    evidence = dict(evidence or {})
    keep = list(keep)
    nodes = set(factors_of) if factors_of is not None else relevant_nodes(model, keep, evidence)
    ids = {v: i + 1 for i, v in enumerate(model.variables)}
    operands: list = []
    order = [v for v in model.variables if v in nodes]
    for v in order:
        arr = model.cpts[v]
        axes = [*model.parents[v], v]
        sub = [DRAW]
        index: list = [slice(None)]
        for a in axes:
            if a in evidence:
                index.append(evidence[a])
            else:
                index.append(slice(None))
                sub.append(ids[a])
        operands.append(arr[tuple(index)])
        operands.append(sub)
    out = [DRAW] + [ids[k] for k in keep]
    if not operands:
        n = model.draws
        return np.ones((n,) + tuple(model.card(k) for k in keep))
    if chunk is None or model.draws <= chunk:
        return _contract(operands, out)
    pieces = []
    for start in range(0, model.draws, chunk):
        sliced = [op[start : start + chunk] if i % 2 == 0 else op for i, op in enumerate(operands)]
        pieces.append(_contract(sliced, out))
    return np.concatenate(pieces, axis=0)


def _contract(operands: list, out: list[int]) -> np.ndarray:
    arrays = operands[0::2]
    subs = [tuple(s) for s in operands[1::2]]
    # a size-1 draw axis broadcasts against N draws
    n = max(a.shape[0] for a in arrays)
    arrays = [a if a.shape[0] == n else np.broadcast_to(a, (n,) + a.shape[1:]) for a in arrays]
    expr = _expression(tuple(subs), tuple(out), tuple(a.shape for a in arrays))
    return expr(*arrays)


@lru_cache(maxsize=2048)
def _expression(subs: tuple, out: tuple, shapes: tuple):
    letters = {}
    for s in subs + (out,):
        for i in s:
            letters.setdefault(i, oe.get_symbol(len(letters)))
    spec = ",".join("".join(letters[i] for i in s) for s in subs) + "->" + "".join(
        letters[i] for i in out
    )
    return oe.contract_expression(spec, *shapes, optimize="auto")
