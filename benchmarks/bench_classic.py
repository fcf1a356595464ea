"""Benchmark: the batched engine on pgmpy's classic networks, against pgmpy.

For each network every CPT entry gets a uniform +-20% range (rows renormalised), N parameter
draws are taken, and one question with evidence and an intervention is answered for all draws:
gmnet compiles the N CPT sets and runs one contraction; pgmpy runs its own do() and variable
elimination once per draw, building its model from that draw's CPTs (timed on a sample of draws,
then scaled to N). The single point query is timed too. Answers are checked against pgmpy on the
sampled draws (max |diff|).

Run: .venv/bin/python benchmarks/bench_classic.py [--draws 10000] [--pgmpy-sample 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gmnet.inference.pgmpy_backend import pgmpy_reference_query  # noqa: E402
from gmnet.inference.query import posterior, resolve_assignments  # noqa: E402
from gmnet.io.classic import classic_network, probing_queries  # noqa: E402
from gmnet.io.ranges import with_uniform_cpt_ranges  # noqa: E402

NETWORKS = ("asia", "sachs", "child", "insurance", "alarm")




def best_of(repeats, func):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def run(name: str, draws: int, sample: int, which: int) -> dict:
    net = classic_network(name)
    ranged = with_uniform_cpt_ranges(net, 0.2)
    target, evidence, do = probing_queries(net)[which]
    rng = np.random.default_rng(0)
    values = {k: rng.uniform(p.low, p.high, draws)
              for k, p in ranged.parameters.items() if p.ranged}
    ev = resolve_assignments(ranged, evidence, what="evidence")
    dd = resolve_assignments(ranged, do, what="do()")

    t_compile, model = best_of(2, lambda: ranged.compile(values))
    t_query, answers = best_of(2, lambda: posterior(model, target, ev, dd))
    gmnet_total = t_compile + t_query

    pgmpy_reference_query(model.point(0), target, evidence, do)  # warm up (imports, caches)

    picks = np.linspace(0, draws - 1, sample).astype(int)
    start = time.perf_counter()
    worst = 0.0
    for i in picks:
        ref = pgmpy_reference_query(model.point(int(i)), target, evidence, do)
        worst = max(worst, float(np.abs(answers[i] - list(ref.values())).max()))
    pgmpy_per_draw = (time.perf_counter() - start) / sample

    t_point, _ = best_of(5, lambda: net.query(target, evidence=evidence, do=do))
    t_point_pgmpy, _ = best_of(3, lambda: pgmpy_reference_query(net.compiled, target,
                                                                 evidence, do))
    return {"name": name, "nodes": len(net.variables), "parameters": len(ranged.parameters),
            "compile": t_compile, "query": t_query, "gmnet": gmnet_total,
            "pgmpy": pgmpy_per_draw * draws, "ratio": pgmpy_per_draw * draws / gmnet_total,
            "point": t_point, "point_pgmpy": t_point_pgmpy, "worst": worst,
            "question": f"P({target} | {evidence}, do {do})"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--pgmpy-sample", type=int, default=20,
                        help="draws pgmpy answers (its time is scaled to --draws)")
    parser.add_argument("--networks", nargs="*", default=list(NETWORKS))
    args = parser.parse_args(argv)
    print(f"{args.draws} draws, +-20% on every CPT entry; pgmpy timed on "
          f"{args.pgmpy_sample} draws and scaled")
    print(f"{'network':<10} {'nodes':>5} {'params':>6} {'compile':>8} {'query':>7} "
          f"{'gmnet':>7} {'pgmpy(est)':>10} {'ratio':>7} {'point':>8} {'pt pgmpy':>8} "
          f"{'max |diff|':>10}")
    # probing_queries: 2 is the intervention, 1 the diagnosis
    for name, which in [(n, w) for n in args.networks for w in (2, 1)]:
        r = run(name, args.draws, args.pgmpy_sample, which)
        print(f"{r['name']:<10} {r['nodes']:>5} {r['parameters']:>6} {r['compile']:>7.2f}s "
              f"{r['query']:>6.2f}s {r['gmnet']:>6.2f}s {r['pgmpy']:>9.1f}s {r['ratio']:>6.0f}x "
              f"{r['point'] * 1e3:>6.1f}ms {r['point_pgmpy'] * 1e3:>6.0f}ms {r['worst']:>10.1e}")
        print(f"{'':<10} {r['question']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
