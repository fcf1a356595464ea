"""Brute-force enumeration: the reference every other engine is tested against.

Builds the full joint distribution of the relevant variables by broadcasting products of the
CPTs (no elimination order, no cleverness), then sums. Only for small networks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from gmnet.errors import InvalidArgumentError
from gmnet.model.compiled import CompiledModel

__all__ = ["enumerate_marginal", "MAX_JOINT_ENTRIES"]

MAX_JOINT_ENTRIES = 20_000_000


def enumerate_marginal(
    model: CompiledModel, keep: Sequence[str], evidence: Mapping[str, int] | None = None
) -> np.ndarray:
    """Unnormalised P(keep, evidence) for the first draw, shape (*cards of keep), by enumeration.

    Every variable of the model takes part (no pruning), restricted to its observed state where
    it is evidence.
    """
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
    joint = np.ones(shape)
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
        joint = joint * sliced.reshape(target_shape)
    keep_axes = [axis[k] for k in keep]
    others = tuple(i for i in range(len(variables)) if i not in keep_axes)
    summed = joint.sum(axis=others)
    # summed has the kept axes in model order; put them in the order asked for
    kept_in_order = sorted(keep_axes)
    return summed.transpose([kept_in_order.index(a) for a in keep_axes])
