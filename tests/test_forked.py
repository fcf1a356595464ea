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
    import json, sys
    import numpy as np
    import gmnet
    from gmnet.errors import ImpossibleEvidenceError
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
    seen = []
    two = q.run(values, chunk=100, workers=2, progress=seen.append)
    out = {"forks": list(forks), "equal": bool(np.array_equal(one, two)), "progress": sum(seen),
           "shape": list(two.shape), "median": float(np.median(two))}

    # a child's error is the caller's
    chunk = batched.BatchedQuery._chunk
    def failing(self, values, size, effort):
        if float(np.min(values["p_harm_given_failure.extreme"])) < 0:
            raise ImpossibleEvidenceError("the evidence is impossible in draw 517")
        return chunk(self, values, size, effort)
    batched.BatchedQuery._chunk = failing
    bad = dict(values)
    bad["p_harm_given_failure.extreme"] = values["p_harm_given_failure.extreme"].copy()
    bad["p_harm_given_failure.extreme"][517] = -1.0
    try:
        q.run(bad, chunk=100, workers=2)
    except ImpossibleEvidenceError as e:
        out["error"] = str(e)
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
    # nine chunks: the first in the caller (it settles the contraction path), eight forked
    assert forked_run["forks"] == [8]
    assert forked_run["equal"] is True
    assert forked_run["progress"] == 900 and forked_run["shape"] == [900, 1]
    assert 0.05 < forked_run["median"] < 0.5


def test_a_childs_error_reaches_the_caller(forked_run):
    assert forked_run["error"] == "the evidence is impossible in draw 517"


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
