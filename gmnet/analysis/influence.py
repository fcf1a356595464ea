"""Which uncertain inputs can move an answer, and which only reach it.

An input *reaches* an answer when a CPT the query reads uses it; it *moves* the answer when
changing it changes the answer. The two differ: the calibrated route keeps a node's marginal
whatever its inner numbers, a mitigation held off never reads its effect, and the training-phase
split of the pathway cancels out of P(harm). An uncertainty band or a sensitivity ranking should
speak of the inputs that move the answer.

The test is numeric: each reached input is set to the low and the high end of its distribution
with every other input at its point value, and again inside a few joint draws of all of them
(so an input that matters only together with another is not missed). An input whose every
change leaves the answer within ``tolerance`` cancels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gmnet.random import as_generator

__all__ = ["moving_inputs", "JOINT_DRAWS"]

JOINT_DRAWS = 8  # joint draws in which every input is also moved to each end of its range


def moving_inputs(model, query, state_index: int, names: Sequence[str], *, rng=0,
                  tolerance: float = 1e-12) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(inputs that move the answer, inputs that reach it but cancel), both in ``names`` order.

    ``model`` is an :class:`gmnet.analysis.uncertainty.UncertaintyModel`, ``query`` a planned
    batched query (:func:`gmnet.inference.batched.plan_query`) and ``names`` the inputs that
    reach it.
    """
    names = list(names)
    if not names:
        return (), ()
    if not isinstance(rng, int):
        return _moving_inputs(model, query, state_index, names, rng, tolerance)
    # the same question, inputs and seed always give the same answer: kept, so a server or a
    # notebook asking again does not run the design again (the plan is kept with it, so its id
    # cannot be reused while the entry lives)
    key = (id(query), state_index, tuple(names), model.inputs, model.unknowns,
           id(model.network), rng, tolerance)
    hit = _MOVING.get(key)
    if hit is not None and hit[0] is query and hit[1] is model.network:
        return hit[2]
    found = _moving_inputs(model, query, state_index, names, rng, tolerance)
    if len(_MOVING) >= MOVING_CACHE:
        _MOVING.clear()
    _MOVING[key] = (query, model.network, found)
    return found


MOVING_CACHE = 256
_MOVING: dict[tuple, tuple] = {}


def _moving_inputs(model, query, state_index, names, rng, tolerance):
    items = [model.input(n) for n in names]
    points = np.array([float(i.point) for i in items])
    lows = np.array([float(i.low) for i in items])
    highs = np.array([float(i.high) for i in items])
    joint = model.sample(JOINT_DRAWS, rng=as_generator(rng), names=names)
    bases = np.vstack([points, np.column_stack([np.asarray(joint[n], dtype=float)
                                                for n in names])])
    k, d = bases.shape
    # rows: for each input i, for each base b: (low, high) -> 2 k d rows, then the bases
    rows = np.repeat(bases[None, :, :], 2 * d, axis=0).reshape(2, d, k, d)
    for i in range(d):
        rows[0, i, :, i] = lows[i]
        rows[1, i, :, i] = highs[i]
    design = rows.reshape(-1, d)
    draws = {n: design[:, j] for j, n in enumerate(names)}
    answers = query.run(model.parameter_values(draws))[:, state_index]
    answers = np.broadcast_to(answers, (design.shape[0],)).reshape(2, d, k)
    moves = np.abs(answers[1] - answers[0]).max(axis=1) > tolerance
    moving = tuple(n for n, m in zip(names, moves, strict=True) if m)
    return moving, tuple(n for n in names if n not in moving)
