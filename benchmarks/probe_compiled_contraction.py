"""What compiling the contraction itself would give: a probe for the next design step, not part
of `make bench`.

The batched engine contracts each chunk's factors as one ``numpy.einsum`` (or broadcast
``numpy.multiply``) per pairwise step. This script writes a query's whole pairwise program as
scalar Python for numba (every step a loop nest over its output's cells and the variables it
sums, the draws innermost, all steps on a block of draws before the next, the steps that read
no varying factor once per call) and times it against ``contract_last`` on the same factors,
for the nothing-held question and the observational benchmark question, at chunk sizes whose
factors fit the processor's cache and at the engine's own chunk size. It also reports how far
the two answers are apart: the products are numpy's, but the sums run in the program's order,
not einsum's, so they agree to the last bit only sometimes.

    python benchmarks/probe_compiled_contraction.py [--json]

Needs numba; without it the script says so and stops. Findings (2026-12-02, quiet machine):
docs/performance.md, "Where targets are missed".
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gmnet.model import expression_kernel as ek  # noqa: E402

# Draws per block: the largest intermediate of the bundled network's heaviest question, 2,592
# cells x 32 draws x 8 bytes = 663 KB, stays in a core's second-level cache; 32 doubles are
# four AVX-512 (eight AVX2) vectors for the innermost loop.
BLOCK = 64

_lock = threading.Lock()
_KERNELS: dict[tuple, ProgramKernel] = {}
MAX_KERNELS = 256


class ProgramKernel:
    """The compiled program for operands of ``dims`` (cells per operand, draws excluded), of
    which those in ``varying`` have a draw axis of N (the others of 1)."""

    def __init__(self, steps: tuple, dims: tuple, varying: tuple[bool, ...], draw: str,
                 out: str):
        self.source = _source(steps, dims, varying, draw, out)
        self.digest = "program_" + hashlib.sha256(self.source.encode()).hexdigest()[:20]
        self._fn = None

    def compiled(self):
        if self._fn is None:
            with _lock:
                if self._fn is None:
                    self._fn = ek._load(self.source, self.digest)
        return self._fn

    def run(self, arrays: Sequence[np.ndarray], out_dims: tuple[int, ...], n: int) -> np.ndarray:
        out = np.empty((*out_dims, n))
        flat = [np.ascontiguousarray(a, dtype=float).reshape(-1) for a in arrays]
        self.compiled()(out.reshape(-1), *flat)
        return out


def program_kernel(steps: tuple, dims: tuple, varying: tuple[bool, ...], draw: str,
                   out: str) -> ProgramKernel:
    key = (steps, dims, varying, draw, out)
    with _lock:
        kernel = _KERNELS.get(key)
        if kernel is not None:
            return kernel
    kernel = ProgramKernel(steps, dims, varying, draw, out)
    with _lock:
        if len(_KERNELS) >= MAX_KERNELS:
            _KERNELS.clear()
        _KERNELS[key] = kernel
    return kernel


def _source(steps: tuple, dims: tuple, varying: tuple[bool, ...], draw: str, out: str) -> str:
    """The module source of the program: ``kernel(out, A0, A1, ...)``, every array flat (a
    cell's draws contiguous: cell c, draw d at ``c * D + d``, D the array's draw count: N for
    an input that varies, BLOCK for a block buffer, 1 for what does not vary)."""
    # the operand stack: (name, sizes, varies, is_input)
    stack = [(f"A{k}", tuple(int(x) for x in d), bool(v), True)
             for k, (d, v) in enumerate(zip(dims, varying, strict=True))]
    setup: list[str] = []  # buffers, and the steps that read no varying operand (once)
    fixed_body: list[str] = []
    block: list[str] = []  # the steps, per block of draws
    for number, (positions, spec) in enumerate(steps):
        inputs, result = spec.split("->")
        subs = [sub.replace(draw, "") for sub in inputs.split(",")]
        taken = [stack[k] for k in positions]
        for k in sorted(positions, reverse=True):
            del stack[k]
        sizes: dict[str, int] = {}
        for sub, (_, shape, _, _) in zip(subs, taken, strict=True):
            if len(sub) != len(shape):
                raise ValueError(f"step {spec}: an operand has {len(shape)} axes")
            sizes.update(zip(sub, shape, strict=True))
        kept = result.replace(draw, "")
        varies = any(t[2] for t in taken)
        name = f"T{number}"
        shape = tuple(sizes[c] for c in kept)
        cells = int(np.prod(shape, dtype=np.int64))
        setup.append(f"    {name} = np.empty({cells} * {'B' if varies else '1'})")
        body = block if varies else fixed_body
        body += _step(name, kept, subs, taken, sizes, varies)
        stack.append((name, shape, varies, False))
    (last, shape, varies, is_input), = stack
    if tuple(shape) != tuple(shape):  # pragma: no cover
        raise ValueError(out)
    cells = int(np.prod(shape, dtype=np.int64))
    lines = ["import numba", "import numpy as np", "", "",
             '@numba.njit(cache=True, nogil=True, error_model="numpy")',
             f"def kernel(out, {', '.join(f'A{k}' for k in range(len(dims)))}):",
             "    n = out.shape[0] // " + str(cells), f"    B = {BLOCK}", *setup, *fixed_body,
             "    for b0 in range(0, n, B):", "        w = min(B, n - b0)", *block,
             f"        for c in range({cells}):",
             "            for d in range(w):"]
    if is_input:
        source = f"{last}[c * n + b0 + d]" if varies else f"{last}[c]"
    else:
        source = f"{last}[c * B + d]" if varies else f"{last}[c]"
    lines += [f"                out[c * n + b0 + d] = {source}", "    return 0"]
    return "\n".join(lines) + "\n"


def _strides(sub: str, sizes: dict) -> dict[str, int]:
    """Each variable's stride in cells in an array of axes ``sub`` (C order)."""
    out, step = {}, 1
    for c in reversed(sub):
        out[c] = step
        step *= sizes[c]
    return out


def _step(name: str, kept: str, subs: list[str], taken: list, sizes: dict,
          varies: bool) -> list[str]:
    """One pairwise (or single-operand) step: ``name[kept..., d]`` = the product, summed over
    the variables only its operands have (the first term assigned, the others added in order,
    the first summed variable outermost)."""
    base = "        " if varies else "    "
    summed = [c for c in dict.fromkeys("".join(subs)) if c not in kept]
    order = list(kept) + summed
    var = {c: f"i{k}" for k, c in enumerate(order)}
    width = "w" if varies else "1"
    arrays = [(name, kept, varies, False)] + [
        (oname, sub, ovaries, is_input) for sub, (oname, _, ovaries, is_input)
        in zip(subs, taken, strict=True)]

    def pad(depth: int) -> str:
        return base + "    " * depth

    def cell(sub: str, upto: int) -> str:
        """The cell offset of an array of axes ``sub`` from the loop variables of the first
        ``upto`` loops."""
        strides = _strides(sub, sizes)
        terms = [f"{var[c]} * {strides[c]}" if strides[c] != 1 else var[c]
                 for c in order[:upto] if c in sub and sizes[c] > 1]
        return " + ".join(terms) or "0"

    lines = [pad(depth) + f"for {var[c]} in range({sizes[c]}):" for depth, c in enumerate(order)]
    depth = len(order)
    # each array's row of draws as a view (indexed by the loop's own counter, so the compiler
    # knows the index is not negative and vectorises), what does not vary as one number
    terms = []
    for k, (oname, sub, ovaries, is_input) in enumerate(arrays):
        at = cell(sub, len(order))
        if not ovaries:
            lines.append(pad(depth) + f"r{k} = {oname}[{at}]")
            terms.append(f"r{k}")
            continue
        start = f"({at}) * n + b0" if is_input else f"({at}) * B"
        lines.append(pad(depth) + f"r{k} = {oname}[{start}:]")
        terms.append(f"r{k}[d]")
    target, product = terms[0], " * ".join(terms[1:])
    if not varies:
        target = f"{arrays[0][0]}[{cell(kept, len(order))}]"
        lines.pop(len(order))  # the target's one number is written, not read
    if summed:
        first = " and ".join(f"{var[c]} == 0" for c in summed)
        lines += [pad(depth) + f"if {first}:",
                  pad(depth + 1) + f"for d in range({width}):",
                  pad(depth + 2) + f"{target} = {product}",
                  pad(depth) + "else:",
                  pad(depth + 1) + f"for d in range({width}):",
                  pad(depth + 2) + f"{target} += {product}"]
    else:
        lines += [pad(depth) + f"for d in range({width}):",
                  pad(depth + 1) + f"{target} = {product}"]
    return lines


# ================================================================ the probe
def _factors(question: str, draws: int):
    """The factors ``contract_last`` gets for one chunk of ``draws`` draws of ``question``."""
    import gmnet
    from gmnet.analysis.uncertainty import uncertainty_model
    from gmnet.inference.batched import plan_query
    from gmnet.inference.contraction import DRAW_LABEL

    if question == "nothing_held":
        net = gmnet.load_network()
        plan = plan_query(net, "harm", state="yes")
    else:
        from _common import workload

        net, evidence, do = workload(False)
        plan = plan_query(net, "harm", evidence=evidence, do=do, state="yes")
    model = uncertainty_model(net)
    values = model.parameter_values(model.sample(draws, rng=0))
    values = {k: v for k, v in values.items() if k in plan.parameters}
    operands: list = []
    for arr, labels in net.compile_factors(values, restrict=plan.restrict, nodes=plan.nodes):
        index = tuple(0 if size == 1 else slice(None) for size in arr.shape[:-1])
        kept = [lab for lab, size in zip(labels[:-1], arr.shape[:-1], strict=True) if size != 1]
        operands += [arr[(*index, slice(None))], [*kept, DRAW_LABEL]]
    return plan, operands


def probe(question: str, draws: int, repeats: int = 20) -> dict:
    import opt_einsum as oe

    from gmnet.inference.contraction import DRAW_LABEL, _pairwise_program, contract_last

    plan, operands = _factors(question, draws)
    arrays, labels = operands[0::2], [tuple(s) for s in operands[1::2]]
    letters: dict = {}
    for sub in labels + [(DRAW_LABEL,)]:
        for label in sub:
            letters.setdefault(label, oe.get_symbol(len(letters)))
    subs = tuple("".join(letters[x] for x in sub) for sub in labels)
    dims = tuple(a.shape[:-1] for a in arrays)
    draw = letters[DRAW_LABEL]
    steps = _pairwise_program(subs, draw, dims, draw, True)
    kernel = program_kernel(steps, dims, tuple(a.shape[-1] > 1 for a in arrays), draw, draw)
    start = time.perf_counter()
    got = kernel.run(arrays, (), draws)  # compiles
    compile_seconds = time.perf_counter() - start
    ref = contract_last(operands, [DRAW_LABEL], draws_hint=10**6)

    def best(fn) -> float:
        times = []
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(repeats):
                fn()
            times.append((time.perf_counter() - t) / repeats)
        return min(times)

    numpy_s = best(lambda: contract_last(operands, [DRAW_LABEL], draws_hint=10**6))
    kernel_s = best(lambda: kernel.run(arrays, (), draws))
    return {"question": question, "draws": draws, "draw_size": plan.draw_size,
            "steps": len(steps), "compile_seconds": compile_seconds,
            "numpy_us_per_draw": numpy_s / draws * 1e6,
            "kernel_us_per_draw": kernel_s / draws * 1e6, "ratio": numpy_s / kernel_s,
            "bit_equal": bool(np.array_equal(got, ref)),
            "max_relative_difference": float(np.max(np.abs(got - ref) / np.abs(ref)))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not ek.available():
        print("numba is not installed: nothing to probe")
        return
    rows = [probe("nothing_held", n) for n in (32, 64, 256)]
    rows += [probe("observational", n) for n in (64, 1213)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    for r in rows:
        print(f"{r['question']:>13}, {r['draws']:>5} draws a chunk ({r['draw_size']} cells): "
              f"einsum {r['numpy_us_per_draw']:.2f} us a draw, compiled program "
              f"{r['kernel_us_per_draw']:.2f} ({r['ratio']:.2f}x); equal to the last bit: "
              f"{r['bit_equal']} (largest relative difference "
              f"{r['max_relative_difference']:.1e}); first call {r['compile_seconds']:.1f} s")


if __name__ == "__main__":
    main()
