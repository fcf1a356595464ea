"""do() by graph surgery agrees with brute-force enumeration and with pgmpy, to 1e-12."""

import numpy as np
import pytest

import gmnet
from gmnet.inference.enumeration import enumerate_marginal

TOL = 1e-12


def _mitigations_fixed(net, rng):
    """do() on every mitigation node keeps the enumerated joint small."""
    return {v: str(rng.choice(net.states(v))) for v in net.variables
            if net.node(v).role == "mitigation"}


def _agree(net, target, evidence, do):
    results = {}
    for engine in ("einsum", "enumeration", "pgmpy"):
        try:
            results[engine] = net.query(target, evidence=evidence, do=do, engine=engine)
        except gmnet.ImpossibleEvidenceError:
            results[engine] = "impossible"
    ref = results["enumeration"]
    for engine, got in results.items():
        if ref == "impossible" or got == "impossible":
            assert got == ref, (engine, target, evidence, do)
            continue
        for state in net.states(target):
            assert got[state] == pytest.approx(ref[state], abs=TOL), (engine, target, evidence, do)
    return ref


CASES = [
    # do() on non-root nodes, with evidence on their descendants and non-descendants
    ("harm", {"spec_quality": "low"}, {"learned_objective": "proxy"}),
    ("spec_quality", {"harm": "yes"}, {"learned_objective": "proxy"}),
    ("shift_type", {"harm": "yes"}, {"capability_transfer": "yes"}),
    ("learned_objective", {"harm": "yes", "shift_type": "extreme"},
     {"goal_misgeneralizes": "yes"}),
    ("training_diversity", {"goal_misgeneralizes": "yes"}, {"spurious_correlations": "strong"}),
    ("harm", {"true_goal_features": "obscure", "capability_transfer": "yes"},
     {"spurious_features_shifted": "no", "alignment_method": "behavioral_cloning"}),
    ("goal_misgeneralizes", {"harm": "no", "spec_quality": "high"},
     {"capability_transfer": "yes", "shift_type": "significant"}),
]


@pytest.mark.parametrize("target, evidence, do", CASES)
def test_do_with_evidence_matches_enumeration(net, target, evidence, do):
    rng = np.random.default_rng(0)
    _agree(net, target, evidence, {**_mitigations_fixed(net, rng), **do})


def test_observing_differs_from_intervening_in_the_cases(net):
    fixed = _mitigations_fixed(net, np.random.default_rng(0))
    observed = net.query("spec_quality", evidence={"harm": "yes", "learned_objective": "proxy"},
                         do=fixed)
    intervened = net.query("spec_quality", evidence={"harm": "yes"},
                           do={**fixed, "learned_objective": "proxy"})
    assert abs(observed["low"] - intervened["low"]) > 0.01


def test_random_queries_agree_in_every_engine(net):
    rng = np.random.default_rng(20261127)
    names = list(net.variables)
    checked = 0
    for _ in range(25):
        fixed = _mitigations_fixed(net, rng)
        free = [v for v in names if v not in fixed]
        chosen = list(rng.choice(free, size=4, replace=False))
        target, obs, cut = chosen[0], chosen[1:1 + int(rng.integers(0, 3))], chosen[3:]
        evidence = {v: str(rng.choice(net.states(v))) for v in obs}
        do = {**fixed, **{v: str(rng.choice(net.states(v))) for v in cut}}
        result = _agree(net, str(target), evidence, do)
        checked += result != "impossible"
    assert checked >= 15


def test_enumeration_sums_the_whole_joint(toy):
    chain = toy["chain"].compiled
    joint = enumerate_marginal(chain, ["A", "C"])
    assert joint.sum() == pytest.approx(1.0, abs=1e-15)
    assert joint[1, 1] == pytest.approx(0.3 * 0.64, abs=1e-15)  # P(A=yes, C=yes)


def test_impossible_evidence_is_reported(net):
    with pytest.raises(gmnet.ImpossibleEvidenceError,
                       match=r"capability_transfer=no, goal_misgeneralizes=yes.*probability 0"):
        net.query("harm", evidence={"capability_transfer": "no", "goal_misgeneralizes": "yes"})
    # intervening makes it possible: do() cuts goal_misgeneralizes from capability transfer
    p = net.query("harm", evidence={"capability_transfer": "no"},
                  do={"goal_misgeneralizes": "yes"})
    assert p["yes"] > 0


def test_one_draws_rescaling_is_the_general_one():
    """An exact query's factors (one draw) are checked for scaling as one number: the same
    array and exponent as the per-draw check, at safe, tiny, huge, zero and NaN entries."""
    from gmnet.inference import elimination

    def general(arr):  # the per-draw path, as for N draws
        top = arr.max(axis=tuple(range(1, arr.ndim)))
        if bool(np.all((top >= elimination._SAFE_LOW) & (top <= elimination._SAFE_HIGH))):
            return arr, np.zeros(1, dtype=np.int64)
        _, exponent = np.frexp(top)
        exponent = exponent.astype(np.int64)
        if not exponent.any():
            return arr, exponent
        return np.ldexp(arr, -exponent.reshape((-1,) + (1,) * (arr.ndim - 1))), exponent

    for top in (0.3, 1.0, 2.0 ** -100, 2.0 ** -101, 2.0 ** 100, 2.0 ** 101, 1e-300, 1e300,
                0.0, np.nan):
        arr = np.array([[[top, 0.25 * top], [0.0, 0.5 * top]]])
        got, exponent = elimination._rescaled(arr)
        want, wanted = general(arr)
        assert np.array_equal(got, want, equal_nan=True) and exponent.tolist() == wanted.tolist()
        assert (got is arr) == (want is arr)
    assert elimination._rescaled(np.array([[0.3]]))[1].tolist() == [0]
    assert elimination._rescaled(np.array([[2.0 ** -150]]))[1].tolist() == [-149]
