"""Variable elimination in a min-fill order, with rescaled factors.

One einsum over every CPT of a large network (the way :mod:`gmnet.inference.contraction` used
to answer point queries) leaves the order to opt_einsum's greedy search, which on munin3
(1,041 nodes) built factors of billions of entries: 291 s for five root posteriors that
pyAgrum's junction tree answers in 0.04 s. Here the order is chosen on the factors' interaction
graph by the classic greedy rule: eliminate next the variable whose elimination adds the fewest
new edges (min-fill), ties broken by the size of the factor it creates (min-weight). Each
variable's bucket is contracted by one einsum and rescaled to a largest entry of 1 per draw,
the scale kept as a logarithm, so no product underflows however small it gets.

Orders are cached per (factor scopes, cardinalities, kept variables): a repeated query on one
network, or the same query for another chunk of parameter draws, plans once.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np
import opt_einsum as oe

from gmnet.errors import InvalidArgumentError

__all__ = ["eliminate", "elimination_order", "MAX_FACTOR_ENTRIES"]

#: Largest intermediate factor, in entries per draw (8 bytes each): 2^28 is 2 GB.
MAX_FACTOR_ENTRIES = 1 << 28
#: Buckets whose factors hold more entries than this are contracted along opt_einsum's greedy
#: path; smaller ones by pairwise einsum, largest first (planning them costs more than they do).
LARGE_BUCKET_ENTRIES = 50_000


def eliminate(arrays: Sequence[np.ndarray], labels: Sequence[tuple[str, ...]],
              keep: Sequence[str], cards: Mapping[str, int], *, draws: int,
              order: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sum the product of ``arrays`` (each ``(N or 1, *axes)`` with ``labels`` naming the axes
    after the draw axis) over every variable not in ``keep``.

    Returns ``(joint, exponent)``: ``joint`` of shape ``(draws, *[cards[k] for k in keep])``
    with a largest entry in [0.5, 1) per draw (0 where the product is 0 everywhere), and an
    integer power of two per draw, so that the sum is ``joint * 2**exponent``. Scaling by powers
    of two is exact: where nothing underflows, ``ldexp(joint, exponent)`` is the plain
    product-and-sum's value. ``order`` (every variable to sum out, in order; others it lists
    are skipped) replaces the min-fill order, e.g. one order shared by many queries.
    """
    keep = tuple(keep)
    scopes = tuple(tuple(s) for s in labels)
    if order is None:
        card_items = tuple(sorted((v, cards[v]) for s in scopes for v in s)) + tuple(
            (k, cards[k]) for k in keep)
        order = elimination_order(scopes, keep, tuple(dict.fromkeys(card_items)))
    else:
        kept = set(keep)
        order = [v for v in order if v not in kept]
    log_scale = np.zeros(draws, dtype=np.int64)
    factors: dict[int, tuple[np.ndarray, tuple[str, ...]]] = {}
    holding: dict[str, set[int]] = {}  # variable -> the factors that mention it
    for k, (arr, scope) in enumerate(zip(arrays, scopes, strict=True)):
        arr, scale = _rescaled(np.asarray(arr, dtype=float))
        log_scale = log_scale + scale
        factors[k] = (arr, scope)
        for v in scope:
            holding.setdefault(v, set()).add(k)
    fresh = len(factors)
    for var in order:
        ids = holding.pop(var, set())
        if not ids:
            continue
        bucket = [factors.pop(k) for k in sorted(ids)]
        scope = tuple(dict.fromkeys(v for _, s in bucket for v in s if v != var))
        for v in scope:
            holding[v] -= ids
        size = 1
        for v in scope:
            size *= cards[v]
        if size > MAX_FACTOR_ENTRIES:
            raise InvalidArgumentError(
                f"exact inference would build a factor of {size:.3g} entries over "
                f"{len(scope)} variables ({size * 8 * max(draws, 1) / 1e9:.3g} GB); the "
                "network is too densely connected for an exact answer on this machine")
        new, scale = _rescaled(_contract(bucket, scope, draws))
        log_scale = log_scale + scale
        factors[fresh] = (new, scope)
        for v in scope:
            holding[v].add(fresh)
        fresh += 1
    factors = list(factors.values())
    joint = _contract(factors, keep, draws) if factors else np.ones(
        (draws,) + tuple(cards[k] for k in keep))
    joint, scale = _rescaled(joint, always=True)
    if joint.shape[0] != draws:
        joint = np.broadcast_to(joint, (draws,) + joint.shape[1:]).copy()
    return joint, np.broadcast_to(log_scale + scale, (draws,)).copy()


# An intermediate factor whose largest entry per draw lies within 2**-SAFE_EXPONENT ..
# 2**SAFE_EXPONENT is left as it is (a power-of-two scaling is exact either way, so the answer is
# the same to the last bit): only factors drifting towards under- or overflow are rescaled.
SAFE_EXPONENT = 100


def _rescaled(arr: np.ndarray, *, always: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``arr`` times the power of two that brings its largest entry per draw into [0.5, 1),
    and minus that power (0 where the draw's entries are all 0: the factor stays 0). Exact.

    Unless ``always``, a factor whose largest entries are all within 2**+-SAFE_EXPONENT comes
    back unscaled (exponent 0)."""
    if not always and arr.ndim and arr.shape[0] == 1 and arr.size:
        # one draw (an exact query's every factor): its largest entry as one number, checked
        # without the arrays of the general case (NaN and the unsafe go on below)
        top1 = arr.max()
        if _SAFE_LOW <= top1 <= _SAFE_HIGH:
            return arr, _UNSCALED
    top = arr.copy() if arr.ndim == 1 else arr.max(axis=tuple(range(1, arr.ndim)))
    if not always and top.size and bool(np.all((top >= _SAFE_LOW) & (top <= _SAFE_HIGH))):
        return arr, np.zeros(top.shape, dtype=np.int64)
    _, exponent = np.frexp(top)
    exponent = exponent.astype(np.int64)
    if not exponent.any():
        return arr, exponent
    return np.ldexp(arr, -exponent.reshape((-1,) + (1,) * (arr.ndim - 1))), exponent


def _contract(factors: list[tuple[np.ndarray, tuple[str, ...]]], out: tuple[str, ...],
              draws: int) -> np.ndarray:
    """The product of ``factors`` summed down to ``out`` (draw axis first everywhere), by
    pairwise ``numpy.einsum`` steps from the largest factor down, each step summing out the
    variables no later factor needs. (opt_einsum's path search cost more than the products on
    small buckets: 70% of the time of every marginal of andes.)"""
    n = max((a.shape[0] for a, _ in factors), default=1)
    if len(factors) > 2 and sum(a.size for a, _ in factors) * n > LARGE_BUCKET_ENTRIES:
        # a large bucket: the order of its products matters more than planning it costs
        arrays = [a if a.shape[0] == n else np.broadcast_to(a, (n,) + a.shape[1:])
                  for a, _ in factors]
        return oe.contract(_spec([s for _, s in factors], out), *arrays, optimize="greedy")
    items = sorted(factors, key=lambda f: -f[0].size)
    acc, acc_scope = items[0]
    if acc.shape[0] != n:
        acc = np.broadcast_to(acc, (n,) + acc.shape[1:])
    wanted = set(out)
    later = [set(s) for _, s in items]
    for i in range(len(items) - 1, 0, -1):
        later[i - 1] = later[i - 1] | later[i]
    if len(items) == 1:
        return np.einsum(_spec([acc_scope], out), acc)
    for k in range(1, len(items)):
        arr, scope = items[k]
        if arr.shape[0] != n:
            arr = np.broadcast_to(arr, (n,) + arr.shape[1:])
        needed = wanted | (later[k + 1] if k + 1 < len(items) else set())
        if k == len(items) - 1:
            target = out
        else:
            target = tuple(v for v in dict.fromkeys(acc_scope + scope) if v in needed)
        acc = np.einsum(_spec([acc_scope, scope], target), acc, arr)
        acc_scope = target
    return acc


def _spec(scopes, out: tuple[str, ...]) -> str:
    return _spec_of(tuple(tuple(s) for s in scopes), tuple(out))


@lru_cache(maxsize=8192)
def _spec_of(scopes: tuple[tuple[str, ...], ...], out: tuple[str, ...]) -> str:
    letters: dict[str, str] = {}
    for scope in [*scopes, out]:
        for v in scope:
            if v not in letters:
                if len(letters) >= len(_LETTERS) - 1:
                    raise InvalidArgumentError("a factor of more than 50 variables; the "
                                               "network is too densely connected")
                letters[v] = _LETTERS[len(letters) + 1]
    draw = _LETTERS[0]
    return ",".join(draw + "".join(letters[v] for v in s) for s in scopes) + "->" + draw + \
        "".join(letters[v] for v in out)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_SAFE_LOW, _SAFE_HIGH = 2.0 ** -SAFE_EXPONENT, 2.0 ** SAFE_EXPONENT
_UNSCALED = np.zeros(1, dtype=np.int64)  # one draw's exponent 0 (shared: never written)
_UNSCALED.flags.writeable = False


@lru_cache(maxsize=512)
def elimination_order(scopes: tuple[tuple[str, ...], ...], keep: tuple[str, ...],
                      cards: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    """The variables of ``scopes`` not in ``keep``, in a greedy min-fill order (ties: the
    smaller factor created, then the name)."""
    card = dict(cards)
    neighbours: dict[str, set[str]] = {}
    for scope in scopes:
        for v in scope:
            neighbours.setdefault(v, set()).update(u for u in scope if u != v)
    kept = set(keep)
    free = {v for v in neighbours if v not in kept}

    def score(v: str) -> tuple[int, float, str]:
        around = list(neighbours[v])
        fill = 0
        for i, a in enumerate(around):
            near = neighbours[a]
            for b in around[i + 1:]:
                if b not in near:
                    fill += 1
        weight = 1.0
        for a in around:
            weight *= card[a]
        return (fill, weight, v)

    heap = [score(v) for v in free]
    heapq.heapify(heap)
    current = {item[2]: item for item in heap}
    order: list[str] = []
    while heap:
        item = heapq.heappop(heap)
        v = item[2]
        if v not in free or current.get(v) != item:
            continue
        free.discard(v)
        order.append(v)
        around = neighbours.pop(v)
        for a in around:
            neighbours[a].discard(v)
            neighbours[a].update(u for u in around if u != a)
        touched = set(around)
        for a in around:
            touched.update(neighbours[a])
        for a in touched:
            if a in free:
                fresh = score(a)
                current[a] = fresh
                heapq.heappush(heap, fresh)
    return tuple(order)
