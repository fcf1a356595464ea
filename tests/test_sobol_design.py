"""The Sobol design made and analysed a block at a time: SALib's numbers, in bounded memory."""

import tracemalloc
import warnings

import numpy as np
import pytest

from gmnet.analysis import sensitivity as sensitivity_module
from gmnet.analysis.sensitivity import sensitivity
from gmnet.analysis.sobol_design import base_blocks, saltelli_rows, sobol_indices
from gmnet.errors import InvalidArgumentError
from gmnet.model.network import network_from_dict

SOURCE = "assumption: test"
salib_sample = pytest.importorskip("SALib.sample.sobol")
salib_analyze = pytest.importorskip("SALib.analyze.sobol")


def problem(d):
    return {"num_vars": d, "names": [f"x{i}" for i in range(d)], "bounds": [[0.0, 1.0]] * d}


def salib_indices(d, y, seed, resamples=100, conf_level=0.95):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return salib_analyze.analyze(problem(d), y, calc_second_order=False,
                                     num_resamples=resamples, conf_level=conf_level, seed=seed)


def test_blocks_of_the_design_are_salibs_design():
    d, n, seed = 5, 256, 4321
    whole = salib_sample.sample(problem(d), n, calc_second_order=False, scramble=True, seed=seed)
    for block in (1, 16, 64, 256, 1024):
        blocks = list(base_blocks(d, n, seed, block))
        assert [start for start, _, _ in blocks] == list(range(0, n, min(block, n)))
        rows = np.vstack([saltelli_rows(a, b) for _, a, b in blocks])
        np.testing.assert_array_equal(rows, whole)  # bit for bit, whatever the block
    other = np.vstack([saltelli_rows(a, b) for _, a, b in base_blocks(d, n, seed + 1, 64)])
    assert not np.array_equal(other, whole)


def ishigami(x):
    return (np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2
            + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0]))


@pytest.mark.parametrize("block", [97, 4096, 1 << 18])
def test_indices_are_salibs_on_the_same_answers(block):
    d, n, seed = 4, 1024, 99
    x = salib_sample.sample(problem(d), n, calc_second_order=False, scramble=True, seed=seed)
    y = ishigami(np.pi * (2 * x - 1))  # x4 is a dummy: S1 = ST = 0 up to noise
    expected = salib_indices(d, y, seed)
    got = sobol_indices(y, d, seed=seed, block=block)
    for key, value in (("S1", got.s1), ("S1_conf", got.s1_conf), ("ST", got.st),
                       ("ST_conf", got.st_conf)):
        np.testing.assert_allclose(value, expected[key], rtol=0, atol=1e-12, err_msg=key)
    # Ishigami's known indices (a = 7, b = 0.1): S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244
    np.testing.assert_allclose(got.s1[:3], [0.314, 0.442, 0.0], atol=0.05)
    np.testing.assert_allclose(got.st[:3], [0.558, 0.442, 0.244], atol=0.05)
    assert got.variance == pytest.approx(np.var(np.r_[y[0::d + 2], y[d + 1::d + 2]]))


def test_inputs_left_out_are_exact_zeros_and_the_rest_unchanged():
    d, n, seed = 4, 512, 5
    x = salib_sample.sample(problem(d), n, calc_second_order=False, scramble=True, seed=seed)
    y = x[:, 0] + 2 * x[:, 1] * x[:, 2]  # x4 never moves it: its AB rows equal A's
    full = sobol_indices(y, d, seed=seed, conf_level=0.9, num_resamples=50)
    part = sobol_indices(y, d, seed=seed, conf_level=0.9, num_resamples=50, columns=[0, 1, 2])
    np.testing.assert_allclose(part.s1[:3], full.s1[:3], rtol=0, atol=1e-12)
    np.testing.assert_allclose(part.st_conf[:3], full.st_conf[:3], rtol=0, atol=1e-12)
    assert (part.s1[3], part.st[3], part.s1_conf[3], part.st_conf[3]) == (0.0, 0.0, 0.0, 0.0)
    constant = sobol_indices(np.full(n * (d + 2), 0.3), d, seed=seed)
    assert constant.variance == 0.0 and not constant.st.any() and not constant.st_conf.any()


def product_network():
    """P(out=yes) = q1 q2, q1 and q2 PERT(0, 0.5, 1) (Beta(3, 3)): mean m = 1/2, variance
    v = 1/28. Var = v^2 + 2 m^2 v; S1 = m^2 v / Var = 7/15, ST = (m^2 v + v^2) / Var = 8/15."""
    same = {"unit": "probability", "value": 0.5, "range": [0.0, 1.0], "source": SOURCE}
    return network_from_dict({
        "name": "product", "parameters": {"q1": same, "q2": same},
        "nodes": {"out": {"states": ["yes", "no"], "cpt": {
            "kind": "prior", "probabilities": {"yes": "q1 * q2", "no": "rest"}}}},
    })


def test_interaction_of_a_product_in_closed_form():
    result = sensitivity(product_network(), "out", "yes", samples=8192, rng=11, unknowns=False)
    for name in ("q1", "q2"):
        row = result.row(name)
        assert row.s1 == pytest.approx(7 / 15, abs=0.005)
        assert row.st == pytest.approx(8 / 15, abs=0.005)
        assert row.st - row.s1 == pytest.approx(1 / 15, abs=0.005)  # the interaction
    assert result.variance == pytest.approx(1 / 28**2 + 2 * 0.25 / 28, rel=0.01)


def many_inputs_network(d=8):
    """P(out=yes) = the mean of d probabilities, plus one input out never reads."""
    params = {f"q{i}": {"unit": "probability", "value": 0.3 + 0.05 * i,
                        "range": [0.1, 0.5 + 0.05 * i], "source": SOURCE} for i in range(d)}
    params["unread"] = {"unit": "probability", "value": 0.5, "range": [0.1, 0.9],
                        "source": SOURCE}
    mean = " + ".join(f"q{i}" for i in range(d))
    return network_from_dict({
        "name": "many", "parameters": params,
        "nodes": {"out": {"states": ["yes", "no"], "cpt": {
            "kind": "prior", "probabilities": {"yes": f"({mean}) / {d}", "no": "rest"}}},
            "side": {"states": ["yes", "no"], "cpt": {
                "kind": "prior", "probabilities": {"yes": "unread", "no": "rest"}}}},
    })


def test_blocked_run_equals_salib_on_the_whole_design():
    net = many_inputs_network(4)
    n, seed = 512, 2024
    result = sensitivity(net, "out", "yes", samples=n, rng=seed, unknowns=False, block=32)
    # the unblocked computation: SALib's whole design, evaluated at once, SALib's analysis
    model = sensitivity_module.uncertainty_model(net, unknowns=False)
    names = list(model.names)
    salib_seed = int(np.random.default_rng(seed).integers(1, 2**31 - 1))
    x = salib_sample.sample(problem(len(names)), n, calc_second_order=False, scramble=True,
                            seed=salib_seed)
    draws = {name: model.input(name).ppf(x[:, i]) for i, name in enumerate(names)}
    query, index, _ = sensitivity_module._plan(net, "out", "yes", None, None)
    y = query.run(model.parameter_values(draws))[:, index]
    np.testing.assert_allclose(result.sobol_draws, y, rtol=0, atol=1e-15)
    expected = salib_indices(len(names), y, salib_seed)
    for i, name in enumerate(names):
        row = result.row(name)
        assert row.s1 == pytest.approx(expected["S1"][i], abs=1e-12)
        assert row.st == pytest.approx(expected["ST"][i], abs=1e-12)
        assert row.s1_conf == pytest.approx(expected["S1_conf"][i], abs=1e-12)
        assert row.st_conf == pytest.approx(expected["ST_conf"][i], abs=1e-12)
    assert result.row("unread").st == 0.0
    assert result.evaluations == 2 * 4 + n * (2 + 4)  # unread's AB rows are never evaluated


def test_block_size_changes_nothing():
    net = many_inputs_network(3)
    runs = [sensitivity(net, "out", "yes", samples=256, rng=8, unknowns=False, block=block)
            for block in (1, 8, 256)]
    for other in runs[1:]:
        np.testing.assert_allclose(other.sobol_draws, runs[0].sobol_draws, rtol=0, atol=1e-15)
        assert [(r.name, r.s1, r.st) == (s.name, s.s1, s.st)
                for r, s in zip(runs[0].rows, other.rows, strict=True)] == [True] * 4
        np.testing.assert_allclose([r.st_conf for r in other.rows],
                                   [r.st_conf for r in runs[0].rows], rtol=0, atol=1e-12)
    again = sensitivity(net, "out", "yes", samples=256, rng=8, unknowns=False)
    assert [r.to_dict() for r in again.rows] == [r.to_dict() for r in runs[2].rows]
    other_seed = sensitivity(net, "out", "yes", samples=256, rng=9, unknowns=False)
    assert other_seed.row("q0").st != again.row("q0").st


def peak_bytes(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_design():
    d = 8
    net = many_inputs_network(d)

    def run(n, block=256):
        return lambda: sensitivity(net, "out", "yes", samples=n, rng=1, unknowns=False,
                                   block=block)

    run(256)()  # imports, caches
    small, large = peak_bytes(run(4096)), peak_bytes(run(16384))
    more = 16384 - 4096
    answers = 8 * more * (d + 3)  # d + 1 inputs: N (d + 3) answers, 1.1 MB more
    counts = more * 100  # the bootstrap's counts: a byte per base row and resample, 1.2 MB
    # only the answers and the counts grow; the whole design would add 8 N (d + 3) (d + 1)
    # bytes (9.7 MB more), SALib's N x resamples bootstrap indices 8 N x 100 (9.8 MB more)
    assert large - small < 1.5 * (answers + counts)
    # the measure sees a design held whole: the same run in one block peaks far higher
    design = 8 * 4096 * (d + 3) * (d + 1)
    assert peak_bytes(run(4096, block=4096)) - small > design / 4


def test_one_plan_for_the_tornado_and_sobol(monkeypatch):
    from gmnet.analysis import uncertain_inputs
    from gmnet.inference.batched import BatchedQuery

    plans, runs = [], []
    real_plan, real_run = uncertain_inputs.plan_query, BatchedQuery.run

    def counting_plan(*args, **kwargs):
        plans.append(args)
        return real_plan(*args, **kwargs)

    def counting_run(self, *args, **kwargs):
        runs.append(id(self))
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(uncertain_inputs, "plan_query", counting_plan)
    monkeypatch.setattr(BatchedQuery, "run", counting_run)
    result = sensitivity(many_inputs_network(3), "out", "yes", samples=64, rng=0, block=16)
    assert len(plans) == 1 and len(set(runs)) == 1
    # moving-input check, point, tornado, then the design's 64 / 16 blocks
    assert len(runs) == 3 + 4
    assert result.evaluations == 2 * 3 + 64 * (2 + 3)


def test_bad_block_and_resamples():
    net = many_inputs_network(2)
    with pytest.raises(InvalidArgumentError, match="block must be a power of 2"):
        sensitivity(net, "out", "yes", samples=64, block=3)
    with pytest.raises(InvalidArgumentError, match="num_resamples must be a whole number of at"):
        sensitivity(net, "out", "yes", samples=64, num_resamples=1)
