"""The batched engine's product-sum: a question's heaviest CPTs summed inside one compiled loop.

With nothing held, P(harm = yes) needs two CPTs over all 2,592 combinations of the context and
the prevention mitigations, for every draw: the shifted features' (the goal factor over the
largest) and the harm given failure's (the harm factor), both restricted to their one failing
state. Nothing in them factorises, and the contraction's first steps only multiply them
together, with the shift type's prior and capability transfer, and sum over the shift types.
Built as arrays, they are about 40 KB a draw that is written, read back and multiplied: most of
the question's time.

Here the plan finds such CPTs (the **heavy** nodes: expression CPTs at one state, on the same
parents, the largest such and at least 256 cells a draw) and groups every other factor into
**weights**: the factors joined by the variables they sum out, each group over the heavy parents
it reaches (a prior, a mitigation's CPT, the alarms and containment, a calibrated route's three
factors). A group is contracted into one array over those parents, except where its largest
factor sums over at most four combinations of its own variables (the route's hidden index):
then the loop sums the product over them at each cell, and where that factor is a calibrated
route's V the loop computes V itself from the route's target, P(route | do(others)) and the
share. One loop nest per chunk computes, at every cell of the heavy parents, the heavy
expressions' values (their shared pieces once), multiplies them by the weights' product and
adds the result into the draw's answer: ``sum over cells of (e0 * e1 ...) * ((w0 * w1) *
...)``, the weights in the order of the loop level where all each reads is set (a route's after
the others of its level), the cells in the loop's order, never writing the heavy CPTs
(:class:`gmnet.model.expression_kernel.TailKernel`).

Where the loop is not compiled (numba absent, ``GMNET_KERNELS=off``, a small run with the loop
not yet compiled), numpy computes the same products in the same order and sums them cell by cell
in the same order: the same numbers to the last bit (``tests/test_tail.py``), whatever computes
them. Whether a question is summed this way depends on its plan only, never on the run's size
or on what is compiled, so one question has one number on every surface. Against the pairwise
contraction the sum has another order, so it can differ in the last place (a few 1e-16).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gmnet.inference.contraction import DRAW_LABEL as DRAW
from gmnet.inference.contraction import contract_last, factor_operands
from gmnet.model.expression_kernel import TailKernel, tail_kernel, wanted
from gmnet.model.expressions import names_used
from gmnet.model.kernel_source import Generator, Unsupported, generate_tail

if TYPE_CHECKING:
    from gmnet.inference.batched import BatchedQuery

__all__ = ["Tail", "plan_tail", "TAIL_MIN_CELLS"]

# a heavy CPT below this many cells per draw is left to the contraction (the product-sum then
# saves too little to matter)
TAIL_MIN_CELLS = 256


# a weight's factors summed over at most this many combinations of their own variables
# (the calibrated route's hidden index: 2) are summed inside the loop, at each cell, instead of
# being contracted first into an array over the heavy parents
MAX_HIDDEN = 4


@dataclass(frozen=True)
class Weight:
    """One weight of a product-sum: a group of the other factors (their positions), joined by
    the variables they sum out, over the heavy ``parents`` they reach.

    Without ``hidden`` the group is contracted into one array over ``parents``. With it, the
    group's largest factor (``big``, over ``hidden`` and ``big_parents``) is read in the loop
    as it is and the others are contracted into one array over ``hidden`` and
    ``rest_parents``: the loop sums their product over ``hidden`` at each cell (never
    writing the weight over all of ``parents``)."""

    members: tuple[int, ...]
    parents: tuple[str, ...]
    hidden: tuple[str, ...] = ()
    big: int = -1
    big_parents: tuple[str, ...] = ()
    rest_parents: tuple[str, ...] = ()
    # the big factor is a calibrated route's V (offset and slope over its other parents), which
    # the compiled loop computes at each cell from the route's target (``route``: the node)
    route: str = ""
    route_target: str = ""
    first: int = 0  # the route's dead first term dropped (see gmnet.model.cpts._route_factors)
    route_parents: tuple[str, ...] = ()  # the node's other parents, in its order
    # the heavy parents its P(route | do(others)) and its share vary along
    route_on: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())


@dataclass(frozen=True)
class Tail:
    """A plan's product-sum: what :func:`plan_tail` found."""

    heavy: tuple[str, ...]  # the nodes computed in the loop, in the network's order
    texts: tuple[str, ...]  # their expressions, at their one state
    parents: tuple  # ((name, states, kept), ...): the heavy nodes' parents
    axes: tuple[int, ...]  # positions of the parents summed over (kept more than one state)
    looped: tuple[int, ...]  # the loop nest's order, outermost first (the cells' order)
    rule: str
    scalars: frozenset
    groups: tuple
    weights: tuple[Weight, ...]  # in the order of their loop levels
    hidden_sizes: tuple[int, ...]  # per weight: combinations of its hidden variables (or 1)
    signature: tuple  # the other factors' labels, as planned
    # entries a draw of the largest array a chunk writes where the loop runs: another factor
    # or a weight contracted onto the heavy parents (never a heavy CPT, nor a route's V)
    cells: int

    @property
    def routes(self) -> tuple[str, ...]:
        """The targets of the routes the compiled loop computes, in the weights' order."""
        return tuple(w.route_target for w in self.weights if w.route)

    def weight_specs(self, looped: bool = False) -> tuple:
        """The weights as the loop reads them (:meth:`Generator.source`); ``looped``: as the
        compiled loop reads them (a route's V computed at each cell), else as numpy's sum."""
        names = [p[0] for p in self.parents]

        def at(labels):
            return tuple(names.index(v) for v in labels)

        specs = []
        r = 0
        for w, h in zip(self.weights, self.hidden_sizes, strict=True):
            if w.route and looped:
                specs.append((h, (at(w.route_on[0]), at(w.route_on[1]), at(w.rest_parents)),
                              (r, w.first)))
                r += 1
            elif w.hidden:
                specs.append((h, (at(w.big_parents), at(w.rest_parents)), None))
            else:
                specs.append((h, (at(w.parents),), None))
        return tuple(specs)

    @property
    def order_axes(self) -> tuple[tuple[int, ...], ...]:
        """The heavy parents each weight reaches (positions): they count in the loops' order."""
        names = [p[0] for p in self.parents]
        return tuple(tuple(names.index(v) for v in w.parents) for w in self.weights)

    @property
    def heavy_cells(self) -> int:
        """Cells of the heavy parents the loop sums over, a draw."""
        return int(np.prod([len(self.parents[a][2]) for a in self.axes]))

    def kernel(self) -> TailKernel | None:
        return tail_kernel(self.texts, self.parents, self.scalars, self.groups, self.rule,
                           self.axes, self.weight_specs(looped=True), self.routes,
                           self.order_axes)

    def looped_for(self, query: BatchedQuery, values, fused: bool, n: int = 1 << 20) -> bool:
        """Is the compiled loop used for chunks of ``n`` draws of ``values`` (which may be
        the first draws only: which parameters vary is what counts) in a run that is
        ``fused`` (:data:`gmnet.inference.batched.FUSED_RUN_ENTRIES`)?"""
        kernel = self.kernel()
        if kernel is None:
            return False
        return wanted(kernel, self.heavy_cells * n, fused, *query.network.grouped_values(values))


def plan_tail(query: BatchedQuery) -> Tail | None:
    """The product-sum of ``query``, or None where it has none (the contraction computes it).

    A question has one when it asks P(target = state) with nothing to divide by (the joint is
    the answer), no free interventions, and expression CPTs kept at one state, of at least
    :data:`TAIL_MIN_CELLS` cells a draw, that a loop can compute: the largest of them and
    those on the same parents and as large.
    """
    net = query.network
    if not query.target_fixed or query.free_do:
        return None
    restrict = query.restrict

    def kept(v: str) -> tuple[int, ...]:
        k = restrict.get(v)
        if k is None:
            return tuple(range(len(net.states(v))))
        return (int(k),) if isinstance(k, int | np.integer) else tuple(int(i) for i in k)

    found: list[tuple[str, str, tuple[str, ...], int]] = []
    for v in net.variables:
        if v not in query.nodes:
            continue
        cpt = net.node(v).cpt
        own = kept(v)
        if cpt.kind != "expression" or len(own) != 1:
            continue
        text = cpt.probabilities[net.states(v)[own[0]]]
        if not isinstance(text, str) or text.strip() == "rest":
            continue
        cells = int(np.prod([len(kept(p)) for p in net.parents(v)]))
        found.append((v, text, net.parents(v), cells))
    largest = max((c for *_, c in found), default=0)
    if largest < TAIL_MIN_CELLS:
        return None
    first = next(f for f in found if f[3] == largest)
    heavy = [f for f in found if f[3] == largest and f[2] == first[2]]
    parents = tuple((p, tuple(net.states(p)), kept(p)) for p in first[2])
    axes = tuple(a for a, (_, _, k) in enumerate(parents) if len(k) > 1)
    names = [p[0] for p in parents]
    others = net.compile_factors({}, restrict=restrict,
                                 nodes=query.nodes - {v for v, *_ in heavy})
    operands = factor_operands(others)
    labels = [tuple(sub) for sub in operands[1::2]]
    sizes = {v: n for arr, sub in zip(operands[0::2], labels, strict=True)
             for v, n in zip(sub[:-1], arr.shape[:-1], strict=True)}
    groups_found = [_routed(net, w, labels, set(names), kept)
                    for w in _weights(labels, {names[a] for a in axes}, names, sizes)]
    if any(w.route for w in groups_found):
        # the parents each route's pieces vary along (their grids' shapes, whatever the draws)
        routed: dict[str, dict] = {w.route: {} for w in groups_found if w.route}
        net.compile_factors({}, restrict=restrict, nodes=query.nodes - {v for v, *_ in heavy},
                            routed=routed)

        def along(w: Weight, piece: str) -> tuple[str, ...]:
            shape = np.shape(routed[w.route][piece])
            return tuple(v for v in names if v in w.route_parents
                         and shape[w.route_parents.index(v)] > 1)

        groups_found = [dataclasses.replace(w, route_on=(along(w, "dbar"), along(w, "share")))
                        if w.route else w for w in groups_found]
    scalars, groups = net.grouped_values()
    scalar_names = frozenset(scalars)
    group_keys = tuple(sorted((g, tuple(keys)) for g, (keys, _) in groups.items()))
    texts = tuple(f[1] for f in heavy)
    hidden = [int(np.prod([sizes[v] for v in w.hidden])) if w.hidden else 1
              for w in groups_found]

    def draft_of(found: list[Weight]) -> tuple[Tail, Generator]:
        """The plan with the weights as found, and its loop's generator (its pieces, their
        levels and the loops' order)."""
        draft = Tail(tuple(v for v, *_ in heavy), texts, parents, axes, (), net.rule,
                     scalar_names, group_keys, tuple(found), tuple(hidden), tuple(labels), 1)
        gen, looped = generate_tail(texts, parents, scalar_names, dict(group_keys), net.rule,
                                    axes, draft.order_axes, draft.routes)
        return dataclasses.replace(draft, looped=looped), gen

    try:
        draft, gen = draft_of(groups_found)
    except Unsupported:
        # the loop cannot compute a route's target: numpy builds its V
        groups_found = [dataclasses.replace(w, route="", route_target="")
                        for w in groups_found]
        try:
            draft, gen = draft_of(groups_found)
        except Unsupported:
            return None
    looped = draft.looped
    # the weights in the order in which the compiled loop multiplies them (numpy's sum
    # follows it): by the loop level at which all each reads is set (a route's target
    # included), a route's after the others of its level (it reads the expressions' values)
    specs = draft.weight_specs(looped=True)
    order = sorted(range(len(groups_found)), key=lambda j: (
        gen._weight_level(looped, specs[j]), bool(groups_found[j].route), j))
    weights = tuple(groups_found[j] for j in order)
    # the largest array a chunk writes a draw: another factor, or a weight contracted onto
    # the heavy parents (a heavy CPT only where numpy computes the sum)
    kept_sizes = {p[0]: len(p[2]) for p in parents}
    computed = {w.big for w in groups_found if w.route}  # a route's V: the loop computes it
    written = [int(np.prod(a.shape[:-1])) for k, a in enumerate(operands[0::2])
               if k not in computed]
    for w, h in zip(groups_found, hidden, strict=True):
        over = w.rest_parents if w.hidden else w.parents
        written.append(h * int(np.prod([kept_sizes[v] for v in over])))
    return dataclasses.replace(draft, weights=weights,
                               hidden_sizes=tuple(hidden[j] for j in order),
                               cells=max([1, *written]))


def _routed(net, w: Weight, labels: list, heavy: set[str], kept) -> Weight:
    """``w`` with its route, where its big factor is a calibrated route's V that the compiled
    loop can compute at each cell: the route node's other parents are heavy parents, and its
    target and share read none of its route parents (the route's own checks)."""
    if not w.hidden or len(w.hidden) != 1 or not w.hidden[0].endswith(":route"):
        return w
    var = w.hidden[0][:-len(":route")]
    if var not in net.variables or net.node(var).cpt.kind != "calibrated_route":
        return w
    node = net.node(var)
    cpt = node.cpt
    others = tuple(p for p in node.parents if p not in cpt.route_parents)
    share = cpt.route_share
    if not set(others) <= heavy or (isinstance(share, str) and names_used(share)
                                    & set(cpt.route_parents)) \
            or names_used(cpt.target) & set(cpt.route_parents):
        return w
    i = node.states.index(cpt.state)
    first = 1 if kept(var) == (i,) else 0
    # the node's factors come as U, V, W (gmnet.model.cpts._route_factors): the big one must
    # be V (where W, the route indicator, is larger, the group is summed with W read instead)
    mine = [k for k, sub in enumerate(labels) if sub and sub[0] == w.hidden[0]]
    if len(mine) != 3 or w.big != mine[1]:
        return w
    return dataclasses.replace(w, route=var, route_target=cpt.target, first=first,
                               route_parents=others)


def _weights(labels: list, axes: set[str], order: list[str], sizes: dict[str, int]
             ) -> list[Weight]:
    """Group the other factors into weights: factors sharing a variable that is summed out
    (not one of the heavy parents ``axes``) are in one group, whose weight runs over the heavy
    parents its factors reach (``order``: the heavy parents' names, in position order). A
    group of several factors whose largest sums over at most :data:`MAX_HIDDEN` combinations
    of variables that the others share is summed in the loop (``Weight.hidden``)."""
    parent = list(range(len(labels)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, sub in enumerate(labels):
        for v in sub[:-1]:
            if v in axes:
                continue
            if v in owner:
                parent[find(i)] = find(owner[v])
            else:
                owner[v] = i
    components: dict[int, list[int]] = {}
    for i in range(len(labels)):
        components.setdefault(find(i), []).append(i)

    def over(members) -> tuple[str, ...]:
        reach = {v for i in members for v in labels[i][:-1] if v in axes}
        return tuple(v for v in order if v in reach)

    weights = []
    for members in components.values():
        reach = over(members)
        if len(members) > 1:
            def cells(i: int) -> int:
                return int(np.prod([sizes[v] for v in labels[i][:-1]]))

            big = max(members, key=lambda i: (cells(i), -i))
            rest = [i for i in members if i != big]
            hidden = tuple(v for v in labels[big][:-1] if v not in axes)
            shared = {v for i in rest for v in labels[i][:-1]}
            if hidden and set(hidden) <= shared \
                    and int(np.prod([sizes[v] for v in hidden])) <= MAX_HIDDEN:
                weights.append(Weight(tuple(members), reach, hidden, big,
                                      over([big]), over(rest)))
                continue
        weights.append(Weight(tuple(members), reach))
    return weights


def run_tail(query: BatchedQuery, tail: Tail, values, n: int, fused: bool,
             draws_hint: int) -> np.ndarray:
    """P(target = state, do) for one chunk of ``n`` draws: shape (n,) (or (1,) where no
    value varies)."""
    net = query.network
    grouped = net.grouped_values(values)
    kernel = tail.kernel()
    compiled = kernel is not None and wanted(kernel, tail.heavy_cells * n, fused, *grouped)
    nodes = query.nodes - set(tail.heavy) if compiled else query.nodes
    # where the loop computes a route's V, its pieces come instead
    routed: dict[str, dict] = {w.route: {} for w in tail.weights if w.route} \
        if compiled else {}
    factors = net.compile_factors(values, restrict=query.restrict, nodes=nodes, fused=fused,
                                  grouped=grouped, routed=routed or None)
    heavy: dict[str, np.ndarray] = {}
    rest = []
    for arr, labels in factors:
        if labels[-2] in tail.heavy and labels[:-2] == tuple(p[0] for p in tail.parents):
            heavy[labels[-2]] = arr
        else:
            rest.append((arr, labels))
    operands = factor_operands(rest)
    # a V left out: its place kept (in the order of the places, each insertion shifting the
    # later ones)
    for w in sorted((w for w in tail.weights if w.route in routed), key=lambda w: w.big):
        operands[2 * w.big:2 * w.big] = [None, list(tail.signature[w.big])]
    if tuple(tuple(s) for s in operands[1::2]) != tail.signature:  # pragma: no cover
        raise RuntimeError("the product-sum's factors differ from its plan")
    arrays = []
    for w, h in zip(tail.weights, tail.hidden_sizes, strict=True):
        if not w.hidden:
            arrays.append(_layout(tail, _contract(operands, w.members, w.parents, draws_hint),
                                  w.parents, (), 1))
            continue
        others = tuple(i for i in w.members if i != w.big)
        z = _layout(tail, _contract(operands, others, (*w.hidden, *w.rest_parents),
                                    draws_hint), w.rest_parents, w.hidden, h)
        if w.route in routed:
            for name, on in zip(("dbar", "share"), w.route_on, strict=True):
                arrays.append(_onto(tail, routed[w.route][name], w.route_parents, on))
            arrays.append(z)
            continue
        big = operands[2 * w.big]
        sub = list(operands[2 * w.big + 1])
        perm = [sub.index(v) for v in (*w.hidden, *w.big_parents, DRAW)]
        arrays.append(_layout(tail, np.transpose(big, perm), w.big_parents, w.hidden, h))
        arrays.append(z)
    if compiled:
        assert kernel is not None
        return kernel.run(*grouped, arrays)
    return _numpy_sum(tail, [heavy[v] for v in tail.heavy], arrays)


def _onto(tail: Tail, arr: np.ndarray, labels: tuple[str, ...], on: tuple[str, ...]
          ) -> np.ndarray:
    """``arr`` over ``labels`` (and the draws) on the heavy parents ``on`` (in the parents'
    order, every one as long as the states it keeps), laid out as the loop reads it."""
    arr = np.asarray(arr, dtype=float)
    rest = [a for a in range(len(labels)) if labels[a] not in on]
    arr = arr.reshape([arr.shape[a] for a in range(len(labels)) if a not in rest]
                      + [arr.shape[-1]]) if all(arr.shape[a] == 1 for a in rest) else None
    if arr is None:  # pragma: no cover - the plan lays every axis it can have on ``on``
        raise RuntimeError("a route's piece varies along a parent the loop does not sum")
    kept = [labels[a] for a in range(len(labels)) if a not in rest]
    arr = np.transpose(arr, [kept.index(v) for v in on] + [len(kept)])
    return _layout(tail, arr, on, (), 1)


def _contract(operands: list, members, out: tuple[str, ...], draws_hint: int) -> np.ndarray:
    """The factors at ``members`` contracted onto ``out`` (and the draws)."""
    if len(members) == 1 and tuple(operands[2 * members[0] + 1]) == (*out, DRAW):
        return operands[2 * members[0]]  # already as wanted
    ops: list = []
    for i in members:
        ops += [operands[2 * i], operands[2 * i + 1]]
    return contract_last(ops, [*out, DRAW], draws_hint=draws_hint)


def _layout(tail: Tail, arr: np.ndarray, labels: tuple[str, ...], hidden: tuple[str, ...],
            h: int) -> np.ndarray:
    """``arr`` over (``hidden``, ``labels`` in the parents' order, draws) laid out as the loop
    reads it: (h if hidden, one axis per heavy parent (1 where not in ``labels``), draws)."""
    shape = [len(p[2]) if p[0] in labels else 1 for p in tail.parents]
    return np.reshape(arr, (*((h,) if hidden else ()), *shape, arr.shape[-1]))


def _numpy_sum(tail: Tail, values: list[np.ndarray], arrays: list[np.ndarray]) -> np.ndarray:
    """What the compiled loop computes, with numpy: the same products in the same order, added
    cell by cell in the loop's order (the same numbers to the last bit). Every array is taken
    in the loop's axis order, so the products are written in it and summed without a copy."""
    axes = len(tail.parents)
    order = [*tail.looped, *(a for a in range(axes) if a not in tail.looped), axes]

    def looped(arr: np.ndarray) -> np.ndarray:
        return np.transpose(arr, order)

    # (*parents' kept states, own state, draws): the one state
    heavy = [looped(v[..., 0, :]) for v in values]
    weight = None
    k = 0
    for h, reads, _ in tail.weight_specs():
        mine = [looped(a) if h == 1 else np.transpose(a, [0, *(o + 1 for o in order)])
                for a in arrays[k:k + len(reads)]]
        k += len(reads)
        if h == 1:
            value = mine[0]
            for a in mine[1:]:
                value = value * a
        else:
            value = None
            for j in range(h):
                term = mine[0][j]
                for a in mine[1:]:
                    term = term * a[j]
                value = term if value is None else value + term
        weight = value if weight is None else weight * value
    shape = np.broadcast_shapes(*(v.shape for v in heavy),
                                *(() if weight is None else (weight.shape,)))
    product = np.empty(shape)  # C order in the loop's axes: the cells' order
    if len(heavy) > 1:
        np.multiply(heavy[0], heavy[1], out=product)
        for v in heavy[2:]:
            np.multiply(product, v, out=product)
    else:
        product[...] = heavy[0]
    if weight is not None:
        np.multiply(product, weight, out=product)
    flat = product.reshape(-1, product.shape[-1])
    if flat.shape[1] == 1:
        # (cells, 1) would be summed pairwise as one contiguous row; accumulate is in order
        return np.add.accumulate(flat[:, 0])[-1:]
    # rows added one after the other, each a pass over the draws: in order
    return np.add.reduce(flat, axis=0)
