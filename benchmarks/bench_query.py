"""100,000 draws of P(harm=yes | scenario, do(mitigation)), sampling included, against the
straightforward pgmpy loop on the same draws.

    python benchmarks/bench_query.py [--draws 100000] [--pgmpy-draws 300] [--json]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    SEED,
    PgmpyLoop,
    finish,
    fmt_time,
    kernels,
    peak_mb,
    rss_mb,
    timed,
    workload,
)

from gmnet.analysis.uncertainty import uncertainty, uncertainty_model  # noqa: E402


def measure(portfolio: bool, draws: int) -> dict:
    """The batched engine's part (run before pgmpy is ever imported)."""
    net, evidence, do = workload(portfolio)

    def batched():
        return uncertainty(net, "harm", "yes", evidence=evidence, do=do, samples=draws, rng=SEED)

    with kernels("on"):
        batched()  # compiles the loops (kept on disk), as an earlier run would
    with kernels("off"):
        numpy_only = timed(batched, repeats=2)
    times = timed(batched)
    result = batched()
    memory = peak_mb(batched)
    per_draw = times["best"] / draws
    return {
        "name": "query" + ("" if portfolio else "_observational"),
        "question": result.query + " [scenario autonomous_agents"
        + ("; the other mitigations off by do()]" if portfolio
           else "; the other mitigations at their adoption priors]"),
        "draws": draws, "inputs": len(result.inputs),
        "seconds": times["best"], "seconds_median": times["median"],
        "seconds_cold": times["cold"], "cpu_seconds": times["cpu_best"],
        "numpy_seconds": numpy_only["best"],
        "per_draw": per_draw, "peak_mb": memory, "median": result.median,
        "_run": (net, evidence, do, result),
    }


def compare_pgmpy(r: dict, pgmpy_draws: int) -> dict:
    """The pgmpy loop on the same draws: the same inputs, the same transformations."""
    net, evidence, do, result = r.pop("_run")
    draws = r["draws"]
    model = uncertainty_model(net)
    values = model.parameter_values(model.sample(draws, rng=SEED, names=result.inputs))
    first = {k: (v[:pgmpy_draws] if np.ndim(v) and len(v) > 1 else v) for k, v in values.items()}
    from gmnet.inference.query import resolve_assignments

    cut = net.compile(first).intervene(resolve_assignments(net, do, what="do()"))
    loop = PgmpyLoop(cut, "harm", "yes", evidence)
    loop.query(0)  # warm-up (imports)
    reference, pgmpy_per_draw = loop.run(pgmpy_draws)
    r.update({
        "pgmpy_draws": pgmpy_draws, "pgmpy_per_draw": pgmpy_per_draw,
        "pgmpy_scaled_seconds": pgmpy_per_draw * draws, "ratio": pgmpy_per_draw / r["per_draw"],
        "max_abs_difference": float(np.max(np.abs(reference - result.draws[:pgmpy_draws]))),
    })
    return r


def show(r: dict) -> None:
    print(r["question"])
    print(f"  batched engine: {r['draws']:,} draws in {fmt_time(r['seconds'])} (median "
          f"{fmt_time(r['seconds_median'])}, first call {fmt_time(r['seconds_cold'])}, CPU "
          f"{fmt_time(r['cpu_seconds'])}), sampling of {r['inputs']} inputs included: "
          f"{fmt_time(r['per_draw'])} per draw; peak memory {r['peak_mb']:.0f} MB")
    print(f"  numpy only (GMNET_KERNELS=off): {fmt_time(r['numpy_seconds'])} "
          f"({r['numpy_seconds'] / r['seconds']:.2f}x the time)")
    print(f"  pgmpy loop:     {r['pgmpy_draws']} draws, {fmt_time(r['pgmpy_per_draw'])} per draw "
          f"-> {fmt_time(r['pgmpy_scaled_seconds'])} for {r['draws']:,} (scaled)")
    print(f"  ratio {r['ratio']:,.0f}x; largest difference on the shared draws "
          f"{r['max_abs_difference']:.1e}")


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=100_000)
    parser.add_argument("--pgmpy-draws", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = [measure(True, args.draws), measure(False, args.draws)]
    engine_rss = rss_mb()  # before pgmpy is imported
    results = [compare_pgmpy(r, args.pgmpy_draws) for r in results]
    return finish(results, engine_rss, args.json, show)


if __name__ == "__main__":
    main()
