"""A CompiledModel (one draw) as a pyAgrum BayesNet, for the tests that compare with pyAgrum."""

from gmnet.inference.interop import to_pyagrum

__all__ = ["to_pyagrum"]
