"""Typed request and response bodies of the web API.

Requests are validated before any library code runs: unknown fields, wrong types, oversized
mappings and sample counts beyond the cap are rejected with a 422 naming the field. Names of
variables and states are checked against the network by the endpoint (they depend on it).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    TypeAdapter,
    field_validator,
)

__all__ = [
    "MAX_SAMPLES",
    "MAX_SOBOL_SAMPLES",
    "MAX_ASSIGNMENTS",
    "Name",
    "Situation",
    "QueryRequest",
    "QueryResponse",
    "MarginalsResponse",
    "DiagramRequest",
    "CompareRequest",
    "UncertaintyRequest",
    "SensitivityRequest",
    "NodeInfo",
    "ParameterInfo",
    "NetworkDescription",
    "NetworkSummary",
    "ErrorBody",
    "json_body",
]

#: The most parameter draws one request may ask for.
MAX_SAMPLES = 20_000
#: The largest Sobol base sample size N (the design evaluates N (d + 2) rows for d inputs).
MAX_SOBOL_SAMPLES = 4096
#: The most evidence or do() entries one request may carry (more than any network has nodes).
MAX_ASSIGNMENTS = 200
#: The most scenarios one request may combine.
MAX_SCENARIOS = 8

Name = Annotated[str, StringConstraints(min_length=1, max_length=120,
                                        pattern=r"^[A-Za-z0-9_.+\-]+$")]
Assignments = Annotated[dict[Name, Name], Field(max_length=MAX_ASSIGNMENTS)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Situation(_Strict):
    """Where a question is asked: network, scenarios, worldview, evidence and interventions."""

    network: Name | None = Field(
        None, description="Name of one of the networks the server was started with "
        "(default: the first).")
    scenario: list[Name] = Field(
        default_factory=list, max_length=MAX_SCENARIOS,
        description="Scenarios to apply, e.g. a domain and a period (GET /api/scenarios).")
    worldview: Name | None = Field(
        None, description="A named parameter set (GET /api/worldviews); default: the network's "
        "own numbers.")
    evidence: Assignments = Field(
        default_factory=dict, description="Observed states: {variable: state}.")
    do: Assignments = Field(
        default_factory=dict, description="Interventions (graph surgery): {variable: state}.")
    context: Literal["baseline", "prior"] = Field(
        "baseline", description="Nodes the question does not mention: `baseline` holds them at "
        "the document's reference (neutral modifier levels, every mitigation off), where the "
        "document's numbers hold; `prior` lets them follow the network's priors (the population "
        "average). The same as the command line's --context.")
    parameters: dict[Name, Annotated[StrictFloat, Field(allow_inf_nan=False)]] = Field(
        default_factory=dict, max_length=MAX_ASSIGNMENTS,
        description="Your own numbers: {parameter: value}, shown as 'set by you' (the command "
        "line's --set).")
    fixed_unknowns: Assignments = Field(
        default_factory=dict, description="Critical Unknowns fixed to a state, e.g. "
        "{\"interpretability_feasibility\": \"fails\"} (the command line's --unknown).")


class QueryRequest(Situation):
    """P(target | evidence, do(...)) at the network's point values."""

    target: Name | None = Field(None, description="The variable asked about (default: the "
        "network's outcome, e.g. harm).")
    state: Name | None = Field(None, description="One state of the target: its probability is "
        "returned as `probability` (default: the first state).")


class QueryResponse(BaseModel):
    network: str
    query: str = Field(description="The question in gmnet's query syntax.")
    target: str
    state: str
    probability: float
    distribution: dict[str, float]
    evidence: dict[str, str] = Field(description="Evidence used, the scenarios' included.")
    do: dict[str, str] = Field(description="Interventions used: the question's and what the "
                               "context policy held.")
    scenario: list[str]
    worldview: str | None
    context: str
    held: dict[str, str] = Field(description="What the context policy held by intervention.")
    set: dict[str, float] = Field(description="Numbers set by you.")
    unknowns: dict[str, str] = Field(description="Critical Unknowns fixed by you.")
    assumptions: list[str] = Field(description="Everything the answer assumed, in words.")
    statement: str = Field(description="The answer in one line, as the command line prints it.")


class MarginalsResponse(BaseModel):
    network: str
    evidence: dict[str, str]
    do: dict[str, str]
    scenario: list[str]
    worldview: str | None
    context: str
    held: dict[str, str]
    assumptions: list[str]
    marginals: dict[str, dict[str, float]] = Field(
        description="Every node's distribution given the evidence and interventions.")


class DiagramRequest(QueryRequest):
    """The pathway diagram (SVG) with every node's probability under the question."""

    title: str | None = Field(None, max_length=300, description="A title above the diagram "
        "(default: the question in query syntax).")


class CompareRequest(Situation):
    """Compare mitigation portfolios by intervention: P(target) with none, each mitigation
    alone, each layer, each pair of layers and all; marginal values and Shapley shares."""

    target: Name = Field("harm", description="What the mitigations should reduce.")
    state: Name = Field("yes", description="The target's state whose probability is reduced.")
    all_portfolios: StrictBool = Field(
        False, description="Also list P(target) for every one of the "
        "2**k portfolios.")
    samples: StrictInt = Field(
        0, ge=0, le=MAX_SAMPLES, description="Also draw the uncertain numbers "
        "this many times: each row gets its 90% interval and the share of "
        f"paired draws in which it beats the next (0: none; at most "
        f"{MAX_SAMPLES}).")
    seed: StrictInt = Field(
        0, ge=0, le=2**32 - 1, description="Seed for the draws: the same seed "
        "gives the same numbers.")


class UncertaintyRequest(QueryRequest):
    """The distribution of P(target=state | ...) over draws of the uncertain numbers."""

    samples: StrictInt = Field(2000, ge=1, le=MAX_SAMPLES,
                         description=f"Parameter draws (at most {MAX_SAMPLES}).")
    seed: StrictInt = Field(
        0, ge=0, le=2**32 - 1, description="Seed for the draws: the same seed "
        "gives the same numbers.")
    unknowns: bool | list[Name] = Field(
        True, description="Critical Unknowns to include: the default set (true), none (false), "
        "or their keys.")
    bins: StrictInt = Field(
        0, ge=0, le=200, description="Also return a histogram of the draws with "
        "this many bins (0: none).")


class SensitivityRequest(QueryRequest):
    """Which uncertain numbers matter most for P(target=state | ...)."""

    method: Literal["tornado", "sobol"] = Field(
        "tornado", description="`tornado`: each number at the low and high end of its range, "
        "the rest at their points; `sobol`: that and global Sobol indices (first and total "
        "order, with confidence intervals).")
    samples: StrictInt = Field(1024, ge=8, le=MAX_SOBOL_SAMPLES, description="Sobol base sample "
        "size N, a power of 2 (the design has N (d + 2) rows for d numbers; "
        f"at most {MAX_SOBOL_SAMPLES}).")
    seed: StrictInt = Field(0, ge=0, le=2**32 - 1, description="Seed of the Sobol design.")
    unknowns: bool | list[Name] = Field(
        True, description="Critical Unknowns to include: the default set (true), none (false), "
        "or their keys.")

    @field_validator("samples")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError(f"must be a power of 2 (e.g. 512, 1024, 2048), got {value}")
        return value


class ParameterInfo(BaseModel):
    name: str
    value: float
    range: list[float] | None
    source: str
    unit: str
    assumption: bool
    description: str | None = None


class NodeInfo(BaseModel):
    name: str
    label: str
    description: str | None
    states: list[str]
    parents: list[str]
    phase: str
    role: str
    cpt_kind: str
    source: str | None
    parameters: list[str] = Field(description="Names of the parameters its CPT uses.")


class NetworkSummary(BaseModel):
    name: str
    title: str
    default: bool


class NetworkDescription(BaseModel):
    name: str
    title: str
    description: str | None
    rule: str
    default_target: str
    default_state: str
    neutral_context: dict[str, str]
    nodes: list[NodeInfo]
    parameters: list[ParameterInfo]


class ErrorBody(BaseModel):
    error: str = Field(description="What was wrong and what would be valid.")
    field: str | None = Field(None, description="The request field at fault, e.g. "
        "`evidence.shift_type`, when one is.")
    detail: Any | None = None


@cache
def _adapter(kind: Any) -> TypeAdapter:
    return TypeAdapter(kind)


def json_body(kind: Any, value: Any) -> bytes:
    """``value`` as the JSON body FastAPI sends for an endpoint whose response type is ``kind``
    (validated as that type, then encoded by pydantic: the same bytes)."""
    adapter = _adapter(kind)
    return adapter.dump_json(adapter.validate_python(value), by_alias=True)
