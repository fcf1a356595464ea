"""The web app's own routes: the page and the ``/api`` endpoints of networks, scenarios,
worldviews, questions, mitigations and uncertainty.

Every endpoint is a thin layer: validate the request (pydantic models in
:mod:`gmnet.web.models`, then names against the network, by
:meth:`gmnet.web.server.Server.resolve`), call one library function in the server's thread pool,
return its result (``to_dict()`` where the result is an object). The why-questions
(:mod:`gmnet.web.why`) and the decision analyses (:mod:`gmnet.web.decisions`) are routers of
their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query
from fastapi.responses import FileResponse, Response

from gmnet.analysis.whatif import core_table
from gmnet.io.jsonsafe import json_safe
from gmnet.model.scenarios import KINDS, load_scenarios
from gmnet.model.worldviews import load_worldviews, worldview_diff
from gmnet.web.describe import describe_network
from gmnet.web.errors import blame
from gmnet.web.models import (
    MAX_SAMPLES,
    CompareRequest,
    DiagramRequest,
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
from gmnet.web.server import Server

__all__ = ["install_routes", "STATIC_DIR"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
NetworkParam = Annotated[Name | None, Query(description="One of the networks this server was "
                                        "started with (default: the first).")]
WorldviewParam = Annotated[Name | None, Query(description="A worldview (GET /api/worldviews).")]
ScenarioParam = Annotated[list[Name] | None, Query(description="Scenarios to apply "
                                                   "(repeat the parameter to combine).")]


def install_routes(app: FastAPI, server: Server) -> None:  # noqa: C901 - one place per route
    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.get("/api/health", tags=["server"])
    async def health() -> dict:
        """Liveness, the networks served, the limits, where answers are computed and the
        cache of answers (entries, bytes, hits, misses, bounds)."""
        return {"status": "ok", "networks": list(server.networks),
                "limits": {"max_samples": MAX_SAMPLES, "timeout_seconds": server.timeout},
                "compute": {"in": "processes" if server.processes is not None else "threads",
                            "workers": server.workers,
                            "ready": (server.processes.ready() if server.processes is not None
                                      else server.workers)},
                "cache": server.answers.stats()}

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
        net = server.network(network)
        catalog = await server.run(load_scenarios)
        fits = catalog.network in (None, net.name)
        return {"network": net.name, "kinds": list(KINDS),
                "scenarios": [s.to_dict() for s in catalog.values()] if fits else []}

    @app.get("/api/worldviews", tags=["scenarios and worldviews"])
    async def worldviews(network: NetworkParam = None) -> dict:
        """The worldviews of the bundled worldview file that fit the network (what ``gmnet
        worldviews`` lists): named sets of numbers that replace the network's own."""
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
        situation = await server.resolve(Situation(network=network, worldview=worldview))
        rows = await server.run(core_table, situation.network)
        return json_safe({"network": situation.network.name, "worldview": worldview,
                        "rows": [r.to_dict() for r in rows]})

    # ------------------------------------------------------------------ questions
    # The computing endpoints answer through server.respond (their work is in
    # gmnet.web.answers): names checked on the event loop, then one job resolves, computes and
    # encodes; the body is kept in the cache of answers.
    @app.post("/api/query", tags=["questions"], response_model=QueryResponse)
    async def query(request: QueryRequest) -> Response:
        """P(target | evidence, do(...)) at the network's point values, exact."""
        return await server.respond("query", request)

    @app.post("/api/marginals", tags=["questions"], response_model=MarginalsResponse)
    async def marginals(request: Situation) -> Response:
        """Every node's distribution given the evidence and interventions."""
        return await server.respond("marginals", request)

    @app.post("/api/compare", tags=["mitigations"], response_model=dict)
    async def compare(request: CompareRequest) -> Response:
        """Every mitigation portfolio by intervention (``gmnet compare``): the result of
        :func:`gmnet.compare_mitigations` as a dict."""
        return await server.respond("compare", request)

    @app.post("/api/uncertainty", tags=["uncertainty"], response_model=dict)
    async def uncertainty(request: UncertaintyRequest) -> Response:
        """The distribution of P(target=state | evidence, do(...)) when every ranged number is
        drawn from its range (``gmnet uncertainty``): point value, mean, median, quantiles,
        90% interval; a histogram if ``bins`` is given."""
        return await server.respond("uncertainty", request)

    @app.post("/api/sensitivity", tags=["uncertainty"], response_model=dict)
    async def sensitivity(request: SensitivityRequest) -> Response:
        """Which uncertain numbers matter most (``gmnet sensitivity``): each one's one-way
        swing and, with ``method: sobol``, its first- and total-order Sobol indices; the
        answer in words in ``summary``."""
        return await server.respond("sensitivity", request)

    @app.post("/api/diagram", tags=["questions"], response_class=Response,
              responses={200: {"content": {"image/svg+xml": {}},
                               "description": "The diagram as SVG."}})
    async def diagram(request: DiagramRequest) -> Response:
        """The causal pathway diagram as SVG, every node showing its probabilities under the
        question; the target stands out, observed and intervened nodes are marked."""
        return await server.respond("diagram", request)
