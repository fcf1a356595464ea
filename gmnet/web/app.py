"""The local web app: a JSON API over gmnet's library functions and one page that uses it.

Build the app with :func:`create_app`; ``gmnet serve`` runs it on uvicorn, bound to loopback.
The app is put together from modules of one job each:

- :mod:`gmnet.web.routes`, :mod:`gmnet.web.why`, :mod:`gmnet.web.decisions`: the endpoints,
  each a thin layer (validate the request, call one library function, return its result);
- :mod:`gmnet.web.server`: the server state (the networks, resolved questions, the thread pool
  and its time limit);
- :mod:`gmnet.web.errors`: errors as JSON ``{"error": ..., "field": ...}``;
- :mod:`gmnet.web.guards`: the byte limit of request bodies, the Host check, security headers.

Limits that keep it responsive and safe:

- only the networks the server was started with (a client names one; it never sends a path);
- sample counts capped (:data:`gmnet.web.models.MAX_SAMPLES`), request bodies capped in bytes;
- computations run in a small thread pool (or, with ``compute="processes"``, the computing
  endpoints in a pool of worker processes, :mod:`gmnet.web.processes`, so that every core
  works) with a time limit per request: a request still waiting for a worker when its time is
  up gets 503, one whose computation runs past it gets 504, and other requests go on (the
  event loop never computes);
- answers are kept in a bounded cache (:mod:`gmnet.web.cache`): the same request is answered
  again with the same bytes, without computing;
- a Host-header check (against DNS rebinding), no CORS headers, a strict Content-Security-Policy;
  the interactive docs pages (which load scripts from a CDN) are off, the schema is at
  ``/openapi.json``.

Errors are JSON ``{"error": ..., "field": ...}``: 422 for a request that does not validate
(unknown variable or state, wrong type, sample count over the cap, impossible evidence, a query
that does not parse), 404 for an unknown network, scenario or worldview, 400 for other invalid
arguments, 413 for an oversized body, 503/504 as above.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from gmnet._version import __version__
from gmnet.errors import InvalidArgumentError
from gmnet.model.network import Network, load_network
from gmnet.web.cache import DEFAULT_CACHE_BYTES, DEFAULT_CACHE_ENTRIES, ResponseCache
from gmnet.web.decisions import router as decisions_router
from gmnet.web.errors import ERROR_RESPONSES, install_handlers
from gmnet.web.guards import LOOPBACK_HOSTS, MAX_BODY_BYTES, BodyLimit, Guard
from gmnet.web.processes import ComputeProcesses
from gmnet.web.routes import STATIC_DIR, install_routes
from gmnet.web.server import Server
from gmnet.web.why import router as why_router

__all__ = ["create_app", "DEFAULT_TIMEOUT", "MAX_BODY_BYTES", "LOOPBACK_HOSTS", "COMPUTE"]

DEFAULT_TIMEOUT = 30.0
#: Where the computing endpoints compute: threads of the server's process, or worker processes.
COMPUTE = ("threads", "processes")


def create_app(networks: Sequence[str | Path | Network] | None = None, *,
               timeout: float = DEFAULT_TIMEOUT, workers: int = 2,
               max_body_bytes: int = MAX_BODY_BYTES,
               allowed_hosts: Sequence[str] | None = LOOPBACK_HOSTS,
               compute: str = "threads", cache_entries: int = DEFAULT_CACHE_ENTRIES,
               cache_bytes: int = DEFAULT_CACHE_BYTES) -> FastAPI:
    """The gmnet web app (a FastAPI application).

    Parameters
    ----------
    networks
        The networks a client may use: bundled names, file paths or loaded networks (default: the
        bundled goal-misgeneralization network). The first is the default. Clients refer to them
        by name only.
    timeout
        Time limit of one request's computation, in seconds.
    workers
        Threads (or processes) that compute; requests beyond them wait (within the time
        limit).
    max_body_bytes
        The largest request body accepted.
    allowed_hosts
        Host header values accepted (loopback by default; ``None`` accepts any).
    compute
        ``"threads"`` (default): every computation in the server's thread pool.
        ``"processes"``: the computing endpoints (query, marginals, compare, uncertainty,
        sensitivity, diagram) in ``workers`` worker processes, which load the networks
        themselves (so ``networks`` must be names or paths); the rest in threads.
    cache_entries, cache_bytes
        Bounds of the cache of answers (0 entries: no cache).

    Returns
    -------
    fastapi.FastAPI

    Examples
    --------
    >>> from fastapi.testclient import TestClient
    >>> client = TestClient(create_app(), base_url="http://127.0.0.1")
    >>> client.post("/api/query", json={"do": {"shift_type": "extreme"}}).json()["target"]
    'harm'
    """
    if not timeout > 0:
        raise InvalidArgumentError(f"timeout must be a positive number of seconds, got {timeout}")
    if int(workers) < 1:
        raise InvalidArgumentError(f"workers must be at least 1, got {workers}")
    if compute not in COMPUTE:
        raise InvalidArgumentError(f"compute must be one of {', '.join(COMPUTE)}, got "
                                   f"{compute!r}")
    refs = list(networks or [None])
    if compute == "processes" and any(isinstance(r, Network) for r in refs):
        raise InvalidArgumentError("compute='processes' needs the networks by name or path "
                                   "(each worker process loads them), not loaded networks")
    loaded: dict[str, Network] = {}
    for ref in refs:
        net = ref if isinstance(ref, Network) else load_network(ref)
        if net.name in loaded:
            raise InvalidArgumentError(f"two networks are named {net.name!r}; give each once")
        net.compiled  # noqa: B018 - compile now, not in a request
        loaded[net.name] = net
    server = Server(loaded, float(timeout), int(workers),
                    answers=ResponseCache(int(cache_entries), int(cache_bytes)))
    if compute == "processes":
        server.processes = ComputeProcesses(refs, int(workers), float(timeout))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        if server.processes is not None:
            server.processes.start()  # the workers load the networks while the server starts
        yield
        server.shutdown()

    app = FastAPI(
        title="gmnet",
        version=__version__,
        description="What-if questions to the goal-misgeneralization Bayesian network: exact "
        "conditional and interventional queries, mitigations, uncertainty, sensitivity.",
        docs_url=None, redoc_url=None, openapi_url="/openapi.json",
        responses=ERROR_RESPONSES,
        lifespan=lifespan,
    )
    app.state.gmnet = server
    install_handlers(app)
    install_routes(app, server)
    app.include_router(why_router)  # soft evidence, counterfactuals, explanations (issue 19)
    app.include_router(decisions_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.add_middleware(Guard, allowed_hosts=allowed_hosts)
    app.add_middleware(BodyLimit, limit=int(max_body_bytes))
    return app
