"""The analyses on networks gmnet did not write: the classic networks bundled with pgmpy (asia,
sachs, child, insurance, alarm) give pgmpy's answers for observations and interventions, carry
+-20% ranges through the batched engine, and can be drawn.

The reference is pgmpy alone: its own do() (graph surgery) and variable elimination.
"""

import socket

import numpy as np
import pytest

import gmnet
from gmnet.errors import UnknownNameError
from gmnet.inference.pgmpy_backend import pgmpy_reference_query
from gmnet.inference.query import posterior, resolve_assignments
from gmnet.io.classic import CLASSIC_NETWORKS, classic_network, probing_queries
from gmnet.io.ranges import cpt_group_name, with_uniform_cpt_ranges

SIZES = {"asia": 8, "sachs": 11, "child": 20, "insurance": 27, "alarm": 37}


@pytest.fixture(scope="module", params=list(SIZES))
def classic(request):
    return classic_network(request.param)




def test_loads_offline_from_the_installed_package(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("classic networks must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    net = classic_network("cancer")  # not loaded by any other test: read now, offline
    assert net.variables == ("Pollution", "Smoker", "Cancer", "Xray", "Dyspnoea")
    assert net.cpt("Cancer").shape == (2, 2, 2)


def test_structure(classic):
    assert len(classic.variables) == SIZES[classic.name]
    assert all(classic.node(v).cpt.kind == "table" for v in classic.variables)
    assert "bnlearn" in classic.node(classic.variables[0]).cpt.source


def test_answers_match_pgmpy(classic):
    for target, evidence, do in probing_queries(classic):
        ours = classic.query(target, evidence=evidence, do=do)
        theirs = pgmpy_reference_query(classic.compiled, target, evidence, do)
        assert list(ours) == list(theirs)
        for state in ours:
            assert abs(ours[state] - theirs[state]) < 1e-10, (classic.name, target, evidence, do)


def test_known_numbers_of_asia():
    asia = classic_network("asia")
    # P(tub=yes | do(asia=yes)) is the table entry; P(either=yes | do(tub=yes)) is 1
    assert asia.query("tub", do={"asia": "yes"})["yes"] == pytest.approx(0.05, abs=1e-15)
    assert asia.query("either", do={"tub": "yes"})["yes"] == pytest.approx(1.0, abs=1e-15)
    # P(lung=yes) = 0.5 * 0.1 + 0.5 * 0.01
    assert asia.query("lung")["yes"] == pytest.approx(0.055, abs=1e-15)


def test_unknown_classic_network():
    with pytest.raises(UnknownNameError, match="unknown classic network 'alram'.*did you mean"):
        classic_network("alram")
    assert {"asia", "sachs", "child", "insurance", "alarm"} <= set(CLASSIC_NETWORKS)


def test_rescaled_rows_are_noted():
    # sachs' tables are rounded so some rows sum to 1 +- 1e-7; they are rescaled on import
    notes = classic_network("sachs").metadata["import_notes"]
    assert "rescaled to sum to 1" in notes[0] and "PKA" in notes[0]


# ---------------------------------------------------------------------------- uncertainty
@pytest.mark.parametrize("name", ["asia", "alarm"])
def test_uniform_cpt_ranges(name):
    net = classic_network(name)
    ranged = with_uniform_cpt_ranges(net, 0.2)
    entries = sum(net.cpt(v).size for v in net.variables)
    assert len(ranged.parameters) == entries
    for p in ranged.parameters.values():
        if p.value > 0:
            assert p.low == pytest.approx(0.8 * p.value, rel=1e-11)
            assert p.high == pytest.approx(1.2 * p.value, rel=1e-11)
            assert p.source.endswith("range: assumption: uniform +-20%, each row renormalised")
        else:
            assert not p.ranged
    for target, evidence, do in probing_queries(net)[:2]:
        a = net.query(target, evidence=evidence, do=do)
        b = ranged.query(target, evidence=evidence, do=do)
        assert max(abs(a[s] - b[s]) for s in a) < 1e-12

    # draws: every entry uniform in its range, each row renormalised
    rng = np.random.default_rng(20240)
    n = 300
    values = {k: rng.uniform(p.low, p.high, n) for k, p in ranged.parameters.items() if p.ranged}
    model = ranged.compile(values)
    for v in net.variables:
        states = net.states(v)
        rows = model.cpts[v].reshape(n, -1, len(states))
        for r in range(rows.shape[1]):
            group = cpt_group_name(v, r)
            weights = np.stack([values.get(f"{group}.{s}", np.full(n, ranged.parameter(
                f"{group}.{s}").value)) for s in states], axis=1)
            expected = weights / weights.sum(axis=1, keepdims=True)
            assert np.allclose(rows[:, r, :], expected, rtol=0, atol=1e-12), (v, r)

    target, evidence, do = probing_queries(net)[2]
    ev = resolve_assignments(ranged, evidence, what="evidence")
    dd = resolve_assignments(ranged, do, what="do()")
    batched = posterior(model, target, ev, dd)
    for i in (0, 1, n - 1):
        ref = pgmpy_reference_query(model.point(i), target, evidence, do)
        assert np.allclose(batched[i], list(ref.values()), rtol=0, atol=1e-10)
    point = net.query(target, evidence=evidence, do=do)
    assert batched.std(axis=0).max() > 1e-3  # the ranges do move the answer
    assert np.abs(batched.mean(axis=0) - list(point.values())).max() < 0.05


def test_ranges_only_on_chosen_nodes_and_bad_arguments():
    asia = classic_network("asia")
    ranged = with_uniform_cpt_ranges(asia, 0.1, nodes=["tub"])
    assert sorted({p.group for p in ranged.parameters.values()}) == ["t_tub_0", "t_tub_1"]
    assert ranged.node("lung").cpt.kind == "table"
    assert ranged.parameter("t_tub_1.no").high == pytest.approx(0.99 * 1.1)
    with pytest.raises(gmnet.InvalidArgumentError, match=r"relative range must be a number in"):
        with_uniform_cpt_ranges(asia, 1.5)
    with pytest.raises(UnknownNameError, match="unknown variable 'tb'"):
        with_uniform_cpt_ranges(asia, 0.2, nodes=["tb"])


def test_ranges_on_an_expression_network_keep_its_answers_and_targets():
    rh = gmnet.load_network("reward_hacking")
    ranged = with_uniform_cpt_ranges(rh, 0.2)
    for t in rh.spec.targets:
        a = rh.query(t.target, evidence=t.evidence, do=t.do)[t.state]
        assert abs(ranged.query(t.target, evidence=t.evidence, do=t.do)[t.state] - a) < 1e-12
    assert ranged.spec.targets == rh.spec.targets
    assert ranged.node("harm").cpt.kind == "expression"
    assert ranged.node("setting").cpt.kind == "prior"


# ---------------------------------------------------------------------------- drawing
def test_draw_a_classic_network():
    viz = pytest.importorskip("gmnet.viz.diagram")
    alarm = classic_network("alarm")
    diagram = viz.draw(alarm, "P(BP | HRBP=HIGH, do(CATECHOL=NORMAL))")
    for v in alarm.variables:
        assert v in diagram.source
    expected = alarm.query("BP", evidence={"HRBP": "HIGH"}, do={"CATECHOL": "NORMAL"})
    assert diagram.target_distribution == pytest.approx(expected, abs=1e-12)


# ---------------------------------------------------------------------------- the analyses
def test_uncertainty_analysis_on_a_ranged_classic_network():
    analysis = pytest.importorskip("gmnet.analysis.uncertainty")
    batched = pytest.importorskip("gmnet.inference.batched")
    alarm = classic_network("alarm")
    ranged = with_uniform_cpt_ranges(alarm, 0.2)
    evidence, do = {"HRBP": "HIGH"}, {"CATECHOL": "NORMAL"}
    result = analysis.uncertainty(ranged, "BP", "LOW", evidence=evidence, do=do, samples=2000,
                                  rng=3, unknowns=False)
    point = alarm.query("BP", evidence=evidence, do=do)["LOW"]
    assert result.point == pytest.approx(point, abs=1e-12)
    assert result.draws.shape == (2000,)
    assert 0.005 < result.std < 0.05
    assert abs(result.mean - point) < 0.01
    # the batched engine and the plain contraction agree on the same parameter draws
    model = analysis.uncertainty_model(ranged, unknowns=False)
    query = batched.plan_query(ranged, "BP", evidence=evidence, do=do)
    draws = model.sample(300, rng=4, names=model.inputs_for(query.parameters))
    values = model.parameter_values(draws)
    theirs = query.run(values)
    ours = posterior(ranged.compile(values), "BP",
                     resolve_assignments(ranged, evidence, what="evidence"),
                     resolve_assignments(ranged, do, what="do()"))
    assert np.allclose(theirs, ours, rtol=0, atol=1e-12)
    ref = pgmpy_reference_query(ranged.compile(values).point(7), "BP", evidence, do)
    assert np.allclose(ours[7], list(ref.values()), rtol=0, atol=1e-10)


def test_uncertainty_command_on_an_imported_network(tmp_path, capsys):
    pytest.importorskip("gmnet.analysis.uncertainty")
    from gmnet.cli import main

    out = tmp_path / "asia.yaml"
    assert main(["import", "--classic", "asia", "--cpt-ranges", "0.2", "--out", str(out)]) == 0
    capsys.readouterr()
    code = main(["uncertainty", "P(dysp=yes | smoke=yes, do(tub=no))", "--network", str(out),
                 "--samples", "500", "--json"])
    text, err = capsys.readouterr()
    assert code == 0, err
    import json

    payload = json.loads(text)
    expected = classic_network("asia").query("dysp", evidence={"smoke": "yes"},
                                             do={"tub": "no"})["yes"]
    assert payload["point"] == pytest.approx(expected, abs=1e-12)
