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
from gmnet.model.kernel_helpers import HELPERS as _HELPERS
from gmnet.model.kernel_helpers import ROUTE_HELPER as _ROUTE_HELPER
from gmnet.model.kernel_helpers import RULE_HELPERS as _RULE_HELPERS

__all__ = ["Unsupported", "generate", "generate_tail", "Generator"]


class Unsupported(Exception):
    """Not compiled: numpy evaluates it (and reports any problem)."""


_REF = re.compile(r"@(\d+)@")


def generate(text, parents, scalars, groups, rule) -> tuple[Generator, tuple[int, ...]]:
    """The generator of ``text`` (its :meth:`Generator.source` writes the loop) and the
    order of the parents looped over, outermost first."""
    if rule not in _RULE_HELPERS:
        raise Unsupported(rule)
    tree = parse_expression(text)
    gen = Generator(parents, scalars, groups)
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
    gen = Generator(parents, scalars, groups)
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


class _Value:
    __slots__ = ("code", "kind", "deps")

    def __init__(self, code: str, kind: str, deps: frozenset = frozenset()):
        # kind: f (a number), b (a condition), state (a parent), str (a quoted state or key)
        self.code, self.kind, self.deps = code, kind, deps


class _Temp:
    __slots__ = ("code", "deps")

    def __init__(self, code: str, deps: frozenset):
        self.code, self.deps = code, deps


class Generator:
    """AST -> scalar Python source, one temporary per distinct subexpression, each computed at
    the shallowest loop level its parents allow."""

    def __init__(self, parents: tuple, scalars: frozenset, groups: dict) -> None:
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
        self.finals: list[_Value] = []
        self.routes: list[_Value] = []  # calibrated routes' targets (generate_tail)

    def _reused(self, looped: tuple[int, ...], level: list[int]
                ) -> dict[int, list[tuple[int, int]]]:
        """The temporaries taken from others, ``{k: [(state, other), ...]}``: a piece indexed
        by a parent (``goal_factor(p_goal_failure[shift_type], ...)``) that is, at every state
        the parent keeps, a piece the loop computed a level up with that state's literal key
        (``goal_factor(p_goal_failure['superficial'], ...)``: the largest goal factor's terms)
        takes that value instead of computing it again (the same value, to the last bit). The
        array of that value is chosen before the loop over the draws, which stays a plain
        vector loop."""
        expanded: list[str] = []
        for t in self.temps:  # every reference written out: equal text, equal computation
            expanded.append(_REF.sub(lambda m: f"({expanded[int(m.group(1))]})", t.code))
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

    def _levels(self, looped: tuple[int, ...], weights) -> tuple[list[int], list[int]]:
        """(each temporary's loop level, each weight's): a weight joins the product at the
        level where all it reads is set, or later (where the weight before it joins), so the
        order of the product is the list's."""
        level = [max((looped.index(a) + 1 for a in t.deps), default=0) for t in self.temps]
        levels: list[int] = []
        for w in weights:
            levels.append(max([self._weight_level(looped, w), *levels[-1:]]))
        return level, levels

    def vectors(self, looped: tuple[int, ...], weights=()) -> int:
        """How many vectors over the draws the loop keeps (temporaries and partial products
        of the levels above the innermost)."""
        level, levels = self._levels(looped, weights)
        depth = len(looped)
        return sum(lv < depth for lv in level) + len({lv for lv in levels if lv < depth})

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
        vector over the draws, a level up). A product-sum's weights count as pieces (the parent
        axes each reads, ``weight_axes``)."""
        uses = {a: sum(a in t.deps for t in self.temps) + sum(a in w for w in weight_axes)
                for a in self.looped}
        return tuple(sorted(self.looped, key=lambda a: (-uses[a], a)))

    # ------------------------------------------------------------ building
    def visit(self, node) -> _Value:
        method = getattr(self, "v_" + type(node).__name__, None)
        if method is None:
            raise Unsupported(type(node).__name__)
        return method(node)

    def temp(self, node, code: str, deps: frozenset) -> _Value:
        key = ast.dump(node)
        index = self._temp_index.get(key)
        if index is None:
            index = self._temp_index[key] = len(self.temps)
            self.temps.append(_Temp(code, deps))
        return _Value(f"@{index}@", "f", deps)

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
        where all its weights read is set (so weights had best come in that order)."""
        depth = len(looped)
        level, levels = self._levels(looped, weights or ())
        partial: dict[int, str] = {}  # level -> the partial product's vector, where computed
        aliases = self._reused(looped, level)

        def fill(code: str, at: int) -> str:
            code = re.sub(r"#(\d+)#", lambda m: "i" if varying[int(m.group(1))] else "0", code)
            return _REF.sub(lambda m: f"t{m.group(1)}[i]" if level[int(m.group(1))] < depth
                            else f"t{m.group(1)}", code)

        args = ["out", *(f"K{a}" for a in looped), *(var for _, _, var in self.params),
                *(f"W{j}x{m}" for j, (_, arrays, _) in enumerate(weights or ())
                  for m in range(len(arrays)))]
        routed = any(w[2] is not None for w in weights or ())
        lines = ["import math" if routed else "", "import numba", "import numpy as np",
                 _HELPERS, _RULE_HELPERS[rule], _ROUTE_HELPER if routed else "", "",
                 '@numba.njit(cache=True, nogil=True, error_model="numpy")',
                 f"def kernel({', '.join(args)}):", "    n = out.shape[-1]"]
        lines += [f"    t{k} = np.empty(n)" for k, lv in enumerate(level) if lv < depth]
        lines += [f"    w{lv} = np.empty(n)" for lv in sorted(set(levels)) if lv < depth]

        def read(j: int, m: int, axes, row: int | None) -> str:
            index = [f"a{a}" if a in axes else "0" for a in range(self.nparents)]
            return f"W{j}x{m}[{', '.join(([str(row)] if row is not None else []) + index)}, i]"

        def weight_value(j: int, at: int) -> tuple[list[str], str]:
            """(the statements before, the weight's value) of weight ``j`` at the cell."""
            h, arrays, route = (weights or ())[j]
            if route is not None:
                r, first = route
                g = fill(self.routes[r].code, at)
                pre = [f"o{j}, l{j} = _route({g}, {read(j, 0, arrays[0], None)}, "
                       f"{read(j, 1, arrays[1], None)})"]
                rows = ["1.0", f"o{j}", f"l{j}"][first:]
                terms = [f"({v} * {read(j, 2, arrays[2], k)})" for k, v in enumerate(rows)]
            else:
                pre = []
                terms = []
                for k in range(h):
                    reads = [read(j, m, axes, k if h > 1 else None)
                             for m, axes in enumerate(arrays)]
                    term = reads[0]
                    for x in reads[1:]:
                        term = f"({term} * {x})"
                    terms.append(term)
            value = terms[0]
            for t in terms[1:]:
                value = f"({value} + {t})"
            return pre, value

        def weight_lines(at: int, routes: bool) -> list[str]:
            # the weights set at this level (those read at a route, or the others), multiplied
            # onto the partial product so far (a vector over the draws, or at the innermost
            # level one number)
            mine = [j for j, lv in enumerate(levels)
                    if lv == at and ((weights or ())[j][2] is not None) == routes]
            if not mine:
                return []
            above = [lv for lv in partial if lv <= at]
            value = partial[max(above)] if above else None
            out: list[str] = []
            for j in mine:
                pre, term = weight_value(j, at)
                out += pre
                value = term if value is None else f"({value} * {term})"
            partial[at] = f"w{at}[i]" if at < depth else "w"
            return [*out, f"{partial[at]} = {value}"]

        def block(at: int, indent: str) -> list[str]:
            first: list[str] = []
            body: list[str] = []
            last: list[str] = []
            if weights is not None and at < depth:
                # the weights' partial product in loops of their own: a loop that reads many
                # arrays is not vectorised (too many possible overlaps to check), and the
                # expressions' loop must stay vectorised; a route's weight reads its target,
                # so it comes after the expressions' loop
                plain, routes = weight_lines(at, False), weight_lines(at, True)
                if plain:
                    first = [f"{indent}for i in range(n):", *(f"{indent}    {b}" for b in plain)]
                if routes:
                    last = [f"{indent}for i in range(n):", *(f"{indent}    {b}" for b in routes)]
            for k, lv in enumerate(level):
                if lv == at:
                    target = f"t{k}[i]" if lv < depth else f"t{k}"
                    if k in aliases:
                        found = aliases[k]
                        axis = looped[lv - 1]
                        value = f"t{found[-1][1]}"
                        for state, other in reversed(found[:-1]):
                            value = f"(t{other} if s{axis} == {state} else {value})"
                        first.append(f"{indent}r{k} = {value}")
                        body.append(f"{target} = r{k}[i]")
                    else:
                        body.append(f"{target} = {fill(self.temps[k].code, at)}")
            if at == depth and weights is None:
                assert len(self.finals) == 1  # set by generate()
                index = ", ".join(f"a{a}" if a in looped else "0"
                                  for a in range(self.nparents))
                body.append(f"out[{index + ', ' if index else ''}i] = "
                            f"{fill(self.finals[0].code, at)}")
            elif at == depth:
                body += weight_lines(at, False) + weight_lines(at, True)
                value = f"({fill(self.finals[0].code, at)})"
                for final in self.finals[1:]:
                    value = f"({value} * ({fill(final.code, at)}))"
                if partial:
                    value = f"({value} * {partial[max(partial)]})"
                body.append(f"out[i] += {value}")
            if not body:
                return first + last
            return [*first, f"{indent}for i in range(n):", *(f"{indent}    {b}" for b in body),
                    *last]

        indent = "    "
        lines += block(0, indent)
        for d, a in enumerate(looped, start=1):
            lines.append(f"{indent}for a{a} in range(K{a}.shape[0]):")
            indent += "    "
            lines.append(f"{indent}s{a} = K{a}[a{a}]")
            lines += block(d, indent)
        lines.append("    return 0")
        return "\n".join(lines) + "\n"
