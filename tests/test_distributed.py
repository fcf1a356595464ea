"""The batched engine on a Dask cluster: the same numbers as local threads, and clear errors.

One LocalCluster (two worker processes, so the plan really is pickled and shipped) serves the
whole module.
"""

import pickle
import socket
import sys
import threading

import numpy as np
import pytest

import gmnet
from gmnet.analysis.portfolio_draws import portfolio_draws
from gmnet.analysis.sensitivity import sensitivity
from gmnet.analysis.uncertainty import uncertainty
from gmnet.analysis.voi import value_of_information
from gmnet.cli import main
from gmnet.errors import ImpossibleEvidenceError, InvalidArgumentError
from gmnet.inference import cluster as runner
from gmnet.inference.batched import plan_query
from gmnet.model.network import network_from_dict

pytest.importorskip("distributed")

MITIGATIONS = ["ai_control", "human_override"]


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as lc, Client(lc, set_as_default=False) as client:
        yield client, lc.scheduler_address


@pytest.fixture(scope="module")
def net():
    return gmnet.load_network()


def test_plan_pickles_with_plain_pickle(net):
    query = plan_query(net, "harm", do={"shift_type": "extreme"})
    data = pickle.dumps(query)
    assert len(data) < 1_000_000  # the plan, network included, goes over the wire once
    again = pickle.loads(data)
    assert np.array_equal(again.run({}), query.run({}))
    assert again.network.compiled.cpts["harm"].flags.writeable is False


def test_uncertainty_on_the_cluster_equals_local(cluster, net):
    from distributed import get_task_stream

    client, _ = cluster
    seen: list[int] = []
    kwargs = dict(evidence={"shift_type": "extreme"}, samples=2000, rng=5, chunk=400)
    here = uncertainty(net, "harm", "yes", **kwargs)
    with get_task_stream(client) as stream:
        there = uncertainty(net, "harm", "yes", **kwargs, scheduler=client,
                            progress=seen.append)
    chunks = [t for t in stream.data if str(t["key"]).startswith("_answer_chunk-")]
    assert len(chunks) == len(seen)  # every chunk was computed by a worker
    assert {t["worker"] for t in chunks} <= set(client.nthreads())
    assert here.draws.shape == (2000,)
    assert np.array_equal(here.draws, there.draws)
    assert sum(seen) == 2000 and len(seen) == 5  # progress per chunk, as chunks come back
    assert here.point == there.point


def test_portfolio_draws_on_the_cluster_equal_local(cluster, net):
    _, address = cluster  # an address string: connected for the run, closed after it
    kwargs = dict(do={"shift_type": "extreme"}, samples=2000, rng=3, chunk=500)
    here = portfolio_draws(net, "harm", "yes", MITIGATIONS, **kwargs)
    there = portfolio_draws(net, "harm", "yes", MITIGATIONS, **kwargs, scheduler=address)
    assert here.values.shape == (2000, 4)
    assert np.array_equal(here.values, there.values)


def test_sobol_on_the_cluster_equals_local(cluster, net):
    client, _ = cluster
    kwargs = dict(do={"shift_type": "extreme"}, samples=32, rng=2, chunk=512)
    here = sensitivity(net, "harm", "yes", **kwargs)
    there = sensitivity(net, "harm", "yes", **kwargs, scheduler=client)
    assert here.sobol_draws is not None and here.sobol_draws.size > 512
    assert np.array_equal(here.sobol_draws, there.sobol_draws)
    assert [(r.name, r.st, r.low, r.high) for r in here.rows] == \
        [(r.name, r.st, r.low, r.high) for r in there.rows]


def test_voi_draws_on_the_cluster_equal_local(cluster, net):
    client, _ = cluster
    kwargs = dict(do={"shift_type": "extreme"}, samples=600, rng=4, bootstrap=2, chunk=200)
    here = value_of_information(net, **kwargs)
    there = value_of_information(net, **kwargs, scheduler=client)
    assert here.evpi == there.evpi and here.evpi >= 0
    assert [(v.name, v.evppi) for v in here.parameters] == \
        [(v.name, v.evppi) for v in there.parameters]


def test_a_workers_gmnet_error_comes_back_as_itself(cluster):
    client, _ = cluster
    src = "assumption: test"
    tiny = network_from_dict({
        "name": "tiny",
        "parameters": {"q": {"unit": "probability", "value": 0.3, "source": src}},
        "nodes": {
            "a": {"states": ["yes", "no"], "cpt": {"kind": "uniform", "source": src}},
            "out": {"states": ["yes", "no"], "parents": ["a"],
                    "cpt": {"kind": "expression", "probabilities": {"yes": "q", "no": "rest"}}},
        },
    })
    query = plan_query(tiny, "a", evidence={"out": "yes"})
    q = np.full(50, 0.3)
    q[37] = 0.0  # out=yes is impossible in this draw
    with pytest.raises(ImpossibleEvidenceError, match="impossible"):
        query.run({"q": q}, chunk=10, scheduler=client)
    assert np.allclose(query.run({"q": q[:30]}, chunk=10, scheduler=client)[:, 0], 0.5)


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_scheduler_prints_the_same_answer(cluster, capsys):
    _, address = cluster
    args = ["uncertainty", "P(harm=yes | shift_type=extreme)", "--samples", "1500", "--seed", "7"]
    code, here, _ = run(capsys, *args)
    assert code == 0
    code, there, err = run(capsys, *args, "--scheduler", address)
    assert code == 0, err
    assert there == here and "1,500 draws" in here


def test_cli_compare_samples_on_the_cluster(cluster, capsys):
    _, address = cluster
    args = ["compare", "--given", "shift_type=extreme", "--samples", "400", "--json"]
    code, here, _ = run(capsys, *args)
    code2, there, err = run(capsys, *args, "--scheduler", address)
    assert (code, code2) == (0, 0), err
    assert there == here and '"uncertainty"' in here


@pytest.mark.parametrize("address, message", [
    ("tcp://127.0.0.1:1", "--scheduler tcp://127.0.0.1:1: cannot reach a Dask scheduler there"),
    ("not-an-address", "--scheduler 'not-an-address' is not a Dask scheduler address"),
    ("http://localhost:8786", "is not a Dask scheduler address (SCHEME://HOST:PORT"),
    ("tcp://127.0.0.1:70000", "is not a Dask scheduler address"),
])
def test_cli_bad_address_is_one_line_and_exit_2(capsys, address, message):
    code, out, err = run(capsys, "uncertainty", "P(harm=yes)", "--samples", "50",
                         "--scheduler", address)
    assert code == 2 and out == ""
    assert err.startswith("gmnet: error: ") and message in err
    assert "leave --scheduler out to run here" in err and len(err.strip().splitlines()) == 1


def test_something_else_listening_is_named(capsys):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)

    def answer():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.sendall(b"HTTP/1.0 200 OK\r\n\r\nhello")
            conn.close()

    threading.Thread(target=answer, daemon=True).start()
    port = server.getsockname()[1]
    try:
        code, _, err = run(capsys, "uncertainty", "P(harm=yes)", "--samples", "50",
                           "--scheduler", f"tcp://127.0.0.1:{port}")
    finally:
        server.close()
    assert code == 2
    assert "something listens there, but it did not answer as a Dask scheduler" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_scheduler_without_workers_is_an_error_not_a_hang(monkeypatch):
    from distributed import LocalCluster

    monkeypatch.setattr(runner, "CONNECT_TIMEOUT", 0.5)
    with LocalCluster(n_workers=0, processes=False, protocol="tcp",
                      dashboard_address=":0") as empty:
        with pytest.raises(InvalidArgumentError, match=r"has no workers .*`dask worker tcp://"):
            runner.connect(empty.scheduler_address)


def test_dask_missing_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    code, _, err = run(capsys, "uncertainty", "P(harm=yes)", "--samples", "50",
                       "--scheduler", "tcp://127.0.0.1:8786")
    assert code == 2
    assert "needs Dask, which is not installed here" in err
    assert "pip install 'gmnet[dask]'" in err and "leave --scheduler out" in err


def test_python_scheduler_of_the_wrong_kind(net):
    query = plan_query(net, "harm")
    with pytest.raises(InvalidArgumentError, match="scheduler must be a scheduler address"):
        query.run({}, scheduler=8786)


@pytest.fixture()
def in_process_cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as lc, Client(lc, set_as_default=False) as client:
        yield client


def test_workers_with_another_gmnet_version_are_refused(in_process_cluster, monkeypatch, net):
    monkeypatch.setattr(runner, "_worker_version", lambda: "0.0.1")
    query = plan_query(net, "harm")
    with pytest.raises(InvalidArgumentError,
                       match=r"the Dask workers run gmnet 0\.0\.1, this machine .*install gmnet"):
        query.run({"m_spec.low": np.array([2.0, 2.5])}, scheduler=in_process_cluster)


def test_workers_without_gmnet_are_named(in_process_cluster, monkeypatch, net):
    def missing():
        raise ModuleNotFoundError("No module named 'gmnet'")

    monkeypatch.setattr(runner, "_worker_version", missing)
    query = plan_query(net, "harm")
    with pytest.raises(InvalidArgumentError,
                       match=r"workers cannot run gmnet \(ModuleNotFoundError: No module named"):
        query.run({"m_spec.low": np.array([2.0, 2.5])}, scheduler=in_process_cluster)


HASH_PROBE = """
import gmnet
from gmnet.inference import contraction
from gmnet.inference.batched import plan_query

contraction.THOROUGH_PATH_FLOPS = 0  # the thorough (random-greedy) order search, always
print([x.hex() for x in plan_query(gmnet.load_network(), "harm").run({})[0]])
"""


def test_the_same_bits_in_every_process():
    """A worker is another process, with its own string hashing: the contraction order (and so
    every bit of the answer) must not depend on it."""
    import os
    import subprocess

    digests = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", HASH_PROBE], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        digests.add(done.stdout.strip())
    assert len(digests) == 1, digests


def test_every_chunk_on_the_cluster_is_judged_as_the_whole_run(in_process_cluster, chunk_calls,
                                                                 net):
    # a chunk computed by a worker decides whether to compile loops from the whole run's draws
    # (what `effort` says, or the run's own draws), as a local thread does, never its own
    query = plan_query(net, "harm", state="yes")
    values = {"m_spec.low": np.linspace(1.5, 2.5, 300)}
    whole = query.run(values, chunk=100, effort=10**6, scheduler=in_process_cluster)
    assert chunk_calls == [(100, 10**6)] * 3
    # the same numbers as the local threads of a run of that size (a large run's contraction
    # order is searched harder, so its last places may differ from a small run's: item 5 of
    # docs/performance.md)
    np.testing.assert_array_equal(query.run(values, chunk=100, effort=10**6, workers=2), whole)
    chunk_calls.clear()
    small = query.run(values, chunk=100, scheduler=in_process_cluster)
    assert chunk_calls == [(100, 300)] * 3
    np.testing.assert_array_equal(query.run(values, chunk=100, workers=2), small)
    np.testing.assert_allclose(small, whole, rtol=1e-14, atol=0)
