"""Benchmark: exact point queries on big bnlearn networks, gmnet against pyAgrum.

For each network (bundled with pgmpy, read by gmnet's BIF reader; nothing is downloaded): ten
leaves are observed (every leaf's first state with positive probability, the leaves picked
evenly along the file's order), and the posteriors of five roots are asked. gmnet answers each
with its einsum engine (min-fill variable elimination, rescaled); pyAgrum builds a
LazyPropagation junction tree on the same tables (the file is handed over as gmnet read it)
and answers all five from one propagation. Both are timed from the network in memory to the
five answers, best of three after a warm-up; the answers must agree to 1e-9.

Run: .venv/bin/python benchmarks/bench_big.py [--networks munin3 link ...] [--json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from importlib.resources import files
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gmnet.inference.query import posterior  # noqa: E402
from gmnet.io.bif import parse_bif  # noqa: E402
from gmnet.io.parsed import to_model  # noqa: E402

NETWORKS = ("alarm", "win95pts", "andes", "diabetes", "link", "munin1", "munin2", "munin3",
            "munin4", "munin", "pathfinder", "pigs")
TARGET_RATIO = 10.0


def load(name: str):
    ref = files("pgmpy") / "utils" / "example_models" / f"{name}.bif.gz"
    return to_model(parse_bif(gzip.decompress(ref.read_bytes()).decode("utf-8")))


def workload(model, leaves: int = 10, roots: int = 5):
    """Ten observed leaves (each at its first state possible in its first row) and five roots."""
    children = {v: 0 for v in model.variables}
    for v in model.variables:
        for p in model.parents[v]:
            children[p] += 1
    leaf_list = [v for v in model.variables if children[v] == 0 and model.parents[v]]
    root_list = [v for v in model.variables if not model.parents[v] and children[v]]
    pick = np.linspace(0, len(leaf_list) - 1, min(leaves, len(leaf_list))).round().astype(int)
    observed = [leaf_list[i] for i in dict.fromkeys(pick.tolist())]
    evidence = {}
    for v in observed:
        table = np.asarray(model.cpts[v][0]).reshape(-1, model.card(v))
        evidence[v] = int(np.argmax(table[0] > 0))
    step = max(1, len(root_list) // roots)
    targets = root_list[::step][:roots]
    return evidence, targets


def gmnet_answers(model, evidence, targets):
    return {t: posterior(model, t, evidence, {})[0] for t in targets}


def pyagrum_answers(model, evidence, targets):
    import pyagrum as gum

    bn = gum.BayesNet("bench")
    ids = {}
    for v in model.variables:
        ids[v] = bn.add(gum.LabelizedVariable(v, v, list(model.states[v])))
    for v in model.variables:
        for p in model.parents[v]:
            bn.addArc(ids[p], ids[v])
    for v in model.variables:
        table = np.asarray(model.cpts[v][0])  # axes (*parents, v), matched to pyAgrum by name
        names = [*model.parents[v], v]
        cpt = bn.cpt(ids[v])
        order = [cpt.variable(i).name() for i in range(cpt.nbrDim())]
        cpt.fillWith(np.transpose(table, [names.index(n) for n in order][::-1]).reshape(-1)
                     .tolist())
    start = time.perf_counter()
    engine = gum.LazyPropagation(bn)
    engine.setEvidence({v: model.states[v][i] for v, i in evidence.items()})
    engine.makeInference()
    out = {t: np.asarray(engine.posterior(t).toarray()) for t in targets}
    return out, time.perf_counter() - start, bn


def best_of(func, repeats: int = 3):
    func()
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="*", default=list(NETWORKS))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for name in args.networks:
        model = load(name)
        evidence, targets = workload(model)
        t_gmnet, ours = best_of(lambda m=model, e=evidence, t=targets: gmnet_answers(m, e, t))
        t_agrum, (theirs, _, _) = best_of(
            lambda m=model, e=evidence, t=targets: (lambda r: (r[0], r[1], r[2]))(
                pyagrum_answers(m, e, t)))
        # pyAgrum's time without building its BayesNet: the propagation alone
        _, propagation, _ = pyagrum_answers(model, evidence, targets)
        diff = max(float(np.max(np.abs(ours[t] - theirs[t]))) for t in targets)
        ratio = t_gmnet / propagation
        rows.append({"network": name, "nodes": len(model.variables), "gmnet_s": t_gmnet,
                     "pyagrum_s": propagation, "ratio": ratio, "max_diff": diff,
                     "within_target": ratio <= TARGET_RATIO and diff <= 1e-9})
        if not args.json:
            print(f"{name:11s} {len(model.variables):5d} nodes  gmnet {t_gmnet:8.3f} s  "
                  f"pyAgrum LazyPropagation {propagation:8.3f} s  ratio {ratio:6.1f}x  "
                  f"max |diff| {diff:.1e}", flush=True)
        del t_agrum
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
