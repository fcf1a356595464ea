"""Hand a network to another library: ``gmnet.to_pgmpy(network)``.

>>> import gmnet
>>> bn = gmnet.to_pgmpy(gmnet.load_network())
>>> sorted(bn.nodes())[:2]
['adversarial_training', 'ai_control']
"""

from __future__ import annotations

from gmnet.errors import InvalidArgumentError
from gmnet.inference.pgmpy_backend import to_pgmpy as _to_pgmpy
from gmnet.model.compiled import CompiledModel
from gmnet.model.network import Network

__all__ = ["to_pgmpy"]


def to_pgmpy(network: Network | CompiledModel):
    """The network at its point values as a pgmpy ``DiscreteBayesianNetwork``."""
    if isinstance(network, Network):
        return _to_pgmpy(network.compiled)
    if isinstance(network, CompiledModel):
        return _to_pgmpy(network)
    raise InvalidArgumentError(f"to_pgmpy takes a Network, got {type(network).__name__}")
