"""Computing in worker processes, so that a server uses every core.

Python runs one thread at a time in a process, so a server whose event loop and computing
threads share one process uses about one core, however many the machine has. With
:class:`ComputeProcesses` the computing endpoints (:data:`gmnet.web.answers.ENDPOINTS`) run in
a few worker processes instead: each loads the server's networks itself (by the names or paths
the server was started with), and is sent only the endpoint's name and the validated request
as JSON, over a pipe of its own that the event loop reads directly (no thread in between); it
sends back the encoded body. Until a worker process has loaded the networks (a few seconds
after the server starts, or after one died), the server computes in its threads as without
them. The event loop's process checks names, keeps the cache of answers and the time limits:
a request still waiting for a free process when its time is up gets 503, one whose
computation runs past it gets 504 (the process finishes it unseen and is then free again), as
with threads. A worker process that dies is replaced; the request it held gets 503.

Worker processes are started (``spawn``, never ``fork``: the server has threads) when the app
starts, ignore Ctrl+C (the server stops them), and exit when the server closes their pipes.
Needs an event loop that can watch pipes (every loop on Linux and macOS; on Windows use
threads).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import pickle
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from gmnet.web.answers import ENDPOINTS, body_of
from gmnet.web.errors import ApiError

__all__ = ["ComputeProcesses"]

_SERVER: Any = None  # in a worker process: its own gmnet.web.server.Server


def _start(refs: list[str | None], timeout: float) -> None:
    """A worker process's start: load the networks (as the server did), compile them."""
    global _SERVER
    from gmnet.model.network import load_network
    from gmnet.web.server import Server

    networks = {}
    for ref in refs:
        net = load_network(ref)
        net.compiled  # noqa: B018 - compile now, not in a request
        networks[net.name] = net
    _SERVER = Server(networks, timeout, 1)
    _warm_up()


def _warm_up() -> None:
    """The page's first uncertainty question answered once before the worker says it is
    ready: what the first request would otherwise pay (importing numba and loading the
    compiled loops a run of the page's size uses, where an earlier run left them on disk;
    compiling the question's numpy programs) is paid at start, as the networks' compiling
    is. Its answer is thrown away; a failure here is left for the requests to meet. Skipped
    where the question is heavy (a large network's start is not held up)."""
    from gmnet.inference.batched import plan_query
    from gmnet.model.pert_kernel import load_if_numba_loaded
    from gmnet.web.describe import default_target

    try:
        net = _SERVER.default
        if plan_query(net, default_target(net)).draw_size * WARM_UP_DRAWS > WARM_UP_ENTRIES:
            return
        _work("uncertainty", f'{{"samples": {WARM_UP_DRAWS}, "seed": 0}}')
        # where that loaded numba (loops on disk), the PERT loop too: it then draws the
        # requests' 2,000-draw inputs (gmnet.model.pert_kernel)
        load_if_numba_loaded()
    except Exception:  # noqa: BLE001, S110 - the requests report whatever is wrong
        pass


#: The warm-up's draws (the page's default) and the most factor entries it may build.
WARM_UP_DRAWS = 2000
WARM_UP_ENTRIES = 20_000_000


def _work(name: str, text: str) -> bytes:
    """Endpoint ``name``'s body for the request whose JSON is ``text`` (in a worker)."""
    endpoint = ENDPOINTS[name]
    request = endpoint.request.model_validate_json(text)
    base, question = _SERVER.question_of(
        request, target=getattr(request, "target", None),
        state=getattr(request, "state", None), with_target=endpoint.with_target)
    return body_of(_SERVER, name, request, base.name, question)


def _serve(conn: Connection, refs: list[str | None], timeout: float) -> None:
    """A worker process: answer ``(name, text)`` messages until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the whole process group
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked at the start
    _start(refs, timeout)
    try:
        conn.send_bytes(pickle.dumps((True, b"ready")))
    except OSError:
        return
    while True:
        try:
            name, text = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        try:
            reply: tuple[bool, Any] = (True, _work(name, text))
        except Exception as exc:  # noqa: BLE001 - every error goes back to the request
            reply = (False, exc)
        try:
            data = pickle.dumps(reply)
        except Exception:  # noqa: BLE001 - an error that does not pickle
            data = pickle.dumps((False, RuntimeError(f"{type(reply[1]).__name__}: "
                                                     f"{reply[1]}")))
        try:
            conn.send_bytes(data)
        except OSError:
            return


@contextlib.contextmanager
def _no_interrupt():
    """SIGINT blocked in this thread meanwhile (a process started now inherits the block)."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()  # it unblocks SIGINT when it starts: start it first
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Connection
    job: asyncio.Future | None = None
    alive: bool = True
    ready: bool = False  # its networks loaded


class ComputeProcesses:
    """``count`` worker processes that compute the computing endpoints' answers.

    Parameters
    ----------
    refs
        The networks as the server was given them: bundled names or file paths (None: the
        bundled default), in order.
    count
        Worker processes.
    timeout
        The server's time limit of one computation.
    """

    def __init__(self, refs: list[str | Path | None], count: int, timeout: float):
        self.refs = [str(r) if isinstance(r, Path) else r for r in refs]
        self.count = count
        self.timeout = timeout
        self.workers: list[_Worker] = []
        self._idle: asyncio.Queue | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------------ processes
    def start(self) -> None:
        """Start the worker processes (in the running event loop), if not yet started."""
        loop = asyncio.get_running_loop()
        if self._loop is loop and self.workers:
            return
        self.shutdown()
        self._loop, self._idle = loop, asyncio.Queue()
        for _ in range(self.count):
            self._spawn()

    def _spawn(self) -> None:
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe(duplex=True)
        process = context.Process(target=_serve, args=(theirs, self.refs, self.timeout),
                                  name="gmnet-web-compute", daemon=True)
        with _no_interrupt():  # the child starts with Ctrl+C blocked (no traceback mid-import)
            process.start()
        theirs.close()
        worker = _Worker(process, ours)
        self.workers.append(worker)
        self._loop.add_reader(ours.fileno(), self._readable, worker)

    def ready(self) -> int:
        """How many worker processes have loaded their networks and take requests."""
        return sum(w.ready and w.alive for w in self.workers)

    def pids(self) -> list[int]:
        """The worker processes' ids (those alive)."""
        return [w.process.pid for w in self.workers if w.alive]

    def _readable(self, worker: _Worker) -> None:
        try:
            ok, value = pickle.loads(worker.conn.recv_bytes())
        except (EOFError, OSError, pickle.UnpicklingError):
            self._lost(worker)
            return
        if not worker.ready:  # its first message: networks loaded
            worker.ready = True
            self._idle.put_nowait(worker)
            return
        job, worker.job = worker.job, None
        if job is not None and not job.done():
            job.set_result((ok, value))
        self._idle.put_nowait(worker)  # free again (also after a reply nobody waited for)

    def _lost(self, worker: _Worker) -> None:
        """A worker process died: its request gets 503, a new process takes its place."""
        if not worker.alive:
            return
        worker.alive = False
        self._close(worker)
        self.workers.remove(worker)
        if worker.job is not None and not worker.job.done():
            worker.job.set_exception(ApiError(
                503, "a computing process stopped while answering; try again shortly"))
        self._spawn()

    def _close(self, worker: _Worker) -> None:
        with contextlib.suppress(Exception):
            self._loop.remove_reader(worker.conn.fileno())
        with contextlib.suppress(OSError):
            worker.conn.close()

    def shutdown(self) -> None:
        """Stop every worker process (closing its pipe ends it; a busy one is terminated)."""
        workers, self.workers = self.workers, []
        for worker in workers:
            worker.alive = False
            self._close(worker)
        end = time.monotonic() + 1.0  # a second in all for them to see their pipes close
        for worker in workers:
            worker.process.join(timeout=max(end - time.monotonic(), 0))
        for worker in workers:
            if worker.process.is_alive():  # busy, or still loading
                worker.process.terminate()
                worker.process.join(timeout=1)

    # ------------------------------------------------------------------ requests
    async def run(self, timeout: float, name: str, text: str) -> bytes:
        """Endpoint ``name``'s body for request JSON ``text``, within ``timeout`` seconds."""
        self.start()
        loop = self._loop
        deadline = loop.time() + timeout
        while True:
            try:
                worker = await asyncio.wait_for(self._idle.get(),
                                                timeout=max(deadline - loop.time(), 0))
            except TimeoutError:
                raise ApiError(503, f"the server is busy: no worker was free within "
                               f"{timeout:g} s; try again shortly") from None
            if worker.alive:
                break
        job = loop.create_future()
        worker.job = job
        try:
            worker.conn.send_bytes(pickle.dumps((name, text)))
        except OSError:
            self._lost(worker)
            raise ApiError(503, "a computing process stopped; try again shortly") from None
        try:
            ok, value = await asyncio.wait_for(asyncio.shield(job),
                                               timeout=max(deadline - loop.time(), 0.001))
        except TimeoutError:
            if worker.job is job:
                worker.job = None  # its reply, when it comes, only frees the worker
            raise ApiError(504, f"the computation took longer than the time limit of "
                           f"{timeout:g} s; ask for fewer samples") from None
        if ok:
            return value
        raise value
