"""The web server under load: ``gmnet serve`` on loopback, concurrent clients, zero errors.

Starts ``gmnet serve --port 0`` (the command users run) in a subprocess on 127.0.0.1, waits
until it answers, then sends a bounded load from concurrent clients (asyncio + httpx): a fixed
mix of query, compare and uncertainty requests with varied contexts drawn from a seeded
generator. Every response must be 200 with a JSON body whose probabilities are finite numbers in
[0, 1]; anything else counts as an error. Prints the latencies (p50, p95, p99, max) per endpoint
and overall, and the throughput; exits 1 if there was any error.

    .venv/bin/python benchmarks/load_test.py                  # 10,000 requests, 8 clients
    .venv/bin/python benchmarks/load_test.py --requests 500   # a quick run
    .venv/bin/python benchmarks/load_test.py --json           # figures as JSON

If the server has no uncertainty endpoint (``/api/uncertainty``), its share goes to
``/api/marginals`` and the output says so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
GMNET = [sys.executable, "-m", "gmnet.cli"]
CONTEXT = ("shift_type", "spec_quality", "capability_level", "training_diversity",
           "alignment_method")


# ============================================================================ the server
def start_server(*, workers: int, timeout: float, network: str | None,
                 server: str = "gmnet") -> tuple[subprocess.Popen, str]:
    """The server in a subprocess; returns it and its base URL.

    ``server="gmnet"``: ``gmnet serve --port 0``, what users run. ``server="uvicorn"``: uvicorn's
    own command line on the app factory (uvicorn binds the socket itself).
    """
    if server == "uvicorn":
        with socket.socket() as probe:  # a free port (uvicorn's command line needs a number)
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        factory = (f"lambda: __import__('gmnet.web', fromlist=['create_app']).create_app("
                   f"{[network] if network else None!r}, timeout={timeout!r}, "
                   f"workers={workers!r})")
        code = ("import uvicorn; uvicorn.run(" + factory + ", factory=True, host='127.0.0.1', "
                f"port={port}, log_level='warning', server_header=False)")
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
    else:
        cmd = [*GMNET, "serve", "--host", "127.0.0.1", "--port", "0", "--workers", str(workers),
               "--timeout", str(timeout)]
        if network:
            cmd += ["--network", network]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        line = proc.stdout.readline()  # "gmnet: serving NAME at http://127.0.0.1:PORT/ (...)"
        match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        if not match:
            proc.kill()
            raise SystemExit(f"the server did not start: {line.strip()} "
                             f"{proc.stderr.read()[:500]}")
        base = match.group(1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    stop_server(proc)
    raise SystemExit(f"the server at {base} did not answer /api/health within 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the server we started (its own process group only)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


# ============================================================================ the requests
def plan(n: int, *, base: str, seed: int, samples: int, mix: dict[str, float],
         has_uncertainty: bool) -> list[tuple[str, dict]]:
    """``n`` (endpoint, body) pairs: the endpoints in proportion to ``mix``, the situations
    varied (context nodes observed, set or left alone; mitigations switched by intervention),
    all from ``seed``."""
    description = httpx.get(f"{base}/api/networks/goal_misgeneralization", timeout=30).json()
    states = {node["name"]: node["states"] for node in description["nodes"]}
    mitigations = [node["name"] for node in description["nodes"] if node["role"] == "mitigation"]
    rng = random.Random(seed)
    kinds = [k for k in mix if mix[k] > 0]
    counts = {k: int(n * mix[k] / sum(mix[k] for k in kinds)) for k in kinds}
    counts[kinds[0]] += n - sum(counts.values())
    order = [k for k in kinds for _ in range(counts[k])]
    rng.shuffle(order)
    out = []
    for kind in order:
        evidence, do = {}, {}
        for var in CONTEXT:
            how = rng.random()
            if how < 0.3:
                evidence[var] = rng.choice(states[var])
            elif how < 0.6:
                do[var] = rng.choice(states[var])
        if kind == "query":
            for m in mitigations:
                if rng.random() < 0.3:
                    do[m] = rng.choice(states[m])
            out.append(("/api/query", {"evidence": evidence, "do": do}))
        elif kind == "compare":
            out.append(("/api/compare", {"evidence": evidence, "do": do,
                                         "context": rng.choice(["neutral", "prior"])}))
        elif has_uncertainty:
            out.append(("/api/uncertainty", {"evidence": evidence, "do": do,
                                             "samples": samples, "seed": rng.randrange(2**31)}))
        else:
            out.append(("/api/marginals", {"evidence": evidence, "do": do}))
    return out


def check(path: str, payload: dict) -> str | None:
    """What is wrong with a 200 response's body, or None."""
    numbers = list(_numbers(payload))
    if not numbers:
        return "no numbers in the response"
    bad = [x for x in numbers if not math.isfinite(x)]
    if bad:
        return f"non-finite numbers: {bad[:3]}"
    if path == "/api/query":
        dist = payload["distribution"]
        if abs(sum(dist.values()) - 1.0) > 1e-9 or not 0 <= payload["probability"] <= 1:
            return f"not a distribution: {dist}"
    return None


def _numbers(value):
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, list):
        for v in value:
            yield from _numbers(v)


async def run_load(base: str, requests: list[tuple[str, dict]], *, clients: int,
                   timeout: float) -> dict:
    """Send ``requests`` from ``clients`` concurrent clients; latencies and errors."""
    queue: asyncio.Queue = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    statuses: Counter = Counter()

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=timeout) as http:
            while True:
                try:
                    path, body = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                begun = time.perf_counter()
                try:
                    r = await http.post(path, json=body)
                except httpx.HTTPError as exc:
                    errors.append(f"{path}: {type(exc).__name__}: {exc}")
                    statuses["transport error"] += 1
                    continue
                latencies[path].append(time.perf_counter() - begun)
                statuses[r.status_code] += 1
                if r.status_code != 200:
                    errors.append(f"{path} {json.dumps(body)} -> {r.status_code} {r.text[:200]}")
                    continue
                problem = check(path, r.json())
                if problem:
                    errors.append(f"{path} {json.dumps(body)}: {problem}")

    begun = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - begun
    return {"wall_seconds": wall, "latencies": latencies, "errors": errors,
            "statuses": {str(k): v for k, v in statuses.items()}}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(latencies: list[float]) -> dict:
    return {"requests": len(latencies),
            "p50_ms": 1000 * percentile(latencies, 0.50),
            "p95_ms": 1000 * percentile(latencies, 0.95),
            "p99_ms": 1000 * percentile(latencies, 0.99),
            "max_ms": 1000 * max(latencies) if latencies else float("nan")}


def machine() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "system": platform.platform(), "load_average_1min": os.getloadavg()[0]}


# ============================================================================ main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000, help="total requests")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="server computing threads")
    parser.add_argument("--samples", type=int, default=2000,
                        help="parameter draws per uncertainty request (the page's default)")
    parser.add_argument("--mix", default="query=0.6,compare=0.2,uncertainty=0.2",
                        help="share of each kind of request")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="the server's time limit per request, seconds")
    parser.add_argument("--network", default=None, help="network to serve (default: bundled)")
    parser.add_argument("--server", choices=["gmnet", "uvicorn"], default="gmnet",
                        help="start it with `gmnet serve` (default) or uvicorn's command line")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= 1_000_000 or not 1 <= args.clients <= 256:
        parser.error("--requests must be in [1, 1000000] and --clients in [1, 256]")
    try:
        mix = {k.strip(): float(v) for k, v in (part.split("=") for part in args.mix.split(","))}
    except ValueError:
        parser.error(f"--mix {args.mix!r}: write it like query=0.6,compare=0.2,uncertainty=0.2")
    unknown = set(mix) - {"query", "compare", "uncertainty"}
    if unknown or sum(mix.values()) <= 0 or any(v < 0 for v in mix.values()):
        parser.error(f"--mix {args.mix!r}: kinds are query, compare, uncertainty with shares >= 0")

    proc, base = start_server(workers=args.workers, timeout=args.timeout, network=args.network,
                              server=args.server)
    try:
        paths = httpx.get(f"{base}/openapi.json", timeout=30).json()["paths"]
        has_uncertainty = "/api/uncertainty" in paths
        requests = plan(args.requests, base=base, seed=args.seed, samples=args.samples,
                        mix=mix, has_uncertainty=has_uncertainty)
        # warm-up outside the measurement (first compilations, thread start)
        for path in sorted({p for p, _ in requests}):
            httpx.post(f"{base}{path}", json=next(b for p, b in requests if p == path),
                       timeout=args.timeout + 5)
        result = asyncio.run(run_load(base, requests, clients=args.clients,
                                      timeout=args.timeout + 5))
        alive = httpx.get(f"{base}/api/health", timeout=10).status_code == 200
    finally:
        stop_server(proc)

    every = [x for values in result["latencies"].values() for x in values]
    report = {
        "machine": machine(),
        "settings": {"server": args.server, "requests": args.requests, "clients": args.clients,
                     "server_workers": args.workers, "uncertainty_samples": args.samples,
                     "mix": mix, "seed": args.seed,
                     "uncertainty_endpoint": "/api/uncertainty" if has_uncertainty
                     else "absent: /api/marginals instead"},
        "errors": len(result["errors"]),
        "statuses": result["statuses"],
        "wall_seconds": result["wall_seconds"],
        "throughput_rps": len(every) / result["wall_seconds"],
        "overall": summary(every),
        "endpoints": {path: summary(values)
                      for path, values in sorted(result["latencies"].items())},
        "server_alive_after": alive,
        "first_errors": result["errors"][:5],
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        m = report["machine"]
        print(f"machine: {m['cpus']} CPUs, {m['cpu']}; Python {m['python']}; load average "
              f"{m['load_average_1min']:.1f} at the end (other processes share the CPUs)")
        started = "gmnet serve" if args.server == "gmnet" else "uvicorn's command line"
        print(f"load: {args.requests} requests from {args.clients} concurrent clients, server "
              f"({started}) with {args.workers} computing threads; uncertainty: "
              f"{report['settings']['uncertainty_endpoint']} ({args.samples} draws each)")
        print(f"{'endpoint':<18} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
              f"{'max ms':>8}")
        for path, s in [*report["endpoints"].items(), ("all", report["overall"])]:
            print(f"{path:<18} {s['requests']:>8} {s['p50_ms']:>8.1f} {s['p95_ms']:>8.1f} "
                  f"{s['p99_ms']:>8.1f} {s['max_ms']:>8.1f}")
        print(f"throughput: {report['throughput_rps']:.1f} requests/s over "
              f"{report['wall_seconds']:.1f} s; errors: {report['errors']}; statuses: "
              f"{report['statuses']}; server alive after: {alive}")
        for line in report["first_errors"]:
            print(f"  error: {line}")
    return 0 if report["errors"] == 0 and alive else 1


if __name__ == "__main__":
    sys.exit(main())
