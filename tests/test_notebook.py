"""Jupyter: the example notebook runs, and networks and results display themselves."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

import gmnet
from gmnet.analysis.whatif import neutral_context, what_if
from gmnet.viz.notebook import register_formatters, result_html

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "what_if.ipynb"


def _outputs(cell) -> list[dict]:
    return [o for o in cell.get("outputs", [])]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_example_notebook_runs(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # the kernel imports this checkout's gmnet (not another installed copy)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(NOTEBOOK.parent.parent), *filter(None, [os.environ.get("PYTHONPATH")])]))
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError if any cell fails
    code = [c for c in nb.cells if c.cell_type == "code"]
    data = [o.get("data", {}) for c in code for o in _outputs(c)]
    text = "".join(o.get("text", "") for c in code for o in _outputs(c))
    # the network draws itself
    first = _outputs(code[0])[0]["data"]
    assert "image/svg+xml" in first and "Goal misgeneralizes" in first["image/svg+xml"]
    # the document's core table comes out of plain questions
    for shift, shown in (("superficial", "3.6%"), ("extreme", "27.7%")):
        assert f"P(harm=yes | shift_type={shift}) = {shown}" in text
        assert f"(document: {shown})" in text
    # the notebook agrees with itself: the deployment's answer is the number its diagram shows
    deployment = gmnet.ask("P(harm=yes | do(shift_type=extreme, spec_quality=low))")
    verified = gmnet.ask("P(harm=yes | do(shift_type=extreme, spec_quality=low, "
                         "alignment_method=interpretability_verified))")
    html = [d["text/html"] for d in data if "text/html" in d]
    assert any(deployment.statement().split(" = ")[0] in h and "held at the document" in h
               for h in html)
    svgs = [d["image/svg+xml"] for d in data if "image/svg+xml" in d]
    diagram = [s for s in svgs if "P(harm=yes | do(shift_type=extreme, spec_quality=low))" in s]
    assert diagram and f"{deployment.probability:.1%}" in diagram[0]
    change = (verified.probability - deployment.probability) / deployment.probability
    assert f"{deployment.probability:.1%} -> {verified.probability:.1%} ({change:+.0%})" in text
    assert "no mitigation 27.7%  (the question asked alone: 27.7%)" in text


def test_notebook_is_stored_without_outputs():
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_results_render_as_html_tables(net):
    base = {**neutral_context(net), "shift_type": "extreme"}
    result = what_if(net, "harm", "yes", baseline_do=base,
                     intervention={"alignment_method": "interpretability_verified"})
    html = result_html(result)
    assert html.startswith("<table") and f"{result.after:.2%}" in html
    assert f"{result.relative_change:+.1%}" in html
    comparison = gmnet.compare_mitigations(net, evidence={"shift_type": "extreme"})
    html = result_html(comparison)
    assert "no mitigation 27.70%" in html and "Shapley share" in html
    for value in comparison.values:
        assert value.mitigation.label in html


def test_formatters_register_by_name_with_ipython(net):
    formatters = pytest.importorskip("IPython.core.formatters")
    shell = SimpleNamespace(display_formatter=formatters.DisplayFormatter())
    assert register_formatters(shell) is True
    base = {**neutral_context(net), "shift_type": "extreme"}
    result = what_if(net, "harm", "yes", baseline_do=base,
                     intervention={"training_diversity": "diverse"})
    bundle, _ = shell.display_formatter.format(result)
    assert "What if do(training_diversity=diverse)?" in bundle["text/html"]


def test_no_ipython_no_registration(monkeypatch):
    import sys

    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert register_formatters() is False


def test_audit_report_renders_as_html(net):
    audit_module = pytest.importorskip("gmnet.analysis.audit")
    report = audit_module.audit(net)
    html = result_html(report)
    assert "Detailed Risk Assessment by Shift Type" in html
    assert f"{report.verdicts()['reproduced']} reproduced exactly" in html
    assert report.inconsistencies[0].title.split(":")[0] in html.replace("&#x27;", "'")


def test_uncertainty_and_sensitivity_results_render(net):
    unc = pytest.importorskip("gmnet.analysis.uncertainty")
    sens = pytest.importorskip("gmnet.analysis.sensitivity")
    result = unc.uncertainty(net, "harm", "yes", do={"shift_type": "extreme"}, samples=300,
                             rng=4)
    html = result_html(result)
    assert f"{result.quantiles()[0.95]:.2%}" in html and "300" in html
    swings = sens.sensitivity(net, "harm", "yes", do={"shift_type": "extreme"}, samples=None)
    html = result_html(swings)
    top = max((r for r in swings.rows if r.reaches_target), key=lambda r: r.swing)
    assert top.label in html and f"{top.output_low:.2%}" in html
