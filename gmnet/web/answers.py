"""The computing endpoints' work, as plain functions a worker thread or process can run.

Each endpoint of :data:`ENDPOINTS` (query, marginals, compare, uncertainty, sensitivity,
diagram) is a request model, a computation ``compute(server, asked, request)`` on the
request's resolved question (:class:`gmnet.web.server.Asked`), the response type and its
media type. :func:`body_of` runs one: resolve (cached), compute, encode the body the way
FastAPI would encode the response type (so the bytes are the same as an endpoint returning the
value). The functions are module-level, so a worker process (:mod:`gmnet.web.processes`) can
run them from the endpoint's name and the request's JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gmnet.analysis.ask import answer
from gmnet.analysis.compare import compare_question
from gmnet.analysis.sensitivity import sensitivity as sensitivity_of
from gmnet.analysis.uncertainty import comparison_uncertainty
from gmnet.analysis.uncertainty import uncertainty as uncertainty_of
from gmnet.analysis.unknowns import drawn_unknowns
from gmnet.errors import GmnetError
from gmnet.io.jsonsafe import json_safe
from gmnet.model.question import Question
from gmnet.viz.diagram import draw, node_marginals
from gmnet.web.asked import Asked
from gmnet.web.errors import ApiError, field_of_question, message_of, status_of
from gmnet.web.models import (
    CompareRequest,
    DiagramRequest,
    MarginalsResponse,
    QueryRequest,
    QueryResponse,
    SensitivityRequest,
    Situation,
    UncertaintyRequest,
    json_body,
)

if TYPE_CHECKING:
    from gmnet.web.server import Server

__all__ = ["Endpoint", "ENDPOINTS", "body_of"]


@dataclass(frozen=True)
class Endpoint:
    """One computing endpoint: its request model, its computation, its response type."""

    request: type[Situation]
    compute: Callable[[Server, Asked, Any], Any]
    response: Any  # the response type (a pydantic model, or dict); None: text
    media_type: str = "application/json"
    with_target: bool = True  # the request names a target and state

    def encode(self, value: Any) -> bytes:
        if self.response is None:
            return str(value).encode("utf-8")
        return json_body(self.response, value)


def _query(server: Server, s: Asked, request: QueryRequest) -> QueryResponse:
    out = answer(s.network, s.question, resolved=s.resolved).to_dict()
    return QueryResponse(query=out["query"], target=s.target, state=s.state,
                         probability=out["probability"], distribution=out["distribution"],
                         set=out["set"], unknowns=out["unknowns"], statement=out["statement"],
                         **s.echo())


def _marginals(server: Server, s: Asked, request: Situation) -> MarginalsResponse:
    return MarginalsResponse(marginals=node_marginals(s.network, s.evidence, s.do), **s.echo())


def _compare(server: Server, s: Asked, request: CompareRequest) -> dict:
    result, _ = compare_question(server.network(request.network), s.question)
    out = {**result.to_dict(all_portfolios=request.all_portfolios),
           **{k: v for k, v in s.echo().items() if k not in ("do", "evidence")},
           "query": s.question.text}
    if request.samples:
        draws = comparison_uncertainty(s.network, result, samples=request.samples,
                                       rng=request.seed)
        out["uncertainty"] = draws.to_dict()
    return json_safe(out)


def _uncertainty(server: Server, s: Asked, request: UncertaintyRequest) -> dict:
    result = uncertainty_of(s.network, s.target, s.state, evidence=s.evidence, do=s.do,
                            samples=request.samples, rng=request.seed,
                            unknowns=drawn_unknowns(request.unknowns, s.resolved.unknowns))
    out = {**result.to_dict(), **s.echo(), "query": s.question.text,
           "computed_as": result.query}
    if request.bins:
        counts, edges = result.histogram(request.bins)
        out["histogram"] = {"counts": counts.tolist(), "edges": edges.tolist()}
    return json_safe(out)


def _sensitivity(server: Server, s: Asked, request: SensitivityRequest) -> dict:
    result = sensitivity_of(
        s.network, s.target, s.state, evidence=s.evidence, do=s.do,
        samples=request.samples if request.method == "sobol" else None, rng=request.seed,
        unknowns=drawn_unknowns(request.unknowns, s.resolved.unknowns))
    return json_safe({**result.to_dict(), "method": request.method, **s.echo(),
                      "query": s.question.text, "computed_as": result.query})


def _diagram(server: Server, s: Asked, request: DiagramRequest) -> str:
    return draw(s.network, s.parsed(), title=request.title).svg()


#: The computing endpoints by name (the path is ``/api/NAME``).
ENDPOINTS: dict[str, Endpoint] = {
    "query": Endpoint(QueryRequest, _query, QueryResponse),
    "marginals": Endpoint(Situation, _marginals, MarginalsResponse, with_target=False),
    "compare": Endpoint(CompareRequest, _compare, dict),
    "uncertainty": Endpoint(UncertaintyRequest, _uncertainty, dict),
    "sensitivity": Endpoint(SensitivityRequest, _sensitivity, dict),
    "diagram": Endpoint(DiagramRequest, _diagram, None, media_type="image/svg+xml"),
}


def body_of(server: Server, name: str, request: Situation, base: str,
            question: Question) -> bytes:
    """The body of endpoint ``name``'s response to ``request`` (whose question on network
    ``base`` is ``question``); a library error becomes an :class:`ApiError` naming the field."""
    endpoint = ENDPOINTS[name]
    asked = Asked(server.resolved(base, question))
    try:
        return endpoint.encode(endpoint.compute(server, asked, request))
    except GmnetError as exc:
        raise ApiError(status_of(exc), message_of(exc),
                       field_of_question(exc, question)) from exc
