"""The audit: every numeric table of the source document against the network, row by row.

For each row: what the document says, what the network gives and a verdict - reproduced
exactly (to the precision the document prints), within the document's range, or outside it
with the reason. Then the document's internal inconsistencies, each with its arithmetic, and
the region where the document's formula cannot hold in its own decomposition.

The document's numbers live here, transcribed table by table, for comparison only: the
network's numbers come from its own file (and the worldview and scenarios in use).

>>> import gmnet
>>> report = audit(gmnet.load_network())
>>> report.section("Detailed Risk Assessment by Shift Type").verdicts()
{'reproduced': 12}
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from gmnet.analysis.whatif import core_table, neutral_context
from gmnet.errors import GmnetError, InvalidArgumentError
from gmnet.model.network import Network
from gmnet.model.scenarios import ScenarioCatalog, apply_scenarios, load_scenarios

__all__ = [
    "VERDICTS",
    "AuditReport",
    "AuditRow",
    "AuditSection",
    "CappedRegion",
    "Inconsistency",
    "audit",
]

REPRODUCED, WITHIN, OUTSIDE = "reproduced", "within", "outside"
NOT_MODELLED, NO_NUMBER = "not_modelled", "no_number"
VERDICTS = {
    REPRODUCED: "reproduced exactly",
    WITHIN: "within the document's range",
    OUTSIDE: "outside",
    NOT_MODELLED: "not modelled in this network",
    NO_NUMBER: "no number in the document",
}
EPS = 1e-12

# ============================================================================ the document
TYPES = {"superficial": "Type 1", "moderate": "Type 2", "significant": "Type 3",
         "extreme": "Type 4"}
TYPE_NAMES = {"superficial": "Superficial", "moderate": "Moderate", "significant": "Significant",
              "extreme": "Extreme"}
# Detailed Risk Assessment by Shift Type: capability risk (= P(capability transfers)), goal risk
# (= P(goal fails | capability)), P(Misgeneralization).
CORE = {"superficial": ("85%", "12%", "3.6%"), "moderate": ("65%", "28%", "10.0%"),
        "significant": ("55%", "55%", "21.8%"), "extreme": ("45%", "75%", "27.7%")}
# Risk Assessment: likelihood by shift type.
RISK_RANGES = {"superficial": "1-10%", "moderate": "3-22%", "significant": "10-42%",
               "extreme": "13-51%"}
HARM_NOTE = "50-70%"  # the core table's note: P(Harm | fails) assumed at 50-70%
# Expanded formulation: (row, parameter group, range).
MODIFIERS = [("Specification quality modifier", "m_spec", "0.5x-2.0x"),
             ("Capability level modifier", "m_capability", "0.5x-3.0x"),
             ("Training diversity modifier", "m_diversity", "0.7x-1.4x"),
             ("Alignment method modifier", "m_alignment", "0.4x-1.5x")]
# Key Modifying Factors: (variable, node, low-risk state, its words, high-risk state, words, range)
KEY_FACTORS = [
    ("Specification Quality", "spec_quality", "high", "Well-defined metrics (0.9)", "low",
     "Proxy-heavy objectives (0.2)", "0.5x-2.0x"),
    ("Capability Level", "capability_level", "below_human", "Below-human", "superhuman",
     "Superhuman", "0.5x-3.0x"),
    ("Training Diversity", "training_diversity", "diverse", "Adversarially diverse (>0.3)",
     "narrow", "Narrow distribution (<0.1)", "0.7x-1.4x"),
    ("Alignment Method", "alignment_method", "interpretability_verified",
     "Interpretability-verified", "behavioral_cloning", "Behavioral cloning only", "0.4x-1.5x"),
]
# Objective Specification Impact: (quality and score band, state, multiplier)
SPEC_IMPACT = [("High (0.8-1.0)", "high", "0.5x-0.7x"), ("Medium (0.4-0.7)", "medium", "0.8x-1.2x"),
               ("Low (0.0-0.3)", "low", "1.5x-2.0x")]
# Meta-Analysis of Specification Gaming: (study, cases, worldview, (P(cap), P(goal), P(harm)))
META = [("Langosco et al. (2022)", "CoinRun experiments", "langosco-2022", ("95%", "89%", "60%")),
        ("Krakovna et al. (2020)", "Gaming examples", "krakovna-2020", ("87%", "73%", "41%")),
        ("Shah et al. (2022)", "Synthetic tasks", "shah-2022", ("78%", "65%", "35%")),
        ("Pooled Analysis", "60+ cases", "meta-analysis-pooled", ("87%", "76%", "45%"))]
# Application Domain Risk Profiles: (scenario, domain, shift span, specification, current, 2027)
DOMAINS = [("game_ai", "Game AI", "Type 1-2", "High (0.8)", "3-12%", "5-15%"),
           ("content_moderation", "Content Moderation", "Type 2-3", "Medium (0.5)", "12-28%",
            "20-35%"),
           ("autonomous_vehicles", "Autonomous Vehicles", "Type 2-3", "Medium-High (0.6)",
            "8-22%", "12-25%"),
           ("ai_assistants", "AI Assistants", "Type 2-3", "Low (0.3)", "18-35%", "25-40%"),
           ("autonomous_agents", "Autonomous Agents", "Type 3-4", "Low (0.3)", "25-45%",
            "40-60%")]
CURRENT_PERIOD, PROJECTION_PERIOD = "2024-2025", "2026-2027"
# Timeline Projections: (period scenario, capabilities, deployment, risk trajectory)
TIMELINE = [("2024-2025", "Human-level narrow tasks", "Supervised deployment", "Baseline risk"),
            ("2026-2027", "Human-level general tasks", "Semi-autonomous", "1.5x"),
            ("2028-2030", "Superhuman narrow domains", "Autonomous deployment", "2-3x"),
            ("post-2030", "Superhuman AGI", "Critical autonomy", "3-5x")]
# The shift chart (Type Classification Matrix): (label, scenario, capability risk, goal risk)
CHART = [("Language Style", "language_style", 0.15, 0.20),
         ("Simulation-to-Real", "sim_to_real", 0.25, 0.35),
         ("Weather Conditions", "weather_conditions", 0.35, 0.40),
         ("Cross-Cultural Deploy", "cross_cultural", 0.40, 0.45),
         ("Evaluation-to-Deployment", "evaluation_to_deployment", 0.45, 0.90),
         ("Cooperative-to-Competitive", "cooperative_to_competitive", 0.50, 0.75),
         ("Short-to-Long Term", "short_to_long_term", 0.55, 0.70),
         ("Supervised-to-Autonomous", "supervised_to_autonomous", 0.60, 0.85)]
# The shift types the table itself names for an example (others: nearest type, an assumption)
CHART_TABLE_TYPES = {"language_style": "superficial", "sim_to_real": "superficial",
                     "cross_cultural": "moderate", "cooperative_to_competitive": "significant",
                     "evaluation_to_deployment": "extreme"}
# Intervention Effectiveness Analysis: (category, method, risk reduction, nodes)
INTERVENTIONS = [
    ("Prevention", "Diverse adversarial training", "20-40%", ("adversarial_training",)),
    ("Prevention", "Objective specification improvement", "30-50%", ("objective_specification",)),
    ("Prevention", "Interpretability verification", "40-70%", ("interpretability_verification",)),
    ("Detection", "Anomaly monitoring", "Early warning", ("behavior_monitoring",
                                                         "anomaly_detection")),
    ("Detection", "Objective probing", "Behavioral testing", ("objective_probing",)),
    ("Response", "AI Control protocols", "60-90%", ("ai_control",)),
    ("Response", "Gradual deployment", "Variable", ("gradual_deployment",)),
]
CONTEXT_NODES = ("spec_quality", "capability_level", "training_diversity", "alignment_method")
MODIFIER_OF = {"spec_quality": "m_spec", "capability_level": "m_capability",
               "training_diversity": "m_diversity", "alignment_method": "m_alignment"}
PATHWAY = ("shift_type", "capability_transfer", "goal_misgeneralizes", "harm")


# ============================================================================ document numbers
@dataclass(frozen=True)
class DocValue:
    """A number (or range) as the document prints it, with half a unit of its last digit."""

    text: str
    low: float
    high: float
    tol_low: float
    tol_high: float

    @property
    def point(self) -> bool:
        return self.low == self.high

    @property
    def midpoint(self) -> float:
        return (self.low + self.high) / 2


_NUMBER = re.compile(r"(\d+(?:\.(\d+))?)")


def doc(text: str) -> DocValue:
    """Parse "3.6%", "1-10%", "0.5x-2.0x" or "1.5x".

    >>> doc("3.6%").low, doc("3.6%").tol_low
    (0.036, 0.0005)
    >>> doc("0.5x-2.0x").high
    2.0
    """
    scale = 0.01 if "%" in text else 1.0
    numbers = _NUMBER.findall(text)
    if not numbers or len(numbers) > 2:
        raise InvalidArgumentError(f"not a document number: {text!r}")
    values = [float(n) * scale for n, _ in numbers]
    tols = [0.5 * 10 ** -len(dec) * scale for _, dec in numbers]
    values = [round(v, 12) for v in values]
    if len(values) == 1:
        return DocValue(text, values[0], values[0], tols[0], tols[0])
    return DocValue(text, values[0], values[1], tols[0], tols[1])


def _judge(d: DocValue, values: Sequence[float]) -> str:
    """Model value(s) against a document number: reproduced (point) / within (range) / outside."""
    if d.point:
        ok = all(abs(v - d.low) <= d.tol_low + EPS for v in values)
        return REPRODUCED if ok else OUTSIDE
    ok = all(d.low - EPS <= v <= d.high + EPS for v in values)
    return WITHIN if ok else OUTSIDE


def _judge_span(d: DocValue, low: float, high: float) -> str:
    """The model's own range against the document's range."""
    if abs(low - d.low) <= d.tol_low + EPS and abs(high - d.high) <= d.tol_high + EPS:
        return REPRODUCED
    if d.low - EPS <= low and high <= d.high + EPS:
        return WITHIN
    return OUTSIDE


def _pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}%"


def _mult(x: float) -> str:
    return f"{x:.2f}x"


def _joined(values: Sequence[float], fmt, labels: Sequence[str]) -> str:
    """One value if all agree (to the shown precision), else each with its label."""
    texts = [fmt(v) for v in values]
    if len(set(texts)) == 1:
        return texts[0]
    return ", ".join(f"{t} ({lab})" for t, lab in zip(texts, labels, strict=True))


# ============================================================================ results
@dataclass(frozen=True)
class AuditRow:
    """One row of one table: document, model, verdict and the reason for it."""

    row: str
    document: str
    model: str
    verdict: str
    reason: str = ""
    document_value: object = None
    model_value: object = None

    def to_dict(self) -> dict:
        return {"row": self.row, "document": self.document, "model": self.model,
                "verdict": self.verdict, "verdict_text": VERDICTS[self.verdict],
                "reason": self.reason, "document_value": self.document_value,
                "model_value": self.model_value}


@dataclass(frozen=True)
class AuditSection:
    """One table of the document and how the model column is computed."""

    table: str
    method: str
    rows: tuple[AuditRow, ...]

    def verdicts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            out[r.verdict] = out.get(r.verdict, 0) + 1
        return out

    def row(self, label: str) -> AuditRow:
        for r in self.rows:
            if r.row == label:
                return r
        raise KeyError(f"no row {label!r} in {self.table}; rows: "
                       + ", ".join(r.row for r in self.rows))

    def to_dict(self) -> dict:
        return {"table": self.table, "method": self.method, "verdicts": self.verdicts(),
                "rows": [r.to_dict() for r in self.rows]}


@dataclass(frozen=True)
class Inconsistency:
    """A place where the document disagrees with itself, with the arithmetic that shows it."""

    key: str
    title: str
    arithmetic: str
    consequence: str

    def to_dict(self) -> dict:
        return {"key": self.key, "title": self.title, "arithmetic": self.arithmetic,
                "consequence": self.consequence}


@dataclass(frozen=True)
class CappedRegion:
    """Where the document's formula cannot hold in its own decomposition, by shift type."""

    rows: tuple[dict, ...]
    highlight: dict
    note: str

    def to_dict(self) -> dict:
        return {"by_shift_type": list(self.rows), "highlight": self.highlight, "note": self.note}


@dataclass(frozen=True)
class AuditReport:
    network: str
    worldview: str
    rule: str
    context: dict[str, str]
    sections: tuple[AuditSection, ...]
    inconsistencies: tuple[Inconsistency, ...]
    region: CappedRegion | None

    def section(self, table: str) -> AuditSection:
        for s in self.sections:
            if s.table == table:
                return s
        raise KeyError(f"no table {table!r}; tables: " + ", ".join(s.table for s in self.sections))

    def inconsistency(self, key: str) -> Inconsistency:
        for i in self.inconsistencies:
            if i.key == key:
                return i
        raise KeyError(f"no inconsistency {key!r}; keys: "
                       + ", ".join(i.key for i in self.inconsistencies))

    def verdicts(self) -> dict[str, int]:
        out = {v: 0 for v in VERDICTS}
        for s in self.sections:
            for v, n in s.verdicts().items():
                out[v] += n
        return out

    def to_dict(self) -> dict:
        return {"network": self.network, "worldview": self.worldview, "rule": self.rule,
                "context": self.context, "verdicts": self.verdicts(),
                "sections": [s.to_dict() for s in self.sections],
                "inconsistencies": [i.to_dict() for i in self.inconsistencies],
                "capped_region": None if self.region is None else self.region.to_dict()}

    def to_markdown(self) -> str:
        return _markdown(self)

    def to_text(self) -> str:
        return _text(self)


    def to_frame(self):
        """Every audited row as a pandas DataFrame indexed by (table, row)."""
        from gmnet.analysis.frames import audit_frame

        return audit_frame(self)

# ============================================================================ the audit
def audit(network: Network, *, scenarios: ScenarioCatalog | None = None) -> AuditReport:
    """Audit ``network`` (under whatever worldview it carries) against the source document.

    Parameters
    ----------
    network
        The network; apply a worldview first to audit that worldview.
    scenarios
        The scenario catalog for the domain, period and shift-chart rows (default: bundled).
    """
    if not isinstance(network, Network):
        raise InvalidArgumentError(f"audit needs a Network, got {type(network).__name__}")
    missing = [v for v in PATHWAY if v not in network.variables]
    if missing:
        raise InvalidArgumentError(
            f"network {network.name!r} has no {', '.join(missing)}: the audit compares the "
            "goal-misgeneralization pathway with the source document")
    if network.metadata.get("scenarios"):
        raise InvalidArgumentError(
            "the audit applies the document's scenarios itself; give it a network without "
            f"scenarios (this one has {', '.join(network.metadata['scenarios'])})")
    return _Audit(network, scenarios).report()


class _Audit:
    def __init__(self, net: Network, scenarios: ScenarioCatalog | None):
        self.net = net
        self._scenarios = scenarios
        self.ctx = {k: v for k, v in neutral_context(net).items() if k != "shift_type"}
        self.shifts = [s for s in net.states("shift_type") if s in TYPES]
        self.labels = [TYPES[s] for s in self.shifts]

    # ------------------------------------------------------------------ helpers
    @cached_property
    def scenarios(self) -> ScenarioCatalog | None:
        if self._scenarios is not None:
            return self._scenarios
        try:
            return load_scenarios()
        except GmnetError:
            return None

    def harm(self, do: Mapping[str, str], evidence: Mapping[str, str] | None = None,
             net: Network | None = None) -> float:
        return (net or self.net).query("harm", evidence=evidence, do=dict(do))["yes"]

    def harm_at(self, shift: str, **context: str) -> float:
        return self.harm({**self.ctx, **context, "shift_type": shift})

    @cached_property
    def core(self):
        return {r.shift_type: r for r in core_table(self.net, self.ctx)}

    @cached_property
    def context_nodes(self) -> list[str]:
        return [v for v in CONTEXT_NODES if v in self.net.variables]

    @cached_property
    def grid(self) -> dict[tuple[str, ...], float]:
        """P(harm | do(shift, every context combination)), the rest neutral."""
        out = {}
        states = [self.net.states(v) for v in self.context_nodes]
        for shift in self.shifts:
            for combo in itertools.product(*states):
                out[(shift, *combo)] = self.harm_at(shift, **dict(
                    zip(self.context_nodes, combo, strict=True)))
        return out

    def under_scenarios(self, names: Sequence[str]) -> float:
        """P(harm) with scenarios applied and the variables they leave alone held neutral."""
        cat = self.scenarios
        if cat is None:
            raise InvalidArgumentError("no scenario catalog")
        net, evidence = apply_scenarios(self.net, list(names), catalog=cat)
        touched = set().union(*(cat[n].variables for n in names))
        do = {k: v for k, v in self.ctx.items() if k not in touched}
        return self.harm(do, evidence, net=net)

    def multiplier(self, node: str, state: str, shift: str) -> float:
        base = self.harm_at(shift)
        return self.harm_at(shift, **{node: state}) / base if base > 0 else float("nan")

    # ------------------------------------------------------------------ report
    def report(self) -> AuditReport:
        sections = (self.risk_assessment(), self.expanded_formulation(), self.shift_chart(),
                    self.core_section(), self.meta_analysis(), self.key_factors(),
                    self.spec_impact(), self.domains(), self.timeline(), self.interventions(),
                    self.critical_unknowns())
        return AuditReport(self.net.name, self.net.metadata.get("worldview", "document-table"),
                           self.net.rule, dict(self.ctx), sections, tuple(inconsistencies(self)),
                           self.capped_region())

    # ------------------------------------------------------------------ Risk Assessment
    def risk_assessment(self) -> AuditSection:
        rows = []
        for shift in self.shifts:
            d = doc(RISK_RANGES[shift])
            neutral = self.core[shift].p_harmful_misgeneralization
            values = [v for k, v in self.grid.items() if k[0] == shift]
            lo, hi = min(values), max(values)
            verdict = _judge(d, [neutral])
            reason = []
            if verdict == OUTSIDE:
                reason.append(f"the neutral context gives {_pct(neutral)}")
            ceiling = self.core[shift].p_capability_transfer
            if d.high > hi + EPS:
                why = (f": P(capability transfers) is {_pct(ceiling)} and the other factors "
                       "cannot pass 100%" if d.high > ceiling + EPS else "")
                reason.append(f"the upper end {_pct(d.high, 0)} is above the most any context "
                              f"gives ({_pct(hi)}){why}")
            if d.low < lo - EPS:
                reason.append(f"the lower end {_pct(d.low, 0)} is below the least any context "
                              f"gives ({_pct(lo, 2)})")
            rows.append(AuditRow(
                f"{TYPES[shift]} ({TYPE_NAMES[shift]}) likelihood", d.text,
                f"{_pct(neutral)} at the neutral context; {_pct(lo, 2)}-{_pct(hi)} over all "
                "contexts", verdict, "; ".join(reason), [d.low, d.high], [neutral, lo, hi]))
        rows += self._headline_rows()
        return AuditSection(
            "Risk Assessment",
            "P(harm) at the neutral context (no mitigation), and its range over every "
            "combination of specification quality, capability level, training diversity and "
            "alignment method. The headline's words are read as ranges (stated in each row).",
            tuple(rows))

    def _headline_rows(self) -> list[AuditRow]:
        rows = []
        if {"superficial", "extreme"} <= set(self.shifts) and "spec_quality" in self.net.variables:
            low = self.harm_at("superficial", spec_quality="high")
            lowest = min(v for k, v in self.grid.items() if k[0] == "superficial")
            d = DocValue("roughly 1% (read as 0.5-1.5%)", 0.005, 0.015, 0.0, 0.0)
            verdict = _judge(d, [low])
            reason = "" if verdict != OUTSIDE else (
                f"a well-specified objective alone gives {_pct(low)} (Type 1 x the high "
                f"specification multiplier); about 1% also needs more diverse training or a "
                f"better alignment method (the lowest Type 1 value is {_pct(lowest, 2)})")
            rows.append(AuditRow("Headline: minor shift, well-specified objective", d.text,
                                 f"{_pct(low)} (Type 1, high specification, rest neutral)",
                                 verdict, reason, [d.low, d.high], low))
            high = self.harm_at("extreme", spec_quality="low")
            most = max(v for k, v in self.grid.items() if k[0] == "extreme" and "low" in k[1:2])
            d = DocValue("over 50%", 0.5, 1.0, 0.0, 0.0)
            verdict = _judge(d, [high])
            ceiling = self.core["extreme"].p_capability_transfer
            reason = "" if verdict != OUTSIDE else (
                f"Type 4 with a low-quality specification gives {_pct(high)} at the neutral "
                f"context and at most {_pct(most)} in any context: P(harm) cannot pass "
                f"P(capability transfers) = {_pct(ceiling)}")
            rows.append(AuditRow("Headline: extreme shift, poorly specified goal", d.text,
                                 f"{_pct(high)} (Type 4, low specification, rest neutral); "
                                 f"at most {_pct(most)}", verdict, reason, [d.low, d.high],
                                 [high, most]))
        return rows

    # ------------------------------------------------------------------ Expanded formulation
    def expanded_formulation(self) -> AuditSection:
        rows = []
        pm = [self.core[s].p_harmful_misgeneralization for s in self.shifts]
        d = doc("3.6%-27.7%")
        rows.append(AuditRow("Base probability for distribution shift type S", d.text,
                             f"{_pct(min(pm))}-{_pct(max(pm))} (Types 1-4, neutral context)",
                             _judge_span(d, min(pm), max(pm)), "", [d.low, d.high],
                             [min(pm), max(pm)]))
        for label, group, text in MODIFIERS:
            d = doc(text)
            params = [p for p in self.net.parameters.values() if p.group == group]
            if not params:
                rows.append(AuditRow(label, d.text, "-", NOT_MODELLED,
                                     f"the network has no parameter {group}"))
                continue
            points = [p.value for p in params]
            lows = [p.low if p.low is not None else p.value for p in params]
            highs = [p.high if p.high is not None else p.value for p in params]
            lo, hi = min(lows), max(highs)
            verdict = _judge_span(d, lo, hi)
            reason = ""
            if verdict == OUTSIDE:
                culprits = [p for p in params if (p.low is not None and p.low < d.low - EPS)
                            or (p.high is not None and p.high > d.high + EPS)]
                reason = "; ".join(f"{p.name}'s range {_mult(p.low)}-{_mult(p.high)} passes "
                                   "the document's span" for p in culprits)
                reason += (f" (the point values span {_mult(min(points))}-{_mult(max(points))}; "
                           "see the interpretability-three-ways inconsistency)"
                           if group == "m_alignment" else "")
            rows.append(AuditRow(label, d.text,
                                 f"{_mult(lo)}-{_mult(hi)} (points {_mult(min(points))}-"
                                 f"{_mult(max(points))})", verdict, reason,
                                 [d.low, d.high], [lo, hi]))
        return AuditSection(
            "Expanded formulation (modifiers)",
            "The span of the network's parameters for each modifier: lowest range end to highest "
            "range end (the point values in brackets); the base is the core table's P(M).",
            tuple(rows))

    # ------------------------------------------------------------------ shift chart
    def shift_chart(self) -> AuditSection:
        rows = []
        cat = self.scenarios
        for label, name, x, y in CHART:
            document = f"({x:.2f}, {y:.2f}); quadrant {_quadrant(x, y)}"
            if cat is None or name not in cat:
                rows.append(AuditRow(label, document, "-", NOT_MODELLED,
                                     f"no scenario {name!r}"))
                continue
            scenario = cat[name]
            shift = scenario.evidence.get("shift_type")
            if shift not in self.core:
                rows.append(AuditRow(label, document, "-", NOT_MODELLED,
                                     f"scenario {name!r} observes no known shift type"))
                continue
            core = self.core[shift]
            cap_risk = 1 - core.p_capability_transfer
            goal_risk = core.p_goal_fails_given_capability
            try:
                p = self.under_scenarios([name])
            except GmnetError as exc:
                rows.append(AuditRow(label, document, "-", NOT_MODELLED, str(exc)))
                continue
            ok = abs(cap_risk - x) <= 0.005 + EPS and abs(goal_risk - y) <= 0.005 + EPS
            reasons = []
            if not ok:
                reasons.append(f"the chart puts it at ({x:.2f}, {y:.2f}), {TYPES[shift]}'s "
                               f"factors are ({cap_risk:.2f}, {goal_risk:.2f}); scenario {name} "
                               "uses the chart's point")
            origin = ("the table's type" if CHART_TABLE_TYPES.get(name) == shift
                      else "the nearest type, an assumption")
            quadrant = _quadrant(x, y)
            if TYPES[shift] not in quadrant:
                reasons.append(f"its quadrant is {quadrant}, but it is {TYPES[shift]} "
                               f"({origin})")
            rows.append(AuditRow(
                label, document,
                f"{TYPES[shift]}, {origin}: ({cap_risk:.2f}, {goal_risk:.2f}); "
                f"P(harm) under scenario {name}: {_pct(p)}",
                REPRODUCED if ok else OUTSIDE, "; ".join(reasons), [x, y],
                {"shift_type": shift, "type_point": [cap_risk, goal_risk], "p_harm": p}))
        return AuditSection(
            "Type Classification Matrix (shift chart)",
            "Capability risk read as 1 - P(capability transfers), goal risk as P(goal fails | "
            "capability). Each example is compared with the factors of its shift type in the "
            "network (neutral context); its scenario replaces them with the chart's point and "
            "gives P(harm).",
            tuple(rows))

    # ------------------------------------------------------------------ core table
    def core_section(self) -> AuditSection:
        rows = []
        for shift in self.shifts:
            r = self.core[shift]
            cap, goal, pm = (doc(t) for t in CORE[shift])
            name = f"{TYPES[shift]} ({TYPE_NAMES[shift]})"
            product = (f"= {_pct(r.p_capability_transfer)} x "
                       f"{_pct(r.p_goal_fails_given_capability)} x "
                       f"{_pct(r.p_harm_given_failure)}")
            for what, d, value in (("P(capability transfers)", cap, r.p_capability_transfer),
                                   ("P(goal fails | capability)", goal,
                                    r.p_goal_fails_given_capability),
                                   ("P(Misgeneralization)", pm, r.p_harmful_misgeneralization)):
                verdict = _judge(d, [value])
                reason = ""
                if verdict == OUTSIDE:
                    reason = f"{_pct(value, 2)} differs from {d.text}"
                    if what == "P(Misgeneralization)":
                        reason += f" ({product}, P(harm | goal fails) last)"
                rows.append(AuditRow(f"{name}: {what}", d.text, _pct(value, 2), verdict, reason,
                                     d.low, value))
        return AuditSection(
            "Detailed Risk Assessment by Shift Type",
            "Interventional queries at the neutral context with no mitigation: "
            "P(capability_transfer=yes | do(shift)), P(goal_misgeneralizes=yes | "
            "capability_transfer=yes, do(shift)), P(harm=yes | do(shift)).",
            tuple(rows))

    # ------------------------------------------------------------------ meta-analysis
    def meta_analysis(self) -> AuditSection:
        rows = []
        pm = [self.core[s].p_harmful_misgeneralization for s in self.shifts]
        lo, hi = min(pm), max(pm)
        caps = [self.core[s].p_capability_transfer for s in self.shifts]
        goals = [self.core[s].p_goal_fails_given_capability for s in self.shifts]
        harms = [self.core[s].p_harm_given_failure for s in self.shifts]
        for study, cases, worldview, texts in META:
            cap, goal, harm = (doc(t).low for t in texts)
            tol = doc(texts[0]).tol_low
            product = cap * goal * harm
            verdict = WITHIN if lo - EPS <= product <= hi + EPS else OUTSIDE
            reasons = []
            for what, v, own in (("P(capability transfer)", cap, caps),
                                 ("P(goal failure | capability)", goal, goals),
                                 ("P(harm | failure)", harm, harms)):
                if not min(own) - tol - EPS <= v <= max(own) + tol + EPS:
                    reasons.append(f"its {what} {_pct(v, 0)} lies outside the network's "
                                   f"{_pct(min(own))}-{_pct(max(own))}")
            if verdict == OUTSIDE:
                side = "above" if product > hi else "below"
                reasons.insert(0, f"{_pct(product)} is {side} every shift type's P(M)")
            reasons.append(f"worldview {worldview} applies these numbers to every shift type")
            rows.append(AuditRow(
                f"{study}, {cases}", f"{' x '.join(texts)} = {_pct(product)}",
                f"network P(M) {_pct(lo)}-{_pct(hi)} (Types 1-4)", verdict,
                "; ".join(reasons), [cap, goal, harm, product], [lo, hi]))
        return AuditSection(
            "Meta-Analysis of Specification Gaming",
            "Each study's product P(capability) x P(goal fails | capability) x P(harm | fails) "
            "against the network's P(M) across shift types at the neutral context: does the "
            "network's range cover the evidence it cites?",
            tuple(rows))

    # ------------------------------------------------------------------ Key Modifying Factors
    def key_factors(self) -> AuditSection:
        rows = []
        for variable, node, good, good_text, bad, bad_text, text in KEY_FACTORS:
            d = doc(text)
            label = f"{variable}: {good_text} / {bad_text}"
            if node not in self.net.variables:
                rows.append(AuditRow(label, d.text, "-", NOT_MODELLED, f"no node {node}"))
                continue
            low_m = [self.multiplier(node, good, s) for s in self.shifts]
            high_m = [self.multiplier(node, bad, s) for s in self.shifts]
            verdict = _judge(d, low_m + high_m)
            reasons = []
            group = MODIFIER_OF.get(node)
            for state, realised in ((good, low_m), (bad, high_m)):
                name = f"{group}.{state}"
                if name not in self.net.parameters:
                    continue
                point = self.net.parameters[name].value
                capped = [lab for lab, m in zip(self.labels, realised, strict=True)
                          if abs(m - point) > 1e-9]
                if capped:
                    reasons.append(f"{state} is {_mult(point)} but the relative-risk rule caps "
                                   f"the factor at 100% for {', '.join(capped)}")
                if not d.low - EPS <= point <= d.high + EPS:
                    reasons.append(f"{name} = {_mult(point)} lies outside {d.text}")
            for end in (d.low, d.high):
                if all(abs(m - end) > 1e-6 for m in low_m + high_m):
                    reasons.append(f"the end {_mult(end)} is not reached at the point values")
            rows.append(AuditRow(
                label, d.text,
                f"{_joined(low_m, _mult, self.labels)} / {_joined(high_m, _mult, self.labels)}",
                verdict, "; ".join(reasons), [d.low, d.high], {"low_risk": low_m,
                                                               "high_risk": high_m}))
        return AuditSection(
            "Key Modifying Factors",
            "The multiplier each configuration realises on P(harm): P(harm | do(state)) / "
            "P(harm | do(neutral state)), other context neutral, per shift type (shown once "
            "when equal for all four).",
            tuple(rows))

    # ------------------------------------------------------------------ Objective Spec. Impact
    def spec_impact(self) -> AuditSection:
        rows = []
        if "spec_quality" not in self.net.variables:
            return AuditSection("Objective Specification Impact", "", (AuditRow(
                "all rows", "-", "-", NOT_MODELLED, "no node spec_quality"),))
        for label, state, text in SPEC_IMPACT:
            d = doc(text)
            realised = [self.multiplier("spec_quality", state, s) for s in self.shifts]
            verdict = _judge(d, realised)
            reasons = []
            name = f"m_spec.{state}"
            param = self.net.parameters.get(name)
            for lab, shift, m in zip(self.labels, self.shifts, realised, strict=True):
                if not d.low - EPS <= m <= d.high + EPS:
                    goal = self.core[shift].p_goal_fails_given_capability
                    point = param.value if param else float("nan")
                    reasons.append(f"{lab}: {_pct(goal, 0)} x {point:g} = {_pct(goal * point, 0)}"
                                   f" is capped at 100%, so the multiplier is {_mult(m)}")
            rng = ("" if param is None or param.low is None
                   else f"; {name} {param.value:g} in [{param.low:g}, {param.high:g}]")
            rows.append(AuditRow(label, d.text, _joined(realised, _mult, self.labels) + rng,
                                 verdict, "; ".join(reasons), [d.low, d.high], realised))
        return AuditSection(
            "Objective Specification Impact",
            "P(harm | do(spec_quality=state)) / P(harm | do(spec_quality=medium)), other context "
            "neutral, per shift type.",
            tuple(rows))

    # ------------------------------------------------------------------ domains
    def domains(self) -> AuditSection:
        rows = []
        cat = self.scenarios
        for name, domain, span, spec, current, projected in DOMAINS:
            for period, text, when in ((CURRENT_PERIOD, current, "current"),
                                       (PROJECTION_PERIOD, projected, "2027")):
                d = doc(text)
                label = f"{domain} ({span}, {spec}), {when}"
                if cat is None or name not in cat or period not in cat:
                    rows.append(AuditRow(label, d.text, "-", NOT_MODELLED,
                                         f"no scenario {name!r} or {period!r}"))
                    continue
                try:
                    p = self.under_scenarios([name, period])
                except GmnetError as exc:
                    rows.append(AuditRow(label, d.text, "-", NOT_MODELLED, str(exc)))
                    continue
                verdict = _judge(d, [p])
                reasons = []
                model = f"{_pct(p)} (scenarios {name} + {period})"
                if when == "2027":
                    now = self.under_scenarios([name, CURRENT_PERIOD])
                    model += f", {p / now:.2f}x current"
                if verdict == OUTSIDE:
                    gap = p - d.high if p > d.high else d.low - p
                    side = "above" if p > d.high else "below"
                    reasons.append(f"{_pct(gap)} {side} the range")
                ceiling = self._span_ceiling(cat[name])
                if ceiling is not None and d.high > ceiling + EPS:
                    reasons.append(f"the upper end {_pct(d.high, 0)} is out of reach: no context "
                                   f"lets P(harm) pass {_pct(ceiling)}, the highest P(capability "
                                   "transfers) in the span")
                rows.append(AuditRow(label, d.text, model, verdict, "; ".join(reasons),
                                     [d.low, d.high], p))
        return AuditSection(
            "Application Domain Risk Profiles",
            f"P(harm) under the domain's scenario with period {CURRENT_PERIOD} (current) or "
            f"{PROJECTION_PERIOD} (2027); training diversity, alignment method and mitigations "
            "neutral (do). Shift-type span = evidence that the shift lies in it; specification "
            "score = the Objective Specification Impact band containing it (0.8 high, 0.5 and "
            "0.6 medium, 0.3 low).",
            tuple(rows))

    def _span_ceiling(self, scenario) -> float | None:
        span = scenario.within.get("shift_type")
        if not span:
            return None
        return max(self.core[s].p_capability_transfer for s in span if s in self.core)

    # ------------------------------------------------------------------ timeline
    def timeline(self) -> AuditSection:
        rows = []
        cat = self.scenarios
        if cat is None or any(p not in cat for p, *_ in TIMELINE):
            return AuditSection("Timeline Projections", "", (AuditRow(
                "all rows", "-", "-", NOT_MODELLED, "the period scenarios are missing"),))
        base = self.under_scenarios([TIMELINE[0][0]])
        touched = set().union(*(cat[p].variables for p, *_ in TIMELINE))
        rest = {k: v for k, v in self.ctx.items() if k not in touched}
        caps = [s for s in self.net.states("capability_level")] \
            if "capability_level" in self.net.variables else [None]
        ceiling = max(self.harm({**rest, "shift_type": s,
                                 **({"capability_level": c} if c else {})})
                      for s in self.shifts for c in caps)
        for period, capability, deployment, trajectory in TIMELINE:
            p = self.under_scenarios([period])
            ratio = p / base
            label = f"{period}: {capability}, {deployment}"
            if trajectory == "Baseline risk":
                rows.append(AuditRow(label, trajectory, f"{_pct(p, 2)} (1.00x)", NO_NUMBER,
                                     "the reference for the ratios below", None, p))
                continue
            d = doc(trajectory)
            verdict = _judge(d, [ratio])
            reasons = []
            if d.high * base > ceiling + EPS:
                reasons.append(f"{d.high:g}x the baseline would be {_pct(d.high * base)}, above "
                               f"the {_pct(ceiling, 2)} this context allows for any shift type "
                               f"and capability level: at most {ceiling / base:.2f}x")
            if verdict == OUTSIDE:
                reasons.insert(0, f"the period's distributions give {ratio:.2f}x")
            rows.append(AuditRow(label, f"{trajectory} increase", f"{_pct(p, 2)} ({ratio:.2f}x)",
                                 verdict, "; ".join(reasons), [d.low, d.high], ratio))
        return AuditSection(
            "Timeline Projections",
            "P(harm) under each period's scenario (its shift-type and capability-level "
            "distributions), specification quality, training diversity, alignment method and "
            f"mitigations neutral (do); ratio to {TIMELINE[0][0]}. Nothing multiplies the answer: "
            "the ratio follows from the changed distributions.",
            tuple(rows))

    # ------------------------------------------------------------------ interventions
    def interventions(self) -> AuditSection:
        rows = []
        mitigations = [v for v in self.net.variables if self.net.node(v).role == "mitigation"
                       and "off" in self.net.states(v)]
        off = {**self.ctx, **{m: "off" for m in mitigations}}
        for category, method, text, nodes in INTERVENTIONS:
            label = f"{category}: {method}"
            present = [n for n in nodes if n in mitigations and "on" in self.net.states(n)]
            if not present:
                rows.append(AuditRow(label, text, "-",
                                     NO_NUMBER if not any(c.isdigit() for c in text)
                                     else NOT_MODELLED,
                                     f"not modelled in this network (no node "
                                     f"{' or '.join(nodes)})"))
                continue
            reductions = {}
            for n in present:
                values = []
                for s in self.shifts:
                    before = self.harm({**off, "shift_type": s})
                    after = self.harm({**off, "shift_type": s, n: "on"})
                    values.append(1 - after / before if before > 0 else float("nan"))
                reductions[n] = values
            shown = "; ".join(f"{n} alone: {_joined(v, _pct, self.labels)}"
                              for n, v in reductions.items())
            if not any(c.isdigit() for c in text):
                rows.append(AuditRow(label, text, shown, NO_NUMBER,
                                     "the document gives no number", None, reductions))
                continue
            d = doc(text)
            values = [x for v in reductions.values() for x in v]
            verdict = _judge(d, values)
            mid = sum(values) / len(values)
            reason = (f"midpoint {_pct(d.midpoint, 0)}; mean over shift types {_pct(mid)}"
                      if verdict != OUTSIDE else
                      f"outside {d.text} (midpoint {_pct(d.midpoint, 0)})")
            rows.append(AuditRow(label, text, shown, verdict, reason, [d.low, d.high],
                                 reductions))
        return AuditSection(
            "Intervention Effectiveness Analysis",
            "1 - P(harm | do(neutral, mitigation on)) / P(harm | do(neutral)), every other "
            "mitigation off, per shift type.",
            tuple(rows))

    # ------------------------------------------------------------------ critical unknowns
    def critical_unknowns(self) -> AuditSection:
        rows = [AuditRow("LLM vs RL Generalization", "±50% on estimates", "-", NOT_MODELLED,
                         "no node separates language models from RL agents; worldviews and the "
                         "parameters' ranges carry this uncertainty")]
        d = doc("0.4x")
        param = self.net.parameters.get("m_alignment.interpretability_verified")
        if param is None:
            rows.append(AuditRow("Interpretability Feasibility", "0.4x if successful", "-",
                                 NOT_MODELLED,
                                 "no parameter m_alignment.interpretability_verified"))
        else:
            verdict = _judge(d, [param.value])
            rows.append(AuditRow("Interpretability Feasibility", "0.4x if successful",
                                 f"m_alignment.interpretability_verified = {_mult(param.value)}",
                                 verdict, "" if verdict != OUTSIDE else
                                 f"{_mult(param.value)} differs from 0.4x", 0.4, param.value))
        sup = self.net.parameters.get("m_capability.superhuman")
        rows.append(AuditRow("Superhuman Capability Effects", "Direction unknown",
                             "-" if sup is None else
                             f"m_capability.superhuman = {_mult(sup.value)}", NO_NUMBER,
                             "the network takes the Key Modifying Factors' direction (more "
                             "capability, more harm)" if sup is not None else ""))
        rows.append(AuditRow("Goal Identity Across Contexts", "Measurement validity", "-",
                             NO_NUMBER, ""))
        return AuditSection("Critical Unknowns", "The numeric entries against the network's "
                            "parameters.", tuple(rows))

    # ------------------------------------------------------------------ capped region
    def capped_region(self) -> CappedRegion | None:
        params = self.net.parameters
        groups = [MODIFIER_OF[v] for v in self.context_nodes]
        if len(groups) < 4 or not all(f"p_goal_failure.{s}" in params for s in self.shifts):
            return None
        states = {v: self.net.states(v) for v in self.context_nodes}
        goal_nodes = [v for v in self.context_nodes if v != "capability_level"]
        rows = []
        for shift in self.shifts:
            r = self.core[shift]
            base = r.p_harmful_misgeneralization
            cap = r.p_capability_transfer
            goal = r.p_goal_fails_given_capability
            harm_f = r.p_harm_given_failure
            combos = list(itertools.product(*(states[v] for v in self.context_nodes)))
            formula = {}
            for combo in combos:
                m = 1.0
                for v, s in zip(self.context_nodes, combo, strict=True):
                    m *= params[f"{MODIFIER_OF[v]}.{s}"].value
                formula[combo] = base * m
            over_ceiling = sum(1 for f in formula.values() if f > cap + EPS)
            over_one = sum(1 for f in formula.values() if f > 1 + EPS)
            goal_capped = []
            for combo in itertools.product(*(states[v] for v in goal_nodes)):
                m = 1.0
                for v, s in zip(goal_nodes, combo, strict=True):
                    m *= params[f"{MODIFIER_OF[v]}.{s}"].value
                if goal * m > 1 + EPS:
                    goal_capped.append(dict(zip(goal_nodes, combo, strict=True)))
            harm_capped = [c for c in states["capability_level"]
                           if harm_f * params[f"m_capability.{c}"].value > 1 + EPS]
            network_max = max(v for k, v in self.grid.items() if k[0] == shift)
            rows.append({
                "shift_type": shift, "combinations": len(combos),
                "formula_above_decomposition": over_ceiling, "formula_above_one": over_one,
                "formula_max": max(formula.values()), "decomposition_ceiling": cap,
                "goal_factor_capped": len(goal_capped),
                "goal_combinations": len(list(itertools.product(
                    *(states[v] for v in goal_nodes)))),
                "harm_factor_capped_at": harm_capped, "network_max": network_max})
        highlight = {}
        if "extreme" in self.core:
            r = self.core["extreme"]
            g = r.p_goal_fails_given_capability * params["m_spec.low"].value
            rest = [v for v in goal_nodes if v != "spec_quality"]
            capped = []
            for combo in itertools.product(*(states[v] for v in rest)):
                m = g
                for v, s in zip(rest, combo, strict=True):
                    m *= params[f"{MODIFIER_OF[v]}.{s}"].value
                if m > 1 + EPS:
                    capped.append(dict(zip(rest, combo, strict=True)))
            formula = r.p_harmful_misgeneralization * params["m_spec.low"].value
            rr = self.harm_at("extreme", spec_quality="low")
            other = self.net.with_rule("odds_ratio" if self.net.rule == "relative_risk"
                                       else "relative_risk")
            alt = self.harm({**self.ctx, "shift_type": "extreme", "spec_quality": "low"},
                            net=other)
            highlight = {
                "case": "Type 4 (extreme) with a low-quality specification, rest neutral",
                "goal_factor": g, "capped_combinations": capped,
                "formula": formula, "network": rr, "network_rule": self.net.rule,
                "other_rule": other.rule, "other_rule_value": alt,
                "ceiling": r.p_capability_transfer}
        note = ("The document's formula P(M) = base(S) x m_spec x m_capability x m_diversity x "
                "m_alignment, against its decomposition P(M) = P(capability) x P(goal fails | "
                "capability) x P(harm | fails): no factor can pass 100%, so P(M) can never pass "
                "P(capability transfers). Under the relative-risk rule the network caps the goal "
                "factor (base goal risk x m_spec x m_diversity x m_alignment) and the harm factor "
                "(P(harm | fails) x m_capability) at 100%.")
        return CappedRegion(tuple(rows), highlight, note)


def _quadrant(x: float, y: float) -> str:
    """The chart's quadrant labels: Type 1 low/low, Type 2 high capability risk / low goal risk,
    Type 3 low / high, Type 4 high / high; a point on the 0.5 line sits between two."""
    xs = ["low"] if x < 0.5 else (["low", "high"] if x == 0.5 else ["high"])
    ys = ["low"] if y < 0.5 else (["low", "high"] if y == 0.5 else ["high"])
    names = {("low", "low"): "Type 1", ("high", "low"): "Type 2", ("low", "high"): "Type 3",
             ("high", "high"): "Type 4"}
    found = [names[(a, b)] for a in xs for b in ys]
    return found[0] if len(found) == 1 else " / ".join(found) + " (on the line)"


# ============================================================================ inconsistencies
def inconsistencies(a: _Audit | None = None) -> list[Inconsistency]:
    """The document's internal inconsistencies, computed from its own numbers."""
    core = {s: tuple(doc(t).low for t in CORE[s]) for s in CORE}
    out = []
    implied = {s: pm / (cap * goal) for s, (cap, goal, pm) in core.items()}
    note = doc(HARM_NOTE)
    out.append(Inconsistency(
        "harm-given-failure-note",
        "P(harm | goal fails): the table's note (50-70%) against its own P(Misgeneralization) "
        "column",
        "; ".join(f"{TYPES[s]}: {_pct(pm)} / ({_pct(cap, 0)} x {_pct(goal, 0)}) = "
                  f"{_pct(implied[s])}" for s, (cap, goal, pm) in core.items())
        + ". With 50-70% the column would read "
        + ", ".join(f"{_pct(cap * goal * note.low)}-{_pct(cap * goal * note.high)}"
                    for cap, goal, _ in core.values()) + ".",
        "The network follows the column (worldview document-table reproduces it exactly); "
        "worldview document-note follows the note (60%, range 50-70%)."))
    pooled = [doc(t).low for t in META[-1][3]]
    prod = math.prod(pooled)
    studies = [(m[0], math.prod(doc(t).low for t in m[3])) for m in META[:-1]]
    out.append(Inconsistency(
        "pooled-above-type-4",
        "The pooled meta-analysis implies more risk than the most extreme shift type",
        f"87% x 76% x 45% = {_pct(prod)} > Type 4's 27.7%; the studies: "
        + ", ".join(f"{n} {_pct(p)}" for n, p in studies) + ".",
        "Worldview meta-analysis-pooled applies the pooled numbers; the audit's Meta-Analysis "
        "table shows which studies the network's range covers."))
    mods = [doc(t) for _, _, t in MODIFIERS]
    full = math.prod(d.high for d in mods)
    least = math.prod(d.low for d in mods)
    cap4, goal4, pm4 = core["extreme"]
    out.append(Inconsistency(
        "modifiers-beyond-decomposition",
        "The modifiers can multiply P(M) beyond what its own decomposition allows",
        f"largest product of modifiers {' x '.join(f'{d.high:g}' for d in mods)} = {full:.1f}x; "
        f"Type 4 with a poorly specified goal alone: {_pct(pm4)} x 2.0 = {_pct(pm4 * 2)}, but "
        f"P(M) <= P(capability transfers) = {_pct(cap4, 0)} for Type 4 whatever the other two "
        "factors. 'Over 50% for extreme shifts with poorly specified goals' needs capability "
        "transfer to rise too.",
        "Under the relative-risk rule the network caps each factor at 100% (see the capped "
        "region below); the odds-ratio rule never reaches 100%."))
    align = None
    if a is not None:
        p = a.net.parameters.get("m_alignment.interpretability_verified")
        mit = a.net.parameters.get("m_interpretability_verification")
        align = (p, mit)
    consequence = ("The network keeps 0.4x for the alignment state (range 0.3x-0.6x from the "
                   "intervention table)")
    if align and align[1] is not None:
        consequence += (f"; the interpretability_verification mitigation takes "
                        f"{_mult(align[1].value)} (the intervention table's midpoint)")
    out.append(Inconsistency(
        "interpretability-three-ways",
        "One lever, three numbers: interpretability verification",
        "Key Modifying Factors: interpretability-verified alignment 0.4x; Intervention "
        "Effectiveness: interpretability verification 40-70% reduction = 0.3x-0.6x (midpoint "
        "0.45x); Critical Unknowns: 0.4x if successful.",
        consequence + "."))
    ratios = []
    for s in CORE:
        r = doc(RISK_RANGES[s])
        ratios.append(f"{TYPES[s]} {r.text} = {r.low / core[s][2]:.2f}x-{r.high / core[s][2]:.2f}x"
                      f" of {_pct(core[s][2])}")
    out.append(Inconsistency(
        "risk-ranges-not-derivable",
        "The Risk Assessment ranges follow from no single modifier span",
        "; ".join(ratios) + f"; the modifiers span {least:.2f}x-{full:.1f}x.",
        "The audit treats the ranges as targets: the neutral context must fall inside; the "
        "network's range over all contexts is shown beside."))
    out.append(Inconsistency(
        "citations",
        "Citations that point at the wrong papers",
        "The references describe the link given for Krakovna et al. (2020) as a condensed-matter "
        "physics paper (higher-order topological insulators) and the one for Pan et al. (2022) "
        "as a dataset of maths word problems (TabMWP).",
        "gmnet cites studies by author and year only and does not rely on those links."))
    r4 = doc(RISK_RANGES["extreme"])
    out.append(Inconsistency(
        "type-4-range-ceiling",
        "The Type 4 likelihood range reaches past its own ceiling",
        f"Risk Assessment: Type 4 {r4.text}; but P(M) <= P(capability transfers) = "
        f"{_pct(cap4, 0)} for Type 4, so {_pct(r4.high, 0)} is unreachable.",
        "The network's Type 4 P(harm) never passes 45%."))
    agents = next(dm for dm in DOMAINS if dm[0] == "autonomous_agents")
    fut = doc(agents[5])
    ceiling = max(core["significant"][0], core["extreme"][0])
    out.append(Inconsistency(
        "agents-2027-ceiling",
        "Autonomous agents' 2027 projection reaches past the Type 3-4 ceiling",
        f"Application Domain Risk Profiles: autonomous agents 2027 {fut.text}; a Type 3-4 "
        f"deployment cannot pass P(capability transfers) = {_pct(core['significant'][0], 0)} "
        f"(Type 3) or {_pct(cap4, 0)} (Type 4), so at most {_pct(ceiling, 0)}.",
        "The audit's domain row says the upper end is out of reach."))
    mids = []
    for _, domain, _, _, current, projected in DOMAINS:
        c, f = doc(current), doc(projected)
        mids.append(f"{domain} {f.midpoint / c.midpoint:.2f}x")
    out.append(Inconsistency(
        "timeline-vs-domains",
        "The 2027 domain projections grow less than the Timeline's 1.5x",
        "Timeline Projections: 2026-2027 1.5x; Application Domain Risk Profiles, 2027 midpoint "
        "over current midpoint: " + ", ".join(mids) + ".",
        "The period scenarios are tuned to meet both within their ranges; the ratios they give "
        "are in the Timeline and domain tables above."))
    harm_f = [core[s][2] / (core[s][0] * core[s][1]) for s in CORE]
    cap_hi = doc(MODIFIERS[1][2]).high
    out.append(Inconsistency(
        "capability-multiplier-unreachable",
        "The capability modifier's 3.0x cannot act on harm given failure",
        f"P(harm | goal fails) implied by the core table is {_pct(min(harm_f))}-"
        f"{_pct(max(harm_f))}; x{cap_hi:g} gives {_pct(min(harm_f) * cap_hi, 0)}-"
        f"{_pct(max(harm_f) * cap_hi, 0)}, all above 100%. If the modifier acts on P(M) "
        "instead, it meets the ceiling of the modifiers-beyond-decomposition entry.",
        "The network applies it to harm given failure and caps at 100%: superhuman capability "
        "realises 1.22x-2.83x (Key Modifying Factors row)."))
    harms = [doc(m[3][2]).low for m in META]
    out.append(Inconsistency(
        "meta-analysis-vs-note",
        "The meta-analysis does not support the note's P(harm | goal fails) of 50-70%",
        "Meta-Analysis P(Harm | Failure): " + ", ".join(f"{m[0]} {m[3][2]}" for m in META)
        + f" ({_pct(min(harms), 0)}-{_pct(max(harms), 0)}); note: 50-70%; the core table's "
        f"implied values for Types 3-4 ({_pct(harm_f[2])}, {_pct(harm_f[3])}) are above every "
        "study.",
        "Three worldviews (document-table, document-note, meta-analysis-pooled) let you choose."))
    quads = []
    for label, name, x, y in CHART:
        t = CHART_TABLE_TYPES.get(name)
        if t and TYPES[t] not in _quadrant(x, y):
            quads.append(f"{label} ({x:.2f}, {y:.2f}) sits in the {_quadrant(x, y)} quadrant, "
                         f"the table calls it {TYPES[t]}")
    empty = [t for t in ("Type 1", "Type 2", "Type 3", "Type 4")
             if not any(_quadrant(x, y) == t for _, _, x, y in CHART)]
    out.append(Inconsistency(
        "chart-vs-table",
        "The shift chart's quadrants disagree with the table's shift types",
        "; ".join(quads) + (f"; no example lies inside the {', '.join(empty)} quadrant"
                            if empty else "")
        + "; and no example sits at its type's factors (Language Style's goal risk is 0.20, "
        "Type 1's 12%).",
        "Each example scenario observes the table's type (nearest type where the table is "
        "silent) and replaces that type's two factors with the chart's point."))
    means = [sum(doc(m[3][i]).low for m in META[:-1]) / 3 for i in range(3)]
    mean_products = sum(p for _, p in studies) / len(studies)
    out.append(Inconsistency(
        "pooled-is-unweighted-mean",
        "The 'pooled analysis of 60+ cases' is the unweighted mean of three studies",
        "(95 + 87 + 78) / 3 = {:.1f}%, (89 + 73 + 65) / 3 = {:.1f}%, (60 + 41 + 35) / 3 = "
        "{:.1f}%: the pooled row rounded. The mean of the studies' products is {}, not "
        "the product of the means ({}).".format(*(100 * m for m in means), _pct(mean_products),
                                                 _pct(prod)),
        "Worldview meta-analysis-pooled gives the pooled row the three studies' spread as "
        "its range."))
    out.append(Inconsistency(
        "specification-bands",
        "The specification-score bands leave gaps",
        "Objective Specification Impact: High 0.8-1.0, Medium 0.4-0.7, Low 0.0-0.3: a score of "
        "0.35 or 0.75 falls in no band; the domains' 'Medium-High (0.6)' lies inside Medium.",
        "Domain scenarios map each score to the band containing it (0.8 high, 0.5 and 0.6 "
        "medium, 0.3 low)."))
    return out


# ============================================================================ formatting
def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _markdown(report: AuditReport) -> str:
    lines = [
        "# Validation: the source document's tables against the network",
        "",
        "<!-- Generated by `gmnet audit --markdown --out docs/validation.md`. Do not edit by hand:"
        " tests/test_audit.py fails when this file is stale. -->",
        "",
        f"Network `{report.network}`, worldview `{report.worldview}`, combination rule "
        f"`{report.rule}`. Neutral context: "
        + ", ".join(f"{k}={v}" for k, v in report.context.items()) + ".",
        "",
        "Verdicts: **reproduced** exactly (to the precision the document prints), **within** "
        "the document's range, **outside** it (with the reason), **not modelled** in this "
        "network, or **no number** in the document. docs/scenarios.md explains the scenarios "
        "and worldviews the tables use.",
        "",
        "| Table | " + " | ".join(VERDICTS[v] for v in VERDICTS) + " |",
        "|---|" + "---:|" * len(VERDICTS),
    ]
    for s in report.sections:
        counts = s.verdicts()
        lines.append(f"| {s.table} | " + " | ".join(str(counts.get(v, 0)) for v in VERDICTS)
                     + " |")
    total = report.verdicts()
    lines.append("| **all** | " + " | ".join(f"**{total[v]}**" for v in VERDICTS) + " |")
    for s in report.sections:
        lines += ["", f"## {s.table}", "", s.method, "",
                  "| Row | Document | Model | Verdict | Reason |", "|---|---|---|---|---|"]
        for r in s.rows:
            lines.append(f"| {_cell(r.row)} | {_cell(r.document)} | {_cell(r.model)} | "
                         f"{r.verdict.replace('_', ' ')} | {_cell(r.reason)} |")
    lines += ["", "## Where the document disagrees with itself", ""]
    for i, inc in enumerate(report.inconsistencies, 1):
        lines += [f"{i}. **{inc.title}** (`{inc.key}`). {inc.arithmetic} *In gmnet:* "
                  f"{inc.consequence}"]
    if report.region is not None:
        reg = report.region
        lines += ["", "## Where the formula cannot hold in its own decomposition", "",
                  reg.note, "",
                  "| Shift type | formula > P(capability) | formula > 100% | largest formula "
                  "value | ceiling P(capability) | goal factor capped | harm factor capped at | "
                  "network's largest P(harm) |",
                  "|---|---:|---:|---:|---:|---:|---|---:|"]
        for r in reg.rows:
            lines.append(
                f"| {TYPES.get(r['shift_type'], r['shift_type'])} | "
                f"{r['formula_above_decomposition']} of {r['combinations']} | "
                f"{r['formula_above_one']} of {r['combinations']} | {_pct(r['formula_max'])} | "
                f"{_pct(r['decomposition_ceiling'])} | {r['goal_factor_capped']} of "
                f"{r['goal_combinations']} | {', '.join(r['harm_factor_capped_at']) or '-'} | "
                f"{_pct(r['network_max'])} |")
        h = reg.highlight
        if h:
            capped = "; ".join(", ".join(f"{k}={v}" for k, v in c.items())
                               for c in h["capped_combinations"])
            lines += ["", f"**{h['case']}.** The goal factor is 75% x m_spec.low = "
                      f"{_pct(h['goal_factor'])} before the other modifiers; it is capped at "
                      f"100% for: {capped or 'none'}. The document's formula gives "
                      f"{_pct(h['formula'])}; the network ({h['network_rule']}) "
                      f"{_pct(h['network'])}; the {h['other_rule']} rule "
                      f"{_pct(h['other_rule_value'])}; no rule can pass P(capability "
                      f"transfers) = {_pct(h['ceiling'])}."]
    return "\n".join(lines) + "\n"


def _text(report: AuditReport) -> str:
    marks = {REPRODUCED: "=", WITHIN: "~", OUTSIDE: "!", NOT_MODELLED: "-", NO_NUMBER: "."}
    total = report.verdicts()
    lines = [f"Audit of {report.network} against the source document (worldview "
             f"{report.worldview}, rule {report.rule})",
             "  " + ", ".join(f"{n} {VERDICTS[v]}" for v, n in total.items() if n),
             "  marks: = reproduced, ~ within range, ! outside, - not modelled, . no number"]
    for s in report.sections:
        lines += ["", s.table]
        for r in s.rows:
            lines.append(f"  {marks[r.verdict]} {r.row}: document {r.document}; model {r.model}")
            if r.reason:
                lines.append(f"      {r.reason}")
    lines += ["", "Where the document disagrees with itself"]
    for i, inc in enumerate(report.inconsistencies, 1):
        lines += [f"  {i}. {inc.title} [{inc.key}]", f"     {inc.arithmetic}"]
    if report.region is not None:
        lines += ["", "Where the formula cannot hold in its own decomposition"]
        for r in report.region.rows:
            lines.append(
                f"  {TYPES.get(r['shift_type'], r['shift_type'])}: formula above P(capability) "
                f"in {r['formula_above_decomposition']} of {r['combinations']} contexts; goal "
                f"factor capped in {r['goal_factor_capped']} of {r['goal_combinations']}; harm "
                f"factor capped at {', '.join(r['harm_factor_capped_at']) or '-'}")
        h = report.region.highlight
        if h:
            lines.append(f"  {h['case']}: formula {_pct(h['formula'])}, network "
                         f"{_pct(h['network'])}, {h['other_rule']} {_pct(h['other_rule_value'])},"
                         f" ceiling {_pct(h['ceiling'])}")
    return "\n".join(lines)
