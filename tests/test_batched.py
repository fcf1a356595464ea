"""The batched engine against pgmpy (to 1e-12), on the bundled network and on random networks.

pgmpy answers one draw at a time from the full CPTs (``posterior(..., engine="pgmpy")``); the
batched engine builds only what a query needs (observed and set states restricted, barren nodes
pruned, the calibrated route factored) and answers all draws in one contraction per chunk.
"""

import dataclasses
import itertools
import zlib

import numpy as np
import pytest

import gmnet
from gmnet.errors import ImpossibleEvidenceError, InvalidArgumentError, UnknownNameError
from gmnet.inference.batched import batched_posterior, plan_query
from gmnet.inference.contraction import DRAW_LABEL, contract_last
from gmnet.inference.query import posterior, resolve_assignments
from gmnet.model.network import network_from_dict

TOLERANCE = 1e-12


def ranged_draws(network, n, seed):
    """Draws of every ranged parameter, uniform over its range."""
    rng = np.random.default_rng(seed)
    return {name: rng.uniform(p.low, p.high, n) for name, p in network.parameters.items()
            if p.ranged}


def pgmpy_answer(network, values, target, evidence, do):
    model = network.compile(values)
    ev = resolve_assignments(network, evidence, what="evidence")
    dd = resolve_assignments(network, do, what="do()")
    return posterior(model, target, ev, dd, engine="pgmpy")


# ============================================================================ random networks
def random_network(seed: int) -> gmnet.Network:
    """A random small network: uniform, prior, expression, table and calibrated-route CPTs,
    indexed and scalar parameters with ranges."""
    rng = np.random.default_rng(seed)
    count = int(rng.integers(5, 8))
    names = [f"v{i}" for i in range(count)]
    cards = {v: int(rng.integers(2, 4)) for v in names}
    route_node = names[-1]  # the last node is a calibrated route when it can be
    nodes, params = {}, {}

    def states(v):
        return [f"s{k}" for k in range(cards[v])]

    def ranged(value):
        lo, hi = max(0.0, value - 0.15), min(1.0, value + 0.15)
        return {"value": round(value, 3), "range": [round(lo, 3), round(hi, 3)],
                "source": "assumption: test"}

    for i, v in enumerate(names):
        earlier = names[:i]
        k = min(len(earlier), int(rng.integers(0, 4)))
        parents = sorted(rng.choice(earlier, size=k, replace=False).tolist(),
                         key=names.index) if k else []
        if v == route_node:
            binary = [p for p in earlier if cards[p] == 2]
            if len(binary) >= 2 and len(earlier) >= 3:
                cards[v] = 2
                route = binary[-2:]
                others = [p for p in earlier if p not in route][:2]
                params[f"g_{v}"] = {"unit": "probability", "index": others[0],
                                    "values": {s: ranged(float(rng.uniform(0.2, 0.7)))
                                               for s in states(others[0])}}
                params[f"share_{v}"] = {"unit": "fraction", **ranged(0.8)}
                nodes[v] = {"states": states(v), "parents": [*others, *route], "cpt": {
                    "kind": "calibrated_route", "state": "s0",
                    "target": f"g_{v}[{others[0]}]",
                    "route": f"({route[0]} == 's1') & ({route[1]} == 's0')",
                    "route_parents": route, "route_share": f"share_{v}"}}
                continue
        if not parents:
            if cards[v] == 2 and rng.random() < 0.6:
                params[f"q_{v}"] = {"unit": "probability",
                                    **ranged(float(rng.uniform(0.2, 0.8)))}
                cpt = {"kind": "prior", "probabilities": {"s0": f"q_{v}", "s1": "rest"}}
            else:
                cpt = {"kind": "uniform", "source": "test"}
        elif rng.random() < 0.25:
            grid = int(np.prod([cards[p] for p in parents]))
            rows = rng.dirichlet(np.ones(cards[v]), size=grid).round(6)
            rows[:, -1] = 1.0 - rows[:, :-1].sum(axis=1)
            cpt = {"kind": "table", "rows": rows.tolist(), "source": "test"}
        else:
            first = parents[0]
            params[f"g_{v}"] = {"unit": "probability", "index": first,
                                "values": {s: ranged(float(rng.uniform(0.2, 0.8)))
                                           for s in states(first)}}
            expr = f"g_{v}[{first}]"
            if len(parents) > 1:
                params[f"h_{v}"] = {"unit": "probability", **ranged(0.5)}
                expr = f"where({parents[1]} == 's0', {expr}, h_{v} * {expr})"
            probabilities = {"s0": expr}
            if cards[v] == 3:
                probabilities["s1"] = f"0.5 * (1 - {expr})"
            probabilities[states(v)[-1]] = "rest"
            cpt = {"kind": "expression", "probabilities": probabilities}
        nodes[v] = {"states": states(v), "parents": parents, "cpt": cpt}
    return network_from_dict({"name": f"random_{seed}", "parameters": params, "nodes": nodes})


def random_queries(network, seed, count):
    """Random (target, evidence, do) triples, evidence possible by construction."""
    rng = np.random.default_rng(seed)
    variables = list(network.variables)
    out = []
    for _ in range(count):
        picked = rng.permutation(variables)[: int(rng.integers(1, min(4, len(variables))))]
        target, rest = str(picked[0]), [str(v) for v in picked[1:]]
        evidence, do = {}, {}
        for v in rest:
            state = str(rng.choice(network.states(v)))
            (do if rng.random() < 0.5 else evidence)[v] = state
        out.append((target, evidence, do))
    return out


@pytest.mark.parametrize("seed", range(10))
def test_random_networks_agree_with_pgmpy(seed):
    network = random_network(seed)
    values = ranged_draws(network, 6, seed)
    checked = 0
    for target, evidence, do in random_queries(network, seed, 5):
        try:
            expected = pgmpy_answer(network, values, target, evidence, do)
        except ImpossibleEvidenceError:
            with pytest.raises(ImpossibleEvidenceError):
                batched_posterior(network, target, evidence=evidence, do=do, values=values)
            continue
        got = batched_posterior(network, target, evidence=evidence, do=do, values=values,
                                chunk=4)
        np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)
        checked += 1
    assert checked >= 3


def test_random_networks_include_calibrated_routes():
    kinds = {random_network(s).node(random_network(s).variables[-1]).cpt.kind
             for s in range(10)}
    assert "calibrated_route" in kinds


# ============================================================================ the bundled network
BUNDLED_QUERIES = [
    ("harm", {"shift_type": "extreme", "spec_quality": "low"}, {"ai_control": "on"}),
    ("harm", {}, {}),
    ("harm", {"anomaly_alarm": "fires"}, {"anomaly_detection": "on"}),
    ("goal_misgeneralizes", {"learned_objective": "proxy"}, {"shift_type": "significant"}),
    ("goal_misgeneralizes", {"capability_transfer": "yes"},
     {"learned_objective": "intended_goal"}),  # do() on a route parent
    ("harm", {"spurious_features_shifted": "no"}, {"goal_misgeneralizes": "yes"}),  # non-root do
    ("shift_type", {"harm": "yes"}, {"capability_level": "superhuman"}),
    ("learned_objective", {"goal_misgeneralizes": "yes", "shift_type": "moderate"},
     {"interpretability_verification": "on"}),
    ("containment", {"behavior_alarm": "fires"}, {"ai_control": "on", "spec_quality": "high"}),
    ("harm", {"goal_misgeneralizes": "no"}, {}),
]


@pytest.mark.parametrize("target, evidence, do", BUNDLED_QUERIES)
def test_bundled_network_agrees_with_pgmpy(net, target, evidence, do):
    values = ranged_draws(net, 12, zlib.crc32(repr((target, evidence, do)).encode()))
    expected = pgmpy_answer(net, values, target, evidence, do)
    got = batched_posterior(net, target, evidence=evidence, do=do, values=values, chunk=2)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


def test_many_draws_agree_with_the_full_contraction(net):
    # 300 draws: the full-CPT einsum engine (checked against pgmpy by the engine tests)
    values = ranged_draws(net, 300, 7)
    evidence, do = {"shift_type": "extreme", "alignment_method": "standard"}, {"ai_control": "on"}
    expected = posterior(net.compile(values), "harm",
                         resolve_assignments(net, evidence, what="e"),
                         resolve_assignments(net, do, what="d"))
    got = batched_posterior(net, "harm", evidence=evidence, do=do, values=values, chunk=64)
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


def test_point_values_reproduce_the_core_table(net):
    context = {**net.metadata["neutral_context"], "shift_type": "extreme"}
    got = batched_posterior(net, "harm", do=context)
    assert got.shape == (1, 2)
    assert got[0, 0] == pytest.approx(0.277, abs=5e-4)
    assert got[0, 0] == pytest.approx(net.query("harm", do=context)["yes"], abs=TOLERANCE)


# ============================================================================ the pieces
def test_restricted_compile_is_the_slice_of_the_full_one(net):
    values = ranged_draws(net, 3, 11)
    full = net.compile(values)
    rng = np.random.default_rng(3)
    for _ in range(15):
        chosen = rng.choice(net.variables, size=3, replace=False)
        restrict = {str(v): int(rng.integers(len(net.states(v)))) for v in chosen}
        part = net.compile(values, restrict=restrict)
        for v in net.variables:
            expected = full.cpts[v]
            for axis, a in enumerate([*net.parents(v), v], start=1):
                if a in restrict:
                    expected = np.take(expected, [restrict[a]], axis=axis)
            np.testing.assert_allclose(part.cpts[v], expected, rtol=0, atol=1e-15)
        for v, i in restrict.items():
            assert part.states[v] == (net.states(v)[i],)


def test_route_factors_multiply_back_to_the_cpt(net):
    values = ranged_draws(net, 4, 5)
    v = "learned_objective"  # the bundled network's calibrated route
    route_state = net.states(v).index("proxy")  # the state the route carries
    for restrict in ({}, {"true_goal_features": 1}, {v: 0, "spec_quality": 2},
                     {v: route_state}, {v: route_state, "shift_type": 3}):
        full = np.moveaxis(net.compile(values, restrict=restrict, nodes=[v]).cpts[v], 0, -1)
        factors = net.compile_factors(values, restrict=restrict, nodes=[v])
        assert len(factors) == 3 and all(labels[0] == f"{v}:route" for _, labels in factors)
        # kept at the route state alone, the first of the three terms is 0 there: dropped
        hidden = 2 if restrict.get(v) == route_state else 3
        assert [arr.shape[0] for arr, _ in factors] == [hidden] * 3
        operands = [x for arr, labels in factors for x in (arr, list(labels))]
        got = contract_last(operands, [*net.parents(v), v, DRAW_LABEL])
        np.testing.assert_allclose(got, full, rtol=0, atol=1e-15)


def test_free_interventions_equal_separate_queries(net):
    values = ranged_draws(net, 4, 9)
    free = ["ai_control", "objective_probing", "emergency_shutdown"]
    got = batched_posterior(net, "harm", evidence={"shift_type": "significant"},
                            do={"spec_quality": "low"}, free_do=free, values=values)
    assert got.shape == (4, 2, 2, 2, 2)
    for states in itertools.product(("on", "off"), repeat=3):
        index = tuple(net.states(m).index(s) for m, s in zip(free, states, strict=True))
        one = batched_posterior(net, "harm", evidence={"shift_type": "significant"},
                                do={"spec_quality": "low", **dict(zip(free, states, strict=True))},
                                values=values)
        np.testing.assert_allclose(got[(slice(None), *index)], one, rtol=0, atol=TOLERANCE)


def test_plan_prunes_barren_nodes_and_unread_parameters(net):
    q = plan_query(net, "capability_transfer", do={"shift_type": "extreme"})
    assert q.nodes == frozenset({"capability_transfer"})
    assert q.parameters == frozenset({"p_capability_transfer.extreme"})
    q = plan_query(net, "harm", evidence={"shift_type": "moderate"})
    assert "p_goal_failure.moderate" in q.parameters
    # every type's goal risk is read (P(proxy) is the largest goal factor), other types'
    # capability transfer is not
    assert "p_goal_failure.extreme" in q.parameters
    assert "p_capability_transfer.moderate" in q.parameters
    assert "p_capability_transfer.extreme" not in q.parameters
    assert "p_capability_transfer.superficial" not in q.parameters


def test_zero_prior_states_are_left_out_exactly(net):
    from gmnet.model.scenarios import apply

    scenario_net, evidence = apply(net, scenario="autonomous_agents")
    q = plan_query(scenario_net, "harm", evidence=evidence)
    assert q.support == {"shift_type": (2, 3)}  # significant, extreme
    values = ranged_draws(scenario_net, 3, 2)
    expected = pgmpy_answer(scenario_net, values, "harm", evidence, {})
    np.testing.assert_allclose(q.run(values), expected, rtol=0, atol=TOLERANCE)


def test_target_fixed_by_do_or_evidence(net):
    values = ranged_draws(net, 3, 1)
    got = batched_posterior(net, "harm", do={"harm": "no"}, values=values)
    np.testing.assert_array_equal(got, [[0.0, 1.0]] * 3)
    got = batched_posterior(net, "harm", evidence={"harm": "yes"}, values=values)
    np.testing.assert_array_equal(got, [[1.0, 0.0]] * 3)


def test_impossible_evidence_is_reported(net):
    # an alarm never fires without its detector
    with pytest.raises(ImpossibleEvidenceError, match="anomaly_alarm=fires"):
        batched_posterior(net, "harm", evidence={"anomaly_alarm": "fires"},
                          do={"anomaly_detection": "off"})
    with pytest.raises(ImpossibleEvidenceError, match=r"do\(anomaly_detection=off\)"):
        batched_posterior(net, "harm", evidence={"anomaly_alarm": "fires"},
                          free_do=["anomaly_detection"])


def test_bad_arguments_name_the_problem(net):
    with pytest.raises(UnknownNameError, match="harmm"):
        plan_query(net, "harmm")
    with pytest.raises(InvalidArgumentError, match="both observed and intervened"):
        plan_query(net, "harm", evidence={"shift_type": "extreme"},
                   do={"shift_type": "moderate"})
    with pytest.raises(InvalidArgumentError, match="free_do"):
        plan_query(net, "harm", do={"ai_control": "on"}, free_do=["ai_control"])
    with pytest.raises(InvalidArgumentError, match="restrict: shift_type needs state indices"):
        net.compile(restrict={"shift_type": 4})
    with pytest.raises(InvalidArgumentError, match="has 3 draws but others have 5"):
        batched_posterior(net, "harm", values={"route_share": np.ones(5),
                                               "m_spec.low": np.ones(3)})
    with pytest.raises(InvalidArgumentError, match="chunk"):
        plan_query(net, "harm").run({}, chunk=0)


def test_chunks_bound_the_largest_factor(net):
    q = plan_query(net, "harm")
    assert q.chunk_size() * q.draw_size <= 2_000_000
    assert q.chunk_size(10) == 10


def test_threads_change_nothing(net):
    values = ranged_draws(net, 900, 21)
    q = plan_query(net, "harm", evidence={"shift_type": "extreme"}, do={"ai_control": "on"})
    seen = []
    one = q.run(values, chunk=100, workers=1)
    two = q.run(values, chunk=100, workers=3, progress=seen.append)
    np.testing.assert_array_equal(one, two)
    assert sum(seen) == 900 and len(seen) == 9


# ============================================================================ robustness (issue 9)
class _FakeLibc:
    """Stands in for the C library: records mallopt calls."""

    def __init__(self, calls):
        self.calls = calls
        self.gnu_get_libc_version = lambda: b"2.36"

        def mallopt(param, value):
            calls.append((param, value))
            return 1

        self.mallopt = mallopt


def test_keep_freed_memory_asks_glibc_once(monkeypatch):
    """Each chunk's arrays were faulted in from the kernel afresh (a third to a half of a
    1,000,000-draw run went there): the command line asks glibc, once, to reuse them; batched
    runs in the library leave the process's allocator alone."""
    import ctypes
    import sys

    from gmnet.cli import main
    from gmnet.inference import allocator

    for key in allocator._MALLOC_ENVIRONMENT:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    calls: list = []
    monkeypatch.setattr(ctypes, "CDLL", lambda name: _FakeLibc(calls))
    monkeypatch.setattr(allocator, "_heap_tuned", False)
    net = gmnet.load_network()
    q = plan_query(net, "harm", evidence={"shift_type": "extreme"})
    q.run(ranged_draws(net, 60, 3), chunk=20, workers=1)  # the library: nothing
    assert calls == []
    assert main(["query", "P(harm=yes)"]) == 0
    assert calls == [(-3, 32 << 20), (-1, 64 << 20)]  # M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
    allocator.keep_freed_memory()
    assert len(calls) == 2  # once per process
    monkeypatch.setattr(allocator, "_heap_tuned", False)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1000000")
    allocator.keep_freed_memory()
    assert len(calls) == 2  # the user's own setting wins


def test_every_path_search_runs_with_the_installed_opt_einsum():
    """Greedy, the cost estimate and the thorough random-greedy search (used when a run is
    large) all work with the installed opt_einsum and give the same numbers."""
    from gmnet.inference import contraction

    rng = np.random.default_rng(5)
    sizes = {"a": 3, "b": 4, "c": 5, "d": 2, "e": 3}
    specs = [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("a", "e"), ("b", "d")]
    operands = []
    for spec in specs:
        operands += [rng.random((*(sizes[x] for x in spec), 7)), [*spec, DRAW_LABEL]]
    greedy = contract_last(operands, ["a", DRAW_LABEL])
    cost = contraction._program_cost(tuple("".join(s) + "z" for s in specs), "az",
                                     tuple(tuple(sizes[x] for x in s) for s in specs))
    assert cost > 0
    thorough = contract_last(operands, ["a", DRAW_LABEL],
                             draws_hint=int(contraction.THOROUGH_PATH_FLOPS / cost) + 1)
    arrays = operands[0::2]
    expected = np.einsum("abz,bcz,cdz,dez,aez,bdz->az", *arrays)
    np.testing.assert_allclose(greedy, expected, rtol=1e-12)
    np.testing.assert_allclose(thorough, expected, rtol=1e-12)
    subs = tuple("".join(s) + "z" for s in specs)
    dims = tuple(tuple(sizes[x] for x in s) for s in specs)
    for thorough in (False, True):  # greedy, and opt_einsum's RandomGreedy(max_repeats=64)
        steps = contraction._pairwise_program(subs, "az", dims, "z", thorough)
        assert len(steps) == len(specs) - 1 and steps[-1][1].endswith("->az")
    model_marginal = contraction._expression(("ab",), ("a",), ((3, 4),))  # optimize="auto"
    assert model_marginal(np.ones((3, 4))).tolist() == [4.0, 4.0, 4.0]


# ============================================================================ one-state plans
def and_network() -> gmnet.Network:
    """a, b -> c = a AND b (a parameter-free 0/1 CPT) -> d: P(d=s0) needs c=s0, so a=b=s0."""
    def ranged(v):
        return {"value": v, "range": [v - 0.1, v + 0.1], "source": "assumption: test"}
    return network_from_dict({
        "name": "and", "parameters": {"qa": {"unit": "probability", **ranged(0.3)},
                                      "qb": {"unit": "probability", **ranged(0.6)},
                                      "qd": {"unit": "probability", "index": "c",
                                             "values": {"s0": ranged(0.7), "s1": ranged(0.2)}}},
        "nodes": {
            "a": {"states": ["s0", "s1"], "cpt": {"kind": "prior",
                                                  "probabilities": {"s0": "qa", "s1": "rest"}}},
            "b": {"states": ["s0", "s1", "s2"], "cpt": {"kind": "prior", "probabilities": {
                "s0": "qb", "s1": "0.5 * (1 - qb)", "s2": "rest"}}},
            "c": {"states": ["s0", "s1"], "parents": ["a", "b"], "cpt": {
                "kind": "expression", "probabilities": {
                    "s0": "where((a == 's0') & (b == 's0'), 1, 0)", "s1": "rest"}}},
            "d": {"states": ["s0", "s1"], "parents": ["c"], "cpt": {
                "kind": "expression", "probabilities": {"s0": "qd[c]", "s1": "rest"}}},
        }})


def test_one_state_plan_prunes_what_a_parameter_free_cpt_rules_out():
    network = and_network()
    q = plan_query(network, "c", state="s0")
    assert q.support == {"a": (0,), "b": (0,)}
    values = ranged_draws(network, 7, 3)
    got = q.run(values)
    assert got.shape == (7, 1)
    np.testing.assert_allclose(got[:, 0], values["qa"] * values["qb"], rtol=0, atol=1e-15)
    # d's CPT reads parameters: nothing upstream of it is pruned by d, only by c
    q = plan_query(network, "d", state="s0")
    assert q.support == {}
    expected = pgmpy_answer(network, values, "d", {}, {})[:, 0]
    np.testing.assert_allclose(q.run(values)[:, 0], expected, rtol=0, atol=TOLERANCE)


def test_one_state_plan_of_harm_fixes_the_failure_pathway(net):
    full, one = plan_query(net, "harm"), plan_query(net, "harm", state="yes")
    named = {v: tuple(net.states(v)[i] for i in kept) for v, kept in one.support.items()}
    assert named == {"goal_misgeneralizes": ("yes",), "containment": ("uncontained",),
                     "harm_if_failed": ("yes",), "capability_transfer": ("yes",),
                     "learned_objective": ("proxy",), "spurious_features_shifted": ("yes",)}
    assert one.parameters == full.parameters
    assert one.draw_size * 2 == full.draw_size


@pytest.mark.parametrize("target, evidence, do", BUNDLED_QUERIES)
def test_one_state_plans_equal_the_distribution(net, target, evidence, do):
    values = ranged_draws(net, 9, zlib.crc32(repr((do, evidence, target)).encode()))
    whole = batched_posterior(net, target, evidence=evidence, do=do, values=values)
    for i, state in enumerate(net.states(target)):
        got = plan_query(net, target, evidence=evidence, do=do, state=state).run(values, chunk=4)
        assert got.shape == (9, 1)
        np.testing.assert_allclose(got[:, 0], whole[:, i], rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("seed", range(6))
def test_one_state_plans_on_random_networks(seed):
    network = random_network(seed)
    values = ranged_draws(network, 5, seed + 100)
    for target, evidence, do in random_queries(network, seed + 7, 4):
        try:
            expected = pgmpy_answer(network, values, target, evidence, do)
        except ImpossibleEvidenceError:
            continue
        for i, state in enumerate(network.states(target)):
            got = plan_query(network, target, evidence=evidence, do=do, state=state).run(values)
            np.testing.assert_allclose(got[:, 0], expected[:, i], rtol=0, atol=TOLERANCE)


def test_one_state_plan_with_the_target_set_or_a_free_intervention(net):
    q = plan_query(net, "shift_type", do={"shift_type": "extreme"}, state="extreme")
    assert q.run({}).tolist() == [[1.0]]
    q = plan_query(net, "shift_type", do={"shift_type": "extreme"}, state="moderate")
    assert q.run({}).tolist() == [[0.0]]
    values = ranged_draws(net, 4, 11)
    free = ["ai_control", "human_override"]
    whole = batched_posterior(net, "harm", do={"shift_type": "extreme"}, free_do=free,
                              values=values)
    one = plan_query(net, "harm", do={"shift_type": "extreme"}, free_do=free, state="yes")
    got = one.run(values)
    assert got.shape == (4, 2, 2, 1)
    np.testing.assert_allclose(got[..., 0], whole[..., 0], rtol=0, atol=TOLERANCE)
    with pytest.raises(UnknownNameError, match="unknown state 'maybe' for harm; choose one of"):
        plan_query(net, "harm", state="maybe")


def test_observed_roots_are_computed_as_set_and_still_checked(net):
    from gmnet.model.scenarios import apply

    evidence = {"spec_quality": "low", "shift_type": "extreme", "behavior_alarm": "quiet"}
    q = plan_query(net, "harm", evidence=evidence, state="yes")
    assert dict(q.observed_roots) == {"spec_quality": 2, "shift_type": 3}
    assert not q.target_fixed  # the alarm is observed below the target's parents
    q = plan_query(net, "harm", evidence={"spec_quality": "low", "shift_type": "extreme"},
                   state="yes")
    assert q.target_fixed and "spec_quality" not in q.nodes
    values = ranged_draws(net, 5, 8)
    expected = pgmpy_answer(net, values, "harm", evidence, {})
    got = plan_query(net, "harm", evidence=evidence, state="yes").run(values)
    np.testing.assert_allclose(got[:, 0], expected[:, 0], rtol=0, atol=TOLERANCE)
    # a root whose prior rules the observed state out is still impossible evidence
    scenario_net, _ = apply(net, scenario="autonomous_agents")
    for state in (None, "yes"):
        q = plan_query(scenario_net, "harm", evidence={"shift_type": "superficial"},
                       state=state)
        with pytest.raises(ImpossibleEvidenceError, match=r"\(shift_type=superficial\)"):
            q.run(values)


def test_plans_are_reused_per_network_and_question(net):
    q = plan_query(net, "harm", evidence={"shift_type": "extreme"}, state="yes")
    assert plan_query(net, "harm", evidence={"shift_type": "extreme"}, state="yes") is q
    assert plan_query(net, "harm", evidence={"shift_type": "moderate"}, state="yes") is not q
    assert plan_query(net, "harm", evidence={"shift_type": "extreme"}) is not q
    other = net.with_parameters({"route_share": 0.5})
    assert plan_query(other, "harm", evidence={"shift_type": "extreme"}, state="yes") is not q


def test_chunks_stay_in_cache_but_not_too_small(net):
    from gmnet.inference import batched

    for q in (plan_query(net, "harm"), plan_query(net, "harm", state="yes"),
              plan_query(net, "harm", do={"shift_type": "extreme"}, state="yes")):
        size = q.chunk_size()
        assert size * q.draw_size <= batched.CHUNK_BUDGET_ENTRIES
        assert size >= min(batched.MIN_CHUNK, batched.CHUNK_BUDGET_ENTRIES // q.draw_size)
        assert size == min(batched.DEFAULT_CHUNK, max(
            batched.CHUNK_CACHE_ENTRIES // q.draw_size,
            min(batched.MIN_CHUNK, batched.CHUNK_BUDGET_ENTRIES // q.draw_size)))
    # a product-sum's compiled loop writes no heavy CPT (nor the route's V, which it
    # computes) and keeps its vectors over a tile of draws: what it writes bounds the chunk
    # (the largest: containment's 64 entries a draw, 4 MB of it)
    nothing_held = plan_query(net, "harm", state="yes")
    tail = nothing_held._tail
    assert tail is not None and tail.cells == 64
    assert nothing_held.chunk_size() == 256
    assert nothing_held.chunk_size(looped=True) == batched.TAIL_WRITTEN_ENTRIES // 64 == 8192
    assert nothing_held.chunk_size(chunk=10, looped=True) == 10
    # ... and never past the budget, nor below MIN_CHUNK draws within it
    other = dataclasses.replace(nothing_held)  # a copy, its product-sum replaced
    other.__dict__["_tail"] = dataclasses.replace(tail, cells=batched.CHUNK_BUDGET_ENTRIES // 100)
    assert other.chunk_size(looped=True) == 100
    other.__dict__["_tail"] = dataclasses.replace(tail, cells=4096)  # 128 draws: 256
    assert other.chunk_size(looped=True) == batched.MIN_CHUNK


def test_a_run_in_blocks_is_as_large_as_the_whole(net, monkeypatch, chunk_calls):
    # uncertainty answers a long run block by block: the whole run's draws, not one block's,
    # decide whether it is large enough to compile loops (FUSED_RUN_ENTRIES)
    from gmnet.analysis import uncertainty as module

    monkeypatch.setattr(module, "SAMPLE_BLOCK", 100)
    whole = module.uncertainty(net, "harm", "yes", samples=300, rng=4, chunk=50)
    efforts = [effort for _, effort in chunk_calls]
    # three blocks of two chunks each (besides the moving-input check; the point value is the
    # exact engine's)
    assert efforts.count(300) == 6 and 100 not in efforts
    monkeypatch.setattr(module, "SAMPLE_BLOCK", 1000)
    np.testing.assert_array_equal(
        module.uncertainty(net, "harm", "yes", samples=300, rng=4, chunk=50).draws, whole.draws)
    assert plan_query(net, "harm").run({}, effort=10**9).shape == (1, 2)


@pytest.mark.parametrize("which", ["bundled", "and", *range(6)])
def test_the_kept_zero_patterns_are_the_restricted_builds(net, which):
    """Planning slices each parameter-free CPT's zero pattern, built once on every state: the
    same pattern as building the CPT restricted, for any restriction (evidence at one state,
    kept subsets, a state of the node itself)."""
    from gmnet.inference.needs import _nonzero

    network = {"bundled": net, "and": and_network()}.get(which) or random_network(which)
    constant = [v for v in network.variables
                if network.node(v).cpt.kind != "calibrated_route"
                and not network.parameters_for([v])]
    assert constant or which not in ("bundled", "and")
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(40):
        restrict = {}
        for var in network.variables:
            card = len(network.states(var))
            how = rng.random()
            if how < 0.25:
                restrict[var] = int(rng.integers(card))
            elif how < 0.5 and card > 1:
                restrict[var] = tuple(sorted(rng.choice(card, rng.integers(1, card),
                                                        replace=False).tolist()))
        for v in constant:
            want = [(np.asarray(a)[..., 0] != 0, labels) for a, labels in
                    network.compile_factors({}, restrict=restrict, nodes=[v])]
            got = _nonzero(network, v, restrict)
            assert [labels for _, labels in got] == [labels for _, labels in want]
            for (g, _), (w, _) in zip(got, want, strict=True):
                assert g.shape == w.shape and np.array_equal(g, w)
                checked += 1
    assert checked >= 40 * len(constant)
