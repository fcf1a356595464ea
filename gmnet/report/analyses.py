"""The sampling analyses: mitigations compared, uncertainty, sensitivity."""

from __future__ import annotations

from gmnet.errors import GmnetError
from gmnet.report.brief import check_mitigation_chart, headline, mitigation_chart
from gmnet.report.common import (
    _assign,
    _caption,
    _Context,
    _esc,
    _figure_img,
    _has,
    _pct,
    _table,
)


def _mitigations(ctx: _Context) -> str | None:
    try:
        drawn = mitigation_chart(ctx)
    except GmnetError as exc:
        return f'<p class="missing">No mitigation comparison: {_esc(exc)}</p>'
    if drawn is None:
        return None
    data = drawn.data
    spread = data.get("uncertainty", {}).get("portfolios", {})
    rows = []
    for m in data["mitigations"]:
        alone = _pct(m["probability_alone"])
        if m["name"] in spread:
            lo, hi = spread[m["name"]]
            alone += f' <span class="doc">[{_pct(lo)}, {_pct(hi)}]</span>'
        rows.append([_esc(m["label"]), _esc(m["layer"]), _esc(m["document_reduction"]),
                     _esc(m["cost"]), alone, f"{m['alone_relative']:.0%}",
                     _pct(m["marginal"], 2), f"{m['shapley_share']:.0%}"])
    interactions = []
    for i in data["interactions"]:
        interactions.append([_esc(" + ".join(i["layers"])), _pct(i["together"], 2),
                             _pct(i["sum_apart"], 2), _pct(i["interaction"], 2),
                             f"{i['remaining_ratio']:.2f}"])
    where = (f"given <code>{_esc(_assign(ctx.evidence))}</code>" if ctx.evidence
             else "averaged over the shift types")
    problems = ctx.shared("mitigation_checks", lambda: check_mitigation_chart(ctx, drawn))
    source = ("Every P(harm) here equals the Question path's answer to the same question "
              "(checked when the report was built)." if not problems else
              "The comparison differs from the Question path: " + _esc("; ".join(problems)))
    if "brief" in ctx.sections:  # the brief shows the bars: here, who earns the reduction
        figure = _figure_img(_shapley_figure(data), "bar chart of each mitigation's Shapley "
                                                    "share of the full set's reduction")
        figure += _caption("Each mitigation's share of the reduction all of them give together "
                           "(Shapley: averaged over every order of adding them).",
                           headline(ctx).resolved.assumptions())
    else:
        figure = _figure_img(drawn.figure, "bar chart of P(harm) under each mitigation")
        figure += _caption("P(harm=yes) with each mitigation switched on alone by do(), each "
                           "layer and all of them.", headline(ctx).resolved.assumptions())
    return (
        f"<p>Each mitigation switched on by do(), the others off, {where}, the other settings "
        f"at the report's context. With none, P(harm) is <b>{_pct(data['baseline'])}</b>; with "
        f"all of them, <b>{_pct(data['all_on'], 2)}</b>."
        + (f" Brackets and bars: 90% of {ctx.samples:,} parameter draws (seed {ctx.rng}; the "
           "same draws for every portfolio)." if spread else "") + f" {source}</p>"
        + figure
        + _table(["mitigation", "layer", "document's reduction", "cost", "P(harm) alone",
                  "reduction alone", "reduction added last", "Shapley share"], rows,
                 numeric=(4, 5, 6, 7))
        + "<p class=\"caption\">Reduction added last: how much P(harm) rises when only this "
          "mitigation is removed from the full set. Shapley share: its part of the full set's "
          "reduction, averaged over every order of adding the mitigations. Reductions are "
          "relative and points only: no interval is drawn for them.</p>"
        + (_table(["layers", "reduction together", "sum of reductions apart", "interaction",
                   "risk left vs independent layers"], interactions, numeric=(1, 2, 3, 4))
           + "<p class=\"caption\">Interaction below zero: the layers overlap (they catch the "
             "same failures). Ratio above 1: less protection than independent layers would "
             "give. Points only (the document's point values).</p>" if interactions else ""))


def _shapley_figure(data):
    from gmnet.viz.plots import interval_bars

    items = sorted(data["mitigations"], key=lambda m: -m["shapley_share"])
    rows = [(m["label"], m["shapley_share"], None, None) for m in items]
    return interval_bars(rows, groups=[m["layer"] for m in items],
                         title="Who earns the reduction: each mitigation's Shapley share",
                         xlabel="share of the full set's reduction of P(harm)")


def _focus(ctx: _Context):
    """The question the uncertainty and sensitivity sections ask, on the Question path: the
    report's question, or without a scenario an extreme shift (the core table's 27.7%).
    Returns (the chart's question, the network to ask it on, the answer with its interval)."""
    from gmnet.viz.charts import Question as ChartQuestion

    net, t = ctx.network, ctx.template
    text = "P(harm=yes)"
    if not t.scenarios and not ctx.evidence and "shift_type" in net.variables \
            and "shift_type" not in t.do:
        text = f"P(harm=yes | do(shift_type={net.states('shift_type')[-1]}))"
    ans = ctx.shared("focus", lambda: ctx.ask(text, interval=True))
    r = ans.resolved
    description = ans.question.text + (f", {ctx.label}" if ctx.label else "")
    return ChartQuestion("harm", "yes", dict(r.evidence), dict(r.do), description), r.network, ans


def _agrees(point: float, ans) -> str:
    if abs(point - ans.probability) < 1e-9:
        return f"the point is the Question path's {ans.question.text} = {_pct(ans.probability)}"
    return (f"the point ({_pct(point)}) differs from the Question path's {ans.question.text} = "
            f"{_pct(ans.probability)}")


def _uncertainty(ctx: _Context) -> str | None:
    from gmnet.viz.charts import available, chart

    if not available("uncertainty") or "harm" not in ctx.network.variables:
        return None
    from gmnet.analysis.uncertainty import uncertainty

    try:
        question, net, ans = _focus(ctx)
        drawn = chart("uncertainty", net, question=question, samples=ctx.samples, rng=ctx.rng)
    except GmnetError as exc:
        return f'<p class="missing">No uncertainty analysis: {_esc(exc)}</p>'
    data = drawn.data
    parts = [
        "<p>Every number with a range is drawn from a PERT distribution over it (mode at the "
        "point value), and the source document's Critical Unknowns enter as labelled "
        f"assumptions; {data['samples']:,} draws, seed {ctx.rng}. The answer's spread is what "
        "the document's own ranges imply, not a forecast error.</p>",
        f"<p><b>{_esc(drawn.summary)}.</b></p>",
        _figure_img(drawn.figure, "histogram and cumulative distribution of P(harm) over "
                                  "parameter draws, with the 5-95% band"),
        _caption(f"The spread of {_esc(ans.question.text)} over the draws; "
                 f"{_esc(_agrees(data['point'], ans))}.", ans.resolved.assumptions()),
    ]
    if not ctx.evidence and not ctx.template.scenarios and "shift_type" in net.variables:
        ranges = {}
        if _has("gmnet.analysis.audit"):
            from gmnet.analysis.audit import RISK_RANGES as ranges
        rows = []
        base = {k: v for k, v in question.do.items() if k != "shift_type"}
        for shift in net.states("shift_type"):
            result = uncertainty(net, "harm", "yes", do={**base, "shift_type": shift},
                                 samples=ctx.samples, rng=ctx.rng)
            lo, hi = result.interval(0.9)
            rows.append([_esc(shift), _pct(result.point), _pct(result.median),
                         f"{_pct(lo)} – {_pct(hi)}", _esc(ranges.get(shift, "–"))])
        parts.append(
            "<p>P(harm) by shift type (<code>P(harm=yes | do(shift_type=…))</code>), the rest as "
            "above:</p>"
            + _table(["shift type", "point values", "median", "90% of draws",
                      "document's likelihood range (Risk Assessment)"], rows,
                     numeric=(1, 2, 3, 4)))
    return "".join(parts)


def _sensitivity(ctx: _Context) -> str | None:
    from gmnet.viz.charts import available, chart

    if not available("tornado") or "harm" not in ctx.network.variables:
        return None
    try:
        question, net, ans = _focus(ctx)
        tornado = chart("tornado", net, question=question, rng=ctx.rng)
        sobol = chart("sobol", net, question=question, samples=ctx.samples, rng=ctx.rng)
    except GmnetError as exc:
        return f'<p class="missing">No sensitivity analysis: {_esc(exc)}</p>'
    data = sobol.data
    rows = []
    for r in data["inputs"]:
        if not r.get("reaches_target") or (r.get("st") or 0.0) <= 0.001:
            continue
        rows.append([_esc(r["label"]), f"{r['low']:.3g} – {r['high']:.3g} ({r['point']:.3g})",
                     _pct(r["output_low"]), _pct(r["output_high"]),
                     f"{r['s1']:.2f}", f"{r['st']:.2f} ± {r['st_conf']:.2f}"])
    held = ans.resolved.assumptions()
    return (
        f"<p>Which uncertain number matters for {_esc(question.description)}: each one moved "
        "alone across its range (tornado), and all at once (Sobol indices: the share of the "
        f"answer's variance each explains alone, S1, and with its interactions, ST; "
        f"{data['samples']:,} base samples).</p>"
        f"<p><b>{_esc(tornado.summary)}.</b></p>"
        + _figure_img(tornado.figure, "tornado chart: P(harm) with each number at the low and "
                                      "high end of its range")
        + _caption("Each bar: the answer with one number at the low and the high end of its "
                   f"range, the others at their points; {_esc(_agrees(tornado.data['point'], ans))}"
                   ".", held)
        + _figure_img(sobol.figure, "total-order Sobol indices with confidence intervals")
        + _caption("Total-order Sobol indices with their confidence intervals (sampled, seed "
                   f"{ctx.rng}); Sobol indices are shares of variance, not probabilities.", held)
        + (_table(["uncertain number", "range (point)", "P(harm) at low end",
                   "P(harm) at high end", "S1", "ST"], rows, numeric=(2, 3, 4, 5))
           if rows else "")
        + "<p class=\"caption\">Numbers that do not appear cannot move this answer: either "
          "they have no range or the question does not reach them.</p>")
