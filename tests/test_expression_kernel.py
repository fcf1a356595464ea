"""The compiled loops (gmnet.model.expression_kernel) against the tree walker, bit for bit: every
expression of the bundled networks under selections, each combination rule, NaN and division by
zero; the engine's answers with and without them; the cache on disk; the fallbacks."""

import os

import numpy as np
import pytest

import gmnet
from gmnet.model import expression_kernel as ek
from gmnet.model import pert_kernel as pk
from gmnet.model.cpts import group_values
from gmnet.model.expressions import COMBINATION_RULES, ExpressionContext, evaluate_compact
from tests.test_batched import random_network, ranged_draws
from tests.test_shared_eval import contexts, expressions

pytest.importorskip("numba")


def kernel_for(network, v, text, ctx, rule=None):
    parents = tuple((p, tuple(s), tuple(ctx.kept(p, s))) for p, s in ctx.parents)
    groups = tuple(sorted((g, tuple(keys)) for g, (keys, _) in ctx.groups.items()))
    return ek.fused_kernel(text, parents, frozenset(ctx.scalars), groups, rule or ctx.rule)


def assert_same(got, expected):
    shape = np.broadcast_shapes(expected.shape, got.shape)
    assert got.shape[-1] == expected.shape[-1]  # compact where numpy is compact
    assert np.array_equal(np.broadcast_to(got, shape), np.broadcast_to(expected, shape),
                          equal_nan=True)


@pytest.mark.parametrize("name", ["goal_misgeneralization", "reward_hacking"])
def test_every_bundled_expression_compiles_and_equals_the_walker_bit_for_bit(name):
    network = gmnet.load_network(name)
    # some parameters drawn (read at [i]), the others one number (read at [0])
    values = {**{k: np.asarray([p.value]) for k, p in network.parameters.items()},
              **ranged_draws(network, 7, 3)}
    rng = np.random.default_rng(11)
    texts: dict[str, list[str]] = {}
    for v, text in expressions(network):
        texts.setdefault(v, []).append(text)
    compiled = 0
    for v, ctx, _, _ in contexts(network, values, rng):
        for text in texts.get(v, []):
            kernel = kernel_for(network, v, text, ctx)
            if kernel is None:  # reads no parameter: numpy computes it once
                assert not any(isinstance(x, np.ndarray) and x.shape[-1] > 1
                               for x in [evaluate_compact(text, ctx)])
                continue
            assert_same(kernel.run(ctx.scalars, ctx.groups), evaluate_compact(text, ctx))
            compiled += 1
    assert compiled >= 5


@pytest.mark.parametrize("rule", COMBINATION_RULES)
def test_each_combination_rule_equals_the_walker(rule):
    network = gmnet.load_network()
    values = {**{k: np.asarray([p.value]) for k, p in network.parameters.items()},
              **ranged_draws(network, 9, 4)}
    # push some factors past 1 so that every branch of the split is taken
    values["m_spec.low"] = np.linspace(0.5, 4.0, 9)
    scalars, groups = group_values(network.spec, network.parameters, values)
    for v in ("spurious_features_shifted", "harm_if_failed", "learned_objective"):
        parents = [(p, network.states(p)) for p in network.parents(v)]
        ctx = ExpressionContext(parents, scalars, groups, rule)
        for node, text in expressions(network):
            if node == v:
                kernel = kernel_for(network, v, text, ctx)
                if kernel is not None:
                    assert_same(kernel.run(scalars, groups), evaluate_compact(text, ctx))


def test_nan_and_division_by_zero_as_numpy_has_them():
    parents = (("x", ("a", "b"), (0, 1)),)
    text = "min(r / s, where(x == 'a', t, 1)) + max(t, r) - clip(r / s, 0, 1)"
    kernel = ek.fused_kernel(text, parents, frozenset({"r", "s", "t"}), (), "relative_risk")
    scalars = {"r": np.array([1.0, 0.0, -1.0, np.nan, 2.0]),
               "s": np.array([0.0, 0.0, 0.0, 1.0, 4.0]),
               "t": np.array([np.nan, 0.5, 3.0, 0.2, np.inf])}
    ctx = ExpressionContext([("x", ["a", "b"])], scalars, {}, "relative_risk")
    with np.errstate(all="ignore"):
        expected = evaluate_compact(text, ctx)
    got = kernel.run(scalars, {})
    assert np.array_equal(got, expected, equal_nan=True)
    assert np.isnan(got).any() and np.isinf(expected).sum() == np.isinf(got).sum()


def test_the_engine_gives_the_same_answers_with_and_without_the_compiled_loops(monkeypatch):
    network = gmnet.load_network()
    values = {**{k: np.asarray([p.value]) for k, p in network.parameters.items()},
              **ranged_draws(network, 300, 5)}
    questions = [dict(), dict(evidence={"spec_quality": "low", "shift_type": "extreme"}),
                 dict(do={"ai_control": "on"})]
    for kw in questions:
        q = gmnet.plan_query(network, "harm", state="yes", **kw)
        monkeypatch.setenv("GMNET_KERNELS", "off")
        plain = q.run(values, chunk=64)
        monkeypatch.setenv("GMNET_KERNELS", "on")
        fused = q.run(values, chunk=64)
        assert np.array_equal(plain, fused)
    # a random network too (its own expressions, selections and rules)
    other = random_network(3)
    draws = {**{k: np.asarray([p.value]) for k, p in other.parameters.items()},
             **ranged_draws(other, 200, 6)}
    target = other.variables[-1]
    q = gmnet.plan_query(other, target)
    monkeypatch.setenv("GMNET_KERNELS", "off")
    plain = q.run(draws, chunk=50)
    monkeypatch.setenv("GMNET_KERNELS", "on")
    assert np.array_equal(q.run(draws, chunk=50), plain)


def test_kernels_are_kept_on_disk_and_used_by_later_runs_of_any_size(tmp_path, monkeypatch):
    monkeypatch.setenv("GMNET_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(ek, "_KERNELS", {})
    monkeypatch.setattr(ek, "_DISK", {})
    network = gmnet.load_network()
    values = {**{k: np.asarray([p.value]) for k, p in network.parameters.items()},
              **ranged_draws(network, 50, 8)}
    scalars, groups = group_values(network.spec, network.parameters, values)
    v = "spurious_features_shifted"
    ctx = ExpressionContext([(p, network.states(p)) for p in network.parents(v)], scalars,
                            groups, network.rule)
    text = next(t for node, t in expressions(network) if node == v)
    kernel = kernel_for(network, v, text, ctx)
    assert not kernel.is_cached(scalars, groups)
    # "auto": a small run does not compile, a large one does
    assert not ek.wanted(kernel, 1 << 20, False, scalars, groups)
    assert ek.wanted(kernel, 1 << 20, True, scalars, groups)
    kernel.run(scalars, groups)
    assert kernel.is_cached(scalars, groups)
    files = sorted(p.name for p in (tmp_path / "kernels").iterdir())
    assert any(f.startswith("gmnet_kernel_") and f.endswith(".py") for f in files)
    assert list((tmp_path / "kernels" / "__pycache__").glob("gmnet_kernel_*.nbi"))
    # another process would find it: a fresh kernel object (nothing compiled in memory)
    monkeypatch.setattr(ek, "_KERNELS", {})
    monkeypatch.setattr(ek, "_DISK", {})
    again = kernel_for(network, v, text, ctx)
    assert again is not kernel and again.is_cached(scalars, groups)
    assert ek.wanted(again, 1 << 20, False, scalars, groups)
    # too small an output is never worth a call
    assert not ek.wanted(again, ek.MIN_ENTRIES - 1, True, scalars, groups)


def test_an_unwritable_cache_compiles_in_memory(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("GMNET_CACHE_DIR", str(blocked))
    parents = (("x", ("a", "b"), (0, 1)),)
    kernel = ek.fused_kernel("where(x == 'b', r * 2, r)", parents, frozenset({"r"}), (),
                             "relative_risk")
    out = kernel.run({"r": np.array([0.25, 0.5])}, {})
    assert out.tolist() == [[0.25, 0.5], [0.5, 1.0]]
    assert blocked.read_text() == "not a directory"


def test_off_or_without_numba_numpy_does_everything(monkeypatch):
    network = gmnet.load_network()
    values = {**{k: np.asarray([p.value]) for k, p in network.parameters.items()},
              **ranged_draws(network, 100, 9)}
    q = gmnet.plan_query(network, "harm", state="yes")
    monkeypatch.setenv("GMNET_KERNELS", "on")
    expected = q.run(values, chunk=50)
    calls = []
    monkeypatch.setattr(ek.FusedKernel, "run", lambda self, *a: calls.append(1))
    monkeypatch.setenv("GMNET_KERNELS", "off")
    assert np.array_equal(q.run(values, chunk=50), expected)
    monkeypatch.setenv("GMNET_KERNELS", "on")
    monkeypatch.setattr(ek, "_numba", False)  # as if numba were not installed
    assert not ek.available()
    assert np.array_equal(q.run(values, chunk=50), expected)
    assert calls == []


def test_what_does_not_compile_is_left_to_numpy():
    parents = (("x", ("a", "b"), (0, 1)),)
    scalars = frozenset({"r"})
    assert ek.fused_kernel("0.5", parents, scalars, (), "relative_risk") is None  # no parameter
    assert ek.fused_kernel("r[x]", parents, scalars, (), "relative_risk") is None
    assert ek.fused_kernel("x", parents, scalars, (), "relative_risk") is None
    assert ek.fused_kernel("where(x == 'z', r, 1)", parents, scalars, (),
                           "relative_risk") is None  # no such state: the walker says so
    assert ek.fused_kernel("(x == 'a') & r", parents, scalars, (), "relative_risk") is None


def test_the_route_slope_equals_numpys_at_its_edges(monkeypatch):
    from gmnet.model.cpts import route_slope

    monkeypatch.setenv("GMNET_KERNELS", "on")
    rng = np.random.default_rng(12)
    n = 40_000
    G = rng.uniform(0, 1, (2, 1, n))
    dbar = rng.uniform(-1e-12, 1 + 1e-12, (1, 1, n))  # rounding just past 0 and 1
    share = rng.uniform(0.5, 1.0, (1, 1, n))
    # the edges: a route that cannot carry (0), that carries all (1), G equal to it, NaN
    dbar[..., :6] = [0.0, 1.0, 0.3, 0.0, 1.0, np.nan]
    G[..., :6] = [0.2, 0.7, 0.3, 0.0, 1.0, 0.5]
    got = ek.route_split(G, dbar, share, large_run=True)
    want = route_slope(G, dbar, share)[:2]
    for a, b in zip(got, want, strict=True):
        assert a.shape == np.broadcast_shapes(b.shape, G.shape)
        assert np.array_equal(a, np.broadcast_to(b, a.shape), equal_nan=True)
    assert got[1][0, 0, 2] == share[0, 0, 2]  # G = dbar: the route carries all of G
    assert got[0][0, 0, 2] == 0.3 - got[1][0, 0, 2] * 0.3  # what the share leaves off it
    # too small to be worth a call, or switched off: numpy's
    assert ek.route_split(G[..., :10], dbar[..., :10], share[..., :10], True) is None
    monkeypatch.setenv("GMNET_KERNELS", "off")
    assert ek.route_split(G, dbar, share, True) is None


def test_ctrl_c_waits_for_a_loop_to_compile():
    # an interrupt inside numba's compiler would surface as one of numba's errors (the command
    # would exit 1, not 130): the first call of a loop holds Ctrl+C back until it returns
    import os
    import signal

    from gmnet.model import expression_kernel as ek

    finished = []

    def compiling(x):
        os.kill(os.getpid(), signal.SIGINT)  # arrives while the loop "compiles"
        finished.append(x)
        return x + 1

    with pytest.raises(KeyboardInterrupt):
        ek._call(compiling, 1)
    assert finished == [1]  # the call ran to its end first
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    # a loop that ran once is not guarded again (its interrupt is Python's own)
    assert id(compiling) not in ek._CALLED

    def quick(x):
        return x * 2

    assert ek._call(quick, 4) == 8 and id(quick) in ek._CALLED


def test_pert_draws_are_numpys(monkeypatch):
    # compiled PERT draws (numpy's PCG64, ziggurat and Gamma written into one loop): numpy's
    # numbers, and the stream left where numpy leaves it, for PERT shapes above one; a million
    # draws reach the ziggurat's tail (index 0), its wedges and the Gamma's logarithmic test
    from gmnet.analysis.uncertain_inputs import UncertainInput

    ek.available()  # numba loaded, as a run's compiled loops load it
    n = pk.PERT_MIN_DRAWS
    for size, alpha, beta, low, high in ((1 << 20, 2.3, 4.1, 0.013, 0.27),
                                         (1 << 20, 1.001, 999.0, 0.0, 1.0),
                                         (n, 4.0, 1.5, 1.1, 2.5), (n, 999.0, 1.001, 0.0, 1.0),
                                         (n + 3, 5.0, 5.0, 2, 3)):
        mine, numpys = np.random.default_rng(7), np.random.default_rng(7)
        mine.random(3)  # a stream already drawn from, with a 32-bit half kept
        mine.integers(0, 10, dtype=np.uint32)
        numpys.random(3)
        numpys.integers(0, 10, dtype=np.uint32)
        got = pk.pert_draws(mine, alpha, beta, low, high, size)
        expected = low + (high - low) * numpys.beta(alpha, beta, size=size)
        assert got is not None and np.array_equal(got, expected)
        assert mine.bit_generator.state == numpys.bit_generator.state
        assert np.array_equal(mine.random(4), numpys.random(4))
    # fewer draws, loops switched off, another bit generator or generator, a shape of one (an
    # exponential for numpy) or below (Johnk's), not positive or not a number (numpy's errors):
    # numpy's (None), the stream untouched
    assert pk.pert_draws(np.random.default_rng(1), 2.0, 3.0, 0.0, 1.0,
                         pk.PERT_LOADED_MIN_DRAWS - 1) is None
    loaded = pk._kernel
    monkeypatch.setattr(pk, "_kernel", None)  # not yet loaded: loading is for long runs only
    assert pk.pert_draws(np.random.default_rng(1), 2.0, 3.0, 0.0, 1.0, n - 1) is None
    monkeypatch.setattr(pk, "_kernel", loaded)
    # loaded (a server's worker loads it at start, pk.load_if_numba_loaded): smaller runs too,
    # the same numbers
    assert pk.load_if_numba_loaded()
    mine, numpys = np.random.default_rng(11), np.random.default_rng(11)
    got = pk.pert_draws(mine, 2.3, 4.1, 0.1, 0.9, 2000)
    assert got is not None and np.array_equal(got, 0.1 + 0.8 * numpys.beta(2.3, 4.1, 2000))
    assert mine.bit_generator.state == numpys.bit_generator.state
    assert pk.pert_draws(np.random.Generator(np.random.MT19937(1)), 2.0, 3.0, 0.0, 1.0,
                         n) is None
    assert pk.pert_draws(np.random.RandomState(1), 2.0, 3.0, 0.0, 1.0, n) is None
    for alpha, beta in ((1.0, 1.0), (1.0, 5.0), (5.0, 1.0), (0.01, 0.01), (0.5, 3.0),
                        (0.0, 2.0), (-1.0, 2.0), (np.nan, 2.0), (2.0, np.inf)):
        rng = np.random.default_rng(1)
        assert pk.pert_draws(rng, alpha, beta, 0.0, 1.0, n) is None
        assert rng.random() == np.random.default_rng(1).random()
    bad = UncertainInput(name="x", label="x", distribution="pert", low=0.1, point=-0.1,
                         high=0.5, unit="probability", source="test")  # the point outside
    with pytest.raises(ValueError, match="a <= 0"):
        bad.sample(n, np.random.default_rng(1))
    monkeypatch.setenv("GMNET_KERNELS", "off")
    assert pk.pert_draws(np.random.default_rng(1), 2.0, 3.0, 0.0, 1.0, n) is None
    monkeypatch.delenv("GMNET_KERNELS")
    # an input draws them the same either way
    item = UncertainInput(name="x", label="x", distribution="pert", low=0.1, point=0.2,
                          high=0.5, unit="probability", source="test")
    compiled = item.sample(n, np.random.default_rng(3))
    monkeypatch.setenv("GMNET_KERNELS", "off")
    assert np.array_equal(compiled, item.sample(n, np.random.default_rng(3)))


def test_a_first_compiled_call_imports_no_linear_algebra(tmp_path):
    # numba's BLAS check made at the first compiled call without scipy's linear algebra
    # (numba imports it to check: a fifth of a second), numba's own check put back after it;
    # a numba function of the user's that uses a BLAS still works, numba importing scipy then
    import subprocess
    import sys

    script = """
import sys
import numpy as np
from gmnet.model import expression_kernel as ek
from gmnet.model import pert_kernel as pk
assert ek.available()
draws = pk.pert_draws(np.random.default_rng(3), 2.0, 3.0, 0.0, 1.0, pk.PERT_MIN_DRAWS)
expected = np.random.default_rng(3).beta(2.0, 3.0, size=pk.PERT_MIN_DRAWS)
import numba
from numba.np import arraymath, linalg
print(np.array_equal(draws, expected), "scipy.linalg" in sys.modules, arraymath._HAVE_BLAS,
      arraymath.ensure_blas is linalg.ensure_blas, linalg.ensure_blas.__module__)
dot = numba.njit(lambda a, b: np.dot(a, b))
print(dot(np.eye(2), np.array([[1.0, 2.0], [3.0, 4.0]])).tolist(), "scipy.linalg" in sys.modules)
"""
    env = {**os.environ, "GMNET_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["True False True True numba.np.linalg",
                                        "[[1.0, 2.0], [3.0, 4.0]] True"]


def test_a_cap_at_one_is_numpys_minimum_for_every_value():
    # the loops' one-instruction cap (kernel_helpers' _min1) against numpy.minimum(1.0, x) and
    # the general helper, bit for bit, at NaN, both zeros, one and its neighbours, infinities
    import numba

    from gmnet.model.kernel_helpers import HELPERS

    space: dict = {"numba": numba}
    exec(HELPERS + """
@numba.njit
def cap(x):
    return _min1(x)


@numba.njit
def general(x):
    return _minimum(1.0, x)


@numba.njit
def swapped(x):
    return _minimum(x, 1.0)
""", space)  # noqa: S102 - the project's own helper source
    cap, general, swapped = space["cap"], space["general"], space["swapped"]
    xs = np.array([np.nan, -np.nan, -0.0, 0.0, 1.0, np.nextafter(1.0, 2.0),
                   np.nextafter(1.0, 0.0), np.inf, -np.inf, 5.0, -5.0, 1e-300])
    expected = np.minimum(1.0, xs).view(np.uint64)
    for fn in (cap, general, swapped):
        got = np.array([fn(x) for x in xs]).view(np.uint64)
        assert np.array_equal(got, expected), fn
    assert np.array_equal(np.minimum(xs, 1.0).view(np.uint64), expected)
