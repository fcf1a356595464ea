"""Sensitivity: one-way swings and Sobol indices on networks whose answer is known."""

import json

import numpy as np
import pytest

from gmnet.analysis.sensitivity import sensitivity
from gmnet.cli import main
from gmnet.errors import InvalidArgumentError
from gmnet.model.network import network_from_dict

SOURCE = "assumption: test"


def additive_network():
    """P(out=yes) = 0.5 q1 + 0.25 q2, q1 and q2 alike; r feeds a node out never sees.

    Var(0.5 q1) = 4 Var(0.25 q2), so S1(q1) = ST(q1) = 0.8, S1(q2) = ST(q2) = 0.2, r: 0.
    """
    same = {"unit": "probability", "value": 0.4, "range": [0.2, 0.6], "source": SOURCE}
    return network_from_dict({
        "name": "additive",
        "parameters": {"q1": same, "q2": same,
                       "r": {"unit": "probability", "value": 0.5, "range": [0.1, 0.9],
                             "source": SOURCE}},
        "nodes": {
            "out": {"states": ["yes", "no"], "cpt": {
                "kind": "prior", "probabilities": {"yes": "0.5 * q1 + 0.25 * q2", "no": "rest"}}},
            "side": {"states": ["yes", "no"], "parents": ["out"], "cpt": {
                "kind": "expression",
                "probabilities": {"yes": "where(out == 'yes', r, 0.1)", "no": "rest"}}},
        },
    })


def test_sobol_indices_of_an_additive_toy():
    result = sensitivity(additive_network(), "out", "yes", samples=1024, rng=7)
    q1, q2, r = result.row("q1"), result.row("q2"), result.row("r")
    assert [row.name for row in result.rows] == ["q1", "q2", "r"]  # sorted by total effect
    assert q1.s1 == pytest.approx(0.8, abs=0.05) and q1.st == pytest.approx(0.8, abs=0.05)
    assert q2.s1 == pytest.approx(0.2, abs=0.05) and q2.st == pytest.approx(0.2, abs=0.05)
    assert 0 < q1.st_conf < 0.1
    # r cannot reach out: exactly zero, not merely small
    assert (r.s1, r.st, r.s1_conf, r.st_conf) == (0.0, 0.0, 0.0, 0.0)
    assert not r.reaches_target and q1.reaches_target
    assert result.evaluations == 2 * 2 + 1024 * 4  # r's rows are never evaluated
    assert "q1" in result.summary() and "80%" in result.summary()


def test_one_way_swings_are_exact():
    result = sensitivity(additive_network(), "out", "yes", samples=None)
    q1 = result.row("q1")
    assert result.point == pytest.approx(0.3)
    assert (q1.output_low, q1.output_high) == (pytest.approx(0.2), pytest.approx(0.4))
    assert result.row("q2").swing == pytest.approx(0.1)
    assert result.row("r").swing == 0.0
    assert result.rows[0].s1 is None and result.samples is None
    assert "one at a time is q1" in result.summary()


def test_same_seed_same_indices():
    a = sensitivity(additive_network(), "out", "yes", samples=256, rng=3)
    b = sensitivity(additive_network(), "out", "yes", samples=256, rng=3)
    assert [r.to_dict() for r in a.rows] == [r.to_dict() for r in b.rows]
    np.testing.assert_array_equal(a.sobol_draws, b.sobol_draws)


def test_bundled_network_names_what_matters_most(net):
    result = sensitivity(net, "capability_transfer", "yes", evidence={"shift_type": "extreme"},
                         samples=256, rng=1)
    # capability transfer reads no ranged number: nothing matters
    assert all(r.st == 0.0 for r in result.rows)
    assert "does not depend on any uncertain number" in result.summary()
    result = sensitivity(net, "harm", "yes", do={"shift_type": "extreme", "ai_control": "on"},
                         samples=256, rng=1)
    top = result.rows[0]
    assert top.st == max(r.st for r in result.rows)
    assert top.label in result.summary()
    assert result.row("p_harm_given_failure.superficial").st == 0.0  # another shift type
    payload = result.to_dict()
    assert {"S1", "S1_conf", "ST", "ST_conf", "swing"} <= set(payload["inputs"][0])
    json.dumps(payload)


def test_sensitivity_errors(net):
    with pytest.raises(InvalidArgumentError, match="power of 2"):
        sensitivity(net, "harm", "yes", samples=1000)
    with pytest.raises(InvalidArgumentError, match="conf_level"):
        sensitivity(net, "harm", "yes", samples=None, conf_level=1.5)


def test_tornado_plot(tmp_path):
    result = sensitivity(additive_network(), "out", "yes", samples=None)
    from gmnet.viz.charts import tornado_figure
    from gmnet.viz.plots import save_figure

    path = save_figure(tornado_figure(result), tmp_path / "tornado.svg")
    import re

    texts = re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text())
    # q1 and q2 move the answer (widest first); r does not reach it and gets no bar
    assert [t for t in texts if t in ("q1", "q2", "r")] == ["q1", "q2"]
    assert "20.0%" in texts and "40.0%" in texts  # q1's swing, 0.2 around the point 30%
    with pytest.raises(InvalidArgumentError, match="top"):
        tornado_figure(result, top=0)


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_sensitivity(capsys, tmp_path):
    plot = tmp_path / "tornado.svg"
    code, out, err = run(capsys, "sensitivity", "--samples", "256", "--top", "5", "--plot",
                         str(plot), "P(harm=yes | shift_type=extreme, do(ai_control=on))")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "P(harm=yes | shift_type=extreme, do(ai_control=on))"
    assert lines[1].startswith("  context: baseline; held at the document's baseline: ")
    assert any("Sobol N=256" in line for line in lines[:6])
    assert "the uncertainty that matters most is" in lines[-2]
    assert plot.read_text().startswith("<?xml")
    code, out, err = run(capsys, "sensitivity", "--json", "--no-sobol", "--no-unknowns",
                         "P(harm=yes | do(shift_type=extreme))")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["samples"] is None and payload["critical_unknowns"] == []
    assert not any(r["name"].startswith("unknown:") for r in payload["inputs"])
    code, _, err = run(capsys, "sensitivity", "--samples", "1000", "P(harm)")
    assert code == 2 and "power of 2" in err


# ============================================================================ robustness (issue 9)
def test_sobol_design_is_bounded_before_anything_runs(net, monkeypatch):
    from gmnet.analysis import sensitivity as module

    # the answers are held (one number per design row), the design never is
    assert module.max_sobol_samples(57) == 2**18  # 2**18 x 59 = 15.5 million rows
    assert module.max_sobol_samples(2) == 2**19  # the sample limit, 10**6, binds first
    monkeypatch.setattr(module, "_one_way", None)  # anything computed would now fail
    with pytest.raises(InvalidArgumentError,
                       match=r"Sobol samples 524,288 over 49 inputs is a design of 26,738,688 "
                             r"rows, more than 16,777,216; use at most 262,144"):
        sensitivity(net, "harm", "yes", samples=2**19)


def test_cli_plot_path_is_checked_before_the_analysis(capsys, tmp_path, monkeypatch):
    from gmnet.analysis import sensitivity as module

    def never(*args, **kwargs):
        raise AssertionError("ran the analysis before checking the plot path")

    monkeypatch.setattr(module, "sensitivity", never)
    missing = tmp_path / "missing" / "t.svg"
    code, out, err = run(capsys, "sensitivity", "--plot", str(missing), "P(harm=yes)")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"cannot write {missing}: folder {missing.parent} does not exist" in err
    code, out, err = run(capsys, "sensitivity", "--plot", str(tmp_path / "t.pdf"), "P(harm)")
    assert code == 2 and "the file name must end in .png or .svg" in err
    code, out, err = run(capsys, "sensitivity", "--samples", "2097152", "P(harm)")
    assert code == 2 and "is not in the range 2<=x<=1000000" in err


def test_sensitivity_lists_the_moving_inputs_and_counts_the_cancelling(net):
    from gmnet.analysis.whatif import neutral_context

    do = {**neutral_context(net), "shift_type": "extreme"}
    result = sensitivity(net, "harm", "yes", do=do, samples=None)
    moving = {r.name for r in result.moving}
    assert moving == {"p_harm_given_failure.extreme", "m_spec.medium",
                      "unknown:llm_vs_rl_generalization"}
    assert all(r.reaches_target for r in result.cancelling)
    assert "route_share" in {r.name for r in result.cancelling}
    payload = result.to_dict()
    assert set(payload["moving"]) == moving
    assert len(payload["reached_but_cancel"]) == len(result.cancelling) == 23


def test_every_block_of_the_design_is_judged_as_the_whole_design(net, chunk_calls, monkeypatch):
    # the Sobol design is evaluated block by block; each block must say the whole design's rows
    # (samples x (inputs + 2)), which decide whether the run compiles loops, not its own rows
    from gmnet.analysis import influence
    from gmnet.analysis.uncertainty import uncertainty_model

    # an empty cache: the moving-input check runs, whatever ran before
    monkeypatch.setattr(influence, "_MOVING", {})
    result = sensitivity(net, "harm", "yes", samples=16, rng=1, block=4)
    design = 16 * (len(uncertainty_model(net).inputs) + 2)
    assert design == 16 * 51
    sizes = [size for size, _ in chunk_calls]
    efforts = [effort for _, effort in chunk_calls]
    # the tornado's rows and the design's blocks all say the design; the point value (one
    # draw) and the moving-input check (one run of its own 882 rows) are runs of their own
    assert set(efforts) == {1, 882, design}
    assert efforts.count(design) >= 3 and max(sizes) < design
    assert result.evaluations > design // 2
