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
from functools import cached_property, lru_cache

import numpy as np

from gmnet.model.expression_kernel import fused_kernel, wanted
from gmnet.model.expression_program import (
    _SPLIT,
    Program,
    _annotated,
    _LazySplit,
    compile_expression,
)
from gmnet.model.expressions import ExpressionContext, ExpressionError, _StateIndex, _Walker

__all__ = ["SharedEvaluation"]

# Compiled programs, per (expression, its node's parents and states kept, the axes): the
# bundled network's plans need a few dozen; a bound keeps many different networks in check.
MAX_PROGRAMS = 4096
_PROGRAMS: dict[tuple, Program | None] = {}


@lru_cache(maxsize=4096)
def _names(text: str) -> frozenset[str]:
    """Every name written in ``text`` (variables, groups, parameters, functions)."""
    return frozenset(n.id for n in ast.walk(_annotated(text)[0]) if isinstance(n, ast.Name))


class SharedEvaluation:
    """Evaluate expressions for one build, sharing every function call's value among nodes.

    ``variables``: every (name, states) an expression may refer to, in a fixed order (one axis
    each); ``scalars``, ``groups`` and ``rule`` as in :class:`ExpressionContext`. Create one per
    chunk of draws: the kept values are the chunk's.
    """

    def __init__(self, variables: Sequence[tuple[str, Sequence[str]]],
                 scalars: Mapping[str, np.ndarray],
                 groups: Mapping[str, tuple[Sequence[str], np.ndarray]], rule: str,
                 indexed_by: Mapping[str, str] | None = None,
                 selection: Mapping[str, Sequence[int]] | None = None,
                 fused: bool | None = None):
        self.position = {name: i for i, (name, _) in enumerate(variables)}
        self.states = {name: list(states) for name, states in variables}
        self.ndim = len(self.position) + 1
        self.scalars, self.groups, self.rule = scalars, groups, rule
        self.memo: dict[tuple, object] = {}
        # compiled loops (gmnet.model.expression_kernel) where they repay themselves: None
        # never, False where already compiled, True (a large run) also where not yet
        self.fused = fused
        # groups indexed by a variable, with the states the build keeps of it: a call at one
        # literal key is then a slice of the call indexed by the variable (expression_program)
        selection = selection or {}
        literal = tuple(sorted(
            (g, v, tuple(self.states[v]),
             tuple(selection.get(v, range(len(self.states[v])))))
            for g, v in (indexed_by or {}).items() if g in groups and v in self.states))
        self._layout = (tuple(self.position.items()), frozenset(scalars),
                        tuple(sorted((g, tuple(keys)) for g, (keys, _) in groups.items())),
                        rule, literal)

    def evaluate(self, text: str, ctx: ExpressionContext) -> np.ndarray:
        """``text`` on ``ctx``'s parents, draws last, compact: as
        :func:`gmnet.model.expressions.evaluate_compact`."""
        parents = tuple((name, tuple(states), tuple(ctx.kept(name, states)))
                        for name, states in ctx.parents)
        if self.fused is not None:
            value = self._fused(text, parents)
            if value is not None:
                return value
        program = self._program(text, parents)
        if program is not None:
            return program.run(self)
        return self._walk(text, ctx)

    @cached_property
    def draws(self) -> int:
        """The chunk's number of draws (1 where every value is one number)."""
        return max([np.asarray(v).reshape(-1).shape[0] for v in self.scalars.values()]
                   + [np.asarray(v).shape[0] for _, v in self.groups.values()] + [1])

    def _fused(self, text: str, parents: tuple) -> np.ndarray | None:
        _, scalars, groups, rule, _ = self._layout
        kernel = fused_kernel(text, parents, scalars, groups, rule)
        if kernel is None:
            return None
        entries = int(np.prod(kernel.shape(self.draws)))
        if not wanted(kernel, entries, bool(self.fused), self.scalars, self.groups):
            return None
        return kernel.run(self.scalars, self.groups)

    def _program(self, text: str, parents: tuple) -> Program | None:
        # keyed by the literal entries of the groups the text names only: the compiler looks
        # at no other (a call is sliced only at a group['key'] written in it), so questions
        # that differ in the states kept of other variables share the program (a server's
        # new questions: 1,360 -> 366 compiled for 600 of the load test's requests)
        position, scalars, groups, rule, literal = self._layout
        named = _names(text)
        literal = tuple(entry for entry in literal if entry[0] in named)
        key = (text, parents, position, scalars, groups, rule, literal)
        try:
            return _PROGRAMS[key]
        except KeyError:
            pass
        program = compile_expression(text, parents, position, scalars, groups, rule, literal)
        if len(_PROGRAMS) >= MAX_PROGRAMS:
            _PROGRAMS.clear()
        _PROGRAMS[key] = program
        return program

    def _walk(self, text: str, ctx: ExpressionContext) -> np.ndarray:
        tree, keys, _ = _annotated(text)
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
            return memo[key]
        name = node.func.id
        if name in _SPLIT and len(node.args) == 5:
            split_key = ("split", tuple(self._key(a) for a in node.args))
            split = memo.get(split_key)
            if split is None:
                args = [self.as_array(self.visit(a)).astype(float, copy=False)
                        for a in node.args]
                split = memo[split_key] = _LazySplit(args, self.ctx.rule)
            value = split.goal() if name == "goal_factor" else split.harm()
        else:
            value = super().visit_Call(node)
        if isinstance(value, np.ndarray):
            value.flags.writeable = False  # shared: nobody may change it in place
        memo[key] = value
        return value


