"""Where the source document disagrees with itself, each with the arithmetic that shows it."""

from __future__ import annotations

import math

from gmnet.analysis.audit.document import (
    CHART,
    CHART_TABLE_TYPES,
    CORE,
    DOMAINS,
    HARM_NOTE,
    META,
    MODIFIERS,
    RISK_RANGES,
    TYPES,
    doc,
    mult,
    pct,
    quadrant,
)
from gmnet.analysis.audit.results import Inconsistency


def inconsistencies(a=None) -> list[Inconsistency]:
    """The document's internal inconsistencies, computed from its own numbers."""
    core = {s: tuple(doc(t).low for t in CORE[s]) for s in CORE}
    out = []
    implied = {s: pm / (cap * goal) for s, (cap, goal, pm) in core.items()}
    note = doc(HARM_NOTE)
    out.append(Inconsistency(
        "harm-given-failure-note",
        "P(harm | goal fails): the table's note (50-70%) against its own P(Misgeneralization) "
        "column",
        "; ".join(f"{TYPES[s]}: {pct(pm)} / ({pct(cap, 0)} x {pct(goal, 0)}) = "
                  f"{pct(implied[s])}" for s, (cap, goal, pm) in core.items())
        + ". With 50-70% the column would read "
        + ", ".join(f"{pct(cap * goal * note.low)}-{pct(cap * goal * note.high)}"
                    for cap, goal, _ in core.values()) + ".",
        "The network follows the column (worldview document-table reproduces it exactly); "
        "worldview document-note follows the note (60%, range 50-70%)."))
    pooled = [doc(t).low for t in META[-1][3]]
    prod = math.prod(pooled)
    studies = [(m[0], math.prod(doc(t).low for t in m[3])) for m in META[:-1]]
    out.append(Inconsistency(
        "pooled-above-type-4",
        "The pooled meta-analysis implies more risk than the most extreme shift type",
        f"87% x 76% x 45% = {pct(prod)} > Type 4's 27.7%; the studies: "
        + ", ".join(f"{n} {pct(p)}" for n, p in studies) + ".",
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
        f"Type 4 with a poorly specified goal alone: {pct(pm4)} x 2.0 = {pct(pm4 * 2)}, but "
        f"P(M) <= P(capability transfers) = {pct(cap4, 0)} for Type 4 whatever the other two "
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
                        f"{mult(align[1].value)} (the intervention table's midpoint)")
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
                      f" of {pct(core[s][2])}")
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
        f"{pct(cap4, 0)} for Type 4, so {pct(r4.high, 0)} is unreachable.",
        "The network's Type 4 P(harm) never passes 45%."))
    agents = next(dm for dm in DOMAINS if dm[0] == "autonomous_agents")
    fut = doc(agents[5])
    ceiling = max(core["significant"][0], core["extreme"][0])
    out.append(Inconsistency(
        "agents-2027-ceiling",
        "Autonomous agents' 2027 projection reaches past the Type 3-4 ceiling",
        f"Application Domain Risk Profiles: autonomous agents 2027 {fut.text}; a Type 3-4 "
        f"deployment cannot pass P(capability transfers) = {pct(core['significant'][0], 0)} "
        f"(Type 3) or {pct(cap4, 0)} (Type 4), so at most {pct(ceiling, 0)}.",
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
        f"P(harm | goal fails) implied by the core table is {pct(min(harm_f))}-"
        f"{pct(max(harm_f))}; x{cap_hi:g} gives {pct(min(harm_f) * cap_hi, 0)}-"
        f"{pct(max(harm_f) * cap_hi, 0)}, all above 100%. If the modifier acts on P(M) "
        "instead, it meets the ceiling of the modifiers-beyond-decomposition entry.",
        "The network applies it to harm given failure and caps at 100%: superhuman capability "
        "realises 1.22x-2.83x (Key Modifying Factors row)."))
    harms = [doc(m[3][2]).low for m in META]
    out.append(Inconsistency(
        "meta-analysis-vs-note",
        "The meta-analysis does not support the note's P(harm | goal fails) of 50-70%",
        "Meta-Analysis P(Harm | Failure): " + ", ".join(f"{m[0]} {m[3][2]}" for m in META)
        + f" ({pct(min(harms), 0)}-{pct(max(harms), 0)}); note: 50-70%; the core table's "
        f"implied values for Types 3-4 ({pct(harm_f[2])}, {pct(harm_f[3])}) are above every "
        "study.",
        "Three worldviews (document-table, document-note, meta-analysis-pooled) let you choose."))
    quads = []
    for label, name, x, y in CHART:
        t = CHART_TABLE_TYPES.get(name)
        if t and TYPES[t] not in quadrant(x, y):
            quads.append(f"{label} ({x:.2f}, {y:.2f}) sits in the {quadrant(x, y)} quadrant, "
                         f"the table calls it {TYPES[t]}")
    empty = [t for t in ("Type 1", "Type 2", "Type 3", "Type 4")
             if not any(quadrant(x, y) == t for _, _, x, y in CHART)]
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
        "the product of the means ({}).".format(*(100 * m for m in means), pct(mean_products),
                                                 pct(prod)),
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


