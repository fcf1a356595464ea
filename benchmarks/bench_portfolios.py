"""Every mitigation portfolio x 10,000 draws (the Shapley table with intervals), against the
pgmpy loop (one query per portfolio and draw, measured on a few and scaled).

    python benchmarks/bench_portfolios.py [--draws 10000] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SEED, PgmpyLoop, fmt_time, machine, peak_mb, rss_mb, timed, workload  # noqa: E402,E501

import gmnet  # noqa: E402
from gmnet.analysis.mitigations import portfolio_index  # noqa: E402
from gmnet.analysis.uncertainty import comparison_uncertainty, uncertainty_model  # noqa: E402
from gmnet.inference.query import resolve_assignments  # noqa: E402


def measure(draws: int, pgmpy_draws: int = 4, pgmpy_portfolios: int = 8) -> dict:
    net, evidence, _ = workload(True)
    comparison = gmnet.compare_mitigations(net, evidence=evidence, context="prior")
    names = list(comparison.names)

    def batched():
        return comparison_uncertainty(net, comparison, samples=draws, rng=SEED)

    times = timed(batched)
    result = batched()
    memory = peak_mb(batched)
    engine_rss = rss_mb()  # before pgmpy is imported
    # pgmpy: a few portfolios x a few draws, on the same draws
    model = uncertainty_model(net)
    values = model.parameter_values(model.sample(draws, rng=SEED))
    first = {k: (v[:pgmpy_draws] if np.ndim(v) and len(v) > 1 else v) for k, v in values.items()}
    full = net.compile(first)
    rng = np.random.default_rng(0)
    portfolios = [tuple(rng.integers(0, 2, len(names))) for _ in range(pgmpy_portfolios)]
    seconds, worst, count = 0.0, 0.0, 0
    for bits in portfolios:
        do = {**comparison.do, **{m: ("on" if b else "off") for m, b in zip(names, bits,
                                                                          strict=True)}}
        cut = full.intervene(resolve_assignments(net, do, what="do()"))
        loop = PgmpyLoop(cut, comparison.target, comparison.state, comparison.evidence)
        loop.query(0)
        reference, per_draw = loop.run(pgmpy_draws)
        seconds += per_draw * pgmpy_draws
        count += pgmpy_draws
        column = portfolio_index(names, [m for m, b in zip(names, bits, strict=True) if b])
        worst = max(worst, float(np.max(np.abs(reference
                                               - result.draws.values[:pgmpy_draws, column]))))
    pgmpy_per_query = seconds / count
    queries = draws * 2 ** len(names)
    return {
        "name": "portfolios",
        "question": f"every portfolio of {len(names)} mitigations (2^{len(names)} = "
                    f"{2 ** len(names)}) x {draws:,} draws, P(harm=yes) under scenario "
                    "autonomous_agents, with intervals, Shapley values and paired odds",
        "draws": draws, "portfolios": 2 ** len(names), "seconds": times["best"],
        "seconds_median": times["median"], "seconds_cold": times["cold"],
        "cpu_seconds": times["cpu_best"], "per_draw": times["best"] / queries,
        "pgmpy_draws": count, "pgmpy_per_draw": pgmpy_per_query,
        "pgmpy_scaled_seconds": pgmpy_per_query * queries,
        "ratio": pgmpy_per_query * queries / times["best"], "max_abs_difference": worst,
        "peak_mb": memory, "rss_mb": engine_rss,
    }


def show(r: dict) -> None:
    print(r["question"])
    print(f"  batched engine: {fmt_time(r['seconds'])} (median {fmt_time(r['seconds_median'])}, "
          f"first call {fmt_time(r['seconds_cold'])}, CPU {fmt_time(r['cpu_seconds'])}): "
          f"{fmt_time(r['per_draw'])} per portfolio and draw; peak memory {r['peak_mb']:.0f} MB")
    print(f"  pgmpy loop:     {r['pgmpy_draws']} portfolio-draws, {fmt_time(r['pgmpy_per_draw'])} "
          f"each -> {fmt_time(r['pgmpy_scaled_seconds'])} for all (scaled)")
    print(f"  ratio {r['ratio']:,.0f}x; largest difference on the shared draws "
          f"{r['max_abs_difference']:.1e}")


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = [measure(args.draws)]
    if args.json:
        print(json.dumps({"machine": machine(), "results": results}))
    else:
        show(results[0])
    return results


if __name__ == "__main__":
    main()
