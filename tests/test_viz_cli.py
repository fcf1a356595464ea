"""`gmnet draw` and `gmnet plot`: files, JSON, messages."""

from __future__ import annotations

import json
import shutil

import pytest

import gmnet
from gmnet.cli import main

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (Debian: graphviz)")


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_draw_prints_dot_by_default(capsys):
    code, out, err = run(capsys, "draw")
    assert code == 0 and err == ""
    assert out.startswith('digraph "goal_misgeneralization" {') and out.rstrip().endswith("}")


@needs_dot
@pytest.mark.parametrize("suffix, magic", [("svg", b"<?xml"), ("png", b"\x89PNG"),
                                           ("pdf", b"%PDF"), ("dot", b"digraph")])
def test_draw_writes_every_format(capsys, tmp_path, net, suffix, magic):
    out = tmp_path / f"d.{suffix}"
    code, stdout, err = run(capsys, "draw", "--out", str(out), "--query",
                            "P(harm | shift_type=extreme)")
    assert code == 0, err
    assert out.read_bytes().startswith(magic)
    assert stdout.splitlines()[0] == f"wrote {out} ({suffix}, {len(net.variables)} nodes)"
    assert stdout.splitlines()[1].startswith("  harm: yes ")


def test_draw_json_has_the_marginals(capsys, tmp_path, net):
    out = tmp_path / "d.dot"
    code, stdout, _ = run(capsys, "draw", "--json", "-o", str(out), "-e", "shift_type=extreme",
                          "--do", "alignment_method=standard", "--target", "harm")
    assert code == 0
    payload = json.loads(stdout)
    expected = gmnet.ask("P(harm | shift_type=extreme, do(alignment_method=standard))",
                         network=net).distribution
    assert payload["distribution"] == pytest.approx(expected, abs=1e-12)
    assert payload["held"]["capability_level"] == "human_level"
    assert payload["marginals"]["shift_type"]["extreme"] == 1.0
    assert payload["format"] == "dot" and payload["out"] == str(out)


@pytest.mark.parametrize("args, message", [
    (["--format", "png"], "png is binary; give --out FILE.png"),
    (["--out", "x.jpg"], "end the file name with one of: .svg, .png, .pdf, .dot"),
    (["--evidence", "shift_type"], "write it as VAR=STATE"),
    (["--evidence", "shift_typo=extreme"], "unknown variable 'shift_typo'"),
    (["--query", "P(harm | shift_type=huge)"], "unknown state 'huge'"),
    (["--out", "/nonexistent/folder/d.svg"], "folder /nonexistent/folder does not exist"),
])
def test_draw_errors_are_one_line(capsys, args, message):
    code, out, err = run(capsys, "draw", *args)
    assert code == 2 and out == ""
    assert err.startswith("gmnet: error: ") and message in err and err.count("\n") == 1


def test_draw_without_dot_says_what_to_install(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code, _, err = run(capsys, "draw", "--out", str(tmp_path / "d.svg"))
    assert code == 2
    assert "Debian package graphviz" in err and "apt-get install graphviz" in err
    code, _, _ = run(capsys, "draw", "--out", str(tmp_path / "d.dot"))
    assert code == 0 and (tmp_path / "d.dot").read_text().startswith("digraph")


def test_plot_heatmap(capsys, tmp_path):
    out = tmp_path / "h.svg"
    code, stdout, err = run(capsys, "plot", "heatmap", "--out", str(out), "--json")
    assert code == 0, err
    payload = json.loads(stdout)
    assert payload["data"]["values"][3][1] == pytest.approx(0.277, abs=5e-4)
    assert "27.7%" in out.read_text()


def test_plot_errors(capsys, tmp_path):
    code, _, err = run(capsys, "plot", "heatmap", "--out", str(tmp_path / "h.gif"))
    assert code == 2 and ".svg, .png, .pdf" in err
    code, _, err = run(capsys, "plot", "heatmap", "--rows", "shift", "--out",
                       str(tmp_path / "h.svg"))
    assert code == 2 and "unknown variable 'shift'" in err
    code, _, err = run(capsys, "plot", "pie", "--out", str(tmp_path / "h.svg"))
    assert code == 2 and "pie" in err


def test_plot_domains(capsys, tmp_path):
    from gmnet.viz.charts import available

    if not available("domains"):
        pytest.skip("no scenarios in this version")
    out = tmp_path / "d.svg"
    code, stdout, err = run(capsys, "plot", "domains", "--out", str(out))
    assert code == 0, err
    assert stdout.startswith(f"wrote {out} (domains)")
    text = out.read_text()
    assert "Autonomous agents" in text and "2024-2025" in text


def test_draw_under_a_scenario(capsys, tmp_path, net):
    from gmnet.viz.charts import available

    if not available("domains"):
        pytest.skip("no scenarios in this version")
    out = tmp_path / "d.dot"
    code, stdout, err = run(capsys, "draw", "--json", "-o", str(out), "--scenario",
                            "autonomous_agents", "-q", "P(harm | do(spec_quality=high))")
    assert code == 0, err
    payload = json.loads(stdout)
    expected = gmnet.ask("P(harm | do(spec_quality=high))", network=net,
                         scenario="autonomous_agents").distribution
    assert payload["distribution"] == pytest.approx(expected, abs=1e-12)
    assert "spec_quality" not in payload["evidence"]  # do() wins over the scenario's evidence
    code, _, err = run(capsys, "draw", "--scenario", "autonomous_agents", "-q",
                       "P(harm | spec_quality=high)")
    assert code == 2 and "contradicts the scenario's spec_quality=low" in err
    code, _, err = run(capsys, "draw", "-e", "shift_type=extreme", "-q",
                       "P(harm | shift_type=moderate)")
    assert code == 2 and "given in the query and as an option" in err


# ============================================================================ robustness (issue 9)
@pytest.mark.parametrize("fmt, name, said", [("svg", "x.png", "png"), ("png", "d.svg", "svg"),
                                             ("dot", "d.pdf", "pdf"), ("pdf", "d.gv", "dot"),
                                             ("svg", "d.jpg", "jpg")])
def test_draw_format_contradicting_the_file_name_is_refused(capsys, tmp_path, fmt, name, said):
    out = tmp_path / name
    code, stdout, err = run(capsys, "draw", "--format", fmt, "-o", str(out))
    assert code == 2 and stdout == "" and err.count("\n") == 1
    assert err.startswith(f"gmnet: error: format {fmt} contradicts the file name '{out}' "
                          f"(a .{said} file)")
    assert not out.exists() and not list(tmp_path.iterdir())


def test_draw_format_agreeing_with_or_naming_an_unknown_ending(capsys, tmp_path):
    code, stdout, err = run(capsys, "draw", "--format", "dot", "-o", str(tmp_path / "d.gv"))
    assert code == 0, err
    assert (tmp_path / "d.gv").read_text().startswith("digraph")
    code, stdout, err = run(capsys, "draw", "--format", "dot", "-o", str(tmp_path / "plain"))
    assert code == 0, err
    assert stdout.startswith(f"wrote {tmp_path / 'plain'} (dot,")


@pytest.mark.parametrize("command", [["plot", "uncertainty"], ["plot", "sobol"],
                                     ["plot", "mitigations"], ["report"]])
def test_sample_counts_are_checked_before_anything_runs(capsys, tmp_path, monkeypatch,
                                                        command):
    from gmnet.viz import charts

    def never(*args, **kwargs):
        raise AssertionError("an analysis ran before the sample count was checked")

    for name in ("_uncertainty", "_sensitivity", "_mitigations", "_heatmap", "_domains"):
        monkeypatch.setattr(charts, name, never)
    suffix = "html" if command == ["report"] else "svg"
    out = tmp_path / f"r.{suffix}"
    code, stdout, err = run(capsys, *command, "-o", str(out), "-n", "100000000000")
    assert code == 2 and stdout == "" and err.count("\n") == 1
    assert err.startswith("gmnet: error: ") and "100000000000" in err and "1000000" in err
    assert not out.exists()


def test_plot_mitigations_checks_samples_times_portfolios_up_front(capsys, tmp_path,
                                                                   monkeypatch):
    from gmnet.analysis import mitigations

    if not charts_available("mitigations"):
        pytest.skip("no mitigation analysis in this version")

    def never(*args, **kwargs):
        raise AssertionError("compared the mitigations before checking the sample count")

    monkeypatch.setattr(mitigations, "compare_mitigations", never)
    out = tmp_path / "m.svg"
    code, _, err = run(capsys, "plot", "mitigations", "-o", str(out), "-n", "100000")
    assert code == 2 and err.count("\n") == 1
    assert ("gmnet: error: the mitigation chart evaluates all 512 portfolios on every draw: "
            "100,000 samples x 512 portfolios is 51,200,000 answers, more than 20,000,000; "
            "use at most 39,062 samples") in err
    assert not out.exists()


def charts_available(kind: str) -> bool:
    from gmnet.viz.charts import available

    return available(kind)
