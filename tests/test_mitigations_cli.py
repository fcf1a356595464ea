"""`gmnet compare`: the table, JSON, conditions and errors."""

import json

import pytest

from gmnet.cli import main

BASE = (0.036 + 0.100 + 0.218 + 0.277) / 4


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_compare_json(capsys):
    code, out, err = run(capsys, "compare", "--json")
    assert code == 0 and err == ""
    payload = json.loads(out)
    assert payload["baseline"] == pytest.approx(BASE, abs=1e-12)
    assert payload["context"] == "neutral"
    assert payload["do"]["spec_quality"] == "medium"
    by_name = {m["name"]: m for m in payload["mitigations"]}
    assert by_name["ai_control"]["alone_relative"] == pytest.approx(0.75, abs=1e-12)
    assert by_name["adversarial_training"]["alone_relative"] == pytest.approx(0.30, abs=1e-12)
    assert by_name["behavior_monitoring"]["alone"] == pytest.approx(0.0, abs=1e-15)
    assert sum(m["shapley"] for m in payload["mitigations"]) == pytest.approx(
        payload["baseline"] - payload["all_on"], abs=1e-12)
    assert [p["name"] for p in payload["portfolios"]][0] == "none"
    assert "all_portfolios" not in payload


def test_compare_json_all_portfolios(capsys):
    code, out, _ = run(capsys, "compare", "--json", "--all-portfolios")
    assert code == 0
    table = json.loads(out)["all_portfolios"]
    assert len(table) == 512
    assert table[-1]["on"][0] == "adversarial_training" and len(table[-1]["on"]) == 9


def test_compare_text_is_sorted_and_shows_costs(capsys):
    code, out, _ = run(capsys, "compare")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Mitigations compared by intervention: P(harm=yes)"
    # (3.6 + 10.0 + 21.8 + 27.7) / 4 = 15.775%, computed as 0.15774999... and shown 15.77%
    assert "no mitigation 15.77%" in lines[2]
    start = next(i for i, line in enumerate(lines) if line.startswith("mitigation ")) + 2
    rows = lines[start:start + 9]
    assert rows[0].split()[0] == "ai_control"
    assert "System overhead" in rows[0] and "75.0%" in rows[0]
    shapley = [float(r.split()[5]) for r in rows]
    assert shapley == sorted(shapley, reverse=True)
    assert any(line.startswith("detection + response") and "more than the sum" in line
               for line in lines)


def test_compare_given_conditions_and_context(capsys):
    code, out, _ = run(capsys, "compare", "--json", "--context", "prior",
                       "--given", "shift_type=extreme, do(spec_quality=low)")
    assert code == 0
    payload = json.loads(out)
    assert payload["evidence"] == {"shift_type": "extreme"}
    assert payload["do"] == {"spec_quality": "low"}
    code, out, _ = run(capsys, "compare", "--json", "--given", "shift_type=extreme")
    payload = json.loads(out)
    assert payload["baseline"] == pytest.approx(0.277, abs=1e-12)


def test_compare_other_target(capsys):
    code, out, _ = run(capsys, "compare", "--json", "--target", "goal_misgeneralizes=yes")
    assert code == 0
    by_name = {m["name"]: m for m in json.loads(out)["mitigations"]}
    assert by_name["ai_control"]["alone"] == 0.0


@pytest.mark.parametrize("args, message", [
    (["--given", "ai_control=on"], "ai_control is a mitigation"),
    (["--given", "harm=yes"], "cannot condition on harm"),
    (["--given", "shift_type=extrem"], "unknown state 'extrem' for shift_type"),
    (["--given", "shift_type=="], "cannot parse --given"),
    (["--target", "harm"], "cannot parse --target 'harm'; write it like 'harm=yes'"),
    (["--context", "bogus"], "'bogus' is not one of 'neutral', 'prior'"),
])
def test_compare_errors(capsys, args, message):
    code, out, err = run(capsys, "compare", *args)
    assert code == 2 and out == ""
    assert err.startswith("gmnet: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_a_scenario_prior_is_not_overridden_by_the_neutral_context(net):
    from gmnet.analysis.mitigations import reshaped_priors as _reshaped_priors
    from gmnet.model.network import NETWORKS_DIR, network_from_dict, read_yaml

    data = read_yaml(NETWORKS_DIR / "goal_misgeneralization.yaml")
    data["nodes"]["capability_level"]["cpt"] = {
        "kind": "table", "rows": [[0.1, 0.3, 0.6]], "source": "test: a period's prior"}
    reshaped = network_from_dict(data)
    assert _reshaped_priors(net, net) == []
    assert _reshaped_priors(net, reshaped) == ["capability_level"]
