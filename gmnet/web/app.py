"""The local web app: a JSON API over gmnet's library functions and one page that uses it.

Every endpoint is a thin layer: validate the request (pydantic models in
:mod:`gmnet.web.models`, then names against the network), call one library function, return its
result (``to_dict()`` where the result is an object). Build the app with :func:`create_app`;
``gmnet serve`` runs it on uvicorn, bound to loopback.

Limits that keep it responsive and safe:

- only the networks the server was started with (a client names one; it never sends a path);
- sample counts capped (:data:`gmnet.web.models.MAX_SAMPLES`), request bodies capped in bytes;
- computations run in a small thread pool with a time limit per request: a request still waiting
  for a worker when its time is up gets 503, one whose computation runs past it gets 504, and
  other requests go on (the event loop never computes);
- a Host-header check (against DNS rebinding), no CORS headers, a strict Content-Security-Policy;
  the interactive docs pages (which load scripts from a CDN) are off, the schema is at
  ``/openapi.json``.

Errors are JSON ``{"error": ..., "field": ...}``: 422 for a request that does not validate
(unknown variable or state, wrong type, sample count over the cap, impossible evidence, a query
that does not parse), 404 for an unknown network, scenario or worldview, 400 for other invalid
arguments, 413 for an oversized body, 503/504 as above.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from gmnet._version import __version__
from gmnet.analysis.ask import Resolved, answer, resolve
from gmnet.analysis.unknowns import drawn_unknowns
from gmnet.errors import (
    GmnetError,
    ImpossibleEvidenceError,
    InvalidArgumentError,
    NetworkFileError,
    QuerySyntaxError,
    UnknownNameError,
    clip_message,
)
from gmnet.io.jsonsafe import json_safe
from gmnet.model.network import Network, load_network
from gmnet.model.question import Question
from gmnet.web.decisions import router as decisions_router
from gmnet.web.models import (
    CompareRequest,
    DiagramRequest,
    ErrorBody,
    MarginalsResponse,
    Name,
    NetworkDescription,
    NetworkSummary,
    QueryRequest,
    QueryResponse,
    SensitivityRequest,
    Situation,
    UncertaintyRequest,
)
from gmnet.web.why import router as why_router

__all__ = ["create_app", "ApiError", "DEFAULT_TIMEOUT", "MAX_BODY_BYTES", "LOOPBACK_HOSTS"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
DEFAULT_TIMEOUT = 30.0
MAX_BODY_BYTES = 64 * 1024
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_CACHE_SIZE = 32
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'")
NetworkParam = Annotated[Name | None, Query(description="One of the networks this server was "
                                        "started with (default: the first).")]
WorldviewParam = Annotated[Name | None, Query(description="A worldview (GET /api/worldviews).")]
ScenarioParam = Annotated[list[Name] | None, Query(description="Scenarios to apply "
                                                   "(repeat the parameter to combine).")]
_ERRORS = {code: {"model": ErrorBody} for code in (400, 404, 413, 422, 503, 504)}


class ApiError(Exception):
    """An error the API reports as JSON: HTTP status, message, and the request field at fault."""

    def __init__(self, status: int, message: str, field: str | None = None,
                 detail: Any = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.detail = detail

    def body(self) -> dict:
        out: dict[str, Any] = {"error": self.message, "field": self.field}
        if self.detail is not None:
            out["detail"] = self.detail
        return out


def _status_of(exc: GmnetError) -> int:
    if type(exc).__name__ == "DotNotFoundError":  # no Graphviz here: not the client's fault
        return 503
    if isinstance(exc, UnknownNameError):
        return 404 if exc.kind in ("network", "network file", "scenario", "worldview") else 422
    if isinstance(exc, QuerySyntaxError | ImpossibleEvidenceError):
        return 422
    if isinstance(exc, NetworkFileError):
        return 422
    return 400


def _message_of(exc: GmnetError) -> str:
    if isinstance(exc, NetworkFileError):
        return clip_message(exc.one_line())
    return clip_message(str(exc))


def _malformed_body(errors: Sequence[Mapping[str, Any]]) -> str | None:
    """What is wrong with a request body that is not a JSON object at all (syntax error,
    another JSON type, an empty body), or None for an object whose fields are wrong."""
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            ctx = error.get("ctx") or {}
            reason = ctx.get("error") or "JSON decode error"
            return clip_message(f"the request body is not valid JSON ({reason}, at character "
                                f"{loc[1] if len(loc) > 1 else 0}); send one JSON object")
        if loc == ("body",):
            got = error.get("input")
            kind = {list: "an array", str: "a string", int: "a number", float: "a number",
                    bool: "true or false", type(None): "null or nothing"}.get(type(got))
            if error.get("type") == "missing":
                kind = "nothing"
            return (f"the request body must be a JSON object (with Content-Type: "
                    f"application/json), got {kind or 'something else'}")
    return None


@contextlib.contextmanager
def blame(field_name: str | None) -> Iterator[None]:
    """Report a GmnetError raised inside the block as an ApiError naming ``field_name``."""
    try:
        yield
    except ApiError:
        raise
    except GmnetError as exc:
        raise ApiError(_status_of(exc), _message_of(exc), field_name) from exc


# ============================================================================ the state
@dataclass
class _Situation:
    """A request's question resolved against the network (the Question path)."""

    resolved: Resolved

    @property
    def network(self) -> Network:
        return self.resolved.network

    @property
    def evidence(self) -> dict[str, str]:
        return self.resolved.evidence

    @property
    def do(self) -> dict[str, str]:
        return self.resolved.do

    @property
    def question(self) -> Question:
        return self.resolved.question

    @property
    def target(self) -> str:
        return self.question.target

    @property
    def state(self) -> str:
        return self.question.state or ""

    @property
    def scenario(self) -> list[str]:
        return list(self.question.scenarios)

    @property
    def worldview(self) -> str | None:
        return self.question.worldview

    def parsed(self) -> Question:
        """The question as computed: its evidence (the scenarios' included) and do() (what the
        context policy held included)."""
        return self.question.replace(evidence=self.evidence, do=self.do)

    def echo(self) -> dict[str, Any]:
        p = self.resolved.provenance()
        return {"network": p["network"], "evidence": p["evidence"], "do": p["do"],
                "scenario": p["scenario"], "worldview": self.worldview, "context": p["context"],
                "held": p["held"], "assumptions": p["assumptions"]}


@dataclass
class _Server:
    networks: dict[str, Network]
    timeout: float
    workers: int
    started: float = field(default_factory=time.monotonic)
    cache: dict[tuple, Any] = field(default_factory=dict)  # applied networks, audits
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

    async def resolve(self, request: Situation, *, target: str | None = None,
                      state: str | None = None, with_target: bool = False) -> _Situation:
        """The request as a :class:`Question`, resolved by :func:`gmnet.analysis.ask.resolve`
        (the path every surface takes; in the thread pool: a new combination compiles a
        network, so resolutions are cached)."""
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
        resolved = await self.run(self.resolved, base.name, question)
        return _Situation(resolved)

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
            raise ApiError(_status_of(exc), _message_of(exc),
                           _field_of_question(exc, question)) from exc
        resolved.network.compiled  # noqa: B018 - compile once, here
        with self.lock:
            self.cache[key] = resolved
            while len(self.cache) > _CACHE_SIZE:
                self.cache.pop(next(iter(self.cache)))
        return resolved

    def applied(self, name: str, worldview: str | None,
                scenarios: tuple[str, ...]) -> tuple[Network, dict[str, str]]:
        """Network ``name`` under ``worldview`` and ``scenarios`` (nothing held), and the
        scenarios' evidence."""
        net = self.networks[name]
        r = self.resolved(name, Question(default_target(net), None, {}, {}, scenarios,
                                         worldview, "prior"))
        return r.network, r.scenario_evidence

    def audit(self, name: str, worldview: str | None):
        """The audit of network ``name`` under ``worldview`` (cached: it is deterministic)."""
        from gmnet.analysis.audit import audit

        key = ("audit", name, worldview)
        with self.lock:
            if key in self.cache:
                return self.cache[key]
        report = audit(self.applied(name, worldview, ())[0])
        with self.lock:
            self.cache[key] = report
        return report

    # ------------------------------------------------------------------ the thread pool
    async def ask(self, situation: _Situation, func: Callable[..., Any], *args: Any,
                  **kwargs: Any) -> Any:
        """:meth:`run`, reporting a library error with the request field it names, if any."""
        try:
            return await self.run(func, *args, **kwargs)
        except GmnetError as exc:
            raise ApiError(_status_of(exc), _message_of(exc),
                           _field_named(exc, situation)) from exc

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


_FIELD_OF_KIND = {"scenario": "scenario", "worldview": "worldview",
                  "critical unknown": "unknowns", "mitigation": "do"}


def _field_named(exc: GmnetError, situation: _Situation) -> str | None:
    """The request field a library error is about (see :func:`_field_of_question`)."""
    return _field_of_question(exc, situation.question)


def _field_of_question(exc: GmnetError, question: Question) -> str | None:
    """The request field a library error is about: by the kind of name it does not know, or
    the first evidence or do() variable its message names (the message says the rest)."""
    import re

    message = str(exc)
    if isinstance(exc, ImpossibleEvidenceError):
        return "evidence"
    if message.startswith("critical unknown") or (
            isinstance(exc, UnknownNameError) and exc.kind == "critical unknown"
            and any(k in message for k in question.unknowns)):
        return "fixed_unknowns"
    if isinstance(exc, UnknownNameError) and exc.kind in _FIELD_OF_KIND:
        return _FIELD_OF_KIND[exc.kind]
    if message.startswith(("scenario", "worldview")) and not any(
            message.startswith(f"evidence {v}=") for v in question.evidence):
        return "scenario" if message.startswith("scenario") else "worldview"
    if isinstance(exc, UnknownNameError) and exc.kind == "parameter":
        return "parameters"
    if message.startswith(("set ", "override of ")):
        return "parameters"
    found = []
    for kind, assignments in (("evidence", question.evidence), ("do", question.do)):
        for var in assignments:
            match = re.search(rf"(?<![A-Za-z0-9_]){re.escape(var)}(?![A-Za-z0-9_])", message)
            if match:
                found.append((match.start(), f"{kind}.{var}"))
    return min(found)[1] if found else None


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


def default_target(net: Network) -> str:
    """The node a page about ``net`` asks about first: ``harm``, else an outcome, else the last."""
    if "harm" in net.variables:
        return "harm"
    outcomes = [v for v in net.variables if net.node(v).role == "outcome"]
    return outcomes[-1] if outcomes else net.variables[-1]


# ============================================================================ descriptions
def describe_network(net: Network) -> dict[str, Any]:
    """Nodes (states, parents, role, CPT source, the parameters each uses) and every number."""
    from gmnet.analysis.whatif import neutral_context

    target = default_target(net)
    states = net.states(target)
    return {
        "name": net.name, "title": net.title, "description": net.description,
        "rule": net.rule, "default_target": target,
        "default_state": "yes" if "yes" in states else states[0],
        "neutral_context": neutral_context(net),
        "nodes": [_node_info(net, v) for v in net.variables],
        "parameters": [_parameter_info(net, p) for p in net.parameters.values()],
    }


def _node_info(net: Network, var: str) -> dict[str, Any]:
    node = net.node(var)
    groups = _groups_used(node)
    return {"name": var, "label": node.label or var, "description": node.description,
            "states": list(node.states), "parents": list(net.parents(var)),
            "phase": node.phase, "role": node.role, "cpt_kind": node.cpt.kind,
            "source": getattr(node.cpt, "source", None),
            "parameters": [p.name for p in net.parameters.values() if p.group in groups]}


def _groups_used(node) -> set[str]:
    from gmnet.model.expressions import names_used

    cpt = node.cpt
    texts: list[str] = []
    if cpt.kind in ("prior", "expression"):
        texts = [t for t in cpt.probabilities.values() if isinstance(t, str) and t != "rest"]
    elif cpt.kind == "calibrated_route":
        texts = [cpt.target, cpt.route]
        if isinstance(getattr(cpt, "route_share", None), str):
            texts.append(cpt.route_share)
    groups: set[str] = set()
    for text in texts:
        groups |= set(names_used(text))
    return groups


def _parameter_info(net: Network, p) -> dict[str, Any]:
    spec = net.spec.parameters.get(p.group) if hasattr(net.spec, "parameters") else None
    description = getattr(spec, "description", None) if spec is not None else None
    return {"name": p.name, "value": p.value,
            "range": None if p.low is None else [p.low, p.high], "source": p.source,
            "unit": p.unit, "assumption": p.is_assumption,
            "description": " ".join(description.split()) if description else None}


# ============================================================================ middleware
class _BodyLimit:
    """Reject request bodies over ``limit`` bytes with 413, before the app reads them."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        too_big = ApiError(413, f"the request body is over the limit of {self.limit} bytes",
                           "body")
        if declared is not None:
            try:
                if int(declared) > self.limit:
                    return await _send_json(send, too_big.status, too_big.body())
            except ValueError:
                bad = ApiError(400, "the Content-Length header is not a number", "body")
                return await _send_json(send, 400, bad.body())
        chunks: list[bytes] = []
        size = 0
        more = scope["method"] in ("POST", "PUT", "PATCH")
        disconnected = False
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return await _send_json(send, too_big.status, too_big.body())
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        duplicate = _duplicate_key(body)
        if duplicate is not None:
            bad = ApiError(400, f"the request body gives {duplicate!r} twice; give each field "
                           "once", duplicate)
            return await _send_json(send, 400, bad.body())
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                if disconnected:
                    return {"type": "http.disconnect"}
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


def _duplicate_key(body: bytes) -> str | None:
    """The first key given twice in one object of a JSON body (dotted from the top), or None
    (also for a body that is not JSON: the validation reports that)."""
    import json

    class _Twice(Exception):
        pass

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                raise _Twice(key)
            seen[key] = value
        return seen

    if not body.strip().startswith(b"{"):
        return None
    try:
        json.loads(body, object_pairs_hook=pairs)
    except _Twice as exc:
        return clip_message(str(exc.args[0]), 120)
    except (ValueError, RecursionError):
        return None
    return None


class _Guard:
    """Reject unknown Host headers (DNS rebinding); add security headers to every response."""

    def __init__(self, app, allowed_hosts: Sequence[str] | None):
        self.app = app
        self.allowed = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.allowed is not None:
            raw = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
            host = _host_of(raw)
            if host not in self.allowed:
                error = ApiError(400, f"host {host!r} is not served here; use one of: "
                                 f"{', '.join(sorted(self.allowed))}", "host")
                return await _send_json(send, error.status, error.body())
        api = scope.get("path", "").startswith("/api/")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {k.lower() for k, _ in headers}
                extra = [(b"content-security-policy", _CSP.encode()),
                         (b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"no-referrer"),
                         (b"x-frame-options", b"DENY")]
                if api:
                    extra.append((b"cache-control", b"no-store"))
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


async def _send_json(send, status: int, payload: dict) -> None:
    import json

    data = json.dumps(payload).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode("ascii")),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": data})


# ============================================================================ the app
def create_app(networks: Sequence[str | Path | Network] | None = None, *,
               timeout: float = DEFAULT_TIMEOUT, workers: int = 2,
               max_body_bytes: int = MAX_BODY_BYTES,
               allowed_hosts: Sequence[str] | None = LOOPBACK_HOSTS) -> FastAPI:
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
        Threads that compute; requests beyond them wait (within the time limit).
    max_body_bytes
        The largest request body accepted.
    allowed_hosts
        Host header values accepted (loopback by default; ``None`` accepts any).

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
    loaded: dict[str, Network] = {}
    for ref in networks or [None]:
        net = ref if isinstance(ref, Network) else load_network(ref)
        if net.name in loaded:
            raise InvalidArgumentError(f"two networks are named {net.name!r}; give each once")
        net.compiled  # noqa: B018 - compile now, not in a request
        loaded[net.name] = net
    server = _Server(loaded, float(timeout), int(workers))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        server.shutdown()

    app = FastAPI(
        title="gmnet",
        version=__version__,
        description="What-if questions to the goal-misgeneralization Bayesian network: exact "
        "conditional and interventional queries, mitigations, uncertainty, sensitivity.",
        docs_url=None, redoc_url=None, openapi_url="/openapi.json",
        responses=_ERRORS,
        lifespan=lifespan,
    )
    app.state.gmnet = server
    _install_handlers(app)
    _install_routes(app, server)
    app.include_router(why_router)  # soft evidence, counterfactuals, explanations (issue 19)
    app.include_router(decisions_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.add_middleware(_Guard, allowed_hosts=allowed_hosts)
    app.add_middleware(_BodyLimit, limit=int(max_body_bytes))
    return app


def _host_of(header: str) -> str:
    header = header.strip().lower()
    if header.startswith("["):  # [::1]:8000
        return header[1:header.index("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(GmnetError)
    async def gmnet_error(request: Request, exc: GmnetError):
        # raised by a library call after the request's names were checked
        field_name = "evidence" if isinstance(exc, ImpossibleEvidenceError) else None
        return JSONResponse({"error": _message_of(exc), "field": field_name},
                            status_code=_status_of(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        malformed = _malformed_body(errors)
        if malformed is not None:
            return JSONResponse({"error": malformed, "field": "body"}, status_code=400)
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        loc = [str(x) for x in first.get("loc", ()) if x not in ("body", "query", "path")]
        name = ".".join(loc) or None
        message = first.get("msg", "invalid request")
        if first.get("type") == "extra_forbidden":
            message = "unknown field"
        elif first.get("type") == "missing":
            message = "required field is missing"
        text = clip_message(f"{name}: {message}" if name else message)
        detail = [{"field": ".".join(str(x) for x in e.get("loc", ())
                                     if x not in ("body", "query", "path")) or None,
                   "message": e.get("msg")} for e in errors]
        return JSONResponse({"error": text, "field": name, "detail": detail}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        text = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 400 and text == "There was an error parsing the body":
            return JSONResponse({"error": "the request body cannot be read as JSON (nested too "
                                 "deeply, or not UTF-8 text); send one JSON object",
                                 "field": "body"}, status_code=400)
        if exc.status_code == 404:
            text = f"no such page or endpoint: {request.url.path}"
        elif exc.status_code == 405:
            text = f"{request.method} is not allowed on {request.url.path}"
        return JSONResponse({"error": text, "field": None}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):  # pragma: no cover - a bug
        return JSONResponse({"error": f"internal error: {type(exc).__name__}: {exc}",
                             "field": None}, status_code=500)


def _install_routes(app: FastAPI, server: _Server) -> None:  # noqa: C901 - one place per route
    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.get("/api/health", tags=["server"])
    async def health() -> dict:
        """Liveness, the networks served and the limits."""
        from gmnet.web.models import MAX_SAMPLES

        return {"status": "ok", "networks": list(server.networks),
                "limits": {"max_samples": MAX_SAMPLES, "timeout_seconds": server.timeout}}

    # ------------------------------------------------------------------ networks
    @app.get("/api/networks", tags=["network"])
    async def networks() -> list[NetworkSummary]:
        """The networks this server was started with (the first is the default)."""
        return [NetworkSummary(name=n, title=net.title, default=i == 0)
                for i, (n, net) in enumerate(server.networks.items())]

    @app.get("/api/networks/{name}", tags=["network"])
    async def network(name: Name, worldview: WorldviewParam = None,
                      scenario: ScenarioParam = None) -> NetworkDescription:
        """A network: nodes, states, parents, roles, CPT sources and every number with its
        source (what ``gmnet show --json`` prints), under a worldview and scenarios if given."""
        s = await server.resolve(Situation(network=name, worldview=worldview,
                                           scenario=scenario or []))
        return NetworkDescription(**describe_network(s.network))

    @app.get("/api/scenarios", tags=["scenarios and worldviews"])
    async def scenarios(network: NetworkParam = None) -> dict:
        """The scenarios of the bundled scenario file that fit the network (what ``gmnet
        scenarios`` lists): each a named set of evidence, restrictions, priors or numbers."""
        from gmnet.model.scenarios import KINDS, load_scenarios

        net = server.network(network)
        catalog = await server.run(load_scenarios)
        fits = catalog.network in (None, net.name)
        return {"network": net.name, "kinds": list(KINDS),
                "scenarios": [s.to_dict() for s in catalog.values()] if fits else []}

    @app.get("/api/worldviews", tags=["scenarios and worldviews"])
    async def worldviews(network: NetworkParam = None) -> dict:
        """The worldviews of the bundled worldview file that fit the network (what ``gmnet
        worldviews`` lists): named sets of numbers that replace the network's own."""
        from gmnet.model.worldviews import load_worldviews

        net = server.network(network)
        catalog = await server.run(load_worldviews)
        fits = catalog.network in (None, net.name)
        return {"network": net.name, "default": catalog.default if fits else None,
                "worldviews": [w.to_dict() for w in catalog.values()] if fits else []}

    @app.get("/api/worldviews/diff", tags=["scenarios and worldviews"])
    async def worldviews_diff(a: Annotated[Name, Query(description="A worldview.")],
                              b: Annotated[Name, Query(description="Another worldview.")],
                              network: NetworkParam = None) -> dict:
        """What changes from worldview ``a`` to ``b``: every number, then P(harm) per shift
        type (``gmnet worldviews diff A B``)."""
        from gmnet.model.worldviews import load_worldviews, worldview_diff

        net = server.network(network)
        catalog = await server.run(load_worldviews)
        for field_name, name in (("a", a), ("b", b)):
            with blame(field_name):
                catalog[name]
        result = await server.run(worldview_diff, net, a, b)
        return json_safe(result.to_dict())

    @app.get("/api/audit", tags=["scenarios and worldviews"])
    async def audit(network: NetworkParam = None, worldview: WorldviewParam = None) -> dict:
        """Every numeric table of the source document against the network, row by row, with a
        verdict; the document's inconsistencies (``gmnet audit --json``)."""
        s = await server.resolve(Situation(network=network, worldview=worldview))
        report = await server.ask(s, server.audit, s.network.name, worldview)
        return json_safe(report.to_dict())

    @app.get("/api/core-table", tags=["network"])
    async def core(network: NetworkParam = None, worldview: WorldviewParam = None) -> dict:
        """The document's Detailed Risk Assessment by Shift Type as the network reproduces it."""
        from gmnet.analysis.whatif import core_table

        situation = await server.resolve(Situation(network=network, worldview=worldview))
        rows = await server.run(core_table, situation.network)
        return json_safe({"network": situation.network.name, "worldview": worldview,
                        "rows": [r.to_dict() for r in rows]})

    # ------------------------------------------------------------------ questions
    @app.post("/api/query", tags=["questions"])
    async def query(request: QueryRequest) -> QueryResponse:
        """P(target | evidence, do(...)) at the network's point values, exact."""
        s = await server.resolve(request, target=request.target, state=request.state,
                           with_target=True)
        result = await server.ask(s, answer, s.network, s.question, resolved=s.resolved)
        out = result.to_dict()
        return QueryResponse(query=out["query"], target=s.target, state=s.state,
                             probability=out["probability"], distribution=out["distribution"],
                             set=out["set"], unknowns=out["unknowns"],
                             statement=out["statement"], **s.echo())

    @app.post("/api/marginals", tags=["questions"])
    async def marginals(request: Situation) -> MarginalsResponse:
        """Every node's distribution given the evidence and interventions."""
        from gmnet.viz.diagram import node_marginals

        s = await server.resolve(request)
        result = await server.ask(s, node_marginals, s.network, s.evidence, s.do)
        return MarginalsResponse(marginals=result, **s.echo())

    @app.post("/api/compare", tags=["mitigations"])
    async def compare(request: CompareRequest) -> dict:
        """Every mitigation portfolio by intervention (``gmnet compare``): the result of
        :func:`gmnet.compare_mitigations` as a dict."""
        from gmnet.analysis.compare import compare_question

        s = await server.resolve(request, target=request.target, state=request.state,
                           with_target=True)
        base = server.network(request.network)

        def compare_with_draws():
            result, _ = compare_question(base, s.question)
            if not request.samples:
                return result, None
            from gmnet.analysis.uncertainty import comparison_uncertainty

            return result, comparison_uncertainty(s.network, result, samples=request.samples,
                                                  rng=request.seed)

        result, draws = await server.ask(s, compare_with_draws)
        out = {**result.to_dict(all_portfolios=request.all_portfolios),
               **{k: v for k, v in s.echo().items() if k not in ("do", "evidence")},
               "query": s.question.text}
        if draws is not None:
            out["uncertainty"] = draws.to_dict()
        return json_safe(out)

    @app.post("/api/uncertainty", tags=["uncertainty"])
    async def uncertainty(request: UncertaintyRequest) -> dict:
        """The distribution of P(target=state | evidence, do(...)) when every ranged number is
        drawn from its range (``gmnet uncertainty``): point value, mean, median, quantiles,
        90% interval; a histogram if ``bins`` is given."""
        from gmnet.analysis.uncertainty import uncertainty

        s = await server.resolve(request, target=request.target, state=request.state,
                                 with_target=True)
        result = await server.ask(s, uncertainty, s.network, s.target, s.state,
                                  evidence=s.evidence, do=s.do, samples=request.samples,
                                  rng=request.seed, unknowns=drawn_unknowns(request.unknowns,
                                                          s.resolved.unknowns))
        out = {**result.to_dict(), **s.echo(), "query": s.question.text,
               "computed_as": result.query}
        if request.bins:
            counts, edges = result.histogram(request.bins)
            out["histogram"] = {"counts": counts.tolist(), "edges": edges.tolist()}
        return json_safe(out)

    @app.post("/api/sensitivity", tags=["uncertainty"])
    async def sensitivity(request: SensitivityRequest) -> dict:
        """Which uncertain numbers matter most (``gmnet sensitivity``): each one's one-way
        swing and, with ``method: sobol``, its first- and total-order Sobol indices; the
        answer in words in ``summary``."""
        from gmnet.analysis.sensitivity import sensitivity

        s = await server.resolve(request, target=request.target, state=request.state,
                                 with_target=True)
        result = await server.ask(
            s, sensitivity, s.network, s.target, s.state, evidence=s.evidence, do=s.do,
            samples=request.samples if request.method == "sobol" else None, rng=request.seed,
            unknowns=drawn_unknowns(request.unknowns,
                                                          s.resolved.unknowns))
        return json_safe({**result.to_dict(), "method": request.method, **s.echo(),
                          "query": s.question.text, "computed_as": result.query})

    @app.post("/api/diagram", tags=["questions"], response_class=Response,
              responses={200: {"content": {"image/svg+xml": {}},
                               "description": "The diagram as SVG."}})
    async def diagram(request: DiagramRequest) -> Response:
        """The causal pathway diagram as SVG, every node showing its probabilities under the
        question; the target stands out, observed and intervened nodes are marked."""
        from gmnet.viz.diagram import draw

        s = await server.resolve(request, target=request.target, state=request.state,
                           with_target=True)

        def svg() -> str:
            return draw(s.network, s.parsed(), title=request.title).svg()

        text = await server.ask(s, svg)
        return Response(text, media_type="image/svg+xml")
