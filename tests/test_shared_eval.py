"""The batched engine's expression evaluation (shared calls, compiled programs) against the tree
walker, bit for bit: on every expression of the bundled and random networks, under selections."""

import numpy as np
import pytest

import gmnet
from gmnet.model import shared_eval
from gmnet.model.cpts import group_values
from gmnet.model.expression_program import compile_expression
from gmnet.model.expressions import ExpressionContext, evaluate_compact
from gmnet.model.shared_eval import SharedEvaluation
from tests.test_batched import random_network, ranged_draws


def indexed_by(network):
    return {g: grp.index for g, grp in network.spec.parameters.items()
            if grp.values is not None and grp.index in network.spec.nodes}


def expressions(network):
    """(node, text) of every expression a CPT of ``network`` evaluates."""
    for v in network.variables:
        cpt = network.node(v).cpt
        if cpt.kind in ("prior", "expression"):
            texts = [t for t in cpt.probabilities.values()
                     if isinstance(t, str) and t.strip() != "rest"]
        elif cpt.kind == "calibrated_route":
            texts = [cpt.target, cpt.route] + ([cpt.route_share]
                                              if isinstance(cpt.route_share, str) else [])
        else:
            texts = []
        for text in texts:
            yield v, text


def contexts(network, values, rng):
    """For each node: its context with every state, and with a random selection."""
    scalars, groups = group_values(network.spec, network.parameters, values)
    for v in network.variables:
        parents = [(p, network.states(p)) for p in network.parents(v)]
        yield v, ExpressionContext(parents, scalars, groups, network.rule), scalars, groups
        chosen = {p: tuple(sorted(rng.choice(len(s), size=int(rng.integers(1, len(s) + 1)),
                                             replace=False).tolist()))
                  for p, s in parents if rng.random() < 0.6}
        yield v, ExpressionContext(parents, scalars, groups, network.rule,
                                   chosen or None), scalars, groups


@pytest.mark.parametrize("which", ["bundled", *range(6)])
def test_shared_and_compiled_evaluation_equal_the_walker_bit_for_bit(which):
    network = gmnet.load_network() if which == "bundled" else random_network(which)
    values = {**{k: np.asarray([p.value]) for k, p in network.parameters.items()},
              **ranged_draws(network, 5, 3)}
    rng = np.random.default_rng(7)
    texts = {}
    for v, text in expressions(network):
        texts.setdefault(v, []).append(text)
    checked = 0
    for v, ctx, scalars, groups in contexts(network, values, rng):
        shared = SharedEvaluation([(u, network.states(u)) for u in network.variables],
                                  scalars, groups, network.rule, indexed_by(network))
        for text in texts.get(v, []):
            expected = evaluate_compact(text, ctx)
            with_shared = ExpressionContext(ctx.parents, ctx.scalars, ctx.groups, ctx.rule,
                                            ctx.selected, shared)
            got = evaluate_compact(text, with_shared)
            again = evaluate_compact(text, with_shared)  # from the build's memo
            shape = np.broadcast_shapes(expected.shape, got.shape)
            assert np.array_equal(np.broadcast_to(got, shape), np.broadcast_to(expected, shape))
            assert np.array_equal(again, got)
            checked += 1
    assert checked >= 5


def test_every_bundled_expression_compiles_and_shares_its_repeated_calls():
    network = gmnet.load_network()
    values = {k: np.asarray([p.value]) for k, p in network.parameters.items()}
    scalars, groups = group_values(network.spec, network.parameters, values)
    shared = SharedEvaluation([(u, network.states(u)) for u in network.variables],
                              scalars, groups, network.rule, indexed_by(network))
    position, names, group_keys, rule, literal = shared._layout
    for v, text in expressions(network):
        parents = tuple((p, tuple(network.states(p)), tuple(range(len(network.states(p)))))
                        for p in network.parents(v))
        assert compile_expression(text, parents, position, names, group_keys, rule,
                                  literal) is not None
    # the largest goal factor over the shift types: written in two nodes, computed once
    for v in ("learned_objective", "spurious_features_shifted"):
        parents = [(p, network.states(p)) for p in network.parents(v)]
        ctx = ExpressionContext(parents, scalars, groups, network.rule, None, shared)
        for _, text in [e for e in expressions(network) if e[0] == v]:
            evaluate_compact(text, ctx)
    # the four literal shift types are slices of the split indexed by the shift type, which
    # the shifted-features node computes anyway: one split in all
    assert sum(k[0] == "split" for k in shared.memo) == 1
    maxima = [k for k in shared.memo if k[0].startswith("Call(func=Name(id='max'")]
    assert len(maxima) == 2  # the largest goal factor, and it floored at 1e-300


def test_the_walker_takes_over_where_nothing_compiles(monkeypatch):
    network = gmnet.load_network()
    values = {**{k: np.asarray([p.value]) for k, p in network.parameters.items()},
              **ranged_draws(network, 4, 5)}
    q = gmnet.plan_query(network, "harm", evidence={"shift_type": "extreme"}, state="yes")
    compiled = q.run(values)
    monkeypatch.setattr(shared_eval, "compile_expression", lambda *a, **k: None)
    monkeypatch.setattr(shared_eval, "_PROGRAMS", {})
    assert np.array_equal(q.run(values), compiled)


def _texts(net):
    for node in net.spec.nodes.values():
        cpt = node.cpt
        if cpt.kind in ("prior", "expression"):
            yield node, [t for t in cpt.probabilities.values()
                         if isinstance(t, str) and t.strip() != "rest"]
        elif cpt.kind == "calibrated_route":
            yield node, [t for t in (cpt.target, cpt.route, cpt.route_share)
                         if isinstance(t, str)]


def _read_by_walking(text, groups, scalars, selected):
    # what parameters_used read before it kept each text's references (three walks of the
    # parsed tree per call): the reference for the kept version
    import ast

    tree = ast.parse(text.strip(), mode="eval")
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    subscripted, used = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
                and node.value.id in groups:
            subscripted.add(id(node.value))
            keys, index = list(groups[node.value.id]), node.slice
            if isinstance(index, ast.Constant) and isinstance(index.value, str):
                chosen = [index.value] if index.value in keys else []
            elif isinstance(index, ast.Name) and index.id in selected:
                chosen = [k for k in selected[index.id] if k in keys]
            else:
                chosen = keys
            used.update(f"{node.value.id}.{k}" for k in chosen)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in called \
                and id(node) not in subscripted:
            if node.id in scalars:
                used.add(node.id)
            elif node.id in groups:
                used.update(f"{node.id}.{k}" for k in groups[node.id])
    return used


def test_the_parameters_an_expression_reads_and_its_pieces_keys():
    # parameters_used (each text's references kept) reads what walking the tree reads, on the
    # bundled network and 30 random ones, with each parent free or held at each state; the
    # compiled loops' pieces are keyed by structure exactly as ast.dump keys them
    import ast
    import itertools

    from gmnet.model.expressions import parameters_used
    from gmnet.model.kernel_source import _structure

    checked = 0
    for net in [gmnet.load_network(), *(random_network(seed) for seed in range(30))]:
        groups = {g: list(net.spec.nodes[grp.index].states)
                  for g, grp in net.spec.parameters.items()
                  if grp.values is not None and grp.index in net.spec.nodes}
        scalars = [g for g, grp in net.spec.parameters.items() if grp.values is None]
        for node, texts in _texts(net):
            choices = [None] + [{p: [s]} for p in node.parents
                                for s in net.spec.nodes[p].states]
            for text, selected in itertools.product(texts, choices):
                assert parameters_used(text, groups, scalars, selected) == \
                    _read_by_walking(text, groups, scalars, selected or {}), (text, selected)
                checked += 1
            nodes = [n for t in texts for n in ast.walk(ast.parse(t.strip(), mode="eval"))]
            for a, b in itertools.combinations(nodes[:60], 2):
                assert (_structure(a) == _structure(b)) == (ast.dump(a) == ast.dump(b))
    assert checked > 500
