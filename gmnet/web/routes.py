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

from gmnet.analysis.ask import answer
from gmnet.analysis.compare import compare_question
from gmnet.analysis.sensitivity import sensitivity as sensitivity_of
from gmnet.analysis.uncertainty import comparison_uncertainty
from gmnet.analysis.uncertainty import uncertainty as uncertainty_of
from gmnet.analysis.unknowns import drawn_unknowns
from gmnet.analysis.whatif import core_table
from gmnet.io.jsonsafe import json_safe
from gmnet.model.scenarios import KINDS, load_scenarios
from gmnet.model.worldviews import load_worldviews, worldview_diff
from gmnet.viz.diagram import draw, node_marginals
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
        """Liveness, the networks served and the limits."""
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
        s = await server.resolve(request)
        result = await server.ask(s, node_marginals, s.network, s.evidence, s.do)
        return MarginalsResponse(marginals=result, **s.echo())

    @app.post("/api/compare", tags=["mitigations"])
    async def compare(request: CompareRequest) -> dict:
        """Every mitigation portfolio by intervention (``gmnet compare``): the result of
        :func:`gmnet.compare_mitigations` as a dict."""
        s = await server.resolve(request, target=request.target, state=request.state,
                                 with_target=True)
        base = server.network(request.network)

        def compare_with_draws():
            result, _ = compare_question(base, s.question)
            if not request.samples:
                return result, None
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
        s = await server.resolve(request, target=request.target, state=request.state,
                                 with_target=True)
        result = await server.ask(s, uncertainty_of, s.network, s.target, s.state,
                                  evidence=s.evidence, do=s.do, samples=request.samples,
                                  rng=request.seed,
                                  unknowns=drawn_unknowns(request.unknowns, s.resolved.unknowns))
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
        s = await server.resolve(request, target=request.target, state=request.state,
                                 with_target=True)
        result = await server.ask(
            s, sensitivity_of, s.network, s.target, s.state, evidence=s.evidence, do=s.do,
            samples=request.samples if request.method == "sobol" else None, rng=request.seed,
            unknowns=drawn_unknowns(request.unknowns, s.resolved.unknowns))
        return json_safe({**result.to_dict(), "method": request.method, **s.echo(),
                          "query": s.question.text, "computed_as": result.query})

    @app.post("/api/diagram", tags=["questions"], response_class=Response,
              responses={200: {"content": {"image/svg+xml": {}},
                               "description": "The diagram as SVG."}})
    async def diagram(request: DiagramRequest) -> Response:
        """The causal pathway diagram as SVG, every node showing its probabilities under the
        question; the target stands out, observed and intervened nodes are marked."""
        s = await server.resolve(request, target=request.target, state=request.state,
                                 with_target=True)

        def svg() -> str:
            return draw(s.network, s.parsed(), title=request.title).svg()

        text = await server.ask(s, svg)
        return Response(text, media_type="image/svg+xml")
