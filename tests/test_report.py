"""The one-file HTML report: self-contained, complete, printable; and `gmnet run` writes it."""

from __future__ import annotations

import base64
import html
import re
import shutil
from pathlib import Path

import pytest

import gmnet
from gmnet.cli import main
from gmnet.report import SECTIONS, build_report, write_report

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (Debian: graphviz)")

# attributes that make a browser fetch something
_FETCHING = re.compile(r"""\b(src|href|xlink:href|srcset|poster|data|action)\s*=\s*(["'])(.*?)\2""",
                       re.I | re.S)


@pytest.fixture(scope="module")
def report_html():
    return build_report(gmnet.load_network(), samples=200, rng=1)


def _external_references(text: str) -> list[str]:
    bad = []
    for _attr, _q, value in _FETCHING.findall(text):
        if not (value.startswith("#") or value.startswith("data:")):
            bad.append(value)
    bad += re.findall(r"url\(\s*['\"]?(?!data:|#)([^)'\"]+)", text)
    bad += re.findall(r"@import\s+[^;]+", text)
    bad += re.findall(r"<link\b[^>]*>", text, flags=re.I)
    bad += re.findall(r"<script\b[^>]*\bsrc=[^>]*>", text, flags=re.I)
    return bad


def test_no_request_leaves_the_file(report_html):
    assert _external_references(report_html) == []
    # and the embedded SVG images fetch nothing either
    for encoded in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', report_html):
        assert _external_references(base64.b64decode(encoded).decode("utf-8")) == []


def test_the_checker_catches_external_urls():
    assert _external_references('<img src="https://example.org/x.png">') == [
        "https://example.org/x.png"]
    assert _external_references('<link rel="stylesheet" href="s.css">') != []
    assert _external_references('<div style="background: url(http://x/y.png)">') != []
    assert _external_references('<a href="#core_table">ok</a>') == []


def test_report_has_every_section_in_order(report_html):
    present = [s.key for s in SECTIONS if f'<section id="{s.key}"' in report_html]
    for key in ("overview", "diagram", "core_table", "what_if", "parameters"):
        assert key in present
    positions = [report_html.index(f'<section id="{k}"') for k in present]
    assert positions == sorted(positions)
    assert report_html.startswith("<!DOCTYPE html>") and report_html.rstrip().endswith("</html>")
    assert "@media print" in report_html and "break-inside: avoid" in report_html


def test_core_table_as_reproduced(report_html):
    section = report_html.split('<section id="core_table"')[1].split("</section>")[0]
    for value in ("3.6%", "10.0%", "21.8%", "27.7%", "85.0%", "45.0%", "75.0%"):
        assert f"<b>{value}</b>" in section or value in section
    assert "Detailed Risk Assessment by Shift Type" in section


def test_appendix_lists_every_number_with_its_source(report_html):
    net = gmnet.load_network()
    appendix = html.unescape(report_html.split('<section id="parameters"')[1])
    for p in net.parameters.values():
        assert f"<code>{p.name}</code>" in appendix, p.name
        assert p.source in appendix, p.name
    assert appendix.count('class="assumption"') >= sum(
        p.is_assumption for p in net.parameters.values())


def test_what_if_numbers_match_the_network(report_html):
    # the report asks on the Question path: the CLI's numbers, with their intervals
    before = gmnet.ask("P(harm=yes | do(shift_type=extreme, spec_quality=low))")
    after = gmnet.with_interval(gmnet.ask(
        "P(harm=yes | do(shift_type=extreme, spec_quality=low, "
        "alignment_method=interpretability_verified))"), samples=200, seed=1)
    section = report_html.split('<section id="what_if"')[1].split("</section>")[0]
    lo, hi = after.interval
    assert f"<b>{after.probability:.1%} <span class=\"doc\">[{100 * lo:.1f}-{100 * hi:.1f}%]" \
        in section
    assert f"{before.probability:.1%} <span" in section
    assert "Assumed: context: baseline; held at the document&#x27;s baseline" in section
    assert "data:image/svg+xml;base64," in section  # the heatmap


@needs_dot
def test_diagram_is_inline_svg_with_every_label(report_html):
    net = gmnet.load_network()
    section = html.unescape(report_html.split('<section id="diagram"')[1].split("</section>")[0])
    assert "<svg" in section and "<?xml" not in section and "<!DOCTYPE" not in section
    for var in net.variables:
        assert (net.node(var).label or var) in section


def test_mitigations_section_when_the_analysis_exists(report_html):
    from gmnet.viz.charts import available

    if not available("mitigations"):
        pytest.skip("no mitigation analysis in this version")
    section = report_html.split('<section id="mitigations"')[1].split("</section>")[0]
    assert "Shapley" in section and "data:image/svg+xml;base64," in section


def test_scenario_evidence_reaches_every_query():
    net = gmnet.load_network()
    text = build_report(net, evidence={"shift_type": "extreme"}, label="scenario test",
                        sections=["overview", "what_if"])
    assert "scenario test" in text and "shift_type=extreme" in text
    assert '<section id="core_table"' not in text


def test_report_arguments_are_checked(tmp_path):
    net = gmnet.load_network()
    with pytest.raises(gmnet.UnknownNameError, match="report section 'tables'"):
        build_report(net, sections=["tables"])
    with pytest.raises(gmnet.InvalidArgumentError, match="samples"):
        build_report(net, samples=3)
    with pytest.raises(gmnet.UnknownNameError, match="shift_typ"):
        build_report(net, evidence={"shift_typ": "extreme"})
    with pytest.raises(gmnet.InvalidArgumentError, match=r"\*\.html"):
        write_report(net, tmp_path / "report.pdf")


def test_report_without_dot_still_written(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    path = write_report(gmnet.load_network(), tmp_path / "r.html",
                        sections=["diagram", "core_table"])
    text = path.read_text()
    assert "The diagram is not included" in text and "Debian package graphviz" in text
    assert "27.7%" in text


def test_cli_report(tmp_path, capsys):
    out = tmp_path / "r.html"
    code = main(["report", "--out", str(out), "--sections", "overview,core_table"])
    stdout, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert stdout.startswith(f"wrote {out} (") and out.read_text().count("<section") == 2
    code = main(["report", "--out", str(tmp_path / "missing" / "r.html")])
    _, err = capsys.readouterr()
    assert code == 2 and "folder" in err and "does not exist" in err


def test_run_writes_the_report_and_says_where(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["run"])  # no report unless asked
    assert code == 0 and "Report" not in capsys.readouterr()[0]
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "out").mkdir()
    code = main(["run", "--report", "out/report.html"])
    stdout, _ = capsys.readouterr()
    assert code == 0
    assert stdout.rstrip().endswith("out/report.html")
    text = (tmp_path / "out" / "report.html").read_text()
    assert "27.7%" in text and _external_references(text) == []
    code = main(["run", "--no-report", "--json"])
    assert code == 0 and '"report": null' in capsys.readouterr()[0]


def test_audit_section_summarises_the_audit(report_html):
    from gmnet.viz.charts import available

    if not available("domains"):  # the audit arrives with the scenarios
        pytest.skip("no audit in this version")
    from gmnet.analysis.audit import VERDICTS, audit

    totals = audit(gmnet.load_network()).verdicts()
    section = html.unescape(report_html.split('<section id="audit"')[1].split("</section>")[0])
    for verdict, count in totals.items():
        if count:
            assert f"<b>{count}</b> {VERDICTS[verdict]}" in section
    assert "Where the document disagrees with itself" in section
    assert "87% x 76% x 45% = 29.8%" in section


def test_domain_by_period_heatmap_matches_the_audit():
    from gmnet.viz.charts import available, chart

    if not available("domains"):
        pytest.skip("no scenarios in this version")
    from gmnet.analysis.audit import audit

    net = gmnet.load_network()
    drawn = chart("domains", net)
    rows, cols = drawn.data["rows"], drawn.data["columns"]
    row = audit(net).section("Application Domain Risk Profiles").row(
        "Game AI (Type 1-2, High (0.8)), current")
    assert drawn.data["values"][rows.index("game_ai")][cols.index("2024-2025")] == \
        pytest.approx(row.model_value, abs=1e-12)


def test_cli_report_under_a_scenario(tmp_path, capsys):
    from gmnet.viz.charts import available

    if not available("domains"):
        pytest.skip("no scenarios in this version")
    out = tmp_path / "agents.html"
    code = main(["report", "--scenario", "autonomous_agents", "--out", str(out),
                 "--sections", "overview,diagram,what_if"])
    assert code == 0, capsys.readouterr()[1]
    text = html.unescape(out.read_text())
    assert "report (scenario autonomous_agents)" in text
    assert "Evidence in every query" in text and "spec_quality=low" in text


@needs_dot
def test_diagram_scales_with_the_page(report_html):
    section = report_html.split('<section id="diagram"')[1].split("</section>")[0]
    root = re.search(r"<svg[^>]*>", section).group(0)
    assert 'width="100%"' in root and "max-width:" in root and "viewBox=" in root
    assert not re.search(r'height="[\d.]+pt"', root)


def test_report_on_another_network_keeps_what_applies(tmp_path):
    toy = gmnet.load_network(Path(__file__).parent / "networks" / "chain.yaml")
    text = build_report(toy)
    assert '<section id="parameters"' in text and '<section id="overview"' in text
    for key in ("core_table", "what_if", "mitigations", "audit"):
        assert f'<section id="{key}"' not in text


def test_uncertainty_and_sensitivity_sections(report_html):
    from gmnet.viz.charts import available

    if not available("uncertainty"):
        pytest.skip("no uncertainty analysis in this version")
    from gmnet.analysis.uncertainty import uncertainty
    from gmnet.viz.charts import focus_question

    net = gmnet.load_network()
    section = report_html.split('<section id="uncertainty"')[1].split("</section>")[0]
    q = focus_question(net)
    for shift, doc_range in (("superficial", "1-10%"), ("extreme", "13-51%")):
        result = uncertainty(net, "harm", "yes", do={**q.do, "shift_type": shift},
                             samples=200, rng=1)
        lo, hi = result.interval(0.9)
        assert f"{lo:.1%} – {hi:.1%}" in section and doc_range in section
    assert "200 draws, seed 1" in section
    section = report_html.split('<section id="sensitivity"')[1].split("</section>")[0]
    assert "Critical Unknown: LLM vs RL generalization" in section
    assert section.count("data:image/svg+xml;base64,") == 2  # tornado and Sobol


# ============================================================================ robustness (issue 9)
def _no_section_may_run(monkeypatch):
    import gmnet.report as report_module

    def never(*args, **kwargs):
        raise AssertionError("a section ran before the arguments were checked")

    monkeypatch.setattr(report_module, "_build", never)


def test_report_sample_limits_are_checked_before_any_section(tmp_path, monkeypatch, capsys):
    _no_section_may_run(monkeypatch)
    net = gmnet.load_network()
    with pytest.raises(gmnet.InvalidArgumentError, match="samples must be at most 1,000,000"):
        build_report(net, samples=100_000_000_000)
    with pytest.raises(gmnet.InvalidArgumentError,
                       match="the mitigations section evaluates all 512 portfolios on every "
                             "draw: .* use at most 39,062 samples, or leave the section out"):
        build_report(net, samples=100_000)
    out = tmp_path / "r.html"
    code = main(["report", "-o", str(out), "-n", "100000000000"])
    stdout, err = capsys.readouterr()
    assert code == 2 and stdout == "" and err.count("\n") == 1
    assert err.startswith("gmnet: error: ") and "1000000" in err
    code = main(["report", "-o", str(out), "-n", "100000"])
    stdout, err = capsys.readouterr()
    assert code == 2 and stdout == "" and "use at most 39,062 samples" in err
    assert not out.exists()


def test_report_path_is_checked_before_any_section(tmp_path, monkeypatch, capsys):
    _no_section_may_run(monkeypatch)
    net = gmnet.load_network()
    with pytest.raises(gmnet.InvalidArgumentError, match="folder .*missing does not exist"):
        write_report(net, tmp_path / "missing" / "r.html")
    (tmp_path / "d.html").mkdir()
    with pytest.raises(gmnet.InvalidArgumentError, match=r"d\.html: it is a folder"):
        write_report(net, tmp_path / "d.html")
    code = main(["report", "-o", str(tmp_path / "r.txt")])
    _, err = capsys.readouterr()
    assert code == 2 and "the report is HTML; name the file *.html" in err


def test_report_progress_callback_sees_every_section(net):
    from gmnet.report import build_report

    calls = []
    build_report(net, sections=["overview", "core_table", "parameters"],
                 progress=lambda title, done, total: calls.append((title, done, total)))
    assert [(done, total) for _, done, total in calls] == [(0, 3), (1, 3), (2, 3)]
    assert calls[0][0] == "Overview"


# ============================================================================ the brief (issue 20)
def _section(text: str, key: str) -> str:
    return text.split(f'<section id="{key}"')[1].split("</section>")[0]


def _cell(answer) -> str:
    """How the report writes a point and its interval in a table cell."""
    from gmnet.display import percent, percent_interval

    return (f"<b>{percent(answer.probability)} <span class=\"doc\">"
            f"[{percent_interval(*answer.interval)}]</span></b>")


def test_the_brief_comes_first_and_the_appendix_after_a_page_break(report_html):
    body = report_html.split("<body>", 1)[1]
    sections = re.findall(r'<section id="(\w+)"( class="(\w+)")?', body)
    assert sections[0][0] == "brief" and sections[1] == ("overview", ' class="appendix"',
                                                         "appendix")
    assert "section.appendix { break-before: page;" in report_html
    brief = _section(report_html, "brief")
    assert 'class="headline-number"' in brief and 'class="whatifs"' in brief
    assert brief.count("data:image/svg+xml;base64,") == 1  # the mitigation chart
    assert "Context policy</dt><dd><b>baseline</b>" in brief
    assert "Your numbers</dt><dd>none" in brief


def test_the_brief_numbers_are_gmnet_ask_numbers(report_html):
    from gmnet.display import percent

    brief = _section(report_html, "brief")
    head = gmnet.with_interval(gmnet.ask("P(harm=yes)"), samples=200, seed=1)
    lo, hi = head.interval
    assert f'<div class="headline-number">{percent(head.probability)}</div>' in brief
    assert f"90% interval {percent(lo)} to {percent(hi)}" in brief
    assert percent(head.probability) == "15.8%"
    # the what-ifs: the three changes that lower P(harm) most, then the two that raise it most
    rows = re.findall(r"<code>do\((\w+)=(\w+)\)</code></td><td[^>]*>(.*?)</td>", brief)
    # asked independently: every other state of every context node the headline leaves open
    net = gmnet.load_network()
    held = gmnet.ask("P(harm=yes)").held
    tried = {(v, s): gmnet.ask(f"P(harm=yes | do({v}={s}))").probability
             for v in net.variables if net.node(v).role == "context"
             for s in net.states(v) if held.get(v) != s}
    order = sorted(tried, key=tried.get)
    assert [(n, s) for n, s, _ in rows] == order[:3] + order[::-1][:2]
    for node, state, cell in rows:
        expected = gmnet.with_interval(gmnet.ask(f"P(harm=yes | do({node}={state}))"),
                                       samples=200, seed=1)
        assert cell == _cell(expected), (node, state)
    assert "<b>27.7% <span" in brief  # an extreme shift: the core table's number


def test_the_brief_mitigation_chart_agrees_with_the_question_path(report_html):
    brief = html.unescape(_section(report_html, "brief"))
    assert "each bar is the Question path's P(harm=yes | do(...)) with its mitigations on" in brief
    assert "the line is no mitigation (15.8%, the headline)" in brief
    # its caption says what is held: the Answer's assumption lines
    for line in gmnet.ask("P(harm=yes)").resolved.assumptions():
        assert f'<span class="held">{line}</span>' in brief


def test_a_scenario_report_starts_its_what_ifs_from_the_scenario():
    from gmnet.model.question import Question

    net = gmnet.load_network()
    scenarios = ("autonomous_agents", "2028-2030")
    text = build_report(net, question=Question("harm", scenarios=scenarios), samples=100, rng=2,
                        label="scenario autonomous_agents + 2028-2030",
                        sections=["brief", "what_if"])
    brief = _section(text, "brief")
    head = gmnet.with_interval(gmnet.ask("P(harm=yes)", scenario=scenarios), samples=100, seed=2)
    assert f'<div class="headline-number">{gmnet.display.percent(head.probability)}</div>' \
        in brief and round(head.probability, 3) == 0.5
    rows = re.findall(r"<code>do\((\w+)=(\w+)\)</code></td><td[^>]*>(.*?)</td>", brief)
    assert rows and {n for n, _, _ in rows} <= {"training_diversity", "alignment_method"}
    for node, state, cell in rows:  # no extreme shift, no specification the scenario observes
        expected = gmnet.with_interval(
            gmnet.ask(f"P(harm=yes | do({node}={state}))", scenario=scenarios),
            samples=100, seed=2)
        assert cell == _cell(expected), (node, state)
    # the mitigation chart asks the same question: its no-mitigation line is the headline
    plain = html.unescape(brief)
    assert f"the line is no mitigation ({gmnet.display.percent(head.probability)}, the " \
        "headline)" in plain
    assert "differ" not in plain
    # and the appendix's what-if table starts from the scenario too
    section = html.unescape(_section(text, "what_if"))
    assert "Start under the report's scenario (<code>P(harm=yes)</code>)" in section
    assert "do(shift_type" not in section and "do(spec_quality" not in section


def test_the_brief_under_context_prior_says_why_no_mitigation_is_not_the_headline():
    from gmnet.analysis.mitigations import mitigations_of
    from gmnet.display import percent
    from gmnet.model.question import Question

    net = gmnet.load_network()
    text = html.unescape(build_report(net, question=Question("harm", context="prior"),
                                      sections=["brief"], samples=50))
    head = gmnet.ask("P(harm=yes)", context="prior").probability
    off = gmnet.ask("P(harm=yes | do(" + ", ".join(f"{m.name}=off" for m in mitigations_of(net))
                    + "))", context="prior").probability
    assert "Context policy</dt><dd><b>prior</b>: nothing held" in text
    assert f"the line is no mitigation ({percent(off)}; the headline, {percent(head)}, leaves " \
        "the mitigations at their adoption priors)" in text
    assert percent(off) != percent(head)
    assert "differ" not in text and "instead of its prior mix" in text


def test_every_figure_has_a_caption_with_what_it_holds(report_html):
    held = gmnet.ask("P(harm=yes)").resolved.assumptions()[0]
    for key in ("brief", "what_if", "mitigations", "uncertainty", "sensitivity"):
        section = _section(report_html, key)
        figures = section.count('<img class="figure"')
        captions = re.findall(r'<img class="figure"[^>]*>\s*<p class="caption">(.*?)</p>',
                              section, flags=re.S)
        assert figures and len(captions) == figures, key
        for caption in captions:
            assert '<span class="held">context: baseline; held' in caption, key
    assert html.escape(held, quote=True) in _section(report_html, "brief")


def test_the_audit_counts_sit_under_their_headers(report_html):
    from gmnet.analysis.audit import VERDICTS

    section = _section(report_html, "audit")
    table = re.search(r'<table class="verdicts">.*?</table>', section, flags=re.S).group(0)
    for label in VERDICTS.values():
        assert f'<th class="num">{html.escape(label)}</th>' in table
    assert re.search(r'<td class="num" data-label="reproduced exactly">12</td>', table)


def test_core_table_is_asked_on_the_question_path_without_the_scenario():
    from gmnet.model.question import Question

    text = build_report(gmnet.load_network(), sections=["core_table"],
                        question=Question("harm", scenarios=("autonomous_agents",)))
    section = _section(text, "core_table")
    for shift in ("superficial", "extreme"):
        p = gmnet.ask(f"P(harm=yes | shift_type={shift})").probability
        assert f"<b>{gmnet.display.percent(p)}</b>" in section
    assert "asked without the report's scenario" in section
    assert "context: baseline; held at the document" in html.unescape(section)
