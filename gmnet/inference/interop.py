"""Hand a network to another library: ``gmnet.to_pgmpy(network)``; :func:`to_pyagrum` for
pyAgrum (used by the tests and benchmarks that compare with it).

>>> import gmnet
>>> bn = gmnet.to_pgmpy(gmnet.load_network())
>>> sorted(bn.nodes())[:2]
['adversarial_training', 'ai_control']
"""

from __future__ import annotations

import numpy as np

from gmnet.errors import InvalidArgumentError
from gmnet.inference.pgmpy_backend import to_pgmpy as _to_pgmpy
from gmnet.model.compiled import CompiledModel
from gmnet.model.network import Network

__all__ = ["to_pgmpy", "to_pyagrum", "fill_pyagrum"]


def to_pgmpy(network: Network | CompiledModel):
    """The network at its point values as a pgmpy ``DiscreteBayesianNetwork``."""
    if isinstance(network, Network):
        return _to_pgmpy(network.compiled)
    if isinstance(network, CompiledModel):
        return _to_pgmpy(network)
    raise InvalidArgumentError(f"to_pgmpy takes a Network, got {type(network).__name__}")


def to_pyagrum(model: CompiledModel, draw: int = 0):
    """Draw ``draw`` of a compiled model as a pyAgrum ``BayesNet`` (pyAgrum must be installed:
    it is in the ``dev`` extra)."""
    try:
        import pyagrum as gum
    except ImportError:
        raise InvalidArgumentError("to_pyagrum needs pyAgrum: pip install pyagrum") from None
    bn = gum.BayesNet()
    for v in model.variables:
        var = gum.LabelizedVariable(v, v, 0)
        for s in model.states[v]:
            var.addLabel(s)
        bn.add(var)
    for v in model.variables:
        for p in model.parents[v]:
            bn.addArc(p, v)
    fill_pyagrum(bn, model, draw)
    return bn


def fill_pyagrum(bn, model: CompiledModel, draw: int) -> None:
    """Write draw ``draw`` of ``model``'s CPTs into ``bn`` (made by :func:`to_pyagrum`)."""
    for v in model.variables:
        cpt = bn.cpt(v)
        parents = list(model.parents[v])
        arr = np.asarray(model.cpts[v][draw], dtype=float)  # (*parents, v)
        # pyAgrum lays a table out over its variables in reverse order of cpt.names
        order = [parents.index(p) for p in reversed(cpt.names[1:])] + [len(parents)]
        cpt.fillWith(np.transpose(arr, order).reshape(-1).tolist())
