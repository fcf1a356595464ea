"""The cost-risk frontier of the mitigation portfolios (:mod:`gmnet.analysis.portfolios`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from gmnet.analysis.portfolios import PortfolioAnalysis

__all__ = ["frontier_figure", "frontier_caption"]


def _short(members) -> str:
    return " + ".join(m.replace("_", " ") for m in members) or "no mitigation"


def frontier_caption(analysis: PortfolioAnalysis) -> str:
    """What the figure shows and assumed, in one paragraph."""
    best = analysis.best_row
    parts = [f"Every one of the {len(analysis.rows)} portfolios: cost (relative units) against "
             f"P({analysis.question.target}={analysis.question.state}); the line joins the "
             "Pareto frontier (no portfolio both cheaper and safer)."]
    if analysis.samples:
        parts.append(f"Bars: 5-95% of {analysis.samples:,} paired draws (seed {analysis.seed}).")
    if analysis.budget is not None:
        parts.append(f"Dashed: the budget {analysis.budget:g}; best within it: "
                     f"{_short(best.mitigations)} ({best.p_harm:.1%}).")
    parts += [a[0].upper() + a[1:] + "." for a in analysis.assumptions()[:1]]
    return " ".join(parts)


def frontier_figure(analysis: PortfolioAnalysis, *, width: float = 7.5,
                    height: float = 4.8) -> Figure:
    """Cost vs risk: every portfolio (grey), the frontier (line, 90% bars), the budget, the
    best portfolio (ringed)."""
    import numpy as np

    from gmnet.viz.plots import _figure, _percent_axis, _styled, _title

    rows = analysis.rows
    costs = np.array([r.cost for r in rows])
    risks = np.array([r.p_harm for r in rows])
    front = analysis.frontier
    with _styled():
        fig = _figure(width, height)
        ax = fig.add_subplot()
        ax.scatter(costs, risks, s=9, color="#b0b0b0", label="portfolio", zorder=1)
        fx = np.array([r.cost for r in front])
        fy = np.array([r.p_harm for r in front])
        if all(r.interval is not None for r in front):
            lo = fy - np.array([r.interval[0] for r in front])
            hi = np.array([r.interval[1] for r in front]) - fy
            ax.errorbar(fx, fy, yerr=np.vstack([np.clip(lo, 0, None), np.clip(hi, 0, None)]),
                        fmt="none", ecolor="#1f77b4", alpha=0.5, capsize=2, zorder=2)
        ax.plot(fx, fy, "-o", color="#1f77b4", ms=4, label="Pareto frontier", zorder=3)
        best = analysis.best_row
        ax.scatter([best.cost], [best.p_harm], s=120, facecolors="none", edgecolors="#d62728",
                   linewidths=2, label=f"best (cost {best.cost:g}, {best.p_harm:.1%})", zorder=4)
        if analysis.budget is not None:
            ax.axvline(analysis.budget, color="#d62728", ls="--", lw=1,
                       label=f"budget {analysis.budget:g}")
        ax.set_xlabel("cost (relative units: 1 = one training run's compute)")
        ax.set_ylabel(f"P({analysis.question.target}={analysis.question.state})")
        _percent_axis(ax.yaxis)
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper right", fontsize=8, frameon=False)
        given = ", ".join(f"{k}={v}" for k, v in analysis.question.evidence.items())
        set_ = ", ".join(f"{k}={v}" for k, v in analysis.question.do.items()
                         if k not in analysis.question.held)
        what = "; ".join(x for x in (given, f"do({set_})" if set_ else "") if x)
        _title(fig, "Mitigation portfolios: cost vs risk"
               + (f" ({what})" if what else "") + " - context held at the document's baseline")
    return fig
