"""The most probable explanation against exhaustive search and pyAgrum; explain()."""

import itertools
import json
import math

import numpy as np
import pytest

import gmnet
from gmnet.analysis.explain import explain
from gmnet.cli import main
from gmnet.errors import ImpossibleEvidenceError
from gmnet.inference.mpe import max_marginal_map, most_probable_explanation
from gmnet.model.compiled import CompiledModel


def _exhaustive(model: CompiledModel, evidence, do=None):
    """Every joint state of the free variables, scored by the product of the CPTs."""
    cut = model.intervene(do or {})
    fixed = {**evidence, **(do or {})}
    free = [v for v in cut.variables if v not in fixed]
    scores = {}
    for combo in itertools.product(*[range(cut.card(v)) for v in free]):
        state = {**fixed, **dict(zip(free, combo, strict=True))}
        p = 1.0
        for v in cut.variables:
            p *= float(cut.cpts[v][0][tuple(state[a] for a in (*cut.parents[v], v))])
        scores[combo] = p
    best = max(scores, key=scores.get)
    return {v: cut.states[v][i] for v, i in zip(free, best, strict=True)}, scores[best], \
        sum(scores.values()), sorted(scores.values())[-2:]


def _random_model(seed: int, n: int = 6) -> CompiledModel:
    rng = np.random.default_rng(seed)
    names = [f"v{i}" for i in range(n)]
    cards = {v: int(rng.integers(2, 4)) for v in names}
    parents = {}
    for i, v in enumerate(names):
        k = min(i, int(rng.integers(0, 3)))
        parents[v] = tuple(sorted(rng.choice(names[:i], size=k, replace=False))) if k else ()
    cpts = {}
    for v in names:
        shape = (*[cards[p] for p in parents[v]], cards[v])
        arr = rng.gamma(1.0, size=shape)
        cpts[v] = (arr / arr.sum(axis=-1, keepdims=True))[None]
    states = {v: tuple(f"s{j}" for j in range(cards[v])) for v in names}
    return CompiledModel(tuple(names), states, parents, cpts)


@pytest.mark.parametrize("seed", range(12))
def test_mpe_equals_exhaustive_search_on_random_networks(seed):
    model = _random_model(seed)
    evidence = {"v5": 0} if seed % 2 else {"v3": 1, "v5": 0}
    do = {"v1": 1} if seed % 3 == 0 else {}
    states, best, total, top2 = _exhaustive(model, evidence, do)
    got = most_probable_explanation(model, evidence, do)
    assert got.joint == pytest.approx(best, rel=1e-12)
    assert got.probability == pytest.approx(best / total, rel=1e-12)
    assert got.tied == math.isclose(top2[0], top2[1], rel_tol=1e-12)
    if not got.tied:
        assert got.states == states


@pytest.mark.parametrize("name, evidence", [
    ("chain", {"C": "yes"}), ("fork", {"A": "yes"}), ("collider", {"C": "yes"}),
    ("collider", {"C": "yes", "A": "yes"}), ("chain", {}),
])
def test_mpe_equals_exhaustive_search_on_the_toy_networks(toy, name, evidence):
    net = toy[name]
    ev = {v: net.check_state(v, s) for v, s in evidence.items()}
    states, best, total, _ = _exhaustive(net.compiled, ev)
    got = most_probable_explanation(net.compiled, ev)
    assert got.states == states
    assert got.probability == pytest.approx(best / total, rel=1e-12)


def test_ties_are_reported():
    # two independent fair coins: four joint states, all equally probable
    half = np.array([[0.5, 0.5]])
    model = CompiledModel(("a", "b"), {"a": ("h", "t"), "b": ("h", "t")}, {"a": (), "b": ()},
                          {"a": half, "b": half})
    got = most_probable_explanation(model, {})
    assert got.tied and got.probability == pytest.approx(0.25, abs=1e-15)


def test_impossible_evidence_is_refused(net):
    with pytest.raises(ImpossibleEvidenceError, match="impossible"):
        most_probable_explanation(net.compiled, {"behavior_alarm": 0},
                                  {"behavior_monitoring": net.check_state("behavior_monitoring",
                                                                          "off")})


@pytest.mark.parametrize("evidence", [
    {"harm": "yes"},
    {"harm": "no", "behavior_alarm": "fires"},
    {"harm": "yes", "spec_quality": "low"},
    {"goal_misgeneralizes": "yes", "spec_quality": "low"},
])
def test_mpe_equals_pyagrum_on_the_bundled_network(net, evidence):
    gum = pytest.importorskip("pyagrum")
    from pyagrum_bridge import to_pyagrum

    # pyAgrum 3.3's MPE fails ("Empty tensor") with hard evidence on some nodes (a leaf such as
    # harm, or a node whose table has deterministic rows); a child of each observed node that
    # is certain to take its first state changes no probability and avoids it
    model = net.compiled
    for v in evidence:
        if not net.children(v):
            model, _ = model.with_virtual_child(v, [1.0] * len(net.states(v)))
    ie = gum.LazyPropagation(to_pyagrum(model))
    ie.setEvidence(dict(evidence))
    ie.makeInference()
    inst, log2p = ie.mpeLog2Posterior()
    theirs = {v: net.states(v)[inst[v]] for v in net.variables if v not in evidence}
    ev = {v: net.check_state(v, s) for v, s in evidence.items()}
    ours = most_probable_explanation(net.compiled, ev)
    assert not ours.tied
    assert ours.states == theirs
    assert math.log2(ours.probability) == pytest.approx(log2p, abs=1e-9)


def test_most_probable_path_equals_its_joint_table(net):
    from gmnet.inference.contraction import marginal

    path = ["learned_objective", "capability_transfer", "goal_misgeneralizes", "containment"]
    ev = {"harm": net.check_state("harm", "yes"), "shift_type": 3}
    joint = marginal(net.compiled, path, ev)[0]
    got = max_marginal_map(net.compiled, path, ev)
    best = np.unravel_index(np.argmax(joint), joint.shape)
    assert got.states == {v: net.states(v)[i] for v, i in zip(path, best, strict=True)}
    assert got.probability == pytest.approx(joint.max() / joint.sum(), rel=1e-12)


def test_explain_moves_match_direct_queries(net):
    evidence = {"harm": "yes", "shift_type": "extreme", "spec_quality": "low"}
    r = explain(net, evidence, target="ai_control", state="on")
    assert r.target_probability == pytest.approx(
        net.query("ai_control", evidence=evidence)["on"], abs=1e-12)
    for row in r.observations:
        rest = {k: v for k, v in evidence.items() if k != row["variable"]}
        assert row["without"] == pytest.approx(net.query("ai_control", evidence=rest)["on"],
                                               abs=1e-12)
        assert row["change"] == pytest.approx(r.target_probability - row["without"], abs=1e-15)
    assert [row["variable"] for row in r.observations] == list(evidence)
    assert set(r.mpe) == set(net.variables) - set(evidence)
    assert r.path["goal_misgeneralizes"] == "yes"


def test_explain_with_soft_evidence_equals_an_added_child(net):
    from gmnet.inference.mpe import most_probable_explanation as mpe

    weights = {"below_human": 0.2, "human_level": 0.5, "superhuman": 0.3}
    term = "capability_level~=below_human:0.2,human_level:0.5,superhuman:0.3"
    r = explain(net, {"harm": "yes"}, soft=term)
    model, child = net.compiled.with_virtual_child(
        "capability_level", [weights[s] for s in net.states("capability_level")])
    want = mpe(model, {"harm": 0, child: 0})
    assert r.mpe_probability == pytest.approx(want.probability, rel=1e-12)
    assert child not in r.mpe and r.soft == (term,)


def test_cli_explain(net, capsys):
    assert main(["explain", "harm=yes, shift_type=extreme", "--target", "ai_control=on",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["context"] == "baseline" and "ai_control" not in out["held"]
    r = explain(net, {"harm": "yes", "shift_type": "extreme"}, out["held"], target="ai_control",
                state="on")
    assert out["mpe"]["states"] == r.mpe
    assert out["mpe"]["probability"] == pytest.approx(r.mpe_probability, rel=1e-15)
    assert main(["explain", "harm=yes", "--marginal", "capability_level=superhuman:0.3"]) == 0
    text = capsys.readouterr().out
    assert "Most probable explanation: P = " in text and "soft: P(capability_level=" in text
    assert main(["explain", "harm=maybe"]) == 2
    assert "unknown state 'maybe' for harm" in capsys.readouterr().err


def test_web_explain_and_soft_query(net):
    from fastapi.testclient import TestClient

    from gmnet.web.app import create_app

    client = TestClient(create_app(), base_url="http://127.0.0.1")
    got = client.post("/api/explain", json={"evidence": {"harm": "yes"}, "target": "ai_control",
                                            "state": "on"})
    assert got.status_code == 200
    held = {k: v for k, v in got.json()["held"].items() if k != "ai_control"}
    assert got.json()["mpe"]["states"] == explain(net, {"harm": "yes"}, held).mpe
    term = "P(capability_level=superhuman)=0.3"
    soft = client.post("/api/soft-query", json={"evidence": {"shift_type": "extreme"},
                                                "soft": [term]})
    assert soft.status_code == 200
    # the baseline (what the CLI asks), the soft node left free
    want = gmnet.ask(f"P(harm=yes | shift_type=extreme, {term})")
    assert "capability_level" not in want.held
    assert soft.json()["probability"] == pytest.approx(want.probability, abs=1e-15)
    obj = client.post("/api/soft-query", json={"soft": [
        {"node": "capability_level", "kind": "marginal", "values": {"superhuman": 0.3}}]})
    assert obj.json()["probability"] == pytest.approx(
        gmnet.ask(f"P(harm=yes | {term})").probability, abs=1e-15)
    bad = client.post("/api/soft-query", json={"soft": ["P(capability_level=godlike)=0.3"]})
    assert bad.status_code == 422 and bad.json()["field"] == "soft"


@pytest.mark.parametrize("name", ["asia", "insurance"])
def test_mpe_probability_equals_pyagrum_on_classic_networks(name):
    gum = pytest.importorskip("pyagrum")
    from pyagrum_bridge import to_pyagrum

    import gmnet

    net = gmnet.classic_network(name)
    model = net.compiled
    for v in net.variables:  # see the pyAgrum note above
        if not net.children(v):
            model, _ = model.with_virtual_child(v, [1.0] * len(net.states(v)))
    _, log2p = gum.LazyPropagation(to_pyagrum(model)).mpeLog2Posterior()
    ours = most_probable_explanation(net.compiled, {})
    assert math.log2(ours.probability) == pytest.approx(log2p, abs=1e-9)
