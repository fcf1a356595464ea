"""The audit's sections that use scenarios and mitigations: domains, timeline, interventions,
critical unknowns, and the capped region."""

from __future__ import annotations

import itertools

from gmnet.analysis.audit.document import (
    CURRENT_PERIOD,
    DOMAINS,
    EPS,
    INTERVENTIONS,
    MODIFIER_OF,
    NO_NUMBER,
    NOT_MODELLED,
    OUTSIDE,
    PROJECTION_PERIOD,
    TIMELINE,
    doc,
    joined,
    judge,
    mult,
    pct,
)
from gmnet.analysis.audit.results import AuditRow, AuditSection, CappedRegion
from gmnet.errors import GmnetError


class ScenarioTables:
    """Sections that apply scenarios or switch mitigations; mixed into the audit."""

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
                verdict = judge(d, [p])
                reasons = []
                model = f"{pct(p)} (scenarios {name} + {period})"
                if when == "2027":
                    now = self.under_scenarios([name, CURRENT_PERIOD])
                    model += f", {p / now:.2f}x current"
                if verdict == OUTSIDE:
                    gap = p - d.high if p > d.high else d.low - p
                    side = "above" if p > d.high else "below"
                    reasons.append(f"{pct(gap)} {side} the range")
                    if when == "2027":
                        reasons.append(f"period {period} is read from its row without tuning "
                                       f"({self._period_reading(period)}), as {CURRENT_PERIOD} "
                                       "is: the domain's risk does not grow (see the "
                                       "timeline-rows-vs-ratios inconsistency)")
                ceiling = self._span_ceiling(cat[name])
                if ceiling is not None and d.high > ceiling + EPS:
                    reasons.append(f"the upper end {pct(d.high, 0)} is out of reach: no context "
                                   f"lets P(harm) pass {pct(ceiling)}, the highest P(capability "
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

    def _period_reading(self, period: str) -> str:
        """What a period scenario sets, in words."""
        s = self.scenarios[period]
        parts = [f"{k}={v}" for k, v in s.evidence.items()]
        parts += [f"{k} in {{{', '.join(v)}}}" for k, v in s.within.items()]
        parts += [f"a prior on {k}" for k in s.prior]
        return ", ".join(parts) or "nothing"

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
                rows.append(AuditRow(label, trajectory, f"{pct(p, 2)} (1.00x)", NO_NUMBER,
                                     "the reference for the ratios below", None, p))
                continue
            d = doc(trajectory)
            verdict = judge(d, [ratio])
            reasons = []
            if d.high * base > ceiling + EPS:
                reasons.append(f"{d.high:g}x the baseline would be {pct(d.high * base)}, above "
                               f"the {pct(ceiling, 2)} this context allows for any shift type "
                               f"and capability level: at most {ceiling / base:.2f}x")
            if verdict == OUTSIDE:
                reading = self._period_reading(period)
                reasons.insert(0, f"read from the row without tuning ({reading}), the period "
                               f"gives {ratio:.2f}x; see the timeline-rows-vs-ratios "
                               "inconsistency")
            rows.append(AuditRow(label, f"{trajectory} increase", f"{pct(p, 2)} ({ratio:.2f}x)",
                                 verdict, "; ".join(reasons), [d.low, d.high], ratio))
        return AuditSection(
            "Timeline Projections",
            "P(harm) under each period's scenario (the capability level its row names, the shift "
            "type at its uniform prior), specification quality, training diversity, alignment "
            f"method and mitigations neutral (do); ratio to {TIMELINE[0][0]}. Nothing multiplies "
            "the answer and nothing is tuned: the ratio follows from the row.",
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
            shown = "; ".join(f"{n} alone: {joined(v, pct, self.labels)}"
                              for n, v in reductions.items())
            if not any(c.isdigit() for c in text):
                rows.append(AuditRow(label, text, shown, NO_NUMBER,
                                     "the document gives no number", None, reductions))
                continue
            d = doc(text)
            values = [x for v in reductions.values() for x in v]
            verdict = judge(d, values)
            mid = sum(values) / len(values)
            reason = (f"midpoint {pct(d.midpoint, 0)}; mean over shift types {pct(mid)}"
                      if verdict != OUTSIDE else
                      f"outside {d.text} (midpoint {pct(d.midpoint, 0)})")
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
            verdict = judge(d, [param.value])
            rows.append(AuditRow("Interpretability Feasibility", "0.4x if successful",
                                 f"m_alignment.interpretability_verified = {mult(param.value)}",
                                 verdict, "" if verdict != OUTSIDE else
                                 f"{mult(param.value)} differs from 0.4x", 0.4, param.value))
        sup = self.net.parameters.get("m_capability.superhuman")
        rows.append(AuditRow("Superhuman Capability Effects", "Direction unknown",
                             "-" if sup is None else
                             f"m_capability.superhuman = {mult(sup.value)}", NO_NUMBER,
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
            others = {rule: self.harm({**self.ctx, "shift_type": "extreme",
                                       "spec_quality": "low"}, net=self.net.with_rule(rule))
                      for rule in ("expanded_formula", "relative_risk", "odds_ratio")
                      if rule != self.net.rule}
            other, alt = next(iter(others.items()))
            highlight = {
                "case": "Type 4 (extreme) with a low-quality specification, rest neutral",
                "goal_factor": g, "capped_combinations": capped,
                "formula": formula, "network": rr, "network_rule": self.net.rule,
                "other_rule": other, "other_rule_value": alt, "other_rules": others,
                "ceiling": r.p_capability_transfer}
        note = ("The document's formula P(M) = base(S) x m_spec x m_capability x m_diversity x "
                "m_alignment, against its decomposition P(M) = P(capability) x P(goal fails | "
                "capability) x P(harm | fails): no factor can pass 100%, so P(M) can never pass "
                "P(capability transfers). The default rule (expanded_formula) gives min(P("
                "capability transfers), formula): the formula exactly wherever it stays below "
                "the ceiling. 'Goal factor capped' counts the training contexts whose goal factor "
                "alone (base goal risk x m_spec x m_diversity x m_alignment) passes 100%, where "
                "the per-factor rule (relative_risk) caps it and gives less than the formula.")
        return CappedRegion(tuple(rows), highlight, note)


