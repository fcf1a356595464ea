"""Chain, fork and collider with answers computed by hand, in every engine."""

import pytest

ENGINES = ("einsum", "pgmpy", "enumeration")


@pytest.mark.parametrize("engine", ENGINES)
def test_chain(toy, engine):
    chain = toy["chain"]
    # P(B=yes) = 0.7*0.2 + 0.3*0.9 = 0.41; P(C=yes) = 0.59*0.1 + 0.41*0.7 = 0.346
    assert chain.query("C", engine=engine)["yes"] == pytest.approx(0.346, abs=1e-12)
    # P(A=yes | C=yes) = 0.3 * (0.1*0.1 + 0.9*0.7) / 0.346
    assert chain.query("A", evidence={"C": "yes"}, engine=engine)["yes"] == pytest.approx(
        0.3 * 0.64 / 0.346, abs=1e-12)
    # observing B says something about A; setting B does not
    assert chain.query("A", evidence={"B": "yes"}, engine=engine)["yes"] == pytest.approx(
        0.27 / 0.41, abs=1e-12)
    assert chain.query("A", do={"B": "yes"}, engine=engine)["yes"] == pytest.approx(0.3, abs=1e-12)
    assert chain.query("C", do={"B": "yes"}, engine=engine)["yes"] == pytest.approx(0.7, abs=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_fork(toy, engine):
    fork = toy["fork"]
    # P(C=yes | A=yes) = (0.6*0.1*0.3 + 0.4*0.8*0.6) / (0.6*0.1 + 0.4*0.8) = 0.21 / 0.38
    assert fork.query("C", evidence={"A": "yes"}, engine=engine)["yes"] == pytest.approx(
        0.21 / 0.38, abs=1e-12)
    # intervening on A cuts it from the common cause: P(C=yes | do(A=yes)) = P(C=yes) = 0.42
    assert fork.query("C", do={"A": "yes"}, engine=engine)["yes"] == pytest.approx(0.42, abs=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_collider(toy, engine):
    col = toy["collider"]
    assert col.query("B", evidence={"A": "yes"}, engine=engine)["yes"] == pytest.approx(
        0.2, abs=1e-12)  # independent causes
    # P(C=yes) = 0.475; P(B=yes, C=yes) = 0.08 + 0.095
    assert col.query("B", evidence={"C": "yes"}, engine=engine)["yes"] == pytest.approx(
        0.175 / 0.475, abs=1e-12)
    # explaining away: learning A=yes lowers P(B=yes | C=yes) to 0.095 / 0.375
    assert col.query("B", evidence={"C": "yes", "A": "yes"}, engine=engine)["yes"] == \
        pytest.approx(0.095 / 0.375, abs=1e-12)
    assert col.query("B", do={"C": "yes"}, engine=engine)["yes"] == pytest.approx(0.2, abs=1e-12)


def test_observing_and_intervening_differ_on_the_bundled_network(net):
    # harm is evidence about the shift type; setting harm is not
    observed = net.query("shift_type", evidence={"harm": "yes"})["extreme"]
    intervened = net.query("shift_type", do={"harm": "yes"})["extreme"]
    # the uniform prior: setting harm says nothing about the shift type
    assert intervened == pytest.approx(0.25, abs=1e-12)
    # Bayes: P(extreme | harm) = P(harm | do(extreme)) / sum over shift types (uniform prior)
    p_harm = {s: net.query("harm", do={"shift_type": s})["yes"] for s in net.states("shift_type")}
    assert observed == pytest.approx(p_harm["extreme"] / sum(p_harm.values()), abs=1e-12)
    assert observed > intervened + 0.05
