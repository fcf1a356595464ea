"""Web API of the decision analyses: the cost-risk frontier and the research ranking.

``POST /api/decisions/portfolios`` is ``gmnet portfolios --json`` (plus the frontier figure as
SVG when ``figure`` is true); ``POST /api/decisions/voi`` is ``gmnet voi --json``. Both ask at
the baseline (docs/decisions.md) and say what they held. The page's decisions card shows both;
it computes them on demand (its "Compute" button, gmnet/web/static/decisions.js).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import Field

from gmnet.analysis.decision_question import mitigation_names
from gmnet.analysis.mitigations import reshaped_priors
from gmnet.analysis.portfolios import portfolio_analysis
from gmnet.analysis.voi import value_of_information
from gmnet.errors import InvalidArgumentError, UnknownNameError
from gmnet.io.jsonsafe import json_safe
from gmnet.viz.frontier import frontier_caption, frontier_figure
from gmnet.viz.plots import figure_svg
from gmnet.web.errors import blame
from gmnet.web.models import Situation

__all__ = ["router", "PortfolioRequest", "VoiRequest"]

router = APIRouter(prefix="/api/decisions", tags=["decisions"])

MAX_DECISION_SAMPLES = 20_000


class _DecisionRequest(Situation):
    target: str = Field("harm", description="The outcome to reduce.")
    state: str = Field("yes", description="Its state.")
    budget: float | None = Field(None, ge=0, description="Largest total cost (relative units).")
    cost_weight: float | None = Field(None, ge=0, description="P(harm) one unit of cost is "
                                      "worth (default: the network's cost_weight, 0).")
    max_size: int | None = Field(None, ge=0, description="At most this many mitigations per "
                                 "portfolio (2: the best pair).")
    seed: int = Field(0, ge=0, description="Random seed.")


class PortfolioRequest(_DecisionRequest):
    """Every portfolio's cost and P(target), the frontier and the best under the budget."""

    samples: int = Field(1000, ge=0, le=MAX_DECISION_SAMPLES,
                         description="Paired draws for intervals and P(best) (0: none).")
    figure: bool = Field(False, description="Also return the frontier figure as SVG.")


class VoiRequest(_DecisionRequest):
    """Observation values (exact) and EVPPI / EVPI of the portfolio decision."""

    samples: int = Field(2000, ge=0, le=MAX_DECISION_SAMPLES,
                         description="Paired draws for EVPI and EVPPI (0: observations only).")
    portfolio: list[str] | None = Field(None, description="Mitigations on for the observation "
                                        "values (default: the decision's choice).")


def _check_target(net, request: _DecisionRequest) -> None:
    with blame("target"):
        if request.target not in net.variables:
            raise UnknownNameError("variable", request.target, net.variables, context="as target")
    with blame("state"):
        net.check_state(request.target, request.state)


def _asked_do(s) -> dict[str, str]:
    """The request's own do() (the decision analyses hold the baseline themselves, every
    mitigation by portfolio), refused under the prior context policy like the CLI does."""
    if s.question.context != "baseline":
        raise InvalidArgumentError(
            "the decision analyses compare portfolios at the baseline context; context "
            f"{s.question.context} is not taken here (set context nodes with do instead)")
    return dict(s.question.do)


def _portfolios(net, base, s, request: PortfolioRequest) -> dict:
    _check_target(net, request)

    result = portfolio_analysis(net, target=request.target, state=request.state,
                                evidence=s.evidence, do=_asked_do(s),
                                keep_priors=reshaped_priors(base, net),
                                budget=request.budget, cost_weight=request.cost_weight,
                                max_size=request.max_size, samples=request.samples,
                                rng=request.seed)
    out = result.to_dict()
    if request.figure:
        out["figure_svg"] = figure_svg(frontier_figure(result))
        out["caption"] = frontier_caption(result)
    return out


def _voi(net, base, s, request: VoiRequest) -> dict:
    _check_target(net, request)
    names = mitigation_names(net)
    with blame("portfolio"):
        for m in request.portfolio or ():
            if m not in names:
                raise UnknownNameError("mitigation", m, names)
    return value_of_information(net, target=request.target, state=request.state,
                                evidence=s.evidence, do=_asked_do(s),
                                keep_priors=reshaped_priors(base, net),
                                portfolio=request.portfolio, budget=request.budget,
                                cost_weight=request.cost_weight, max_size=request.max_size,
                                samples=request.samples,
                                rng=request.seed).to_dict()


@router.post("/portfolios")
async def portfolios(request: PortfolioRequest, http: Request) -> dict:
    """Every mitigation portfolio (``gmnet portfolios --json``)."""
    server = http.app.state.gmnet
    s = await server.resolve(request)
    base = server.network(request.network)
    return json_safe(await server.ask(s, _portfolios, s.network, base, s, request))


@router.post("/voi")
async def voi(request: VoiRequest, http: Request) -> dict:
    """Value of information for the portfolio decision (``gmnet voi --json``)."""
    server = http.app.state.gmnet
    s = await server.resolve(request)
    base = server.network(request.network)
    return json_safe(await server.ask(s, _voi, s.network, base, s, request))
