"""Sobol indices over every ranged parameter (and the Critical Unknowns) with N = 8192, against
the pgmpy loop (one query per design row, measured on a few hundred rows and scaled).

Also reports where the time goes (the batched engine, making the design's blocks, the indices
and their bootstrap) and the process's peak resident memory after each question.

    python benchmarks/bench_sobol.py [--samples 8192] [--repeats 1] [--json]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
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

from gmnet.analysis import sensitivity as sensitivity_module  # noqa: E402
from gmnet.analysis.sensitivity import sensitivity  # noqa: E402
from gmnet.analysis.uncertainty import uncertainty_model  # noqa: E402
from gmnet.inference.query import resolve_assignments  # noqa: E402

# the parts of a run, timed separately: engine (every block of rows through the batched query),
# design (the blocks' uniform numbers and parameter values), analysis (indices and bootstrap)
PARTS = {"answers": "engine", "base_blocks": "design", "block_values": "design",
         "sobol_indices": "analysis"}


def split(fn):
    """Run ``fn`` with the parts of :data:`PARTS` timed: (its result, seconds per part)."""
    spent = dict.fromkeys(PARTS.values(), 0.0)
    originals = {name: getattr(sensitivity_module, name) for name in PARTS}

    def timing(name, original):
        if name == "base_blocks":  # a generator: time each block it makes
            def blocks(*args, **kwargs):
                it = original(*args, **kwargs)
                while True:
                    start = time.perf_counter()
                    try:
                        item = next(it)
                    except StopIteration:
                        return
                    finally:
                        spent["design"] += time.perf_counter() - start
                    yield item
            return blocks

        def timed_part(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[PARTS[name]] += time.perf_counter() - start
        return timed_part

    for name, original in originals.items():
        setattr(sensitivity_module, name, timing(name, original))
    try:
        result = fn()
    finally:
        for name, original in originals.items():
            setattr(sensitivity_module, name, original)
    return result, spent


def measure(portfolio: bool, samples: int, repeats: int = 1) -> dict:
    """The batched engine's part (run before pgmpy is ever imported)."""
    net, evidence, do = workload(portfolio)

    def batched():
        return sensitivity(net, "harm", "yes", evidence=evidence, do=do, samples=samples,
                           rng=SEED)

    times = timed(batched, repeats=repeats)
    start = time.perf_counter()
    result, parts = split(batched)
    parts["total"] = time.perf_counter() - start
    parts["other"] = parts["total"] - sum(parts[k] for k in ("engine", "design", "analysis"))
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
        "parts": parts,
        # peak resident memory of this process so far (the questions measured before included)
        "process_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
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
    parts = r["parts"]
    print(f"  batched engine: {fmt_time(r['seconds'])} (median {fmt_time(r['seconds_median'])}, "
          f"first call {fmt_time(r['seconds_cold'])}, CPU {fmt_time(r['cpu_seconds'])}), "
          f"design and analysis included; peak memory {r['peak_mb']:.0f} MB (tracemalloc), "
          f"process {r['process_rss_mb']:.0f} MB resident")
    print(f"  one run of {fmt_time(parts['total'])}: engine {fmt_time(parts['engine'])}, design "
          f"{fmt_time(parts['design'])}, indices and bootstrap {fmt_time(parts['analysis'])}, "
          f"other {fmt_time(parts['other'])} (moving-input check, point, assembling)")
    print(f"  pgmpy loop:     {fmt_time(r['pgmpy_per_draw'])} per row -> "
          f"{fmt_time(r['pgmpy_scaled_seconds'])} for {r['rows']:,} rows (scaled)")
    print(f"  ratio {r['ratio']:,.0f}x; most important input: {r['top']} (ST {r['top_st']:.2f})")


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8192)
    parser.add_argument("--repeats", type=int, default=1, help="warm runs timed (best kept)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = [measure(True, args.samples, args.repeats),
               measure(False, args.samples, args.repeats)]
    engine_rss = rss_mb()  # before pgmpy is imported
    results = [compare_pgmpy(r) for r in results]
    return finish(results, engine_rss, args.json, show)


if __name__ == "__main__":
    main()
