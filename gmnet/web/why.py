"""Web endpoints of the why-questions: soft evidence, counterfactuals, explanations.

An :class:`fastapi.APIRouter` that :func:`gmnet.web.app.create_app` includes. Every endpoint
checks its request like the others (names against the network, 422 naming the field), then calls
one library function in the server's thread pool:

- ``POST /api/soft-query``: P(target | evidence, soft evidence, do(...)), exactly; with
  ``samples``, also its band over parameter draws (the batched engine);
- ``POST /api/counterfactual``: PN, PS, PNS bounds and monotone values (``gmnet
  counterfactual``);
- ``POST /api/explain``: most probable explanation, path and each observation's effect
  (``gmnet explain``).

A soft-evidence term is text (``"P(capability_level=superhuman)=0.3"``,
``"capability_level~=below_human:0.2,human_level:0.5,superhuman:0.3"``) or an object
``{"node": ..., "kind": "likelihood" | "marginal", "values": {state: number}}``.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from gmnet.analysis.counterfactual import counterfactual as counterfactual_of
from gmnet.analysis.explain import explain as explain_of
from gmnet.analysis.uncertainty import uncertainty
from gmnet.io.jsonsafe import json_safe
from gmnet.model.soft_evidence import as_findings, resolve_soft
from gmnet.web.errors import blame
from gmnet.web.models import MAX_ASSIGNMENTS, MAX_SAMPLES, Name, QueryRequest, Situation

__all__ = ["router", "SoftTerm", "SoftQueryRequest", "CounterfactualRequest", "ExplainRequest"]

router = APIRouter(tags=["why"])
_MAX_SOFT = 50


class SoftTerm(BaseModel):
    """One soft-evidence finding as an object."""

    model_config = ConfigDict(extra="forbid")
    node: Name
    kind: Literal["likelihood", "marginal"] = Field(
        description="`likelihood`: a weight per state (every state, only ratios matter); "
        "`marginal`: fixed probabilities (Jeffrey's rule; states not named keep their odds).")
    values: dict[Name, float] = Field(max_length=MAX_ASSIGNMENTS)


SoftList = list[SoftTerm | str]


class SoftQueryRequest(QueryRequest):
    """P(target | evidence, soft evidence, do(...))."""

    soft: SoftList = Field(default_factory=list, max_length=_MAX_SOFT,
                           description="Soft evidence: text terms or objects.")
    samples: int = Field(0, ge=0, le=MAX_SAMPLES, description="Also the band over this many "
                         "parameter draws (0: none).")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the draws.")


class CounterfactualRequest(Situation):
    """Would ``alternative`` have prevented ``outcome=outcome_state`` after
    ``cause=cause_state``? ``evidence`` is the context (settled before the cause)."""

    cause: Name = Field(description="A two-state variable, e.g. ai_control.")
    cause_state: Name = Field(description="The state that happened, e.g. off.")
    alternative: Name = Field(description="The state compared with, e.g. on.")
    outcome: Name = Field("harm", description="The outcome variable.")
    outcome_state: Name = Field("yes", description="The outcome's state that happened.")
    samples: int = Field(0, ge=0, le=MAX_SAMPLES, description="Also 5-95% intervals over this "
                         "many parameter draws (0: none).")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="Seed of the draws.")


class ExplainRequest(Situation):
    """The most probable explanation of the evidence, the most probable path, and (with a
    target) how much each observation moved it."""

    target: Name | None = Field(None, description="A variable whose movement is explained.")
    state: Name | None = Field(None, description="Its state (default: the first).")
    soft: SoftList = Field(default_factory=list, max_length=_MAX_SOFT,
                           description="Soft evidence: text terms or objects.")


def _soft(terms: SoftList) -> list[Any]:
    return [t if isinstance(t, str) else (t.node, t.kind, t.values) for t in terms]


def _freed(do: dict[str, str], asked: dict[str, str], nodes) -> dict[str, str]:
    """``do`` without the ``nodes`` the request did not set itself: a node the question is about
    (a soft finding's node, the cause, the outcome) is mentioned, so a context policy that
    holds unmentioned nodes must not hold it."""
    return {k: v for k, v in do.items() if k not in set(nodes) or k in asked}


def _checked_soft(s, body):
    """The request's soft evidence checked against its network (422 naming ``soft``), and the
    interventions the question keeps."""
    with blame("soft"):
        findings = as_findings(_soft(body.soft))
        do = _freed(dict(s.do), body.do, [f.node for f in findings])
        resolve_soft(s.network.compiled.states, findings, observed=s.evidence, intervened=do)
    return findings, do


@router.post("/api/soft-query")
async def soft_query(body: SoftQueryRequest, request: Request) -> dict:
    """P(target=state | evidence, soft evidence, do(...)) at the point values, exact; with
    ``samples``, its distribution over parameter draws too."""
    server = request.app.state.gmnet
    s = await server.resolve(body, target=body.target, state=body.state, with_target=True)
    findings, do = _checked_soft(s, body)
    dist = await server.ask(s, s.network.query, s.target, evidence=s.evidence, do=do,
                            soft=findings)
    out: dict[str, Any] = {**s.echo(), "query": _text(s.target, s.state, s.evidence, do,
                                                       findings),
                           "target": s.target, "state": s.state, "probability": dist[s.state],
                           "distribution": dist, "do": do,
                           "soft": [f.to_dict() for f in findings]}
    if body.samples:
        result = await server.ask(s, uncertainty, s.network, s.target, s.state,
                                  evidence=s.evidence, do=do, samples=body.samples,
                                  rng=body.seed, soft=findings)
        out["uncertainty"] = result.to_dict()
    return json_safe(out)


@router.post("/api/counterfactual")
async def counterfactual(body: CounterfactualRequest, request: Request) -> dict:
    """PN, PS and PNS: exact Tian-Pearl bounds and monotone values (``gmnet
    counterfactual``)."""
    server = request.app.state.gmnet
    s = await server.resolve(body)
    for name, var, states in (("cause", body.cause, (body.cause_state, body.alternative)),
                              ("outcome", body.outcome, (body.outcome_state,))):
        with blame(name):
            s.network.node(var)
        for field_name, state in zip((f"{name}_state", "alternative"), states, strict=False):
            with blame(field_name):
                s.network.check_state(var, state)
    do = _freed(dict(s.do), body.do, [body.cause, body.outcome])
    result = await server.ask(s, counterfactual_of, s.network, body.cause, body.cause_state,
                              body.alternative, body.outcome, body.outcome_state,
                              evidence=s.evidence, do=do, samples=body.samples or None,
                              rng=body.seed)
    return json_safe({**s.echo(), **result.to_dict()})


@router.post("/api/explain")
async def explain(body: ExplainRequest, request: Request) -> dict:
    """Most probable explanation, most probable path and each observation's effect
    (``gmnet explain``)."""
    server = request.app.state.gmnet
    s = await server.resolve(body)
    findings, do = _checked_soft(s, body)
    if body.target is not None:
        do = _freed(do, body.do, [body.target])
    result = await server.ask(s, explain_of, s.network, s.evidence, do, target=body.target,
                              state=body.state, soft=findings)
    return json_safe({**s.echo(), **result.to_dict()})


def _text(target, state, evidence, do, findings) -> str:
    parts = [f"{k}={v}" for k, v in evidence.items()] + [str(f) for f in findings]
    if do:
        parts.append("do(" + ", ".join(f"{k}={v}" for k, v in do.items()) + ")")
    head = target + (f"={state}" if state else "")
    return f"P({head}" + (" | " + ", ".join(parts) if parts else "") + ")"
