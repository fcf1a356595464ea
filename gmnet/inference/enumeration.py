"""Brute-force enumeration: the reference every other engine is tested against.

Builds the full joint distribution of the relevant variables by broadcasting products of the
CPTs (no elimination order, no cleverness), then sums. Only for small networks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from gmnet.errors import InvalidArgumentError
from gmnet.model.compiled import CompiledModel

__all__ = ["enumerate_marginal", "enumerate_scaled_marginal", "MAX_JOINT_ENTRIES"]

MAX_JOINT_ENTRIES = 20_000_000


def enumerate_marginal(
    model: CompiledModel, keep: Sequence[str], evidence: Mapping[str, int] | None = None
) -> np.ndarray:
    """Unnormalised P(keep, evidence) for the first draw, shape (*cards of keep), by enumeration.

    Every variable of the model takes part (no pruning), restricted to its observed state where
    it is evidence.
    """
    mantissa, exponent = enumerate_scaled_marginal(model, keep, evidence)
    with np.errstate(under="ignore"):
        return np.ldexp(mantissa, exponent)


def enumerate_scaled_marginal(
    model: CompiledModel, keep: Sequence[str], evidence: Mapping[str, int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`enumerate_marginal` as ``(mantissa, exponent)``, the value being
    ``mantissa * 2**exponent``: each product is kept as a product of mantissas times a power of
    two (:func:`numpy.frexp`), and powers of two scale exactly, so the answer is the plain
    product-and-sum's to the last bit where that does not underflow, and stays exact where it
    would."""
    evidence = dict(evidence or {})
    variables = list(model.variables)
    # each variable's range of states: all of them, or just the observed one
    ranges = {v: [evidence[v]] if v in evidence else list(range(model.card(v))) for v in variables}
    shape = tuple(len(ranges[v]) for v in variables)
    size = int(np.prod(shape, dtype=float))
    if size > MAX_JOINT_ENTRIES:
        raise InvalidArgumentError(
            f"enumeration would build a joint of {size:,} entries (limit {MAX_JOINT_ENTRIES:,}); "
            "use engine='einsum' or 'pgmpy' for this network")
    axis = {v: i for i, v in enumerate(variables)}
    mantissa = np.ones(shape)
    exponent = np.zeros(shape, dtype=np.int64)
    for v in variables:
        cpt = model.cpts[v][0]
        family = [*model.parents[v], v]
        sliced = cpt[np.ix_(*[ranges[a] for a in family])]
        # move the family's axes to their places in the joint
        target_shape = [1] * len(variables)
        order = sorted(range(len(family)), key=lambda i: axis[family[i]])
        sliced = sliced.transpose(order)
        for i in order:
            target_shape[axis[family[i]]] = len(ranges[family[i]])
        m, e = np.frexp(sliced.reshape(target_shape))
        mantissa = mantissa * m
        exponent = exponent + e
        # keep the mantissas near 1 (a product of 30 halves would lose nothing, but 1,100 would)
        m, e = np.frexp(mantissa)
        mantissa, exponent = m, exponent + e
    keep_axes = [axis[k] for k in keep]
    others = tuple(i for i in range(len(variables)) if i not in keep_axes)
    live = mantissa != 0
    low = np.iinfo(np.int64).min
    top = np.max(np.where(live, exponent, low), axis=others, keepdims=True) if others else \
        np.where(live, exponent, low)
    top = np.where(top == low, 0, top)
    with np.errstate(under="ignore"):
        summed = np.ldexp(mantissa, np.clip(exponent - top, -2000, 0)).sum(axis=others)
    top = np.squeeze(top, axis=others) if others else top
    # summed has the kept axes in model order; put them in the order asked for
    kept_in_order = sorted(keep_axes)
    transpose = [kept_in_order.index(a) for a in keep_axes]
    return summed.transpose(transpose), np.asarray(top).transpose(transpose)
