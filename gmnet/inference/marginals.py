"""Every variable's posterior marginal and the probability of the evidence, for one model.

What the UAI competitions' MAR and PR tasks ask (see ``gmnet uai``). Each marginal is one
rescaled variable elimination (:func:`gmnet.inference.contraction.scaled_marginal`) over the
ancestors of the variable and the evidence (each planned in its own min-fill order: one order
shared by all the queries, tried, was up to 300 times slower on link); the probability
of the evidence comes back as its natural logarithm, exact far below the smallest double.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gmnet.errors import ImpossibleEvidenceError
from gmnet.inference.contraction import scaled_marginal
from gmnet.model.compiled import CompiledModel

__all__ = ["all_marginals", "log_evidence"]


def log_evidence(model: CompiledModel, evidence: Mapping[str, int]) -> float:
    """ln P(evidence) under draw 0 of ``model`` (-inf when it is impossible)."""
    joint, log_scale = scaled_marginal(model.point(0), [], evidence)
    total = float(joint.reshape(-1)[0])
    return float(np.log(total) + log_scale[0]) if total > 0 else -np.inf


def all_marginals(model: CompiledModel, evidence: Mapping[str, int]) -> list[np.ndarray]:
    """P(v | evidence) for every variable of ``model`` in order (observed ones: certain)."""
    point = model.point(0)
    if evidence and not np.isfinite(log_evidence(point, evidence)):
        raise ImpossibleEvidenceError("the evidence is impossible under the model "
                                      "(probability 0)")
    out = []
    for v in point.variables:
        if v in evidence:
            dist = np.zeros(point.card(v))
            dist[evidence[v]] = 1.0
        else:
            joint, _ = scaled_marginal(point, [v], evidence)
            dist = joint[0] / joint[0].sum()
        out.append(dist)
    return out

