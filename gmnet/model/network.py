"""Loading, validating and compiling a network file into a :class:`Network`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import networkx as nx
import numpy as np

from gmnet.errors import InvalidArgumentError, NetworkFileError, UnknownNameError
from gmnet.model import schema, yaml_safe
from gmnet.model.compiled import CompiledModel
from gmnet.model.expressions import (
    COMBINATION_RULES,
    ExpressionContext,
    ExpressionError,
    evaluate_compact,
    names_used,
    parameters_used,
    parse_expression,
)
from gmnet.model.files import validate_shape
from gmnet.model.inputs import note_input
from gmnet.model.parameters import Parameter
from gmnet.model.sizes import size_problems

__all__ = ["Network", "load_network", "network_from_dict", "validate_file", "bundled_networks",
           "NETWORKS_DIR", "DEFAULT_NETWORK", "MAX_FILE_BYTES"]

NETWORKS_DIR = Path(__file__).resolve().parent.parent.parent / "networks"
DEFAULT_NETWORK = "goal_misgeneralization"
MAX_FILE_BYTES = yaml_safe.MAX_FILE_BYTES
# other tools' formats, read through gmnet.io.formats (BIF, XMLBIF, NET, XDSL, DSL, DNE, UAI)
FOREIGN_EXTENSIONS = (".bif", ".xml", ".xmlbif", ".bifxml", ".net", ".xdsl", ".dsl", ".dne",
                      ".uai")
SUM_TOLERANCE = 1e-9


class Network:
    """A loaded network: its structure, parameters and compiled CPTs. Never mutated.

    Build one with :func:`load_network`. Transforms (:meth:`with_parameters`,
    :meth:`with_rule`) return new networks.
    """

    def __init__(self, spec: schema.NetworkFile, *, path: str = "<memory>",
                 parameters: Mapping[str, Parameter] | None = None):
        self._spec = spec
        self.path = path
        self.name = spec.name
        self.title = spec.title or spec.name
        self.description = spec.description
        self.rule = spec.settings.combination_rule
        problems: list[str] = []
        self._parameters = dict(parameters) if parameters is not None else _collect_parameters(
            spec, problems)
        _check_structure(spec, problems)
        if not problems:  # before any table is built
            problems += size_problems({v: n.states for v, n in spec.nodes.items()},
                                      {v: n.parents for v, n in spec.nodes.items()})
        if problems:
            raise NetworkFileError(path, problems)
        self.variables: tuple[str, ...] = tuple(
            nx.lexicographical_topological_sort(_graph(spec), key=list(spec.nodes).index)
        )
        _check_parameters(spec, self._parameters, problems)
        if problems:
            raise NetworkFileError(path, problems)
        try:
            cpts = self._build_cpts(self._point_values(), problems)
        except ExpressionError as exc:  # pragma: no cover - caught per node below
            problems.append(str(exc))
            cpts = None
        if problems:
            raise NetworkFileError(path, problems)
        self._compiled = CompiledModel(
            self.variables,
            {v: tuple(spec.nodes[v].states) for v in self.variables},
            {v: tuple(spec.nodes[v].parents) for v in self.variables},
            cpts,
        )

    # ----------------------------------------------------------------- structure
    @property
    def spec(self) -> schema.NetworkFile:
        return self._spec

    @property
    def nodes(self) -> Mapping[str, schema.NodeSpec]:
        return MappingProxyType(dict(self._spec.nodes))

    @property
    def parameters(self) -> Mapping[str, Parameter]:
        return MappingProxyType(self._parameters)

    @property
    def compiled(self) -> CompiledModel:
        return self._compiled

    @property
    def metadata(self) -> dict:
        return dict(self._spec.metadata)

    def states(self, variable: str) -> tuple[str, ...]:
        return tuple(self.node(variable).states)

    def parents(self, variable: str) -> tuple[str, ...]:
        return tuple(self.node(variable).parents)

    def children(self, variable: str) -> tuple[str, ...]:
        self.node(variable)
        return tuple(v for v in self.variables if variable in self._spec.nodes[v].parents)

    def node(self, variable: str) -> schema.NodeSpec:
        if variable not in self._spec.nodes:
            raise UnknownNameError("variable", variable, self.variables)
        return self._spec.nodes[variable]

    def check_state(self, variable: str, state: str) -> int:
        """Index of ``state`` of ``variable``, or an error naming the valid states."""
        states = self.states(variable)
        if state not in states:
            raise UnknownNameError("state", state, states, context=f"for {variable}")
        return states.index(state)

    def cpt(self, variable: str) -> np.ndarray:
        """The point-value CPT of ``variable``: shape (*parent cards, card)."""
        self.node(variable)
        return np.array(self._compiled.cpts[variable][0])

    def table(self, variable: str):
        """The point-value CPT of ``variable`` as a labelled pandas DataFrame: one row per
        combination of parent states, one column per state; ``.attrs["formula"]`` holds how
        the network file defines it (see :mod:`gmnet.model.tables`). Needs pandas."""
        from gmnet.model.tables import cpt_frame

        return cpt_frame(self, variable)

    def parameter(self, name: str) -> Parameter:
        if name not in self._parameters:
            raise UnknownNameError("parameter", name, sorted(self._parameters))
        return self._parameters[name]

    def graph(self) -> nx.DiGraph:
        return self._compiled.graph()

    def __repr__(self) -> str:
        return (f"<Network {self.name!r}: {len(self.variables)} nodes, "
                f"{len(self._parameters)} parameters, rule={self.rule}>")

    # ----------------------------------------------------------------- queries
    def query(self, target: str, evidence: Mapping[str, str] | None = None,
              do: Mapping[str, str] | None = None, *, engine: str = "einsum",
              scenario: str | list[str] | tuple[str, ...] | None = None,
              worldview: str | None = None, soft=None) -> dict[str, float]:
        """P(target | evidence, do(...)) as a mapping state -> probability: the plain network
        operation.

        Nothing is held: nodes the question does not mention follow the network's priors (the
        ``prior`` context policy). :func:`gmnet.ask` asks the way the command line does, with
        the ``baseline`` policy by default and every assumption stated (docs/context.md).

        ``worldview`` and ``scenario`` (a name or several, see docs/scenarios.md) are applied
        first; a scenario's evidence joins ``evidence`` and gives way to ``do``. ``soft`` adds
        soft evidence: likelihoods or fixed marginals, e.g. ``"P(capability_level=superhuman)
        =0.3"`` (see docs/why.md); the network is not changed by it.

        >>> net = load_network()
        >>> round(net.query("harm", evidence={"shift_type": "extreme"})["yes"], 4)
        0.1754
        """
        # The model layer's one upward import (docs/architecture.md): the headline method
        # forwards to the one question path, with nothing held.
        from gmnet.analysis.ask import answer
        from gmnet.model.question import Question

        if not isinstance(target, str):
            raise UnknownNameError("variable", str(target), self.variables, context="as target")
        scenarios = () if scenario is None else scenario
        question = Question(target, None, {} if evidence is None else evidence,
                            {} if do is None else do, scenarios, worldview, "prior",
                            soft=soft or ())
        return answer(self, question, engine=engine).distribution

    # ----------------------------------------------------------------- transforms
    def with_parameters(self, overrides: Mapping[str, Any]) -> Network:
        """A new network with some numbers replaced.

        ``overrides`` maps a parameter name to a number or to a mapping with ``value`` and
        optionally ``range`` and ``source``.
        """
        if not isinstance(overrides, Mapping):
            raise InvalidArgumentError(
                "overrides must be a mapping parameter name -> number or {value, range, source}"
                f", got {type(overrides).__name__}")
        params = dict(self._parameters)
        problems = []
        for name, new in overrides.items():
            if name not in params:
                raise UnknownNameError("parameter", str(name), sorted(params))
            old = params[name]
            where = f"override of {name}"
            if isinstance(new, Mapping):
                unknown = sorted(set(map(str, new)) - {"value", "range", "source"})
                if unknown:
                    raise InvalidArgumentError(f"{where}: unknown key {unknown[0]!r}; keys: "
                                               "value, range, source")
                value = _number(new.get("value", old.value), where)
                rng = new.get("range", (old.low, old.high) if "value" not in new else None)
                if rng is not None and (isinstance(rng, str | bytes) or not hasattr(rng, "__len__")
                                        or len(rng) != 2):
                    raise InvalidArgumentError(f"{where}: range must be [low, high], got {rng!r}")
                low, high = ((None, None) if rng is None or rng[0] is None
                             else (_number(rng[0], where), _number(rng[1], where)))
                source = new.get("source")
                if source is not None and not isinstance(source, str):
                    raise InvalidArgumentError(f"{where}: source must be text, got {source!r}")
                params[name] = old.with_value(value, low, high, source)
            else:
                params[name] = old.with_value(_number(new, where), None, None)
            _check_parameter(params[name], problems, where)
        if problems:
            raise InvalidArgumentError("; ".join(problems))
        return Network(self._spec, path=self.path, parameters=params)

    def with_rule(self, rule: str) -> Network:
        """A new network combining modifiers by ``rule`` ("relative_risk" or "odds_ratio")."""
        if rule not in COMBINATION_RULES:
            raise UnknownNameError("combination rule", rule, COMBINATION_RULES)
        spec = self._spec.model_copy(
            update={"settings": schema.Settings(combination_rule=rule)}
        )
        return Network(spec, path=self.path, parameters=self._parameters)

    # ----------------------------------------------------------------- batched CPTs
    def _point_values(self) -> dict[str, np.ndarray]:
        return {n: np.array([p.value]) for n, p in self._parameters.items()}

    def compile(self, values: Mapping[str, np.ndarray] | None = None, *,
                restrict: Mapping[str, int | Sequence[int]] | None = None,
                nodes: Iterable[str] | None = None) -> CompiledModel:
        """A compiled model for N parameter draws.

        ``values`` maps parameter names to arrays of shape (N,); names left out keep their
        point value. Used by the uncertainty and sensitivity analyses.

        ``restrict`` maps a variable to the index (or indices) of the states to keep: every CPT
        is then built on those states of that variable only, and the model's ``states`` list
        only them. The result is exactly the matching slice of the full CPTs (calibrated-route
        nodes included), at a fraction of the memory: a query that observes or sets a variable
        never needs the other states. ``nodes`` limits which CPTs are built (default: all);
        the model's ``variables`` are then those nodes.

        >>> net = load_network()
        >>> full = net.compile({"route_share": np.array([0.6, 0.9])})
        >>> part = net.compile({"route_share": np.array([0.6, 0.9])},
        ...                    restrict={"shift_type": 3}, nodes=["goal_misgeneralizes"])
        >>> bool(np.allclose(part.cpts["goal_misgeneralizes"],
        ...      full.cpts["goal_misgeneralizes"][:, :, :, :, 3:4], atol=1e-15))
        True
        """
        if not values and restrict is None and nodes is None:
            return self._compiled
        full, selection, only = self._prepare(values, restrict, nodes)
        problems: list[str] = []
        cpts = self._build_cpts(full, problems, check=False, restrict=selection, only=only)
        if problems:
            raise InvalidArgumentError("; ".join(problems))
        variables = self.variables if only is None else tuple(
            v for v in self.variables if v in only)
        states = {v: tuple(self._compiled.states[v][i] for i in selection[v])
                  if v in selection else self._compiled.states[v] for v in self.variables}
        return CompiledModel(variables, states,
                             {v: self._compiled.parents[v] for v in variables}, cpts)

    def _prepare(self, values, restrict, nodes):
        """Checked inputs of :meth:`compile`: every parameter's draws, the selection, nodes."""
        full = self._point_values()
        lengths = {name: np.asarray(arr).reshape(-1).shape[0]
                   for name, arr in (values or {}).items()}
        n = max(lengths.values(), default=1)
        for name, arr in (values or {}).items():
            if name not in self._parameters:
                raise UnknownNameError("parameter", name, sorted(self._parameters))
            if lengths[name] not in (1, n):
                raise InvalidArgumentError(
                    f"values: {name} has {lengths[name]} draws but others have {n}; give every "
                    "parameter the same number of draws (or one)")
            full[name] = np.asarray(arr, dtype=float).reshape(-1)
        # numbers with one value stay of length 1 and broadcast against the N draws
        selection = self._selection(restrict)
        only = None
        if nodes is not None:
            only = set(nodes)
            for v in only:
                self.node(v)
        return full, selection, only

    def _selection(self, restrict) -> dict[str, tuple[int, ...]]:
        """``restrict`` checked: variable -> sorted tuple of kept state indices."""
        selection: dict[str, tuple[int, ...]] = {}
        for var, kept in (restrict or {}).items():
            card = len(self.states(var))
            indices = [kept] if isinstance(kept, int | np.integer) else list(kept)
            if not indices or any(isinstance(i, bool) or not isinstance(i, int | np.integer)
                                  or not 0 <= i < card for i in indices):
                raise InvalidArgumentError(
                    f"restrict: {var} needs state indices in 0..{card - 1} "
                    f"({', '.join(self.states(var))}), got {kept!r}")
            selection[var] = tuple(sorted({int(i) for i in indices}))
        return selection

    def parameters_for(self, variables: Iterable[str], *,
                       restrict: Mapping[str, int | Sequence[int]] | None = None) -> set[str]:
        """The parameters the CPTs of ``variables`` read, with ``restrict`` as in :meth:`compile`.

        A parameter left out cannot change those CPTs: sampling only these is enough.

        >>> sorted(load_network().parameters_for(["capability_transfer"],
        ...                                      restrict={"shift_type": 3}))
        ['p_capability_transfer.extreme']
        """
        selection = self._selection(restrict)
        return self._parameters_for(set(variables), selection)

    def compile_factors(self, values: Mapping[str, np.ndarray] | None = None, *,
                        restrict: Mapping[str, int | Sequence[int]] | None = None,
                        nodes: Iterable[str] | None = None
                        ) -> list[tuple[np.ndarray, tuple[str, ...]]]:
        """The CPTs of ``nodes`` as factors for a batched contraction, draws on the LAST axis.

        Returns (array, labels) pairs: one per node, labelled ``(*parents, node, DRAW)``, except
        for calibrated-route nodes, which come as two factors sharing a hidden index
        ``"<node>:route"``: ``T[k, others, node]`` and ``D[k, route parents]`` with
        ``CPT = sum_k T * D`` (the CPT is affine in the route indicator). The pair is exact and
        far smaller than the CPT, whose grid multiplies every parent. Arguments as in
        :meth:`compile`; the draw axis label is
        :data:`gmnet.inference.contraction.DRAW_LABEL`. Used by the batched engine.
        """
        from gmnet.inference.contraction import DRAW_LABEL

        full, selection, only = self._prepare(values, restrict, nodes)
        problems: list[str] = []
        factored: dict[str, list] = {}
        cpts = self._build_last(full, problems, check=False, restrict=selection, only=only,
                                factored=factored)
        if problems:
            raise InvalidArgumentError("; ".join(problems))
        out: list[tuple[np.ndarray, tuple[str, ...]]] = []
        for v in self.variables:
            if v in cpts:
                out.append((cpts[v], (*self._compiled.parents[v], v, DRAW_LABEL)))
            elif v in factored:
                out.extend(factored[v])
        return out

    def _parameters_for(self, variables: set[str], selection) -> set[str]:
        groups = {g: list(self._spec.nodes[grp.index].states)
                  for g, grp in self._spec.parameters.items()
                  if grp.values is not None and grp.index in self._spec.nodes}
        scalars = [g for g, grp in self._spec.parameters.items() if grp.values is None]
        used: set[str] = set()
        for var in variables:
            node = self.node(var)
            cpt = node.cpt
            chosen = {p: [self._spec.nodes[p].states[i] for i in selection[p]]
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
                factor_nodes = _route_factor_nodes(self, var)
                used |= self._parameters_for(
                    factor_nodes, {k: v for k, v in selection.items() if k not in factor_nodes})
        return {u for u in used if u in self._parameters}

    def _build_cpts(self, values: Mapping[str, np.ndarray], problems: list[str], *,
                    check: bool = True, restrict: Mapping[str, tuple[int, ...]] | None = None,
                    only: set[str] | None = None) -> dict[str, np.ndarray]:
        """CPTs of shape (N, *parent states, states): views of :meth:`_build_last`'s arrays."""
        last = self._build_last(values, problems, check=check, restrict=restrict, only=only)
        return {v: np.moveaxis(a, -1, 0) for v, a in last.items()}

    def _build_last(self, values: Mapping[str, np.ndarray], problems: list[str], *,
                    check: bool = True, restrict: Mapping[str, tuple[int, ...]] | None = None,
                    only: set[str] | None = None,
                    factored: dict | None = None) -> dict[str, np.ndarray]:
        """CPTs with the draw axis last, (*parent states, states, N): numpy's inner loops then
        run over the draws, contiguous, which is what makes many draws fast.

        With ``factored`` (a dict), calibrated-route nodes are not built as arrays but as two
        smaller factors whose product over a hidden index is the CPT; they go into ``factored``
        (node -> list of (array, labels)) instead of the result.
        """
        n = max(v.shape[0] for v in values.values()) if values else 1
        scalars, groups = _group_values(self._spec, self._parameters, values)
        selection = dict(restrict or {})
        cpts: dict[str, np.ndarray] = {}

        def route_support(factor_nodes: set[str]) -> dict[str, np.ndarray]:
            # P(route | do(others)) needs the route's ancestors on all their states; the
            # selection of the variables outside them (the node's other parents) still holds.
            if factor_nodes <= set(cpts) and not factor_nodes & set(selection):
                return cpts
            return self._build_last(
                values, problems, check=False,
                restrict={k: v for k, v in selection.items() if k not in factor_nodes},
                only=factor_nodes)

        for var in self.variables:
            if only is not None and var not in only:
                continue
            node = self._spec.nodes[var]
            parents = [(p, self._spec.nodes[p].states) for p in node.parents]
            ctx = ExpressionContext(parents, scalars, groups, self.rule,
                                    {p: selection[p] for p in node.parents if p in selection}
                                    or None)
            where = f"node {var!r}: cpt"
            try:
                if factored is not None and node.cpt.kind == "calibrated_route":
                    parts = _calibrated_route_cpt(var, node, ctx, n, cpts, self, route_support,
                                                  factored=True)
                    if isinstance(parts, list):
                        if var in selection and len(selection[var]) != len(node.states):
                            parts = [(np.take(a, list(selection[var]), axis=labels.index(var))
                                      if var in labels else a, labels) for a, labels in parts]
                        factored[var] = parts
                        continue
                    arr = parts
                else:
                    arr = _node_cpt(var, node, ctx, n, cpts, self, route_support)
            except ExpressionError as exc:
                problems.append(f"{where}: {exc}")
                continue
            except _CPTProblem as exc:
                problems.append(f"{where}: {exc}")
                continue
            if var in selection and len(selection[var]) != len(node.states):
                arr = arr[..., list(selection[var]), :]
            if check:
                _check_cpt(var, node, np.moveaxis(arr, -1, 0), problems, self._spec)
            cpts[var] = arr
        return cpts


def _number(value: Any, where: str) -> float:
    """A real number from an override, or an error naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidArgumentError(f"{where}: expected a number, got {value!r}")
    return float(value)


class _CPTProblem(Exception):
    pass


# ============================================================================ CPT kinds
def _node_cpt(var, node: schema.NodeSpec, ctx: ExpressionContext, n: int,
              built: Mapping[str, np.ndarray], net: Network, route_support=None) -> np.ndarray:
    """The CPT of ``var`` on the context's grid (its selected parent states), all own states,
    draws last: shape (*grid, states, n)."""
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
            raise _CPTProblem(
                f"rows: expected {expected[0]} rows of {expected[1]} probabilities "
                f"(one row per parent configuration), got shape {rows.shape}")
        table = rows.reshape(*full_grid, len(states), 1)
        for axis, (name, parent_states) in enumerate(ctx.parents):
            kept = ctx.kept(name, parent_states)
            if len(kept) != len(parent_states):
                table = np.take(table, kept, axis=axis)
        return np.broadcast_to(table, (*grid, len(states), n))
    if cpt.kind in ("prior", "expression"):
        return _expression_cpt(states, cpt.probabilities, ctx, n)
    if cpt.kind == "calibrated_route":
        return _calibrated_route_cpt(var, node, ctx, n, built, net, route_support)
    raise _CPTProblem(f"unknown kind {cpt.kind!r}")  # pragma: no cover - schema forbids


def _expression_cpt(states, probabilities: Mapping[str, Any], ctx, n) -> np.ndarray:
    keys = list(probabilities)
    missing = [s for s in states if s not in keys]
    extra = [k for k in keys if k not in states]
    if extra:
        raise _CPTProblem(f"probabilities: {', '.join(map(repr, extra))} not a state; "
                          f"states: {', '.join(states)}")
    if missing:
        raise _CPTProblem(f"probabilities: no entry for state(s) {', '.join(map(repr, missing))}")
    rest = [k for k, v in probabilities.items() if isinstance(v, str) and v.strip() == "rest"]
    if len(rest) > 1:
        raise _CPTProblem("probabilities: only one state may be 'rest'")
    grid = ctx.grid
    out = np.empty((*grid, len(states), n))
    for i, state in enumerate(states):
        text = probabilities[state]
        if state in rest:
            continue
        out[..., i, :] = evaluate_compact(str(text), ctx) if isinstance(text, str) else float(text)
    if rest:
        i = states.index(rest[0])
        others = [j for j in range(len(states)) if j != i]
        if len(others) == 1:
            np.subtract(1.0, out[..., others[0], :], out=out[..., i, :])
        else:
            out[..., i, :] = 1.0 - out[..., others, :].sum(axis=-2)
    return out


def _route_factor_nodes(net: Network, var: str) -> set[str]:
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
                          route_support=None, *, factored: bool = False):
    """P(state | parents) = G + lambda * (d - dbar), which keeps the marginal at G exactly.

    G is the target probability given the non-route parents Z; d is 1 on the route (e.g. a proxy
    objective was learned and the spurious features shifted) and 0 elsewhere; dbar = P(route |
    do(Z)), computed from the route parents' ancestors; lambda = share x the largest value that
    keeps every entry in [0, 1]. With share 1 the route carries as much of G as it can.

    Under a state selection (``ctx.selected``) the CPT is computed on every state of the route
    parents (dbar sums over them) and the selected ones are kept at the end, so the result is
    exactly the slice of the full CPT.
    """
    from gmnet.inference.contraction import DRAW_LABEL as _DRAW
    from gmnet.inference.contraction import contract_last

    cpt: schema.CalibratedRouteCPT = node.cpt
    states = node.states
    if len(states) != 2:
        raise _CPTProblem("calibrated_route needs a node with exactly two states")
    if cpt.state not in states:
        raise _CPTProblem(f"state: {cpt.state!r} not a state; states: {', '.join(states)}")
    route_parents = list(cpt.route_parents)
    bad = [p for p in route_parents if p not in node.parents]
    if bad:
        raise _CPTProblem(f"route_parents: {', '.join(bad)} not among the parents")
    used_target = names_used(cpt.target) & set(node.parents)
    if used_target & set(route_parents):
        raise _CPTProblem("target: must not depend on route parents "
                          f"({', '.join(sorted(used_target & set(route_parents)))})")
    selected = dict(ctx.selected or {})
    route_selected = {p: selected.pop(p) for p in route_parents if p in selected}
    if route_selected:
        ctx = ExpressionContext(ctx.parents, ctx.scalars, ctx.groups, ctx.rule, selected or None)
    # draws last; an axis an expression does not depend on stays of size 1
    G = evaluate_compact(cpt.target, ctx)
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
    joint = contract_last(operands, [*order, _DRAW])
    shape = [joint.shape[order.index(p)] if p in order else 1 for p in node.parents]
    p_route_cfg = joint.reshape([*shape, joint.shape[-1]])
    route_axes = tuple(node.parents.index(p) for p in route_parents)
    # dbar = sum over the route parents of P(route parents | do(others)) * d
    axes = list(range(len(node.parents) + 1))
    dbar = np.einsum(p_route_cfg, axes, np.asarray(d, dtype=float), axes,
                     [a for a in axes if a not in route_axes])
    dbar = np.expand_dims(dbar, route_axes)
    # lambda = share x min(G / dbar, (1 - G) / (1 - dbar)): a 0 denominator rules its bound out
    # (fmin skips the NaN of 0/0), no finite bound leaves lambda 0
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.fmin(np.divide(G, dbar), np.divide(1.0 - G, 1.0 - dbar))
    np.nan_to_num(lam, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    lam = lam * share_arr
    offset = G - lam * dbar
    if factored and all(offset.shape[a] == 1 and lam.shape[a] == 1 for a in route_axes):
        return _route_factors(var, node, ctx, n, offset, lam, d, route_axes, route_selected)
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


def _route_factors(var, node, ctx, n, offset, slope, d, route_axes, route_selected):
    """The calibrated-route CPT as three factors sharing a hidden index k in {0, 1, 2}.

    p(state) = offset + slope * d with offset and slope free of the route parents and d free of
    the others (as far as the expressions go). So CPT[s, others, route] = sum_k U[k, s]
    V[k, others] W[k, route] with V = (1, offset, slope), W = (1, 1, d), U = ([s = other state],
    +-1, +-1): exact, without the clip (which only ever removes rounding), and far smaller than
    the CPT, whose grid multiplies the two groups of parents.
    """
    from gmnet.inference.contraction import DRAW_LABEL

    hidden = f"{var}:route"
    i = node.states.index(node.cpt.state)
    parents = list(node.parents)
    u = np.zeros((3, 2, 1))
    u[0, 1 - i] = 1.0
    u[1:, i] = 1.0
    u[1:, 1 - i] = -1.0
    keep_v = [a for a in range(len(parents)) if a not in route_axes]
    shape = np.broadcast_shapes(offset.shape, slope.shape)
    v = np.empty((3, *(shape[a] for a in keep_v), max(n, shape[-1])))
    v[0] = 1.0
    v[1] = np.squeeze(offset, axis=route_axes)
    v[2] = np.squeeze(slope, axis=route_axes)
    # W: the route indicator on the axes it depends on (others of size 1 are dropped)
    d = np.asarray(d, dtype=float)
    for p_name, kept in route_selected.items():
        d = np.take(d, list(kept), axis=parents.index(p_name))
    keep_w = [a for a in range(len(parents)) if d.shape[a] > 1 or a in route_axes]
    d = d.reshape([d.shape[a] for a in keep_w] + [d.shape[-1]])
    w = np.stack([np.ones_like(d), np.ones_like(d), d])
    return [(u, (hidden, var, DRAW_LABEL)),
            (v, (hidden, *(parents[a] for a in keep_v), DRAW_LABEL)),
            (w, (hidden, *(parents[a] for a in keep_w), DRAW_LABEL))]


# ============================================================================ checks
def _graph(spec: schema.NetworkFile) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(spec.nodes)
    for v, node in spec.nodes.items():
        g.add_edges_from((p, v) for p in node.parents if p in spec.nodes)
    return g


def _check_structure(spec: schema.NetworkFile, problems: list[str]) -> None:
    names = list(spec.nodes)
    for v, node in spec.nodes.items():
        seen = set()
        for s in node.states:
            if s in seen:
                problems.append(f"node {v!r}: states: duplicate state {s!r}")
            seen.add(s)
        for p in node.parents:
            if p == v:
                problems.append(f"node {v!r}: parents: a node cannot be its own parent")
            elif p not in spec.nodes:
                problems.append(f"node {v!r}: parents: unknown parent {p!r}; nodes: "
                                + ", ".join(names))
        if len(set(node.parents)) != len(node.parents):
            problems.append(f"node {v!r}: parents: listed twice")
        if node.cpt.kind == "prior" and node.parents:
            problems.append(f"node {v!r}: cpt: kind 'prior' is for nodes without parents; "
                            "use kind 'expression'")
        texts = []
        if node.cpt.kind in ("prior", "expression"):
            texts = [t for t in node.cpt.probabilities.values()
                     if isinstance(t, str) and t.strip() != "rest"]
        elif node.cpt.kind == "calibrated_route":
            texts = [node.cpt.target, node.cpt.route]
            if isinstance(node.cpt.route_share, str):
                texts.append(node.cpt.route_share)
        for t in texts:
            try:
                parse_expression(t)
            except ExpressionError as exc:
                problems.append(f"node {v!r}: cpt: {exc}")
    for i, t in enumerate(spec.targets):
        where = f"targets[{i}]"
        assignments = [("target", t.target, t.state)]
        assignments += [("evidence", k, v) for k, v in t.evidence.items()]
        assignments += [("do", k, v) for k, v in t.do.items()]
        for key, var, state in assignments:
            if var not in spec.nodes:
                problems.append(f"{where}: {key}: unknown node {var!r}; nodes: {', '.join(names)}")
            elif state not in spec.nodes[var].states:
                problems.append(f"{where}: {key}: unknown state {state!r} of {var}; states: "
                                + ", ".join(spec.nodes[var].states))
    clash = set(spec.parameters) & set(spec.nodes)
    for name in sorted(clash):
        problems.append(f"parameters: {name!r} is also a node name; rename one of them")
    g = _graph(spec)
    if not nx.is_directed_acyclic_graph(g):
        cycle = nx.find_cycle(g)
        path = " -> ".join([e[0] for e in cycle] + [cycle[0][0]])
        problems.append(f"nodes: the graph has a cycle: {path}")


def _collect_parameters(spec: schema.NetworkFile, problems: list[str]) -> dict[str, Parameter]:
    params: dict[str, Parameter] = {}
    for gname, group in spec.parameters.items():
        if (group.values is None) == (group.value is None):
            problems.append(f"parameter {gname!r}: give either 'value' (one number) or 'values' "
                            "(numbers keyed by the states of 'index')")
            continue
        if group.values is not None:
            if group.index is None:
                problems.append(f"parameter {gname!r}: 'values' needs 'index', the node whose "
                                "states key them")
            for key, pv in group.values.items():
                rng = pv.range
                params[f"{gname}.{key}"] = Parameter(
                    f"{gname}.{key}", gname, key, float(pv.value),
                    None if rng is None else float(rng[0]), None if rng is None else float(rng[1]),
                    pv.source, group.unit, pv.note)
        else:
            if group.source is None:
                problems.append(f"parameter {gname!r}: source: missing (the document's table "
                                "and row, or 'assumption: <why>')")
                continue
            rng = group.range
            params[gname] = Parameter(
                gname, gname, None, float(group.value),
                None if rng is None else float(rng[0]), None if rng is None else float(rng[1]),
                group.source, group.unit, group.note)
    return params


def _check_parameter(p: Parameter, problems: list[str], where: str) -> None:
    numbers = [p.value] + ([p.low, p.high] if p.low is not None else [])
    if any(not math.isfinite(x) for x in numbers):
        problems.append(f"{where}: value and range must be finite numbers")
        return
    if p.low is not None:
        if p.low > p.high:
            problems.append(f"{where}: range [{p.low}, {p.high}] is reversed; write [low, high]")
        elif not (p.low <= p.value <= p.high):
            problems.append(f"{where}: range [{p.low}, {p.high}] does not contain the point "
                            f"value {p.value}")
    if p.unit in ("probability", "fraction"):
        bad = [x for x in numbers if not 0.0 <= x <= 1.0]
        if bad:
            problems.append(f"{where}: {bad[0]} is not a probability; a {p.unit} lies in [0, 1]")
    elif p.unit in ("multiplier", "cost", "weight"):
        bad = [x for x in numbers if x < 0]
        if bad:
            problems.append(f"{where}: {p.unit} {bad[0]} is negative; a {p.unit} is >= 0")


def _check_parameters(spec, params: Mapping[str, Parameter], problems: list[str]) -> None:
    for gname, group in spec.parameters.items():
        if group.values is not None and group.index is not None:
            if group.index not in spec.nodes:
                problems.append(f"parameter {gname!r}: index: unknown node {group.index!r}")
                continue
            states = spec.nodes[group.index].states
            keys = list(group.values)
            if sorted(keys) != sorted(states):
                missing = [s for s in states if s not in keys]
                extra = [k for k in keys if k not in states]
                detail = []
                if missing:
                    detail.append("missing " + ", ".join(missing))
                if extra:
                    detail.append("not states of " + group.index + ": " + ", ".join(extra))
                problems.append(f"parameter {gname!r}: values must be keyed by the states of "
                                f"{group.index} ({', '.join(states)}): {'; '.join(detail)}")
    for p in params.values():
        _check_parameter(p, problems, f"parameter {p.name!r}")
    # expressions refer to known names
    known_params = set(spec.parameters)
    for v, node in spec.nodes.items():
        texts = []
        if node.cpt.kind in ("prior", "expression"):
            texts = [t for t in node.cpt.probabilities.values()
                     if isinstance(t, str) and t.strip() != "rest"]
        elif node.cpt.kind == "calibrated_route":
            texts = [node.cpt.target, node.cpt.route]
        for t in texts:
            for name in sorted(names_used(t) - known_params - set(node.parents)):
                hint = " (a node that is not a parent of this one)" if name in spec.nodes else ""
                problems.append(f"node {v!r}: cpt: expression {t!r} refers to unknown name "
                                f"{name!r}{hint}; parents: {', '.join(node.parents) or 'none'}")


def _check_cpt(var: str, node: schema.NodeSpec, arr: np.ndarray, problems: list[str],
               spec: schema.NetworkFile) -> None:
    states = {v: n.states for v, n in spec.nodes.items()}
    where = f"node {var!r}: cpt"
    if not np.all(np.isfinite(arr)):
        problems.append(f"{where}: contains NaN or infinite probabilities")
        return
    lo, hi = float(arr.min()), float(arr.max())
    if lo < -SUM_TOLERANCE or hi > 1 + SUM_TOLERANCE:
        cfg = _worst_config(node, arr, (arr < -SUM_TOLERANCE) | (arr > 1 + SUM_TOLERANCE), states)
        problems.append(f"{where}: probability {lo if lo < 0 else hi:.6g} outside [0, 1]{cfg}")
    sums = arr.sum(axis=-1)
    off = np.abs(sums - 1.0) > SUM_TOLERANCE
    if np.any(off):
        k = np.unravel_index(int(np.argmax(np.abs(sums - 1.0))), sums.shape)
        cfg = _describe_config(node, k[1:], states)
        problems.append(f"{where}: probabilities sum to {float(sums[k]):.6g}, not 1{cfg}")


def _worst_config(node, arr, mask, states) -> str:
    k = np.argwhere(mask)[0]
    return _describe_config(node, tuple(k[1:-1]), states)


def _describe_config(node, index, states) -> str:
    if not node.parents:
        return ""
    pairs = [f"{p}={states[p][int(i)]}" for p, i in zip(node.parents, index, strict=False)]
    return " (at " + ", ".join(pairs) + ")"


def _group_values(spec: schema.NetworkFile, params: Mapping[str, Parameter],
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


# ============================================================================ loading
def bundled_networks() -> list[str]:
    """Names of the networks shipped in ``networks/``."""
    return sorted(p.stem for p in NETWORKS_DIR.glob("*.yaml")
                  if not p.stem.startswith(("scenarios", "worldviews")))


def _resolve(path_or_name: str | Path | None) -> Path:
    if path_or_name is None:
        path_or_name = DEFAULT_NETWORK
    text = str(path_or_name)
    candidate = Path(text)
    if (candidate.suffix in (".yaml", ".yml") or candidate.suffix.lower() in FOREIGN_EXTENSIONS
            or "/" in text or "\\" in text or candidate.exists()):
        if candidate.is_dir():
            raise InvalidArgumentError(
                f"{text} is a folder; name a network file in it (.yaml, or one of "
                f"{', '.join(sorted(FOREIGN_EXTENSIONS))}) or a bundled network: "
                + ", ".join(bundled_networks()))
        if not candidate.is_file():
            raise UnknownNameError("network file", text, bundled_networks(),
                                   context="(no such file; bundled networks are)")
        return candidate
    if text not in bundled_networks():
        raise UnknownNameError("network", text, bundled_networks())
    return NETWORKS_DIR / f"{text}.yaml"


def read_yaml(path: Path) -> Any:
    """Read a YAML data file safely and within bounds: see :mod:`gmnet.model.yaml_safe`."""
    return yaml_safe.read_yaml(path)


def network_from_dict(data: Any, *, path: str = "<memory>") -> Network:
    """Validate ``data`` (the parsed contents of a network file) and build a Network."""
    spec = validate_shape(data, schema.NetworkFile, path=path,
                          labels={"nodes": "node", "parameters": "parameter"},
                          top_level="'name' and 'nodes'")
    return Network(spec, path=path)


def load_network(path_or_name: str | Path | None = None, *,
                 format: str | None = None) -> Network:  # noqa: A002 - the domain's word
    """Load a network: a bundled one by name (default: the goal-misgeneralization network) or a
    gmnet YAML file by path. Validates the whole file and reports every problem at once.
    Files of other tools (by extension, or any file with ``format=``: bif, xmlbif, net, xdsl,
    dsl, dne, uai) are imported: see :func:`gmnet.io.formats.import_network`.
    """
    path = _resolve(path_or_name)
    note_input(path, with_sidecar=format is not None or path.suffix.lower() in FOREIGN_EXTENSIONS)
    if format is not None or path.suffix.lower() in FOREIGN_EXTENSIONS:
        from gmnet.io.formats import load_foreign

        return load_foreign(path, format=format)
    return _load_cached(str(path.resolve()), path.stat().st_mtime_ns, str(path))


_CACHE: dict[tuple[str, int], Network] = {}


def _load_cached(resolved: str, mtime: int, shown: str) -> Network:
    key = (resolved, mtime)
    if key not in _CACHE:
        _CACHE[key] = network_from_dict(read_yaml(Path(shown)), path=shown)
    return _CACHE[key]


def validate_file(path: str | Path) -> Network:
    """Load and validate a network file; raises NetworkFileError listing every problem."""
    note_input(path, with_sidecar=Path(path).suffix.lower() in FOREIGN_EXTENSIONS)
    if Path(path).suffix.lower() in FOREIGN_EXTENSIONS:
        from gmnet.io.formats import import_network

        return import_network(path)
    return network_from_dict(read_yaml(Path(path)), path=str(path))
