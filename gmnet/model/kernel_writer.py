"""The writing of a compiled loop's source (:mod:`gmnet.model.kernel_source` builds the pieces):
where each piece is computed (:func:`layout`) and the loop nest that computes them
(:func:`write`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from gmnet.model.kernel_helpers import HELPERS as _HELPERS
from gmnet.model.kernel_helpers import ROUTE_HELPER as _ROUTE_HELPER
from gmnet.model.kernel_helpers import RULE_HELPERS as _RULE_HELPERS

if TYPE_CHECKING:
    from gmnet.model.kernel_source import Generator

__all__ = ["REF", "MAX_UNROLLED", "TILE", "Layout", "layout", "expanded", "write"]

REF = re.compile(r"@(\d+)@")  # a reference to another temporary in a temporary's code

# A product-sum's innermost parent with at most this many states is written out state by state
# inside the loop over the draws, with the level above it: every piece of those two levels is
# then a number in a register, not a vector written and read again (the nothing-held
# question's loop on one core: 5.2 to 3.5 us a draw), and a piece at a written-out state
# that is a piece of the level above (the harm factor's pieces at each goal state, the largest
# goal factor's at that key) is that piece
MAX_UNROLLED = 8

# ... and at most this many pieces in that loop's body (:func:`_written`): numba's compiler
# walks a body's branches recursively, and a body of a few hundred conditionals (a mean of 30
# capped terms over an 8-state parent written out) exceeds Python's recursion limit; the
# nothing-held question's body has 36
MAX_WRITTEN = 160

# The loops work through a chunk's draws a tile at a time: every loop level runs over one tile
# of this many draws before the next tile, so the loop's own vectors (a few dozen, one per
# piece and partial product, TILE entries each) and the slices of the arrays it reads stay in
# the processor's first-level cache whatever the chunk's size; each draw's numbers are computed
# in the same order as without tiles (the draws are independent), so the answers are the same
# to the last bit. On the project's machine the nothing-held question's loop, one core, 3,276
# draws: 3.67 us a draw untiled, 3.30 with tiles of 64, 3.40 of 128, 3.52 of 512
TILE = 64


class Layout:
    """Where a loop's pieces are computed: ``level`` (each temporary's loop level), ``levels``
    (each weight's), ``vec`` (temporaries and partial products of a level below this are
    vectors over the draws; at and above it, numbers inside the innermost loop over the
    draws), ``unrolled`` (the innermost parent's states are written out inside that loop:
    :data:`MAX_UNROLLED`), ``aliases`` (:meth:`Generator.reused`), ``same``
    (:func:`_same`) and ``live`` (:func:`_live`)."""

    def __init__(self, level, levels, vec, unrolled, aliases, same):
        self.level, self.levels, self.vec, self.unrolled = level, levels, vec, unrolled
        self.aliases, self.same = aliases, same
        self.live: set[int] = set()


def layout(gen: Generator, looped: tuple[int, ...], weights, product_sum: bool) -> Layout:
    """Where each piece is computed (:class:`Layout`)."""
    level, levels = gen.levels(looped, weights or ())
    depth = len(looped)
    unrolled = (product_sum and depth > 0
                and len(gen.kept[looped[-1]]) <= MAX_UNROLLED)
    vec = depth - 1 if unrolled else depth
    aliases = {k: v for k, v in gen.reused(looped, level).items()
               if not (unrolled and level[k] == depth)}
    lay = Layout(level, levels, vec, unrolled, aliases, {})
    if unrolled:
        lay.same = _same(gen, looped, level)
    lay.live = _live(gen, lay)
    if unrolled and _written(gen, lay, looped) > MAX_WRITTEN:
        return layout(gen, looped, weights, False)
    return lay


def _written(gen: Generator, lay: Layout, looped: tuple[int, ...]) -> int:
    """How many pieces the written-out loop's body computes: those of the level above the
    innermost parent, and each of the parent's pieces at every state it is not found at."""
    depth = len(looped)
    above = sum(1 for k in lay.live if lay.level[k] == depth - 1)
    return above + sum(v.count(None) for k, v in lay.same.items() if k in lay.live)


def _same(gen: Generator, looped: tuple[int, ...], level: list[int]
          ) -> dict[int, list[int | None]]:
    """For an unrolled innermost parent: ``{k: [other or None for each state it keeps]}``
    for each piece k that depends on it: at the state, the piece computed a level up whose
    text is the piece's with the state written in (the largest goal factor's pieces at
    each key, which the harm factor reads), or None (computed at that state)."""
    texts = expanded(gen)
    depth = len(looped)
    where: dict[str, int] = {}
    for k, text in enumerate(texts):
        if level[k] < depth:
            where.setdefault(text, k)
    axis = looped[-1]
    token = re.compile(rf"\bs{axis}\b")
    return {k: [where.get(token.sub(str(state), texts[k])) for state in gen.kept[axis]]
            for k in range(len(gen.temps)) if level[k] == depth}


def expanded(gen: Generator) -> list[str]:
    """Each temporary's code with every reference written out: equal text, equal
    computation."""
    out: list[str] = []
    for t in gen.temps:
        out.append(REF.sub(lambda m: f"({out[int(m.group(1))]})", t.code))
    return out


def _live(gen: Generator, lay: Layout) -> set[int]:
    """The temporaries the loop needs: those the expressions' values and the routes'
    targets read, and what those read in turn (a temporary taken from others reads
    those others, not its own pieces; at an unrolled state, the same)."""
    live: set[int] = set()
    todo = [int(m) for v in (*gen.finals, *gen.routes) for m in REF.findall(v.code)]
    while todo:
        k = todo.pop()
        if k in live:
            continue
        live.add(k)
        if k in lay.aliases:
            todo += [other for _, other in lay.aliases[k]]
            continue
        same = lay.same.get(k, [None])
        todo += [other for other in same if other is not None]
        if None in same:
            todo += [int(m) for m in REF.findall(gen.temps[k].code)]
    return live


def _draws(indent: str) -> list[str]:
    """The head of a loop over one tile's draws."""
    return [f"{indent}for j in range(m):", f"{indent}    i = i0 + j"]


def write(gen: Generator, looped: tuple[int, ...], varying: tuple[bool, ...], rule: str,
          weights: tuple | None = None) -> str:
    """The kernel's module source (:meth:`Generator.source`)."""
    depth = len(looped)
    lay = layout(gen, looped, weights, weights is not None)
    level, levels, vec, live = lay.level, lay.levels, lay.vec, lay.live
    aliases, same = lay.aliases, lay.same
    partial: dict[int, str] = {}  # level -> the partial product so far, where computed
    unrolled = looped[-1] if lay.unrolled else None

    def ref(k: int, names: dict[int, str] | None = None) -> str:
        if names is not None and k in names:
            return names[k]
        return f"t{k}[j]" if level[k] < vec else f"t{k}"

    def fill(code: str, names: dict[int, str] | None = None) -> str:
        code = re.sub(r"#(\d+)#", lambda m: "i" if varying[int(m.group(1))] else "0", code)
        return REF.sub(lambda m: ref(int(m.group(1)), names), code)

    args = ["out", *(f"K{a}" for a in looped), *(var for _, _, var in gen.params),
            *(f"W{j}x{m}" for j, (_, arrays, _) in enumerate(weights or ())
              for m in range(len(arrays)))]
    routed = any(w[2] is not None for w in weights or ())
    lines = ["import math" if routed else "", "import numba", "import numpy as np",
             f"TILE = {TILE}", _HELPERS, _RULE_HELPERS[rule],
             _ROUTE_HELPER if routed else "", "",
             '@numba.njit(cache=True, nogil=True, error_model="numpy")',
             f"def kernel({', '.join(args)}):", "    n = out.shape[-1]"]
    # the vectors over one tile's draws (index j; the chunk's arrays are read at i = i0 + j)
    lines += [f"    t{k} = np.empty(TILE)" for k, lv in enumerate(level)
              if lv < vec and k in live]
    lines += [f"    w{lv} = np.empty(TILE)" for lv in sorted(set(levels)) if lv < vec]
    # the tiles: counted from zero, so every index is known not to be negative (numba then
    # drops its wrap-around of negative indices, which would keep the loops from vectorising)
    lines += ["    for tile in range((n + TILE - 1) // TILE):", "        i0 = tile * TILE",
              "        m = min(TILE, n - i0)"]

    def read(j: int, m: int, axes, row: int | None) -> str:
        index = [f"a{a}" if a in axes else "0" for a in range(gen.nparents)]
        return f"W{j}x{m}[{', '.join(([str(row)] if row is not None else []) + index)}, i]"

    def weight_value(j: int, names=None, tag: str = "") -> tuple[list[str], str]:
        """(the statements before, the weight's value) of weight ``j`` at the cell."""
        h, arrays, route = (weights or ())[j]
        if route is not None:
            r, first = route
            g = fill(gen.routes[r].code, names)
            pre = [f"o{j}{tag}, l{j}{tag} = _route({g}, {read(j, 0, arrays[0], None)}, "
                   f"{read(j, 1, arrays[1], None)})"]
            rows = ["1.0", f"o{j}{tag}", f"l{j}{tag}"][first:]
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

    def weight_lines(at: int, routes: bool, names=None, tag: str = "") -> list[str]:
        # the weights set at this level (those read at a route, or the others), multiplied
        # onto the partial product so far (a vector over the draws, or inside the innermost
        # loop over the draws one number)
        mine = [j for j, lv in enumerate(levels)
                if lv == at and ((weights or ())[j][2] is not None) == routes]
        if not mine:
            return []
        above = [lv for lv in partial if lv <= at]
        value = partial[max(above)] if above else None
        out: list[str] = []
        for j in mine:
            pre, term = weight_value(j, names, tag)
            out += pre
            value = term if value is None else f"({value} * {term})"
        partial[at] = f"w{at}[j]" if at < vec else f"w{at}{tag}"
        return [*out, f"{partial[at]} = {value}"]

    def pieces(at: int, indent: str) -> tuple[list[str], list[str]]:
        """(statements before the loop over the draws, statements inside it) computing
        the live temporaries of level ``at``."""
        first: list[str] = []
        body: list[str] = []
        for k, lv in enumerate(level):
            if lv != at or k not in live:
                continue
            if k in aliases:
                found = aliases[k]
                axis = looped[lv - 1]
                value = f"t{found[-1][1]}"
                for state, other in reversed(found[:-1]):
                    value = f"(t{other} if s{axis} == {state} else {value})"
                first.append(f"{indent}r{k} = {value}")
                body.append(f"{ref(k)} = r{k}[j]")
            else:
                body.append(f"{ref(k)} = {fill(gen.temps[k].code)}")
        return first, body

    def final(names=None) -> str:
        value = f"({fill(gen.finals[0].code, names)})"
        for f in gen.finals[1:]:
            value = f"({value} * ({fill(f.code, names)}))"
        if partial:
            value = f"({value} * {partial[max(partial)]})"
        return value

    def block(at: int, indent: str) -> list[str]:
        first, body = pieces(at, indent)
        last: list[str] = []
        if weights is not None and at < depth:
            # the weights' partial product in loops of their own: a loop that reads many
            # arrays is not vectorised (too many possible overlaps to check), and the
            # expressions' loop must stay vectorised; a route's weight reads its target,
            # so it comes after the expressions' loop
            plain, routes = weight_lines(at, False), weight_lines(at, True)
            if plain:
                first += [*_draws(indent),
                          *(f"{indent}    {b}" for b in plain)]
            if routes:
                last = [*_draws(indent), *(f"{indent}    {b}" for b in routes)]
        if at == depth and weights is None:
            assert len(gen.finals) == 1  # set by generate()
            index = ", ".join(f"a{a}" if a in looped else "0"
                              for a in range(gen.nparents))
            body.append(f"out[{index + ', ' if index else ''}i] = "
                        f"{fill(gen.finals[0].code)}")
        elif at == depth:
            body += weight_lines(at, False) + weight_lines(at, True)
            body.append(f"out[i] += {final()}")
        if not body:
            return first + last
        return [*first, *_draws(indent), *(f"{indent}    {b}" for b in body),
                *last]

    def written_out(indent: str) -> list[str]:
        """The level above the innermost parent and that parent's states, one loop over
        the draws: every piece a number; the states' sums added in their order."""
        assert unrolled is not None
        at = depth - 1
        first, body = pieces(at, indent)
        body += weight_lines(at, False) + weight_lines(at, True)
        token = re.compile(rf"\bs{unrolled}\b")
        position = re.compile(rf"\ba{unrolled}\b")
        body.append("acc = out[i]")
        above = dict(partial)
        for j, state in enumerate(gen.kept[unrolled]):
            names: dict[int, str] = {}
            for k, lv in enumerate(level):
                if lv != depth or k not in live:
                    continue
                other = same[k][j]
                if other is not None:
                    names[k] = ref(other)
                    continue
                names[k] = f"t{k}_{j}"
                body.append(f"{names[k]} = "
                            f"{token.sub(str(state), fill(gen.temps[k].code, names))}")
            partial.clear()
            partial.update(above)
            lines_j = weight_lines(depth, False, names, f"_{j}") \
                + weight_lines(depth, True, names, f"_{j}")
            body += [token.sub(str(state), position.sub(str(j), b)) for b in lines_j]
            body.append("acc += " + token.sub(str(state), final(names)))
        body.append("out[i] = acc")
        return [*first, *_draws(indent), *(f"{indent}    {b}" for b in body)]

    indent = "        "
    lines += block(0, indent) if not (lay.unrolled and depth == 1) else []
    for d, a in enumerate(looped, start=1):
        if lay.unrolled and d == depth:
            break
        lines.append(f"{indent}for a{a} in range(K{a}.shape[0]):")
        indent += "    "
        lines.append(f"{indent}s{a} = K{a}[a{a}]")
        if not (lay.unrolled and d == depth - 1):
            lines += block(d, indent)
    if lay.unrolled:
        lines += written_out(indent)
    lines.append("    return 0")
    return "\n".join(lines) + "\n"
