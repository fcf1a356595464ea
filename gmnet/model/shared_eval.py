"""One chunk of draws, many CPT expressions: each distinct subexpression computed once.

The bundled network's three heaviest CPTs (the learned objective, the shifted features and the
harm given failure) are written with the same pieces: the largest goal factor over the shift
types appears in two of them, and the goal factor and the harm factor of the same split in two
others. Evaluated node by node, each piece is computed again for every node that writes it,
on that node's own grid.

:class:`SharedEvaluation` evaluates the expressions of every node of one build (one chunk of
draws) on a single set of axes, one per network variable, each axis as long as the states that
variable keeps (a subexpression not depending on a variable has size 1 there, as in
:func:`gmnet.model.expressions.evaluate_compact`). A function call's value is then the same
array whichever node asks for it, so it is kept for the build and reused: the key is the call's
text and the states kept of the variables it reads. ``goal_factor`` and ``harm_factor`` of the
same arguments share one split, and each computes only its own factor. The value a node gets is
the shared array laid out on its parents' axes: exactly what the node-by-node evaluation gives
(the same numpy operations on the same numbers, so equal to the last bit).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from gmnet.model.expressions import (
    ExpressionContext,
    ExpressionError,
    _StateIndex,
    _Walker,
    parse_expression,
    split_factors,
)

__all__ = ["SharedEvaluation"]

_SPLIT = ("goal_factor", "harm_factor")


@lru_cache(maxsize=1024)
def _annotated(text: str) -> tuple[ast.Expression, dict[int, tuple[str, frozenset[str]]]]:
    """The parsed tree and, for each call in it, (its text, the bare names below it).

    The tree is the one :func:`parse_expression` caches; this entry holds a reference to it,
    so the node ids used as keys stay valid as long as the entry lives.
    """
    tree = parse_expression(text)
    keys: dict[int, tuple[str, frozenset[str]]] = {}

    def annotate(node: ast.AST) -> None:
        called = {id(c.func) for c in ast.walk(node) if isinstance(c, ast.Call)}
        names = frozenset(n.id for n in ast.walk(node)
                          if isinstance(n, ast.Name) and id(n) not in called)
        keys[id(node)] = (ast.dump(node), names)

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            annotate(node)
            if isinstance(node.func, ast.Name) and node.func.id in _SPLIT:
                for arg in node.args:
                    if id(arg) not in keys:
                        annotate(arg)
    return tree, keys


class SharedEvaluation:
    """Evaluate expressions for one build, sharing every function call's value among nodes.

    ``variables``: every (name, states) an expression may refer to, in a fixed order (one axis
    each); ``scalars``, ``groups`` and ``rule`` as in :class:`ExpressionContext`. Create one per
    chunk of draws: the kept values are the chunk's.
    """

    def __init__(self, variables: Sequence[tuple[str, Sequence[str]]],
                 scalars: Mapping[str, np.ndarray],
                 groups: Mapping[str, tuple[Sequence[str], np.ndarray]], rule: str):
        self.position = {name: i for i, (name, _) in enumerate(variables)}
        self.states = {name: list(states) for name, states in variables}
        self.ndim = len(self.position) + 1
        self.scalars, self.groups, self.rule = scalars, groups, rule
        self.memo: dict[tuple, object] = {}
        self.hits = 0

    def evaluate(self, text: str, ctx: ExpressionContext) -> np.ndarray:
        """``text`` on ``ctx``'s parents, draws last, compact: as
        :func:`gmnet.model.expressions.evaluate_compact`."""
        tree, keys = _annotated(text)
        kept = {name: tuple(ctx.kept(name, states)) for name, states in ctx.parents}
        parents = {name: _StateIndex(name, states, self.position[name], self.ndim,
                                     kept[name])
                   for name, states in ctx.parents}
        walker = _SharedWalker(text, ctx, parents, self, keys, kept)
        value = walker.visit(tree.body)
        if isinstance(value, _StateIndex | str):
            raise ExpressionError(f"expression {text!r} does not evaluate to a number")
        value = np.asarray(value, dtype=float)
        if value.ndim < self.ndim:
            value = value.reshape((1,) * (self.ndim - value.ndim) + value.shape)
        # onto the node's own axes: its parents in order, then the draws (every other axis of
        # the shared layout has size 1, since an expression reads only its node's parents)
        axes = [self.position[name] for name, _ in ctx.parents]
        shape = (*(value.shape[a] for a in axes), value.shape[-1])
        order = [*axes, *(a for a in range(self.ndim - 1) if a not in axes), self.ndim - 1]
        return np.transpose(value, order).reshape(shape)


class _SharedWalker(_Walker):
    def __init__(self, text, ctx, parents, shared: SharedEvaluation, keys, kept):
        super().__init__(text, ctx, parents, shared.ndim)
        self.shared, self.keys, self.kept = shared, keys, kept

    def _key(self, node: ast.AST) -> tuple:
        dump, names = self.keys[id(node)]
        return dump, tuple(sorted((n, self.kept[n]) for n in names if n in self.kept))

    def visit_Call(self, node: ast.Call):
        key = self._key(node)
        memo = self.shared.memo
        if key in memo:
            self.shared.hits += 1
            return memo[key]
        name = node.func.id
        if name in _SPLIT and len(node.args) == 5:
            split_key = ("split", tuple(self._key(a) for a in node.args))
            split = memo.get(split_key)
            if split is None:
                args = [self.as_array(self.visit(a)).astype(float, copy=False)
                        for a in node.args]
                split = memo[split_key] = _LazySplit(args, self.ctx.rule)
            else:
                self.shared.hits += 1
            value = split.goal() if name == "goal_factor" else split.harm()
        else:
            value = super().visit_Call(node)
        if isinstance(value, np.ndarray):
            value.flags.writeable = False  # shared: nobody may change it in place
        memo[key] = value
        return value


class _LazySplit:
    """:func:`gmnet.model.expressions.split_factors` computing only the factors asked for,
    with the pieces both share (g0, h0, their product) computed once."""

    def __init__(self, args, rule: str):
        self.args, self.rule = args, rule
        self._goal = self._harm = None
        self._parts: tuple | None = None

    def _pieces(self):
        if self._parts is None:
            g, h, m_goal, m_harm, f = self.args
            g0 = g * m_goal * f
            h0 = h * m_harm
            self._parts = (g0, h0, np.minimum(1.0, g0 * h0), h0 > 1.0)
        return self._parts

    def goal(self):
        if self._goal is None:
            if self.rule != "expanded_formula":
                self._goal, self._harm = split_factors(*self.args, rule=self.rule)
            else:
                g0, _, both, over = self._pieces()
                self._goal = np.where(over, both, np.minimum(1.0, g0))
        return self._goal

    def harm(self):
        if self._harm is None:
            if self.rule != "expanded_formula":
                self._goal, self._harm = split_factors(*self.args, rule=self.rule)
            else:
                g0, h0, both, over = self._pieces()
                self._harm = np.where(over, 1.0, np.where(g0 > 1.0, both, h0))
        return self._harm
