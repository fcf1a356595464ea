"""The numeric form of a network: states, parents and CPT arrays with a leading draw axis.

A :class:`CompiledModel` is what the inference engines work on. Its CPT for a node ``v`` with
parents ``p1..pk`` is an array of shape ``(N, |p1|, ..., |pk|, |v|)``: ``N`` parameter draws
(1 for point values), then the parent states in order, then the node's own states.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import networkx as nx

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

    def __reduce__(self):
        # read-only views do not pickle; the plain dicts do, and __post_init__ wraps them again
        return (type(self), (self.variables, dict(self.states), dict(self.parents),
                             dict(self.cpts), self.intervened))

    @property
    def draws(self) -> int:
        return next(iter(self.cpts.values())).shape[0]

    def card(self, variable: str) -> int:
        return len(self.states[variable])

    def graph(self) -> nx.DiGraph:
        import networkx as nx  # not imported by loading a network: a tenth of a second

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

    def with_virtual_child(self, node: str, likelihood, *, name: str | None = None
                           ) -> tuple[CompiledModel, str]:
        """A new model with a virtual child of ``node``: soft (likelihood) evidence, exactly.

        ``likelihood`` holds one weight per state of ``node``, shape ``(card,)`` or
        ``(N, card)`` for weights that differ by draw. The child has two states, ``observed``
        and ``not_observed``; P(observed | node=s) is the weight of s divided by the largest
        weight (only ratios matter). Observing the child (state index 0) is the soft evidence.
        Returns the new model and the child's name; this model is unchanged.
        """
        weights = np.asarray(likelihood, dtype=float)
        weights = weights.reshape(1, -1) if weights.ndim == 1 else weights
        card = self.card(node)
        if weights.ndim != 2 or weights.shape[1] != card:
            raise ValueError(f"virtual child of {node}: need {card} weights per draw, got "
                             f"shape {weights.shape}")
        top = weights.max(axis=1, keepdims=True)
        if np.any(weights < 0) or not np.all(top > 0):
            raise ValueError(f"virtual child of {node}: weights must be >= 0, not all 0")
        if name is None:
            name, k = f"{node}__soft", 2
            while name in self.states:
                name, k = f"{node}__soft{k}", k + 1
        elif name in self.states:
            raise ValueError(f"the model already has a variable {name!r}")
        seen = weights / top
        cpt = np.ascontiguousarray(np.stack([seen, 1.0 - seen], axis=-1))
        model = CompiledModel(
            (*self.variables, name), {**self.states, name: ("observed", "not_observed")},
            {**self.parents, name: (node,)}, {**self.cpts, name: cpt}, self.intervened)
        return model, name
