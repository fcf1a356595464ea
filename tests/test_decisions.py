"""Decisions: portfolios, value of information, break-even and bounds, against brute force."""

import itertools
import json
import math

import numpy as np
import pytest
from scipy.special import betainc

import gmnet
from gmnet.analysis.bounds import bounds
from gmnet.analysis.decision_question import baseline_question
from gmnet.analysis.portfolios import pareto_frontier, portfolio_analysis
from gmnet.analysis.thresholds import break_even, value_for_target
from gmnet.analysis.voi import evppi_regression, observation_values, value_of_information
from gmnet.cli import main
from gmnet.errors import InvalidArgumentError
from gmnet.model.network import network_from_dict

EXTREME = {"shift_type": "extreme"}


@pytest.fixture(scope="module")
def bundled():
    return gmnet.load_network()


@pytest.fixture(scope="module")
def point_analysis(bundled):
    return portfolio_analysis(bundled, do=EXTREME, budget=4.5, samples=0)


def _toy_decision():
    return network_from_dict({
        "format": "gmnet/1", "name": "toy_decision",
        "parameters": {
            "p_off": {"value": 0.3, "range": [0.1, 0.5], "source": "test"},
            "p_on": {"value": 0.25, "source": "test"},
            "cost_guard": {"unit": "cost", "value": 1.0, "source": "test"},
        },
        "nodes": {
            "guard": {"states": ["on", "off"], "role": "mitigation", "phase": "prevention",
                      "cpt": {"kind": "uniform", "source": "test"}},
            "harm": {"states": ["yes", "no"], "parents": ["guard"], "role": "outcome",
                     "phase": "outcome",
                     "cpt": {"kind": "expression", "source": "test", "probabilities": {
                         "yes": "where(guard == 'on', p_on, p_off)", "no": "rest"}}},
        },
    })


def _toy_ranged():
    def p(value, low, high):
        return {"value": value, "range": [low, high], "source": "test"}

    return network_from_dict({
        "format": "gmnet/1", "name": "toy_ranged",
        "parameters": {"p_a": p(0.3, 0.1, 0.6), "p_b_a": p(0.8, 0.6, 0.9),
                       "p_b_na": p(0.2, 0.05, 0.4), "p_c_b": p(0.7, 0.5, 0.95),
                       "p_c_nb": p(0.1, 0.0, 0.3)},
        "nodes": {
            "A": {"states": ["yes", "no"], "cpt": {"kind": "prior", "source": "test",
                                                   "probabilities": {"yes": "p_a", "no": "rest"}}},
            "B": {"states": ["yes", "no"], "parents": ["A"], "cpt": {
                "kind": "expression", "source": "test",
                "probabilities": {"yes": "where(A == 'yes', p_b_a, p_b_na)", "no": "rest"}}},
            "C": {"states": ["yes", "no"], "parents": ["B"], "cpt": {
                "kind": "expression", "source": "test",
                "probabilities": {"yes": "where(B == 'yes', p_c_b, p_c_nb)", "no": "rest"}}},
        },
    })


# ============================================================================ portfolios
def test_every_portfolio_equals_a_direct_query(bundled, point_analysis):
    q = point_analysis.question
    for row in point_analysis.rows:
        direct = bundled.query("harm", evidence=q.evidence, do=q.do_for(row.mitigations))["yes"]
        assert row.p_harm == pytest.approx(direct, abs=1e-12)
        expected_cost = sum(bundled.parameters[f"cost_{m}"].value for m in row.mitigations)
        assert row.cost == pytest.approx(expected_cost, abs=1e-12)
    assert point_analysis.row([]).p_harm == pytest.approx(0.277, abs=5e-4)


def test_best_under_budget_is_the_brute_force_optimum(point_analysis):
    feasible = [r for r in point_analysis.rows if r.cost <= 4.5 + 1e-12]
    optimum = min(feasible, key=lambda r: (r.p_harm, r.cost))
    assert point_analysis.best_row.p_harm == pytest.approx(optimum.p_harm, abs=1e-12)
    assert point_analysis.best_row.cost <= 4.5
    assert all(r.feasible == (r.cost <= 4.5 + 1e-12) for r in point_analysis.rows)


def test_frontier_has_no_dominated_portfolio_and_misses_none(point_analysis):
    rows = point_analysis.rows

    def dominated(r):
        return any(o.cost <= r.cost and o.p_harm <= r.p_harm + 1e-12
                   and (o.cost < r.cost or o.p_harm < r.p_harm - 1e-12) for o in rows)

    for r in rows:
        assert r.on_frontier == (not dominated(r)), r.mitigations
    assert len(point_analysis.frontier) >= 3


def test_pareto_frontier_small_case():
    mask = pareto_frontier(np.array([0.0, 1.0, 1.0, 2.0]), np.array([0.5, 0.4, 0.3, 0.3]))
    assert mask.tolist() == [True, False, True, False]


def test_draws_give_intervals_and_p_best(bundled):
    a = portfolio_analysis(bundled, do=EXTREME, budget=4.5, samples=300, rng=3)
    total = sum(r.p_best for r in a.rows)
    assert total == pytest.approx(1.0)
    assert all(r.p_best == 0 for r in a.rows if not r.feasible)
    for r in a.rows:
        assert r.interval[0] <= r.interval[1]
    again = portfolio_analysis(bundled, do=EXTREME, budget=4.5, samples=300, rng=3)
    assert [r.p_best for r in again.rows] == [r.p_best for r in a.rows]
    frame = a.to_frame(frontier_only=True)
    assert list(frame.columns)[:4] == ["size", "cost", "p_harm", "low"]
    assert len(frame) == len(a.frontier)


def test_cost_weight_trades_risk_for_cost(bundled):
    a = portfolio_analysis(bundled, do=EXTREME, cost_weight=0.05, samples=0)
    losses = [r.p_harm + 0.05 * r.cost for r in a.rows]
    assert a.best_row.loss == pytest.approx(min(losses), abs=1e-12)


def test_portfolios_cli_json(capsys):
    assert main(["portfolios", "--json", "--samples", "100", "--budget", "3",
                 "--given", "do(shift_type=extreme)"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["portfolios"]) == 512
    first = out["portfolios"][0]
    assert set(first) >= {"mitigations", "cost", "p_harm", "interval", "on_frontier"}
    assert out["budget"] == 3.0
    assert out["best"]["cost"] <= 3.0
    assert out["held"]["spec_quality"] == "medium"
    best = min((p for p in out["portfolios"] if p["cost"] <= 3.0),
               key=lambda p: (p["p_harm"], p["cost"]))
    assert out["best"]["p_harm"] == pytest.approx(best["p_harm"])


@pytest.mark.parametrize("args, message", [
    (["portfolios", "--budget", "-1"], "--budget must be a number >= 0"),
    (["voi", "--portfolio", "ai_contrl", "--samples", "0"], "unknown mitigation 'ai_contrl'"),
    (["threshold", "m_spec.medium", "--span", "2", "1"], "--span must be two finite numbers"),
    (["portfolios", "--given", "ai_control=on"], "ai_control is a mitigation"),
])
def test_cli_bad_input_is_one_line(capsys, args, message):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_missing_cost_names_the_parameter(bundled):
    from gmnet.analysis.portfolios import mitigation_costs

    with pytest.raises(InvalidArgumentError, match="cost_nothing"):
        mitigation_costs(bundled, ["nothing"])


# ============================================================================ observations
def _entropy(ps):
    return -sum(p * math.log2(p) for p in ps if p > 0)


def test_observation_values_equal_direct_queries(bundled):
    q = baseline_question(bundled)  # shift type unobserved
    portfolio = ("ai_control", "behavior_monitoring")
    do = q.do_for(portfolio)
    h, values = observation_values(bundled, q, portfolio)
    prior = bundled.query("harm", do=do)
    assert h == pytest.approx(_entropy(prior.values()), abs=1e-12)
    assert {v.variable for v in values} >= {"shift_type", "goal_misgeneralizes", "behavior_alarm"}
    for v in values:
        px = bundled.query(v.variable, do=do)
        after = 0.0
        var_after = 0.0
        for x, p in px.items():
            if p <= 0:
                continue
            post = bundled.query("harm", evidence={v.variable: x}, do=do)
            after += p * _entropy(post.values())
            var_after += p * post["yes"] * (1 - post["yes"])
        assert v.entropy_reduction == pytest.approx(h - after, abs=1e-9), v.variable
        var = prior["yes"] * (1 - prior["yes"])
        assert v.variance_reduction == pytest.approx(var - var_after, abs=1e-9), v.variable


# ============================================================================ EVPPI
def test_evppi_matches_the_closed_form_on_a_toy_network():
    net = _toy_decision()
    r = value_of_information(net, samples=20_000, rng=5, bootstrap=20)
    # theta = 0.1 + 0.4 X, X ~ Beta(3, 3) (PERT with mode 0.3); guard on costs 0.25 for sure
    c = (0.25 - 0.1) / 0.4
    closed = 0.4 * (c * betainc(3, 3, c) - 0.5 * betainc(4, 3, c))
    (p,) = r.parameters
    assert p.name == "p_off"
    assert abs(p.evppi - closed) <= 4 * p.se + 2e-4
    assert abs(r.evpi - closed) <= 4 * r.evpi_se + 2e-4
    assert 0 <= p.evppi <= r.evpi
    assert r.best == ("guard",)


def test_evppi_regression_is_never_negative_and_zero_without_signal():
    rng = np.random.default_rng(1)
    theta = rng.uniform(0, 1, 3000)
    noise = rng.uniform(0, 1, 3000)
    losses = np.column_stack([theta, np.full(3000, 0.5)])
    est, se = evppi_regression(losses, noise, bootstrap=10, rng=2)
    assert 0 <= est < 0.01
    est, se = evppi_regression(losses, theta, bootstrap=10, rng=2)
    assert est == pytest.approx(0.125, abs=4 * se + 2e-3)


def test_evppi_on_the_bundled_network_is_bounded_by_evpi(bundled):
    # with every Critical Unknown drawn (interpretability feasibility is opt-in by default)
    r = value_of_information(bundled, do=EXTREME, budget=7, samples=1500, rng=0, bootstrap=5,
                             unknowns="all")
    assert r.evpi > 0
    assert all(0 <= p.evppi <= r.evpi + 1e-15 for p in r.parameters)
    top = r.parameters[0]
    assert top.name == "unknown:interpretability_feasibility"
    assert top.document.startswith("Critical Unknowns: interpretability feasibility")
    d = r.to_dict()
    assert set(d) >= {"target", "observations", "parameters", "evpi"}
    assert set(d["observations"][0]) >= {"variable", "entropy_reduction"}
    assert set(d["parameters"][0]) >= {"name", "evppi"}


# ============================================================================ thresholds
def test_break_even_between_two_portfolios_is_where_they_tie(bundled):
    b = break_even(bundled, "m_interpretability_verification", do=EXTREME,
                   between=(["interpretability_verification"], ["ai_control"]))
    (c,) = b.crossings
    q = b.question
    for value, better in ((c.value - 1e-6, 0), (c.value + 1e-6, 1)):
        net = bundled.with_parameters({"m_interpretability_verification": value})
        iv = net.query("harm", do=q.do_for(["interpretability_verification"]))["yes"]
        ctrl = net.query("harm", do=q.do_for(["ai_control"]))["yes"]
        assert (iv < ctrl) == (better == 0)
    assert c.before == ("interpretability_verification",) and c.after == ("ai_control",)


def test_break_even_of_the_best_choice_matches_brute_force(bundled):
    b = break_even(bundled, "cost_ai_control", do=EXTREME, budget=4.5)
    assert b.crossings
    for c in b.crossings[:3]:
        for value, expected in ((c.value - 1e-6, c.before), (c.value + 1e-6, c.after)):
            net = bundled.with_parameters({"cost_ai_control": value})
            a = portfolio_analysis(net, do=EXTREME, budget=4.5, samples=0)
            assert a.best_row.mitigations == expected


def test_value_for_target_brings_the_answer_to_x(bundled):
    v = value_for_target(bundled, "ai_control_reduction", 0.05, portfolio=["ai_control"],
                         do=EXTREME)
    (x,) = v.crossings
    net = bundled.with_parameters({"ai_control_reduction": x})
    p = net.query("harm", do=v.question.do_for(["ai_control"]))["yes"]
    assert p == pytest.approx(0.05, abs=1e-7)
    assert v.below[0][1] == 1.0 and v.below[0][0] == pytest.approx(x)


# ============================================================================ bounds
def _corner_search(net, names, target, state, evidence):
    values = []
    for corner in itertools.product(*[(net.parameters[n].low, net.parameters[n].high)
                                      for n in names]):
        changed = net.with_parameters({n: {"value": v, "range": [net.parameters[n].low,
                                                                 net.parameters[n].high]}
                                       for n, v in zip(names, corner, strict=True)})
        values.append((changed.query(target, evidence=evidence)[state], corner))
    return min(values), max(values)


@pytest.mark.parametrize("target, state, evidence", [
    ("A", "yes", {"C": "yes"}), ("C", "yes", {}), ("B", "no", {"C": "no"})])
def test_bounds_equal_exhaustive_corner_search(target, state, evidence):
    net = _toy_ranged()
    b = bounds(net, target=target, state=state, evidence=evidence, samples=500, rng=1)
    assert b.exhaustive
    names = sorted(b.ranged + b.inert)
    (lo, lo_at), (hi, hi_at) = _corner_search(net, names, target, state, evidence)
    assert b.minimum.value == pytest.approx(lo, abs=1e-12)
    assert b.maximum.value == pytest.approx(hi, abs=1e-12)
    check = net.with_parameters({n: {"value": v, "range": [net.parameters[n].low,
                                                           net.parameters[n].high]}
                                 for n, v in b.maximum.settings.items()})
    assert check.query(target, evidence=evidence)[state] == pytest.approx(hi, abs=1e-12)
    assert b.corners_suffice
    assert b.minimum.value <= b.pert_interval[0] <= b.pert_interval[1] <= b.maximum.value


def test_bounds_corners_cover_an_interior_grid():
    net = _toy_ranged()
    b = bounds(net, target="A", state="yes", evidence={"C": "yes"}, samples=0)
    names = list(b.ranged)
    grid = [np.linspace(net.parameters[n].low, net.parameters[n].high, 3) for n in names]
    for point in itertools.product(*grid):
        changed = net.with_parameters(dict(zip(names, point, strict=True)))
        p = changed.query("A", evidence={"C": "yes"})["yes"]
        assert b.minimum.value - 1e-12 <= p <= b.maximum.value + 1e-12


def test_bounds_on_the_bundled_network_at_an_extreme_shift(bundled):
    b = bounds(bundled, do=EXTREME, samples=0)
    assert b.exhaustive
    assert set(b.ranged) == {"m_spec.medium", "p_harm_given_failure.extreme"}
    assert b.minimum.value == pytest.approx(0.8 * 0.45 * 0.75 * 0.5, abs=1e-12)
    assert b.maximum.value == pytest.approx(1.2 * 0.45 * 0.75 * 0.8207407407407408, abs=1e-9)


def test_best_pair_is_the_brute_force_best_pair(bundled):
    a = portfolio_analysis(bundled, do=EXTREME, max_size=2, samples=0)
    pairs = [r for r in a.rows if len(r.mitigations) <= 2]
    optimum = min(pairs, key=lambda r: (r.p_harm, r.cost))
    assert a.best_row.mitigations == optimum.mitigations == (
        "interpretability_verification", "ai_control")
    assert a.best_row.p_harm == pytest.approx(0.0312, abs=1e-4)


def test_a_users_cost_changes_the_choice(bundled):
    cheap = bundled.with_parameters({"cost_interpretability_verification": 0.5})
    a = portfolio_analysis(cheap, do=EXTREME, budget=2.0, samples=0)
    assert "interpretability_verification" in a.best_row.mitigations
    assert a.member_costs["interpretability_verification"]["cost"] == 0.5
    b = portfolio_analysis(bundled, do=EXTREME, budget=2.0, samples=0)
    assert "interpretability_verification" not in b.best_row.mitigations


def test_evppi_of_a_two_valued_unknown_is_the_exact_two_bin_value():
    # a Critical Unknown drawn as 0/1 (interpretability feasibility): regression on its
    # indicator gives the conditional means themselves
    rng = np.random.default_rng(4)
    u = (rng.random(5000) < 0.5).astype(float)
    losses = np.column_stack([0.3 - 0.2 * u + rng.normal(0, 0.05, 5000),
                              np.full(5000, 0.22), 0.25 + 0.01 * rng.normal(size=5000)])
    est, _ = evppi_regression(losses, u, bootstrap=5, rng=0)
    by_bin = sum((u == b).mean() * losses[u == b].mean(axis=0).min() for b in (0.0, 1.0))
    assert est == pytest.approx(losses.mean(axis=0).min() - by_bin, abs=1e-12)


def test_every_result_has_a_frame(bundled):
    voi = value_of_information(bundled, do=EXTREME, budget=7, samples=300, rng=0, bootstrap=3)
    frame = voi.to_frame()
    assert frame.index[0] == voi.parameters[0].name and "evppi" in frame.columns
    obs = voi.to_frame("observations")
    assert obs["entropy_reduction"].iloc[0] == pytest.approx(voi.observations[0].entropy_reduction)
    with pytest.raises(gmnet.UnknownNameError, match="table"):
        voi.to_frame("nope")
    b = break_even(bundled, "cost_ai_control", do=EXTREME, budget=4.5)
    assert b.to_frame()["value"].tolist() == [c.value for c in b.crossings]
    v = value_for_target(bundled, "ai_control_reduction", 0.05, portfolio=["ai_control"],
                         do=EXTREME)
    assert v.to_frame().to_dict("records") == [{"low": v.below[0][0], "high": 1.0}]
    bd = bounds(bundled, do=EXTREME, samples=0)
    assert bd.to_frame().loc["m_spec.medium"].tolist() == [0.8, 1.2]
