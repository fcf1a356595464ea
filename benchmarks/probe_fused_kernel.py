"""What a fused compiled kernel would give the batched engine: a probe for the next design step,
not part of `make bench`.

The heaviest piece of the nothing-held question is the expanded formula's split of the capped
product into its goal and harm factors on every cell of context x prevention (4 x 3^4 x 2^3 =
2,592 cells) for every draw. The engine computes it with numpy, one array operation at a time
(``gmnet.model.expression_program._LazySplit``); a compiled loop computes every cell's factors
in registers. This script times both on operands of the engine's shapes (draws last), checks
that they are equal to the last bit, and reports the compile time, in the same run as the whole
engine on 20,000 draws of P(harm=yes) with nothing held (one thread, for the share).

    python benchmarks/probe_fused_kernel.py [--draws 256] [--json]

Needs numba (``pip install numba``), which gmnet itself does not use; without it the script
says so and stops.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

# context axes (shift, spec, diversity, alignment, capability) and the prevention mitigations
GRID = (4, 3, 3, 3, 3, 2, 2, 2)


def operands(draws: int, seed: int = 0) -> dict[str, np.ndarray]:
    """g, h by shift; the goal modifier by (spec, diversity, alignment); the harm modifier by
    capability; the mitigations' factor by (alignment, prevention): the engine's broadcasting
    shapes, with values that make every branch of the split occur."""
    rng = np.random.default_rng(seed)

    def on(*axes):
        shape = [1] * len(GRID)
        for a in axes:
            shape[a] = GRID[a]
        return rng.uniform(0.3, 1.6, size=(*shape, draws))

    return {"g": on(0), "h": on(0), "m_goal": on(1, 2, 3), "m_harm": on(4),
            "f": on(3, 5, 6, 7)}


def numpy_split(ops: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    from gmnet.model.expression_program import _LazySplit

    split = _LazySplit([ops[k] for k in ("g", "h", "m_goal", "m_harm", "f")], "expanded_formula")
    return split.goal(), split.harm()


def fused(numba):
    @numba.njit(error_model="numpy")
    def kernel(g, h, mg, mh, f, goal, harm):  # pragma: no cover - compiled
        n = g.shape[-1]
        for s in range(goal.shape[0]):
            for a in range(goal.shape[1]):
                for b in range(goal.shape[2]):
                    for c in range(goal.shape[3]):
                        for d in range(goal.shape[4]):
                            for e in range(goal.shape[5]):
                                for e2 in range(goal.shape[6]):
                                    for e3 in range(goal.shape[7]):
                                        for i in range(n):
                                            g0 = (g[s, 0, 0, 0, 0, 0, 0, 0, i]
                                                  * mg[0, a, b, c, 0, 0, 0, 0, i]
                                                  * f[0, 0, 0, c, 0, e, e2, e3, i])
                                            h0 = h[s, 0, 0, 0, 0, 0, 0, 0, i] \
                                                * mh[0, 0, 0, 0, d, 0, 0, 0, i]
                                            both = min(1.0, g0 * h0)
                                            if h0 > 1.0:
                                                goal[s, a, b, c, d, e, e2, e3, i] = both
                                                harm[s, a, b, c, d, e, e2, e3, i] = 1.0
                                            else:
                                                goal[s, a, b, c, d, e, e2, e3, i] = min(1.0, g0)
                                                harm[s, a, b, c, d, e, e2, e3, i] = (
                                                    both if g0 > 1.0 else h0)
    return kernel


def best_of(fn, repeats: int = 20) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def engine_per_draw(draws: int = 20_000) -> float:
    """The whole engine, one thread: P(harm=yes) with nothing held, every input drawn."""
    import gmnet
    from gmnet.analysis.uncertainty import uncertainty_model
    from gmnet.inference.allocator import keep_freed_memory
    from gmnet.inference.batched import plan_query

    keep_freed_memory()
    net = gmnet.load_network()
    q = plan_query(net, "harm", state="yes")
    model = uncertainty_model(net)
    values = model.parameter_values(model.sample(draws, rng=1))
    q.run(values, workers=1)
    start = time.perf_counter()
    q.run(values, workers=1)
    return (time.perf_counter() - start) / draws


def main(argv=None) -> dict | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=256, help="draws per chunk (default 256)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        import numba
    except ImportError:
        print("probe_fused_kernel.py needs numba (pip install numba); gmnet does not use it")
        return None
    ops = operands(args.draws)
    shape = (*GRID, args.draws)
    goal, harm = np.empty(shape), np.empty(shape)
    kernel = fused(numba)
    start = time.perf_counter()
    kernel(ops["g"], ops["h"], ops["m_goal"], ops["m_harm"], ops["f"], goal, harm)
    compile_s = time.perf_counter() - start
    want = numpy_split(ops)
    equal = bool(np.array_equal(want[0], goal) and np.array_equal(want[1], harm))
    t_numpy = best_of(lambda: numpy_split(ops))
    t_fused = best_of(lambda: kernel(ops["g"], ops["h"], ops["m_goal"], ops["m_harm"], ops["f"],
                                     goal, harm))
    r = {"cells": int(np.prod(GRID)), "draws": args.draws, "numba": numba.__version__,
         "numpy_us_per_draw": t_numpy / args.draws * 1e6,
         "fused_us_per_draw": t_fused / args.draws * 1e6, "ratio": t_numpy / t_fused,
         "compile_seconds": compile_s, "equal_to_last_bit": equal,
         "engine_us_per_draw": engine_per_draw() * 1e6}
    if args.json:
        print(json.dumps(r))
    else:
        print(f"goal/harm split over {r['cells']:,} cells, chunks of {r['draws']} draws:")
        print(f"  numpy (the engine's code): {r['numpy_us_per_draw']:.2f} us a draw")
        print(f"  fused numba loop:          {r['fused_us_per_draw']:.2f} us a draw "
              f"({r['ratio']:.1f}x), compiled in {r['compile_seconds']:.2f} s, equal to the last "
              f"bit: {equal}")
        print(f"  the whole engine, P(harm=yes) nothing held, one thread: "
              f"{r['engine_us_per_draw']:.1f} us a draw")
    return r


if __name__ == "__main__":
    sys.exit(0 if main() is not None or True else 1)
