"""The source document's tables as data, and how a printed number is read and judged.

The numbers live here, transcribed table by table, for comparison only: the network's numbers
come from its own file (and the worldview and scenarios in use).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from gmnet.errors import InvalidArgumentError

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


def judge(d: DocValue, values: Sequence[float]) -> str:
    """Model value(s) against a document number: reproduced (point) / within (range) / outside."""
    if d.point:
        ok = all(abs(v - d.low) <= d.tol_low + EPS for v in values)
        return REPRODUCED if ok else OUTSIDE
    ok = all(d.low - EPS <= v <= d.high + EPS for v in values)
    return WITHIN if ok else OUTSIDE


def judge_span(d: DocValue, low: float, high: float) -> str:
    """The model's own range against the document's range."""
    if abs(low - d.low) <= d.tol_low + EPS and abs(high - d.high) <= d.tol_high + EPS:
        return REPRODUCED
    if d.low - EPS <= low and high <= d.high + EPS:
        return WITHIN
    return OUTSIDE


def pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f}%"


def mult(x: float) -> str:
    return f"{x:.2f}x"


def joined(values: Sequence[float], fmt, labels: Sequence[str]) -> str:
    """One value if all agree (to the shown precision), else each with its label."""
    texts = [fmt(v) for v in values]
    if len(set(texts)) == 1:
        return texts[0]
    return ", ".join(f"{t} ({lab})" for t, lab in zip(texts, labels, strict=True))



def quadrant(x: float, y: float) -> str:
    """The chart's quadrant labels: Type 1 low/low, Type 2 high capability risk / low goal risk,
    Type 3 low / high, Type 4 high / high; a point on the 0.5 line sits between two."""
    xs = ["low"] if x < 0.5 else (["low", "high"] if x == 0.5 else ["high"])
    ys = ["low"] if y < 0.5 else (["low", "high"] if y == 0.5 else ["high"])
    names = {("low", "low"): "Type 1", ("high", "low"): "Type 2", ("low", "high"): "Type 3",
             ("high", "high"): "Type 4"}
    found = [names[(a, b)] for a in xs for b in ys]
    return found[0] if len(found) == 1 else " / ".join(found) + " (on the line)"

