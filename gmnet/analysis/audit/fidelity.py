"""The audit's checks of what the network means: does the pathway carry goal failure, and does
each mitigation reduce P(harm) by its own band in every context?

Both run over every combination of the five context nodes (324 for the bundled network) in one
batched contraction per question, with every mitigation off unless it is the one examined.
"""

from __future__ import annotations

import numpy as np

from gmnet.analysis.audit.document import (
    EPS,
    INTERVENTIONS,
    NOT_MODELLED,
    OUTSIDE,
    REPRODUCED,
    TYPES,
    WITHIN,
    doc,
    pct,
)
from gmnet.analysis.audit.results import AuditRow, AuditSection
from gmnet.inference.batched import batched_posterior
from gmnet.model.expressions import split_factors

PATHWAY_NODES = ("learned_objective", "spurious_features_shifted", "goal_misgeneralizes")
# the mitigation whose band each prevention/response row checks, and the parameter that carries it
BAND_PARAMETERS = {"adversarial_training": "m_adversarial_training",
                   "objective_specification": "m_objective_specification",
                   "interpretability_verification": "m_interpretability_verification",
                   "ai_control": "ai_control_reduction"}
RULES = ("expanded_formula", "odds_ratio", "relative_risk")


class Fidelity:
    """Pathway share and intervention-band coverage; mixed into the audit."""

    def _context(self) -> list[str]:
        return [v for v in ("shift_type", *self.context_nodes) if v in self.net.variables]

    def _held(self, net, *free: str) -> dict[str, str]:
        """The neutral context and every mitigation off, minus the nodes left free."""
        mitigations = {v: "off" for v in net.variables if net.node(v).role == "mitigation"
                       and "off" in net.states(v)}
        return {k: v for k, v in {**self.ctx, **mitigations}.items() if k not in free}

    def _labels(self, combo_index: tuple[int, ...], nodes: list[str]) -> str:
        return ", ".join(f"{v}={self.net.states(v)[i]}" for v, i in zip(nodes, combo_index,
                                                                        strict=True))

    # ------------------------------------------------------------------ pathway
    def pathway(self) -> AuditSection:
        """How much goal failure runs through the document's pathway, by rule."""
        if any(v not in self.net.variables for v in PATHWAY_NODES):
            return AuditSection("The misgeneralization pathway", "", (AuditRow(
                "all rows", "-", "-", NOT_MODELLED,
                "no learned_objective / spurious_features_shifted nodes"),))
        ctx = self._context()
        rows = []
        for rule in (self.net.rule, *(r for r in RULES if r != self.net.rule)):
            net = self.net if rule == self.net.rule else self.net.with_rule(rule)
            rows.append(self._formula_row(net, rule, ctx))
            share = self._off_pathway_share(net, ctx)
            n = share.size
            off = np.argwhere(share > 1e-9)
            worst = float(share.max())
            if len(off):
                where = "; ".join(self._labels(tuple(k), ctx) for k in off[:3])
                reason = (f"the pathway cannot carry all of it in {len(off)} of {n} contexts "
                          f"(largest share off it {pct(worst)}), e.g. {where}")
            else:
                reason = ""
            rows.append(AuditRow(
                f"Learned true goal generalizes ({rule} rule)",
                "a learned true goal generalizes; a learned spurious goal misgeneralizes",
                f"share of goal failure off the pathway: {pct(worst, 2)} at most over {n} "
                "contexts", REPRODUCED if not len(off) else OUTSIDE, reason, 0.0, worst))
        held = self._held(self.net, "shift_type", "learned_objective")
        proxy = batched_posterior(self.net, "goal_misgeneralizes",
                                  evidence={"capability_transfer": "yes"}, do=held,
                                  free_do=["shift_type", "learned_objective"])[0]
        lo = self.net.states("learned_objective")
        yes = self.net.states("goal_misgeneralizes").index("yes")
        for k, shift in enumerate(self.net.states("shift_type")):
            if shift not in TYPES:
                continue
            g = self.core[shift].p_goal_fails_given_capability
            rows.append(AuditRow(
                f"{TYPES[shift]}: P(goal fails | capability, do(learned_objective))",
                f"goal risk {pct(g, 0)}",
                f"intended_goal {pct(proxy[k, lo.index('intended_goal'), yes], 2)}, proxy "
                f"{pct(proxy[k, lo.index('proxy'), yes])} (= P(spurious features shifted))",
                REPRODUCED if proxy[k, lo.index("intended_goal"), yes] <= EPS else OUTSIDE,
                "", g, proxy[k, :, yes].tolist()))
        return AuditSection(
            "The misgeneralization pathway",
            "Over every context (mitigations off) and under each combination rule: "
            "P(goal fails | capability, do(context)) against the formula's goal factor computed "
            "from the parameters, and the share of it that does not run through a learned proxy "
            "meeting shifted spurious features; then what do(learned_objective) gives at the "
            "neutral context. P(proxy) is Type 4's goal factor, P(shifted) the shift's over "
            "Type 4's.",
            tuple(rows))

    def _formula_row(self, net, rule: str, ctx: list[str]) -> AuditRow:
        """P(goal fails | capability, do(context)) against the goal factor computed by hand."""
        held = self._held(net, *ctx)
        yes = net.states("goal_misgeneralizes").index("yes")
        got = batched_posterior(net, "goal_misgeneralizes", evidence={"capability_transfer": "yes"},
                                do=held, free_do=ctx)[0][..., yes]
        want = self._goal_factor(net, rule, ctx)
        diff = np.abs(got - want)
        bad = np.argwhere(diff > 1e-9)
        reason = ""
        if len(bad):
            reason = (f"goal failure falls short of the formula's goal factor in {len(bad)} of "
                      f"{diff.size} contexts (by up to {pct(float(diff.max()), 2)}), e.g. "
                      + "; ".join(self._labels(tuple(k), ctx) for k in bad[:3]))
        return AuditRow(
            f"P(goal fails | capability) is the formula's goal factor ({rule} rule)",
            "P(M) x modifiers, split between the goal and harm factors",
            f"largest difference {float(diff.max()):.1e} over {diff.size} contexts",
            REPRODUCED if not len(bad) else OUTSIDE, reason, 0.0, float(diff.max()))

    def _goal_factor(self, net, rule: str, ctx: list[str]) -> np.ndarray:
        """The goal factor of every context, from the parameters (mitigations off)."""
        params = net.parameters
        groups = {"shift_type": ("p_goal_failure", "p_harm_given_failure"),
                  "spec_quality": "m_spec", "capability_level": "m_capability",
                  "training_diversity": "m_diversity", "alignment_method": "m_alignment"}
        shape = [len(net.states(v)) for v in ctx]

        def grid(node, group):
            values = np.array([params[f"{group}.{s}"].value for s in net.states(node)])
            return values.reshape([-1 if v == node else 1 for v in ctx])

        g = grid("shift_type", groups["shift_type"][0])
        h = grid("shift_type", groups["shift_type"][1])
        m_goal = np.ones([1] * len(ctx))
        for node in ("spec_quality", "training_diversity", "alignment_method"):
            if node in ctx:
                m_goal = m_goal * grid(node, groups[node])
        m_harm = grid("capability_level", "m_capability") if "capability_level" in ctx \
            else np.ones([1] * len(ctx))
        goal, _ = split_factors(g, h, m_goal, m_harm, 1.0, rule=rule)
        return np.broadcast_to(goal, shape)

    def _off_pathway_share(self, net, ctx: list[str]) -> np.ndarray:
        """(contexts...) array: share of goal failure given capability off the route."""
        held = self._held(net, *ctx, "learned_objective", "spurious_features_shifted")
        ev = {"capability_transfer": "yes"}
        yes = net.states("goal_misgeneralizes").index("yes")
        # P(gf | cap, do(ctx, lo, shifted)) and P(lo | do ctx), P(shifted | do ctx)
        g_route = batched_posterior(net, "goal_misgeneralizes", evidence=ev, do=held,
                                    free_do=[*ctx, "learned_objective",
                                             "spurious_features_shifted"])[0][..., yes]
        p_lo = batched_posterior(net, "learned_objective", do=held, free_do=ctx)[0]
        p_sh = batched_posterior(net, "spurious_features_shifted", do=held, free_do=ctx)[0]
        total = np.einsum("...ab,...a,...b->...", g_route, p_lo, p_sh)
        proxy = net.states("learned_objective").index("proxy")
        shifted = net.states("spurious_features_shifted").index("yes")
        on_route = g_route[..., proxy, shifted] * p_lo[..., proxy] * p_sh[..., shifted]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(total > 0, 1.0 - on_route / total, 0.0)
        return np.clip(share, 0.0, 1.0)

    # ------------------------------------------------------------------ intervention bands
    def intervention_bands(self) -> AuditSection:
        """Each band mitigation alone, in every context, at its point and its range ends."""
        ctx = self._context()
        rows = []
        for category, method, text, nodes in INTERVENTIONS:
            node = nodes[0]
            param = BAND_PARAMETERS.get(node)
            if param not in self.net.parameters or node not in self.net.variables:
                continue
            d = doc(text)
            for rule in ("expanded_formula", "odds_ratio"):
                net = self.net if rule == self.net.rule else self.net.with_rule(rule)
                rows.append(self._band_row(net, rule, f"{category}: {method}", d, node, param,
                                           ctx))
        return AuditSection(
            "Intervention Effectiveness Analysis: bands in every context",
            "1 - P(harm | do(context, mitigation on)) / P(harm | do(context)), every other "
            "mitigation off, over every context, at the mitigation's point value and at both "
            "ends of its range. A context is capped where the formula already passes "
            "P(capability transfers) without the mitigation (expanded_formula rule); there the "
            "reduction is smaller than the band.",
            tuple(rows))

    def _band_row(self, net, rule, label, d, node, param, ctx) -> AuditRow:
        p = net.parameters[param]
        ends = [p.value] + ([p.low, p.high] if p.low is not None else [])
        on, off = net.states(node).index("on"), net.states(node).index("off")
        yes = net.states("harm").index("yes")
        # the point and both range ends as three draws of one batched contraction
        harm = batched_posterior(net, "harm", do=self._held(net, *ctx, node),
                                 free_do=[*ctx, node],
                                 values={param: np.array(ends, dtype=float)})[..., yes]
        harm = np.broadcast_to(harm, (len(ends), *harm.shape[1:]))
        with np.errstate(divide="ignore", invalid="ignore"):
            reductions = list(np.where(harm[..., off] > 0,
                                       1 - harm[..., on] / harm[..., off], 0.0))
        baseline = harm[0][..., off]
        ceiling = np.array([self.core[s].p_capability_transfer
                            for s in self.net.states("shift_type")])
        ceiling = ceiling.reshape((-1,) + (1,) * (baseline.ndim - 1))
        capped = (np.abs(baseline - ceiling) <= 1e-12) if rule == "expanded_formula" \
            else np.zeros(baseline.shape, dtype=bool)
        if node == "ai_control":  # acts after the cap, on the response side
            capped = np.zeros(baseline.shape, dtype=bool)
        point = reductions[0]
        lo = np.minimum.reduce(reductions)
        hi = np.maximum.reduce(reductions)
        inside = (lo >= d.low - 1e-9) & (hi <= d.high + 1e-9)
        free = ~capped
        n_free, n_in = int(free.sum()), int((inside & free).sum())
        text = (f"point {pct(float(point[free].min()))}-{pct(float(point[free].max()))} in "
                f"{n_free} uncapped contexts, range ends {pct(float(lo[free].min()))}-"
                f"{pct(float(hi[free].max()))}; inside the band in {n_in} of {n_free}")
        reason = ""
        if capped.any():
            idx = [tuple(k) for k in np.argwhere(capped)]
            text += (f"; {len(idx)} capped contexts: {pct(float(point[capped].min()))}-"
                     f"{pct(float(point[capped].max()))} at the point")
            reason = "capped, e.g. " + "; ".join(self._labels(k, ctx) for k in idx[:2])
        verdict = WITHIN if n_in == n_free else OUTSIDE
        return AuditRow(f"{label} ({rule} rule)", d.text, text, verdict, reason,
                        [d.low, d.high], {"uncapped": n_free, "inside": n_in,
                                          "capped": int(capped.sum())})


