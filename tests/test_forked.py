"""A large batched run in forked worker processes (gmnet.inference.forked): the same numbers as
the threads, errors reach the caller, and processes only where forking is safe."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import types

import pytest

from gmnet.inference import forked

# Run in a fresh interpreter: forking needs a process with no other Python thread, which a
# test session that has started servers or a Dask cluster may no longer be.
SCRIPT = textwrap.dedent("""
    import dataclasses, json, os, signal, sys
    import numpy as np
    import gmnet
    from gmnet.errors import GmnetError, ImpossibleEvidenceError, UnknownNameError
    from gmnet.inference import batched, forked
    from gmnet.inference.batched import plan_query

    net = gmnet.load_network()
    rng = np.random.default_rng(21)
    values = {name: rng.uniform(p.low, p.high, 900) for name, p in net.parameters.items()
              if p.ranged}
    q = plan_query(net, "harm", evidence={"shift_type": "extreme"}, state="yes")
    forks = []
    real = forked.run_forked
    def spy(*args, **kwargs):
        forks.append(len(args[2]))
        return real(*args, **kwargs)
    forked.run_forked = spy
    one = q.run(values, chunk=100, workers=1)
    fresh = dataclasses.replace(q)  # the same plan, not yet run (plan_query keeps q)
    seen = []
    two = fresh.run(values, chunk=100, workers=2, progress=seen.append)
    again = fresh.run(values, chunk=100, workers=2)
    out = {"forks": list(forks), "equal": bool(np.array_equal(one, two)), "progress": sum(seen),
           "shape": list(two.shape), "median": float(np.median(two)),
           "again_equal": bool(np.array_equal(one, again))}

    # several chunks a task and a short last one: 21 chunks of 50 (the last of 10 draws)
    more = {k: np.concatenate([v, v[:110]]) for k, v in values.items()}
    seen = []
    out["long_equal"] = bool(np.array_equal(q.run(more, chunk=50, workers=1),
                                            q.run(more, chunk=50, workers=2,
                                                  progress=seen.append)))
    out["long_forks"], out["long_progress"] = forks[-1], sum(seen)

    # a child's error is the caller's; a child that dies stops the run
    chunk = batched.BatchedQuery._chunk
    name = "p_harm_given_failure.extreme"
    def failing(self, values, size, effort):
        marker = float(np.min(values[name]))
        if marker == -1:
            raise ImpossibleEvidenceError("the evidence is impossible in draw 517")
        if marker == -2:
            raise UnknownNameError("state", "sideways", ["yes", "no"], context="of harm")
        if marker == -3:
            os.kill(os.getpid(), signal.SIGKILL)
        return chunk(self, values, size, effort)
    batched.BatchedQuery._chunk = failing
    for marker, kind in ((-1, ImpossibleEvidenceError), (-2, UnknownNameError),
                         (-3, GmnetError)):
        bad = dict(values)
        bad[name] = values[name].copy()
        bad[name][517] = marker
        try:
            q.run(bad, chunk=100, workers=2)
        except kind as e:
            out[f"error{marker}"] = [type(e).__name__, str(e)]
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def forked_run():
    env_run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                             env=_env(GMNET_PARALLEL="processes"), timeout=300)
    assert env_run.returncode == 0, env_run.stderr
    return json.loads(env_run.stdout)


def _env(**extra):
    import os

    return {**os.environ, **extra}


def test_processes_give_the_threads_numbers(forked_run):
    # nine chunks: on a fresh plan the first in the caller (it settles the contraction path
    # and the loops, which the children inherit), eight forked; a second run of the same kind
    # (the next block of a long run) forks all nine
    assert forked_run["forks"] == [8, 9]
    assert forked_run["equal"] is True and forked_run["again_equal"] is True
    assert forked_run["progress"] == 900 and forked_run["shape"] == [900, 1]
    assert 0.05 < forked_run["median"] < 0.5


def test_several_chunks_a_task_and_a_short_last_one(forked_run):
    # 21 chunks, all forked (the run in one thread before settled the plan for this kind of
    # run), in tasks of one chunk
    assert forked_run["long_forks"] == 21
    assert forked_run["long_equal"] is True and forked_run["long_progress"] == 1010


def test_a_childs_error_reaches_the_caller(forked_run):
    assert forked_run["error-1"] == ["ImpossibleEvidenceError",
                                     "the evidence is impossible in draw 517"]
    assert forked_run["error-2"] == [
        "UnknownNameError", "unknown state 'sideways' of harm; choose one of: yes, no"]
    # a worker killed (as the system kills one out of memory): an error, not a hang
    assert forked_run["error-3"][0] == "GmnetError"
    assert forked_run["error-3"][1].startswith("a worker process of the run stopped before")


def test_when_the_system_cannot_fork_the_threads_compute(monkeypatch):
    import numpy as np

    import gmnet
    from gmnet.inference.batched import plan_query

    def refuse(*args, **kwargs):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(forked, "ProcessPoolExecutor", refuse)
    monkeypatch.setattr(forked.threading, "active_count", lambda: 1)
    monkeypatch.setenv("GMNET_PARALLEL", "processes")
    net = gmnet.load_network()
    q = plan_query(net, "harm", evidence={"shift_type": "extreme"}, state="yes")
    values = {"p_harm_given_failure.extreme": np.linspace(0.1, 0.9, 400)}
    seen = []
    got = q.run(values, chunk=100, workers=2, progress=seen.append)
    monkeypatch.setenv("GMNET_PARALLEL", "threads")
    np.testing.assert_array_equal(got, q.run(values, chunk=100, workers=1))
    assert sum(seen) == 400


def test_processes_only_where_safe(monkeypatch):
    big = forked.PROCESS_RUN_ENTRIES
    monkeypatch.setattr(forked.threading, "active_count", lambda: 1)
    monkeypatch.delenv("GMNET_PARALLEL", raising=False)
    assert forked.wanted(big, 2, 3) is True
    assert forked.wanted(big - 1, 2, 3) is False  # small: threads
    assert forked.wanted(big, 1, 3) is False  # one worker
    assert forked.wanted(big, 2, 2) is False  # the first chunk and one more
    monkeypatch.setenv("GMNET_PARALLEL", "threads")
    assert forked.wanted(big, 2, 3) is False
    monkeypatch.setenv("GMNET_PARALLEL", "processes")
    assert forked.wanted(10, 2, 3) is True
    monkeypatch.setenv("GMNET_PARALLEL", "sideways")  # not a setting: auto
    assert forked.setting() == "auto" and forked.wanted(10, 2, 3) is False
    monkeypatch.delenv("GMNET_PARALLEL")
    monkeypatch.setattr(forked.sys, "platform", "darwin")  # has fork, not safe across it
    assert forked.wanted(big, 2, 3) is False
    monkeypatch.setattr(forked.sys, "platform", "linux")
    # a daemonic process (a web worker) may not have children
    monkeypatch.setattr(forked.multiprocessing, "current_process",
                        lambda: types.SimpleNamespace(daemon=True))
    assert forked.wanted(big, 2, 3) is False
    monkeypatch.undo()


def test_another_thread_keeps_the_run_on_threads(monkeypatch):
    monkeypatch.delenv("GMNET_PARALLEL", raising=False)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert forked.wanted(forked.PROCESS_RUN_ENTRIES, 2, 3) is False
    finally:
        stop.set()
        other.join()


def test_errors_survive_the_pipe():
    # a worker's error is pickled to reach the caller: the errors with their own arguments too
    import pickle

    from gmnet.errors import NetworkFileError, UnknownNameError

    unknown = UnknownNameError("variable", "harmm", ["harm", "shift_type"], context="as target")
    back = pickle.loads(pickle.dumps(unknown))
    assert type(back) is UnknownNameError and str(back) == str(unknown)
    assert (back.kind, back.name, back.choices) == ("variable", "harmm", ["harm", "shift_type"])
    bad = NetworkFileError("net.yaml", ["node 'a': no states", "node 'b': no cpt"])
    back = pickle.loads(pickle.dumps(bad))
    assert str(back) == str(bad) and back.one_line() == "net.yaml: node 'a': no states (and 1 more)"


DRAWN = textwrap.dedent("""
    import json
    import numpy as np
    import gmnet
    from gmnet.analysis import uncertainty as unc
    from gmnet.analysis.uncertainty import uncertainty, uncertainty_model
    from gmnet.inference import forked

    net = gmnet.load_network()
    model = uncertainty_model(net)
    names = model.names[:6]
    out = {}

    def streams():
        return model.streams(rng=3, names=names)

    direct = streams()
    expected = [direct.take(n) for n in (500, 300, 200)]
    s = streams()
    seen = []
    result, blocks = forked.drawn_meanwhile(lambda: seen.append(1) or "done", s.take,
                                            s.generators, [i.name for i in s.items], [500, 300])
    after = s.take(200)
    out["meanwhile"] = [result, seen, len(blocks)]
    out["same_draws"] = all(np.array_equal(blocks[k][n], expected[k][n])
                            for k in range(2) for n in names) \\
        and all(np.array_equal(after[n], expected[2][n]) for n in names)

    # a child that fails leaves the streams where they were: this process draws the blocks
    s = streams()
    def broken(n):
        raise RuntimeError("no draws")
    result, blocks = forked.drawn_meanwhile(lambda: 7, broken, s.generators,
                                            [i.name for i in s.items], [500])
    again = s.take(500)
    out["failed"] = [result, len(blocks),
                     all(np.array_equal(again[n], expected[0][n]) for n in names)]

    # an error in the work reaches the caller (the child is stopped)
    s = streams()
    try:
        forked.drawn_meanwhile(lambda: 1 / 0, s.take, s.generators,
                               [i.name for i in s.items], [500])
    except ZeroDivisionError as exc:
        out["work_error"] = str(exc)

    # a run of three blocks: the same answers with the first drawn ahead or not
    unc.SAMPLE_BLOCK = 400
    drawn = []
    real = forked.drawn_meanwhile
    def spy(*args, **kwargs):
        result, blocks = real(*args, **kwargs)
        drawn.append(len(blocks))
        return result, blocks
    unc.drawn_meanwhile = spy
    ahead = uncertainty(net, "harm", "yes", samples=1000, rng=5).draws
    unc.drawn_meanwhile = lambda work, *rest: (work(), [])
    plain = uncertainty(net, "harm", "yes", samples=1000, rng=5).draws
    out["run"] = [drawn, bool(np.array_equal(ahead, plain))]
    print(json.dumps(out))
""")


def test_blocks_drawn_in_a_child_are_the_blocks_drawn_here():
    done = subprocess.run([sys.executable, "-c", DRAWN], capture_output=True, text=True,
                          env=_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["meanwhile"] == ["done", [1], 2]
    assert out["same_draws"] is True
    assert out["failed"] == [7, 0, True]
    assert out["work_error"] == "division by zero"
    assert out["run"] == [[2], True]


KEPT = textwrap.dedent("""
    import json, multiprocessing, os, signal
    import numpy as np
    import gmnet
    from gmnet.analysis import uncertainty as unc
    from gmnet.analysis.uncertainty import uncertainty
    from gmnet.errors import GmnetError, ImpossibleEvidenceError
    from gmnet.inference import batched, forked
    from gmnet.inference.batched import plan_query

    net = gmnet.load_network()
    unc.SAMPLE_BLOCK = 400  # three blocks: 400, 400 and 300 draws, chunks of 100
    pools, forks = [], []
    real_pool, real_forked = forked._fork_pool, forked.run_forked
    def pool_spy(workers):
        pools.append(workers)
        return real_pool(workers)
    def forked_spy(*args, **kwargs):
        forks.append(len(args[2]))
        return real_forked(*args, **kwargs)
    forked._fork_pool, forked.run_forked = pool_spy, forked_spy

    def ask(**kw):
        return uncertainty(net, "harm", "yes", evidence={"shift_type": "extreme"},
                           samples=1100, rng=9, chunk=100, **kw)

    out = {}
    kept = ask()
    out["pools"], out["forks"] = list(pools), list(forks)
    out["children_after"] = len(multiprocessing.active_children())
    os.environ["GMNET_PARALLEL"] = "threads"
    threads = ask()
    os.environ["GMNET_PARALLEL"] = "processes"
    out["equal"] = bool(np.array_equal(kept.draws, threads.draws))
    out["point_equal"] = kept.point == threads.point
    out["median"] = float(np.median(kept.draws))

    # the workers are forked again for another plan or more values than their shared memory
    # holds; values that are not doubles they leave to the caller
    q = plan_query(net, "harm", evidence={"shift_type": "extreme"}, state="yes")
    other = plan_query(net, "harm", evidence={"shift_type": "moderate"}, state="yes")
    name = "p_harm_given_failure.extreme"
    values = {name: np.linspace(0.2, 0.8, 400)}
    starts = [0, 100, 200, 300]

    def on(workers, plan, values, n):
        got = np.empty((n, 1))
        took = workers.run(plan, values, frozenset(values), list(range(0, n, 100)), n, 100, 2,
                           got, None, n)
        return [took, bool(took and np.array_equal(got, plan.run(values, workers=1)))]

    pools.clear()
    with forked.Workers() as workers:
        out["took"] = on(workers, q, values, 400)
        out["again"] = on(workers, q, values, 400)
        out["other_plan"] = on(workers, other, values, 400)
        more = {name: np.linspace(0.2, 0.8, 800)}  # more draws than the shared memory holds
        out["too_many"] = on(workers, q, more, 800)
        out["not_doubles"] = on(workers, q, {name: np.full(400, 1, dtype=np.float32)}, 400)
        out["started"] = workers.started
        out["forked_again"] = list(pools)
        # a worker that dies between blocks: the next block stops with the run's error
        process = next(iter(workers._pool._processes.values()))
        os.kill(process.pid, signal.SIGKILL)
        process.join()
        try:
            on(workers, q, values, 400)
        except GmnetError as e:
            out["dead"] = [type(e).__name__, str(e)]
    out["closed"] = [workers.started, len(multiprocessing.active_children())]

    # a child's error in a later block reaches the caller, and the workers stop
    chunk = batched.BatchedQuery._chunk
    def failing(self, values, size, effort):
        marker = float(np.min(values[name]))
        if marker == -1:
            raise ImpossibleEvidenceError("the evidence is impossible in draw 517")
        if marker == -3:
            os.kill(os.getpid(), signal.SIGKILL)
        return chunk(self, values, size, effort)
    batched.BatchedQuery._chunk = failing
    real_values = unc.UncertaintyModel.parameter_values
    for marker in (-1, -3):
        calls = []
        def marked(self, draws, marker=marker):
            values = real_values(self, draws)
            calls.append(1)
            if len(calls) == 3 and name in values:  # the second block (after the design's)
                values[name] = values[name].copy()
                values[name][117] = marker
            return values
        unc.UncertaintyModel.parameter_values = marked
        try:
            ask()
        except GmnetError as e:
            out[f"error{marker}"] = [type(e).__name__, str(e)]
        out[f"children{marker}"] = len(multiprocessing.active_children())
    print(json.dumps(out))
""")


def test_a_long_run_forks_its_workers_once():
    done = subprocess.run([sys.executable, "-c", KEPT], capture_output=True, text=True,
                          env=_env(GMNET_PARALLEL="processes"), timeout=300)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    # three blocks of four, four and three chunks: one pool of two workers forked at the first
    # block (after its first chunk here) that computes every later chunk; no fork per block
    # (the one run_forked is the moving inputs' design before them: three chunks, two forked)
    assert out["pools"] == [2, 2] and out["forks"] == [2]
    assert out["children_after"] == 0  # stopped when the run ends
    assert out["equal"] is True and out["point_equal"] is True
    assert 0.05 < out["median"] < 0.5
    # the same workers for the same plan; forked again for another plan and for more values
    assert out["took"] == out["again"] == out["other_plan"] == out["too_many"] == [True, True]
    assert out["forked_again"] == [2, 2, 2]
    assert out["not_doubles"] == [False, False]
    assert out["started"] is True and out["closed"] == [False, 0]
    assert out["dead"][0] == "GmnetError"
    assert out["dead"][1].startswith("a worker process of the run stopped before")
    assert out["error-1"] == ["ImpossibleEvidenceError", "the evidence is impossible in draw 517"]
    assert out["error-3"][0] == "GmnetError"
    assert out["error-3"][1].startswith("a worker process of the run stopped before")
    assert out["children-1"] == 0 and out["children-3"] == 0
