"""Exact inference as a tensor contraction over the CPTs (variable elimination by einsum).

Every CPT keeps its leading draw axis, so one contraction answers a query for all N parameter
draws at once. Point queries (:func:`marginal`, :func:`scaled_marginal`) eliminate in a
min-fill order with rescaling (:mod:`gmnet.inference.elimination`); the batched engine's
draws-last contraction (:func:`contract_last`) takes its pairwise order from opt_einsum. Both
orders are cached per query shape.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterable, Mapping, Sequence
from functools import lru_cache

import numpy as np
import opt_einsum as oe

from gmnet.model.compiled import CompiledModel
from gmnet.model.cpts import DRAW_LABEL

__all__ = ["marginal", "scaled_marginal", "relevant_nodes", "contract_last", "factor_operands",
           "DRAW_LABEL"]

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
    Entries below the smallest double come back as 0; :func:`scaled_marginal` keeps them.
    """
    joint, exponent = _scaled(model, keep, evidence, factors_of=factors_of, chunk=chunk)
    with np.errstate(under="ignore", over="ignore"):
        return np.ldexp(joint, exponent.reshape((-1,) + (1,) * (joint.ndim - 1)))


def scaled_marginal(
    model: CompiledModel,
    keep: Sequence[str],
    evidence: Mapping[str, int] | None = None,
    *,
    factors_of: Iterable[str] | None = None,
    chunk: int | None = None,
    order: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`marginal` as ``(joint, log_scale)``: the true joint is ``joint * exp(log_scale)``
    per draw, and ``joint``'s largest entry is 1 in every draw where the evidence is possible.

    Variable elimination in a min-fill order (:mod:`gmnet.inference.elimination`), each
    intermediate factor rescaled by a power of two (exact) to a largest entry near 1, so nothing
    underflows: a posterior whose joint is 1e-330 while the evidence is 1e-290 keeps full
    relative precision, and so does an evidence probability of 1e-400.
    """
    joint, exponent = _scaled(model, keep, evidence, factors_of=factors_of, chunk=chunk,
                              order=order)
    return joint, exponent * np.log(2.0)


def _scaled(model: CompiledModel, keep: Sequence[str], evidence: Mapping[str, int] | None, *,
            factors_of: Iterable[str] | None, chunk: int | None,
            order: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(joint, power-of-two exponent per draw); see :func:`scaled_marginal`."""
    from gmnet.inference.elimination import eliminate

    evidence = dict(evidence or {})
    keep = list(keep)
    nodes = set(factors_of) if factors_of is not None else relevant_nodes(model, keep, evidence)
    cards = {v: model.card(v) for v in model.variables}
    arrays: list[np.ndarray] = []
    labels: list[tuple[str, ...]] = []
    for v in model.variables:
        if v not in nodes:
            continue
        axes = [*model.parents[v], v]
        index: list = [slice(None)]
        own: list[str] = []
        for a in axes:
            if a in evidence:
                index.append(evidence[a])
            else:
                index.append(slice(None))
                own.append(a)
        arrays.append(model.cpts[v][tuple(index)])
        labels.append(tuple(own))
    n = model.draws
    if chunk is None or n <= chunk:
        return eliminate(arrays, labels, keep, cards, draws=n, order=order)
    pieces, scales = [], []
    for start in range(0, n, chunk):
        sliced = [a[start:start + chunk] if a.shape[0] > 1 else a for a in arrays]
        joint, scale = eliminate(sliced, labels, keep, cards, draws=min(chunk, n - start),
                                 order=order)
        pieces.append(joint)
        scales.append(scale)
    return np.concatenate(pieces, axis=0), np.concatenate(scales)


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


def factor_operands(factors) -> list:
    """(array, labels) factors, draws last, as :func:`contract_last` takes them: (array,
    labels, ...), every axis of size 1 dropped (a variable fixed to one state, or one the
    factor does not depend on: either way it can go)."""
    operands: list = []
    for arr, labels in factors:
        index = tuple(0 if size == 1 else slice(None) for size in arr.shape[:-1])
        kept = [label for label, size in zip(labels[:-1], arr.shape[:-1], strict=True)
                if size != 1]
        operands += [arr[(*index, slice(None))], [*kept, DRAW_LABEL]]
    return operands


def contract_last(operands: Sequence, out: Sequence[Hashable], *,
                  draws_hint: int | None = None) -> np.ndarray:
    """Contract ``operands`` (array, labels, ...) whose LAST axis is the draw axis.

    Like :func:`contract`, but for arrays laid out (*variable axes, N): every pairwise step is
    one ``numpy.einsum`` whose output keeps the draws last and contiguous, so its inner loop runs
    over the draws (several times faster than with the draws first). The pairwise order comes
    from opt_einsum and is cached per labels and shapes: a greedy search, or a more thorough
    one (a fraction of a second, once) when ``draws_hint`` draws make the contraction large
    enough to repay it. Every operand's labels must end with :data:`DRAW_LABEL`, and so must
    ``out``; a draw axis of size 1 broadcasts.

    >>> a = np.ones((3, 5)); b = np.full((3, 4, 5), 0.5)
    >>> contract_last([a, ["x", DRAW_LABEL], b, ["x", "y", DRAW_LABEL]], ["y", DRAW_LABEL]).shape
    (4, 5)
    """
    arrays = [np.asarray(a) for a in operands[0::2]]
    labels = [tuple(s) for s in operands[1::2]]
    out = tuple(out)
    if any(not s or s[-1] != DRAW_LABEL for s in labels) or not out or out[-1] != DRAW_LABEL:
        raise ValueError("contract_last: every operand and the output end with the draw axis")
    if not arrays:
        if len(out) != 1:
            raise ValueError("with no operands the only possible output is the draw axis")
        return np.ones(1)
    letters: dict = {}
    for s in labels + [out]:
        for i in s:
            letters.setdefault(i, oe.get_symbol(len(letters)))
    subs = tuple("".join(letters[i] for i in s) for s in labels)
    dims = tuple(a.shape[:-1] for a in arrays)
    out_subs = "".join(letters[i] for i in out)
    draw = letters[DRAW_LABEL]
    steps = _pairwise_program(subs, out_subs, dims, draw, False)
    if draws_hint and _program_cost(subs, out_subs, dims) * draws_hint > THOROUGH_PATH_FLOPS:
        steps = _pairwise_program(subs, out_subs, dims, draw, True)
    stack = list(arrays)
    for positions, spec in steps:
        taken = [stack[k] for k in positions]
        for k in sorted(positions, reverse=True):
            del stack[k]
        layout = _product_layout(spec)
        if layout is not None and len(taken) == 2:
            aligned = []
            for a, (perm, where) in zip(taken, layout, strict=True):
                t = np.transpose(a, perm)
                aligned.append(t.reshape([t.shape[w] if w >= 0 else 1 for w in where]))
            stack.append(np.multiply(*aligned))
        else:
            stack.append(np.einsum(spec, *taken))
    return stack[0]


@lru_cache(maxsize=4096)
def _product_layout(spec: str):
    """For a pairwise step that sums nothing (``ab,bc->abc``): each operand's axes in the
    output's order, and where each output axis comes from in it (-1: a new axis of size 1), so
    that the step is one broadcast ``numpy.multiply``. einsum computes the same single product
    per entry, so the numbers are the same to the last bit, several times faster (einsum's
    generic loop costs about 5 ns an entry here). None for a step that sums."""
    inputs, out = spec.split("->")
    subs = inputs.split(",")
    if len(subs) != 2 or set(out) != set(subs[0]) | set(subs[1]) \
            or any(len(set(s)) != len(s) for s in subs):
        return None
    layout = []
    for sub in subs:
        order = [c for c in out if c in sub]
        perm = tuple(sub.index(c) for c in order)
        where = tuple(order.index(c) if c in sub else -1 for c in out)
        layout.append((perm, where))
    return tuple(layout)


# Above this many multiply-adds in a run, a thorough path search (about 0.3 s) pays for itself.
THOROUGH_PATH_FLOPS = 2e9


def _search(subs: tuple, out: str, shapes: list, optimizer) -> list:
    """opt_einsum's pairwise path for ``subs -> out``, the same in every process.

    opt_einsum's searches walk sets of the index labels; with one-letter string labels that
    order follows Python's per-process string hashing (PYTHONHASHSEED), so two processes (two
    runs of a command, or a Dask worker and the machine that asked) could choose different
    orders, whose sums differ in the last bit. Integer labels hash alike in every process.
    """
    if len(subs) <= 2:
        return [tuple(range(len(subs)))]
    ids = {c: i for i, c in enumerate(dict.fromkeys("".join(subs) + out))}
    size: dict[int, int] = {}
    for sub, shape in zip(subs, shapes, strict=True):
        for c, n in zip(sub, shape, strict=True):
            size[ids[c]] = max(size.get(ids[c], 1), int(n))
    inputs = [frozenset(ids[c] for c in sub) for sub in subs]
    search = (optimizer if isinstance(optimizer, oe.paths.PathOptimizer)
              else oe.paths.get_path_fn(optimizer))
    return list(search(inputs, frozenset(ids[c] for c in out), size, None))


@lru_cache(maxsize=1024)
def _program_cost(subs: tuple, out: str, dims: tuple) -> float:
    """Multiply-adds per draw of the greedy path."""
    shapes = [(*d, 1) for d in dims]
    path = _search(subs, out, shapes, "greedy")
    _, info = oe.contract_path(",".join(subs) + "->" + out, *shapes, shapes=True,
                               optimize=path)
    return float(info.opt_cost)


@lru_cache(maxsize=1024)
def _pairwise_program(subs: tuple, out: str, dims: tuple, draw: str, thorough: bool) -> tuple:
    """The einsum steps (positions, spec) that contract ``subs`` into ``out``, draws last.

    Each step takes the operands at ``positions`` off the stack and pushes its result.
    """
    if len(subs) == 1:
        return (((0,), f"{subs[0]}->{out}"),)
    # the path does not depend on the number of draws; 1024 stands in for it
    shapes = [(*d, 1024) for d in dims]
    optimizer = oe.RandomGreedy(max_repeats=64) if thorough else "greedy"
    # opt_einsum's random greedy seeds Python's global `random` with each trial's number:
    # repeatable paths, but the caller's random state must survive it
    state = random.getstate()
    try:
        path = _search(subs, out, shapes, optimizer)
    finally:
        random.setstate(state)
    live = list(subs)
    steps = []
    for pair in path:
        positions = tuple(pair)
        rest = [s for k, s in enumerate(live) if k not in positions]
        needed = set(out).union(*rest)
        merged = "".join(live[k] for k in positions)
        keep = "".join(c for c in dict.fromkeys(merged) if c != draw and c in needed)
        if not rest and set(keep) == set(out[:-1]):
            keep = out[:-1]  # the last step writes the output's own order
        keep += draw
        steps.append((positions, ",".join(live[k] for k in positions) + "->" + keep))
        for k in sorted(positions, reverse=True):
            del live[k]
        live.append(keep)
    if live[0] != out:
        steps.append(((0,), f"{live[0]}->{out}"))
    return tuple(steps)
