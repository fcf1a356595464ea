"""The web server under load: ``gmnet serve`` on loopback, concurrent clients, zero errors.

Starts ``gmnet serve --port 0`` (the command users run) in a subprocess on 127.0.0.1, waits
until it answers, then sends a bounded load from concurrent clients (asyncio + httpx): a fixed
mix of query, compare and uncertainty requests with varied contexts drawn from a seeded
generator. Every response must be 200 with a JSON body whose probabilities are finite numbers in
[0, 1]; anything else counts as an error. Prints the latencies (p50, p95, p99, max) per endpoint
and overall, the throughput, and the CPU time the server process and this client used per
request (read from /proc: steadier than wall times on a shared machine); exits 1 if there was
any error.

    .venv/bin/python benchmarks/load_test.py                  # 10,000 requests, 8 clients
    .venv/bin/python benchmarks/load_test.py --requests 500   # a quick run
    .venv/bin/python benchmarks/load_test.py --json           # figures as JSON
    .venv/bin/python benchmarks/load_test.py --baseline OLD   # also OLD's server, and ratios
    .venv/bin/python benchmarks/load_test.py --repeat 0.5     # half the requests asked before

``--baseline TREE`` runs the same requests, in the same run, against the server of another
gmnet source tree (e.g. an earlier commit unpacked with ``git archive REV | tar -x -C TREE``),
started the same way but on uvicorn's pure-Python event loop and HTTP parser (what that
version ran on; ``--baseline-same-loop``: on this tree's, for a baseline that already ran on
uvloop and httptools), and prints each figure beside its baseline with their ratio.
``--repeat SHARE`` makes that share of the requests repeat an earlier request of the run (a
page user going back to a situation); by default every request is new, so no answer is
served from the server's cache.

If the server has no uncertainty endpoint (``/api/uncertainty``), its share goes to
``/api/marginals`` and the output says so.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import re
import resource
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
#: Run in the server's process before gmnet when the pure-Python loop and parser are asked for:
#: uvicorn's "auto" choice then falls back to asyncio and h11.
PLAIN = "import sys; sys.modules['uvloop'] = None; sys.modules['httptools'] = None; "


def start_server(*, workers: int, timeout: float, network: str | None,
                 server: str = "gmnet", tree: Path | None = None, plain: bool = False,
                 extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str]:
    """The server in a subprocess; returns it and its base URL.

    ``server="gmnet"``: ``gmnet serve --port 0``, what users run. ``server="uvicorn"``: uvicorn's
    own command line on the app factory (uvicorn binds the socket itself). ``tree``: the gmnet
    source tree to run (default: this one); ``plain``: without uvloop and httptools; ``extra``:
    more options of ``gmnet serve``.
    """
    root = Path(tree) if tree is not None else ROOT
    env = {**os.environ, "PYTHONPATH": str(root)}
    prefix = PLAIN if plain else ""
    if server == "uvicorn":
        with socket.socket() as probe:  # a free port (uvicorn's command line needs a number)
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        factory = (f"lambda: __import__('gmnet.web', fromlist=['create_app']).create_app("
                   f"{[network] if network else None!r}, timeout={timeout!r}, "
                   f"workers={workers!r})")
        code = (prefix + "import uvicorn; uvicorn.run(" + factory + ", factory=True, "
                f"host='127.0.0.1', port={port}, log_level='warning', server_header=False)")
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=root, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        base = f"http://127.0.0.1:{port}"
    else:
        args = ["serve", "--host", "127.0.0.1", "--port", "0", "--workers", str(workers),
                "--timeout", str(timeout)]
        if network:
            args += ["--network", network]
        args += list(extra)
        cmd = ([sys.executable, "-c", prefix + "import sys; from gmnet.cli import main; "
                "sys.argv = ['gmnet', *sys.argv[1:]]; main()", *args] if plain
               else [*GMNET, *args])
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        line = proc.stdout.readline()  # "gmnet: serving NAME at http://127.0.0.1:PORT/ (...)"
        match = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        if not match:
            proc.kill()
            raise SystemExit(f"the server did not start: {line.strip()} "
                             f"{proc.stderr.read()[:500]}")
        base = match.group(1)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            health = httpx.get(f"{base}/api/health", timeout=2)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        compute = health.json().get("compute", {}) if health.status_code == 200 else None
        if compute is not None and compute.get("ready", 0) >= compute.get("workers", 0):
            return proc, base  # and its worker processes (if any) have loaded the networks
        time.sleep(0.1)
    stop_server(proc)
    raise SystemExit(f"the server at {base} was not ready (/api/health) within 120 s")


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
         has_uncertainty: bool, repeat: float = 0.0) -> list[tuple[str, dict]]:
    """``n`` (endpoint, body) pairs: the endpoints in proportion to ``mix``, the situations
    varied (context nodes observed, set or left alone; mitigations switched by intervention),
    all from ``seed``; a share ``repeat`` of them (after the first) repeats an earlier one."""
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
                                         "context": rng.choice(["baseline", "prior"])}))
        elif has_uncertainty:
            out.append(("/api/uncertainty", {"evidence": evidence, "do": do,
                                             "samples": samples, "seed": rng.randrange(2**31)}))
        else:
            out.append(("/api/marginals", {"evidence": evidence, "do": do}))
    if repeat > 0:
        again = random.Random(seed + 1)
        for i in range(1, len(out)):
            if again.random() < repeat:
                out[i] = out[again.randrange(i)]
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


class LeanConnection:
    """A keep-alive HTTP/1.1 connection that sends JSON POSTs and reads ``Content-Length``
    bodies, and nothing else: a load generator that takes a small share of the CPUs it shares
    with the server (httpx takes about 2 ms of CPU per request, as much as a query's
    computation)."""

    def __init__(self, base: str):
        host, _, port = base.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
        self.writer.write(head.encode("latin-1") + body)
        try:
            lines = (await self.reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
            status = int(lines[0].split()[1])
            headers = dict(line.split(b":", 1) for line in lines[1:] if b":" in line)
            length = int(headers[next(k for k in headers if k.lower() == b"content-length")])
            payload = await self.reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError, StopIteration, ValueError):
            await self.close()
            raise
        if any(k.lower() == b"connection" and v.strip().lower() == b"close"
               for k, v in headers.items()):
            await self.close()
        return status, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def run_load(base: str, requests: list[tuple[str, dict]], *, clients: int,
                   timeout: float, lean: bool = True) -> dict:
    """Send ``requests`` from ``clients`` concurrent clients (lean ones, or httpx); latencies
    and errors."""
    queue: asyncio.Queue = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    statuses: Counter = Counter()

    async def client() -> None:
        async with contextlib.AsyncExitStack() as stack:
            if lean:
                connection = LeanConnection(base)
                stack.push_async_callback(connection.close)
            else:
                http = await stack.enter_async_context(
                    httpx.AsyncClient(base_url=base, timeout=timeout))
            while True:
                try:
                    path, body = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                data = json.dumps(body).encode("utf-8")
                begun = time.perf_counter()
                try:
                    if lean:
                        status, content = await asyncio.wait_for(connection.post(path, data),
                                                                 timeout)
                    else:
                        r = await http.post(path, content=data,
                                            headers={"content-type": "application/json"})
                        status, content = r.status_code, r.content
                except (httpx.HTTPError, OSError, asyncio.IncompleteReadError, TimeoutError,
                        ValueError, StopIteration) as exc:
                    errors.append(f"{path}: {type(exc).__name__}: {exc}")
                    statuses["transport error"] += 1
                    if lean:
                        await connection.close()
                    continue
                latencies[path].append(time.perf_counter() - begun)
                statuses[status] += 1
                if status != 200:
                    errors.append(f"{path} {json.dumps(body)} -> {status} "
                                  f"{content[:200].decode('utf-8', 'replace')}")
                    continue
                problem = check(path, json.loads(content))
                if problem:
                    errors.append(f"{path} {json.dumps(body)}: {problem}")

    begun = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - begun
    return {"wall_seconds": wall, "latencies": latencies, "errors": errors,
            "statuses": {str(k): v for k, v in statuses.items()}}


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of process ``pid`` and its live child processes (the server's
    worker processes), in seconds; default: this process."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    total = 0.0
    for child in _process_tree(pid):
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # it has just exited
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _process_tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


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
def measure(args: argparse.Namespace, mix: dict[str, float], *, tree: Path | None = None,
            plain: bool = False, requests: list[tuple[str, dict]] | None = None) -> dict:
    """One server (this tree's, or ``tree``'s) under the load; its figures, and the requests
    (planned on this server when not given)."""
    proc, base = start_server(workers=args.workers, timeout=args.timeout, network=args.network,
                              server=args.server, tree=tree, plain=plain,
                              extra=() if tree is not None else tuple(args.serve_option))
    try:
        paths = httpx.get(f"{base}/openapi.json", timeout=30).json()["paths"]
        has_uncertainty = "/api/uncertainty" in paths
        if requests is None:
            requests = plan(args.requests, base=base, seed=args.seed, samples=args.samples,
                            mix=mix, has_uncertainty=has_uncertainty, repeat=args.repeat)
        # warm-up outside the measurement (first compilations, thread start); bodies that the
        # load does not send, so that no answer of the load is cached by it
        for path in sorted({p for p, _ in requests}):
            body = next(b for p, b in requests if p == path)
            httpx.post(f"{base}{path}", json={**body, "context": "prior", "evidence": {},
                                              "do": {}}, timeout=args.timeout + 5)
        server_cpu, client_cpu = cpu_seconds(proc.pid), cpu_seconds()
        result = asyncio.run(run_load(base, requests, clients=args.clients,
                                      timeout=args.timeout + 5, lean=args.client == "lean"))
        server_cpu, client_cpu = cpu_seconds(proc.pid) - server_cpu, cpu_seconds() - client_cpu
        alive = httpx.get(f"{base}/api/health", timeout=10).status_code == 200
    finally:
        stop_server(proc)
    every = [x for values in result["latencies"].values() for x in values]
    n = max(len(every), 1)
    return {
        "tree": str(tree) if tree is not None else "this one",
        "event_loop_and_parser": "asyncio + h11 (pure Python)" if plain else "uvicorn's choice",
        "uncertainty_endpoint": "/api/uncertainty" if has_uncertainty
        else "absent: /api/marginals instead",
        "errors": len(result["errors"]),
        "statuses": result["statuses"],
        "wall_seconds": result["wall_seconds"],
        "throughput_rps": len(every) / result["wall_seconds"],
        "server_cpu_ms_per_request": 1000 * server_cpu / n,
        "client_cpu_ms_per_request": 1000 * client_cpu / n,
        "load_average_1min_after": os.getloadavg()[0],
        "overall": summary(every),
        "endpoints": {path: summary(values)
                      for path, values in sorted(result["latencies"].items())},
        "server_alive_after": alive,
        "first_errors": result["errors"][:5],
        "requests_sent": requests,
    }


def show(run: dict) -> None:
    print(f"{'endpoint':<18} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8}")
    for path, s in [*run["endpoints"].items(), ("all", run["overall"])]:
        print(f"{path:<18} {s['requests']:>8} {s['p50_ms']:>8.1f} {s['p95_ms']:>8.1f} "
              f"{s['p99_ms']:>8.1f} {s['max_ms']:>8.1f}")
    print(f"throughput: {run['throughput_rps']:.1f} requests/s over {run['wall_seconds']:.1f} s; "
          f"CPU per request: server {run['server_cpu_ms_per_request']:.2f} ms, this client "
          f"{run['client_cpu_ms_per_request']:.2f} ms; errors: {run['errors']}; statuses: "
          f"{run['statuses']}; server alive after: {run['server_alive_after']}; load average "
          f"{run['load_average_1min_after']:.1f}")
    for line in run["first_errors"]:
        print(f"  error: {line}")


def ratios(now: dict, before: dict) -> dict:
    """Each figure now against its baseline: above 1 is better now (throughput now / before;
    latencies and CPU per request before / now)."""
    out = {"throughput": now["throughput_rps"] / before["throughput_rps"],
           "server_cpu_per_request": before["server_cpu_ms_per_request"]
           / now["server_cpu_ms_per_request"]}
    for q in ("p50_ms", "p95_ms", "p99_ms"):
        out[f"all {q[:3]}"] = before["overall"][q] / now["overall"][q]
    for path, s in now["endpoints"].items():
        if path in before["endpoints"]:
            out[f"{path} p50"] = before["endpoints"][path]["p50_ms"] / s["p50_ms"]
    return out


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
    parser.add_argument("--repeat", type=float, default=0.0,
                        help="share of requests that repeat an earlier one (default 0: all new)")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="the server's time limit per request, seconds")
    parser.add_argument("--network", default=None, help="network to serve (default: bundled)")
    parser.add_argument("--server", choices=["gmnet", "uvicorn"], default="gmnet",
                        help="start it with `gmnet serve` (default) or uvicorn's command line")
    parser.add_argument("--client", choices=["lean", "httpx"], default="lean",
                        help="the load's clients: a minimal HTTP/1.1 client (default: little "
                        "CPU taken from the server) or httpx")
    parser.add_argument("--baseline", metavar="TREE", type=Path, default=None,
                        help="also measure the server of this gmnet source tree (pure-Python "
                        "event loop and HTTP parser) on the same requests, and print ratios")
    parser.add_argument("--baseline-same-loop", action="store_true",
                        help="run the baseline's server on the same event loop and HTTP parser "
                        "as this tree's (uvloop and httptools where installed), for a baseline "
                        "that already ran on them")
    parser.add_argument("--serve-option", action="append", default=[], metavar="OPTION",
                        help="an option for this tree's `gmnet serve`, e.g. "
                        "--serve-option=--compute=threads (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.serve_option and args.server != "gmnet":
        parser.error("--serve-option needs --server gmnet")
    if not 1 <= args.requests <= 1_000_000 or not 1 <= args.clients <= 256:
        parser.error("--requests must be in [1, 1000000] and --clients in [1, 256]")
    if not 0 <= args.repeat < 1:
        parser.error(f"--repeat {args.repeat}: a share in [0, 1)")
    if args.baseline is not None and not (args.baseline / "gmnet" / "__init__.py").is_file():
        parser.error(f"--baseline {args.baseline}: not a gmnet source tree (no gmnet/__init__.py)")
    try:
        mix = {k.strip(): float(v) for k, v in (part.split("=") for part in args.mix.split(","))}
    except ValueError:
        parser.error(f"--mix {args.mix!r}: write it like query=0.6,compare=0.2,uncertainty=0.2")
    unknown = set(mix) - {"query", "compare", "uncertainty"}
    if unknown or sum(mix.values()) <= 0 or any(v < 0 for v in mix.values()):
        parser.error(f"--mix {args.mix!r}: kinds are query, compare, uncertainty with shares >= 0")

    load_before = os.getloadavg()[0]
    now = measure(args, mix)
    before = (measure(args, mix, tree=args.baseline.resolve(), plain=not args.baseline_same_loop,
                      requests=now["requests_sent"]) if args.baseline is not None else None)
    distinct = len({json.dumps(r, sort_keys=True) for r in now["requests_sent"]})
    for run in (now, before):
        if run is not None:
            run.pop("requests_sent")
    report = {
        "machine": {**machine(), "load_average_1min_before": load_before},
        "settings": {"server": args.server, "serve_options": args.serve_option,
                     "client": args.client,
                     "requests": args.requests, "clients": args.clients,
                     "server_workers": args.workers, "uncertainty_samples": args.samples,
                     "mix": mix, "seed": args.seed, "repeat": args.repeat,
                     "distinct_requests": distinct,
                     "uncertainty_endpoint": now["uncertainty_endpoint"]},
        **{k: v for k, v in now.items() if k != "uncertainty_endpoint"},
    }
    if before is not None:
        report["baseline"] = before
        report["ratios"] = ratios(now, before)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        m = report["machine"]
        print(f"machine: {m['cpus']} CPUs, {m['cpu']}; Python {m['python']}; load average "
              f"{load_before:.1f} before, {m['load_average_1min']:.1f} at the end (other "
              f"processes share the CPUs)")
        started = "gmnet serve" if args.server == "gmnet" else "uvicorn's command line"
        print(f"load: {args.requests} requests ({distinct} distinct) from {args.clients} "
              f"concurrent clients, server ({started}) with {args.workers} computing workers; "
              f"uncertainty: {report['settings']['uncertainty_endpoint']} ({args.samples} draws "
              f"each)")
        if before is not None:
            print(f"\nbaseline: {before['tree']}, {before['event_loop_and_parser']}")
            show(before)
            print("\nnow: this tree")
        show(now)
        if before is not None:
            print("\nratios (above 1: better now): " + ", ".join(
                f"{k} {v:.2f}x" for k, v in report["ratios"].items()))
    ok = all(run["errors"] == 0 and run["server_alive_after"]
             for run in (now, before) if run is not None)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
