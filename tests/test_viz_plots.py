"""Plots: they take plain data, check it, and write svg/png/pdf files with the numbers in them."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gmnet
from gmnet.viz import charts
from gmnet.viz.plots import (
    figure_svg,
    heatmap,
    interval_bars,
    probability_grid,
    save_figure,
    tornado,
    uncertainty_distribution,
)

MAGIC = {"svg": b"<?xml", "png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


def _texts(svg: str) -> str:
    return " ".join(re.findall(r">([^<>]+)</text>", svg))


def test_probability_grid_reproduces_the_core_table(net):
    grid, rows, cols = probability_grid(net, "shift_type", "spec_quality")
    assert rows == net.states("shift_type") and cols == net.states("spec_quality")
    medium = cols.index("medium")
    assert grid[:, medium] == pytest.approx([0.036, 0.100, 0.218, 0.277], abs=5e-4)
    # a better specification lowers the risk at every shift type
    assert np.all(grid[:, cols.index("high")] < grid[:, medium])


def test_probability_grid_checks_names(net):
    with pytest.raises(gmnet.UnknownNameError, match="spec_quality"):
        probability_grid(net, "shift_type", "spec_qualty")
    with pytest.raises(gmnet.InvalidArgumentError, match="both 'shift_type'"):
        probability_grid(net, "shift_type", "shift_type")
    with pytest.raises(gmnet.UnknownNameError, match="state"):
        probability_grid(net, "shift_type", "spec_quality", state="maybe")


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_heatmap_files(net, tmp_path, fmt):
    grid, rows, cols = probability_grid(net, "shift_type", "spec_quality")
    path = save_figure(heatmap(grid, rows, cols, title="P(harm)"), tmp_path / f"h.{fmt}")
    assert path.read_bytes().startswith(MAGIC[fmt])
    if fmt == "svg":
        texts = _texts(path.read_text())
        for label in (*rows, *cols, "27.7%", "3.6%"):
            assert label in texts


def test_heatmap_checks_its_shape():
    with pytest.raises(gmnet.InvalidArgumentError, match=r"shape \(2, 2\), expected \(2, 3\)"):
        heatmap([[0.1, 0.2], [0.3, 0.4]], ["a", "b"], ["x", "y", "z"])
    with pytest.raises(gmnet.InvalidArgumentError, match="finite"):
        heatmap([[0.1, float("nan")]], ["a"], ["x", "y"])


def test_tornado_orders_by_swing_and_labels_values():
    bars = [("small", 0.27, 0.28), ("large", 0.20, 0.35), ("middle", 0.25, 0.30)]
    fig = tornado(bars, baseline=0.277)
    ax = fig.axes[0]
    by_height = sorted(zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()],
                           strict=True), reverse=True)
    assert [label for _, label in by_height] == ["large", "middle", "small"]  # widest on top
    texts = _texts(figure_svg(fig))
    for value in ("20.0%", "35.0%", "27.7%"):
        assert value in texts
    with pytest.raises(gmnet.InvalidArgumentError, match="each bar is"):
        tornado([("x", 0.1)], baseline=0.2)
    with pytest.raises(gmnet.InvalidArgumentError, match="no bars"):
        tornado([], baseline=0.2)


def test_uncertainty_band_is_the_5_95_quantiles():
    samples = np.linspace(0.0, 1.0, 1001)
    svg = figure_svg(uncertainty_distribution(samples, point=0.5))
    texts = _texts(svg)
    assert "5%-95% band: 5.0% to 95.0%" in texts
    assert "median 50.0%" in texts and "point values 50.0%" in texts
    with pytest.raises(gmnet.InvalidArgumentError, match="band"):
        uncertainty_distribution(samples, band=(0.9, 0.1))
    with pytest.raises(gmnet.InvalidArgumentError, match="no values"):
        uncertainty_distribution([])


def test_interval_bars_show_values_intervals_and_groups(tmp_path):
    rows = [("alpha", 0.2, 0.15, 0.25), ("beta", 0.08, None, None)]
    fig = interval_bars(rows, baseline=0.3, groups=["prevention", "response"])
    texts = _texts(figure_svg(fig))
    assert "20.0% [15.0%, 25.0%]" in texts and "8.0%" in texts
    assert "prevention" in texts and "no mitigation: 30.0%" in texts
    with pytest.raises(gmnet.InvalidArgumentError, match="reversed"):
        interval_bars([("x", 0.2, 0.3, 0.1)])
    with pytest.raises(gmnet.InvalidArgumentError, match="both low and high"):
        interval_bars([("x", 0.2, 0.1, None)])
    with pytest.raises(gmnet.InvalidArgumentError, match="one group per row"):
        interval_bars(rows, groups=["a"])


def test_save_figure_rejects_unknown_formats(tmp_path):
    fig = heatmap([[0.5]], ["a"], ["b"])
    with pytest.raises(gmnet.UnknownNameError, match="figure format 'jpg'"):
        save_figure(fig, tmp_path / "x.jpg")


def test_same_numbers_same_svg(net):
    grid, rows, cols = probability_grid(net, "shift_type", "spec_quality")
    assert figure_svg(heatmap(grid, rows, cols)) == figure_svg(heatmap(grid, rows, cols))


def test_charts_run_the_analyses(net):
    chart = charts.chart("heatmap", net)
    assert chart.data["values"][3][1] == pytest.approx(0.277, abs=5e-4)
    assert "highest P(harm=yes)" in chart.summary
    if charts.available("mitigations"):
        chart = charts.chart("mitigations", net, evidence={"shift_type": "extreme"})
        assert chart.data["baseline"] == pytest.approx(0.277, abs=5e-4)
        assert "no mitigation 27.7%" in chart.summary
    with pytest.raises(gmnet.UnknownNameError, match="chart"):
        charts.chart("pie", net)


needs_uncertainty = pytest.mark.skipif(not charts.available("uncertainty"),
                                       reason="no uncertainty analysis in this version")


def test_focus_question_is_the_documents_type_4(net):
    q = charts.focus_question(net)
    assert q.do["shift_type"] == "extreme" and q.evidence == {}
    assert net.query(q.target, evidence=q.evidence, do=q.do)[q.state] == pytest.approx(
        0.277, abs=5e-4)
    q = charts.focus_question(net, {"spec_quality": "low"})
    assert "spec_quality" not in q.do and "shift_type" not in q.do
    assert charts.describe(net, "harm", "yes", {}, q.do).endswith("every mitigation off)")


@needs_uncertainty
def test_uncertainty_chart_runs_the_analysis(net):
    from gmnet.analysis.uncertainty import uncertainty

    q = charts.focus_question(net)
    drawn = charts.chart("uncertainty", net, samples=500, rng=3)
    expected = uncertainty(net, "harm", "yes", do=q.do, samples=500, rng=3)
    assert drawn.data["median"] == pytest.approx(expected.median)
    lo, hi = expected.interval(0.9)
    assert f"90% of draws in [{lo:.1%}, {hi:.1%}]" in drawn.summary
    assert f"5%-95% band: {expected.quantiles()[0.05]:.1%}" in _texts(drawn._repr_svg_())


@needs_uncertainty
def test_tornado_and_sobol_charts(net):
    tornado_chart = charts.chart("tornado", net, question="P(harm=yes | do(shift_type=moderate))")
    rows = [r for r in tornado_chart.data["inputs"] if r["reaches_target"]]
    top = max(rows, key=lambda r: abs(r["output_high"] - r["output_low"]))
    assert top["label"] in tornado_chart.summary
    sobol = charts.chart("sobol", net, samples=256, rng=0)
    assert sobol.data["samples"] == 256  # rounded to a power of two
    assert "total-order Sobol index" in sobol.summary
    with pytest.raises(gmnet.InvalidArgumentError, match="does not depend on any uncertain"):
        charts.chart("tornado", net, question="P(shift_type=extreme)")
    with pytest.raises(gmnet.QuerySyntaxError):
        charts.chart("tornado", net, question="harm given x")


@needs_uncertainty
def test_mitigation_chart_has_intervals_from_paired_draws(net):
    drawn = charts.chart("mitigations", net, evidence={"shift_type": "extreme"}, samples=400,
                         rng=2)
    spread = drawn.data["uncertainty"]["portfolios"]
    lo, hi = spread["all"]
    assert lo <= drawn.data["all_on"] <= hi
    texts = _texts(drawn._repr_svg_())
    def pct(p):  # the charts' format: one decimal, two below 0.1%
        return f"{p:.1%}" if abs(p) >= 0.001 else f"{p:.2%}"

    assert f"[{pct(lo)}, {pct(hi)}]" in texts and "90% of parameter draws" in texts


def test_save_figure_refuses_a_format_contradicting_the_file_name(tmp_path):
    fig = heatmap([[0.5]], ["a"], ["b"])
    with pytest.raises(gmnet.InvalidArgumentError,
                       match=r"format svg contradicts the file name .*x\.png' \(a \.png file\)"):
        save_figure(fig, tmp_path / "x.png", format="svg")
    assert not list(tmp_path.iterdir())
    assert save_figure(fig, tmp_path / "x.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in save_figure(fig, tmp_path / "figure", format="svg").read_bytes()


def test_chart_sample_counts_are_checked_first(net, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("ran the analysis before checking the sample count")

    for name in ("_uncertainty", "_sensitivity", "_mitigations"):
        monkeypatch.setattr(charts, name, never)
    with pytest.raises(gmnet.InvalidArgumentError, match="samples must be at most 1,000,000"):
        charts.chart("uncertainty", net, samples=2_000_000)
    with pytest.raises(gmnet.InvalidArgumentError, match="samples must be at most 1,000,000"):
        charts.chart("sobol", net, samples=2_000_000)
    if charts.available("mitigations"):
        with pytest.raises(gmnet.InvalidArgumentError, match="use at most 39,062 samples"):
            charts.chart("mitigations", net, samples=50_000)
    charts.check_chart_samples("mitigations", net, 39_062)
    charts.check_chart_samples("heatmap", net, 10**12)  # draws nothing


@needs_uncertainty
def test_sobol_chart_keeps_its_design_within_memory(net, monkeypatch):
    from gmnet.analysis import sensitivity as sensitivity_module

    seen = {}

    def fake(network, target, state, *, samples, **kwargs):
        seen["samples"] = samples
        raise gmnet.InvalidArgumentError("stop here")

    monkeypatch.setattr(sensitivity_module, "sensitivity", fake)
    with pytest.raises(gmnet.InvalidArgumentError, match="stop here"):
        charts.chart("sobol", net, samples=1_000_000)
    assert seen["samples"] == sensitivity_module.max_sobol_samples(49) == 262144  # 49 inputs
