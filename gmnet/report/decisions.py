"""The report's decisions section: which mitigations to fund within a budget (the cost-risk
frontier) and which unknown is worth resolving for that choice (EVPPI)."""

from __future__ import annotations

from gmnet.errors import GmnetError
from gmnet.report.common import _Context, _esc, _figure_img, _has, _pct, _table

__all__ = ["REPORT_BUDGET", "_decisions"]

REPORT_BUDGET = 4.5  # the decisions section's budget: about half the cost of all nine


def _decisions(ctx: _Context) -> str | None:
    from gmnet.analysis.mitigations import mitigations_of

    net = ctx.network
    if "harm" not in net.variables or not mitigations_of(net) or not _has("matplotlib"):
        return None
    from gmnet.analysis.portfolios import portfolio_analysis
    from gmnet.analysis.voi import value_of_information
    from gmnet.viz.frontier import frontier_caption, frontier_figure

    do = {"shift_type": "extreme"} if "shift_type" in net.variables and \
        "shift_type" not in ctx.evidence and not ctx.template.scenarios else {}
    try:
        result = portfolio_analysis(net, evidence=ctx.evidence, do=do, budget=REPORT_BUDGET,
                                    samples=min(ctx.samples, 1000), rng=ctx.rng)
        voi = value_of_information(net, evidence=ctx.evidence, do=do, budget=REPORT_BUDGET,
                                   samples=min(ctx.samples, 2000), rng=ctx.rng, bootstrap=10)
    except GmnetError as exc:
        return f'<p class="missing">No decision analysis: {_esc(exc)}</p>'
    best = result.best_row
    rows = [[_esc(p.name), f"{100 * p.evppi:.3f} ± {100 * p.se:.3f}",
             f"{p.share_of_evpi:.0%}", _esc(p.document or "")]
            for p in voi.parameters[:10] if p.evppi > 0]
    return (
        f"<p>Which mitigations to fund for {_esc(result.question.text())}: every one of the "
        f"{len(result.rows)} portfolios by its cost (the Implementation Cost column read as "
        "relative costs, labelled assumptions) and its risk. Within a budget of "
        f"{REPORT_BUDGET:g} the best is <b>{_esc(' + '.join(best.mitigations) or 'none')}</b> "
        f"(cost {best.cost:g}, {_pct(best.p_harm)}"
        + ("" if best.p_best is None else f", best in {best.p_best:.0%} of draws") + ").</p>"
        + _figure_img(frontier_figure(result), "cost against risk of every portfolio")
        + f'<p class="caption">{_esc(frontier_caption(result))}</p>'
        + f"<p>Which unknown is worth resolving for that decision: the expected value of "
          f"partial perfect information (EVPPI, percentage points of P(harm) avoided) of each "
          f"uncertain number and Critical Unknown; the ceiling, EVPI, is "
          f"{100 * voi.evpi:.3f} points ({voi.samples:,} draws, regression estimator, "
          "bootstrap standard errors). Numbers that never change the choice are left out.</p>"
        + (_table(["uncertain number or Critical Unknown", "EVPPI (points)", "of EVPI",
                   "the document's research priority"], rows, numeric=(1, 2))
           if rows else "<p>No uncertain number changes the choice within this budget.</p>"))
