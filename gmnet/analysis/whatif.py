"""What-if questions: the document's core table as the network gives it, and paired queries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gmnet.errors import InvalidArgumentError
from gmnet.model.network import Network

__all__ = ["CoreTableRow", "core_table", "neutral_context", "WhatIf", "what_if",
           "TargetCheck", "check_targets"]

# The document's Detailed Risk Assessment by Shift Type, for comparison only: the network's own
# numbers come from its parameters, never from here.
DOCUMENT_CORE_TABLE = {
    "superficial": (0.85, 0.12, 0.036),
    "moderate": (0.65, 0.28, 0.100),
    "significant": (0.55, 0.55, 0.218),
    "extreme": (0.45, 0.75, 0.277),
}


def neutral_context(network: Network) -> dict[str, str]:
    """The network's neutral (reference) context, from its metadata (empty if none)."""
    neutral = network.metadata.get("neutral_context", {})
    return {k: v for k, v in neutral.items() if k in network.variables}


@dataclass(frozen=True)
class CoreTableRow:
    shift_type: str
    p_capability_transfer: float
    p_goal_fails_given_capability: float
    p_harm_given_failure: float
    p_harmful_misgeneralization: float
    document: tuple[float, float, float] | None

    def to_dict(self) -> dict:
        out = {
            "shift_type": self.shift_type,
            "p_capability_transfer": self.p_capability_transfer,
            "p_goal_fails_given_capability": self.p_goal_fails_given_capability,
            "p_harm_given_failure": self.p_harm_given_failure,
            "p_harmful_misgeneralization": self.p_harmful_misgeneralization,
        }
        if self.document:
            out["document"] = dict(zip(("p_capability_transfer", "p_goal_fails_given_capability",
                                        "p_harmful_misgeneralization"), self.document,
                                       strict=True))
        return out


    def to_frame(self):
        """This row as a one-row pandas DataFrame (the whole table:
        :func:`gmnet.analysis.frames.core_table_frame`)."""
        from gmnet.analysis.frames import core_table_frame

        return core_table_frame(self)

def core_table(network: Network, context: Mapping[str, str] | None = None) -> list[CoreTableRow]:
    """Detailed Risk Assessment by Shift Type, computed by the network.

    Each factor is an interventional query at ``context`` (default: the neutral context):
    P(capability_transfer=yes | do(shift, context)), P(goal_misgeneralizes=yes |
    capability_transfer=yes, do(...)), P(harm=yes | goal_misgeneralizes=yes, do(...)) and
    P(harm=yes | do(...)).
    """
    needed = ("shift_type", "capability_transfer", "goal_misgeneralizes", "harm")
    missing = [v for v in needed if v not in network.variables]
    if missing:
        raise InvalidArgumentError(
            f"network {network.name!r} has no {', '.join(missing)}: the core table needs the "
            "goal-misgeneralization pathway")
    ctx = dict(neutral_context(network) if context is None else context)
    rows = []
    for shift in network.states("shift_type"):
        do = {**ctx, "shift_type": shift}
        cap = network.query("capability_transfer", do=do)["yes"]
        goal = network.query("goal_misgeneralizes", evidence={"capability_transfer": "yes"},
                             do=do)["yes"]
        harm_f = network.query("harm", evidence={"goal_misgeneralizes": "yes"}, do=do)["yes"]
        harm = network.query("harm", do=do)["yes"]
        rows.append(CoreTableRow(shift, cap, goal, harm_f, harm, DOCUMENT_CORE_TABLE.get(shift)))
    return rows


@dataclass(frozen=True)
class WhatIf:
    """P(target=state) before and after an intervention, under the same evidence."""

    target: str
    state: str
    evidence: dict
    baseline_do: dict
    intervention: dict
    before: float
    after: float

    @property
    def absolute_change(self) -> float:
        return self.after - self.before

    @property
    def relative_change(self) -> float:
        return (self.after - self.before) / self.before if self.before > 0 else float("nan")

    def to_dict(self) -> dict:
        return {"target": self.target, "state": self.state, "evidence": self.evidence,
                "baseline_do": self.baseline_do, "intervention": self.intervention,
                "before": self.before, "after": self.after,
                "absolute_change": self.absolute_change,
                "relative_change": self.relative_change}


    def to_frame(self):
        """A one-row pandas DataFrame: the question, P before and after, the changes."""
        from gmnet.analysis.frames import what_if_frame

        return what_if_frame(self)

def what_if(network: Network, target: str, state: str, *, intervention: Mapping[str, str],
            evidence: Mapping[str, str] | None = None,
            baseline_do: Mapping[str, str] | None = None) -> WhatIf:
    """How P(target=state | evidence, do(baseline)) changes when ``intervention`` is added."""
    evidence = dict(evidence or {})
    baseline = dict(baseline_do or {})
    network.check_state(target, state)
    before = network.query(target, evidence=evidence, do=baseline)[state]
    after_do = {**baseline, **intervention}
    ev_after = {k: v for k, v in evidence.items() if k not in intervention}
    after = network.query(target, evidence=ev_after, do=after_do)[state]
    return WhatIf(target, state, evidence, baseline, dict(intervention), before, after)


@dataclass(frozen=True)
class TargetCheck:
    """One calibration target of a network file, and what the network gives for it."""

    query: str
    expected: float
    tolerance: float
    model: float
    source: str

    @property
    def holds(self) -> bool:
        return abs(self.model - self.expected) <= self.tolerance

    def to_dict(self) -> dict:
        return {"query": self.query, "expected": self.expected, "tolerance": self.tolerance,
                "model": self.model, "holds": self.holds, "source": self.source}


    def to_frame(self):
        """A one-row pandas DataFrame: expected, model, tolerance, whether it holds."""
        from gmnet.analysis.frames import target_checks_frame

        return target_checks_frame(self)

def check_targets(network: Network) -> list[TargetCheck]:
    """Every calibration target of the network's file (``targets:``), with the model's value."""
    from gmnet.query_text import ParsedQuery

    checks = []
    for t in network.spec.targets:
        value = network.query(t.target, evidence=dict(t.evidence), do=dict(t.do))[t.state]
        text = str(ParsedQuery(t.target, t.state, dict(t.evidence), dict(t.do)))
        checks.append(TargetCheck(text, float(t.value), float(t.tolerance), value, t.source))
    return checks
