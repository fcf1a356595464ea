"""Figures fit for a paper: read the SVG back and check that nothing overlaps or runs off.

Text boxes are measured with matplotlib's own metrics of the font the SVG names (DejaVu Sans),
so the check does not depend on a browser.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("matplotlib")

import gmnet  # noqa: E402
from gmnet.errors import InvalidArgumentError  # noqa: E402
from gmnet.viz.labels import figure_caption, parameter_label, wrap_label  # noqa: E402
from gmnet.viz.plots import figure_svg, interval_bars, probability_grid, tornado  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
BAR_COLOURS = ("#3d6fa8", "#c0392b")


def _style(element) -> dict[str, str]:
    items = (part.split(":", 1) for part in (element.get("style") or "").split(";") if ":" in part)
    return {k.strip(): v.strip() for k, v in items}


def _text_boxes(svg: str, *, skip_rotated: bool = False
                ) -> list[tuple[str, float, float, float, float, dict]]:
    """(text, x0, y0, x1, y1, style) of every <text> element, in SVG pixels (rotated texts
    are refused, or skipped with ``skip_rotated``)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    measure = TextToPath()
    out = []
    for el in ET.fromstring(svg).iter(SVG + "text"):
        text = "".join(el.itertext())
        style = _style(el)
        size = float(style["font-size"].rstrip("px"))
        if el.get("x") is not None:
            x, y = float(el.get("x")), float(el.get("y"))
        else:
            x, y = map(float, re.search(r"translate\(([-\d.]+) ([-\d.]+)\)",
                                        el.get("transform")).groups())
        rotation = re.search(r"rotate\((-?[\d.]+)", el.get("transform") or "")
        if rotation is not None and float(rotation.group(1)) != 0:
            assert skip_rotated, f"rotated text {text!r}"
            continue
        weight = "bold" if style.get("font-weight") in ("700", "bold") else "normal"
        # the SVG says "px" for what matplotlib measures in points: 72 dpi, so 1 pt = 1 px
        width, _h, _d = measure.get_text_width_height_descent(
            text, FontProperties(family="DejaVu Sans", size=size, weight=weight), ismath=False)
        anchor = style.get("text-anchor", "start")
        x0 = x - (width if anchor == "end" else width / 2 if anchor == "middle" else 0.0)
        out.append((text, x0, y - 0.76 * size, x0 + width, y + 0.24 * size, style))
    return out


def _axes(svg: str):
    return next(g for g in ET.fromstring(svg).iter(SVG + "g") if g.get("id") == "axes_1")


def _rects(svg: str, colours) -> list[tuple[float, float, float, float]]:
    """Bounding boxes of the filled paths of the given colours inside the axes (the bars, not
    the legend's patches)."""
    out = []
    for el in _axes(svg).iter(SVG + "path"):
        if _style(el).get("fill") not in colours:
            continue
        numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", el.get("d"))]
        xs, ys = numbers[0::2], numbers[1::2]
        out.append((min(xs), min(ys), max(xs), max(ys)))
    return out


def _axes_box(svg: str) -> tuple[float, float, float, float]:
    background = next(_axes(svg).iter(SVG + "path"))  # the axes' own white patch comes first
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", background.get("d"))]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def _overlap(a, b, tol: float = 0.25) -> bool:
    return (a[0] < b[2] - tol and b[0] < a[2] - tol and a[1] < b[3] - tol and b[1] < a[3] - tol)


def _check_tornado(svg: str) -> None:
    boxes = _text_boxes(svg)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not _overlap(a[1:5], b[1:5]), f"labels overlap: {a[0]!r} and {b[0]!r}"
    left, top, right, bottom = _axes_box(svg)
    bars = _rects(svg, BAR_COLOURS)
    assert bars, "no bars found"
    for bar in bars:
        assert left - 0.5 <= bar[0] and bar[2] <= right + 0.5, \
            f"a bar runs past the axes: x {bar[0]:.1f}-{bar[2]:.1f}, axes {left:.1f}-{right:.1f}"
    values = [b for b in boxes if b[5].get("fill") in BAR_COLOURS]
    assert values, "no value labels found"
    for text, *box, _style in values:
        assert left - 0.5 <= box[0] and box[2] <= right + 0.5, f"{text!r} leaves the axes"
        for bar in bars:
            assert not _overlap(box, bar), f"value label {text!r} sits on a bar"


def test_tornado_readme_example_has_no_overlaps_and_no_bar_past_the_axes():
    # the README's example: P(harm=yes | do(ai_control=on)) under autonomous_agents
    from gmnet.analysis.sensitivity import sensitivity
    from gmnet.viz.charts import tornado_figure

    net, evidence = gmnet.apply(gmnet.load_network(), scenario="autonomous_agents")
    result = sensitivity(net, "harm", "yes", evidence=evidence, do={"ai_control": "on"},
                         samples=None, rng=0)
    svg = figure_svg(tornado_figure(result, network=net))
    _check_tornado(svg)
    texts = [b[0] for b in _text_boxes(svg)]
    # readable names, not the parameters' raw names
    assert "ai_control_reduction" not in texts and "m_spec.low" not in texts
    assert any(t.startswith("Share of the harm given goal failure") for t in texts)
    assert texts[-1] == ("Scenario: autonomous_agents. Observed: spec_quality=low. Set by do(): "
                         "ai_control=on.")


def test_tornado_one_sided_and_reversed_bars_keep_labels_off_the_bars():
    bars = [("falls when the number grows", 0.30, 0.05),   # high end below the low end
            ("one-sided, both above", 0.26, 0.31),         # both ends right of the line
            ("one-sided, both below", 0.12, 0.17),
            ("one end at the point", 0.20, 0.24),
            ("near zero", 0.001, 0.0)]
    svg = figure_svg(tornado(bars, baseline=0.2, caption="Held: nothing."))
    _check_tornado(svg)
    texts = [b[0] for b in _text_boxes(svg)]
    for value in ("30.0%", "5.0%", "26.0%", "31.0%", "12.0%", "17.0%", "24.0%", "0.1%", "0.0%"):
        assert value in texts
    assert "Held: nothing." in texts


def test_interval_bars_write_values_in_a_column_clear_of_whiskers_and_line():
    rows = [("a", 0.30, 0.25, 0.36), ("b", 0.36, 0.30, 0.37), ("c", 0.05, None, None)]
    svg = figure_svg(interval_bars(rows, baseline=0.36, groups=["prevention"] * 3,
                                   caption="Every mitigation off."))
    boxes = _text_boxes(svg)
    left, _top, right, _bottom = _axes_box(svg)
    # the value column sits right of the plot, beyond every whisker and the reference line
    column = [b[0] for b in boxes if b[1] > right]
    assert column == ["30.0% [25.0%, 36.0%]", "36.0% [30.0%, 37.0%]", "5.0%",
                      "value [90% interval]"]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not _overlap(a[1:5], b[1:5]), f"labels overlap: {a[0]!r} and {b[0]!r}"


def test_parameter_labels_come_from_the_descriptions():
    net = gmnet.load_network()
    assert parameter_label(net, "m_spec.medium") == ("Specification-quality multiplier on goal "
                                                     "failure: medium")
    assert parameter_label(net, "p_goal_features_clear.low") == (
        "P(the training signal exposes the true goal's features | specification quality = low)")
    assert parameter_label(net, "m_adoption.superhuman") == (
        "Odds ratio on every mitigation's adoption by capability level = superhuman")
    # a name the network does not know keeps the fallback
    assert parameter_label(net, "unknown:x", "Critical Unknown: x") == "Critical Unknown: x"
    assert wrap_label("a " * 100, 10, 2).count("\n") == 1
    assert wrap_label("a " * 100, 10, 2).endswith("…")


def test_figure_caption_names_scenarios_worldview_evidence_do_and_held():
    net, _ = gmnet.apply(gmnet.load_network(), scenario=["ai_assistants", "2026-2027"],
                         worldview="document-note")
    text = figure_caption(net, evidence={"spec_quality": "low"},
                          do={"ai_control": "on"},
                          held={"alignment_method": "standard",
                                **{m: "off" for m in ("adversarial_training",
                                                      "objective_probing", "human_override")}})
    assert text == ("Scenarios: ai_assistants + 2026-2027. Worldview: document-note. Observed: "
                    "spec_quality=low. Set by do(): ai_control=on. Held by do(): "
                    "alignment_method=standard; every other mitigation off.")


def test_heatmap_refuses_the_target_as_a_row_or_column():
    net = gmnet.load_network()
    with pytest.raises(InvalidArgumentError, match="rows 'harm' is the target"):
        probability_grid(net, "harm", "spec_quality")
    with pytest.raises(InvalidArgumentError, match="columns 'goal_misgeneralizes' is the target"):
        probability_grid(net, "shift_type", "goal_misgeneralizes", target="goal_misgeneralizes")


def test_domains_chart_shows_the_documents_ranges_beside_the_models():
    from gmnet.viz.charts import chart

    result = chart("domains", gmnet.load_network())
    assert result.data["document"][0][:2] == ["3-12%", "5-15%"]   # Game AI, current and 2027
    assert result.data["document"][-1][:2] == ["25-45%", "40-60%"]  # Autonomous agents
    assert result.data["document"][0][2:] == [None, None]           # no range for later periods
    texts = [b[0] for b in _text_boxes(figure_svg(result.figure), skip_rotated=True)]
    assert result.caption.startswith("Each cell applies a domain and a period scenario")
    assert "document 25-45%" in texts and "document 3-12%" in texts


def test_heatmap_cells_show_their_intervals():
    from gmnet.viz.charts import chart

    result = chart("heatmap", gmnet.load_network(), samples=200, rng=3)
    intervals = result.data["intervals"]
    assert intervals["level"] == 0.9 and intervals["samples"] == 200 and intervals["seed"] == 3
    values = result.data["values"]
    assert len(intervals["values"]) == len(values) == 4
    for row, spans in zip(values, intervals["values"], strict=True):
        for value, (low, high) in zip(row, spans, strict=True):
            assert 0 <= low < high <= 1 and low <= value + 0.05 and value - 0.05 <= high
    texts = [b[0] for b in _text_boxes(figure_svg(result.figure), skip_rotated=True)]
    low, high = intervals["values"][3][1]  # extreme shift, medium specification
    assert f"[{low:.1%}–{high:.1%}]" in texts
    assert "values" not in chart("heatmap", gmnet.load_network(), samples=None).data.get(
        "intervals", {})


@pytest.mark.parametrize("kind", ["heatmap", "mitigations", "uncertainty", "tornado"])
def test_every_chart_says_what_it_held_under_a_scenario(kind):
    from gmnet.viz.charts import chart

    net, evidence = gmnet.apply(gmnet.load_network(), scenario="autonomous_agents")
    result = chart(kind, net, evidence=evidence, samples=64, rng=0)
    assert result.caption.startswith("Scenario: autonomous_agents.")
    assert "capability_level=human_level" in result.caption
    svg = figure_svg(result.figure)
    caption_lines = [t for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    assert any(line.startswith("Scenario: autonomous_agents.") for line in caption_lines)
    mine = chart(kind, net, evidence=evidence, samples=64, rng=0, caption="My own words.")
    words = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", figure_svg(mine.figure)))
    assert mine.caption == "My own words." and "My own words." in words
