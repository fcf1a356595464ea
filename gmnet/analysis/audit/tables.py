"""The audit's sections for the document's own tables (risk ranges to specification impact)."""

from __future__ import annotations

from gmnet.analysis.audit.document import (
    CHART,
    CHART_TABLE_TYPES,
    CORE,
    EPS,
    KEY_FACTORS,
    META,
    MODIFIER_OF,
    MODIFIERS,
    NOT_MODELLED,
    OUTSIDE,
    REPRODUCED,
    RISK_RANGES,
    SPEC_IMPACT,
    TYPE_NAMES,
    TYPES,
    WITHIN,
    DocValue,
    doc,
    joined,
    judge,
    judge_span,
    mult,
    pct,
    quadrant,
)
from gmnet.analysis.audit.results import AuditRow, AuditSection
from gmnet.errors import GmnetError


class DocumentTables:
    """Sections of the tables that need no scenario; mixed into the audit."""

    # ------------------------------------------------------------------ Risk Assessment
    def risk_assessment(self) -> AuditSection:
        rows = []
        for shift in self.shifts:
            d = doc(RISK_RANGES[shift])
            neutral = self.core[shift].p_harmful_misgeneralization
            values = [v for k, v in self.grid.items() if k[0] == shift]
            lo, hi = min(values), max(values)
            verdict = judge(d, [neutral])
            reason = []
            if verdict == OUTSIDE:
                reason.append(f"the neutral context gives {pct(neutral)}")
            ceiling = self.core[shift].p_capability_transfer
            if d.high > hi + EPS:
                why = (f": P(capability transfers) is {pct(ceiling)} and the other factors "
                       "cannot pass 100%" if d.high > ceiling + EPS else "")
                reason.append(f"the upper end {pct(d.high, 0)} is above the most any context "
                              f"gives ({pct(hi)}){why}")
            if d.low < lo - EPS:
                reason.append(f"the lower end {pct(d.low, 0)} is below the least any context "
                              f"gives ({pct(lo, 2)})")
            rows.append(AuditRow(
                f"{TYPES[shift]} ({TYPE_NAMES[shift]}) likelihood", d.text,
                f"{pct(neutral)} at the neutral context; {pct(lo, 2)}-{pct(hi)} over all "
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
            verdict = judge(d, [low])
            reason = "" if verdict != OUTSIDE else (
                f"a well-specified objective alone gives {pct(low)} (Type 1 x the high "
                f"specification multiplier); about 1% also needs more diverse training or a "
                f"better alignment method (the lowest Type 1 value is {pct(lowest, 2)})")
            rows.append(AuditRow("Headline: minor shift, well-specified objective", d.text,
                                 f"{pct(low)} (Type 1, high specification, rest neutral)",
                                 verdict, reason, [d.low, d.high], low))
            high = self.harm_at("extreme", spec_quality="low")
            most = max(v for k, v in self.grid.items() if k[0] == "extreme" and "low" in k[1:2])
            d = DocValue("over 50%", 0.5, 1.0, 0.0, 0.0)
            verdict = judge(d, [high])
            ceiling = self.core["extreme"].p_capability_transfer
            reason = "" if verdict != OUTSIDE else (
                f"Type 4 with a low-quality specification gives {pct(high)} at the neutral "
                f"context and at most {pct(most)} in any context: P(harm) cannot pass "
                f"P(capability transfers) = {pct(ceiling)}")
            rows.append(AuditRow("Headline: extreme shift, poorly specified goal", d.text,
                                 f"{pct(high)} (Type 4, low specification, rest neutral); "
                                 f"at most {pct(most)}", verdict, reason, [d.low, d.high],
                                 [high, most]))
        return rows

    # ------------------------------------------------------------------ Expanded formulation
    def expanded_formulation(self) -> AuditSection:
        rows = []
        pm = [self.core[s].p_harmful_misgeneralization for s in self.shifts]
        d = doc("3.6%-27.7%")
        rows.append(AuditRow("Base probability for distribution shift type S", d.text,
                             f"{pct(min(pm))}-{pct(max(pm))} (Types 1-4, neutral context)",
                             judge_span(d, min(pm), max(pm)), "", [d.low, d.high],
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
            verdict = judge_span(d, lo, hi)
            reason = ""
            if verdict == OUTSIDE:
                culprits = [p for p in params if (p.low is not None and p.low < d.low - EPS)
                            or (p.high is not None and p.high > d.high + EPS)]
                reason = "; ".join(f"{p.name}'s range {mult(p.low)}-{mult(p.high)} passes "
                                   "the document's span" for p in culprits)
                reason += (f" (the point values span {mult(min(points))}-{mult(max(points))}; "
                           "see the interpretability-three-ways inconsistency)"
                           if group == "m_alignment" else "")
            rows.append(AuditRow(label, d.text,
                                 f"{mult(lo)}-{mult(hi)} (points {mult(min(points))}-"
                                 f"{mult(max(points))})", verdict, reason,
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
            document = f"({x:.2f}, {y:.2f}); quadrant {quadrant(x, y)}"
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
            where = quadrant(x, y)
            if TYPES[shift] not in where:
                reasons.append(f"its quadrant is {where}, but it is {TYPES[shift]} "
                               f"({origin})")
            rows.append(AuditRow(
                label, document,
                f"{TYPES[shift]}, {origin}: ({cap_risk:.2f}, {goal_risk:.2f}); "
                f"P(harm) under scenario {name}: {pct(p)}",
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
            product = (f"= {pct(r.p_capability_transfer)} x "
                       f"{pct(r.p_goal_fails_given_capability)} x "
                       f"{pct(r.p_harm_given_failure)}")
            for what, d, value in (("P(capability transfers)", cap, r.p_capability_transfer),
                                   ("P(goal fails | capability)", goal,
                                    r.p_goal_fails_given_capability),
                                   ("P(Misgeneralization)", pm, r.p_harmful_misgeneralization)):
                verdict = judge(d, [value])
                reason = ""
                if verdict == OUTSIDE:
                    reason = f"{pct(value, 2)} differs from {d.text}"
                    if what == "P(Misgeneralization)":
                        reason += f" ({product}, P(harm | goal fails) last)"
                rows.append(AuditRow(f"{name}: {what}", d.text, pct(value, 2), verdict, reason,
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
                    reasons.append(f"its {what} {pct(v, 0)} lies outside the network's "
                                   f"{pct(min(own))}-{pct(max(own))}")
            if verdict == OUTSIDE:
                side = "above" if product > hi else "below"
                reasons.insert(0, f"{pct(product)} is {side} every shift type's P(M)")
            reasons.append(f"worldview {worldview} applies these numbers to every shift type")
            rows.append(AuditRow(
                f"{study}, {cases}", f"{' x '.join(texts)} = {pct(product)}",
                f"network P(M) {pct(lo)}-{pct(hi)} (Types 1-4)", verdict,
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
            verdict = judge(d, low_m + high_m)
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
                    reasons.append(f"{state} is {mult(point)} but {self.cap_words} for "
                                   f"{', '.join(capped)}")
                if not d.low - EPS <= point <= d.high + EPS:
                    reasons.append(f"{name} = {mult(point)} lies outside {d.text}")
            for end in (d.low, d.high):
                if all(abs(m - end) > 1e-6 for m in low_m + high_m):
                    reasons.append(f"the end {mult(end)} is not reached at the point values")
            rows.append(AuditRow(
                label, d.text,
                f"{joined(low_m, mult, self.labels)} / {joined(high_m, mult, self.labels)}",
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
            verdict = judge(d, realised)
            reasons = []
            name = f"m_spec.{state}"
            param = self.net.parameters.get(name)
            for lab, shift, m in zip(self.labels, self.shifts, realised, strict=True):
                if not d.low - EPS <= m <= d.high + EPS:
                    r = self.core[shift]
                    point = param.value if param else float("nan")
                    if self.net.rule == "expanded_formula":
                        pm = r.p_harmful_misgeneralization
                        reasons.append(f"{lab}: {pct(pm)} x {point:g} = {pct(pm * point)} passes "
                                       f"P(capability transfers) {pct(r.p_capability_transfer, 0)}"
                                       f", so the multiplier is {mult(m)}")
                    else:
                        goal = r.p_goal_fails_given_capability
                        reasons.append(f"{lab}: {pct(goal, 0)} x {point:g} = "
                                       f"{pct(goal * point, 0)} is capped at 100% ({self.net.rule}"
                                       f" rule), so the multiplier is {mult(m)}")
            rng = ("" if param is None or param.low is None
                   else f"; {name} {param.value:g} in [{param.low:g}, {param.high:g}]")
            rows.append(AuditRow(label, d.text, joined(realised, mult, self.labels) + rng,
                                 verdict, "; ".join(reasons), [d.low, d.high], realised))
        return AuditSection(
            "Objective Specification Impact",
            "P(harm | do(spec_quality=state)) / P(harm | do(spec_quality=medium)), other context "
            "neutral, per shift type.",
            tuple(rows))

