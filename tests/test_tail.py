"""The product-sum (gmnet.inference.tail): a question's heaviest CPTs multiplied and summed in one
compiled loop, against the pairwise contraction (and through it pgmpy), and the compiled loop
against numpy's version of the same sum, bit for bit."""

import dataclasses
import re

import numpy as np
import pytest

import gmnet
from gmnet.inference import batched
from gmnet.inference import tail as tail_module
from gmnet.inference.batched import plan_query
from gmnet.model.network import network_from_dict
from tests.test_batched import pgmpy_answer, ranged_draws


def contraction_of(q):
    """The same plan answered by the pairwise contraction (no product-sum)."""
    other = dataclasses.replace(q)
    other.__dict__["_tail"] = None
    return other


def values_for(network, n, seed):
    return {**{k: np.asarray([p.value]) for k, p in network.parameters.items()},
            **ranged_draws(network, n, seed)}


# ---------------------------------------------------------------- small networks
FOUR = ["s0", "s1", "s2", "s3"]


def small(nodes: dict, extra: dict | None = None, keep_g: bool = True) -> gmnet.Network:
    def ranged(value):
        return {"value": value, "range": [value - 0.1, value + 0.1], "source": "test"}

    params = {"a": ranged(0.5), "b": ranged(0.4), "c": ranged(0.3),
              "sh": {"value": 0.8, "range": [0.7, 0.9], "source": "test"},
              "g": {"index": "A", "values": {s: ranged(0.2 + 0.1 * i)
                                             for i, s in enumerate(FOUR)}},
              **(extra or {})}
    if not keep_g:
        del params["g"]
    return network_from_dict({"format": "gmnet/1", "name": "review", "parameters": params,
                              "nodes": nodes})


def prior(rows, states=FOUR, parents=()):
    node = {"states": list(states), "cpt": {"kind": "table", "rows": rows, "source": "test"}}
    return {**node, "parents": list(parents)} if parents else node


def yes(parents, text):
    return {"states": ["no", "yes"], "parents": list(parents),
            "cpt": {"kind": "expression", "source": "test",
                    "probabilities": {"yes": text, "no": "rest"}}}


def route(parents, target, on, route_parents, share=0.8):
    return {"states": ["off", "on"], "parents": list(parents),
            "cpt": {"kind": "calibrated_route", "state": "on", "source": "test",
                    "target": target, "route": on, "route_parents": list(route_parents),
                    "route_share": share}}


HEAVY = {
    "X": yes("ABCD", "min(1, g[A] * a * where(B == 's1', 2, 1)"
                     " + where(C == 's2', 0.05, 0.01) * where(D == 's0', 3, 1))"),
    "Y": yes("ABCD", "clip(b * g[A] + where(D == 's3', 0.1, 0)"
                     " - where(B == 's0', 0.05, 0), 0, 1)"),
}


def toy() -> gmnet.Network:
    """Two heavy expression CPTs on four 4-state parents (256 cells), an AND target, and a
    calibrated route on two of them whose state is summed (its V computed in the loop, with
    all three terms)."""
    return small({
        "A": prior([[0.1, 0.2, 0.3, 0.4]]), "B": prior([[0.25] * 4]),
        "C": prior([[0.4, 0.3, 0.2, 0.1]]), "D": prior([[0.3, 0.3, 0.2, 0.2]]),
        "E": yes("B", "where(B == 's1', c, 0.5 * c)"),
        "R": route("EAB", "min(1, g[A] * b + where(B == 's2', 0.1, 0))", "E == 'yes'", "E"),
        "F": yes("RC", "where(R == 'on', 0.9, a * 0.2) * where(C == 's3', 1, 0.8)"),
        **HEAVY, "T": yes("XYF", "where((X == 'yes') & (Y == 'yes') & (F == 'yes'), 1, 0)")})


def test_the_nothing_held_question_is_a_product_sum(net):
    q = plan_query(net, "harm", state="yes")
    tail = q._tail
    assert tail.heavy == ("spurious_features_shifted", "harm_if_failed")
    assert [p[0] for p in tail.parents] == list(net.parents("spurious_features_shifted"))
    assert len(tail.axes) == 8 and sorted(tail.looped) == list(range(8))
    # the calibrated route's factors are summed over their hidden index inside the loop, its
    # V (offset and slope) computed there from its target, the largest goal factor
    hidden = [w for w in tail.weights if w.hidden]
    assert [(w.hidden, w.route, w.first) for w in hidden] == [
        (("learned_objective:route",), "learned_objective", 1)]
    assert hidden[0].route_on == (("spec_quality", "training_diversity"), ())
    assert tail.hidden_sizes[tail.weights.index(hidden[0])] == 2
    # the shift type's prior and capability transfer are read at the innermost level
    assert tail.looped[-1] == 0
    # a question whose largest factor is small, or that divides, has none
    assert plan_query(net, "harm", do={"shift_type": "extreme", "spec_quality": "low",
                                       "capability_level": "human_level"},
                      state="yes")._tail is None
    assert plan_query(net, "harm")._tail is None
    assert plan_query(net, "harm", evidence={"containment": "contained"},
                      state="yes")._tail is None


@pytest.mark.parametrize("kw", [{}, {"evidence": {"shift_type": "extreme"}},
                                {"do": {"ai_control": "on"}}])
def test_product_sums_equal_the_contraction_and_pgmpy(net, kw):
    q = plan_query(net, "harm", state="yes", **kw)
    assert q._tail is not None
    values = values_for(net, 40, 3)
    got = q.run(values)[:, 0]
    old = contraction_of(q).run(values)[:, 0]
    np.testing.assert_allclose(got, old, rtol=1e-14, atol=0)
    expected = pgmpy_answer(net, {k: v[:5] for k, v in values.items()}, "harm",
                            kw.get("evidence"), kw.get("do"))[:, net.states("harm").index("yes")]
    np.testing.assert_allclose(got[:5], expected, rtol=1e-12, atol=1e-15)


def test_a_toy_product_sum_with_a_summed_route_equals_the_contraction():
    network = toy()
    q = plan_query(network, "T", state="yes")
    tail = q._tail
    assert tail.heavy == ("X", "Y")
    routes = [w for w in tail.weights if w.hidden]
    assert [(w.hidden, w.route, w.first) for w in routes] == [(("R:route",), "R", 0)]
    assert tail.hidden_sizes[tail.weights.index(routes[0])] == 3
    values = values_for(network, 25, 9)
    got = q.run(values)[:, 0]
    np.testing.assert_allclose(got, contraction_of(q).run(values)[:, 0], rtol=1e-14)
    expected = pgmpy_answer(network, {k: v[:4] for k, v in values.items()}, "T", None,
                            None)[:, 1]
    np.testing.assert_allclose(got[:4], expected, rtol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 7, 300])
def test_the_compiled_loop_and_numpy_give_the_same_bits(net, monkeypatch, n):
    pytest.importorskip("numba")
    for network, target in ((net, "harm"), (toy(), "T")):
        q = plan_query(network, target, state="yes")
        values = values_for(network, n, 11)
        monkeypatch.setenv("GMNET_KERNELS", "off")
        plain = q.run(values)
        monkeypatch.setenv("GMNET_KERNELS", "on")
        compiled = q.run(values)
        assert np.array_equal(plain, compiled), network.name


def test_numpy_adds_the_cells_one_after_the_other():
    # the numpy version relies on a reduction over the first axis adding row after row; a
    # pairwise sum would give another last bit on these numbers
    rng = np.random.default_rng(0)
    flat = rng.uniform(0, 1, (2592, 3)) * 10.0 ** rng.integers(-8, 1, (2592, 3))
    expected = flat[0].copy()
    for row in flat[1:]:
        expected = expected + row
    assert np.array_equal(np.add.reduce(flat, axis=0), expected)
    column = flat[:, :1]
    one = np.add.accumulate(column[:, 0])[-1:]
    assert np.array_equal(one, expected[:1])
    assert not np.array_equal(np.sum(column[:, 0]), expected[0])  # pairwise: another bit


def test_the_weights_are_read_in_their_loop_levels(net):
    tail = plan_query(net, "harm", state="yes")._tail
    from gmnet.model.kernel_source import Generator

    names = [p[0] for p in tail.parents]
    levels = [Generator.weight_level(tail.looped, tuple(names.index(v) for v in w.parents))
              for w in tail.weights]
    assert levels == sorted(levels)
    source = tail.kernel().source(tuple(True for _ in tail.kernel().params))[0]
    body = source[source.index("def kernel"):]
    # the goal and harm factors are written as their pieces (no helper call), and the four
    # goal states are written out inside the last loop over the draws, each adding its term
    # in order; the harm factor at each state takes the pieces computed for the largest goal
    # factor at that state's key (its products and caps are not computed again)
    assert "_goal(" not in body and "_harm(" not in body
    assert body.count("acc += ") == 4 and body.count("out[i] = acc") == 1
    assert "for a0 in" not in body and "K0[a0]" not in body
    assert len(re.findall(r"= \(t\d+ / t\d+\)", body)) == 4  # the capped ratio, once a state
    piece = r"t\d+(?:\[j\])?"
    harm = rf"t\d+_\d = \(1\.0 if \({piece} > 1\.0\) else \({piece} if \({piece} > 1\.0\) " \
        rf"else {piece}\)\)"
    assert len(re.findall(harm, body)) == 4  # only selections among pieces already computed
    assert source.count("= _route(t") == 1  # the route's target: the goal factors' max
    # the weights' partial products above the last level have loops of their own, one per
    # level that has weights, and a vector each
    assert len({lv for lv in levels if lv < len(tail.looped) - 1}) \
        == sum(1 for line in body.splitlines() if re.fullmatch(r"w\d+ = np.empty\(TILE\)",
                                                                line.strip()))


def test_tail_can_be_switched_off_by_a_plan_without_one(net, monkeypatch):
    # plan_tail's verdict is the plan's: the same question on a fresh plan gives the same bits
    q = plan_query(net, "harm", state="yes")
    values = values_for(net, 30, 2)
    again = dataclasses.replace(q)
    assert np.array_equal(q.run(values), again.run(values))
    monkeypatch.setattr(tail_module, "TAIL_MIN_CELLS", 10 ** 9)
    assert dataclasses.replace(q)._tail is None


def test_a_compiled_product_sum_takes_chunks_its_loop_fits(net, monkeypatch, chunk_calls):
    pytest.importorskip("numba")
    q = plan_query(net, "harm", state="yes")
    values = values_for(net, 9000, 4)
    monkeypatch.setenv("GMNET_KERNELS", "off")  # numpy writes the heavy CPTs: cache-sized
    plain = q.run(values, workers=1)
    assert [size for size, _ in chunk_calls] == [256] * 35 + [40]
    chunk_calls.clear()
    monkeypatch.setenv("GMNET_KERNELS", "on")  # what the loop's chunk writes bounds it
    assert np.array_equal(q.run(values, workers=1), plain)
    # the largest array written: 64 entries a draw (2^19 // 64); the loop's own vectors are
    # a tile's
    assert q._tail.cells == 64
    assert [size for size, _ in chunk_calls] == [8192, 808]


def test_a_product_sum_takes_numbers_as_well_as_arrays(net):
    q = plan_query(net, "harm", state="yes")
    arrays = q.run({"route_share": np.array([0.7]), "p_goal_failure.extreme": [0.7, 0.72]})
    numbers = q.run({"route_share": 0.7, "p_goal_failure.extreme": np.array([0.7, 0.72])})
    assert arrays.shape == (2, 1) and np.array_equal(arrays, numbers)
    assert arrays[0, 0] < arrays[1, 0]  # a larger goal risk, more harm


# ---------------------------------------------------------------- networks a review found
def both_ways(monkeypatch, network, target="T", n=300, **kw):
    """The question's answers with numpy and with the compiled loop (the same bits), and the
    pairwise contraction's."""
    q = plan_query(network, target, state="yes", **kw)
    assert q._tail is not None
    values = values_for(network, n, 4)
    monkeypatch.setenv("GMNET_KERNELS", "off")
    plain = q.run(values)[:, 0]
    monkeypatch.setenv("GMNET_KERNELS", "on")
    compiled = q.run(values)[:, 0]
    assert np.array_equal(plain, compiled)
    np.testing.assert_allclose(compiled, contraction_of(q).run(values)[:, 0], rtol=1e-14)
    return q


def test_a_route_before_other_weights_of_its_level_is_multiplied_in_the_loops_order(
        monkeypatch):
    # D, a heavy parent with a parent of its own, gives a weight at the route's level: the
    # numpy sum must multiply them in the order the loop does
    pytest.importorskip("numba")
    nodes = {"A": prior([[0.1, 0.2, 0.3, 0.4]]), "B": prior([[0.25] * 4]),
             "C": prior([[0.4, 0.3, 0.2, 0.1]]),
             "E": yes("B", "where(B == 's1', c, 0.5 * c)"),
             "R": route("EAB", "min(1, g[A] * b + where(B == 's2', 0.1, 0))", "E == 'yes'",
                        "E"),
             "F": yes("RC", "where(R == 'on', 0.9, a * 0.2) * where(C == 's3', 1, 0.8)"),
             "D": prior([[0.3, 0.3, 0.2, 0.2], [0.1, 0.2, 0.3, 0.4], [0.25] * 4,
                         [0.4, 0.3, 0.2, 0.1]], parents="C"),
             **HEAVY, "T": yes("XYF", "where((X == 'yes') & (Y == 'yes') & (F == 'yes'), 1, 0)")}
    q = both_ways(monkeypatch, small(nodes))
    assert [w.route for w in q._tail.weights][-1] == "R"
    # a route's target reading a heavy parent held at one state (looped innermost)
    nodes = {"A": prior([[0.1, 0.2, 0.3, 0.4]]), "B": prior([[0.25] * 4]),
             "C": prior([[0.4, 0.3, 0.2, 0.1]]), "D": prior([[0.3, 0.3, 0.2, 0.2]]),
             "P": prior([[0.5, 0.5]], states=["p0", "p1"]),
             "E": prior([[0.35, 0.65]], states=["no", "yes"]),
             "R": route("EAP", "min(1, g[A] * b + where(P == 'p1', 0.1, 0))", "E == 'yes'",
                        "E", share="sh"),
             "F": yes("R", "where(R == 'on', 0.9, a * 0.2)"),
             "X": yes("ABCDP", HEAVY["X"]["cpt"]["probabilities"]["yes"]),
             "Y": yes("ABCDP", HEAVY["Y"]["cpt"]["probabilities"]["yes"]),
             "T": yes("XYF", "where((X == 'yes') & (Y == 'yes') & (F == 'yes'), 1, 0)")}
    for kw in ({"do": {"P": "p1"}}, {"evidence": {"P": "p1"}}, {}):
        both_ways(monkeypatch, small(nodes), **kw)


def test_a_route_whose_indicator_is_its_largest_factor_is_summed_not_routed(monkeypatch):
    pytest.importorskip("numba")
    nodes = {"A": prior([[0.1, 0.2, 0.3, 0.4]]), "B": prior([[0.25] * 4]),
             "C": prior([[0.4, 0.3, 0.2, 0.1]]), "D": prior([[0.3, 0.3, 0.2, 0.2]]),
             "R": route("ACD", "min(1, g[A] * b)", "(C == 's1') & (D != 's0')", "CD"),
             "F": yes("R", "where(R == 'on', 0.9, a * 0.2)"),
             **HEAVY, "T": yes("XYF", "where((X == 'yes') & (Y == 'yes') & (F == 'yes'), 1, 0)")}
    q = both_ways(monkeypatch, small(nodes))
    summed = [w for w in q._tail.weights if w.hidden]
    assert [(w.hidden, w.route) for w in summed] == [(("R:route",), "")]


def test_two_routes_computed_in_the_loop(monkeypatch):
    pytest.importorskip("numba")
    g2 = {"index": "B", "values": {s: {"value": 0.2 + 0.1 * i, "range": [0.1 + 0.1 * i,
                                                                        0.3 + 0.1 * i],
                                       "source": "test"} for i, s in enumerate(FOUR)}}
    nodes = {"A": prior([[0.1, 0.2, 0.3, 0.4]]), "B": prior([[0.25] * 4]),
             "C": prior([[0.4, 0.3, 0.2, 0.1]]), "D": prior([[0.3, 0.3, 0.2, 0.2]]),
             "E1": prior([[0.35, 0.65]], states=["no", "yes"]),
             "E2": prior([[0.45, 0.55]], states=["no", "yes"]),
             "R1": route(["E1", "A"], "min(1, g[A] * b)", "E1 == 'yes'", ["E1"]),
             "R2": route(["E2", "B"], "min(1, g2[B] * a)", "E2 == 'yes'", ["E2"], share=0.7),
             "F1": yes(["R1"], "where(R1 == 'on', 0.9, a * 0.2)"),
             "F2": yes(["R2"], "where(R2 == 'on', 0.8, c * 0.2)"),
             # B read most, so looped outermost: R2's weight comes before R1's, whose V is
             # the earlier factor
             "X": yes("ABCD", "min(1, g2[B] * a * where(B == 's1', 2, 1) + where(C == 's2', "
                              "0.05, 0.01) * where(D == 's0', 3, 1) * where(B == 's2', c, b)"
                              " + where(A == 's1', 0.01, 0.02))"),
             "Y": yes("ABCD", "clip(b * g2[B] + where(D == 's3', 0.1, 0)"
                              " - where(C == 's0', 0.05, 0) * where(B == 's0', 0.05, c), 0, 1)"),
             "T": yes(["X", "Y", "F1", "F2"], "where((X == 'yes') & (Y == 'yes')"
                                                      " & (F1 == 'yes') & (F2 == 'yes'), 1, 0)")}
    q = both_ways(monkeypatch, small(nodes, {"g2": g2}))
    routes = [(w.route, w.big) for w in q._tail.weights if w.route]
    assert [r for r, _ in routes] == ["R2", "R1"] and routes[0][1] > routes[1][1]


def test_a_weight_contracted_onto_every_heavy_parent_bounds_the_chunk(monkeypatch,
                                                                      chunk_calls):
    pytest.importorskip("numba")
    eight = [f"s{i}" for i in range(8)]
    nodes = {v: prior([[1 / 8] * 8], states=eight) for v in "ABCD"}
    nodes["E"] = {"states": ["e0", "e1", "e2", "e3", "e4"], "parents": ["A", "B"],
                  "cpt": {"kind": "expression", "source": "test", "probabilities": {
                      "e1": "where(A == 's1', 0.2, 0.1)", "e2": "where(B == 's2', 0.3, 0.1)",
                      "e3": "0.1", "e4": "0.1", "e0": "rest"}}}
    nodes["F"] = yes("ECD", "where(E == 'e1', a, 0.3) * where(C == 's1', 0.9, 0.5)"
                            " * where(D == 's0', b, 0.7)")
    nodes["X"] = yes("ABCD", "min(1, a * where(B == 's1', 2, 1)"
                             " + where(C == 's2', 0.05, 0.01) * where(D == 's0', 3, 1))")
    nodes["T"] = yes("XF", "where((X == 'yes') & (F == 'yes'), 1, 0)")
    network = small(nodes, keep_g=False)
    q = plan_query(network, "T", state="yes")
    # E has five states: summed into a weight over all 4,096 cells, which a chunk writes:
    # 2^19 entries of it would be 128 draws, so MIN_CHUNK's 256 (within the budget's 488)
    assert q._tail.cells == 8 ** 4
    assert q.chunk_size(looped=True) == batched.MIN_CHUNK == 256 < 2_000_000 // 8 ** 4
    monkeypatch.setenv("GMNET_KERNELS", "on")
    q.run(values_for(network, 1000, 2), workers=1)
    assert [size for size, _ in chunk_calls] == [256, 256, 256, 232]


def test_values_that_are_not_numbers_are_named(net):
    from gmnet.errors import InvalidArgumentError

    q = plan_query(net, "harm", state="yes")
    with pytest.raises(InvalidArgumentError, match=r"values: route_share must be a number"):
        q.run({"route_share": ["high"]})
    with pytest.raises(InvalidArgumentError, match=r"values: route_share has no draws"):
        q.run({"route_share": np.array([])})


@pytest.mark.parametrize("kw", [{}, {"evidence": {"shift_type": "extreme"}},
                                {"do": {"ai_control": "on"}}])
def test_a_draw_has_the_same_bits_alone_or_among_others(net, kw):
    # a chunk of one draw is computed as that draw twice: alone, a draw axis of one takes
    # other numpy paths, whose last bits differed (a third of the draws on the contraction)
    q = plan_query(net, "harm", state="yes", **kw)
    values = values_for(net, 40, 3)
    for plan in (q, contraction_of(q)):
        whole = plan.run(values, workers=1)
        assert np.array_equal(plan.run(values, chunk=1, workers=1), whole)
        assert np.array_equal(plan.run(values, chunk=3, workers=1), whole)  # last chunk: 1
        alone = [plan.run({k: v[i:i + 1] if v.shape[0] > 1 else v for k, v in values.items()})
                 for i in range(0, 40, 7)]
        assert np.array_equal(np.concatenate(alone), whole[::7])


# ---------------------------------------------------------------- written-out states
@pytest.mark.parametrize("rule", ["expanded_formula", "relative_risk", "odds_ratio"])
def test_every_rule_written_out_gives_numpy_bits_and_pgmpy(net, monkeypatch, rule):
    # the goal and harm factors as pieces (expanded_formula, relative_risk) or as the helpers'
    # calls (odds_ratio), the goal states written out inside the last loop over the draws
    pytest.importorskip("numba")
    network = net.with_rule(rule)
    q = plan_query(network, "harm", state="yes")
    # a factor's pieces count as the factor in the loops' order (what reads it depends on all
    # its arguments): every rule loops in the same order, as before the pieces
    assert q._tail.looped == (3, 4, 5, 6, 1, 2, 7, 0)
    source = q._tail.kernel().source(tuple(True for _ in q._tail.kernel().params))[0]
    assert source.count("acc += ") == 4
    assert ("_harm(" in source[source.index("def kernel"):]) == (rule == "odds_ratio")
    values = values_for(network, 40, 3)
    monkeypatch.setenv("GMNET_KERNELS", "off")
    plain = q.run(values)[:, 0]
    monkeypatch.setenv("GMNET_KERNELS", "on")
    compiled = q.run(values)[:, 0]
    assert np.array_equal(plain, compiled)
    expected = pgmpy_answer(network, {k: v[:5] for k, v in values.items()}, "harm", None,
                            None)[:, network.states("harm").index("yes")]
    np.testing.assert_allclose(compiled[:5], expected, rtol=0, atol=1e-12)


def test_a_loop_over_one_parent_is_written_out_whole(monkeypatch):
    # the only parent looped over is written out: no loop over the parents at all
    pytest.importorskip("numba")
    monkeypatch.setattr(tail_module, "TAIL_MIN_CELLS", 4)
    nodes = {"A": prior([[0.1, 0.2, 0.3, 0.4]]),
             "X": yes("A", "min(1, g[A] * a + where(A == 's2', 0.05, 0.01))"),
             "Y": yes("A", "clip(b * g[A] - where(A == 's0', 0.05, 0), 0, 1)"),
             "T": yes("XY", "where((X == 'yes') & (Y == 'yes'), 1, 0)")}
    q = both_ways(monkeypatch, small(nodes))
    kernel = q._tail.kernel()
    source = kernel.source(tuple(True for _ in kernel.params))[0]
    assert len(kernel.looped) == 1
    assert "for a" not in source and source.count("acc += ") == 4


def test_a_piece_found_a_level_up_for_some_states_only(monkeypatch):
    # g['s1'] * a is computed a level up (it reads no looped parent); at A = s1 the written-out
    # g[A] * a is that piece, at the other states it is computed
    pytest.importorskip("numba")
    from gmnet.model.kernel_writer import layout

    nodes = {"A": prior([[0.1, 0.2, 0.3, 0.4]]), "B": prior([[0.25] * 4]),
             "C": prior([[0.4, 0.3, 0.2, 0.1]]), "D": prior([[0.3, 0.3, 0.2, 0.2]]),
             "X": yes("ABCD", "min(1, g[A] * a * where(B == 's1', 2, 1)"
                              " + where(C == 's2', 0.05, 0.01) * where(D == 's0', 3, 1))"),
             "Y": yes("ABCD", "clip(g['s1'] * a * where(B == 's0', 1.5, 1)"
                              " + where(D == 's3', 0.1, 0) - where(C == 's0', 0.05, 0), 0, 1)"),
             "T": yes("XY", "where((X == 'yes') & (Y == 'yes'), 1, 0)")}
    q = both_ways(monkeypatch, small(nodes))
    kernel = q._tail.kernel()
    lay = layout(kernel.gen, kernel.looped, kernel.weights, True)
    assert lay.unrolled and kernel.looped[-1] == 0  # A innermost, written out
    mixed = [v for v in lay.same.values() if None in v and any(x is not None for x in v)]
    assert mixed and all(v[1] is not None and v[0] is None for v in mixed)


@pytest.mark.parametrize("terms, written_out", [(4, True), (30, False)])
def test_a_large_body_is_not_written_out(monkeypatch, terms, written_out):
    # a mean of 30 capped terms over an 8-state parent written out is a body of hundreds of
    # conditionals, more than numba's compiler can walk (RecursionError): such a loop keeps
    # its loop over the parent; either way the same bits as numpy
    pytest.importorskip("numba")
    from gmnet.model.kernel_writer import MAX_WRITTEN, _written, layout

    a = [f"a{k}" for k in range(8)]
    b = [f"b{k}" for k in range(40)]

    def ranged(v):
        return {"value": v, "range": [v - 0.05, v + 0.05], "source": "test"}

    mean = " + ".join(f"min(h[B] * {0.1 + k / 100}, g[A] * y)" for k in range(terms))
    network = network_from_dict({"format": "gmnet/1", "name": "large", "parameters": {
        "x": ranged(0.3), "y": ranged(0.6),
        "g": {"index": "A", "values": {s: ranged(0.1 + 0.05 * i) for i, s in enumerate(a)}},
        "h": {"index": "B", "values": {s: ranged(0.1 + 0.01 * i) for i, s in enumerate(b)}}},
        "nodes": {"A": {"states": a, "cpt": {"kind": "uniform", "source": "test"}},
                  "B": {"states": b, "cpt": {"kind": "uniform", "source": "test"}},
                  "X": yes(["A", "B"], f"clip(({mean}) / {terms}, 0, 1)"),
                  "Y": yes(["A", "B"], "min(1, g[A] + h[B] * x)"),
                  "T": yes(["X", "Y"], "where((X == 'yes') & (Y == 'yes'), 1, 0)")}})
    q = both_ways(monkeypatch, network, n=50)
    kernel = q._tail.kernel()
    lay = layout(kernel.gen, kernel.looped, kernel.weights, True)
    assert lay.unrolled is written_out
    # written out: a body within the budget; not: every level above the draws a vector level
    assert (_written(kernel.gen, lay, kernel.looped) <= MAX_WRITTEN) if written_out \
        else lay.vec == len(kernel.looped)
