"""A CompiledModel (one draw) as a pyAgrum BayesNet, for the tests that compare with pyAgrum."""

from __future__ import annotations

import numpy as np


def to_pyagrum(model):
    import pyagrum as gum

    bn = gum.BayesNet()
    for v in model.variables:
        var = gum.LabelizedVariable(v, v, 0)
        for s in model.states[v]:
            var.addLabel(s)
        bn.add(var)
    for v in model.variables:
        for p in model.parents[v]:
            bn.addArc(p, v)
    for v in model.variables:
        cpt = bn.cpt(v)
        parents = list(model.parents[v])
        arr = np.asarray(model.cpts[v][0], dtype=float)  # (*parents, v)
        # pyAgrum's table is laid out over its variables in reverse order of cpt.names
        order = [parents.index(p) for p in reversed(cpt.names[1:])] + [len(parents)]
        cpt.fillWith(np.transpose(arr, order).reshape(-1).tolist())
    return bn
