"""The audit: verdicts for the core table, a domain row, the inconsistencies, and the
generated docs/validation.md."""

import json
from pathlib import Path

import pytest

import gmnet
from gmnet.analysis.audit import VERDICTS, audit, doc
from gmnet.cli import main
from gmnet.errors import InvalidArgumentError
from gmnet.model.worldviews import apply_worldview

VALIDATION_MD = Path(__file__).resolve().parent.parent / "docs" / "validation.md"
TABLES = ["Risk Assessment", "Expanded formulation (modifiers)",
          "Type Classification Matrix (shift chart)", "Detailed Risk Assessment by Shift Type",
          "Meta-Analysis of Specification Gaming", "Key Modifying Factors",
          "Objective Specification Impact", "Application Domain Risk Profiles",
          "Timeline Projections", "Intervention Effectiveness Analysis",
          "Intervention Effectiveness Analysis: bands in every context",
          "The misgeneralization pathway", "Critical Unknowns"]


@pytest.fixture(scope="module")
def report():
    return audit(gmnet.load_network())


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_numeric_table_is_audited(report):
    assert [s.table for s in report.sections] == TABLES
    for s in report.sections:
        assert s.rows and all(r.verdict in VERDICTS for r in s.rows)
        assert all(r.reason for r in s.rows if r.verdict == "outside"), s.table


def test_core_table_is_reproduced_exactly(report):
    core = report.section("Detailed Risk Assessment by Shift Type")
    assert core.verdicts() == {"reproduced": 12}
    row = core.row("Type 4 (Extreme): P(Misgeneralization)")
    assert (row.document, row.model) == ("27.7%", "27.70%")
    assert row.model_value == pytest.approx(0.277, abs=1e-12)


def test_core_table_under_the_note_is_outside_with_the_reason():
    note = audit(apply_worldview(gmnet.load_network(), "document-note"))
    core = note.section("Detailed Risk Assessment by Shift Type")
    row = core.row("Type 4 (Extreme): P(Misgeneralization)")
    assert row.verdict == "outside"
    assert row.reason == "20.25% differs from 27.7% (= 45.0% x 75.0% x 60.0%, P(harm | goal " \
                         "fails) last)"
    assert core.row("Type 4 (Extreme): P(capability transfers)").verdict == "reproduced"
    assert note.worldview == "document-note"


def test_domain_row_agents_2027(report):
    row = report.section("Application Domain Risk Profiles").row(
        "Autonomous Agents (Type 3-4, Low (0.3)), 2027")
    assert row.verdict == "within"
    assert row.document == "40-60%"
    # (Type 3: 21.8% x 1.75 + Type 4: min(45%, 27.7% x 1.75)) / 2 at human-level capability
    assert row.model_value == pytest.approx((0.218 * 1.75 + 0.45) / 2, abs=1e-12)
    assert "the upper end 60% is out of reach: no context lets P(harm) pass 55.0%" in row.reason


def test_every_domain_profile_is_inside_or_explained(report):
    rows = report.section("Application Domain Risk Profiles").rows
    assert len(rows) == 10
    assert all(r.verdict == "within" or (r.verdict == "outside" and r.reason) for r in rows)


def test_inconsistency_harm_given_failure(report):
    inc = report.inconsistency("harm-given-failure-note")
    assert "Type 1: 3.6% / (85% x 12%) = 35.3%" in inc.arithmetic
    assert "Type 4: 27.7% / (45% x 75%) = 82.1%" in inc.arithmetic
    assert "5.1%-7.1%, 9.1%-12.7%, 15.1%-21.2%, 16.9%-23.6%" in inc.arithmetic


def test_the_six_named_inconsistencies_and_more(report):
    keys = [i.key for i in report.inconsistencies]
    for key in ("harm-given-failure-note", "pooled-above-type-4",
                "modifiers-beyond-decomposition", "interpretability-three-ways",
                "risk-ranges-not-derivable", "citations"):
        assert key in keys
    # the fidelity issue's entries
    for key in ("headline-is-harmful-misgeneralization",
                "adversarial-training-below-diversity-floor", "superhuman-direction",
                "interventions-vs-implementation", "risk-columns-point-opposite-ways",
                "reference-cards", "definition-vs-specification-modifier",
                "timeline-rows-vs-ratios"):
        assert key in keys
    assert len(keys) >= 20
    assert "45% x 75% = 33.75%" in report.inconsistency(
        "headline-is-harmful-misgeneralization").arithmetic
    assert "0.6x-0.8x" in report.inconsistency(
        "adversarial-training-below-diversity-floor").arithmetic
    assert "87% x 76% x 45% = 29.8% > Type 4's 27.7%" in report.inconsistency(
        "pooled-above-type-4").arithmetic
    assert "= 12.6x" in report.inconsistency("modifiers-beyond-decomposition").arithmetic


def test_capped_region_type_4_poor_specification(report):
    region = {r["shift_type"]: r for r in report.region.rows}
    assert region["extreme"]["goal_factor_capped"] == 8
    assert region["superficial"]["goal_factor_capped"] == 0
    assert region["extreme"]["network_max"] == pytest.approx(0.45, abs=1e-12)
    h = report.region.highlight
    assert h["goal_factor"] == pytest.approx(0.75 * 1.75)
    assert h["formula"] == pytest.approx(0.277 * 1.75)
    # the expanded formula reaches the ceiling; the per-factor rule stays below it
    assert h["network"] == pytest.approx(0.45, abs=1e-12)
    assert h["other_rules"]["relative_risk"] == pytest.approx(0.45 * 0.8207407407, abs=1e-9)
    assert {"training_diversity": "moderate", "alignment_method": "standard"} in \
        h["capped_combinations"]


def test_timeline_ratios(report):
    rows = report.section("Timeline Projections").rows
    # read from the rows: 2026-2027 keeps human-level capability (1.00x, outside 1.5x),
    # 2028-2030 and post-2030 are superhuman: (10.8 + 30 + 55 + 45) / 4 / 15.775 = 2.23x
    assert [r.verdict for r in rows] == ["no_number", "outside", "within", "outside"]
    assert rows[1].model_value == pytest.approx(1.0, abs=1e-12)
    assert rows[2].model_value == pytest.approx(0.352 / 0.15775, abs=1e-12)
    assert "read from the row without tuning (capability_level=human_level)" in rows[1].reason
    assert "at most 3.49x" in rows[3].reason


def test_spec_impact_low_is_capped_for_type_4(report):
    row = report.section("Objective Specification Impact").row("Low (0.0-0.3)")
    # Type 4: min(45%, 27.7% x 1.75) / 27.7% = 1.62x, inside 1.5x-2.0x; the others 1.75x
    assert row.verdict == "within"
    assert row.model_value == pytest.approx([1.75, 1.75, 1.75, 0.45 / 0.277], abs=1e-12)
    per_factor = audit(gmnet.load_network().with_rule("relative_risk"))
    row = per_factor.section("Objective Specification Impact").row("Low (0.0-0.3)")
    assert row.verdict == "outside"
    assert row.reason == ("Type 4: 75% x 1.75 = 131% is capped at 100% (relative_risk rule), "
                          "so the multiplier is 1.33x")


def test_interventions_when_the_mitigations_exist(report):
    section = report.section("Intervention Effectiveness Analysis")
    if "ai_control" not in gmnet.load_network().variables:
        assert section.row("Response: AI Control protocols").verdict == "not_modelled"
        return
    row = section.row("Response: AI Control protocols")
    assert row.verdict == "within"
    assert row.model_value["ai_control"] == pytest.approx([0.75] * 4, abs=1e-9)


def test_doc_numbers():
    assert doc("10.0%").tol_low == pytest.approx(0.0005)
    assert (doc("13-51%").low, doc("13-51%").high) == (0.13, 0.51)
    assert doc("1.5x").point and doc("1.5x").tol_low == pytest.approx(0.05)


def test_audit_needs_the_pathway(toy):
    with pytest.raises(InvalidArgumentError, match="has no shift_type"):
        audit(toy["chain"])


def test_validation_md_is_current(report):
    committed = VALIDATION_MD.read_text(encoding="utf-8")
    assert committed == report.to_markdown(), (
        "docs/validation.md is stale: regenerate it with "
        "`gmnet audit --markdown --out docs/validation.md`")


def test_cli_audit_json_and_out(capsys, tmp_path, report):
    code, out, _ = run(capsys, "audit", "--json")
    assert code == 0
    payload = json.loads(out)
    assert payload["verdicts"] == report.verdicts()
    target = tmp_path / "validation.md"
    code, out, _ = run(capsys, "audit", "--markdown", "--out", str(target))
    assert code == 0 and out.startswith(f"{target}: written")
    assert target.read_text(encoding="utf-8") == report.to_markdown()


def test_cli_audit_rejects_scenarios(capsys):
    code, _, err = run(capsys, "audit", "--scenario", "game_ai")
    assert code == 2
    assert err == ("gmnet: error: the audit applies the document's scenarios itself; drop "
                   "--scenario (game_ai)\n")


def test_pathway_carries_goal_failure_under_every_rule(report):
    section = report.section("The misgeneralization pathway")
    for rule in ("expanded_formula", "odds_ratio", "relative_risk"):
        row = section.row(f"Learned true goal generalizes ({rule} rule)")
        assert row.verdict == "reproduced" and row.model_value == 0.0
    row = section.row("Type 2: P(goal fails | capability, do(learned_objective))")
    assert row.model_value == pytest.approx([0.0, 0.28 / 0.75], abs=1e-12)


def test_intervention_bands_in_every_uncapped_context(report):
    section = report.section("Intervention Effectiveness Analysis: bands in every context")
    assert len(section.rows) == 8
    assert all(r.verdict == "within" for r in section.rows)
    row = section.row("Prevention: Diverse adversarial training (expanded_formula rule)")
    assert row.model_value == {"uncapped": 278, "inside": 278, "capped": 46}
    assert "range ends 20.0%-40.0%" in row.model
    odds = section.row("Prevention: Interpretability verification (odds_ratio rule)")
    assert odds.model_value == {"uncapped": 324, "inside": 324, "capped": 0}


def test_pathway_holds_when_a_milder_shift_has_more_goal_risk():
    # P(proxy) is the largest goal factor over the shift types, so the pathway carries goal
    # failure exactly even when Type 1's goal risk passes Type 4's
    net = gmnet.load_network().with_parameters({"p_goal_failure.superficial": 0.9})
    section = audit(net).section("The misgeneralization pathway")
    row = section.row(
        "P(goal fails | capability) is the formula's goal factor (expanded_formula rule)")
    assert row.verdict == "reproduced" and row.model_value < 1e-12
    assert net.query("learned_objective", do={**gmnet.analysis.whatif.neutral_context(net),
                                              "shift_type": "extreme"})["proxy"] == \
        pytest.approx(0.9, abs=1e-12)
