"""The context policy (baseline by default, prior on request), the user's own numbers, fixed
Critical Unknowns, worldview and scenario files, and joint targets."""

from __future__ import annotations

import json

import pytest
import yaml

import gmnet
from gmnet.cli import main
from gmnet.errors import ImpossibleEvidenceError, InvalidArgumentError, QuerySyntaxError

CORE = {"superficial": "3.6%", "moderate": "10.0%", "significant": "21.8%", "extreme": "27.7%"}
HELD = ("  context: baseline; held at the document's baseline: spec_quality=medium, "
        "capability_level=human_level, training_diversity=moderate, "
        "alignment_method=standard; every mitigation off")
# the document's current risk ranges, Application Domain Risk Profiles
DOMAINS = {"game_ai": (0.03, 0.12), "content_moderation": (0.12, 0.28),
           "autonomous_vehicles": (0.08, 0.22), "ai_assistants": (0.18, 0.35),
           "autonomous_agents": (0.25, 0.45)}


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("shift, shown", CORE.items())
def test_a_plain_question_gives_the_documents_core_table(capsys, shift, shown):
    code, out, err = run(capsys, "query", f"P(harm=yes | shift_type={shift})")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"P(harm=yes | shift_type={shift}) = {shown}"
    assert lines[1] == HELD
    p = json.loads(run(capsys, "query", "--json", f"P(harm=yes | shift_type={shift})")[1])
    assert p["probability"] == pytest.approx(float(shown.rstrip("%")) / 100, abs=5e-4)
    assert p["context"] == "baseline" and p["held"]["ai_control"] == "off"


@pytest.mark.parametrize("domain", DOMAINS)
def test_each_bare_domain_scenario_is_inside_the_documents_range(domain):
    low, high = DOMAINS[domain]
    p = gmnet.ask("P(harm=yes)", scenario=domain).probability
    assert low <= p <= high, f"{domain}: {p:.3f} outside {low}-{high}"


def test_prior_gives_the_population_average_and_differs(capsys):
    baseline = gmnet.ask("P(harm=yes | shift_type=extreme)")
    prior = gmnet.ask("P(harm=yes | shift_type=extreme)", context="prior")
    assert round(baseline.probability, 4) == 0.277 and round(prior.probability, 4) == 0.2244
    code, out, _ = run(capsys, "query", "--context", "prior", "P(harm=yes | shift_type=extreme)")
    assert out.splitlines() == [
        "P(harm=yes | shift_type=extreme) = 22.4%",
        "  context: prior; nothing held (context prior: unmentioned nodes follow the network's "
        "priors)",
        "  worldview: document-table (the network's own numbers)"]


def test_what_the_question_mentions_is_not_held():
    a = gmnet.ask("P(spec_quality=low | harm=yes, do(ai_control=on))")
    assert "spec_quality" not in a.held and "ai_control" not in a.held
    assert a.held["capability_level"] == "human_level" and a.held["human_override"] == "off"
    # the target follows its prior, updated by the evidence (Bayes' rule at the baseline)
    p_low = gmnet.ask("P(harm=yes | do(spec_quality=low, ai_control=on))").probability
    p_all = sum(gmnet.ask(f"P(harm=yes | do(spec_quality={s}, ai_control=on))").probability
                for s in ("high", "medium", "low")) / 3
    assert a.probability == pytest.approx(p_low / 3 / p_all, abs=1e-12)


def test_an_observed_alarm_implies_its_detector():
    a = gmnet.ask("P(harm=yes | behavior_alarm=fires)")
    assert a.held["behavior_monitoring"] == "on"
    assert a.held["objective_probing"] == "off" and a.held["anomaly_detection"] == "off"
    assert "behavior_monitoring on (an alarm is observed)" in a.resolved.held_text()
    same = gmnet.ask("P(harm=yes | behavior_alarm=fires, do(behavior_monitoring=on))")
    assert a.probability == same.probability
    with pytest.raises(ImpossibleEvidenceError, match=r"the evidence \(behavior_alarm=fires\) "
                                                      "is impossible"):
        gmnet.ask("P(harm=yes | behavior_alarm=fires, do(behavior_monitoring=off))")


def test_an_impossible_combination_names_what_was_held(capsys):
    with pytest.raises(ImpossibleEvidenceError) as info:
        gmnet.ask("P(harm=yes | containment=contained)")
    message = str(info.value)
    assert "containment=contained" in message and "ai_control=off" in message
    assert "(e.g. do(ai_control=on))" in message and "context prior" in message
    code, out, err = run(capsys, "query", "P(harm=yes | containment=contained)")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    ok = gmnet.ask("P(harm=yes | containment=contained)", context="prior")
    assert ok.probability == 0.0


def test_set_your_own_number(capsys):
    mine = gmnet.ask("P(harm=yes | do(shift_type=extreme, spec_quality=low))",
                     overrides={"m_spec.low": 1.5})
    net = gmnet.load_network().with_parameters({"m_spec.low": 1.5})
    assert mine.probability == pytest.approx(net.query("harm", do={
        **mine.held, "shift_type": "extreme", "spec_quality": "low"})["yes"], abs=1e-12)
    p = mine.resolved.network.parameter("m_spec.low")
    assert p.source == "set by you" and p.low is None and p.high is None
    assert "set by you: m_spec.low=1.5" in mine.resolved.assumptions()
    code, out, _ = run(capsys, "query", "--set", "m_spec.low=1.5",
                       "P(harm=yes | do(shift_type=extreme, spec_quality=low))")
    assert code == 0 and "  set by you: m_spec.low=1.5" in out.splitlines()
    code, out, _ = run(capsys, "show", "--set", "m_spec.low=1.5", "--json")
    params = {q["name"]: q for q in json.loads(out)["parameters"]}
    assert params["m_spec.low"]["source"] == "set by you"


@pytest.mark.parametrize("args, message", [
    (["--set", "m_spec.low"], "--set 'm_spec.low': write it as NAME=VALUE"),
    (["--set", "m_spec.low=abc"], "set m_spec.low: 'abc' is not a number"),
    (["--set", "m_spec.lowx=2"], "unknown parameter 'm_spec.lowx'"),
    (["--set", "m_spec.low=2", "--set", "m_spec.low=3"], "--set m_spec.low is given twice"),
    (["--unknown", "interpretability_feasibility=maybe"],
     "critical unknown interpretability_feasibility: 'maybe' is not a state; choose one of: "
     "succeeds, fails"),
    (["--unknown", "nope=1"], "unknown critical unknown 'nope'"),
    (["--unknown", "llm_vs_rl_generalization=9"], "9 is outside its range"),
    (["--context", "neutral"], "'neutral' is not one of 'baseline', 'prior'"),
    (["--worldview", "missing.yaml"], "no such worldview file"),
])
def test_bad_options_are_one_line_errors(capsys, args, message):
    code, out, err = run(capsys, "query", *args, "P(harm=yes)")
    assert code == 2 and out == ""
    assert err.startswith("gmnet: error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1


def test_fix_a_critical_unknown(capsys):
    fails = gmnet.ask("P(harm=yes | do(alignment_method=interpretability_verified))",
                      unknowns={"interpretability_feasibility": "fails"})
    standard = gmnet.ask("P(harm=yes | do(alignment_method=standard))")
    assert fails.probability == pytest.approx(standard.probability, abs=1e-12)
    works = gmnet.ask("P(harm=yes | do(alignment_method=interpretability_verified))",
                      unknowns={"interpretability_feasibility": "succeeds"})
    assert works.probability < 0.5 * standard.probability
    # an uncertainty run no longer draws a fixed unknown
    code, out, _ = run(capsys, "uncertainty", "--json", "--samples", "20", "--unknown",
                       "interpretability_feasibility=fails", "P(harm=yes)")
    payload = json.loads(out)
    assert "interpretability_feasibility" not in payload["critical_unknowns"]
    assert payload["unknowns"] == {"interpretability_feasibility": "fails"}


def test_worldview_and_scenario_from_files(tmp_path, capsys):
    worldview = tmp_path / "mine.yaml"
    worldview.write_text(yaml.safe_dump({
        "format": "gmnet-worldviews/1", "network": "goal_misgeneralization",
        "worldviews": {"pessimist": {"overrides": {
            "p_harm_given_failure.extreme": {"value": 0.95, "source": "my judgement"}}}}}))
    scenario = tmp_path / "lab.yaml"
    scenario.write_text(yaml.safe_dump({
        "format": "gmnet-scenarios/1", "network": "goal_misgeneralization",
        "scenarios": {"my_lab": {"evidence": {"spec_quality": "high"},
                                 "source": "my lab's own assessment"}}}))
    a = gmnet.ask("P(harm=yes | shift_type=extreme)", worldview=str(worldview),
                  scenario=str(scenario))
    assert a.resolved.worldview == "pessimist" and a.resolved.scenarios == ("my_lab",)
    assert a.probability == pytest.approx(0.45 * 0.75 * 0.95 * 0.6, abs=1e-9)
    code, out, err = run(capsys, "query", "--json", "--worldview", str(worldview),
                         "--scenario", str(scenario), "P(harm=yes | shift_type=extreme)")
    assert code == 0, err
    assert json.loads(out)["probability"] == a.probability
    two = tmp_path / "two.yaml"
    data = yaml.safe_load(scenario.read_text())
    data["scenarios"]["other"] = {"evidence": {"spec_quality": "low"}, "source": "x"}
    two.write_text(yaml.safe_dump(data))
    with pytest.raises(InvalidArgumentError, match=r"holds 2 scenarios \(my_lab, other\); "
                                                   r"name one as .*two.yaml:NAME"):
        gmnet.ask("P(harm=yes)", scenario=str(two))
    named = gmnet.ask("P(harm=yes)", scenario=f"{two}:other").resolved
    assert named.scenarios == ("other",) and named.evidence == {"spec_quality": "low"}


def test_joint_targets_are_exact():
    joint = gmnet.ask("P(goal_misgeneralizes, harm | shift_type=extreme)")
    assert sum(joint.distribution.values()) == pytest.approx(1.0, abs=1e-12)
    assert joint.distribution[("no", "yes")] == 0.0  # harm needs goal failure
    assert joint.distribution[("yes", "yes")] == pytest.approx(0.277, abs=1e-12)
    one = gmnet.ask("P(goal_misgeneralizes=yes, harm=no | shift_type=extreme)")
    assert one.probability == pytest.approx(joint.distribution[("yes", "no")], abs=1e-15)
    for engine in ("pgmpy", "enumeration"):
        other = gmnet.ask("P(goal_misgeneralizes, harm | shift_type=extreme)", engine=engine)
        for k, v in joint.distribution.items():
            assert other.distribution[k] == pytest.approx(v, abs=1e-12)
    with pytest.raises(QuerySyntaxError, match="name a state for every target or for none"):
        gmnet.parse_question("P(harm=yes, containment)")
    with pytest.raises(InvalidArgumentError, match="shift_type is a target and also observed"):
        gmnet.ask("P(harm, shift_type | shift_type=extreme)")


def test_one_number_format():
    from gmnet.display import percent

    assert [percent(p) for p in (0.277, 0.0036, 0.1, 1.0, 0.00001, 0.0)] == [
        "27.7%", "0.36%", "10.0%", "100.0%", "<0.01%", "0%"]
