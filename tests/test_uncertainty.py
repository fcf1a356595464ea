"""Uncertainty propagation: distributions, the Critical Unknowns, reproducibility, closed forms."""

import json

import numpy as np
import pytest
from scipy.special import betaincinv

import gmnet
from gmnet.analysis.uncertainty import (
    CRITICAL_UNKNOWNS,
    comparison_uncertainty,
    portfolio_draws,
    uncertainty,
    uncertainty_model,
)
from gmnet.cli import main
from gmnet.display import percent
from gmnet.errors import InvalidArgumentError, UnknownNameError
from gmnet.model.network import network_from_dict

SOURCE = "assumption: test"


def passthrough_network():
    """P(out=yes) is the ranged number q itself; r never reaches out."""
    return network_from_dict({
        "name": "passthrough",
        "parameters": {
            "q": {"unit": "probability", "value": 0.3, "range": [0.2, 0.6], "source": SOURCE},
            "r": {"unit": "probability", "value": 0.5, "range": [0.4, 0.9], "source": SOURCE},
        },
        "nodes": {
            "context": {"states": ["a", "b"], "cpt": {"kind": "uniform", "source": SOURCE}},
            "out": {"states": ["yes", "no"], "parents": ["context"],
                    "cpt": {"kind": "expression", "probabilities": {"yes": "q", "no": "rest"}}},
            "elsewhere": {"states": ["yes", "no"],
                          "cpt": {"kind": "prior", "probabilities": {"yes": "r", "no": "rest"}}},
        },
    })


# ============================================================================ closed forms
def test_quantiles_of_a_number_passing_straight_through():
    net = passthrough_network()
    result = uncertainty(net, "out", "yes", samples=200_000, rng=3)
    # PERT(0.2, 0.3, 0.6): Beta(alpha=1+4*0.1/0.4, beta=1+4*0.3/0.4) = Beta(2, 4) on [0.2, 0.6]
    for level, value in result.quantiles().items():
        expected = 0.2 + 0.4 * betaincinv(2.0, 4.0, level)
        assert value == pytest.approx(expected, abs=2e-3), level
    assert result.mean == pytest.approx((0.2 + 4 * 0.3 + 0.6) / 6, abs=1e-3)
    assert result.point == pytest.approx(0.3, abs=1e-15)
    assert result.inputs == ("q",)  # r cannot reach out
    assert result.draws.min() >= 0.2 and result.draws.max() <= 0.6


def test_pert_shape_and_quantile_function():
    item = uncertainty_model(passthrough_network()).input("q")
    assert item.pert_shape == (2.0, 4.0)
    u = np.linspace(0.001, 0.999, 101)
    np.testing.assert_allclose(item.ppf(u), 0.2 + 0.4 * betaincinv(2.0, 4.0, u), atol=1e-4)
    assert item.mean == pytest.approx(2.0 / 6)


def test_a_number_without_range_is_fixed():
    net = passthrough_network().with_parameters({"q": 0.35})
    result = uncertainty(net, "out", "yes", samples=500, rng=1)
    assert result.inputs == ()
    np.testing.assert_array_equal(result.draws, np.full(500, 0.35))
    assert "in every draw" in result.summary()


# ============================================================================ reproducibility
def test_same_seed_same_numbers(net):
    ask = dict(evidence={"shift_type": "extreme"}, do={"ai_control": "on"}, samples=3000)
    a = uncertainty(net, "harm", "yes", rng=11, **ask)
    b = uncertainty(net, "harm", "yes", rng=11, **ask)
    c = uncertainty(net, "harm", "yes", rng=12, **ask)
    np.testing.assert_array_equal(a.draws, b.draws)
    assert a.quantiles() == b.quantiles()
    assert not np.array_equal(a.draws, c.draws)
    # chunking does not change the numbers
    d = uncertainty(net, "harm", "yes", rng=11, chunk=700, **ask)
    np.testing.assert_allclose(d.draws, a.draws, rtol=0, atol=1e-15)


def test_an_input_draws_the_same_whatever_else_is_drawn(net):
    model = uncertainty_model(net)
    alone = model.sample(1000, rng=4, names=["m_spec.low"])
    together = model.sample(1000, rng=4, names=["route_share", "m_spec.low"])
    np.testing.assert_array_equal(alone["m_spec.low"], together["m_spec.low"])
    # more samples extend the same draws
    more = model.sample(2500, rng=4)
    for name, values in model.sample(1000, rng=4).items():
        np.testing.assert_array_equal(more[name][:1000], values)


def test_point_value_and_interval(net):
    result = uncertainty(net, "harm", "yes", evidence={"shift_type": "moderate"},
                         samples=4000, rng=2)
    assert result.point == pytest.approx(
        net.query("harm", evidence={"shift_type": "moderate"})["yes"], abs=1e-12)
    q = result.quantiles()
    assert q[0.05] < q[0.25] < q[0.5] < q[0.75] < q[0.95]
    assert result.median == q[0.5]
    assert result.interval(0.9) == (q[0.05], q[0.95])
    payload = result.to_dict()
    assert set(payload["quantiles"]) == {"0.05", "0.25", "0.5", "0.75", "0.95"}
    assert payload["samples"] == 4000 and payload["seed"] == 2


# ============================================================================ the critical unknowns
def test_unknowns_are_inputs_of_the_bundled_network(net):
    # by default only LLM vs RL generalization; interpretability feasibility and superhuman
    # capability effects are documented choices one option away
    assert [u.key for u in uncertainty_model(net).unknowns] == ["llm_vs_rl_generalization"]
    assert "m_capability.superhuman" in uncertainty_model(net).names
    model = uncertainty_model(net, unknowns="all")
    keys = [u.key for u in model.unknowns]
    assert keys == [u.key for u in CRITICAL_UNKNOWNS]
    assert all(model.input(u.input_name).critical_unknown for u in model.unknowns)
    assert all(u.source.startswith("Critical Unknowns") for u in model.unknowns)
    # the superhuman unknown replaces the network's own range for that multiplier
    assert "m_capability.superhuman" not in model.names
    assert "m_capability.superhuman" in uncertainty_model(net, unknowns=False).names
    assert uncertainty_model(net, unknowns=False).unknowns == ()


def test_llm_factor_scales_goal_failure_and_stays_a_probability(net):
    model = uncertainty_model(net, unknowns=["llm_vs_rl_generalization"])
    values = model.parameter_values({"unknown:llm_vs_rl_generalization": np.array([0.5, 1.5])})
    np.testing.assert_allclose(values["p_goal_failure.superficial"], [0.06, 0.18])
    np.testing.assert_allclose(values["p_goal_failure.extreme"], [0.375, 1.0])  # clipped
    draws = model.sample(20_000, rng=0)["unknown:llm_vs_rl_generalization"]
    assert 0.5 <= draws.min() and draws.max() <= 1.5
    assert np.median(draws) == pytest.approx(1.0, abs=0.01)


def test_interpretability_works_or_does_nothing(net):
    model = uncertainty_model(net, unknowns=["interpretability_feasibility"])
    works = np.array([1.0, 0.0])
    values = model.parameter_values({"unknown:interpretability_feasibility": works,
                                     "m_interpretability_verification": np.array([0.35, 0.5])})
    np.testing.assert_allclose(values["m_alignment.interpretability_verified"], [0.4, 1.0])
    np.testing.assert_allclose(values["m_interpretability_verification"], [0.35, 1.0])
    draws = model.sample(20_000, rng=1)["unknown:interpretability_feasibility"]
    assert set(np.unique(draws)) == {0.0, 1.0}
    assert draws.mean() == pytest.approx(0.5, abs=0.015)
    p = uncertainty_model(net, unknowns=["interpretability_feasibility"],
                          interpretability_success=0.2)
    assert p.input("unknown:interpretability_feasibility").probability == 0.2


def test_superhuman_effect_has_no_preferred_direction(net):
    model = uncertainty_model(net, unknowns=["superhuman_capability_effects"])
    item = model.input("unknown:superhuman_capability_effects")
    assert (item.low, item.point, item.high) == (pytest.approx(1 / 3), 3.0, 3.0)
    draws = model.sample(40_000, rng=2)["unknown:superhuman_capability_effects"]
    assert np.mean(draws < 1.0) == pytest.approx(0.5, abs=0.01)
    values = model.parameter_values({item.name: np.array([0.5, 2.0])})
    np.testing.assert_allclose(values["m_capability.superhuman"], [0.5, 2.0])


def test_unknowns_widen_the_band_where_they_apply(net):
    ask = dict(evidence={"shift_type": "extreme", "capability_level": "superhuman"},
               samples=4000, rng=5)
    with_unknowns = uncertainty(net, "harm", "yes", unknowns="all", **ask)
    without = uncertainty(net, "harm", "yes", unknowns=False, **ask)
    assert with_unknowns.point == pytest.approx(without.point, abs=1e-12)
    width = np.subtract(*reversed(with_unknowns.interval()))
    assert width > 1.5 * np.subtract(*reversed(without.interval()))
    assert with_unknowns.unknowns and not without.unknowns


def test_unknown_errors_name_the_choices(net):
    with pytest.raises(UnknownNameError, match="llm_vs_rl_generalization"):
        uncertainty_model(net, unknowns=["llm"])
    with pytest.raises(InvalidArgumentError, match="does not have"):
        uncertainty_model(passthrough_network(), unknowns=["llm_vs_rl_generalization"])
    assert uncertainty_model(passthrough_network()).unknowns == ()
    with pytest.raises(InvalidArgumentError, match="probability"):
        uncertainty_model(net, interpretability_success=1.5)


def test_bad_samples_and_states(net):
    with pytest.raises(InvalidArgumentError, match="samples must be a positive whole number"):
        uncertainty(net, "harm", "yes", samples=0)
    with pytest.raises(InvalidArgumentError, match="at most 1,000,000"):
        uncertainty(net, "harm", "yes", samples=1_000_001)
    names = [m.name for m in gmnet.analysis.mitigations.mitigations_of(net)]
    with pytest.raises(InvalidArgumentError, match="use at most 39,062 samples"):
        portfolio_draws(net, "harm", "yes", names, samples=50_000)
    with pytest.raises(UnknownNameError, match="maybe"):
        uncertainty(net, "harm", "maybe", samples=10)
    with pytest.raises(InvalidArgumentError, match=".png or .svg"):
        from gmnet.analysis.uncertainty import check_plot_path

        check_plot_path("x.pdf")


# ============================================================================ portfolios
def test_portfolio_draws_are_paired_and_match_compare(net):
    comparison = gmnet.compare_mitigations(net, do={"shift_type": "extreme"})
    names = list(comparison.names)
    draws = portfolio_draws(net, "harm", "yes", names, evidence=comparison.evidence,
                            do=comparison.do, samples=400, rng=8)
    assert draws.values.shape == (400, 2 ** len(names))
    np.testing.assert_allclose(draws.point, comparison.probabilities, rtol=0, atol=1e-12)
    # each column equals the single query with the same seed: the draws are shared
    i = names.index("ai_control")
    alone = {**comparison.do, **{m: ("on" if m == "ai_control" else "off") for m in names}}
    single = uncertainty(net, "harm", "yes", evidence=comparison.evidence, do=alone,
                         samples=400, rng=8)
    np.testing.assert_allclose(draws.values[:, 1 << i], single.draws, rtol=0, atol=1e-12)


def test_comparison_intervals_and_odds(net):
    comparison = gmnet.compare_mitigations(net, do={"shift_type": "extreme"})
    result = comparison_uncertainty(net, comparison, samples=500, rng=1)
    lo, hi = result.portfolios["none"]
    assert lo < hi
    assert result.portfolios["all"][1] < result.portfolios["none"][0]
    assert set(result.mitigations) == set(comparison.names)
    control = result.mitigations["ai_control"]["alone"]
    assert 0 < control[0] < control[1]
    assert len(result.beats["mitigations"]) == len(comparison.names) - 1
    assert all(0.0 <= b["p_a_beats_b"] <= 1.0 for b in result.beats["portfolios"])
    json.dumps(result.to_dict())


# ============================================================================ the command
def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_uncertainty_json_is_reproducible(capsys):
    args = ["uncertainty", "--json", "--samples", "2000", "--seed", "4",
            "P(harm=yes | shift_type=extreme, do(ai_control=on))"]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    payload = json.loads(out)
    assert payload["samples"] == 2000 and payload["seed"] == 4
    assert set(payload["quantiles"]) == {"0.05", "0.25", "0.5", "0.75", "0.95"}
    assert payload["quantiles"]["0.05"] < payload["median"] < payload["quantiles"]["0.95"]
    assert sum(payload["histogram"]["counts"]) == 2000
    assert run(capsys, *args)[1] == out


def test_cli_uncertainty_text_and_plot(capsys, tmp_path):
    plot = tmp_path / "band.svg"
    code, out, err = run(capsys, "uncertainty", "--samples", "1500", "--plot", str(plot),
                         "P(harm | do(shift_type=moderate))")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "P(harm=yes | do(shift_type=moderate))"
    assert any(line.strip().startswith("median") for line in lines)
    assert any("5% " in line and "95% " in line for line in lines)
    assert sum(int(line.rsplit(" ", 1)[1].replace(",", "")) for line in lines
               if " - " in line and " | " in line) == 1500
    assert plot.read_text().startswith("<?xml") and "median" in plot.read_text()
    assert f"plot written to {plot}" in out


def test_cli_uncertainty_with_scenario_and_errors(capsys, net):
    code, out, err = run(capsys, "uncertainty", "--json", "--samples", "300",
                         "--scenario", "autonomous_agents", "P(harm=yes | do(ai_control=on))")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["evidence"] == {"spec_quality": "low"}
    assert payload["scenario"] == ["autonomous_agents"]
    code, _, err = run(capsys, "uncertainty", "--plot", "band.pdf", "P(harm)")
    assert code == 2 and "must end in .png or .svg" in err
    code, _, err = run(capsys, "uncertainty", "P(harm=maybe)")
    assert code == 2 and "unknown state 'maybe'" in err


def test_cli_compare_with_samples(capsys):
    code, out, err = run(capsys, "compare", "--json", "--given", "shift_type=extreme",
                         "--samples", "400", "--seed", "2")
    assert code == 0, err
    unc = json.loads(out)["uncertainty"]
    assert unc["samples"] == 400 and unc["seed"] == 2 and unc["level"] == 0.9
    lo, hi = unc["portfolios"]["all"]
    assert lo <= hi < unc["portfolios"]["none"][0]
    # detection alone changes nothing without a response: a tie in every draw
    detection = [b for b in unc["beats"]["portfolios"] if {b["a"], b["b"]} == {"detection", "none"}]
    assert detection and detection[0]["p_tie"] == 1.0 and detection[0]["p_a_beats_b"] == 0.0
    code, text, err = run(capsys, "compare", "--given", "shift_type=extreme", "--samples", "400",
                          "--seed", "2")
    assert code == 0, err
    assert "Uncertainty: 400 paired draws" in text
    assert text.count("tie") >= 1


# ============================================================================ robustness (issue 9)
def test_one_draw_is_reported_as_one_draw(capsys, net):
    result = uncertainty(net, "harm", "yes", samples=1, rng=0)
    draw = float(result.draws[0])
    # 39 numbers can move P(harm); 10 more reach it but cancel (the pathway's inner split, ...)
    assert abs(draw - result.point) > 1e-3 and len(result.inputs) == 39
    assert len(result.cancelling) == 10 and "route_share" in result.cancelling
    summary = result.summary()
    assert summary == (f"P(harm=yes) is {result.point:.4g} at the point values; one draw of the "
                       f"39 uncertain numbers that can move it (10 more reach it but cancel) "
                       f"gives {draw:.4g} (quantiles need more draws).")
    assert "every draw" not in summary and "none of the uncertain" not in summary
    assert np.isnan(result.std)
    # the population question (nothing held) is the library call above
    code, out, err = run(capsys, "uncertainty", "--samples", "1", "--context", "prior",
                         "P(harm=yes)")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1] == ("  context: prior; nothing held (context prior: unmentioned nodes "
                        "follow the network's priors)")
    assert lines[3].startswith("  1 draw, seed 0; 39 uncertain numbers can move this answer "
                               "(10 more reach it but cancel)")
    assert f"  one draw     {percent(draw)}   (a spread, quantiles and a histogram need more " \
        "draws)" in lines
    assert not any("std" in line or " | " in line for line in lines)
    assert lines[-1] == summary
    code, out, err = run(capsys, "uncertainty", "--samples", "1", "--json", "--context", "prior",
                         "P(harm=yes)")
    payload = json.loads(out)
    assert payload["summary"] == summary and payload["std"] is None
    assert payload["mean"] == payload["median"] == draw
    assert set(payload["quantiles"].values()) == {draw}


def test_summary_says_none_reaches_only_when_none_does():
    nothing = uncertainty(passthrough_network(), "context", "a", samples=5, rng=0)
    assert nothing.inputs == ()
    assert nothing.summary() == ("P(context=a) is 0.5 in every draw: none of the uncertain "
                                 "numbers can move it.")


def test_plot_path_is_checked_before_the_draws(capsys, tmp_path, monkeypatch):
    from gmnet.analysis import uncertainty as module

    def never(*args, **kwargs):
        raise AssertionError("drew before checking the plot path")

    monkeypatch.setattr(module, "uncertainty", never)
    for plot, message in [(tmp_path / "missing" / "band.png",
                           f"cannot write {tmp_path / 'missing' / 'band.png'}: folder "
                           f"{tmp_path / 'missing'} does not exist"),
                          (tmp_path / "band.jpg", "the file name must end in .png or .svg")]:
        code, out, err = run(capsys, "uncertainty", "--plot", str(plot), "P(harm=yes)")
        assert code == 2 and out == "" and err.count("\n") == 1
        assert err.startswith("gmnet: error: ") and message in err
    (tmp_path / "dir.png").mkdir()
    code, _, err = run(capsys, "uncertainty", "--plot", str(tmp_path / "dir.png"), "P(harm)")
    assert code == 2 and "dir.png: it is a folder" in err


def test_cli_sample_count_is_bounded_before_anything_runs(capsys, monkeypatch):
    from gmnet.analysis import uncertainty as module

    def never(*args, **kwargs):
        raise AssertionError("drew before checking the sample count")

    monkeypatch.setattr(module, "uncertainty", never)
    code, out, err = run(capsys, "uncertainty", "--samples", "100000000000", "P(harm=yes)")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "'--samples': 100000000000 is not in the range 1<=x<=1000000" in err


def test_check_samples_names_the_limits():
    from gmnet.analysis.uncertainty import check_samples

    assert check_samples(39_062, portfolios=512) == 39_062
    with pytest.raises(InvalidArgumentError, match="use at most 39,062 samples"):
        check_samples(39_063, portfolios=512)
    with pytest.raises(InvalidArgumentError, match="at most 1,000,000, got 1,000,001"):
        check_samples(1_000_001)


def _draws_line(out: str) -> str:
    """The line that says how many draws of which inputs (after the question's assumptions)."""
    return next(line for line in out.splitlines() if "critical unknowns:" in line)


def test_with_unknown_adds_the_opt_in_unknowns(capsys):
    code, out, err = run(capsys, "uncertainty", "--samples", "200", "--with-unknown", "all",
                         "P(harm=yes)")
    assert code == 0, err
    assert _draws_line(out).endswith("critical unknowns: llm_vs_rl_generalization, "
                                        "interpretability_feasibility, "
                                        "superhuman_capability_effects")
    code, out, err = run(capsys, "uncertainty", "--samples", "200", "--no-unknowns",
                         "--with-unknown", "superhuman_capability_effects", "P(harm=yes)")
    assert code == 0 and _draws_line(out).endswith(
        "critical unknowns: superhuman_capability_effects")
    code, out, err = run(capsys, "uncertainty", "--with-unknown", "bogus", "P(harm=yes)")
    assert code == 2 and "unknown critical unknown 'bogus'; choose one of: " \
        "llm_vs_rl_generalization, interpretability_feasibility" in err


def test_reaching_is_not_moving(net):
    # at the baseline with every mitigation off, the pathway's inner split and the mitigations'
    # numbers reach P(harm) but cannot move it
    from gmnet.analysis.whatif import neutral_context

    do = {**neutral_context(net), "shift_type": "extreme"}
    result = uncertainty(net, "harm", "yes", do=do, samples=500, rng=3)
    assert set(result.inputs) == {"p_harm_given_failure.extreme", "m_spec.medium",
                                  "unknown:llm_vs_rl_generalization"}
    for name in ("route_share", "p_goal_features_clear.medium", "m_adversarial_training",
                 "ai_control_reduction"):
        assert name in result.cancelling
    assert result.to_dict()["reached_but_cancel"] == list(result.cancelling)


def test_long_runs_are_drawn_in_blocks_with_the_same_numbers(monkeypatch):
    import gmnet
    from gmnet.analysis import uncertainty as module
    from gmnet.analysis.uncertainty import uncertainty, uncertainty_model

    net = gmnet.load_network()
    whole = uncertainty(net, "harm", "yes", evidence={"shift_type": "extreme"}, samples=1000,
                        rng=4)
    monkeypatch.setattr(module, "SAMPLE_BLOCK", 300)  # 4 blocks, the last one short
    blocks = uncertainty(net, "harm", "yes", evidence={"shift_type": "extreme"}, samples=1000,
                         rng=4)
    assert np.array_equal(whole.draws, blocks.draws)
    model = uncertainty_model(net)
    names = list(model.names[:5])
    streams = model.streams(rng=9, names=names)
    taken = [streams.take(n) for n in (3, 400, 97)]
    at_once = model.sample(500, rng=9, names=names)
    for name in names:
        assert np.array_equal(np.concatenate([t[name] for t in taken]), at_once[name])


def test_moving_inputs_are_kept_per_question_inputs_and_seed(monkeypatch):
    import gmnet
    from gmnet.analysis import influence
    from gmnet.analysis.uncertainty import uncertainty_model
    from gmnet.inference.batched import plan_query

    net = gmnet.load_network()
    model = uncertainty_model(net)
    q = plan_query(net, "harm", evidence={"shift_type": "extreme"}, state="yes")
    names = model.inputs_for(q.parameters)
    runs = []
    real = influence._moving_inputs
    monkeypatch.setattr(influence, "_moving_inputs",
                        lambda *a: runs.append(a) or real(*a))
    monkeypatch.setattr(influence, "_MOVING", {})
    first = influence.moving_inputs(model, q, 0, names)
    assert influence.moving_inputs(model, q, 0, names) == first and len(runs) == 1
    influence.moving_inputs(model, q, 0, names, rng=1)  # another seed: computed again
    influence.moving_inputs(model, q, 0, names[:3])  # other inputs: again
    other = net.with_parameters({"route_share": 0.5})
    q2 = plan_query(other, "harm", evidence={"shift_type": "extreme"}, state="yes")
    other_model = uncertainty_model(other)  # another network: again
    influence.moving_inputs(other_model, q2, 0, other_model.inputs_for(q2.parameters))
    assert len(runs) == 4
    assert first[0] and set(first[0]) | set(first[1]) == set(names)


def test_keyed_generators_are_numpys_seed_sequences():
    """The inputs' streams are made without numpy's SeedSequence but are its streams: the
    whole generator state and the draws equal, for edge bases (0, word boundaries, the
    largest a run uses) and keys (0, the largest CRC-32), and random ones."""
    from gmnet.random import keyed_generators

    rng = np.random.default_rng(3)
    bases = [0, 1, 2**32 - 1, 2**32, 2**63 - 2, *map(int, rng.integers(0, 2**63 - 1, 60))]
    for base in bases:
        keys = [0, 1, 2**32 - 1, *map(int, rng.integers(0, 2**32, 3))]
        for key, got in zip(keys, keyed_generators(base, keys), strict=True):
            want = np.random.default_rng(np.random.SeedSequence(entropy=base,
                                                                spawn_key=(key,)))
            assert got.bit_generator.state == want.bit_generator.state, (base, key)
            assert np.array_equal(got.beta(2.3, 4.1, 50), want.beta(2.3, 4.1, 50))


@pytest.mark.parametrize("evidence, do", [
    ({"shift_type": "moderate"}, {}),
    ({"spec_quality": "low", "shift_type": "extreme"}, {"behavior_monitoring": "on"}),
    ({"capability_level": "superhuman"}, {"ai_control": "on"}),
    ({}, {}),
])
def test_the_point_is_the_exact_query_to_the_last_bit(evidence, do):
    """An uncertainty's point is the number `gmnet query` gives for the same question, bit
    for bit, also where evidence is normalised (the batched engine at the point values agrees
    only to about 1e-16 there: the first two questions)."""
    net = gmnet.load_network()
    result = gmnet.uncertainty(net, "harm", "yes", evidence=evidence, do=do, samples=50, rng=0)
    assert result.point == net.query("harm", evidence=evidence, do=do)["yes"]
