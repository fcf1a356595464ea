"""Sobol indices over every ranged parameter (and the Critical Unknowns) with N = 1024, against
the pgmpy loop (one query per design row, measured on a few hundred rows and scaled).

    python benchmarks/bench_sobol.py [--samples 1024] [--json]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    SEED,
    PgmpyLoop,
    finish,
    fmt_time,
    peak_mb,
    rss_mb,
    timed,
    workload,
)

from gmnet.analysis.sensitivity import sensitivity  # noqa: E402
from gmnet.analysis.uncertainty import uncertainty_model  # noqa: E402
from gmnet.inference.query import resolve_assignments  # noqa: E402


def measure(portfolio: bool, samples: int) -> dict:
    """The batched engine's part (run before pgmpy is ever imported)."""
    net, evidence, do = workload(portfolio)

    def batched():
        return sensitivity(net, "harm", "yes", evidence=evidence, do=do, samples=samples,
                           rng=SEED)

    times = timed(batched, repeats=2)
    result = batched()
    memory = peak_mb(batched)
    rows = samples * (len(result.rows) + 2)
    return {
        "name": "sobol" + ("" if portfolio else "_observational"),
        "question": f"Sobol N={samples} over all {len(result.rows)} uncertain inputs "
                    f"({rows:,} design rows, {result.evaluations:,} evaluated) and the one-way "
                    f"tornado, for {result.query} [scenario autonomous_agents"
                    + ("; other mitigations off]" if portfolio else
                       "; other mitigations at their adoption priors]"),
        "samples": samples, "inputs": len(result.rows), "rows": rows,
        "evaluations": result.evaluations, "seconds": times["best"],
        "seconds_median": times["median"], "seconds_cold": times["cold"],
        "cpu_seconds": times["cpu_best"], "per_draw": times["best"] / rows, "peak_mb": memory,
        "top": result.rows[0].name, "top_st": result.rows[0].st, "_run": (net, evidence, do),
    }


def compare_pgmpy(r: dict, pgmpy_draws: int = 200) -> dict:
    net, evidence, do = r.pop("_run")
    rows = r["rows"]
    model = uncertainty_model(net)
    values = model.parameter_values(model.sample(pgmpy_draws, rng=SEED))
    cut = net.compile(values).intervene(resolve_assignments(net, do, what="do()"))
    loop = PgmpyLoop(cut, "harm", "yes", evidence)
    loop.query(0)
    _, pgmpy_per_draw = loop.run(pgmpy_draws)
    r.update({"pgmpy_draws": pgmpy_draws, "pgmpy_per_draw": pgmpy_per_draw,
              "pgmpy_scaled_seconds": pgmpy_per_draw * rows,
              "ratio": pgmpy_per_draw * rows / r["seconds"]})
    return r


def show(r: dict) -> None:
    print(r["question"])
    print(f"  batched engine: {fmt_time(r['seconds'])} (median {fmt_time(r['seconds_median'])}, "
          f"first call {fmt_time(r['seconds_cold'])}, CPU {fmt_time(r['cpu_seconds'])}), "
          f"SALib sampling and analysis included; peak memory {r['peak_mb']:.0f} MB")
    print(f"  pgmpy loop:     {fmt_time(r['pgmpy_per_draw'])} per row -> "
          f"{fmt_time(r['pgmpy_scaled_seconds'])} for {r['rows']:,} rows (scaled)")
    print(f"  ratio {r['ratio']:,.0f}x; most important input: {r['top']} (ST {r['top_st']:.2f})")


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1024)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = [measure(True, args.samples), measure(False, args.samples)]
    engine_rss = rss_mb()  # before pgmpy is imported
    results = [compare_pgmpy(r) for r in results]
    return finish(results, engine_rss, args.json, show)


if __name__ == "__main__":
    main()
