"""Notebook views: labelled CPT tables, to_frame() on every result, the compact posterior view,
and table cells aligned by what they hold."""

from __future__ import annotations

import re

import pytest

pd = pytest.importorskip("pandas")

import gmnet  # noqa: E402
from gmnet.viz.notebook import _table, is_number_text  # noqa: E402
from gmnet.viz.posteriors import posteriors  # noqa: E402


@pytest.fixture(scope="module")
def network():
    return gmnet.load_network()


def test_table_is_the_cpt_with_labelled_rows_and_columns(network):
    frame = network.table("capability_transfer")
    assert frame.index.name == "shift_type" and frame.columns.name == "capability_transfer"
    assert list(frame.columns) == ["yes", "no"]
    assert frame.loc["extreme", "yes"] == pytest.approx(0.45)
    assert frame.attrs["formula"] == ["P(yes) = p_capability_transfer[shift_type]",
                                      "P(no) = 1 - P(yes)"]
    harm = network.table("harm")
    assert harm.index.names == ["goal_misgeneralizes", "containment", "harm_if_failed"]
    assert harm.loc[("yes", "uncontained", "yes"), "yes"] == 1.0
    assert harm.loc[("yes", "contained", "yes"), "yes"] == 0.0
    factor = network.table("harm_if_failed")  # the harm factor, the core table's implied 82.1%
    row = factor.loc[("extreme", "medium", "moderate", "standard", "human_level", "off", "off",
                      "off")]
    assert row["yes"] == pytest.approx(0.277 / (0.45 * 0.75), abs=1e-12)
    assert (factor.sum(axis=1) - 1).abs().max() < 1e-12
    root = network.table("shift_type")
    assert list(root.index) == ["prior"] and root.iloc[0].tolist() == [0.25] * 4


def test_every_result_has_to_frame(network):
    from gmnet.analysis.audit import audit
    from gmnet.analysis.sensitivity import sensitivity
    from gmnet.analysis.uncertainty import comparison_uncertainty, uncertainty
    from gmnet.analysis.whatif import check_targets, core_table, what_if

    rows = core_table(network)
    frame = rows[-1].to_frame()
    assert frame.loc["extreme", "p_harmful_misgeneralization"] == pytest.approx(0.277, abs=5e-4)
    assert frame.loc["extreme", "document_p_harmful_misgeneralization"] == 0.277

    w = what_if(network, "harm", "yes", intervention={"ai_control": "on"},
                baseline_do={"shift_type": "extreme"})
    frame = w.to_frame()
    assert frame.loc[0, "intervention"] == "ai_control=on"
    assert frame.loc[0, "baseline_do"] == "shift_type=extreme"
    assert frame.loc[0, "after"] == pytest.approx(w.after)

    check = check_targets(network)[0]
    assert check.to_frame().loc[check.query, "model"] == pytest.approx(check.model)

    report = audit(network)
    frame = report.to_frame()
    assert frame.index.names == ["table", "row"]
    assert len(frame) == sum(len(s.rows) for s in report.sections)
    assert set(frame["verdict"]) <= set(report.verdicts())

    sens = sensitivity(network, "harm", "yes", do={"shift_type": "extreme"}, samples=None)
    frame = sens.to_frame()
    assert frame.loc["m_spec.low", "output_high"] == pytest.approx(sens.row("m_spec.low")
                                                                   .output_high)

    unc = uncertainty(network, "harm", "yes", do={"shift_type": "extreme"}, samples=200, rng=1)
    summary = unc.to_frame()
    assert summary.loc["point values", "value"] == pytest.approx(unc.point)
    assert summary.loc["median", "value"] == pytest.approx(unc.median)
    assert unc.to_frame("draws").shape == (200, 1)
    with pytest.raises(gmnet.UnknownNameError, match="summary, draws"):
        unc.to_frame("histogram")

    comparison = gmnet.compare_mitigations(network)
    spread = comparison_uncertainty(network, comparison, samples=64, rng=0)
    frame = spread.to_frame()
    assert tuple(frame.loc["all"]) == pytest.approx(spread.portfolios["all"])
    assert comparison.to_frame().index.name == "name"


def test_posteriors_show_every_node_under_the_question(network):
    view = posteriors(network, "P(harm | shift_type=extreme, do(ai_control=on))")
    expected = network.query("harm", evidence={"shift_type": "extreme"},
                             do={"ai_control": "on"})
    assert view["harm"] == pytest.approx(expected, abs=1e-12)
    assert len(view) == len(network.variables)
    frame = view.to_frame()
    assert frame.loc[("ai_control", "on"), "fixed"] == "do"
    assert frame.loc[("shift_type", "extreme"), "fixed"] == "observed"
    assert frame.loc[("harm", "yes"), "probability"] == pytest.approx(expected["yes"])
    html = view._repr_html_()
    assert "Observed: shift_type=extreme. Set by do(): ai_control=on." in html
    assert html.count("<tr>") == len(network.variables)
    assert "AI control protocols" in html and "do(on)" in html
    assert "Harm" in repr(view) and "[target]" in repr(view)
    few = posteriors(network, evidence={"spec_quality": "low"}, nodes=["harm", "spec_quality"])
    assert list(few) == ["harm", "spec_quality"]
    with pytest.raises(gmnet.UnknownNameError):
        posteriors(network, nodes=["harmm"])


def test_diagram_to_frame_gives_its_marginals(network):
    d = gmnet.draw(network, "P(harm | shift_type=extreme)")
    frame = d.to_frame()
    assert frame.loc[("harm", "yes"), "probability"] == pytest.approx(
        d.target_distribution["yes"])
    with pytest.raises(gmnet.InvalidArgumentError, match="shows no probabilities"):
        gmnet.draw(network).to_frame()


def test_cells_align_by_what_they_hold():
    for text in ("27.7%", "+2.00 points", "-36%", "1.5x", "0.12 ± 0.03", "3-12%", "1,000", "–"):
        assert is_number_text(text), text
    for text in ("cut by 40%", "Type 4 (Extreme)", "reduction 75%", "no mitigation", True):
        assert not is_number_text(text), text
    html = _table(["mitigation", "P"], [["cut by 40%", "27.7%"], ["ai control", "3.9%"]])
    cells = re.findall(r'<(t[dh]) style="[^"]*text-align:(\w+)[^"]*">([^<]*)</t[dh]>', html)
    assert cells == [("th", "left", "mitigation"), ("th", "right", "P"),
                     ("td", "left", "cut by 40%"), ("td", "right", "27.7%"),
                     ("td", "left", "ai control"), ("td", "right", "3.9%")]
