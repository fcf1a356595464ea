"""The source of a compiled loop (:mod:`gmnet.model.expression_kernel`): an expression's syntax
tree written as scalar Python for numba, one loop nest over the parents it reads and, innermost,
the draws.

Each distinct subexpression becomes one temporary, computed at the shallowest loop level its
parents allow: what does not depend on a parent is computed once for all its states, as a
vector over the draws (numpy's broadcasting does the same), and the loop over the parent that
fewest pieces depend on is innermost. Each scalar operation is the one numpy applies to each
element, in the same order, so the numbers are the same to the last bit.
"""

from __future__ import annotations

import ast
import re

from gmnet.model.expressions import parse_expression
from gmnet.model.kernel_helpers import RULE_HELPERS as _RULE_HELPERS
from gmnet.model.kernel_writer import expanded as _expanded
from gmnet.model.kernel_writer import write

__all__ = ["Unsupported", "generate", "generate_tail", "Generator"]


class Unsupported(Exception):
    """Not compiled: numpy evaluates it (and reports any problem)."""



def generate(text, parents, scalars, groups, rule) -> tuple[Generator, tuple[int, ...]]:
    """The generator of ``text`` (its :meth:`Generator.source` writes the loop) and the
    order of the parents looped over, outermost first."""
    if rule not in _RULE_HELPERS:
        raise Unsupported(rule)
    tree = parse_expression(text)
    gen = Generator(parents, scalars, groups, rule)
    value = gen.visit(tree.body)
    if value.kind in ("state", "str"):
        raise Unsupported("not a number")
    if not gen.params:
        raise Unsupported("reads no parameter: computed once by numpy")
    gen.finals = [gen.as_float(value)]
    return gen, gen.loop_order()


def generate_tail(texts, parents, scalars, groups, rule, axes,
                  weight_axes=(), routes=()) -> tuple[Generator, tuple[int, ...]]:
    """The generator of a product-sum kernel (:meth:`Generator.source` with ``weights``): the
    product of the expressions ``texts`` (all on the same ``parents``) times weight arrays,
    summed over every cell of the parents ``axes`` (which it loops over, whether or not an
    expression reads them; a parent an expression reads at its one state is looped over that
    state) into one number per draw. The expressions share their
    subexpressions, each computed once. ``weight_axes``: the parent axes each weight reads,
    which count with the subexpressions in the loops' order (:meth:`Generator.loop_order`).
    ``routes``: the targets of calibrated routes whose factors the loop computes at each cell
    (a weight with a ``route``, :meth:`Generator.source`), on the same parents."""
    if rule not in _RULE_HELPERS:
        raise Unsupported(rule)
    gen = Generator(parents, scalars, groups, rule)
    finals = []
    for text in texts:
        value = gen.visit(parse_expression(text).body)
        if value.kind in ("state", "str"):
            raise Unsupported("not a number")
        finals.append(gen.as_float(value))
    for text in routes:
        value = gen.visit(parse_expression(text).body)
        if value.kind in ("state", "str"):
            raise Unsupported("not a number")
        gen.routes.append(gen.as_float(value))
    if not gen.params:
        raise Unsupported("reads no parameter: computed once by numpy")
    gen.looped |= set(axes)
    gen.finals = finals
    return gen, gen.loop_order(weight_axes)


# Each rule's goal and harm factors (gmnet.model.kernel_helpers' _goal and _harm, the same
# operations in the same order) as named pieces: (name, code over the arguments g, h, mg, mh,
# f and the pieces before). A rule not here is written as the helpers' calls.
_G0 = (("g0m", "({g} * {mg})"), ("g0", "({g0m} * {f})"))  # g0 = g * mg * f
_H0 = (("h0", "({h} * {mh})"),)
_BOTH = (*_G0, *_H0, ("gh", "({g0} * {h0})"), ("both", "_min1({gh})"))
_SPLIT = {
    "expanded_formula": {
        "goal_factor": (*_BOTH, ("g1", "_min1({g0})"),
                        ("goal", "({both} if ({h0} > 1.0) else {g1})")),
        "harm_factor": (*_BOTH, ("harm", "(1.0 if ({h0} > 1.0) else ({both} if ({g0} > 1.0) "
                                         "else {h0}))")),
    },
    "relative_risk": {
        "goal_factor": (*_G0, ("goal", "_min1({g0})")),
        "harm_factor": (*_H0, ("harm", "_min1({h0})")),
    },
}


class _Value:
    __slots__ = ("code", "kind", "deps")

    def __init__(self, code: str, kind: str, deps: frozenset = frozenset()):
        # kind: f (a number), b (a condition), state (a parent), str (a quoted state or key)
        self.code, self.kind, self.deps = code, kind, deps


class _Temp:
    __slots__ = ("code", "deps")

    def __init__(self, code: str, deps: frozenset):
        self.code, self.deps = code, deps


# a node's structure (see _structure), by the node's id; the node is kept with it, so that its
# id is not reused while the entry lives. The parsed trees are shared (parse_expression keeps
# them), so a server planning question after question finds most of its keys here.
_STRUCTURES: dict[int, tuple[ast.AST, str]] = {}
MAX_STRUCTURES = 1 << 17


def _structure(node: ast.AST) -> str:
    """The node's structure, equal for two nodes exactly when their ``ast.dump`` is (the
    fields and constants' reprs), each node's made once from its children's: ``ast.dump`` at
    every piece walked each subtree again, a fifth of planning a new question."""
    found = _STRUCTURES.get(id(node))
    if found is not None and found[0] is node:
        return found[1]
    parts = []
    for name, value in ast.iter_fields(node):
        if isinstance(value, ast.AST):
            parts.append(f"{name}={_structure(value)}")
        elif isinstance(value, list):
            parts.append(name + "=[" + ",".join(
                _structure(v) if isinstance(v, ast.AST) else repr(v) for v in value) + "]")
        else:
            parts.append(f"{name}={value!r}")
    key = f"{type(node).__name__}({','.join(parts)})"
    if len(_STRUCTURES) >= MAX_STRUCTURES:
        _STRUCTURES.clear()
    _STRUCTURES[id(node)] = (node, key)
    return key


class Generator:
    """AST -> scalar Python source, one temporary per distinct subexpression, each computed at
    the shallowest loop level its parents allow."""

    def __init__(self, parents: tuple, scalars: frozenset, groups: dict,
                 rule: str = "") -> None:
        self.rule = rule
        self.axis = {name: a for a, (name, _, _) in enumerate(parents)}
        self.states = {name: list(states) for name, states, _ in parents}
        self.nparents = len(parents)
        self.kept = [tuple(kept) for _, _, kept in parents]
        self.scalars, self.groups = scalars, groups
        self.looped: set[int] = set()
        self.params: list[tuple[str, str, str]] = []  # (kind s|g, name, variable)
        self._param_index: dict[tuple[str, str], int] = {}
        self.temps: list[_Temp] = []
        self._temp_index: dict[str, int] = {}
        self._order: dict[str, frozenset] = {}  # the pieces the loops' order counts
        self.finals: list[_Value] = []
        self.routes: list[_Value] = []  # calibrated routes' targets (generate_tail)

    def reused(self, looped: tuple[int, ...], level: list[int]
                ) -> dict[int, list[tuple[int, int]]]:
        """The temporaries taken from others, ``{k: [(state, other), ...]}``: a piece indexed
        by a parent (``goal_factor(p_goal_failure[shift_type], ...)``) that is, at every state
        the parent keeps, a piece the loop computed a level up with that state's literal key
        (``goal_factor(p_goal_failure['superficial'], ...)``: the largest goal factor's terms)
        takes that value instead of computing it again (the same value, to the last bit). The
        array of that value is chosen before the loop over the draws, which stays a plain
        vector loop."""
        expanded = _expanded(self)
        where: dict[str, int] = {}
        for k, text in enumerate(expanded):
            where.setdefault(text, k)
        aliases: dict[int, list[tuple[int, int]]] = {}
        for k in range(len(self.temps)):
            if level[k] == 0:
                continue
            axis = looped[level[k] - 1]  # the deepest parent it depends on
            token = re.compile(rf"\bs{axis}\b")
            found = []
            for state in self.kept[axis]:
                other = where.get(token.sub(str(state), expanded[k]))
                if other is None or level[other] >= level[k]:
                    break
                found.append((state, other))
            else:
                if found:
                    aliases[k] = found
        return aliases

    def levels(self, looped: tuple[int, ...], weights) -> tuple[list[int], list[int]]:
        """(each temporary's loop level, each weight's): a weight joins the product at the
        level where all it reads is set, or later (where the weight before it joins), so the
        order of the product is the list's."""
        level = [max((looped.index(a) + 1 for a in t.deps), default=0) for t in self.temps]
        levels: list[int] = []
        for w in weights:
            levels.append(max([self._weight_level(looped, w), *levels[-1:]]))
        return level, levels

    def _weight_level(self, looped: tuple[int, ...], weight) -> int:
        """The loop level at which all that ``weight`` reads is set (its route's target
        included)."""
        _, arrays, route = weight
        lv = self.weight_level(looped, tuple(a for axes in arrays for a in axes))
        if route is not None:
            lv = max(lv, self.weight_level(looped, tuple(self.routes[route[0]].deps)))
        return lv

    @staticmethod
    def weight_level(looped: tuple[int, ...], axes: tuple[int, ...]) -> int:
        """The loop level (0: outside every loop, 1: inside the outermost) at which every one
        of ``axes`` is set."""
        return max((looped.index(a) + 1 for a in axes), default=0)

    def loop_order(self, weight_axes=()) -> tuple[int, ...]:
        """The parents looped over, outermost first: the axis fewest pieces depend on
        innermost, so that what does not depend on it is computed once for all its states (one
        vector over the draws, a level up). A goal or harm factor counts as one piece (as
        when each was one helper's call: the same order, so a product-sum adds its weights in
        the same order and its numbers stay the same to the last bit). A product-sum's weights
        count as pieces (the parent axes each reads, ``weight_axes``)."""
        pieces = list(self._order.values())
        uses = {a: sum(a in deps for deps in pieces) + sum(a in w for w in weight_axes)
                for a in self.looped}
        return tuple(sorted(self.looped, key=lambda a: (-uses[a], a)))

    # ------------------------------------------------------------ building
    def visit(self, node) -> _Value:
        method = getattr(self, "v_" + type(node).__name__, None)
        if method is None:
            raise Unsupported(type(node).__name__)
        return method(node)

    def temp(self, node, code: str, deps: frozenset) -> _Value:
        key = _structure(node)
        if key not in self._temp_index:
            self._order[key] = deps
        return self._temp(key, code, deps)

    def as_float(self, v: _Value) -> _Value:
        if v.kind == "b":
            return _Value(f"(1.0 if {v.code} else 0.0)", "f", v.deps)
        if v.kind != "f":
            raise Unsupported("not a number")
        return v

    def as_bool(self, v: _Value) -> _Value:
        if v.kind != "b":
            raise Unsupported("not a condition")
        return v

    def param(self, kind: str, name: str) -> int:
        key = (kind, name)
        if key not in self._param_index:
            self._param_index[key] = len(self.params)
            self.params.append((kind, name, f"P{len(self.params)}"))
        return self._param_index[key]

    def v_Constant(self, node):
        if isinstance(node.value, str):
            return _Value(node.value, "str")
        return _Value(repr(float(node.value)), "f")

    def v_Name(self, node):
        name = node.id
        if name in self.axis:
            return _Value(name, "state")
        if name in self.scalars:
            j = self.param("s", name)
            return self.temp(node, f"P{j}[#{j}#]", frozenset())
        raise Unsupported(name)

    def v_Subscript(self, node):
        if not isinstance(node.value, ast.Name) or node.value.id not in self.groups:
            raise Unsupported("subscript")
        group = node.value.id
        keys = list(self.groups[group])
        index = self.visit(node.slice)
        j = self.param("g", group)
        if index.kind == "str":
            if index.code not in keys:
                raise Unsupported("key")
            return self.temp(node, f"P{j}[{keys.index(index.code)}, #{j}#]", frozenset())
        if index.kind == "state":
            if keys != self.states[index.code]:
                raise Unsupported("keys")
            axis = self.axis[index.code]
            self.looped.add(axis)
            return self.temp(node, f"P{j}[s{axis}, #{j}#]", frozenset({axis}))
        raise Unsupported("index")

    def v_Compare(self, node):
        if len(node.ops) != 1 or not isinstance(node.ops[0], ast.Eq | ast.NotEq):
            raise Unsupported("comparison")
        left, right = self.visit(node.left), self.visit(node.comparators[0])
        if right.kind == "state" and left.kind == "str":
            left, right = right, left
        if not (left.kind == "state" and right.kind == "str"):
            raise Unsupported("comparison")
        if right.code not in self.states[left.code]:
            raise Unsupported("state")
        axis = self.axis[left.code]
        self.looped.add(axis)
        op = "==" if isinstance(node.ops[0], ast.Eq) else "!="
        return _Value(f"(s{axis} {op} {self.states[left.code].index(right.code)})", "b",
                      frozenset({axis}))

    def v_BoolOp(self, node):
        values = [self.as_bool(self.visit(v)) for v in node.values]
        word = " and " if isinstance(node.op, ast.And) else " or "
        return _Value("(" + word.join(v.code for v in values) + ")", "b",
                      frozenset().union(*(v.deps for v in values)))

    def v_UnaryOp(self, node):
        v = self.visit(node.operand)
        if isinstance(node.op, ast.Invert | ast.Not):
            v = self.as_bool(v)
            return _Value(f"(not {v.code})", "b", v.deps)
        v = self.as_float(v)
        if isinstance(node.op, ast.USub):
            return self.temp(node, f"(-{v.code})", v.deps)
        return v

    def v_BinOp(self, node):
        left, right = self.visit(node.left), self.visit(node.right)
        op = node.op
        if isinstance(op, ast.BitAnd | ast.BitOr):
            a, b = self.as_bool(left), self.as_bool(right)
            word = "and" if isinstance(op, ast.BitAnd) else "or"
            return _Value(f"({a.code} {word} {b.code})", "b", a.deps | b.deps)
        symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}.get(type(op))
        if symbol is None:
            raise Unsupported("operator")
        a, b = self.as_float(left), self.as_float(right)
        return self.temp(node, f"({a.code} {symbol} {b.code})", a.deps | b.deps)

    def v_Call(self, node):
        if not isinstance(node.func, ast.Name):
            raise Unsupported("call")
        name = node.func.id
        args = [self.visit(a) for a in node.args]
        deps = frozenset().union(*(a.deps for a in args)) if args else frozenset()
        if name == "where":
            if len(args) != 3:
                raise Unsupported("where")
            cond, a, b = self.as_bool(args[0]), args[1], args[2]
            if a.kind == "b" and b.kind == "b":
                return _Value(f"({a.code} if {cond.code} else {b.code})", "b", deps)
            a, b = self.as_float(a), self.as_float(b)
            return self.temp(node, f"({a.code} if {cond.code} else {b.code})", deps)
        floats = [self.as_float(a).code for a in args]
        if name in ("min", "max"):
            if not floats:
                raise Unsupported(name)
            fn = "_minimum" if name == "min" else "_maximum"
            out = floats[0]
            for f in floats[1:]:
                if fn == "_minimum" and "1.0" in (out, f):  # a cap at one: either order
                    out = f"_min1({f if out == '1.0' else out})"
                else:
                    out = f"{fn}({out}, {f})"
            return self.temp(node, out, deps)
        if name == "clip":
            if len(floats) != 3:
                raise Unsupported("clip")
            return self.temp(node, f"_minimum(_maximum({floats[0]}, {floats[1]}), {floats[2]})",
                             deps)
        if name in ("goal_factor", "harm_factor"):
            if len(floats) != 5:
                raise Unsupported(name)
            if self.rule in _SPLIT:
                self._order.setdefault(_structure(node), deps)
                # what reads the factor depends on every parent the call's arguments read (as
                # the helper's call did), not only on those its last piece reads (under
                # relative_risk the goal factor ignores h): the same levels, the same order
                value = self._split(name, [self.as_float(a) for a in args])
                return _Value(value.code, "f", deps)
            fn = "_goal" if name == "goal_factor" else "_harm"
            return self.temp(node, f"{fn}({', '.join(floats)})", deps)
        if name == "combine":
            if not floats:
                raise Unsupported("combine")
            factor = "1.0"
            for m in floats[1:]:
                factor = f"({factor} * {m})"
            return self.temp(node, f"_combine({floats[0]}, {factor})", deps)
        raise Unsupported(name)

    def _split(self, name: str, args: list[_Value]) -> _Value:
        """A goal or harm factor written as its pieces (:data:`_SPLIT`), each a temporary: the
        goal factor and the harm factor of the same cell share theirs, and a piece is computed
        at the shallowest level what it reads allows (the harm factor at a written-out goal
        state takes the pieces computed for the largest goal factor at that key). The same
        operations in the same order as the helpers: the same numbers."""
        names = dict(zip(("g", "h", "mg", "mh", "f"), args, strict=True))
        value = args[0]
        for piece, code in _SPLIT[self.rule][name]:
            used = [names[m] for m in re.findall(r"\{(\w+)\}", code)]
            value = self.temp_code(re.sub(r"\{(\w+)\}", lambda m: names[m.group(1)].code, code),
                                   frozenset().union(*(u.deps for u in used)))
            names[piece] = value
        return value

    def temp_code(self, code: str, deps: frozenset) -> _Value:
        """A temporary known by its code (a piece :meth:`_split` writes)."""
        return self._temp("code:" + code, code, deps)

    def _temp(self, key: str, code: str, deps: frozenset) -> _Value:
        """The temporary known by ``key``, made the first time it is asked for."""
        index = self._temp_index.get(key)
        if index is None:
            index = self._temp_index[key] = len(self.temps)
            self.temps.append(_Temp(code, deps))
        return _Value(f"@{index}@", "f", deps)

    # ------------------------------------------------------------ writing
    def source(self, looped: tuple[int, ...], varying: tuple[bool, ...], rule: str,
               weights: tuple | None = None) -> str:
        """The kernel's module source. Without ``weights``: ``kernel(out, K..., P...)`` writes
        the expression at every cell, ``out[cells..., draws]``.

        With ``weights``, ``kernel(out, K..., P..., W0x0, W0x1, ..., W1x0, ...)`` adds
        ``(e0 * e1 ...) * ((w0 * w1) * ...)`` at every cell, in loop order, into
        ``out[draws]`` (zeros to begin with). A weight is (h, (the parent axes of each of its
        arrays, ...), route). Without a route, with h = 1 it is the product of its arrays at
        the cell (``W0x0[cell, i] * W0x1[cell, i] ...``), with h > 1 the sum over a leading
        hidden axis of length h of that product (``W0x0[0, cell, i] * W0x1[0, cell, i] +
        W0x0[1, ...] * ...``), left to right. With a route (r, first): the calibrated route of
        target ``routes[r]`` at the cell, its P(route | do(others)) and share the first two
        arrays, its factor over the hidden index (1, offset, slope)[first:] summed against the
        third array's rows, as ``V[k] * Z[k]`` (:func:`gmnet.model.cpts._route_factors`). The
        weights are multiplied in their order, each partial product once, at the loop level
        where all its weights read is set (so weights had best come in that order). A
        product-sum whose innermost parent keeps at most
        :data:`~gmnet.model.kernel_writer.MAX_UNROLLED` states writes them out, one after
        another, inside the loop over the draws of the level above
        (:func:`gmnet.model.kernel_writer.write`)."""
        return write(self, looped, varying, rule, weights)
