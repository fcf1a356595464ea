"""The web app's server state: the networks it serves, resolved questions, the thread pool.

:class:`Server` (held as ``app.state.gmnet``) checks a request's names against its network,
resolves the request as a :class:`gmnet.model.question.Question` by
:func:`gmnet.analysis.ask.resolve` (cached per question: a new combination compiles a network)
and runs computations in a small thread pool with a time limit: a request still waiting for a
worker when its time is up gets 503, one whose computation runs past it gets 504, and other
requests go on (the event loop never computes). :class:`Asked` is a request so resolved.

:meth:`Server.respond` is the fast path of the computing endpoints: the names are checked on
the event loop, then one job in the pool resolves, computes and encodes the JSON body, which
is kept in a bounded cache of answers (:mod:`gmnet.web.cache`) and served again, without
touching the pool, to the same request.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

from gmnet.analysis.ask import Resolved, resolve
from gmnet.analysis.audit import audit as audit_network
from gmnet.errors import GmnetError, UnknownNameError
from gmnet.model.network import Network
from gmnet.model.question import Question
from gmnet.web.answers import ENDPOINTS, body_of
from gmnet.web.asked import Asked
from gmnet.web.cache import ResponseCache
from gmnet.web.describe import default_target
from gmnet.web.errors import ApiError, blame, field_of_question, message_of, status_of
from gmnet.web.models import Situation

__all__ = ["Server", "Asked"]

_CACHE_SIZE = 32


@dataclass
class Server:
    """The networks served (by name; the first is the default), the time limit of one
    computation in seconds, and the number of computing threads."""

    networks: dict[str, Network]
    timeout: float
    workers: int
    cache: dict[tuple, Any] = field(default_factory=dict)  # resolved questions, audits
    answers: ResponseCache = field(default_factory=ResponseCache)  # encoded response bodies
    processes: Any = None  # a gmnet.web.processes.ComputeProcesses, or None: threads compute
    lock: threading.Lock = field(default_factory=threading.Lock)
    _executor: ThreadPoolExecutor | None = None

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The computing threads (started on first use, stopped when the app shuts down)."""
        with self.lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.workers,
                                                    thread_name_prefix="gmnet-web")
            return self._executor

    def shutdown(self) -> None:
        with self.lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        if self.processes is not None:
            self.processes.shutdown()

    @property
    def default(self) -> Network:
        return next(iter(self.networks.values()))

    # ------------------------------------------------------------------ networks
    def network(self, name: str | None) -> Network:
        if name is None:
            return self.default
        if name not in self.networks:
            raise ApiError(404, str(UnknownNameError("network", name, list(self.networks),
                                                     context="(this server was started with)")),
                           "network")
        return self.networks[name]

    def question_of(self, request: Situation, *, target: str | None = None,
                    state: str | None = None,
                    with_target: bool = False) -> tuple[Network, Question]:
        """The request's network and its :class:`Question`, every name checked (422 / 404
        naming the field otherwise); cheap, so it runs on the event loop."""
        base = self.network(request.network)
        if with_target:
            target, state = _target(base, target, state)
        else:
            target, state = default_target(base), None
        for kind, assignments in (("evidence", request.evidence), ("do", request.do)):
            for var, value in assignments.items():
                with blame(f"{kind}.{var}"):
                    if var not in base.variables:
                        raise UnknownNameError("variable", var, base.variables,
                                               context=f"in {'do()' if kind == 'do' else kind}")
                    base.check_state(var, value)
        both = sorted(set(request.evidence) & set(request.do))
        if both:
            raise ApiError(422, f"{both[0]} is both observed (evidence) and intervened on (do); "
                           "give it in one of them", f"do.{both[0]}")
        question = Question(target, state, dict(request.evidence), dict(request.do),
                            tuple(request.scenario), request.worldview, request.context,
                            dict(request.parameters), dict(request.fixed_unknowns))
        return base, question

    async def resolve(self, request: Situation, *, target: str | None = None,
                      state: str | None = None, with_target: bool = False) -> Asked:
        """The request as a :class:`Question`, resolved by :func:`gmnet.analysis.ask.resolve`
        (the path every surface takes; in the thread pool: a new combination compiles a
        network, so resolutions are cached)."""
        base, question = self.question_of(request, target=target, state=state,
                                          with_target=with_target)
        resolved = await self.run(self.resolved, base.name, question)
        return Asked(resolved)

    async def respond(self, name: str, request: Situation) -> Response:
        """The response of computing endpoint ``name`` (:data:`gmnet.web.answers.ENDPOINTS`)
        to ``request``: from the cache of answers if the same request was answered before,
        else one job (in a worker process if there are any ready, else in the thread pool) that
        resolves the question, computes and encodes the body, which is then kept.

        A library error is reported with the request field it names, as by :meth:`ask`."""
        endpoint = ENDPOINTS[name]
        base, question = self.question_of(
            request, target=getattr(request, "target", None),
            state=getattr(request, "state", None), with_target=endpoint.with_target)
        text = request.model_dump_json()
        key = (name, base.name, text)
        body = self.answers.get(key)
        if body is None:
            if self.processes is not None:
                self.processes.start()
            if self.processes is not None and self.processes.ready():
                body = await self.processes.run(self.timeout, name, text)
            else:
                body = await self.run(body_of, self, name, request, base.name, question)
            self.answers.put(key, body)
        return Response(body, media_type=endpoint.media_type)

    def resolved(self, name: str, question: Question) -> Resolved:
        """``question`` resolved on network ``name`` (cached: networks are never changed)."""
        key = ("question", name, question.key())
        with self.lock:
            if key in self.cache:
                self.cache[key] = self.cache.pop(key)  # most recently used last
                return self.cache[key]
        try:
            resolved = resolve(self.networks[name], question)
        except GmnetError as exc:
            raise ApiError(status_of(exc), message_of(exc),
                           field_of_question(exc, question)) from exc
        resolved.network.compiled  # noqa: B018 - compile once, here
        with self.lock:
            self.cache[key] = resolved
            while len(self.cache) > _CACHE_SIZE:
                self.cache.pop(next(iter(self.cache)))
        return resolved

    def audit(self, name: str, worldview: str | None):
        """The audit of network ``name`` under ``worldview`` (cached: it is deterministic)."""
        key = ("audit", name, worldview)
        with self.lock:
            if key in self.cache:
                return self.cache[key]
        net = self.networks[name]
        applied = self.resolved(name, Question(default_target(net), None, {}, {}, (), worldview,
                                               "prior")).network  # nothing held
        report = audit_network(applied)
        with self.lock:
            self.cache[key] = report
        return report

    # ------------------------------------------------------------------ the thread pool
    async def ask(self, situation: Asked, func: Callable[..., Any], *args: Any,
                  **kwargs: Any) -> Any:
        """:meth:`run`, reporting a library error with the request field it names, if any."""
        try:
            return await self.run(func, *args, **kwargs)
        except GmnetError as exc:
            raise ApiError(status_of(exc), message_of(exc),
                           field_of_question(exc, situation.question)) from exc

    async def run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``func(*args, **kwargs)`` in the pool, within the time limit (503 / 504 otherwise)."""
        begun = threading.Event()

        def call() -> Any:
            begun.set()
            return func(*args, **kwargs)

        future = self.executor.submit(call)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout=self.timeout)
        except TimeoutError:
            future.cancel()  # a job still queued never starts; a running one finishes unseen
            if not begun.is_set():
                raise ApiError(503, f"the server is busy: no worker was free within "
                               f"{self.timeout:g} s; try again shortly") from None
            raise ApiError(504, f"the computation took longer than the time limit of "
                           f"{self.timeout:g} s; ask for fewer samples") from None




def _target(net: Network, target: str | None, state: str | None) -> tuple[str, str]:
    if target is None:
        target = default_target(net)
    with blame("target"):
        if target not in net.variables:
            raise UnknownNameError("variable", target, net.variables, context="as target")
    if state is None:
        states = net.states(target)
        state = "yes" if "yes" in states else states[0]
    with blame("state"):
        net.check_state(target, state)
    return target, state
