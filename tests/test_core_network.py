"""The bundled network reproduces the source document's numbers exactly."""

import itertools

import numpy as np
import pytest

import gmnet
from gmnet.analysis.whatif import core_table, neutral_context, what_if

CAP = {"superficial": 0.85, "moderate": 0.65, "significant": 0.55, "extreme": 0.45}
GOAL = {"superficial": 0.12, "moderate": 0.28, "significant": 0.55, "extreme": 0.75}
PM = {"superficial": 0.036, "moderate": 0.100, "significant": 0.218, "extreme": 0.277}
M_SPEC = {"high": 0.6, "medium": 1.0, "low": 1.75}
M_CAP = {"below_human": 0.5, "human_level": 1.0, "superhuman": 3.0}
M_DIV = {"diverse": 0.7, "moderate": 1.0, "narrow": 1.4}
M_ALIGN = {"interpretability_verified": 0.4, "standard": 1.0, "behavioral_cloning": 1.5}
CONTEXT = ("shift_type", "spec_quality", "capability_level", "training_diversity",
           "alignment_method")


def odds_combine(p, *ms):
    odds = p / (1 - p) * np.prod(ms)
    return odds / (1 + odds)


@pytest.mark.parametrize("shift", list(PM))
def test_core_table_p_harm_per_shift_type(net, shift):
    do = {**neutral_context(net), "shift_type": shift}
    assert net.query("harm", do=do)["yes"] == pytest.approx(PM[shift], abs=1e-12)


def test_core_table_rows(net):
    rows = {r.shift_type: r for r in core_table(net)}
    for shift in PM:
        assert rows[shift].p_capability_transfer == pytest.approx(CAP[shift], abs=1e-12)
        assert rows[shift].p_goal_fails_given_capability == pytest.approx(GOAL[shift], abs=1e-12)
        assert rows[shift].p_harmful_misgeneralization == pytest.approx(PM[shift], abs=1e-12)
        assert rows[shift].p_harm_given_failure == pytest.approx(
            PM[shift] / (CAP[shift] * GOAL[shift]), abs=1e-12)


@pytest.mark.parametrize("rule", ["relative_risk", "odds_ratio"])
def test_factor_marginals_hold_for_every_context(net, rule):
    network = net.with_rule(rule)
    base = neutral_context(network)
    for combo in itertools.product(*(network.states(v) for v in CONTEXT)):
        ctx = dict(zip(CONTEXT, combo, strict=True))
        shift, spec, cap, div, align = combo
        do = {**base, **ctx}
        assert network.query("capability_transfer", do=do)["yes"] == pytest.approx(
            CAP[shift], abs=1e-9)
        g = network.query("goal_misgeneralizes", evidence={"capability_transfer": "yes"},
                          do=do)["yes"]
        h = network.query("harm", evidence={"goal_misgeneralizes": "yes"}, do=do)["yes"]
        h0 = PM[shift] / (CAP[shift] * GOAL[shift])
        if rule == "relative_risk":
            g_expected = min(1.0, GOAL[shift] * M_SPEC[spec] * M_DIV[div] * M_ALIGN[align])
            h_expected = min(1.0, h0 * M_CAP[cap])
        else:
            g_expected = odds_combine(GOAL[shift], M_SPEC[spec], M_DIV[div], M_ALIGN[align])
            h_expected = odds_combine(h0, M_CAP[cap])
        assert g == pytest.approx(g_expected, abs=1e-9), (rule, ctx)
        assert h == pytest.approx(h_expected, abs=1e-9), (rule, ctx)
        # no goal failure without capability transfer, no harm without goal failure
        assert network.query("goal_misgeneralizes", evidence={"capability_transfer": "no"},
                             do=do)["yes"] == 0.0
        assert network.query("harm", evidence={"goal_misgeneralizes": "no"}, do=do)["yes"] == 0.0


def test_odds_ratio_rule_keeps_the_core_table_and_differs_off_neutral(net):
    odds = net.with_rule("odds_ratio")
    do = {**neutral_context(net), "shift_type": "extreme"}
    assert odds.query("harm", do=do)["yes"] == pytest.approx(0.277, abs=1e-12)
    worse = {**do, "spec_quality": "low"}
    rr = net.query("harm", do=worse)["yes"]
    orr = odds.query("harm", do=worse)["yes"]
    # relative risk caps goal failure at 1 (0.75 x 1.75 > 1); odds ratio gives 0.84
    assert rr == pytest.approx(0.45 * 1.0 * PM["extreme"] / (0.45 * 0.75), abs=1e-12)
    assert orr == pytest.approx(0.45 * odds_combine(0.75, 1.75) * PM["extreme"] / (0.45 * 0.75),
                                abs=1e-12)
    assert rr > orr


def test_route_carries_goal_failure_through_the_pathway(net):
    # with share 1 and a context where the route can carry it all, goal failure needs a learned
    # proxy meeting shifted spurious features
    do = {**neutral_context(net), "shift_type": "superficial"}
    post = net.query("learned_objective", evidence={"goal_misgeneralizes": "yes"}, do=do)
    assert post["proxy"] == pytest.approx(1.0, abs=1e-12)
    shifted = net.query("spurious_features_shifted", evidence={"goal_misgeneralizes": "yes"},
                        do=do)
    assert shifted["yes"] == pytest.approx(1.0, abs=1e-12)


def test_what_if_interpretability_verification(net):
    base = {**neutral_context(net), "shift_type": "extreme", "spec_quality": "low"}
    result = what_if(net, "harm", "yes", baseline_do=base,
                     intervention={"alignment_method": "interpretability_verified"})
    # before: 0.45 x min(1, 0.75 x 1.75) x 0.8207; after: 0.45 x 0.75 x 1.75 x 0.4 x 0.8207
    h = PM["extreme"] / (0.45 * 0.75)
    assert result.before == pytest.approx(0.45 * 1.0 * h, abs=1e-12)
    assert result.after == pytest.approx(0.45 * 0.75 * 1.75 * 0.4 * h, abs=1e-12)
    assert result.relative_change == pytest.approx(0.75 * 1.75 * 0.4 - 1, abs=1e-12)


def test_network_is_never_mutated(net):
    before = {v: net.cpt(v).copy() for v in net.variables}
    other = net.with_parameters({"p_goal_failure.extreme": 0.5})
    net.query("harm", evidence={"shift_type": "extreme"}, do={"capability_transfer": "yes"})
    for v in net.variables:
        np.testing.assert_array_equal(net.cpt(v), before[v])
    assert net.parameter("p_goal_failure.extreme").value == 0.75
    assert other.parameter("p_goal_failure.extreme").value == 0.5
    with pytest.raises(ValueError):
        net.compiled.cpts["harm"][0, 0] = 1.0  # read-only arrays


def test_with_parameters_changes_the_answer(net):
    do = {**neutral_context(net), "shift_type": "extreme"}
    other = net.with_parameters({"p_goal_failure.extreme": {"value": 0.5, "range": [0.4, 0.6],
                                                            "source": "test"}})
    assert other.query("harm", do=do)["yes"] == pytest.approx(0.45 * 0.5 * 0.277 / (0.45 * 0.75),
                                                              abs=1e-12)
    with pytest.raises(gmnet.GmnetError, match="does not contain the point value"):
        net.with_parameters({"p_goal_failure.extreme": {"value": 0.9, "range": [0.4, 0.6]}})
    with pytest.raises(gmnet.UnknownNameError, match="p_goal_failure.extreme"):
        net.with_parameters({"p_goal_failure.extrme": 0.5})


def test_every_number_has_a_source(net):
    for p in net.parameters.values():
        assert p.source.strip(), p.name
        if p.low is not None:
            assert p.low <= p.value <= p.high, p.name


def test_to_pgmpy_gives_the_same_cpts(net):
    bn = gmnet.to_pgmpy(net)
    assert set(bn.nodes()) == set(net.variables)
    cpd = bn.get_cpds("capability_transfer")
    assert list(cpd.state_names["capability_transfer"]) == ["yes", "no"]
    np.testing.assert_allclose(cpd.values[0], [0.85, 0.65, 0.55, 0.45], atol=1e-15)
    assert bn.check_model()


@pytest.mark.parametrize("override, message", [
    ("abc", "override of m_spec.low: expected a number, got 'abc'"),
    (None, "override of m_spec.low: expected a number, got None"),
    (True, "override of m_spec.low: expected a number, got True"),
    ({"value": 1.6, "range": [1.5]}, "override of m_spec.low: range must be [low, high]"),
    ({"value": 1.6, "colour": 1}, "override of m_spec.low: unknown key 'colour'"),
    (float("nan"), "override of m_spec.low: value and range must be finite numbers"),
    (-2.0, "override of m_spec.low: multiplier -2.0 is negative"),
])
def test_bad_overrides_are_gmnet_errors(net, override, message):
    with pytest.raises(gmnet.InvalidArgumentError) as info:
        net.with_parameters({"m_spec.low": override})
    assert str(info.value).startswith(message)
