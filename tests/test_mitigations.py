"""Mitigation layers: the table's reductions, detection needs a response, Shapley, do vs observe."""

import itertools

import numpy as np
import pytest

import gmnet
from gmnet.analysis.mitigations import (
    mitigations_of,
    portfolio_index,
    portfolio_members,
    portfolio_probabilities,
    shapley_values,
)
from gmnet.analysis.whatif import neutral_context

MITIGATIONS = ("adversarial_training", "objective_specification", "interpretability_verification",
               "behavior_monitoring", "objective_probing", "anomaly_detection", "ai_control",
               "emergency_shutdown", "human_override")
OFF = {m: "off" for m in MITIGATIONS}
CAP = {"superficial": 0.85, "moderate": 0.65, "significant": 0.55, "extreme": 0.45}
GOAL = {"superficial": 0.12, "moderate": 0.28, "significant": 0.55, "extreme": 0.75}
PM = {"superficial": 0.036, "moderate": 0.100, "significant": 0.218, "extreme": 0.277}
BASE = sum(PM.values()) / 4  # neutral context, shift type at its uniform prior
# the Intervention Effectiveness Analysis: (low, high) risk reduction
TABLE = {"adversarial_training": (0.20, 0.40), "objective_specification": (0.30, 0.50),
         "interpretability_verification": (0.40, 0.70), "ai_control": (0.60, 0.90)}
DRIVER = {"adversarial_training": "m_adversarial_training",
          "objective_specification": "m_objective_specification",
          "interpretability_verification": "m_interpretability_verification",
          "ai_control": "ai_control_reduction"}


def with_on(*names):
    return {**OFF, **{m: "on" for m in names}}


def p_harm(net, *on, evidence=None, do=None):
    full = {**neutral_context(net), **(do or {}), **with_on(*on)}
    return net.query("harm", evidence=evidence, do=full)["yes"]


@pytest.fixture(scope="module")
def result(net):
    return gmnet.compare_mitigations(net)


# ---------------------------------------------------------------------------- the network
def test_mitigation_nodes_layers_and_document_columns(net):
    found = mitigations_of(net)
    assert tuple(m.name for m in found) == MITIGATIONS
    assert [m.layer for m in found] == ["prevention"] * 3 + ["detection"] * 3 + ["response"] * 3
    by_name = {m.name: m for m in found}
    assert by_name["adversarial_training"].cost == "2-5x compute"
    assert by_name["ai_control"].document_reduction == "60-90%"
    assert by_name["objective_probing"].cost == "Evaluation cost"
    assert by_name["human_override"].cost == "-"
    for m in MITIGATIONS:
        assert net.states(m) == ("on", "off")


def test_neutral_context_and_targets_switch_every_mitigation_off(net):
    assert {k: v for k, v in neutral_context(net).items() if k in MITIGATIONS} == OFF
    for target in net.spec.targets:
        assert {k: target.do[k] for k in MITIGATIONS} == OFF, target


def test_calibration_targets_hold(net):
    for target in net.spec.targets:
        got = net.query(target.target, evidence=target.evidence, do=target.do)[target.state]
        assert got == pytest.approx(target.value, abs=target.tolerance), target.source


def test_with_everything_off_the_response_and_alarms_do_nothing(net):
    containment = net.cpt("containment")  # parents: ai_control, behavior_alarm, ...
    parents = net.parents("containment")
    for config in itertools.product(*(range(len(net.states(p))) for p in parents)):
        states = {p: net.states(p)[i] for p, i in zip(parents, config, strict=True)}
        responses_off = all(states[r] == "off" for r in
                            ("ai_control", "emergency_shutdown", "human_override"))
        if responses_off:
            assert containment[config][net.states("containment").index("uncontained")] == 1.0
    for alarm, detector in (("behavior_alarm", "behavior_monitoring"),
                            ("probe_alarm", "objective_probing"),
                            ("anomaly_alarm", "anomaly_detection")):
        for goal in ("yes", "no"):
            p = net.query(alarm, do={"goal_misgeneralizes": goal, detector: "off"})["fires"]
            assert p == 0.0


def test_every_mitigation_number_has_a_source_and_assumptions_are_labelled(net):
    groups = {"behavior_monitoring_sensitivity", "objective_probing_false_alarm",
              "ai_control_escalation", "emergency_shutdown_effectiveness",
              "human_override_effectiveness", "p_adopted_ai_control", "m_adoption.superhuman"}
    for name in groups:
        assert net.parameter(name).is_assumption, name
        assert net.parameter(name).ranged, name
    for name in ("m_adversarial_training", "m_objective_specification",
                 "m_interpretability_verification", "ai_control_reduction"):
        assert "Intervention Effectiveness Analysis" in net.parameter(name).source
        assert not net.parameter(name).is_assumption


# ---------------------------------------------------------------------------- the table's numbers
@pytest.mark.parametrize("name", list(TABLE))
def test_single_mitigation_matches_the_table_midpoint(net, result, name):
    low, high = TABLE[name]
    midpoint = (low + high) / 2
    reduction = 1 - p_harm(net, name) / p_harm(net)
    assert reduction == pytest.approx(midpoint, abs=0.01)
    assert result.value(name).alone_relative == pytest.approx(reduction, abs=1e-12)
    # exactly one minus the driving parameter (no cap reached at the neutral context)
    expected = (1 - net.parameter(DRIVER[name]).value if name != "ai_control"
                else net.parameter(DRIVER[name]).value)
    assert reduction == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("name", list(TABLE))
def test_single_mitigation_range_is_the_table_range(net, name):
    parameter = net.parameter(DRIVER[name])
    reductions = []
    for end in (parameter.low, parameter.high):
        other = net.with_parameters({DRIVER[name]: {"value": end, "range": [end, end]}})
        reductions.append(1 - p_harm(other, name) / p_harm(other))
    assert sorted(reductions) == pytest.approx(list(TABLE[name]), abs=1e-12)


def test_ai_control_at_75_percent(net):
    assert 1 - p_harm(net, "ai_control") / p_harm(net) == pytest.approx(0.75, abs=1e-12)
    # given failure, whatever the shift: harm given failure times 0.25
    for shift in CAP:
        do = {"shift_type": shift}
        off = net.query("harm", evidence={"goal_misgeneralizes": "yes"},
                        do={**neutral_context(net), **do})["yes"]
        on = net.query("harm", evidence={"goal_misgeneralizes": "yes"},
                       do={**neutral_context(net), **do, "ai_control": "on"})["yes"]
        assert on == pytest.approx(0.25 * off, abs=1e-12)


M_CTX = {"spec_quality": {"high": 0.6, "medium": 1.0, "low": 1.75},
         "capability_level": {"below_human": 0.5, "human_level": 1.0, "superhuman": 3.0},
         "training_diversity": {"diverse": 0.7, "moderate": 1.0, "narrow": 1.4},
         "alignment_method": {"interpretability_verified": 0.4, "standard": 1.0,
                              "behavioral_cloning": 1.5}}
POINT = {"adversarial_training": 0.30, "objective_specification": 0.40,
         "interpretability_verification": 0.55, "ai_control": 0.75}


@pytest.mark.parametrize("rule", ["expanded_formula", "odds_ratio"])
@pytest.mark.parametrize("name", list(TABLE))
def test_each_mitigation_reduces_by_its_band_midpoint_in_every_uncapped_context(net, rule, name):
    # the Intervention Effectiveness Analysis band's midpoint, whatever the starting point
    network = net.with_rule(rule)
    reductions = []
    for combo in itertools.product(*(network.states(v) for v in ("shift_type", *M_CTX))):
        shift, *levels = combo
        do = dict(zip(("shift_type", *M_CTX), combo, strict=True))
        formula = PM[shift] * np.prod([M_CTX[k][v] for k, v in zip(M_CTX, levels, strict=True)])
        off = p_harm(network, do=do)
        on = p_harm(network, name, do=do)
        if rule == "expanded_formula" and formula > CAP[shift] and name != "ai_control":
            # the cap binds: less than the band, never more (the audit reports these)
            assert -1e-12 <= 1 - on / off < POINT[name], (rule, do)
            continue
        reductions.append(1 - on / off)
        assert 1 - on / off == pytest.approx(POINT[name], abs=1e-9), (rule, do)
    assert len(reductions) == (324 if rule == "odds_ratio" or name == "ai_control" else 278)


def test_a_capped_context_gains_less_than_the_band(net):
    # Type 4, low specification, superhuman: 27.7% x 1.75 x 3 = 145% >> 45%; a 30% reduction
    # of the product still passes P(capability transfers): adversarial training changes nothing
    do = {"shift_type": "extreme", "spec_quality": "low", "capability_level": "superhuman"}
    assert p_harm(net, do=do) == pytest.approx(0.45, abs=1e-12)
    assert p_harm(net, "adversarial_training", do=do) == pytest.approx(0.45, abs=1e-12)
    # Type 4, low specification: 48.5% x 0.7 = 33.9%, below the cap: 24.6% instead of 30%
    low = {"shift_type": "extreme", "spec_quality": "low"}
    assert p_harm(net, "adversarial_training", do=low) == pytest.approx(
        PM["extreme"] * 1.75 * 0.7, abs=1e-12)


def test_interpretability_mitigation_and_verified_method_are_two_levers(net):
    # interpretability_overlap = 0 (the point): the mitigation's 0.45x multiplies the
    # interpretability-verified method's 0.4x; at 1 the mitigation adds nothing to it
    verified = {"shift_type": "superficial", "alignment_method": "interpretability_verified"}
    assert p_harm(net, "interpretability_verification", do=verified) == pytest.approx(
        PM["superficial"] * 0.4 * 0.45, abs=1e-12)
    one_lever = net.with_parameters({"interpretability_overlap": 1.0})
    assert p_harm(one_lever, "interpretability_verification", do=verified) == pytest.approx(
        PM["superficial"] * 0.4, abs=1e-12)
    # elsewhere the overlap changes nothing
    standard = {"shift_type": "superficial"}
    assert p_harm(one_lever, "interpretability_verification", do=standard) == pytest.approx(
        PM["superficial"] * 0.45, abs=1e-12)


def test_prevention_acts_on_learning_a_proxy(net):
    base = {**neutral_context(net)}
    proxy_off = net.query("learned_objective", do=base)["proxy"]
    assert proxy_off == pytest.approx(0.75, abs=1e-12)
    for name, point in POINT.items():
        if name == "ai_control":
            continue
        proxy_on = net.query("learned_objective", do={**base, name: "on"})["proxy"]
        assert proxy_on == pytest.approx(0.75 * (1 - point), abs=1e-12), name
    # the training-phase causes are not moved by a mitigation: its effect is its band
    strong = net.query("spurious_correlations", do={**base, "adversarial_training": "on"})
    assert strong["strong"] == pytest.approx(net.parameter("p_spurious_strong.moderate").value)
    # response: AI control leaves the learned objective alone
    assert net.query("learned_objective", do={**base, "ai_control": "on"})["proxy"] == \
        pytest.approx(0.75, abs=1e-12)


# ----------------------------------------------------------------------- detection and response
def test_detection_alone_is_worth_nothing(net, result):
    for detector in ("behavior_monitoring", "objective_probing", "anomaly_detection"):
        assert p_harm(net, detector) == pytest.approx(p_harm(net), abs=1e-15)
        assert result.value(detector).alone == pytest.approx(0.0, abs=1e-15)
    assert result.portfolio("detection").absolute_reduction == pytest.approx(0.0, abs=1e-15)
    # alarm-driven responses without their detector do nothing either
    for response in ("emergency_shutdown", "human_override"):
        assert result.value(response).alone == pytest.approx(0.0, abs=1e-15)


def test_detection_with_its_response_is_worth_more(net, result):
    s_mon = net.parameter("behavior_monitoring_sensitivity").value      # 0.5
    s_probe = net.parameter("objective_probing_sensitivity").value      # 0.4
    s_anom = net.parameter("anomaly_detection_sensitivity").value       # 0.5
    escalate = net.parameter("ai_control_escalation").value             # 0.5
    shutdown = net.parameter("emergency_shutdown_effectiveness").value  # 0.9
    override = net.parameter("human_override_effectiveness").value      # 0.7
    assert p_harm(net, "ai_control", "behavior_monitoring") == pytest.approx(
        BASE * 0.25 * (1 - escalate * s_mon), abs=1e-12)
    assert p_harm(net, "emergency_shutdown", "objective_probing") == pytest.approx(
        BASE * (1 - shutdown * s_probe), abs=1e-12)
    assert p_harm(net, "human_override", "anomaly_detection") == pytest.approx(
        BASE * (1 - override * s_anom), abs=1e-12)
    # the prevention partner sharpens its detector
    gain = net.parameter("behavior_monitoring_partner_gain").value
    s_partnered = s_mon + gain * (1 - s_mon)
    assert p_harm(net, "adversarial_training", "behavior_monitoring", "ai_control") == \
        pytest.approx(BASE * 0.7 * 0.25 * (1 - escalate * s_partnered), abs=1e-12)
    # detection and response together: more than the sum of their parts
    pair = {i.layers: i for i in result.interactions}
    assert pair[("detection", "response")].interaction > 0.02
    assert pair[("prevention", "detection")].interaction == pytest.approx(0.0, abs=1e-15)
    assert pair[("prevention", "response")].remaining_ratio == pytest.approx(1.0, abs=1e-12)


def test_an_alarm_is_evidence_of_goal_misgeneralization(net):
    do = {**neutral_context(net), "shift_type": "extreme", "anomaly_detection": "on"}
    prior = net.query("goal_misgeneralizes", do=do)["yes"]
    fired = net.query("goal_misgeneralizes", evidence={"anomaly_alarm": "fires"}, do=do)["yes"]
    quiet = net.query("goal_misgeneralizes", evidence={"anomaly_alarm": "quiet"}, do=do)["yes"]
    g = 0.45 * 0.75
    s = net.parameter("anomaly_detection_sensitivity").value
    fa = net.parameter("anomaly_detection_false_alarm").value
    assert prior == pytest.approx(g, abs=1e-12)
    assert fired == pytest.approx(g * s / (g * s + (1 - g) * fa), abs=1e-12)
    assert quiet == pytest.approx(g * (1 - s) / (g * (1 - s) + (1 - g) * (1 - fa)), abs=1e-12)
    # an alarm that fired means the detector is in place
    assert net.query("anomaly_detection", evidence={"anomaly_alarm": "fires"})["on"] == 1.0


# ---------------------------------------------------------------------------- observing vs adding
def test_observing_ai_control_differs_from_adding_it(net):
    observed = net.query("harm", evidence={"ai_control": "on"})["yes"]
    added = net.query("harm", do={"ai_control": "on"})["yes"]
    assert observed - added > 0.001
    # by hand, with the other mitigations held off and the modifiers but capability neutral:
    # observing AI control shifts belief towards more capable systems (the adoption odds ratio)
    fixed = {k: v for k, v in neutral_context(net).items()
             if k not in ("capability_level", "ai_control")}
    p = net.parameter("p_adopted_ai_control").value
    odds = {c: net.parameter(f"m_adoption.{c}").value for c in net.states("capability_level")}
    m_cap = {c: net.parameter(f"m_capability.{c}").value for c in odds}
    adopt = {c: p * m / (1 - p + p * m) for c, m in odds.items()}
    weight = {c: adopt[c] / sum(adopt.values()) for c in adopt}

    def harm_at(c):  # the expanded formula: min(P(capability), P(M) x m_capability)
        return 0.25 * sum(min(CAP[s], PM[s] * m_cap[c]) for s in CAP) / 4

    expected_observed = sum(weight[c] * harm_at(c) for c in adopt)
    expected_added = sum(harm_at(c) for c in adopt) / 3
    got_observed = net.query("harm", evidence={"ai_control": "on"}, do=fixed)["yes"]
    got_added = net.query("harm", do={**fixed, "ai_control": "on"})["yes"]
    assert got_observed == pytest.approx(expected_observed, abs=1e-12)
    assert got_added == pytest.approx(expected_added, abs=1e-12)
    assert got_observed > got_added + 0.005


# ---------------------------------------------------------------------------- the comparison
def test_shapley_values_sum_to_the_all_on_reduction(result):
    total = sum(v.shapley for v in result.values)
    assert total == pytest.approx(result.baseline - result.all_on, abs=1e-12)
    assert sum(v.shapley_share for v in result.values) == pytest.approx(1.0, abs=1e-12)
    # a detector and the response that needs it are perfect complements: equal shares
    v = {x.name: x.shapley for x in result.values}
    assert v["objective_probing"] == pytest.approx(v["emergency_shutdown"], abs=1e-15)
    assert v["anomaly_detection"] == pytest.approx(v["human_override"], abs=1e-15)
    assert [x.name for x in result.values][0] == "ai_control"  # sorted by Shapley value


def test_shapley_values_by_hand():
    # glove game: player 0 holds a left glove, players 1 and 2 a right one; a pair is worth 1
    worth = np.zeros(8)
    for index in range(8):
        on = portfolio_members(["L", "R1", "R2"], index)
        worth[index] = 1.0 if "L" in on and ("R1" in on or "R2" in on) else 0.0
    np.testing.assert_allclose(shapley_values(worth), [2 / 3, 1 / 6, 1 / 6], atol=1e-15)
    # batched over draws
    np.testing.assert_allclose(shapley_values(np.stack([worth, 2 * worth])),
                               [[2 / 3, 1 / 6, 1 / 6], [4 / 3, 1 / 3, 1 / 3]], atol=1e-15)
    with pytest.raises(gmnet.InvalidArgumentError, match="2\\*\\*k"):
        shapley_values(np.zeros(6))


def test_marginal_value_given_all_others(net, result):
    everything = p_harm(net, *MITIGATIONS)
    assert result.all_on == pytest.approx(everything, abs=1e-15)
    for name in MITIGATIONS:
        rest = [m for m in MITIGATIONS if m != name]
        assert result.value(name).marginal == pytest.approx(p_harm(net, *rest) - everything,
                                                            abs=1e-15)


def test_every_portfolio_matches_a_direct_query(net):
    rng = np.random.default_rng(7)
    evidence = {"shift_type": "extreme"}
    do = {"spec_quality": "low"}
    result = gmnet.compare_mitigations(net, evidence=evidence, do=do, context="prior")
    assert result.do == do and result.evidence == evidence
    for index in [0, 511, *rng.integers(1, 511, size=12)]:
        on = portfolio_members(MITIGATIONS, int(index))
        full = {**do, **with_on(*on)}
        assert result.probability(on) == pytest.approx(
            net.query("harm", evidence=evidence, do=full)["yes"], abs=1e-14), on
    assert result.as_adopted == pytest.approx(
        net.query("harm", evidence=evidence, do=do)["yes"], abs=1e-15)


def test_portfolios_for_many_draws_at_once(net):
    names = [m.name for m in mitigations_of(net)]
    values = {"ai_control_reduction": np.array([0.6, 0.75, 0.9]),
              "m_adversarial_training": np.array([0.8, 0.7, 0.6])}
    model = net.compile(values)
    harm_yes = net.states("harm").index("yes")
    neutral = {v: net.states(v).index(s) for v, s in neutral_context(net).items()
               if v not in names}
    table = portfolio_probabilities(model, names, "harm", harm_yes, {}, neutral)
    assert table.shape == (3, 512)
    control = portfolio_index(names, ["ai_control"])
    training = portfolio_index(names, ["adversarial_training"])
    np.testing.assert_allclose(1 - table[:, control] / table[:, 0], [0.6, 0.75, 0.9],
                               atol=1e-12)
    np.testing.assert_allclose(1 - table[:, training] / table[:, 0], [0.2, 0.3, 0.4],
                               atol=1e-12)
    point = portfolio_probabilities(net.compiled, names, "harm", harm_yes, {}, neutral)
    np.testing.assert_allclose(table[1], point[0], atol=1e-15)


def test_other_targets_ignore_mitigations_that_cannot_reach_them(net):
    result = gmnet.compare_mitigations(net, target="goal_misgeneralizes", state="yes")
    for name in ("ai_control", "emergency_shutdown", "behavior_monitoring"):
        assert result.value(name).alone == 0.0
        assert result.value(name).shapley == pytest.approx(0.0, abs=1e-15)
    assert result.value("objective_specification").alone_relative == pytest.approx(0.4, abs=1e-12)


def test_layers_and_pairs(result):
    names = [p.name for p in result.portfolios if p.kind in ("layer", "layer pair", "all")]
    assert names == ["prevention", "detection", "response", "prevention + detection",
                     "prevention + response", "detection + response", "all"]
    prevention = result.portfolio("prevention")
    assert prevention.members == MITIGATIONS[:3]
    assert prevention.relative_reduction == pytest.approx(1 - 0.7 * 0.6 * 0.45, abs=1e-12)
    assert result.portfolio("response").relative_reduction == pytest.approx(0.75, abs=1e-12)
    assert result.portfolio("none").probability == pytest.approx(BASE, abs=1e-12)


def test_to_dict_and_to_frame(result):
    payload = result.to_dict()
    assert payload["baseline"] == pytest.approx(BASE, abs=1e-12)
    assert [m["name"] for m in payload["mitigations"]][0] == "ai_control"
    assert payload["mitigations"][0]["cost"] == "System overhead"
    assert "all_portfolios" not in payload
    full = result.to_dict(all_portfolios=True)["all_portfolios"]
    assert len(full) == 512 and full[0] == {"on": [], "probability": pytest.approx(BASE)}
    frame = result.to_frame()
    assert list(frame.index)[:2] == ["ai_control", "interpretability_verification"]
    assert frame.loc["objective_specification", "alone_relative"] == pytest.approx(0.4)
    portfolios = result.to_frame("portfolios")
    assert portfolios.loc["response", "relative_reduction"] == pytest.approx(0.75)
    interactions = result.to_frame("interactions")
    assert interactions.loc["detection + response", "interaction"] > 0
    with pytest.raises(gmnet.UnknownNameError, match="choose one of: mitigations, portfolios"):
        result.to_frame("everything")


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, message", [
    ({"evidence": {"ai_control": "on"}}, "ai_control is a mitigation"),
    ({"do": {"human_override": "off"}}, "human_override is a mitigation"),
    ({"evidence": {"harm": "yes"}}, "cannot condition on harm: the mitigations change it"),
    ({"evidence": {"shift_type": "extreme"}, "do": {"shift_type": "moderate"}},
     "shift_type is both observed and intervened on"),
])
def test_bad_arguments(net, kwargs, message):
    with pytest.raises(gmnet.InvalidArgumentError, match=message):
        gmnet.compare_mitigations(net, **kwargs)


def test_unknown_names(net):
    with pytest.raises(gmnet.UnknownNameError, match="unknown context 'neutrl'.*neutral, prior"):
        gmnet.compare_mitigations(net, context="neutrl")
    with pytest.raises(gmnet.UnknownNameError, match="unknown state 'maybe' for harm"):
        gmnet.compare_mitigations(net, state="maybe")
    with pytest.raises(gmnet.UnknownNameError, match="unknown variable 'shift'"):
        gmnet.compare_mitigations(net, evidence={"shift": "extreme"})
    with pytest.raises(gmnet.UnknownNameError, match="unknown mitigation 'firewall'"):
        portfolio_index(MITIGATIONS, ["firewall"])


def test_a_network_without_mitigations(toy):
    with pytest.raises(gmnet.InvalidArgumentError, match="has no mitigation nodes"):
        gmnet.compare_mitigations(toy["chain"], target="C", state="yes")


def test_keep_priors_leaves_a_context_node_to_its_prior(net):
    result = gmnet.compare_mitigations(net, keep_priors=["capability_level"])
    assert "capability_level" not in result.do
    m_cap = {"below_human": 0.5, "human_level": 1.0, "superhuman": 3.0}
    expected = sum(min(CAP[s], PM[s] * m) for s in CAP for m in m_cap.values()) / 12
    assert result.baseline == pytest.approx(expected, abs=1e-12)
    with pytest.raises(gmnet.UnknownNameError, match="unknown variable 'capability' in keep"):
        gmnet.compare_mitigations(net, keep_priors=["capability"])


def test_the_nodes_below_the_mitigations_are_networkxs_descendants():
    """Which nodes a mitigation can change is walked without a graph: networkx's descendants
    of the nodes, joined, for every set of up to three nodes of the bundled network."""
    import networkx as nx

    from gmnet.analysis.mitigations import _descendants

    net = gmnet.load_network()
    graph = net.graph()
    for r in (1, 2, 3):
        for nodes in itertools.combinations(net.variables, r):
            assert _descendants(net, nodes) == set().union(
                *(nx.descendants(graph, v) for v in nodes)), nodes
    assert _descendants(net, ["harm"]) == set()
    assert "harm" in _descendants(net, ["ai_control"])
