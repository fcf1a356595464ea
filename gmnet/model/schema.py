"""The shape of a network file, as typed pydantic models.

Only the shape is checked here (keys, types, required fields); what the numbers mean (columns
sum to one, parents exist, the graph is acyclic, ...) is checked in :mod:`gmnet.model.checks`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
)

Number = StrictFloat | StrictInt
Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)]
StateName = Annotated[str, Field(min_length=1, max_length=64)]

PHASES = ("context", "training", "deployment", "prevention", "detection", "response", "outcome")
ROLES = ("context", "pathway", "mitigation", "alarm", "outcome")
UNITS = ("probability", "multiplier", "fraction", "cost", "weight")
# "cost" and "weight" numbers are read by the decision analyses (docs/decisions.md), not by CPTs
DECISION_UNITS = ("cost", "weight")


class StrictModel(BaseModel):
    """Every data file's models: unknown keys are errors, loaded values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_Strict = StrictModel


class ParameterValue(_Strict):
    """One number: its point value, its range where known, and where it comes from."""

    value: Number
    range: tuple[Number, Number] | None = None
    source: StrictStr = Field(min_length=1)
    note: StrictStr | None = None


class ParameterGroup(_Strict):
    """Numbers keyed by the states of one node (``index``), or a single scalar number."""

    description: StrictStr = ""
    unit: Literal["probability", "multiplier", "fraction", "cost", "weight"] = "probability"
    index: Name | None = None
    values: dict[StateName, ParameterValue] | None = None
    value: Number | None = None
    range: tuple[Number, Number] | None = None
    source: StrictStr | None = None
    note: StrictStr | None = None


class UniformCPT(_Strict):
    kind: Literal["uniform"]
    source: StrictStr = Field(min_length=1)


class PriorCPT(_Strict):
    """A root node's distribution: state -> expression (a number or a parameter)."""

    kind: Literal["prior"]
    probabilities: dict[StateName, StrictStr | Number]
    source: StrictStr | None = None


class ExpressionCPT(_Strict):
    """P(state | parents) given by expressions over parents and parameters.

    One state may be ``rest``: one minus the others.
    """

    kind: Literal["expression"]
    probabilities: dict[StateName, StrictStr | Number]
    source: StrictStr | None = None


class TableCPT(_Strict):
    """An explicit table: one row per parent configuration, in the order of ``parents``
    (last parent varies fastest), each row a list of probabilities in the order of ``states``."""

    kind: Literal["table"]
    rows: list[list[Number]]
    source: StrictStr = Field(min_length=1)

    @field_validator("rows")
    @classmethod
    def _rectangular(cls, rows: list[list[float]]) -> list[list[float]]:
        for k, row in enumerate(rows[1:], start=2):
            if len(row) != len(rows[0]):
                raise ValueError(f"row {k} has {len(row)} probabilities but row 1 has "
                                 f"{len(rows[0])}; every row needs one per state")
        return rows


class CalibratedRouteCPT(_Strict):
    """P(state | parents) that reproduces a target marginal exactly while routing as much of it
    as possible through a causal route (see docs/model.md, "calibrated route")."""

    kind: Literal["calibrated_route"]
    state: StateName
    target: StrictStr
    route: StrictStr
    route_parents: list[Name]
    route_share: StrictStr | Number = 1.0
    source: StrictStr | None = None


CPTSpec = Annotated[
    UniformCPT | PriorCPT | ExpressionCPT | TableCPT | CalibratedRouteCPT,
    Field(discriminator="kind"),
]


class NodeSpec(_Strict):
    states: list[StateName] = Field(min_length=2)
    parents: list[Name] = []
    phase: Literal[
        "context", "training", "deployment", "prevention", "detection", "response", "outcome"
    ] = "context"
    role: Literal["context", "pathway", "mitigation", "alarm", "outcome"] = "pathway"
    label: StrictStr | None = None
    description: StrictStr = ""
    cpt: CPTSpec


class Settings(_Strict):
    combination_rule: Literal["expanded_formula", "relative_risk",
                              "odds_ratio"] = "expanded_formula"


class CalibrationTarget(_Strict):
    """A number the network must reproduce: P(target=state | evidence, do(...)) = value."""

    target: Name
    state: StateName
    evidence: dict[Name, StateName] = {}
    do: dict[Name, StateName] = {}
    value: Number
    tolerance: Number = 0.0005
    source: StrictStr = Field(min_length=1)


class NetworkFile(_Strict):
    format: Literal["gmnet/1"] = "gmnet/1"
    name: Name
    title: StrictStr = ""
    description: StrictStr = ""
    settings: Settings = Settings()
    parameters: dict[Name, ParameterGroup] = {}
    nodes: dict[Name, NodeSpec] = Field(min_length=1)
    targets: list[CalibrationTarget] = []
    # free-form, for tools built on top (calibration targets, cost notes, ...)
    metadata: dict = {}
