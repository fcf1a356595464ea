"""Building a network's CPTs from its parameters: every CPT kind, for N parameter draws at once.

:class:`gmnet.model.network.Network` owns the structure and the checks; the functions here turn
its specification and parameter values into arrays. They import nothing above the model layer:
the calibrated route's P(route parents | do(others)) is contracted by :func:`contract_draws_last`,
a small kernel over opt_einsum, not by the inference engine.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import opt_einsum as oe

from gmnet.model import schema
from gmnet.model.checks import check_cpt
from gmnet.model.expression_kernel import route_split
from gmnet.model.expressions import (
    ExpressionContext,
    ExpressionError,
    evaluate_compact,
    names_used,
    parameters_used,
)
from gmnet.model.parameters import Parameter
from gmnet.model.shared_eval import SharedEvaluation

__all__ = ["DRAW_LABEL", "CPTProblem", "build_cpts", "build_last", "parameters_for",
           "check_cpt", "group_values", "contract_draws_last"]

# the label of the draw axis in (array, labels) factors; the inference engine uses the same one
DRAW_LABEL = "__draw__"


def contract_draws_last(operands: Sequence, out: Sequence[Hashable]) -> np.ndarray:
    """Contract (array, labels, ...) pairs whose LAST axis is the draw axis :data:`DRAW_LABEL`.

    A draw axis of size 1 broadcasts against N draws. Small on purpose: the CPT building needs
    it only for the calibrated route's ancestors (a handful of small factors).

    >>> a = np.ones((3, 1)); b = np.full((3, 4, 5), 0.5)
    >>> contract_draws_last([a, ["x", DRAW_LABEL], b, ["x", "y", DRAW_LABEL]],
    ...                     ["y", DRAW_LABEL]).shape
    (4, 5)
    """
    arrays = [np.asarray(a, dtype=float) for a in operands[0::2]]
    labels = [tuple(s) for s in operands[1::2]]
    out = tuple(out)
    if not arrays:
        return np.ones(1)
    n = max(a.shape[-1] for a in arrays)
    arrays = [a if a.shape[-1] == n else np.broadcast_to(a, (*a.shape[:-1], n)) for a in arrays]
    letters: dict = {}
    for s in [*labels, out]:
        for i in s:
            letters.setdefault(i, oe.get_symbol(len(letters)))
    subs = ",".join("".join(letters[i] for i in s) for s in labels)
    return np.asarray(oe.contract(f"{subs}->{''.join(letters[i] for i in out)}", *arrays))


# ============================================================================ building
def parameters_for(net, variables: set[str], selection) -> set[str]:
    """The parameters the CPTs of ``variables`` read under the state ``selection``."""
    groups = {g: list(net.spec.nodes[grp.index].states)
              for g, grp in net.spec.parameters.items()
              if grp.values is not None and grp.index in net.spec.nodes}
    scalars = [g for g, grp in net.spec.parameters.items() if grp.values is None]
    used: set[str] = set()
    for var in variables:
        node = net.node(var)
        cpt = node.cpt
        chosen = {p: [net.spec.nodes[p].states[i] for i in selection[p]]
                  for p in node.parents if p in selection}
        if cpt.kind in ("prior", "expression"):
            for text in cpt.probabilities.values():
                if isinstance(text, str) and text.strip() != "rest":
                    used |= parameters_used(text, groups, scalars, chosen)
        elif cpt.kind == "calibrated_route":
            texts = [cpt.target, cpt.route]
            if isinstance(cpt.route_share, str):
                texts.append(cpt.route_share)
            free_route = {p: s for p, s in chosen.items() if p not in cpt.route_parents}
            for text in texts:
                used |= parameters_used(text, groups, scalars, free_route)
            factor_nodes = _route_factor_nodes(net, var)
            used |= parameters_for(
            net,
                factor_nodes, {k: v for k, v in selection.items() if k not in factor_nodes})
    return {u for u in used if u in net.parameters}

def build_cpts(net, values: Mapping[str, np.ndarray], problems: list[str], *,
                check: bool = True, restrict: Mapping[str, tuple[int, ...]] | None = None,
                only: set[str] | None = None) -> dict[str, np.ndarray]:
    """CPTs of shape (N, *parent states, states): views of :meth:`_build_last`'s arrays."""
    last = build_last(net, values, problems, check=check, restrict=restrict, only=only)
    return {v: np.moveaxis(a, -1, 0) for v, a in last.items()}

def build_last(net, values: Mapping[str, np.ndarray], problems: list[str], *,
                check: bool = True, restrict: Mapping[str, tuple[int, ...]] | None = None,
                only: set[str] | None = None,
                factored: dict | None = None,
                shared: SharedEvaluation | bool | None = None,
                grouped: tuple | None = None,
                fused: bool | None = None,
                routed: dict | None = None) -> dict[str, np.ndarray]:
    """CPTs with the draw axis last, (*parent states, states, N): numpy's inner loops then
    run over the draws, contiguous, which is what makes many draws fast.

    With ``factored`` (a dict), calibrated-route nodes are not built as arrays but as two
    smaller factors whose product over a hidden index is the CPT; they go into ``factored``
    (node -> list of (array, labels)) instead of the result.

    With ``shared`` (True, or a :class:`SharedEvaluation` to go on with), the expressions of
    all the nodes are evaluated on one set of axes, each repeated function call once
    (:mod:`gmnet.model.shared_eval`): the same numbers, less work when CPTs share pieces.
    ``fused`` (with ``shared``) lets it use compiled loops (:mod:`gmnet.model.expression_kernel`):
    None never, False only those already compiled, True (a large run) any. ``routed`` (with
    ``factored``): calibrated-route node -> a dict that gets the pieces a compiled product-sum
    needs to compute its V factor itself (:func:`_calibrated_route_cpt`); the node's factors
    then leave V out.
    """
    n = max(v.shape[0] for v in values.values()) if values else 1
    # ``grouped``: the (scalars, groups) of these same values, when the caller has them
    scalars, groups = grouped or group_values(net.spec, net.parameters, values)
    selection = dict(restrict or {})
    if shared is True:
        indexed_by = {g: grp.index for g, grp in net.spec.parameters.items()
                      if grp.values is not None and grp.index in net.spec.nodes}
        shared = SharedEvaluation([(v, net.spec.nodes[v].states) for v in net.variables],
                                  scalars, groups, net.rule, indexed_by, selection,
                                  fused=fused)
    cpts: dict[str, np.ndarray] = {}

    def route_support(factor_nodes: set[str]) -> dict[str, np.ndarray]:
        # P(route | do(others)) needs the route's ancestors on all their states; the
        # selection of the variables outside them (the node's other parents) still holds.
        if factor_nodes <= set(cpts) and not factor_nodes & set(selection):
            return cpts
        return build_last(
            net, values, problems, check=False,
            restrict={k: v for k, v in selection.items() if k not in factor_nodes},
            only=factor_nodes, shared=shared or None, grouped=(scalars, groups))

    for var in net.variables:
        if only is not None and var not in only:
            continue
        node = net.spec.nodes[var]
        parents = [(p, net.spec.nodes[p].states) for p in node.parents]
        ctx = ExpressionContext(parents, scalars, groups, net.rule,
                                {p: selection[p] for p in node.parents if p in selection}
                                or None, shared or None)
        where = f"node {var!r}: cpt"
        try:
            if factored is not None and node.cpt.kind == "calibrated_route":
                parts = _calibrated_route_cpt(var, node, ctx, n, cpts, net, route_support,
                                              factored=True, kept=selection.get(var),
                                              routed=(routed or {}).get(var))
                if isinstance(parts, list):
                    if var in selection and len(selection[var]) != len(node.states):
                        parts = [(np.take(a, list(selection[var]), axis=labels.index(var))
                                  if var in labels else a, labels) for a, labels in parts]
                    factored[var] = parts
                    continue
                arr = parts
                if var in selection and len(selection[var]) != len(node.states):
                    arr = arr[..., list(selection[var]), :]
            else:
                arr = _node_cpt(var, node, ctx, n, cpts, net, route_support,
                                kept=selection.get(var), compact=shared is not None)
        except ExpressionError as exc:
            problems.append(f"{where}: {exc}")
            continue
        except CPTProblem as exc:
            problems.append(f"{where}: {exc}")
            continue
        if check:
            check_cpt(var, node, np.moveaxis(arr, -1, 0), problems, net.spec)
        cpts[var] = arr
    return cpts


class CPTProblem(Exception):
    """A CPT that cannot be built; the loader reports it as a problem of its node."""


# ============================================================================ CPT kinds
def _node_cpt(var, node: schema.NodeSpec, ctx: ExpressionContext, n: int,
              built: Mapping[str, np.ndarray], net, route_support=None, kept=None,
              compact: bool = False) -> np.ndarray:
    """The CPT of ``var`` on the context's grid (its selected parent states), its own states
    ``kept`` (default all), draws last: shape (*grid, kept states, n); with ``compact`` a CPT
    that is the same in every draw has a draw axis of 1."""
    states = node.states
    cpt = node.cpt
    if cpt.kind in ("prior", "expression"):
        return _expression_cpt(states, cpt.probabilities, ctx, n, kept, compact)
    arr = _node_cpt_all(var, node, ctx, 1 if compact else n, built, net, route_support)
    if kept is not None and len(kept) != len(states):
        arr = arr[..., list(kept), :]
    return arr


def _node_cpt_all(var, node: schema.NodeSpec, ctx: ExpressionContext, n: int,
                  built: Mapping[str, np.ndarray], net, route_support=None) -> np.ndarray:
    states = node.states
    grid = ctx.grid
    cpt = node.cpt
    if cpt.kind == "uniform":
        return np.broadcast_to(np.float64(1.0 / len(states)), (*grid, len(states), n))
    if cpt.kind == "table":
        rows = np.asarray(cpt.rows, dtype=float)
        full_grid = tuple(len(s) for _, s in ctx.parents)
        expected = (int(np.prod(full_grid)) if full_grid else 1, len(states))
        if rows.shape != expected:
            raise CPTProblem(
                f"rows: expected {expected[0]} rows of {expected[1]} probabilities "
                f"(one row per parent configuration), got shape {rows.shape}")
        table = rows.reshape(*full_grid, len(states), 1)
        for axis, (name, parent_states) in enumerate(ctx.parents):
            kept = ctx.kept(name, parent_states)
            if len(kept) != len(parent_states):
                table = np.take(table, kept, axis=axis)
        return np.broadcast_to(table, (*grid, len(states), n))
    if cpt.kind == "calibrated_route":
        return _calibrated_route_cpt(var, node, ctx, n, built, net, route_support)
    raise CPTProblem(f"unknown kind {cpt.kind!r}")  # pragma: no cover - schema forbids


def _expression_cpt(states, probabilities: Mapping[str, Any], ctx, n, kept=None,
                    compact: bool = False) -> np.ndarray:
    """The CPT's columns for the states ``kept`` (default all), draws last: (*grid, kept, n).

    Only what the kept states need is evaluated (a 'rest' state needs the others). With
    ``compact`` the draw axis is as long as the expressions make it: 1 for a CPT that reads no
    varying parameter, which then broadcasts against the draws instead of being copied N times.
    """
    keys = list(probabilities)
    missing = [s for s in states if s not in keys]
    extra = [k for k in keys if k not in states]
    if extra:
        raise CPTProblem(f"probabilities: {', '.join(map(repr, extra))} not a state; "
                          f"states: {', '.join(states)}")
    if missing:
        raise CPTProblem(f"probabilities: no entry for state(s) {', '.join(map(repr, missing))}")
    rest = [k for k, v in probabilities.items() if isinstance(v, str) and v.strip() == "rest"]
    if len(rest) > 1:
        raise CPTProblem("probabilities: only one state may be 'rest'")
    grid = ctx.grid
    wanted = list(range(len(states))) if kept is None else [int(i) for i in kept]
    rest_i = states.index(rest[0]) if rest else None
    others = [j for j in range(len(states)) if j != rest_i]
    needed = set(wanted) | (set(others) if rest_i in wanted else set())
    columns: dict[int, np.ndarray] = {}
    for i in sorted(needed - {rest_i}):
        text = probabilities[states[i]]
        columns[i] = (evaluate_compact(str(text), ctx) if isinstance(text, str)
                      else np.full((1,) * (len(grid) + 1), float(text)))
    if rest_i in needed:
        if len(others) == 1:
            columns[rest_i] = np.subtract(1.0, columns[others[0]])
        else:
            total = np.broadcast_to(columns[others[0]], np.broadcast_shapes(
                *(columns[j].shape for j in others))).copy()
            for j in others[1:]:
                total += columns[j]
            columns[rest_i] = 1.0 - total
    draws = max(c.shape[-1] for c in columns.values()) if compact else n
    if len(wanted) == 1:
        column = columns[wanted[0]]
        if column.shape == (*grid, draws) and column.flags.writeable:
            # a fresh array on the whole grid (a compiled loop's): the CPT is a view of it
            return column.reshape((*grid, 1, draws))
    out = np.empty((*grid, len(wanted), draws))
    for k, i in enumerate(wanted):
        out[..., k, :] = columns[i]
    return out


def _route_factor_nodes(net, var: str) -> set[str]:
    """The nodes whose CPTs give P(route parents | do(other parents)) for a calibrated route."""
    node = net.spec.nodes[var]
    route_parents = [p for p in node.cpt.route_parents if p in net.spec.nodes]
    others = {p for p in node.parents if p not in route_parents}
    seen: set[str] = set()
    stack = list(route_parents)
    while stack:
        v = stack.pop()
        if v in seen or v not in net.spec.nodes:
            continue
        seen.add(v)
        stack.extend(net.spec.nodes[v].parents)
    return seen - others


def _calibrated_route_cpt(var, node, ctx: ExpressionContext, n, built, net,
                          route_support=None, *, factored: bool = False, kept=None,
                          routed: dict | None = None):
    """P(state | parents) = G + lambda * (d - dbar), which keeps the marginal at G exactly.

    G is the target probability given the non-route parents Z; d is 1 on the route (e.g. a proxy
    objective was learned and the spurious features shifted) and 0 elsewhere; dbar = P(route |
    do(Z)), computed from the route parents' ancestors; lambda = share x the largest value that
    keeps every entry in [0, 1]. With share 1 the route carries as much of G as it can.

    Under a state selection (``ctx.selected``) the CPT is computed on every state of the route
    parents (dbar sums over them) and the selected ones are kept at the end, so the result is
    exactly the slice of the full CPT.

    ``routed`` (a dict, with ``factored``): G is not computed and V is left out of the
    factors; the dict gets ``dbar`` (P(route | do(others)), not yet clipped) and ``share``,
    each over the node's other parents (route axes dropped) and the draws, for a compiled
    product-sum that computes V at each cell (:mod:`gmnet.inference.tail`).
    """
    _DRAW = DRAW_LABEL
    cpt: schema.CalibratedRouteCPT = node.cpt
    states = node.states
    if len(states) != 2:
        raise CPTProblem("calibrated_route needs a node with exactly two states")
    if cpt.state not in states:
        raise CPTProblem(f"state: {cpt.state!r} not a state; states: {', '.join(states)}")
    route_parents = list(cpt.route_parents)
    bad = [p for p in route_parents if p not in node.parents]
    if bad:
        raise CPTProblem(f"route_parents: {', '.join(bad)} not among the parents")
    used_target = names_used(cpt.target) & set(node.parents)
    if used_target & set(route_parents):
        raise CPTProblem("target: must not depend on route parents "
                          f"({', '.join(sorted(used_target & set(route_parents)))})")
    selected = dict(ctx.selected or {})
    route_selected = {p: selected.pop(p) for p in route_parents if p in selected}
    if route_selected:
        ctx = ExpressionContext(ctx.parents, ctx.scalars, ctx.groups, ctx.rule, selected or None,
                                ctx.shared)
    # draws last; an axis an expression does not depend on stays of size 1
    G = evaluate_compact(cpt.target, ctx) if routed is None else None
    d = evaluate_compact(cpt.route, ctx)
    share = cpt.route_share
    share_arr = (evaluate_compact(share, ctx) if isinstance(share, str)
                 else np.full((1,) * (1 + len(ctx.grid)), float(share)))
    # P(route parents | do(others)) from the ancestors of the route parents, others held fixed.
    factor_nodes = _route_factor_nodes(net, var)
    support = route_support(factor_nodes) if route_support is not None else built
    free = sorted({p for v in factor_nodes for p in net.spec.nodes[v].parents
                   if p not in factor_nodes}, key=node.parents.index)
    operands: list = []
    for v in net.variables:
        if v in factor_nodes:
            operands += [support[v], [*net.spec.nodes[v].parents, v, _DRAW]]
    # the joint of free and route parents, laid out on the node's parent grid (parents not in
    # `free` broadcast)
    order = [p for p in node.parents if p in free or p in route_parents]
    joint = contract_draws_last(operands, [*order, _DRAW])
    shape = [joint.shape[order.index(p)] if p in order else 1 for p in node.parents]
    p_route_cfg = joint.reshape([*shape, joint.shape[-1]])
    route_axes = tuple(node.parents.index(p) for p in route_parents)
    # dbar = sum over the route parents of P(route parents | do(others)) * d
    axes = list(range(len(node.parents) + 1))
    dbar = np.einsum(p_route_cfg, axes, np.asarray(d, dtype=float), axes,
                     [a for a in axes if a not in route_axes])
    if routed is not None and factored:
        routed["dbar"] = dbar
        routed["share"] = np.squeeze(share_arr, axis=route_axes)
        return _route_factors(var, node, ctx, n, None, None, d, route_axes, route_selected,
                              kept, v=False)
    dbar = np.expand_dims(dbar, route_axes)
    fused = getattr(ctx.shared, "fused", None)
    if factored and fused is not None:
        # the same numbers in one pass, written straight into the V factor where its layout
        # is theirs (every draw there, no broadcast)
        full = np.broadcast_shapes(G.shape, dbar.shape, share_arr.shape)
        v = None
        if full[-1] >= n:
            first = _dead_term(node, kept)
            v = np.empty((3 - first, *(full[a] for a in range(len(node.parents))
                                       if a not in route_axes), full[-1]))
            if not first:
                v[0] = 1.0
        split = route_split(G, dbar, share_arr, bool(fused),
                            out=None if v is None else (v[-2], v[-1]))
        if split is not None:
            return _route_factors(var, node, ctx, n, *split, d, route_axes, route_selected,
                                  kept, v=v)
    offset, lam, dbar = route_slope(G, dbar, share_arr)
    if factored and all(offset.shape[a] == 1 and lam.shape[a] == 1 for a in route_axes):
        return _route_factors(var, node, ctx, n, offset, lam, d, route_axes, route_selected,
                              kept)
    # the one array on the whole grid: G + lambda * (d - dbar), clipped against rounding
    p = G + lam * (d - dbar)
    np.clip(p, 0.0, 1.0, out=p)
    for p_name, kept in route_selected.items():
        p = np.take(p, list(kept), axis=node.parents.index(p_name))
    grid = tuple(len(kept) if name in route_selected else size
                 for (name, _), size in zip(ctx.parents, ctx.grid, strict=True))
    out = np.empty((*grid, 2, n))
    i = states.index(cpt.state)
    out[..., i, :] = p
    np.subtract(1.0, out[..., i, :], out=out[..., 1 - i, :])
    return out


def route_slope(G, dbar, share):
    """(offset, slope, dbar clipped) of a calibrated route: slope = share x the largest value
    that keeps every entry in [0, 1] (see :func:`_calibrated_route_cpt`); numpy's version of
    :func:`gmnet.model.expression_kernel.route_split`."""
    # a probability: rounding must not push it past 1 (a negative bound below would follow)
    dbar = np.clip(dbar, 0.0, 1.0)
    # lambda = share x min(G / dbar, (1 - G) / (1 - dbar)): a 0 denominator rules its bound out
    # (fmin skips the NaN of 0/0), no finite bound leaves lambda 0
    with np.errstate(divide="ignore", invalid="ignore"):
        carried = np.divide(G, dbar)
        other = np.divide(1.0 - G, 1.0 - dbar)
        # G = dbar up to rounding makes both bounds 1: take the one that empties the off-route
        lam = np.where(carried <= other * (1.0 + 1e-9), carried, np.fmin(carried, other))
    np.nan_to_num(lam, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    lam = lam * share
    # where the route carries all of G the off-route probability is exactly 0, not G - G (1e-17)
    offset = np.where(lam == carried, 0.0, G - lam * dbar)
    return offset, lam, dbar


def _dead_term(node, kept) -> int:
    """1 where the calibrated route's first term is 0 (see :func:`_route_factors`), else 0."""
    i = node.states.index(node.cpt.state)
    return 1 if kept is not None and tuple(kept) == (i,) else 0


def _route_factors(var, node, ctx, n, offset, slope, d, route_axes, route_selected, kept,
                   v=None):
    """The calibrated-route CPT as three factors sharing a hidden index k in {0, 1, 2}.

    p(state) = offset + slope * d with offset and slope free of the route parents and d free of
    the others (as far as the expressions go). So CPT[s, others, route] = sum_k U[k, s]
    V[k, others] W[k, route] with V = (1, offset, slope), W = (1, 1, d), U = ([s = other state],
    +-1, +-1): exact, without the clip (which only ever removes rounding), and far smaller than
    the CPT, whose grid multiplies the two groups of parents. ``kept``: the node's states the
    caller keeps (None: all). ``v``: the V factor, already written (offset and slope in its
    last two rows); False: V is left out (a compiled product-sum computes it).
    """
    hidden = f"{var}:route"
    i = node.states.index(node.cpt.state)
    parents = list(node.parents)
    u = np.zeros((3, 2, 1))
    u[0, 1 - i] = 1.0
    u[1:, i] = 1.0
    u[1:, 1 - i] = -1.0
    # with the node kept at its route state alone (P(harm=yes) keeps learned_objective =
    # proxy), U's first row is 0 there: its term is dropped, a third of V and of its sums
    first = _dead_term(node, kept)
    u = u[first:]
    keep_v = [a for a in range(len(parents)) if a not in route_axes]
    if v is None:
        shape = np.broadcast_shapes(offset.shape, slope.shape)
        v = np.empty((3 - first, *(shape[a] for a in keep_v), max(n, shape[-1])))
        if not first:
            v[0] = 1.0
        v[1 - first] = np.squeeze(offset, axis=route_axes)
        v[2 - first] = np.squeeze(slope, axis=route_axes)
    # W: the route indicator on the axes it depends on (others of size 1 are dropped)
    d = np.asarray(d, dtype=float)
    for p_name, states in route_selected.items():
        d = np.take(d, list(states), axis=parents.index(p_name))
    keep_w = [a for a in range(len(parents)) if d.shape[a] > 1 or a in route_axes]
    d = d.reshape([d.shape[a] for a in keep_w] + [d.shape[-1]])
    w = np.stack([np.ones_like(d)] * (2 - first) + [d])
    return [(u, (hidden, var, DRAW_LABEL)),
            *([] if v is False else [(v, (hidden, *(parents[a] for a in keep_v), DRAW_LABEL))]),
            (w, (hidden, *(parents[a] for a in keep_w), DRAW_LABEL))]



def group_values(spec: schema.NetworkFile, params: Mapping[str, Parameter],
                  values: Mapping[str, np.ndarray]):
    scalars: dict[str, np.ndarray] = {}
    groups: dict[str, tuple[list[str], np.ndarray]] = {}
    for gname, group in spec.parameters.items():
        if group.values is not None and group.index in spec.nodes:
            keys = list(spec.nodes[group.index].states)
            cols = [np.asarray(values[f"{gname}.{k}"], dtype=float).reshape(-1) for k in keys]
            n = max(c.shape[0] for c in cols)
            # (N, keys) as a view of a (keys, N) array: each key's draws stay contiguous
            groups[gname] = (keys, np.stack([np.broadcast_to(c, (n,)) for c in cols], axis=0).T)
        elif gname in params:
            scalars[gname] = np.asarray(values[gname], dtype=float).reshape(-1)
    return scalars, groups

