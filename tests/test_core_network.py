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


def expected_factors(rule, shift, spec, cap, div, align):
    """P(goal fails | capability) and P(harm | goal fails) by hand, for each rule."""
    g0 = GOAL[shift] * M_SPEC[spec] * M_DIV[div] * M_ALIGN[align]
    h0 = PM[shift] / (CAP[shift] * GOAL[shift]) * M_CAP[cap]
    if rule == "relative_risk":
        return min(1.0, g0), min(1.0, h0)
    if rule == "odds_ratio":
        h = PM[shift] / (CAP[shift] * GOAL[shift])
        return (odds_combine(GOAL[shift], M_SPEC[spec], M_DIV[div], M_ALIGN[align]),
                odds_combine(h, M_CAP[cap]))
    # expanded formula: a factor past 1 stops there and hands its excess to the other
    if h0 > 1:
        return min(1.0, g0 * h0), 1.0
    if g0 > 1:
        return 1.0, min(1.0, g0 * h0)
    return g0, h0


def test_default_rule_is_the_expanded_formula_in_all_324_contexts(net):
    assert net.rule == "expanded_formula"
    base = neutral_context(net)
    capped = 0
    for combo in itertools.product(*(net.states(v) for v in CONTEXT)):
        shift, spec, cap, div, align = combo
        formula = PM[shift] * M_SPEC[spec] * M_CAP[cap] * M_DIV[div] * M_ALIGN[align]
        capped += formula > CAP[shift]
        got = net.query("harm", do={**base, **dict(zip(CONTEXT, combo, strict=True))})["yes"]
        assert got == pytest.approx(min(CAP[shift], formula), abs=1e-9), combo
    assert capped == 46  # the formula passes P(capability transfers) in 46 of 324 contexts


@pytest.mark.parametrize("rule", ["expanded_formula", "relative_risk", "odds_ratio"])
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
        g_expected, h_expected = expected_factors(rule, *combo)
        assert g == pytest.approx(g_expected, abs=1e-9), (rule, ctx)
        assert h == pytest.approx(h_expected, abs=1e-9), (rule, ctx)
        # no goal failure without capability transfer, no harm without goal failure
        assert network.query("goal_misgeneralizes", evidence={"capability_transfer": "no"},
                             do=do)["yes"] == 0.0
        assert network.query("harm", evidence={"goal_misgeneralizes": "no"}, do=do)["yes"] == 0.0


def test_the_three_rules_keep_the_core_table_and_differ_off_neutral(net):
    do = {**neutral_context(net), "shift_type": "extreme"}
    for rule in ("relative_risk", "odds_ratio"):
        assert net.with_rule(rule).query("harm", do=do)["yes"] == pytest.approx(0.277, abs=1e-12)
    worse = {**do, "spec_quality": "low"}
    formula = net.query("harm", do=worse)["yes"]
    rr = net.with_rule("relative_risk").query("harm", do=worse)["yes"]
    orr = net.with_rule("odds_ratio").query("harm", do=worse)["yes"]
    # the formula: min(45%, 27.7% x 1.75 = 48.5%); per factor: goal failure capped at 1
    # (0.75 x 1.75 > 1), harm given failure stays 82.1%; odds ratio: 0.84 x 82.1%
    assert formula == pytest.approx(0.45, abs=1e-12)
    assert rr == pytest.approx(0.45 * 1.0 * PM["extreme"] / (0.45 * 0.75), abs=1e-12)
    assert orr == pytest.approx(0.45 * odds_combine(0.75, 1.75) * PM["extreme"] / (0.45 * 0.75),
                                abs=1e-12)
    assert formula > rr > orr
    # Type 3, high specification, superhuman, narrow (the example): formula 54.9% is
    # reachable (P(capability) 55%), the per-factor rule gave 25.4%
    example = {**do, "shift_type": "significant", "spec_quality": "high",
               "capability_level": "superhuman", "training_diversity": "narrow"}
    assert net.query("harm", do=example)["yes"] == pytest.approx(0.218 * 0.6 * 3 * 1.4,
                                                                 abs=1e-12)
    assert net.with_rule("relative_risk").query("harm", do=example)["yes"] == pytest.approx(
        0.55 * 0.55 * 0.6 * 1.4 * 1.0, abs=1e-12)


def test_route_carries_goal_failure_through_the_pathway(net):
    # goal failure needs a learned proxy meeting shifted spurious features, in every context
    # (both derived from the document's goal risks: P(proxy) = Type 4's goal factor,
    # P(shifted) = the shift's goal factor over Type 4's)
    base = neutral_context(net)
    for shift in PM:
        do = {**base, "shift_type": shift}
        post = net.query("learned_objective", evidence={"goal_misgeneralizes": "yes"}, do=do)
        assert post["proxy"] == pytest.approx(1.0, abs=1e-12)
        assert net.query("learned_objective", do=do)["proxy"] == pytest.approx(0.75, abs=1e-12)
        assert net.query("spurious_features_shifted", do=do)["yes"] == pytest.approx(
            GOAL[shift] / 0.75, abs=1e-12)
        intended = net.query("goal_misgeneralizes", evidence={"capability_transfer": "yes"},
                             do={**do, "learned_objective": "intended_goal"})
        assert intended["yes"] == 0.0
        proxy = net.query("goal_misgeneralizes", evidence={"capability_transfer": "yes"},
                          do={**do, "learned_objective": "proxy"})
        assert proxy["yes"] == pytest.approx(GOAL[shift] / 0.75, abs=1e-12)
    for combo in itertools.product(*(net.states(v) for v in CONTEXT)):
        do = {**base, **dict(zip(CONTEXT, combo, strict=True)),
              "learned_objective": "intended_goal"}
        assert net.query("goal_misgeneralizes", do=do)["yes"] == 0.0, combo


def test_what_if_interpretability_verification(net):
    base = {**neutral_context(net), "shift_type": "extreme", "spec_quality": "low"}
    result = what_if(net, "harm", "yes", baseline_do=base,
                     intervention={"alignment_method": "interpretability_verified"})
    # before: min(45%, 27.7% x 1.75) = 45% (capped); after: 27.7% x 1.75 x 0.4
    assert result.before == pytest.approx(0.45, abs=1e-12)
    assert result.after == pytest.approx(PM["extreme"] * 1.75 * 0.4, abs=1e-12)
    assert result.relative_change == pytest.approx(PM["extreme"] * 1.75 * 0.4 / 0.45 - 1,
                                                   abs=1e-12)


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
