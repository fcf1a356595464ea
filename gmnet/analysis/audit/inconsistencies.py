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
        "The default rule (expanded_formula) takes min(P(capability transfers), formula): exact "
        "wherever the formula stays below the ceiling (278 of 324 contexts), capped in the rest "
        "(see the capped region below); the per-factor rule caps each factor at 100% and the "
        "odds-ratio rule never reaches 100%."))
    align = None
    if a is not None:
        p = a.net.parameters.get("m_alignment.interpretability_verified")
        mit = a.net.parameters.get("m_interpretability_verification")
        align = (p, mit)
    consequence = ("The network keeps 0.4x for the alignment state (range 0.3x-0.6x from the "
                   "intervention table)")
    if align and align[1] is not None:
        consequence += (f"; the interpretability_verification mitigation takes "
                        f"{mult(align[1].value)} (the intervention table's midpoint) and, with "
                        "interpretability_overlap = 0, multiplies the verified method's 0.4x "
                        "(two levers: the method used in training and a check before "
                        "deployment); set interpretability_overlap = 1 to read them as one lever")
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
        "The period scenarios are read from the Timeline rows without tuning (capability level "
        "only); the ratios they give, and the domain rows with each period, are in the tables "
        "above beside the document's bands."))
    harm_f = [core[s][2] / (core[s][0] * core[s][1]) for s in CORE]
    cap_hi = doc(MODIFIERS[1][2]).high
    out.append(Inconsistency(
        "capability-multiplier-unreachable",
        "The capability modifier's 3.0x cannot act on harm given failure",
        f"P(harm | goal fails) implied by the core table is {pct(min(harm_f))}-"
        f"{pct(max(harm_f))}; x{cap_hi:g} gives {pct(min(harm_f) * cap_hi, 0)}-"
        f"{pct(max(harm_f) * cap_hi, 0)}, all above 100%. If the modifier acts on P(M) "
        "instead, it meets the ceiling of the modifiers-beyond-decomposition entry.",
        "The default rule lets the excess over 100% pass to the goal factor, so superhuman "
        "capability realises the full 3.0x wherever the formula stays below P(capability "
        "transfers) (Type 1 and 2 at the neutral context); the per-factor rule (relative_risk) "
        "caps it at 100% and realises 1.22x-2.83x."))
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
    out += _more(core)
    return out


def _more(core) -> list[Inconsistency]:
    """The entries found by a second reading (the fidelity issue), each with its numbers."""
    out = []
    gm = {s: cap * goal for s, (cap, goal, _) in core.items()}
    out.append(Inconsistency(
        "headline-is-harmful-misgeneralization",
        "The headline's 'goal misgeneralization probability' is the probability of harmful "
        "misgeneralization",
        "Summary: goal misgeneralization probability from 3.6% to 27.7%; those are the core "
        "table's P(Misgeneralization) = P(capability) x P(goal fails | capability) x P(harm | "
        "fails). The probability that the goal misgeneralizes (capability kept, goal failed) is "
        + ", ".join(f"{pct(cap, 0)} x {pct(goal, 0)} = {pct(gm[s], 2)}"
                    for s, (cap, goal, _) in core.items()) + ".",
        "The network keeps the two apart: goal_misgeneralizes (10.2 / 18.2 / 30.25 / 33.75%) "
        "and harm (3.6 / 10.0 / 21.8 / 27.7%)."))
    out.append(Inconsistency(
        "adversarial-training-below-diversity-floor",
        "Diverse adversarial training reduces risk more than the most diverse training can",
        "Intervention Effectiveness Analysis: diverse adversarial training 20-40% = 0.6x-0.8x; "
        "Key Modifying Factors: training diversity 0.7x-1.4x, adversarially diverse 0.7x. Its "
        "band reaches 0.6x, below the 0.7x floor of the modifier it would move.",
        "The mitigation is its own factor (0.7x, range 0.6x-0.8x) on the formula's product, "
        "not a move of training_diversity, so the band holds whatever the starting point."))
    out.append(Inconsistency(
        "superhuman-direction",
        "Superhuman capability: 'direction unknown', yet 3.0x more risk",
        "Critical Unknowns: superhuman capability effects, direction unknown; Key Modifying "
        "Factors: superhuman is the high-risk configuration, capability level 0.5x-3.0x.",
        "The point value follows the Key Modifying Factors (3.0x, range 2.0x-3.0x); the "
        "uncertainty analysis's superhuman_capability_effects unknown is off by default and, "
        "when asked for (--unknowns), draws the multiplier log-uniformly on 1/3x-3x "
        "(docs/uncertainty.md)."))
    out.append(Inconsistency(
        "interventions-vs-implementation",
        "The Intervention table and the Technical Implementation diagram list different layers",
        "Intervention Effectiveness Analysis: detection has 2 methods (anomaly monitoring, "
        "objective probing), response has AI control protocols and gradual deployment; "
        "Technical Implementation: detection has 3 (behavior monitoring, objective probing, "
        "anomaly detection), response has AI control, emergency shutdown and human override. "
        "Gradual deployment is in the table only; shutdown and override in the diagram only.",
        "The network follows the diagram's nine nodes; the table's anomaly-monitoring row is "
        "read for both behavior monitoring and anomaly detection; gradual deployment is not "
        "modelled; shutdown and override have no document number (assumptions)."))
    out.append(Inconsistency(
        "risk-columns-point-opposite-ways",
        "The core table's two 'Risk' columns point opposite ways",
        "Detailed Risk Assessment by Shift Type: 'Capability Risk Low (85%)' for Type 1 is the "
        "probability that capabilities transfer (high = safe for capability, and a precondition "
        "of harm), while 'Goal Risk Low (12%)' is the probability that the goal fails (high = "
        "danger). 'Very High (45%)' capability risk for Type 4 is the lowest transfer "
        "probability. The shift chart reads capability risk as 1 - P(transfer) (0.15 for a "
        "Type 1 example).",
        "The network names the nodes for what they are: capability_transfer (85 / 65 / 55 / "
        "45%) and goal_misgeneralizes given capability (12 / 28 / 55 / 75%)."))
    out.append(Inconsistency(
        "reference-cards",
        "Reference cards that do not match their citations",
        "The Langosco et al. (2022) and Shah et al. (2022) rows carry the same reference card "
        "(a paper introducing goal misgeneralization as a failure under a correct "
        "specification); 'Activation Patching (Meng et al., 2023)' points at the card of ROME "
        "(locating and editing factual associations in GPT), published in 2022.",
        "gmnet cites the studies by author and year from the tables and relies on no card."))
    out.append(Inconsistency(
        "definition-vs-specification-modifier",
        "Goal misgeneralization is defined under a correct specification, yet specification "
        "quality is a 0.5x-2.0x modifier",
        "The cited definition: the system pursues an unintended goal even though the designer's "
        "specification is correct. The model then multiplies the risk by the specification "
        "quality (Objective Specification Impact: low 1.5x-2.0x, 'pure proxy optimization'), "
        "which is specification gaming, a different failure.",
        "The network follows the document's arithmetic (m_spec on the goal factor); read a low "
        "specification's excess as specification gaming counted under the same node."))
    out.append(Inconsistency(
        "timeline-rows-vs-ratios",
        "The Timeline's ratios do not follow from its own rows",
        "Read directly, 2024-2025 and 2026-2027 are both human-level (no capability state "
        "between narrow and general tasks), so the model gives 1.00x where the row says 1.5x; "
        "2028-2030 and post-2030 are both superhuman (3.0x on P(M)), which the ceiling "
        "P(capability transfers) turns into 2.23x over a uniform shift type, inside 2-3x for "
        "2028-2030 but below 3-5x for post-2030. Reading the deployment column as more severe "
        "shifts (Types 1-2 supervised up to Type 4 critical autonomy) would give 2.3x, 7.4x "
        "and 6.6x instead: no reading meets all three bands.",
        "The period scenarios read the capability column only and are not tuned; the Timeline "
        "section shows each ratio beside the document's band."))
    out.append(Inconsistency(
        "headline-roughly-one-percent",
        "'Roughly 1%' for a minor shift with a well-specified objective needs more than the "
        "specification",
        f"Type 1 {pct(core['superficial'][2])} x the high specification's 0.5x-0.7x = "
        f"{pct(core['superficial'][2] * 0.5)}-{pct(core['superficial'][2] * 0.7)}; about 1% "
        "needs diverse training or a better alignment method as well (e.g. x 0.7 x 0.4 = "
        f"{pct(core['superficial'][2] * 0.6 * 0.7 * 0.4, 2)} at the points).",
        "The Risk Assessment section shows the headline row beside the lowest Type 1 value."))
    return out


