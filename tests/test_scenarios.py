"""Scenarios: the data file, applying and combining them, their numbers and their errors."""

import json

import numpy as np
import pytest

import gmnet
from gmnet.cli import main
from gmnet.errors import (
    ImpossibleEvidenceError,
    InvalidArgumentError,
    NetworkFileError,
    UnknownNameError,
)
from gmnet.model.scenarios import (
    apply,
    apply_scenarios,
    load_scenarios,
    merge_evidence,
)


def query(net, target, evidence=None, do=None, **kwargs):
    """The plain network operation under scenarios (nothing held)."""
    return net.query(target, evidence, do, **kwargs)


# The document's core table, for hand computation (not the network's numbers).
CAP = {"superficial": 0.85, "moderate": 0.65, "significant": 0.55, "extreme": 0.45}
GOAL = {"superficial": 0.12, "moderate": 0.28, "significant": 0.55, "extreme": 0.75}
PM = {"superficial": 0.036, "moderate": 0.100, "significant": 0.218, "extreme": 0.277}
M_SPEC = {"high": 0.6, "medium": 1.0, "low": 1.75}
M_CAP = {"below_human": 0.5, "human_level": 1.0, "superhuman": 3.0}


def by_hand(shift, spec="medium", capability="human_level"):
    """P(harm) with training diversity, alignment method and mitigations neutral: the
    expanded formula, min(P(capability transfers), P(M) x modifiers)."""
    return min(CAP[shift], PM[shift] * M_SPEC[spec] * M_CAP[capability])


def rest(net, *touched):
    return {k: v for k, v in net.metadata["neutral_context"].items()
            if k in net.variables and k not in touched}


@pytest.fixture(scope="module")
def catalog():
    return load_scenarios()


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------ the bundled file
def test_catalog_holds_the_documents_scenarios(catalog):
    assert [s.name for s in catalog.of_kind("domain")] == [
        "game_ai", "content_moderation", "autonomous_vehicles", "ai_assistants",
        "autonomous_agents"]
    assert [s.name for s in catalog.of_kind("period")] == [
        "2024-2025", "2026-2027", "2028-2030", "post-2030"]
    assert len(catalog.of_kind("example_shift")) == 8
    assert catalog["game_ai"].evidence == {"spec_quality": "high"}
    assert catalog["autonomous_agents"].within == {"shift_type": ("significant", "extreme")}


def test_scenario_files_are_not_networks():
    assert "scenarios" not in gmnet.bundled_networks()
    assert "worldviews" not in gmnet.bundled_networks()


def test_unknown_scenario_lists_the_valid_ones(net):
    with pytest.raises(UnknownNameError) as exc:
        apply_scenarios(net, ["game_AI"])
    message = str(exc.value)
    assert "unknown scenario 'game_AI'" in message
    assert "choose one of: game_ai, content_moderation" in message
    assert "did you mean 'game_ai'?" in message


# ------------------------------------------------------------------ applying
def test_domain_and_period_combine_into_priors_and_evidence(net):
    applied, evidence = apply_scenarios(net, ["autonomous_agents", "2026-2027"])
    # the period observes its row's capability; the domain restricts the shift type
    assert evidence == {"spec_quality": "low", "capability_level": "human_level"}
    np.testing.assert_allclose(applied.cpt("shift_type"), [0, 0, 1 / 2, 1 / 2], atol=1e-15)
    np.testing.assert_allclose(applied.cpt("capability_level"), [1 / 3] * 3, atol=1e-15)
    assert applied.metadata["scenarios"] == ["autonomous_agents", "2026-2027"]
    # the loaded network is unchanged
    np.testing.assert_allclose(net.cpt("shift_type"), [0.25] * 4, atol=1e-15)


def test_order_does_not_matter(net):
    a, ev_a = apply_scenarios(net, ["2024-2025", "content_moderation"])
    b, ev_b = apply_scenarios(net, ["content_moderation", "2024-2025"])
    assert ev_a == ev_b
    for v in ("shift_type", "capability_level"):
        np.testing.assert_allclose(a.cpt(v), b.cpt(v), atol=0)


def test_domain_with_period_matches_hand_computation(net):
    """Autonomous agents, current: Type 3-4 equally likely, low specification, human-level
    capability (the 2024-2025 row)."""
    expected = (by_hand("significant", "low") + by_hand("extreme", "low")) / 2
    touched = ("shift_type", "spec_quality", "capability_level")
    p = query(net, "harm", do=rest(net, *touched),
              scenario=["autonomous_agents", "2024-2025"])["yes"]
    assert p == pytest.approx(expected, abs=1e-12)
    assert p == pytest.approx(0.41575, abs=1e-12)  # (38.15% + min(45%, 48.5%)) / 2


def test_period_ratio_follows_from_the_distributions(net):
    def period(name, capability):
        p = query(net, "harm", do=rest(net, "shift_type", "capability_level"),
                  scenario=name)["yes"]
        expected = sum(by_hand(s, "medium", capability) for s in CAP) / 4
        assert p == pytest.approx(expected, abs=1e-12)
        return p

    base = period("2024-2025", "human_level")
    assert period("2026-2027", "human_level") / base == pytest.approx(1.0, abs=1e-12)
    later = period("2028-2030", "superhuman")
    # (min(85%, 10.8%) + min(65%, 30%) + min(55%, 65.4%) + min(45%, 83.1%)) / 4 / 15.775%
    assert later / base == pytest.approx(0.352 / 0.15775, abs=1e-12)
    assert period("post-2030", "superhuman") == later


def test_example_shift_replaces_its_types_two_factors(net):
    """Language style: (1 - 0.85, 0.20) on Type 1, harm given failure of Type 1."""
    p = query(net, "harm", do=rest(net, "shift_type"), scenario="language_style")["yes"]
    assert p == pytest.approx(0.85 * 0.20 * PM["superficial"] / (0.85 * 0.12), abs=1e-12)
    applied, evidence = apply_scenarios(net, "evaluation_to_deployment")
    assert evidence == {"shift_type": "extreme"}
    assert applied.parameter("p_capability_transfer.extreme").value == 0.55
    assert applied.parameter("p_goal_failure.extreme").value == 0.90
    assert net.parameter("p_goal_failure.extreme").value == 0.75


def test_worldview_then_scenario(net):
    applied, evidence = apply(net, scenario=["game_ai", "2024-2025"], worldview="document-note")
    assert evidence == {"spec_quality": "high", "capability_level": "human_level"}
    assert applied.metadata["worldview"] == "document-note"
    assert applied.parameter("p_harm_given_failure.moderate").value == 0.6


# ------------------------------------------------------------------ evidence merging
def test_do_wins_over_scenario_evidence(net):
    do = {**rest(net, "shift_type"), "shift_type": "extreme", "spec_quality": "low"}
    p = query(net, "harm", do=do, scenario="game_ai")["yes"]
    assert p == pytest.approx(by_hand("extreme", "low"), abs=1e-12)


def test_contradicting_evidence_is_an_error():
    with pytest.raises(InvalidArgumentError, match="evidence spec_quality=low contradicts the "
                                                   r"scenario's spec_quality=high.*do\("):
        merge_evidence({"spec_quality": "high"}, {"spec_quality": "low"})
    assert merge_evidence({"spec_quality": "high"}, {"spec_quality": "high"}) == {
        "spec_quality": "high"}


# ------------------------------------------------------------------ conflicts
def test_two_periods_conflict(net):
    with pytest.raises(InvalidArgumentError,
                       match="'2024-2025' and '2028-2030' observe capability_level in different "
                             r"states \(human_level vs superhuman\)"):
        apply_scenarios(net, ["2024-2025", "2028-2030"])


def test_two_examples_of_one_type_conflict(net):
    with pytest.raises(InvalidArgumentError,
                       match="both set parameter p_capability_transfer.extreme"):
        apply_scenarios(net, ["short_to_long_term", "supervised_to_autonomous"])


def test_example_outside_the_domains_span_is_impossible(net):
    with pytest.raises(ImpossibleEvidenceError,
                       match="'evaluation_to_deployment' observes shift_type=extreme, which is "
                             "impossible"):
        apply_scenarios(net, ["game_ai", "evaluation_to_deployment"])


# ------------------------------------------------------------------ validation of files
def write(tmp_path, text):
    path = tmp_path / "scenarios.yaml"
    path.write_text("format: gmnet-scenarios/1\nnetwork: goal_misgeneralization\n" + text)
    return path


def test_file_problems_are_all_reported(tmp_path):
    path = write(tmp_path, """
scenarios:
  bad_node:
    evidence: {spec_qualty: high}
    source: test
  bad_state:
    evidence: {spec_quality: superb}
    source: test
  bad_prior:
    prior: {capability_level: {below_human: 0.5, human_level: 0.4, superhuman: 0.2}}
    source: test
  not_root:
    within: {harm: ["yes"]}
    source: test
  bad_parameter:
    parameters: {p_goal_failure.extrme: {value: 0.5, source: test}}
    source: test
""")
    with pytest.raises(NetworkFileError) as exc:
        load_scenarios(path)
    problems = exc.value.problems
    assert len(problems) == 5
    assert problems[0].startswith("scenario 'bad_node': evidence: unknown node 'spec_qualty'; "
                                  "choose one of: shift_type")
    assert "did you mean 'spec_quality'?" in problems[0]
    assert problems[1] == ("scenario 'bad_state': evidence: unknown state 'superb' for "
                           "spec_quality; choose one of: high, medium, low")
    assert problems[2] == ("scenario 'bad_prior': prior: capability_level: probabilities sum "
                           "to 1.1, not 1")
    assert problems[3].startswith("scenario 'not_root': within: harm has parents")
    assert "unknown parameter 'p_goal_failure.extrme'" in problems[4]


def test_file_shape_problems(tmp_path):
    path = write(tmp_path, """
scenarios:
  no_source:
    evidence: {spec_quality: high}
  typo:
    evidnce: {spec_quality: high}
    source: test
""")
    with pytest.raises(NetworkFileError) as exc:
        load_scenarios(path)
    assert "scenario 'no_source': source: required key is missing" in exc.value.problems
    assert "scenario 'typo': evidnce: unknown key" in exc.value.problems


def test_a_user_file_applies(tmp_path, net):
    path = write(tmp_path, """
scenarios:
  lab_eval:
    kind: custom
    evidence: {shift_type: extreme}
    prior: {capability_level: {below_human: 0, human_level: 1, superhuman: 0}}
    source: test
""")
    catalog = load_scenarios(path)
    p = query(net, "harm", do=rest(net, "shift_type", "capability_level"),
              scenario=catalog["lab_eval"])["yes"]
    assert p == pytest.approx(0.277, abs=1e-12)


# ------------------------------------------------------------------ CLI
def test_cli_lists_scenarios(capsys):
    code, out, _ = run(capsys, "scenarios")
    assert code == 0
    assert "Application domains (Application Domain Risk Profiles)" in out
    assert "autonomous_agents" in out and "post-2030" in out and "sim_to_real" in out


def test_cli_shows_a_combination_with_its_p_harm(capsys):
    code, out, _ = run(capsys, "scenarios", "autonomous_agents", "--scenario", "2026-2027",
                       "--json")
    assert code == 0
    payload = json.loads(out)
    assert [s["name"] for s in payload["scenarios"]] == ["autonomous_agents", "2026-2027"]
    assert payload["evidence"] == {"spec_quality": "low", "capability_level": "human_level"}
    assert payload["priors"]["shift_type"]["significant"] == pytest.approx(1 / 2)
    assert payload["p_harm"] == pytest.approx(0.41575, abs=1e-12)


def test_cli_unknown_scenario_exits_2(capsys):
    code, _, err = run(capsys, "scenarios", "autonomous_agent")
    assert code == 2
    assert err.startswith("gmnet: error: unknown scenario 'autonomous_agent'; choose one of:")
    assert "(did you mean 'autonomous_agents'?)" in err


def test_network_query_takes_scenario_and_worldview(net):
    do = rest(net, "shift_type", "spec_quality", "capability_level")
    direct = net.query("harm", do=do, scenario=["autonomous_agents", "2026-2027"])
    applied, evidence = apply(net, scenario=["autonomous_agents", "2026-2027"])
    by_hand = applied.query("harm", merge_evidence(evidence, {}, do), do)
    assert direct == by_hand
    assert direct["yes"] == pytest.approx(0.41575, abs=1e-12)
    neutral = {**rest(net), "shift_type": "extreme"}
    assert net.query("harm", do=neutral, worldview="document-note")["yes"] == pytest.approx(
        0.45 * 0.75 * 0.60, abs=1e-12)
    assert gmnet.apply(net, scenario="game_ai")[1] == {"spec_quality": "high"}


@pytest.mark.parametrize("name, low, high, expected", [
    ("game_ai", 0.03, 0.12, (0.036 + 0.100) / 2 * 0.6),
    ("content_moderation", 0.12, 0.28, (0.100 + 0.218) / 2),
    ("autonomous_vehicles", 0.08, 0.22, (0.100 + 0.218) / 2),
    ("ai_assistants", 0.18, 0.35, (0.100 * 1.75 + 0.218 * 1.75) / 2),
    ("autonomous_agents", 0.25, 0.45, (0.218 * 1.75 + 0.45) / 2),
])
def test_bare_domain_at_the_baseline_is_inside_the_current_range(net, catalog, name, low, high,
                                                                 expected):
    # the baseline: context the scenario does not set at neutral, every mitigation off
    p = query(net, "harm", do=rest(net, *catalog[name].variables), scenario=name)["yes"]
    assert p == pytest.approx(expected, abs=1e-12)
    assert low <= p <= high
