"""The command line: JSON output, exit codes, one-line errors."""

import json
import subprocess
import sys

import pytest

from gmnet.cli import main

NEUTRAL = ("spec_quality=medium, capability_level=human_level, training_diversity=moderate, "
           "alignment_method=standard")


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_query_json_with_state(capsys, net):
    from gmnet.analysis.whatif import neutral_context

    neutral = ", ".join(f"{k}={v}" for k, v in neutral_context(net).items())
    code, out, err = run(capsys, "query", "--json",
                         f"P(harm=yes | do(shift_type=extreme, {neutral}))")
    assert code == 0 and err == ""
    payload = json.loads(out)
    assert payload["target"] == "harm"
    assert payload["evidence"] == {}
    assert payload["do"]["shift_type"] == "extreme"
    assert payload["probability"] == pytest.approx(0.277, abs=1e-12)
    assert payload["distribution"]["no"] == pytest.approx(0.723, abs=1e-12)


def test_query_distribution_text(capsys):
    code, out, _ = run(capsys, "query", "P(capability_transfer | do(shift_type=moderate))")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "P(capability_transfer | do(shift_type=moderate))"
    assert lines[1].split()[:2] == ["yes", "65.0%"]
    assert lines[2].split()[:2] == ["no", "35.0%"]


def test_query_single_probability(capsys):
    code, out, _ = run(capsys, "query", "P(capability_transfer=yes | shift_type=extreme)")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "P(capability_transfer=yes | shift_type=extreme) = 45.0%"
    assert lines[1] == ("  context: baseline; held at the document's baseline: "
                        "spec_quality=medium, capability_level=human_level, "
                        "training_diversity=moderate, alignment_method=standard; "
                        "every mitigation off")


@pytest.mark.parametrize("args, message", [
    (["query", "P(harm | shift_type=extrme)"],
     "gmnet: error: unknown state 'extrme' for shift_type; choose one of: superficial, moderate, "
     "significant, extreme (did you mean 'extreme'?)"),
    (["query", "P(harm | shift=extreme)"], "gmnet: error: unknown variable 'shift' in evidence;"),
    (["query", "P(harm"], "gmnet: error: cannot parse query 'P(harm'"),
    (["query", "P(harm | capability_transfer=no, goal_misgeneralizes=yes)"],
     "gmnet: error: the evidence (capability_transfer=no, goal_misgeneralizes=yes) is impossible"),
    (["query", "--network", "nonexistent", "P(harm)"],
     "gmnet: error: unknown network 'nonexistent'"),
    (["query", "--engine", "magic", "P(harm)"], "gmnet: error: Invalid value for '--engine'"),
    (["show", "harmm"], "gmnet: error: unknown variable 'harmm'; choose one of:"),
    (["frobnicate"], "gmnet: error: No such command 'frobnicate'."),
])
def test_bad_input_exits_2_with_one_line(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(message)


def test_validate_reports_problems(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nnodes:\n  a: {states: [x, x], cpt: {kind: uniform, source: t}}\n")
    code, _, err = run(capsys, "validate", str(bad))
    assert code == 2
    assert err.strip() == f"gmnet: error: {bad}: node 'a': states: duplicate state 'x'"
    code, out, _ = run(capsys, "validate", "networks/goal_misgeneralization.yaml", "--json")
    assert code == 0 and json.loads(out)["valid"] is True


def test_show_json_lists_sources(capsys):
    code, out, _ = run(capsys, "show", "capability_transfer", "--json")
    assert code == 0
    payload = json.loads(out)
    node = payload["nodes"][0]
    assert node["parents"] == ["shift_type"]
    sources = {p["name"]: p["source"] for p in payload["parameters"]}
    assert sources["p_capability_transfer.extreme"].startswith(
        "Detailed Risk Assessment by Shift Type: Type 4")


def test_run_prints_the_core_table(capsys):
    code, out, _ = run(capsys, "run", "--json")
    assert code == 0
    rows = json.loads(out)["core_table"]
    assert [round(r["p_harmful_misgeneralization"], 4) for r in rows] == [0.036, 0.1, 0.218, 0.277]


def test_real_process_exit_codes_and_no_traceback():
    ok = subprocess.run([sys.executable, "-m", "gmnet.cli", "query", "P(harm=yes)"],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and ok.stdout.startswith("P(harm=yes) = ")
    assert 0 < float(ok.stdout.splitlines()[0].split("= ")[1].rstrip("%")) < 100
    bad = subprocess.run([sys.executable, "-m", "gmnet.cli", "query", "P(harm=maybe)"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert bad.stderr.strip() == ("gmnet: error: unknown state 'maybe' for harm; choose one of: "
                                  "yes, no")


def test_unexpected_failure_exits_1_with_a_hint(capsys, monkeypatch):
    import gmnet.analysis.ask as ask_module

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ask_module, "query", boom)
    code, out, err = run(capsys, "query", "P(harm)")
    assert code == 1
    assert err.strip() == ("gmnet: internal error: RuntimeError: disk on fire "
                           "(rerun with --debug for the traceback)")
    with pytest.raises(RuntimeError, match="disk on fire"):
        main(["--debug", "query", "P(harm)"])


def test_query_applies_scenario_and_worldview(capsys, net):
    import gmnet

    code, out, _ = run(capsys, "query", "--json", "--scenario", "game_ai",
                       "P(harm=yes | do(ai_control=off))")
    assert code == 0
    payload = json.loads(out)
    expected = gmnet.ask("P(harm=yes | do(ai_control=off))", network=net,
                         scenario=["game_ai"]).probability
    assert payload["probability"] == pytest.approx(expected, abs=1e-12)
    assert payload["scenario"] == ["game_ai"]
    plain = json.loads(run(capsys, "query", "--json", "P(harm=yes | do(ai_control=off))")[1])
    assert abs(plain["probability"] - expected) > 0.01
    code, out, _ = run(capsys, "run", "--json", "--no-report", "--worldview", "document-note")
    rows = json.loads(out)["core_table"]
    assert [round(r["p_harm_given_failure"], 6) for r in rows] == [0.6] * 4


def test_run_on_another_network_checks_its_targets(capsys):
    import gmnet

    code, out, _ = run(capsys, "run", "--json", "--no-report", "--network", "reward_hacking")
    assert code == 0
    targets = json.loads(out)["targets"]
    net = gmnet.load_network("reward_hacking")
    assert len(targets) == len(net.spec.targets)
    assert all(t["holds"] for t in targets)
    first = net.spec.targets[0]
    assert targets[0]["expected"] == first.value
    assert targets[0]["model"] == pytest.approx(first.value, abs=first.tolerance)
