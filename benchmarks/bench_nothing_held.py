"""The heaviest question of the bundled network, P(harm=yes) with nothing held (every context
node and mitigation at its prior: `gmnet uncertainty "P(harm=yes)" --context prior`), against
the straightforward pyAgrum and pgmpy loops on the same draws.

    python benchmarks/bench_nothing_held.py [--draws 1000000] [--loop-draws 200] [--json]

The batched figure is the command itself, run as a user runs it (its own process, sampling and
printing included; peak resident memory from the operating system), once its compiled loops
exist (a first run of 2,000 draws with GMNET_KERNELS=on compiles them, as any earlier run of
the question on the machine would have); the same command with GMNET_KERNELS=off (numpy only)
runs in the same benchmark for the ratio. The loops run here on the first draws of the same
inputs and are scaled.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SEED, PgmpyLoop, PyAgrumLoop, finish, fmt_time, rss_mb  # noqa: E402

import gmnet  # noqa: E402
from gmnet.analysis.uncertainty import uncertainty, uncertainty_model  # noqa: E402

QUESTION = "P(harm=yes)"


def command(draws: int, kernels: str | None = None) -> dict:
    """`gmnet uncertainty` in its own process: wall time and peak resident memory (the peak
    is the largest of this benchmark's children so far)."""
    args = [sys.executable, "-m", "gmnet.cli", "uncertainty", QUESTION, "--context", "prior",
            "--samples", str(draws), "--seed", str(SEED), "--json"]
    env = {**os.environ, **({"GMNET_KERNELS": kernels} if kernels else {})}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, check=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    data = json.loads(out.stdout)
    return {"seconds": wall, "cpu_seconds": (after.ru_utime + after.ru_stime)
            - (before.ru_utime + before.ru_stime), "peak_rss_mb": after.ru_maxrss / 1024,
            "median": data.get("median")}


def loops(loop_draws: int) -> dict:
    """Both loops on the first ``loop_draws`` draws, and the batched answers on the same."""
    net = gmnet.load_network()
    model = uncertainty_model(net)
    result = uncertainty(net, "harm", "yes", samples=loop_draws, rng=SEED)
    values = model.parameter_values(model.sample(loop_draws, rng=SEED, names=result.inputs))
    compiled = net.compile(values)
    out = {}
    for name, cls in (("pyagrum", PyAgrumLoop), ("pgmpy", PgmpyLoop)):
        loop = cls(compiled, "harm", "yes", {})
        loop.query(0)  # warm-up (imports)
        answers, per_draw = loop.run(loop_draws)
        out[name] = {"per_draw": per_draw,
                     "max_abs_difference": float(np.max(np.abs(answers - result.draws)))}
    return out


def show(r: dict) -> None:
    print(f"{r['question']} [nothing held: context and mitigations at their priors]")
    print(f"  gmnet uncertainty: {r['draws']:,} draws in {fmt_time(r['seconds'])} (CPU "
          f"{fmt_time(r['cpu_seconds'])}), {fmt_time(r['per_draw'])} per draw; peak resident "
          f"memory {r['peak_rss_mb']:.0f} MB")
    print(f"  the same, numpy only (GMNET_KERNELS=off): {fmt_time(r['numpy_seconds'])} "
          f"({r['numpy_seconds'] / r['seconds']:.2f}x the time), the same median: "
          f"{r['numpy_median'] == r['median']}")
    for name in ("pyagrum", "pgmpy"):
        loop = r[name]
        print(f"  {name} loop: {r['loop_draws']} draws, {fmt_time(loop['per_draw'])} per draw "
              f"-> ratio {loop['per_draw'] / r['per_draw']:,.0f}x; largest difference "
              f"{loop['max_abs_difference']:.1e}")


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1_000_000)
    parser.add_argument("--loop-draws", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    command(2_000, kernels="on")  # compiles the loops (kept on disk), as an earlier run would
    r = {"name": "nothing_held", "question": QUESTION, "draws": args.draws,
         "loop_draws": args.loop_draws, **command(args.draws)}
    numpy_only = command(args.draws, kernels="off")  # after: the peak above is the command's
    r["numpy_seconds"], r["numpy_median"] = numpy_only["seconds"], numpy_only["median"]
    r["per_draw"] = r["seconds"] / args.draws
    r["peak_mb"] = r["peak_rss_mb"]
    r.update(loops(args.loop_draws))
    r["ratio"] = r["pyagrum"]["per_draw"] / r["per_draw"]
    r["pgmpy_per_draw"], r["baseline"] = r["pyagrum"]["per_draw"], "pyAgrum"
    return finish([r], rss_mb(), args.json, show)


if __name__ == "__main__":
    main()
