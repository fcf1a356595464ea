"""The numeric form of a network: states, parents and CPT arrays with a leading draw axis.

A :class:`CompiledModel` is what the inference engines work on. Its CPT for a node ``v`` with
parents ``p1..pk`` is an array of shape ``(N, |p1|, ..., |pk|, |v|)``: ``N`` parameter draws
(1 for point values), then the parent states in order, then the node's own states.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import networkx as nx
import numpy as np

__all__ = ["CompiledModel"]


@dataclass(frozen=True)
class CompiledModel:
    variables: tuple[str, ...]  # topological order
    states: Mapping[str, tuple[str, ...]]
    parents: Mapping[str, tuple[str, ...]]
    cpts: Mapping[str, np.ndarray]
    intervened: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self):
        for arr in self.cpts.values():
            arr.flags.writeable = False
        object.__setattr__(self, "states", MappingProxyType(dict(self.states)))
        object.__setattr__(self, "parents", MappingProxyType(dict(self.parents)))
        object.__setattr__(self, "cpts", MappingProxyType(dict(self.cpts)))

    @property
    def draws(self) -> int:
        return next(iter(self.cpts.values())).shape[0]

    def card(self, variable: str) -> int:
        return len(self.states[variable])

    def graph(self) -> nx.DiGraph:
        g = nx.DiGraph()
        g.add_nodes_from(self.variables)
        g.add_edges_from((p, v) for v in self.variables for p in self.parents[v])
        return g

    def ancestors_of(self, nodes) -> set[str]:
        """``nodes`` and all their ancestors."""
        seen: set[str] = set()
        stack = list(nodes)
        while stack:
            v = stack.pop()
            if v in seen:
                continue
            seen.add(v)
            stack.extend(self.parents[v])
        return seen

    def intervene(self, do: Mapping[str, int]) -> CompiledModel:
        """Graph surgery: cut the incoming edges of each intervened node and fix its state.

        ``do`` maps variable -> state index. Returns a new model; this one is unchanged.
        """
        if not do:
            return self
        n = self.draws
        parents = dict(self.parents)
        cpts = dict(self.cpts)
        for var, index in do.items():
            point = np.zeros((n, self.card(var)))
            point[:, index] = 1.0
            parents[var] = ()
            cpts[var] = point
        return CompiledModel(
            self.variables, self.states, parents, cpts, self.intervened | frozenset(do)
        )

    def point(self, draw: int = 0) -> CompiledModel:
        """The model of a single draw (keeps the leading axis, of size 1)."""
        cpts = {v: a[draw : draw + 1] for v, a in self.cpts.items()}
        return CompiledModel(self.variables, self.states, self.parents, cpts, self.intervened)
