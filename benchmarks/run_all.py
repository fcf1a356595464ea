"""Run every benchmark (each in its own process, so each peak memory is its own) and compare the
figures with the targets of docs/performance.md. `make bench` runs this.

    python benchmarks/run_all.py [--json]

Timings vary with the machine and its load; the verdicts are information, not a test.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import fmt_time, machine  # noqa: E402

SCRIPTS = ("bench_query.py", "bench_nothing_held.py", "bench_portfolios.py", "bench_sobol.py")
# name -> (seconds at most, pgmpy ratio at least or None); every run: peak memory <= 500 MB
TARGETS = {
    "query": (0.5, 300.0),
    "nothing_held": (5.0, 400.0),
    "query_observational": (0.5, 300.0),
    "portfolios": (2.0, None),
    "sobol": (10.0, None),  # N = 8192 (bench_sobol.py's default)
    "sobol_observational": (10.0, None),
}
MEMORY_MB = 500.0


def run(script: str) -> dict:
    out = subprocess.run([sys.executable, str(HERE / script), "--json"], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def verdict(r: dict) -> tuple[str, list[str]]:
    limit, ratio = TARGETS.get(r["name"], (None, None))
    misses = []
    if limit is not None and r["seconds"] > limit:
        misses.append(f"time {fmt_time(r['seconds'])} > {limit:g} s")
    if ratio is not None and r["ratio"] < ratio:
        misses.append(f"ratio {r['ratio']:,.0f}x < {ratio:g}x")
    if r["peak_mb"] > MEMORY_MB:
        misses.append(f"memory {r['peak_mb']:.0f} MB > {MEMORY_MB:g} MB")
    return ("met" if not misses else "MISSED"), misses


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    info = machine()
    results = []
    for script in SCRIPTS:
        print(f"running {script} ...", file=sys.stderr, flush=True)
        results += run(script)["results"]
    if args.json:
        print(json.dumps({"machine": info, "results": results}, indent=2))
        return 0
    print(f"machine: {info['nproc']} cores, {info['cpu']}; Python {info['python']}, numpy "
          f"{info['numpy']}; load average at start {info['load_average_1min']}")
    print()
    header = (f"{'benchmark':<22} {'time':>9} {'CPU':>9} {'target':>7} {'per draw':>10} "
              f"{'loop/draw':>11} {'ratio':>8} {'peak MB':>8} {'RSS MB':>7}  verdict")
    print(header)
    print("-" * len(header))
    for r in results:
        limit = TARGETS.get(r["name"], (None, None))[0]
        status, misses = verdict(r)
        print(f"{r['name']:<22} {fmt_time(r['seconds']):>9} {fmt_time(r['cpu_seconds']):>9} "
              f"{f'{limit:g} s':>7} "
              f"{fmt_time(r['per_draw']):>10} {fmt_time(r['pgmpy_per_draw']):>11} "
              f"{r['ratio']:>7,.0f}x {r['peak_mb']:>8.0f} {r['rss_mb']:>7.0f}  {status}"
              + f" [vs the {r.get('baseline', 'pgmpy')} loop]"
              + (f" ({'; '.join(misses)})" if misses else ""))
    print()
    for r in results:
        if "numpy_seconds" in r:
            print(f"{r['name']}: numpy only (GMNET_KERNELS=off) {fmt_time(r['numpy_seconds'])}, "
                  f"{r['numpy_seconds'] / r['seconds']:.2f}x the time with the compiled loops")
    print()
    for r in results:
        print(f"{r['name']}: {r['question']}")
    print("\ntime: best of the warm runs (wall clock); CPU: their best processor time, "
          "summed over threads and forked workers; per draw: per draw (and portfolio, or "
          "design row); loop: the straightforward pgmpy (or pyAgrum) loop on the same "
          "draws, measured on a few "
          "hundred and scaled; peak MB: tracemalloc peak of the batched run (nothing_held: the "
          "command's own peak resident memory); RSS: the benchmark "
          "process's peak resident memory before pgmpy is imported (interpreter, numpy, scipy, "
          "SALib and every batched run included).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
