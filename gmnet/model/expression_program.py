"""A CPT expression compiled once into array code: the batched engine's inner loop.

:class:`gmnet.model.shared_eval.SharedEvaluation` evaluates the same expressions for every
chunk of draws. Walking the syntax tree each time costs about as much as the arithmetic when a
chunk is a few hundred draws (some 400 tree nodes, 6 ms a chunk on the bundled network). Here a
tree is compiled once per (expression, states kept, axes) into a tree of closures:

- everything that does not depend on the draws is computed at compile time, once: state
  comparisons and their masks, numbers, ``where`` on constant branches, whole parameter-free
  expressions;
- what is left is one closure per array operation, each calling the same numpy function the
  tree walker calls, in the same order (so the numbers are equal to the last bit);
- a function call's value is kept for the build under the same key as the walker's, so calls
  shared between nodes are still computed once.

Anything the compiler does not take (a malformed expression) falls back to the walker, which
raises its usual error.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from gmnet.model.expressions import _StateIndex, combine, parse_expression, split_factors

__all__ = ["compile_expression", "Program", "Unsupported"]

_SPLIT = ("goal_factor", "harm_factor")


@lru_cache(maxsize=1024)
def _annotated(text: str) -> tuple[ast.Expression, dict[int, tuple[str, frozenset[str]]],
                                   dict[int, tuple[tuple[ast.Subscript, ...], frozenset[str]]]]:
    """The parsed tree; for each call in it, (its text, the bare names below it); and for each
    call, (the reads ``group['key']`` below it, every name below it, a function's too), which
    :meth:`_Compiler._as_slice` looks at for every call of every question planned.

    The tree is the one :func:`parse_expression` caches; this entry holds a reference to it,
    so the node ids used as keys stay valid as long as the entry lives.
    """
    tree = parse_expression(text)
    keys: dict[int, tuple[str, frozenset[str]]] = {}
    reads: dict[int, tuple[tuple[ast.Subscript, ...], frozenset[str]]] = {}

    def annotate(node: ast.AST) -> None:
        called = {id(c.func) for c in ast.walk(node) if isinstance(c, ast.Call)}
        names = frozenset(n.id for n in ast.walk(node)
                          if isinstance(n, ast.Name) and id(n) not in called)
        keys[id(node)] = (ast.dump(node), names)

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            annotate(node)
            reads[id(node)] = _reads(node)
            if isinstance(node.func, ast.Name) and node.func.id in _SPLIT:
                for arg in node.args:
                    if id(arg) not in keys:
                        annotate(arg)
    return tree, keys, reads


def _reads(node: ast.AST) -> tuple[tuple[ast.Subscript, ...], frozenset[str]]:
    below = list(ast.walk(node))
    return (tuple(n for n in below if isinstance(n, ast.Subscript)
                  and isinstance(n.value, ast.Name) and isinstance(n.slice, ast.Constant)
                  and isinstance(n.slice.value, str)),
            frozenset(n.id for n in below if isinstance(n, ast.Name)))




class Unsupported(Exception):
    """Not compiled: the walker evaluates it (and reports any problem)."""


class Program:
    """``run(env)`` evaluates the expression on the chunk's values: ``env`` has ``scalars``,
    ``groups`` and ``memo`` (a dict kept for the build)."""

    def __init__(self, value: Any, dynamic: bool, order: list[int], axes: list[int]):
        self.value, self.dynamic, self.order, self.axes = value, dynamic, order, axes
        if not dynamic:
            self.static_result = self._layout(value)
            self.static_result.flags.writeable = False

    def run(self, env) -> np.ndarray:
        if not self.dynamic:
            return self.static_result
        return self._layout(self.value(env))

    def _layout(self, value) -> np.ndarray:
        value = np.asarray(value, dtype=float)
        ndim = len(self.order)
        if value.ndim < ndim:
            value = value.reshape((1,) * (ndim - value.ndim) + value.shape)
        shape = (*(value.shape[a] for a in self.axes), value.shape[-1])
        return np.transpose(value, self.order).reshape(shape)


def compile_expression(text: str, parents: tuple, position: tuple, scalars: frozenset,
                       groups: tuple, rule: str, literal: tuple = ()) -> Program | None:
    """The program of ``text`` for a node whose ``parents`` are ((name, states, kept), ...),
    on the shared axes ``position`` ((name, axis), ...); ``groups`` is ((group, keys), ...).
    ``literal`` is ((group, variable, states, kept), ...) for the groups indexed by a variable
    (see :meth:`_Compiler._as_slice`). None: evaluate with the walker."""
    tree, keys, reads = _annotated(text)
    ndim = len(position) + 1
    where = dict(position)
    indices = {name: _StateIndex(name, states, where[name], ndim, kept)
               for name, states, kept in parents}
    kept = {name: tuple(k) for name, _, k in parents}
    compiler = _Compiler(ndim, indices, kept, scalars, dict(groups), rule, dict(keys),
                         where, {g: (v, tuple(st), tuple(k)) for g, v, st, k in literal}, reads)
    try:
        dynamic, value = compiler.compile(tree.body)
    except Unsupported:
        return None
    if isinstance(value, _StateIndex | str):
        return None
    axes = [where[name] for name, _, _ in parents]
    order = [*axes, *(a for a in range(ndim - 1) if a not in axes), ndim - 1]
    return Program(value, dynamic, order, axes)


Fn = Callable[[Any], Any]


class _Compiler:
    def __init__(self, ndim, indices, kept, scalars, groups, rule, keys, where=None,
                 literal=None, reads=None):
        self.ndim, self.indices, self.kept = ndim, indices, kept
        self.scalars, self.groups, self.rule, self.keys = scalars, groups, rule, keys
        self.where, self.literal = where or {}, literal or {}
        self.reads = reads or {}  # _annotated's, for the calls of the text's own tree
        # the trees _as_slice makes, alive while compiling: ``keys`` is by id, and an id is
        # only unique among live objects
        self.made: list[ast.AST] = []

    # ------------------------------------------------------------------ helpers
    def compile(self, node: ast.AST) -> tuple[bool, Any]:
        """(dynamic, value): a closure of the chunk's env, or the value itself."""
        method = getattr(self, "c_" + type(node).__name__, None)
        if method is None:
            raise Unsupported(type(node).__name__)
        return method(node)

    def array(self, value):
        """The walker's as_array on a value known at compile time."""
        if isinstance(value, _StateIndex | str):
            raise Unsupported("not a number")
        arr = np.asarray(value)
        if arr.ndim == 0:
            return arr.reshape((1,) * self.ndim).astype(float) if arr.dtype != bool else arr
        return arr

    def operand(self, dynamic: bool, value, as_float: bool = True) -> Fn:
        if dynamic:
            if as_float:
                return lambda env: np.asarray(value(env)).astype(float, copy=False)
            return value
        arr = self.array(value)
        if as_float:
            arr = arr.astype(float, copy=False)
        return lambda env: arr

    def boolean(self, dynamic: bool, value) -> tuple[bool, Any]:
        if dynamic:
            raise Unsupported("a condition that depends on the draws")
        arr = self.array(value)
        if arr.dtype != bool:
            raise Unsupported("not a condition")
        return False, arr

    # ------------------------------------------------------------------ nodes
    def c_Constant(self, node):
        return False, node.value if isinstance(node.value, str) else float(node.value)

    def c_Name(self, node):
        name = node.id
        if name in self.indices:
            return False, self.indices[name]
        if name in self.scalars:
            shape = (1,) * (self.ndim - 1) + (-1,)
            return True, lambda env: np.asarray(env.scalars[name], dtype=float).reshape(shape)
        raise Unsupported(name)

    def c_Subscript(self, node):
        if not isinstance(node.value, ast.Name) or node.value.id not in self.groups:
            raise Unsupported("subscript")
        group = node.value.id
        keys = list(self.groups[group])
        dynamic, index = self.compile(node.slice)
        if dynamic:
            raise Unsupported("index")
        base = (1,) * (self.ndim - 1) + (-1,)
        if isinstance(index, str):
            if index not in keys:
                raise Unsupported("key")
            column = keys.index(index)
            return True, lambda env: np.asarray(env.groups[group][1],
                                                dtype=float)[:, column].reshape(base)
        if isinstance(index, _StateIndex):
            if keys != index.states:
                raise Unsupported("keys")
            chosen = None if len(index.kept) == len(keys) else list(index.kept)
            shape = [1] * (self.ndim - 1) + [-1]
            shape[index.axis] = len(index.kept)

            def lookup(env):
                values = np.asarray(env.groups[group][1], dtype=float)
                if chosen is not None:
                    values = values[:, chosen]
                return np.ascontiguousarray(values.T).reshape(shape)
            return True, lookup
        raise Unsupported("index")

    def c_Compare(self, node):
        if len(node.ops) != 1:
            raise Unsupported("chained")
        (dl, left), (dr, right) = self.compile(node.left), self.compile(node.comparators[0])
        if dl or dr:
            raise Unsupported("comparison")
        if isinstance(right, _StateIndex) and isinstance(left, str):
            left, right = right, left
        if not (isinstance(left, _StateIndex) and isinstance(right, str)):
            raise Unsupported("comparison")
        if right not in left.states:
            raise Unsupported("state")
        mask = left.index == left.state_number(right)
        return False, mask if isinstance(node.ops[0], ast.Eq) else ~mask

    def c_BoolOp(self, node):
        values = [self.boolean(*self.compile(v))[1] for v in node.values]
        out = values[0]
        for v in values[1:]:
            out = (out & v) if isinstance(node.op, ast.And) else (out | v)
        return False, out

    def c_UnaryOp(self, node):
        dynamic, operand = self.compile(node.operand)
        if isinstance(node.op, ast.Invert | ast.Not):
            return False, ~self.boolean(dynamic, operand)[1]
        negate = isinstance(node.op, ast.USub)
        if not dynamic:
            value = self.array(operand).astype(float, copy=False)
            return False, -value if negate else value
        f = self.operand(True, operand)
        return True, (lambda env: -f(env)) if negate else f

    def c_BinOp(self, node):
        (dl, left), (dr, right) = self.compile(node.left), self.compile(node.right)
        op = node.op
        if isinstance(op, ast.BitAnd | ast.BitOr):
            a, b = self.boolean(dl, left)[1], self.boolean(dr, right)[1]
            return False, (a & b) if isinstance(op, ast.BitAnd) else (a | b)
        fn = _ARITHMETIC.get(type(op))
        if fn is None:
            raise Unsupported("operator")
        if not (dl or dr):
            a = self.array(left).astype(float, copy=False)
            b = self.array(right).astype(float, copy=False)
            return False, fn(a, b)
        fa, fb = self.operand(dl, left), self.operand(dr, right)
        return True, lambda env: fn(fa(env), fb(env))

    def _as_slice(self, node: ast.Call):
        """A call that reads its groups at one literal key of one variable X (the goal factor
        of ``p_goal_failure['extreme']``, ``p_harm_given_failure['extreme']``, ...) is the slice
        at that state of the same call indexed by X (``p_goal_failure[shift_type]``, ...), which
        another node computes anyway: computed once with X on the states it keeps, and sliced.
        The same operations on the same numbers, so the same values to the last bit. None when
        the call is not of that form (or X does not keep the state)."""
        below, names = self.reads.get(id(node)) or _reads(node)
        subscripts = [n for n in below if n.value.id in self.literal]
        if not subscripts:
            return None
        variables = {self.literal[n.value.id][0] for n in subscripts}
        keys = {n.slice.value for n in subscripts}
        if len(variables) != 1 or len(keys) != 1:
            return None
        (x,), (key,) = variables, keys
        _, states, kept = self.literal[subscripts[0].value.id]
        if x in self.indices or x not in self.where or key not in states \
                or states.index(key) not in kept \
                or x in names:
            return None
        at = kept.index(states.index(key))
        indexed = _with_index(node, {id(n) for n in subscripts}, x)
        self.made.append(indexed)
        child = _Compiler(self.ndim, {**self.indices, x: _StateIndex(
            x, states, self.where[x], self.ndim, kept)}, {**self.kept, x: kept}, self.scalars,
            self.groups, self.rule, self.keys, self.where, self.literal, self.reads)
        child.made = self.made
        dynamic, whole = child.c_Call(indexed)
        axis = self.where[x]
        cut = (slice(None),) * axis + (slice(at, at + 1),)

        def take(value):
            value = np.asarray(value)
            return value[cut] if value.ndim > axis and value.shape[axis] > 1 else value
        if not dynamic:
            return False, take(whole)
        return True, self._memo(node, lambda env: take(whole(env)))

    def c_Call(self, node):
        if not isinstance(node.func, ast.Name):
            raise Unsupported("call")
        if self.literal:
            sliced = self._as_slice(node)
            if sliced is not None:
                return sliced
        name = node.func.id
        compiled = [self.compile(a) for a in node.args]
        dynamic = any(d for d, _ in compiled)
        if name == "where":
            if len(compiled) != 3:
                raise Unsupported("where")
            cond = self.boolean(*compiled[0])[1]
            if not dynamic:
                return False, np.where(cond, self.array(compiled[1][1]),
                                       self.array(compiled[2][1]))
            fa = self.operand(compiled[1][0], compiled[1][1], as_float=False)
            fb = self.operand(compiled[2][0], compiled[2][1], as_float=False)
            inner: Fn = lambda env: np.where(cond, np.asarray(fa(env)), np.asarray(fb(env)))  # noqa: E731
        else:
            operands = [self.operand(d, v) for d, v in compiled]
            inner = self._function(name, operands, node)
            if not dynamic:
                return False, inner(None)
        return True, self._memo(node, inner)

    def _function(self, name: str, operands: list[Fn], node) -> Fn:
        rule = self.rule
        if name in ("min", "max"):
            if not operands:
                raise Unsupported(name)
            fn = np.minimum if name == "min" else np.maximum

            def fold(env):
                out = operands[0](env)
                for f in operands[1:]:
                    out = fn(out, f(env))
                return out
            return fold
        if name == "clip":
            if len(operands) != 3:
                raise Unsupported("clip")
            x, lo, hi = operands
            return lambda env: np.minimum(np.maximum(x(env), lo(env)), hi(env))
        if name in ("goal_factor", "harm_factor"):
            if len(operands) != 5:
                raise Unsupported(name)
            split_key = ("split", tuple(self._key(a) for a in node.args))
            goal = name == "goal_factor"

            def factor(env):
                if env is None:  # known at compile time: nothing to share
                    split = _LazySplit([f(env) for f in operands], rule)
                    return split.goal() if goal else split.harm()
                split = env.memo.get(split_key)
                if split is None:
                    split = env.memo[split_key] = _LazySplit([f(env) for f in operands], rule)
                return split.goal() if goal else split.harm()
            return factor
        if name == "combine":
            if not operands:
                raise Unsupported("combine")
            return lambda env: combine(operands[0](env), [f(env) for f in operands[1:]],
                                       rule=rule)
        raise Unsupported(name)

    def _key(self, node) -> tuple:
        entry = self.keys.get(id(node))
        if entry is None:  # a node made by _as_slice: described here
            called = {id(c.func) for c in ast.walk(node) if isinstance(c, ast.Call)}
            entry = self.keys[id(node)] = (ast.dump(node), frozenset(
                n.id for n in ast.walk(node) if isinstance(n, ast.Name) and id(n) not in called))
        dump, names = entry
        return dump, tuple(sorted((n, self.kept[n]) for n in names if n in self.kept))

    def _memo(self, node, inner: Fn) -> Fn:
        key = self._key(node)

        def shared(env):
            memo = env.memo
            value = memo.get(key)
            if value is None:
                value = inner(env)
                if isinstance(value, np.ndarray):
                    value.flags.writeable = False  # shared: nobody may change it in place
                memo[key] = value
            return value
        return shared


def _with_index(node, chosen: set[int], variable: str):
    """A copy of ``node`` (never changed) whose subscripts ``chosen`` (by id) are indexed by
    ``variable`` instead of their literal key."""
    if isinstance(node, ast.AST):
        if id(node) in chosen:
            return ast.Subscript(value=_with_index(node.value, chosen, variable),
                                 slice=ast.Name(id=variable, ctx=ast.Load()), ctx=ast.Load())
        new = type(node)()
        for name, value in ast.iter_fields(node):
            setattr(new, name, _with_index(value, chosen, variable))
        return new
    if isinstance(node, list):
        return [_with_index(v, chosen, variable) for v in node]
    return node


def _divide(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / b


_ARITHMETIC = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: _divide}


class _LazySplit:
    """:func:`gmnet.model.expressions.split_factors` computing only the factors asked for,
    with the pieces both share (g0, h0, their product) computed once."""

    def __init__(self, args, rule: str):
        self.args = args
        self._goal = self._harm = None
        self._parts: tuple | None = None
        if rule != "expanded_formula":  # the other rules share nothing: both at once
            self._goal, self._harm = split_factors(*args, rule=rule)

    def _pieces(self):
        if self._parts is None:
            g, h, m_goal, m_harm, f = self.args
            g0 = g * m_goal * f
            h0 = h * m_harm
            self._parts = (g0, h0, np.minimum(1.0, g0 * h0), h0 > 1.0)
        return self._parts

    def goal(self):
        if self._goal is None:
            g0, _, both, over = self._pieces()
            self._goal = np.where(over, both, np.minimum(1.0, g0))
        return self._goal

    def harm(self):
        if self._harm is None:
            g0, h0, both, over = self._pieces()
            self._harm = np.where(over, 1.0, np.where(g0 > 1.0, both, h0))
        return self._harm
