"""Safe, vectorised evaluation of the CPT expressions written in network files.

An expression such as ``combine(p_goal_failure[shift_type], m_spec[spec_quality])`` is parsed
with :mod:`ast` and walked by hand: only the constructs listed below exist, nothing is ever
passed to ``eval``. Evaluation is vectorised over the grid of the node's parent states and over a
leading axis of parameter draws, so one evaluation yields a whole CPT column for N draws.

Grammar
-------
- numbers; ``+ - * /``; unary ``-``; parentheses
- a parent's name (``shift_type``) compared with a state: ``shift_type == 'extreme'``, ``!=``
- boolean ``&``, ``|``, ``~`` (or ``and``, ``or``, ``not``) on comparisons
- a scalar parameter: ``route_share``; an indexed parameter group: ``m_spec[spec_quality]``
  (indexed by a parent whose states are the group's keys) or ``m_spec['high']``
- functions: ``min(a, b, ...)``, ``max(a, b, ...)``, ``clip(x, lo, hi)``, ``where(cond, a, b)``,
  ``combine(base, m1, m2, ...)`` (the network's combination rule: relative risk or odds ratio),
  ``goal_factor(g, h, m_goal, m_harm, f)`` and ``harm_factor(g, h, m_goal, m_harm, f)`` (the split
  of a modified product g x h between its two factors, see :func:`split_factors`)

Combination rules
-----------------
- ``expanded_formula`` (default): the source document's expanded formulation. The modifiers
  scale the product g x h (with P(capability) in front: P(M) x modifiers, capped where it would
  pass P(capability transfers)); :func:`split_factors` says how the product is split between the
  goal factor and the harm factor. ``combine`` is ``min(1, base x m ...)`` under this rule.
- ``relative_risk``: the per-factor reading: each factor is scaled by its own modifiers and capped
  at 1 on its own (the product then stays below the document's formula wherever a cap binds).
- ``odds_ratio``: each factor's odds are multiplied by its modifiers; nothing ever caps.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["ExpressionError", "parse_expression", "ExpressionContext", "evaluate",
           "evaluate_compact", "names_used", "parameters_used"]

FUNCTIONS = ("min", "max", "clip", "where", "combine", "goal_factor", "harm_factor")
COMBINATION_RULES = ("expanded_formula", "relative_risk", "odds_ratio")


class ExpressionError(Exception):
    """Raised for a malformed expression; the loader turns it into a NetworkFileError problem."""


#: The longest expression accepted, in characters, and its deepest nesting (operators,
#: calls and parentheses inside one another).
MAX_EXPRESSION_CHARS = 20_000
MAX_EXPRESSION_DEPTH = 100


def _shown(text: str) -> str:
    text = str(text)
    return repr(text) if len(text) <= 80 else repr(text[:60]) + f"... ({len(text)} characters)"


@lru_cache(maxsize=4096)
def parse_expression(text: str) -> ast.Expression:
    """Parse ``text`` and check that it uses only the allowed constructs, within the limits
    :data:`MAX_EXPRESSION_CHARS` and :data:`MAX_EXPRESSION_DEPTH`."""
    if len(str(text)) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"expression {_shown(text)} is {len(str(text))} characters long; "
                              f"the limit is {MAX_EXPRESSION_CHARS}")
    try:
        tree = ast.parse(str(text).strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"expression {_shown(text)} does not parse: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError, OverflowError):
        raise ExpressionError(f"expression {_shown(text)} is nested too deeply to read; the "
                              f"limit is {MAX_EXPRESSION_DEPTH} levels") from None
    _check_depth(tree, text)
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(
                f"expression {text!r} uses {type(node).__name__}, which is not allowed"
            )
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                raise ExpressionError(
                    f"expression {text!r} calls an unknown function; known: {', '.join(FUNCTIONS)}"
                )
            if node.keywords:
                raise ExpressionError(f"expression {text!r}: functions take no keyword arguments")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float | str):
            raise ExpressionError(f"expression {text!r}: constant {node.value!r} is not allowed")
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not (
                isinstance(node.value, float) and math.isfinite(node.value)
                or isinstance(node.value, int) and abs(node.value) < 10**300):
            raise ExpressionError(f"expression {_shown(text)}: the number "
                                  f"{_shown(ast.get_source_segment(text, node) or '')} is too "
                                  "large to compute with")
    return tree


def _check_depth(tree: ast.AST, text: str) -> None:
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_EXPRESSION_DEPTH:
            raise ExpressionError(f"expression {_shown(text)} is nested more than "
                                  f"{MAX_EXPRESSION_DEPTH} levels deep; split it or write "
                                  "a sum with fewer terms")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


_ALLOWED_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Call, ast.Name,
    ast.Constant, ast.Subscript, ast.Load, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub,
    ast.UAdd, ast.Eq, ast.NotEq, ast.BitAnd, ast.BitOr, ast.Invert, ast.And, ast.Or, ast.Not,
)


def names_used(text: str) -> set[str]:
    """Every bare name an expression refers to (parents and parameters), functions excluded."""
    return set(_names_used(text))


@lru_cache(maxsize=4096)
def _names_used(text: str) -> frozenset[str]:
    tree = parse_expression(text)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return frozenset(n.id for n in ast.walk(tree)
                     if isinstance(n, ast.Name) and id(n) not in called)


def parameters_used(text: str, groups: Mapping[str, Sequence[str]], scalars: Iterable[str],
                    selected: Mapping[str, Sequence[str]] | None = None) -> set[str]:
    """The parameters (``m_spec.low``, ``route_share``) an expression can read.

    ``groups`` maps an indexed group to its keys, ``scalars`` lists the scalar parameters and
    ``selected`` maps a parent to the states it is restricted to: ``m_spec[spec_quality]`` with
    spec_quality restricted to ``low`` reads ``m_spec.low`` only.

    >>> sorted(parameters_used("combine(p[x], r)", {"p": ["a", "b"]}, ["r"], {"x": ["b"]}))
    ['p.b', 'r']
    """
    subscripts, names = _references(text)
    selected = selected or {}
    scalars = set(scalars)
    used: set[str] = set()
    for group, how, what in subscripts:
        if group not in groups:
            continue
        keys = list(groups[group])
        if how == "key":
            chosen = [what] if what in keys else []
        elif how == "parent" and what in selected:
            chosen = [k for k in selected[what] if k in keys]
        else:
            chosen = keys
        used.update(f"{group}.{k}" for k in chosen)
    for name, indexed in names:
        if indexed and name in groups:
            continue
        if name in scalars:
            used.add(name)
        elif name in groups:  # an unindexed group is an error elsewhere; be safe
            used.update(f"{name}.{k}" for k in groups[name])
    return used


@lru_cache(maxsize=4096)
def _references(text: str) -> tuple[tuple[tuple[str, str, str], ...], tuple[tuple[str, bool], ...]]:
    """What ``text`` refers to, parsed once per text (a server plans many questions on the same
    expressions): each ``name[index]`` as (name, "key" | "parent" | "any", the key or parent),
    and each name that is not a function's, with whether it is the ``name`` of such an index."""
    tree = parse_expression(text)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    subscripts, indexed = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            index = node.slice
            if isinstance(index, ast.Constant) and isinstance(index.value, str):
                subscripts.append((node.value.id, "key", index.value))
            elif isinstance(index, ast.Name):
                subscripts.append((node.value.id, "parent", index.id))
            else:
                subscripts.append((node.value.id, "any", ""))
            indexed.add(id(node.value))
    names = tuple((n.id, id(n) in indexed) for n in ast.walk(tree)
                  if isinstance(n, ast.Name) and id(n) not in called)
    return tuple(subscripts), names


@dataclass(frozen=True)
class ExpressionContext:
    """What an expression can see.

    parents: ordered (name, states) of the node's parents; their product is the grid.
    scalars: scalar parameter -> array of shape (N,)
    groups: indexed parameter group -> (keys, array of shape (N, len(keys)))
    rule: combination rule for ``combine``.
    selected: parent -> indices of the states its grid axis keeps (default: all). A query that
    observes or sets a parent only needs the CPT at that parent's state; evaluating on the
    selected states alone gives exactly the matching slice of the full CPT, at a fraction of
    the size.
    """

    parents: Sequence[tuple[str, Sequence[str]]]
    scalars: Mapping[str, np.ndarray]
    groups: Mapping[str, tuple[Sequence[str], np.ndarray]]
    rule: str = "relative_risk"
    selected: Mapping[str, Sequence[int]] | None = None
    # a gmnet.model.shared_eval.SharedEvaluation: evaluate there, sharing repeated calls
    shared: object | None = None

    def kept(self, parent: str, states: Sequence[str]) -> list[int]:
        """The state indices of ``parent`` on its grid axis."""
        if self.selected and parent in self.selected:
            return [int(i) for i in self.selected[parent]]
        return list(range(len(states)))

    @property
    def grid(self) -> tuple[int, ...]:
        return tuple(len(self.kept(name, states)) for name, states in self.parents)


class _StateIndex:
    """A parent variable inside an expression: its state index along its grid axis."""

    def __init__(self, name: str, states: Sequence[str], axis: int, ndim: int,
                 kept: Sequence[int] | None = None):
        self.name, self.states, self.axis = name, list(states), axis
        self.kept = list(range(len(states))) if kept is None else [int(i) for i in kept]
        shape = [1] * ndim
        shape[axis] = len(self.kept)
        self.index = np.asarray(self.kept).reshape(shape)

    def state_number(self, state: object) -> int:
        if state not in self.states:
            raise ExpressionError(
                f"{state!r} is not a state of {self.name}; states: {', '.join(self.states)}"
            )
        return self.states.index(state)


def evaluate(text: str, ctx: ExpressionContext) -> np.ndarray:
    """Evaluate ``text``; the result has shape (N or 1, *grid)."""
    value = evaluate_compact(text, ctx)
    draws = value.shape[-1]
    full = np.broadcast_to(value, (*ctx.grid, draws))
    return np.ascontiguousarray(np.moveaxis(full, -1, 0))


def evaluate_compact(text: str, ctx: ExpressionContext) -> np.ndarray:
    """Evaluate ``text`` with the draws on the last axis, without expanding the grid.

    The result has one axis per parent, then the draw axis (N or 1); an axis the expression does
    not depend on has size 1, so it broadcasts against the grid ``(*ctx.grid, N)``. Keeping the
    draws last and contiguous lets numpy's inner loops run over the draws: the batched engine
    builds its CPTs this way.
    """
    if ctx.shared is not None:
        return ctx.shared.evaluate(text, ctx)  # type: ignore[attr-defined]
    tree = parse_expression(text)
    grid = ctx.grid
    ndim = 1 + len(grid)
    parents = {
        name: _StateIndex(name, states, axis, ndim, ctx.kept(name, states))
        for axis, (name, states) in enumerate(ctx.parents)
    }
    walker = _Walker(text, ctx, parents, ndim)
    value = walker.visit(tree.body)
    if isinstance(value, _StateIndex | str):
        raise ExpressionError(f"expression {text!r} does not evaluate to a number")
    value = np.asarray(value, dtype=float)
    if value.ndim < ndim:
        value = value.reshape((1,) * (ndim - value.ndim) + value.shape)
    return value


class _Walker:
    def __init__(self, text: str, ctx: ExpressionContext, parents: dict, ndim: int):
        self.text, self.ctx, self.parents, self.ndim = text, ctx, parents, ndim

    def fail(self, message: str) -> ExpressionError:
        return ExpressionError(f"expression {self.text!r}: {message}")

    def as_array(self, value: object) -> np.ndarray:
        if isinstance(value, _StateIndex):
            raise self.fail(f"{value.name} is a variable; compare it with a state or index by it")
        if isinstance(value, str):
            raise self.fail(f"the string {value!r} can only be compared with a variable")
        arr = np.asarray(value)
        if arr.ndim == 0:
            return arr.reshape((1,) * self.ndim).astype(float) if arr.dtype != bool else arr
        return arr

    def visit(self, node: ast.AST):
        method: Callable = getattr(self, "visit_" + type(node).__name__)
        return method(node)

    def visit_Constant(self, node: ast.Constant):
        return node.value if isinstance(node.value, str) else float(node.value)

    def visit_Name(self, node: ast.Name):
        name = node.id
        if name in self.parents:
            return self.parents[name]
        if name in self.ctx.scalars:
            return np.asarray(self.ctx.scalars[name], dtype=float).reshape(
                (1,) * (self.ndim - 1) + (-1,)
            )
        if name in self.ctx.groups:
            raise self.fail(f"parameter group {name} must be indexed, e.g. {name}[<parent>]")
        known = sorted(self.parents) + sorted(self.ctx.scalars) + sorted(self.ctx.groups)
        raise self.fail(f"unknown name {name!r}; known here: {', '.join(known)}")

    def visit_Subscript(self, node: ast.Subscript):
        if not isinstance(node.value, ast.Name) or node.value.id not in self.ctx.groups:
            raise self.fail("only parameter groups can be indexed, e.g. m_spec[spec_quality]")
        group = node.value.id
        keys, values = self.ctx.groups[group]
        values = np.asarray(values, dtype=float)
        index = self.visit(node.slice)
        if isinstance(index, str):
            if index not in keys:
                raise self.fail(f"{group} has no key {index!r}; keys: {', '.join(keys)}")
            column = values[:, list(keys).index(index)]
            return column.reshape((1,) * (self.ndim - 1) + (-1,))
        if isinstance(index, _StateIndex):
            if list(keys) != index.states:
                raise self.fail(
                    f"{group} is keyed by {', '.join(keys)} but {index.name} has states "
                    f"{', '.join(index.states)}"
                )
            if len(index.kept) != len(keys):
                values = values[:, index.kept]
            shape = [1] * (self.ndim - 1) + [values.shape[0]]
            shape[index.axis] = values.shape[1]
            return np.ascontiguousarray(values.T).reshape(shape)
        raise self.fail(f"{group}[...] takes a parent variable or a quoted key")

    def visit_BinOp(self, node: ast.BinOp):
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(node.op, ast.BitAnd | ast.BitOr):
            a, b = self.as_bool(left), self.as_bool(right)
            return (a & b) if isinstance(node.op, ast.BitAnd) else (a | b)
        a = self.as_array(left).astype(float, copy=False)
        b = self.as_array(right).astype(float, copy=False)
        if isinstance(node.op, ast.Add):
            return a + b
        if isinstance(node.op, ast.Sub):
            return a - b
        if isinstance(node.op, ast.Mult):
            return a * b
        with np.errstate(divide="ignore", invalid="ignore"):
            return a / b

    def visit_UnaryOp(self, node: ast.UnaryOp):
        operand = self.visit(node.operand)
        if isinstance(node.op, ast.Invert | ast.Not):
            return ~self.as_bool(operand)
        value = self.as_array(operand).astype(float, copy=False)
        return -value if isinstance(node.op, ast.USub) else value

    def visit_BoolOp(self, node: ast.BoolOp):
        values = [self.as_bool(self.visit(v)) for v in node.values]
        out = values[0]
        for v in values[1:]:
            out = (out & v) if isinstance(node.op, ast.And) else (out | v)
        return out

    def as_bool(self, value) -> np.ndarray:
        arr = self.as_array(value)
        if arr.dtype != bool:
            raise self.fail("& | ~ combine comparisons such as (x == 'a'), not numbers")
        return arr

    def visit_Compare(self, node: ast.Compare):
        if len(node.ops) != 1:
            raise self.fail("chained comparisons are not allowed")
        left, right = self.visit(node.left), self.visit(node.comparators[0])
        if isinstance(right, _StateIndex) and isinstance(left, str):
            left, right = right, left
        if not (isinstance(left, _StateIndex) and isinstance(right, str)):
            raise self.fail("comparisons take a parent variable and a quoted state: x == 'a'")
        mask = left.index == left.state_number(right)
        return mask if isinstance(node.ops[0], ast.Eq) else ~mask

    def visit_Call(self, node: ast.Call):
        name = node.func.id
        args = [self.visit(a) for a in node.args]
        if name == "where":
            if len(args) != 3:
                raise self.fail("where(condition, if_true, if_false) takes three arguments")
            cond = self.as_bool(args[0])
            return np.where(cond, self.as_array(args[1]), self.as_array(args[2]))
        arrays = [self.as_array(a).astype(float, copy=False) for a in args]
        if name in ("min", "max"):
            if not arrays:
                raise self.fail(f"{name}() needs at least one argument")
            fn = np.minimum if name == "min" else np.maximum
            out = arrays[0]
            for a in arrays[1:]:
                out = fn(out, a)
            return out
        if name == "clip":
            if len(arrays) != 3:
                raise self.fail("clip(x, lo, hi) takes three arguments")
            return np.minimum(np.maximum(arrays[0], arrays[1]), arrays[2])
        if name in ("goal_factor", "harm_factor"):
            if len(arrays) != 5:
                raise self.fail(f"{name}(g, h, m_goal, m_harm, f) takes five arguments")
            goal, harm = split_factors(*arrays, rule=self.ctx.rule)
            return goal if name == "goal_factor" else harm
        # combine(base, m1, ...)
        if not arrays:
            raise self.fail("combine(base, modifier, ...) needs a base probability")
        return combine(arrays[0], arrays[1:], rule=self.ctx.rule)


def combine(base: np.ndarray, modifiers: Sequence[np.ndarray], *, rule: str) -> np.ndarray:
    """Apply multiplicative modifiers to a base probability under a combination rule.

    ``relative_risk``: min(1, base x m1 x m2 ...), the source document's own arithmetic.
    ``odds_ratio``: the modifiers multiply the odds base / (1 - base); never reaches 1.

    >>> float(combine(np.array(0.5), [np.array(3.0)], rule="relative_risk"))
    1.0
    >>> float(combine(np.array(0.5), [np.array(3.0)], rule="odds_ratio"))
    0.75
    """
    factor = np.float64(1.0)
    for m in modifiers:
        factor = factor * m
    base = np.asarray(base, dtype=float)
    if rule in ("relative_risk", "expanded_formula"):
        return np.minimum(1.0, base * factor)
    if rule == "odds_ratio":
        with np.errstate(divide="ignore", invalid="ignore"):
            odds = base / (1.0 - base) * factor
            p = odds / (1.0 + odds)
        # base == 1 stays 1; base == 0 stays 0
        return np.where(base >= 1.0, 1.0, np.where(base <= 0.0, 0.0, p))
    raise ExpressionError(f"unknown combination rule {rule!r}; choose one of: "
                          + ", ".join(COMBINATION_RULES))


def split_factors(g, h, m_goal, m_harm, f, *, rule: str) -> tuple[np.ndarray, np.ndarray]:
    """The goal factor and the harm factor of a product g x h under modifiers, by ``rule``.

    ``g`` and ``h`` are the two base probabilities (P(goal fails | capability) and
    P(harm | goal fails)), ``m_goal`` and ``m_harm`` the modifiers that act on each, ``f`` a
    relative-risk factor on the product (the mitigations' band factors, 1 for none).

    - ``expanded_formula``: the product is min(1, g x m_goal x f x h x m_harm), the document's
      expanded formula divided by P(capability transfers). Split: with g0 = g x m_goal x f and
      h0 = h x m_harm, each factor is its own g0, h0 where neither passes 1; a factor that
      would pass 1 stops at 1 and its excess moves to the other one (which stops at 1 too).
    - ``relative_risk`` (per factor): min(1, g0) and min(1, h0); the product is smaller than the
      formula wherever a cap binds.
    - ``odds_ratio``: each factor's odds times its modifiers; ``f`` scales the goal factor after
      (a band is a relative reduction of risk, so it stays one under every rule).

    >>> [round(float(x), 4) for x in split_factors(0.75, 0.8207, 1.75, 1.0, 1.0,
    ...                                            rule="expanded_formula")]
    [1.0, 1.0]
    >>> [round(float(x), 4) for x in split_factors(0.55, 0.7207, 2.45, 1.0, 1.0,
    ...                                            rule="expanded_formula")]
    [1.0, 0.9711]
    >>> [round(float(x), 4) for x in split_factors(0.55, 0.7207, 2.45, 1.0, 1.0,
    ...                                            rule="relative_risk")]
    [1.0, 0.7207]
    """
    g, h, m_goal, m_harm, f = (np.asarray(x, dtype=float) for x in (g, h, m_goal, m_harm, f))
    if rule == "odds_ratio":
        return combine(g, [m_goal], rule=rule) * f, combine(h, [m_harm], rule=rule)
    g0 = g * m_goal * f
    h0 = h * m_harm
    if rule == "relative_risk":
        return np.minimum(1.0, g0), np.minimum(1.0, h0)
    if rule != "expanded_formula":
        raise ExpressionError(f"unknown combination rule {rule!r}; choose one of: "
                              + ", ".join(COMBINATION_RULES))
    both = np.minimum(1.0, g0 * h0)
    goal = np.where(h0 > 1.0, both, np.minimum(1.0, g0))
    harm = np.where(h0 > 1.0, 1.0, np.where(g0 > 1.0, both, h0))
    return goal, harm
