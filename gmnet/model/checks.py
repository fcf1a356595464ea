"""Checks of a network file's content, beyond its shape (gmnet.model.schema): the graph (names,
parents, cycles), every parameter (value, range, units) and the expressions' use of them. Every
problem is collected; the caller raises them together (NetworkFileError)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import networkx as nx

from gmnet.model import schema
from gmnet.model.expressions import ExpressionError, names_used, parse_expression
from gmnet.model.parameters import Parameter


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
