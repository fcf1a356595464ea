"""Every mitigation portfolio at once (one contraction over the portfolio bits) and the Shapley
values of the mitigations: the arithmetic behind :func:`gmnet.compare_mitigations`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from gmnet.errors import ImpossibleEvidenceError, InvalidArgumentError
from gmnet.inference.contraction import marginal
from gmnet.model.compiled import CompiledModel

__all__ = ["ON", "OFF", "portfolio_probabilities", "shapley_values"]

ON, OFF = "on", "off"


def portfolio_probabilities(
    model: CompiledModel,
    mitigations: Sequence[str],
    target: str,
    state: int,
    evidence: Mapping[str, int] | None = None,
    do: Mapping[str, int] | None = None,
    *,
    chunk: int | None = 50_000,
) -> np.ndarray:
    """P(target = state | evidence, do(do, portfolio)) for every portfolio and every draw.

    Parameters
    ----------
    model
        A compiled model, possibly with N parameter draws (``Network.compile``).
    mitigations
        The mitigation nodes, each with states ``on`` and ``off``; their order fixes the bits of
        the portfolio index.
    target, state
        The target node and the index of its state.
    evidence, do
        Variable -> state index. Neither may name a mitigation; evidence should not lie
        downstream of one (:func:`compare_mitigations` checks both).
    chunk
        Draws per contraction (bounds memory).

    Returns
    -------
    numpy.ndarray
        Shape ``(N, 2**len(mitigations))``; column ``i`` is portfolio ``i`` (bit ``j`` set when
        ``mitigations[j]`` is on).
    """
    evidence = dict(evidence or {})
    do = dict(do or {})
    names = list(mitigations)
    k = len(names)
    # cut every mitigation from its parents; the fixed state is irrelevant since their own
    # factors are left out below, which keeps their states free
    cut = model.intervene({**do, **{m: 0 for m in names}})
    factors = cut.ancestors_of({target, *evidence}) - set(names)
    used = {p for v in factors for p in cut.parents[v]} | factors
    active = [m for m in names if m in used]
    keep = [*active, target]
    joint = marginal(cut, keep, evidence, factors_of=factors, chunk=chunk)
    n = joint.shape[0]
    # each mitigation axis as (off, on) so that 1 means on
    for axis, m in enumerate(active, start=1):
        states = model.states[m]
        joint = np.take(joint, [states.index(OFF), states.index(ON)], axis=axis)
    total = joint.sum(axis=-1)
    if np.any(~(total > 0)):
        named = ", ".join(f"{v}={model.states[v][i]}" for v, i in evidence.items())
        raise ImpossibleEvidenceError(
            f"the evidence ({named}) is impossible under the model (probability 0) for at least "
            "one portfolio" + ("" if n == 1 else " or parameter draw"))
    p_active = joint[..., state] / total
    # lay the active mitigations out on the full bit grid: axes in reverse order so that a
    # C-order reshape puts mitigations[j] on bit j; inactive mitigations broadcast
    shape = [n] + [2 if m in active else 1 for m in reversed(names)]
    order = [0] + [1 + active.index(m) for m in reversed(names) if m in active]
    p = p_active.transpose(order).reshape(shape)
    return np.broadcast_to(p, (n,) + (2,) * k).reshape(n, 2**k).copy()


def shapley_values(values: np.ndarray) -> np.ndarray:
    """Exact Shapley values of a game given on every coalition.

    ``values`` has shape ``(..., 2**k)``: the worth of each coalition, indexed by bits as the
    portfolios are. Returns shape ``(..., k)``; along the last axis the values sum to
    ``values[..., -1] - values[..., 0]``.

    >>> shapley_values(np.array([0.0, 1.0, 1.0, 3.0]))  # a, b alone 1 each, together 3
    array([1.5, 1.5])
    """
    values = np.asarray(values, dtype=float)
    size = values.shape[-1]
    k = size.bit_length() - 1
    if size != 2**k:
        raise InvalidArgumentError(f"values must have 2**k entries on the last axis, got {size}")
    index = np.arange(size)
    members = np.array([bin(i).count("1") for i in range(size)])
    weight = np.array([math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k)
                       if s < k else 0.0 for s in range(k + 1)])
    out = np.empty(values.shape[:-1] + (k,))
    for i in range(k):
        without = index[(index >> i & 1) == 0]
        gain = values[..., without | (1 << i)] - values[..., without]
        out[..., i] = (gain * weight[members[without]]).sum(axis=-1)
    return out
