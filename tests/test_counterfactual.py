"""Probabilities of causation: Tian-Pearl bounds against the closed form from direct queries."""

import json

import numpy as np
import pytest

from gmnet.analysis.counterfactual import causation_bounds, counterfactual
from gmnet.cli import main
from gmnet.errors import InvalidArgumentError, UnknownNameError
from gmnet.model.network import network_from_dict


def _toy(p_y_given=None, confounded=True):
    """U -> X, U -> Y, X -> Y with X in {off, on}, Y in {yes, no}."""
    p_y_given = p_y_given or {("a", "off"): 0.6, ("a", "on"): 0.1, ("b", "off"): 0.3,
                              ("b", "on"): 0.2}
    rows = [[p_y_given[(u, x)], 1 - p_y_given[(u, x)]] for u in ("a", "b") for x in ("off",
                                                                                      "on")]
    x_rows = [[0.8, 0.2], [0.3, 0.7]] if confounded else [[0.6, 0.4], [0.6, 0.4]]
    return network_from_dict({"format": "gmnet/1", "name": "toy_cause", "nodes": {
        "U": {"states": ["a", "b"], "cpt": {"kind": "table", "rows": [[0.4, 0.6]],
                                            "source": "test"}},
        "X": {"states": ["off", "on"], "parents": ["U"],
              "cpt": {"kind": "table", "rows": x_rows, "source": "test"}},
        "Y": {"states": ["yes", "no"], "parents": ["U", "X"],
              "cpt": {"kind": "table", "rows": rows, "source": "test"}}}})


def _closed_form(net, x_var, x, alt, y_var, y, evidence=None, do=None):
    """Tian and Pearl (2000), written out from direct queries of the network."""
    ev, do = dict(evidence or {}), dict(do or {})
    px = net.query(x_var, evidence=ev, do=do)
    p_xy = px[x] * net.query(y_var, evidence={**ev, x_var: x}, do=do)[y]
    p_xy_ = px[x] - p_xy
    p_x_y = px[alt] * net.query(y_var, evidence={**ev, x_var: alt}, do=do)[y]
    p_x_y_ = px[alt] - p_x_y
    p_y = p_xy + p_x_y
    p_yx = net.query(y_var, evidence=ev, do={**do, x_var: x})[y]
    p_yx_ = net.query(y_var, evidence=ev, do={**do, x_var: alt})[y]
    return {
        "pns": (max(0, p_yx - p_yx_, p_y - p_yx_, p_yx - p_y),
                min(p_yx, 1 - p_yx_, p_xy + p_x_y_, p_yx - p_yx_ + p_xy_ + p_x_y)),
        "pn": (max(0, (p_y - p_yx_) / p_xy), min(1, ((1 - p_yx_) - p_x_y_) / p_xy)),
        "ps": (max(0, ((1 - p_y) - (1 - p_yx)) / p_x_y_), min(1, (p_yx - p_xy) / p_x_y_)),
        "monotone": {"pn": (p_y - p_yx_) / p_xy, "ps": (p_yx - p_y) / p_x_y_,
                     "pns": p_yx - p_yx_},
    }


@pytest.mark.parametrize("evidence, do", [
    ({}, {}),
    ({"shift_type": "extreme"}, {}),
    ({"shift_type": "significant", "spec_quality": "low"}, {"capability_level": "superhuman"}),
    ({"capability_level": "superhuman"}, {"shift_type": "moderate"}),
])
def test_bounds_equal_the_closed_form_on_the_bundled_network(net, evidence, do):
    r = counterfactual(net, "ai_control", "off", "on", "harm", "yes", evidence=evidence, do=do)
    want = _closed_form(net, "ai_control", "off", "on", "harm", "yes", evidence, do)
    for key in ("pn", "ps", "pns"):
        assert getattr(r, key) == pytest.approx(want[key], abs=1e-12)
        lo, hi = getattr(r, key)
        assert lo - 1e-12 <= r.monotone[key] <= hi + 1e-12
        assert r.monotone[key] == pytest.approx(want["monotone"][key], abs=1e-12)
    assert r.monotone_consistent and not r.contradictions


def test_bounds_equal_the_closed_form_on_a_toy_network():
    net = _toy()
    r = counterfactual(net, "X", "off", "on", "Y", "yes")
    want = _closed_form(net, "X", "off", "on", "Y", "yes")
    for key in ("pn", "ps", "pns"):
        assert getattr(r, key) == pytest.approx(want[key], abs=1e-12)
    # by hand: P(y | do(off)) = 0.4*0.6 + 0.6*0.3 = 0.42, P(y | do(on)) = 0.04 + 0.12 = 0.16
    assert r.inputs["p_y_do_x"] == pytest.approx(0.42, abs=1e-12)
    assert r.inputs["p_y_do_alt"] == pytest.approx(0.16, abs=1e-12)
    assert r.monotone["pns"] == pytest.approx(0.26, abs=1e-12)
    assert r.pn[0] <= r.monotone["pn"] <= r.pn[1] and r.monotone_consistent


def test_exogenous_cause_gives_the_textbook_pn():
    # X independent of U: P(y_x) = P(y | x), and under monotonicity PN = 1 - P(y|x')/P(y|x)
    net = _toy(confounded=False)
    r = counterfactual(net, "X", "off", "on", "Y", "yes")
    p_off, p_on = 0.4 * 0.6 + 0.6 * 0.3, 0.4 * 0.1 + 0.6 * 0.2
    assert r.monotone["pn"] == pytest.approx(1 - p_on / p_off, abs=1e-12)
    assert r.pn == pytest.approx((1 - p_on / p_off, 1.0), abs=1e-12)


def test_data_that_contradict_monotonicity_are_reported():
    # the "alternative" raises the outcome: it cannot be that it never brings it about
    net = _toy({("a", "off"): 0.1, ("a", "on"): 0.7, ("b", "off"): 0.2, ("b", "on"): 0.6})
    r = counterfactual(net, "X", "off", "on", "Y", "yes")
    assert not r.monotone_consistent
    assert r.monotone["pns"] < 0 <= r.pns[0]
    assert any("outside its bounds" in c for c in r.contradictions)
    assert "contradicts monotonicity" in r.sentence()
    assert r.pns == pytest.approx(_closed_form(net, "X", "off", "on", "Y", "yes")["pns"],
                                  abs=1e-12)


def test_sentence_states_the_bounds(net):
    r = counterfactual(net, "ai_control", "off", "on", "harm", "yes",
                       evidence={"shift_type": "extreme"})
    lo, hi = r.pn
    assert r.sentence().startswith(
        f"Given harm=yes happened with ai_control=off, the chance that ai_control=on would "
        f"have prevented it is between {lo:.1%} and {hi:.1%}")


def test_draws_are_the_bounds_of_each_draw(net):
    from gmnet.analysis.uncertainty import uncertainty_model
    from gmnet.inference.query import posterior

    r = counterfactual(net, "ai_control", "off", "on", "harm", "yes",
                       evidence={"shift_type": "extreme"}, samples=40, rng=3)
    model = uncertainty_model(net)
    values = model.parameter_values(model.sample(40, rng=3))
    compiled = net.compile(values)
    idx = {v: {s: i for i, s in enumerate(net.states(v))} for v in net.variables}
    ext = {"shift_type": idx["shift_type"]["extreme"]}
    off, on, yes = idx["ai_control"]["off"], idx["ai_control"]["on"], idx["harm"]["yes"]
    pc = posterior(compiled, "ai_control", ext, {})
    py_off = posterior(compiled, "harm", {**ext, "ai_control": off}, {})[:, yes]
    py_on = posterior(compiled, "harm", {**ext, "ai_control": on}, {})[:, yes]
    do_off = posterior(compiled, "harm", ext, {"ai_control": off})[:, yes]
    do_on = posterior(compiled, "harm", ext, {"ai_control": on})[:, yes]
    b = causation_bounds(pc[:, off] * py_off, pc[:, off] * (1 - py_off), pc[:, on] * py_on,
                         pc[:, on] * (1 - py_on), do_off, do_on)
    for key in ("pn", "ps", "pns"):
        assert r.samples[key]["lower"] == pytest.approx(
            list(np.quantile(b[key][0], [0.05, 0.5, 0.95])), abs=1e-12)
        assert r.samples[key]["upper"] == pytest.approx(
            list(np.quantile(b[key][1], [0.05, 0.5, 0.95])), abs=1e-12)
    assert r.samples["draws_contradicting_monotonicity"] == 0


@pytest.mark.parametrize("kwargs, error, message", [
    ({"cause": "shift_type", "cause_state": "extreme", "alternative": "moderate"},
     InvalidArgumentError, "two-state cause"),
    ({"evidence": {"containment": "uncontained"}}, InvalidArgumentError,
     "comes after the cause ai_control"),
    ({"alternative": "off"}, InvalidArgumentError, "must differ"),
    ({"outcome": "harms"}, UnknownNameError, "unknown variable 'harms' as outcome"),
    ({"evidence": {"harm": "yes"}}, InvalidArgumentError, "leave it out"),
])
def test_bad_questions_are_refused(net, kwargs, error, message):
    args = {"cause": "ai_control", "cause_state": "off", "alternative": "on",
            "outcome": "harm", "outcome_state": "yes"}
    args.update({k: v for k, v in kwargs.items() if k in args})
    rest = {k: v for k, v in kwargs.items() if k not in args}
    with pytest.raises(error, match=message):
        counterfactual(net, **args, **rest)


def test_cli_json_holds_the_issue_fields(net, capsys):
    argv = ["counterfactual", "--cause", "ai_control=off", "--alternative", "on", "--outcome",
            "harm=yes", "--given", "shift_type=extreme", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    # the command line asks at the baseline: the cause and the outcome are not held
    assert out["context"] == "baseline" and "ai_control" not in out["held"]
    assert out["held"]["capability_level"] == "human_level"
    r = counterfactual(net, "ai_control", "off", "on", "harm", "yes",
                       evidence={"shift_type": "extreme"}, do=out["held"])
    assert out["pn"] == list(r.pn) and out["ps"] == list(r.ps) and out["pns"] == list(r.pns)
    assert out["monotone"] == r.monotone
    assert main(argv[:-1]) == 0
    text = capsys.readouterr().out
    assert r.sentence() in text and "given: shift_type=extreme, do(" in text
    assert "  context: baseline; held at the document's baseline: " in text


def test_cli_bad_input_exits_2_with_one_line(capsys):
    assert main(["counterfactual", "--cause", "ai_control", "--alternative", "on",
                 "--outcome", "harm=yes"]) == 2
    err = capsys.readouterr().err
    assert "cannot parse --cause 'ai_control'" in err and err.count("\n") == 1


def test_web_counterfactual(net):
    from fastapi.testclient import TestClient

    from gmnet.web.app import create_app

    client = TestClient(create_app(), base_url="http://127.0.0.1")
    body = {"cause": "ai_control", "cause_state": "off", "alternative": "on",
            "evidence": {"shift_type": "extreme"}}
    got = client.post("/api/counterfactual", json=body)
    assert got.status_code == 200
    # the web API asks at the baseline, with the cause and the outcome left free
    held = {k: v for k, v in got.json()["held"].items() if k not in ("ai_control", "harm")}
    r = counterfactual(net, "ai_control", "off", "on", "harm", "yes",
                       evidence={"shift_type": "extreme"}, do=held)
    assert got.json()["pn"] == list(r.pn) and got.json()["sentence"] == r.sentence()
    bad = client.post("/api/counterfactual", json={**body, "cause_state": "of"})
    assert bad.status_code == 422 and bad.json()["field"] == "cause_state"


def test_undefined_pn_is_null_not_nan():
    # the outcome never happens with the cause: nothing for the alternative to have prevented
    net = _toy({("a", "off"): 0.0, ("a", "on"): 0.3, ("b", "off"): 0.0, ("b", "on"): 0.5})
    r = counterfactual(net, "X", "off", "on", "Y", "yes")
    assert r.pn is None and r.monotone["pn"] is None
    assert json.loads(json.dumps(r.to_dict(), allow_nan=False))["pn"] is None
    assert r.sentence() == ("Y=yes and X=off never happen together here, so there is nothing "
                            "for X=on to have prevented.")
    assert r.ps is not None
