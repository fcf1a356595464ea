"""Computing in worker processes, so that a server uses every core.

Python runs one thread at a time in a process, so a server whose event loop and computing
threads share one process uses about one core, however many the machine has. With
:class:`ComputeProcesses` the computing endpoints (:data:`gmnet.web.answers.ENDPOINTS`) run in
a small pool of worker processes instead: each loads the server's networks itself (by the
names or paths the server was started with), and is sent only the endpoint's name and the
validated request as JSON; it sends back the encoded body. The event loop's process checks
names, keeps the cache of answers and the time limits: a request still waiting for a process
when its time is up gets 503, one whose computation runs past it gets 504 (the process
finishes it unseen), as with threads. A worker process that dies is replaced; the requests it
held get 503.

Worker processes are started (``spawn``, never ``fork``: the server has threads) when the app
starts, ignore Ctrl+C (the server stops them), and exit with the server.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from gmnet.web.answers import ENDPOINTS, body_of
from gmnet.web.errors import ApiError

__all__ = ["ComputeProcesses"]

_SERVER: Any = None  # in a worker process: its own gmnet.web.server.Server


def _start(refs: list[str | None], timeout: float) -> None:
    """A worker process's start: load the networks (as the server did), compile them."""
    global _SERVER
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the whole process group
    from gmnet.model.network import load_network
    from gmnet.web.server import Server

    networks = {}
    for ref in refs:
        net = load_network(ref)
        net.compiled  # noqa: B018 - compile now, not in a request
        networks[net.name] = net
    _SERVER = Server(networks, timeout, 1)


def _ready() -> int:
    return os.getpid()


def _work(name: str, text: str) -> bytes:
    """Endpoint ``name``'s body for the request whose JSON is ``text`` (in a worker)."""
    endpoint = ENDPOINTS[name]
    request = endpoint.request.model_validate_json(text)
    base, question = _SERVER.question_of(
        request, target=getattr(request, "target", None),
        state=getattr(request, "state", None), with_target=endpoint.with_target)
    return body_of(_SERVER, name, request, base.name, question)


class ComputeProcesses:
    """A pool of ``count`` worker processes that compute the computing endpoints' answers.

    Parameters
    ----------
    refs
        The networks as the server was given them: bundled names or file paths (None: the
        bundled default), in order.
    count
        Worker processes.
    timeout
        The server's time limit of one computation (also told to the workers' own checks).
    """

    def __init__(self, refs: list[str | Path | None], count: int, timeout: float):
        self.refs = [str(r) if isinstance(r, Path) else r for r in refs]
        self.count = count
        self.timeout = timeout
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def start(self) -> ProcessPoolExecutor:
        """The pool (started now if it is not running), each worker asked to start."""
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.count, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start, initargs=(self.refs, self.timeout))
                for _ in range(self.count):
                    self._executor.submit(_ready)
            return self._executor

    def _lost(self, executor: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    async def run(self, timeout: float, name: str, text: str) -> bytes:
        """Endpoint ``name``'s body for request JSON ``text``, within ``timeout`` seconds."""
        executor = self.start()
        try:
            future = executor.submit(_work, name, text)
        except (BrokenProcessPool, RuntimeError):
            self._lost(executor)
            raise ApiError(503, "a computing process stopped; try again shortly") from None
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout=timeout)
        except TimeoutError:
            if future.cancelled() or not future.running():  # never reached a process
                raise ApiError(503, f"the server is busy: no worker was free within "
                               f"{timeout:g} s; try again shortly") from None
            raise ApiError(504, f"the computation took longer than the time limit of "
                           f"{timeout:g} s; ask for fewer samples") from None
        except BrokenProcessPool:
            self._lost(executor)
            raise ApiError(503, "a computing process stopped while answering; try again "
                           "shortly") from None
