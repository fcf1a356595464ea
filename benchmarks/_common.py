"""Shared helpers of the benchmarks: the workloads, timing, memory, the machine."""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import statistics
import subprocess
import time
import tracemalloc
import warnings
from collections.abc import Callable

import numpy as np

import gmnet
from gmnet.analysis.mitigations import mitigations_of
from gmnet.inference.interop import fill_pyagrum, to_pyagrum
from gmnet.model.scenarios import apply

SEED = 20240601
SCENARIO = "autonomous_agents"
MITIGATION = "ai_control"


@contextlib.contextmanager
def environment(name: str, value: str):
    """The environment variable ``name`` set to ``value`` for the duration."""
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def kernels(mode: str):
    """GMNET_KERNELS set to ``mode`` (on: compile the loops a run needs; off: numpy only)
    for the duration."""
    return environment("GMNET_KERNELS", mode)


def workload(portfolio: bool = True):
    """The benchmark question: P(harm=yes | autonomous_agents, do(ai_control=on)).

    The scenario restricts the shift type to significant/extreme and observes a low-quality
    specification. With ``portfolio`` the other mitigations are set off by do(), as in
    `gmnet compare`'s "ai_control alone" row; without it they keep their adoption priors.
    """
    net, evidence = apply(gmnet.load_network(), scenario=SCENARIO)
    do = {MITIGATION: "on"}
    if portfolio:
        do.update({m.name: "off" for m in mitigations_of(net) if m.name != MITIGATION})
    return net, evidence, do


def cpu_seconds() -> float:
    """Processor time of this process and of its finished children (a large run's forked
    workers, gmnet.inference.forked), user and system."""
    mine = resource.getrusage(resource.RUSAGE_SELF)
    theirs = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + theirs.ru_utime + theirs.ru_stime


def timed(fn: Callable[[], object], repeats: int = 3) -> dict:
    """Best and median wall time and best CPU time (this process's and its forked workers')
    of ``repeats`` calls (after one warm-up call, whose wall time is reported as ``cold``)."""
    start = time.perf_counter()
    fn()
    cold = time.perf_counter() - start
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), cpu_seconds()
        fn()
        cpus.append(cpu_seconds() - c)
        walls.append(time.perf_counter() - w)
    return {"cold": cold, "best": min(walls), "median": statistics.median(walls),
            "cpu_best": min(cpus)}


def peak_mb(fn: Callable[[], object]) -> float:
    """Peak memory that ``fn`` allocates (tracemalloc: Python objects and numpy buffers), MB.

    Measured with the run's chunks in threads (``GMNET_PARALLEL=threads``): tracemalloc sees
    this process only, and in threads every chunk of the run is allocated here, as many at a
    time as there are workers, as in the forked processes together."""
    with environment("GMNET_PARALLEL", "threads"):
        tracemalloc.start()
        try:
            fn()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return peak / 2**20


def rss_mb() -> float:
    """The process's peak resident set size so far, MB (imports, pgmpy and all included)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict:
    model = "unknown"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        nproc = int(subprocess.run(["nproc"], capture_output=True, text=True,
                                   check=False).stdout.strip())
    except (OSError, ValueError):
        nproc = os.cpu_count() or 0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {"nproc": nproc, "cpu": model, "python": platform.python_version(),
            "numpy": np.__version__, "load_average_1min": round(load, 2)}


class PgmpyLoop:
    """The straightforward way: one pgmpy network, its CPD values overwritten for each draw,
    then variable elimination again.

    ``model`` is a compiled model with N draws (full CPTs), already cut by do(); building those
    CPT values is not counted in the loop's time.
    """

    def __init__(self, model, target: str, state: str, evidence: dict[str, str]):
        from gmnet.inference.pgmpy_backend import to_pgmpy

        self.model = model
        self.bn = to_pgmpy(model)
        self.cpds = {v: self.bn.get_cpds(v) for v in model.variables}
        self.target, self.state, self.evidence = target, state, dict(evidence)

    def query(self, draw: int) -> float:
        from pgmpy.inference import VariableElimination

        for v, cpd in self.cpds.items():
            cpd.values = np.moveaxis(np.asarray(self.model.cpts[v][draw]), -1, 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            factor = VariableElimination(self.bn).query([self.target], evidence=self.evidence,
                                                        show_progress=False)
        return float(factor.values[factor.state_names[self.target].index(self.state)])

    def run(self, draws: int) -> tuple[np.ndarray, float]:
        """P(target=state) for the first ``draws`` draws, and the seconds per draw."""
        start = time.perf_counter()
        out = np.array([self.query(i) for i in range(draws)])
        return out, (time.perf_counter() - start) / draws


class PyAgrumLoop:
    """The straightforward way with pyAgrum: one BayesNet, each CPT refilled for the draw
    (``fillWith``), then a fresh LazyPropagation and the target's posterior.

    ``model`` is a compiled model with N draws (full CPTs), already cut by do(); building
    those CPT values is not counted in the loop's time (which favours pyAgrum).
    """

    def __init__(self, model, target: str, state: str, evidence: dict[str, str]):
        import pyagrum as gum

        self.gum, self.model = gum, model
        self.bn = to_pyagrum(model)
        self.target, self.state, self.evidence = target, state, dict(evidence)

    def query(self, draw: int) -> float:
        fill_pyagrum(self.bn, self.model, draw)
        ie = self.gum.LazyPropagation(self.bn)
        if self.evidence:
            ie.setEvidence(self.evidence)
        ie.makeInference()
        return float(ie.posterior(self.target)[self.model.states[self.target].index(self.state)])

    def run(self, draws: int) -> tuple[np.ndarray, float]:
        """P(target=state) for the first ``draws`` draws, and the seconds per draw."""
        start = time.perf_counter()
        out = np.array([self.query(i) for i in range(draws)])
        return out, (time.perf_counter() - start) / draws


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.2f} us"


def finish(results: list[dict], engine_rss: float, as_json: bool,
           show: Callable[[dict], None]) -> list[dict]:
    """Record the engine's resident memory on every result, then print them (JSON or text)."""
    import json

    for r in results:
        r["rss_mb"] = engine_rss
    if as_json:
        print(json.dumps({"machine": machine(), "results": results}))
    else:
        for r in results:
            show(r)
    return results
