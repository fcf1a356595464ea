"""Numbers at the edges: evidence of probability zero, CPT entries of exactly 0 and 1, very small
probabilities (no underflow to a wrong answer, no NaN), sample counts of 1 and 10^6 (chunked),
and NaN never reaching an output."""

import json
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gmnet
from gmnet.inference.contraction import marginal
from gmnet.inference.query import posterior
from gmnet.model.compiled import CompiledModel
from gmnet.model.network import network_from_dict

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
EXACT_ENGINES = ("einsum", "pgmpy")  # enumeration would build a joint of 2^n entries


def chain(n: int, p_yes_after_yes: float, p_yes_after_no: float = 0.0,
          p_first: float | None = None):
    """v0 -> v1 -> ... -> v{n-1}, states yes/no."""
    first = p_yes_after_yes if p_first is None else p_first
    nodes = {"v0": {"states": ["yes", "no"],
                    "cpt": {"kind": "table", "rows": [[first, 1 - first]], "source": "test"}}}
    for i in range(1, n):
        nodes[f"v{i}"] = {"states": ["yes", "no"], "parents": [f"v{i - 1}"],
                          "cpt": {"kind": "table", "source": "test",
                                  "rows": [[p_yes_after_yes, 1 - p_yes_after_yes],
                                           [p_yes_after_no, 1 - p_yes_after_no]]}}
    return network_from_dict({"name": "chain", "nodes": nodes})


def exact_chain_last_yes(n: int, a: float, b: float, first: float) -> Fraction:
    """P(v{n-1} = yes) in exact rational arithmetic (the floats taken as given)."""
    a, b, p = Fraction(a), Fraction(b), Fraction(first)
    for _ in range(n - 1):
        p = p * a + (1 - p) * b
    return p


# ------------------------------------------------------------------ very small probabilities
@pytest.mark.parametrize("engine", EXACT_ENGINES)
def test_thirty_nodes_of_one_in_a_thousand_equal_the_exact_product(engine):
    net = chain(30, 1e-3)
    exact = Fraction(1e-3) ** 30  # ~1e-90
    got = net.query("v29", engine=engine)
    assert got["yes"] > 0 and math.isfinite(got["yes"])
    assert got["yes"] == pytest.approx(float(exact), rel=1e-12)
    assert got["no"] == pytest.approx(1.0, abs=1e-15)
    # evidence of probability ~1e-90 is far from impossible
    assert net.query("v0", evidence={"v29": "yes"}, engine=engine) == {"yes": 1.0, "no": 0.0}
    ev = {f"v{i}": "yes" for i in range(29)}
    # 29 observed variables: the pgmpy backend asks pgmpy for P(target | evidence), never for
    # the joint over every observed variable (that was 2^30 entries and ran out of memory)
    assert net.query("v29", evidence=ev, engine=engine)["yes"] == pytest.approx(1e-3, rel=1e-12)


def test_the_probability_of_tiny_evidence_is_the_exact_product():
    net = chain(30, 1e-3)
    model = net.compiled
    ev = {f"v{i}": 0 for i in range(30)}
    total = marginal(model, [], ev).reshape(-1)[0]
    assert total == pytest.approx(float(Fraction(1e-3) ** 30), rel=1e-12)


@pytest.mark.parametrize("engine", EXACT_ENGINES)
def test_small_leaks_along_a_chain_match_rational_arithmetic(engine):
    a, b, first = 1e-3, 1e-5, 1e-3
    net = chain(30, a, b, first)
    exact = exact_chain_last_yes(30, a, b, first)
    assert net.query("v29", engine=engine)["yes"] == pytest.approx(float(exact), rel=1e-10)
    # Bayes: P(v0 = yes | v29 = yes), exactly
    p_last_given_first_yes = _last_yes_given_first(30, a, b, Fraction(1))
    p_last_given_first_no = _last_yes_given_first(30, a, b, Fraction(0))
    f = Fraction(first)
    post = f * p_last_given_first_yes / (f * p_last_given_first_yes
                                         + (1 - f) * p_last_given_first_no)
    got = net.query("v0", evidence={"v29": "yes"}, engine=engine)
    assert got["yes"] == pytest.approx(float(post), rel=1e-10)
    assert got["yes"] + got["no"] == pytest.approx(1.0, abs=1e-15)


def _last_yes_given_first(n, a, b, p0):
    a, b, p = Fraction(a), Fraction(b), p0
    for _ in range(n - 1):
        p = p * a + (1 - p) * b
    return p


@pytest.mark.parametrize("engine", EXACT_ENGINES)
def test_evidence_below_double_precision_is_refused_not_called_impossible(engine):
    # P(v119 = yes) = 1e-360: positive, but below the smallest double
    net = chain(120, 1e-3)
    with pytest.raises(gmnet.ImpossibleEvidenceError,
                       match=r"v119=yes\) has a probability below 4\.9e-314, too small for "
                             r"double precision .*\(it is possible"):
        net.query("v0", evidence={"v119": "yes"}, engine=engine)
    # ... while the unconditional answer, 1e-360, is 0 to double precision (not NaN)
    assert net.query("v119", engine=engine) == {"yes": 0.0, "no": 1.0}


@pytest.mark.parametrize("engine", EXACT_ENGINES)
def test_subnormal_but_accurate_evidence_is_answered(engine):
    # P(v103 = yes) = 1e-312: subnormal, still about 12 significant digits
    net = chain(104, 1e-3)
    assert net.query("v0", evidence={"v103": "yes"}, engine=engine) == {"yes": 1.0, "no": 0.0}


# ------------------------------------------------------------------ exactly 0 and 1
def deterministic():
    """A -> B -> C with B a copy of A and C = not B; D a noisy child of A."""
    return network_from_dict({"name": "deterministic", "nodes": {
        "A": {"states": ["yes", "no"], "cpt": {"kind": "table", "rows": [[0.25, 0.75]],
                                               "source": "test"}},
        "B": {"states": ["yes", "no"], "parents": ["A"],
              "cpt": {"kind": "table", "rows": [[1.0, 0.0], [0.0, 1.0]], "source": "test"}},
        "C": {"states": ["yes", "no"], "parents": ["B"],
              "cpt": {"kind": "table", "rows": [[0.0, 1.0], [1.0, 0.0]], "source": "test"}},
        "D": {"states": ["yes", "no"], "parents": ["A"],
              "cpt": {"kind": "table", "rows": [[0.5, 0.5], [0.0, 1.0]], "source": "test"}},
    }})


@pytest.mark.parametrize("engine", gmnet.ENGINES)
def test_zero_and_one_entries_give_exact_answers(engine):
    net = deterministic()
    assert net.query("C", engine=engine) == {"yes": 0.75, "no": 0.25}
    assert net.query("A", evidence={"C": "no"}, engine=engine) == {"yes": 1.0, "no": 0.0}
    assert net.query("A", evidence={"D": "yes"}, engine=engine) == {"yes": 1.0, "no": 0.0}
    assert net.query("C", do={"B": "yes"}, engine=engine) == {"yes": 0.0, "no": 1.0}
    # do() cuts B from A: observing C says nothing about A any more
    assert net.query("A", evidence={"C": "no"}, do={"B": "yes"},
                     engine=engine) == {"yes": 0.25, "no": 0.75}


@pytest.mark.parametrize("engine", gmnet.ENGINES)
@pytest.mark.parametrize("evidence, do", [
    ({"A": "no", "B": "yes"}, {}),
    ({"B": "yes", "C": "yes"}, {}),
    ({"D": "yes", "C": "yes"}, {}),
    ({"C": "yes"}, {"B": "yes"}),
    ({"D": "yes"}, {"A": "no"}),
])
def test_evidence_of_probability_zero_is_an_error_in_every_engine(engine, evidence, do):
    net = deterministic()
    named = ", ".join(f"{k}={v}" for k, v in evidence.items())
    for target in ("A", "C", "D", *evidence):
        with pytest.raises(gmnet.ImpossibleEvidenceError,
                           match=rf"the evidence \({named}\) is impossible under the model "
                                 r"\(probability 0\)$"):
            net.query(target, evidence=evidence, do=do, engine=engine)


def test_impossible_evidence_in_one_draw_of_many_is_named():
    net = deterministic()
    model = net.compiled
    cpts = dict(model.cpts)
    a = np.repeat(cpts["A"], 3, axis=0).copy()
    a[1] = [0.0, 1.0]  # in draw 1, A is never yes
    cpts["A"] = a
    many = CompiledModel(model.variables, model.states, model.parents, cpts)
    with pytest.raises(gmnet.ImpossibleEvidenceError, match="in at least one parameter draw"):
        posterior(many, "C", {"D": 0}, {})


# ------------------------------------------------------------------ sample counts
def _noisy_chain_model(n_draws: int, seed: int = 0) -> tuple[CompiledModel, np.ndarray]:
    """The toy chain A -> B -> C with P(A = yes) drawn per draw; exact P(C = yes) per draw."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.0, 1.0, n_draws)
    p[0] = 0.0
    p[-1] = 1.0
    a = np.stack([p, 1 - p], axis=1)
    b = np.broadcast_to(np.array([[0.8, 0.2], [0.1, 0.9]]), (n_draws, 2, 2)).copy()
    c = np.broadcast_to(np.array([[0.9, 0.1], [0.3, 0.7]]), (n_draws, 2, 2)).copy()
    model = CompiledModel(("A", "B", "C"), {v: ("yes", "no") for v in "ABC"},
                          {"A": (), "B": ("A",), "C": ("B",)}, {"A": a, "B": b, "C": c})
    p_b = 0.8 * p + 0.1 * (1 - p)
    return model, 0.9 * p_b + 0.3 * (1 - p_b)


@pytest.mark.parametrize("n_draws", [1, 2, 1_000_000])
def test_one_draw_and_a_million_draws_in_chunks(n_draws):
    model, exact = _noisy_chain_model(n_draws)
    got = posterior(model, "C", {}, {}, chunk=50_000)
    assert got.shape == (n_draws, 2)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got[:, 0], exact, rtol=0, atol=1e-14)
    # conditioning draw by draw: P(A = yes | C = yes) = P(A = yes) P(C = yes | A = yes) / P(C)
    cond = posterior(model, "A", {"C": 0}, {}, chunk=50_000)
    p_a = model.cpts["A"][:, 0]
    expected = p_a * (0.8 * 0.9 + 0.2 * 0.3) / exact
    np.testing.assert_allclose(cond[:, 0], expected, rtol=1e-12, atol=1e-15)


def test_chunk_boundaries_do_not_change_answers():
    model, _ = _noisy_chain_model(2_501, seed=3)
    whole = posterior(model, "A", {"C": 1}, {}, chunk=None)
    for chunk in (1, 7, 1_000, 2_500, 2_501):
        np.testing.assert_array_equal(posterior(model, "A", {"C": 1}, {}, chunk=chunk), whole)


# ------------------------------------------------------------------ hypothesis: tiny numbers
@st.composite
def tiny_network_and_query(draw):
    """Random networks whose CPT entries range down to 1e-60 (log-uniform), and a query."""
    n = draw(st.integers(2, 6))
    cards = [draw(st.integers(2, 3)) for _ in range(n)]
    nodes = {}
    for j in range(n):
        parents = [f"v{i}" for i in range(j) if draw(st.booleans())][:2]
        configs = int(np.prod([cards[int(p[1:])] for p in parents])) if parents else 1
        rows = []
        for _ in range(configs):
            logs = [draw(st.floats(-60.0, 0.0)) for _ in range(cards[j] - 1)]
            small = [10.0 ** x / cards[j] for x in logs]
            rows.append(small + [1.0 - sum(small)])
        nodes[f"v{j}"] = {"states": [f"s{k}" for k in range(cards[j])], "parents": parents,
                          "cpt": {"kind": "table", "rows": rows, "source": "random"}}
    net = network_from_dict({"name": "tiny", "nodes": nodes})
    names = list(net.variables)
    target = draw(st.sampled_from(names))
    others = [v for v in names if v != target]
    chosen = draw(st.lists(st.sampled_from(others), unique=True, min_size=1,
                           max_size=len(others)))
    split = draw(st.integers(1, len(chosen)))  # at least one observed variable
    # observe the least likely state: the evidence probability gets very small
    evidence = {v: net.states(v)[0] for v in chosen[:split]}
    do = {v: draw(st.sampled_from(net.states(v))) for v in chosen[split:]}
    return net, target, evidence, do


@SETTINGS
@given(tiny_network_and_query())
def test_tiny_probabilities_agree_in_every_engine_to_relative_precision(case):
    net, target, evidence, do = case
    answers = {engine: net.query(target, evidence=evidence, do=do, engine=engine)
               for engine in gmnet.ENGINES}
    ref = answers["enumeration"]
    assert sum(ref.values()) == pytest.approx(1.0, abs=1e-12)
    for engine, got in answers.items():
        json.dumps(got, allow_nan=False)  # never NaN or infinite
        for state, p in ref.items():
            assert 0.0 <= got[state] <= 1.0
            # relative, not absolute: 1e-50 against 2e-50 would be a wrong answer
            assert got[state] == pytest.approx(p, rel=1e-9, abs=1e-300), (engine, state)


# ------------------------------------------------------------------ uncertainty: 1 and 10^6 draws
def test_uncertainty_with_one_draw_is_finite_and_json_safe(net):
    from gmnet.analysis.uncertainty import uncertainty

    result = uncertainty(net, "harm", "yes", evidence={"shift_type": "extreme"}, samples=1,
                         rng=0)
    assert result.draws.shape == (1,)
    assert 0.0 <= result.draws[0] <= 1.0
    assert result.mean == result.median == result.draws[0]
    json.dumps(result.to_dict(), allow_nan=False)


def test_uncertainty_with_a_million_draws_is_chunked_and_agrees(net):
    from gmnet.analysis.uncertainty import uncertainty

    # a node six uncertain numbers reach: the draws, not the contraction, dominate the cost
    ask = {"network": net, "target": "spurious_correlations", "state": "strong"}
    big = uncertainty(**ask, samples=1_000_000, rng=0, chunk=65_536)
    assert big.draws.shape == (1_000_000,)
    assert len(big.inputs) >= 2
    assert np.all(np.isfinite(big.draws))
    assert np.all((big.draws >= 0.0) & (big.draws <= 1.0))
    # chunking changes no draw
    whole = uncertainty(**ask, samples=1_000_000, rng=0, chunk=1_000_000)
    np.testing.assert_array_equal(big.draws, whole.draws)
    # another seed, same distribution: the means agree to a few standard errors
    small = uncertainty(**ask, samples=10_000, rng=1)
    assert big.mean == pytest.approx(small.mean, abs=5 * small.std / 100)
    json.dumps(big.to_dict(), allow_nan=False)
