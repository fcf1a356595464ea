"""The what-if section: one decision changed at a time, reading backwards from harm, and
P(harm) over two settings and over the scenario catalog."""

from __future__ import annotations

from gmnet.errors import GmnetError
from gmnet.report.common import (
    _assign,
    _Context,
    _esc,
    _figure_img,
    _pct,
    _table,
    _with_interval,
)

# The chosen what-if questions: (question, target, state, evidence, baseline do, intervention).
_WHAT_IFS = [
    ("Interpretability verification instead of standard alignment",
     {"alignment_method": "interpretability_verified"}),
    ("Adversarially diverse instead of moderate training data",
     {"training_diversity": "diverse"}),
    ("A high-quality instead of a low-quality specification", {"spec_quality": "high"}),
    ("A below-human instead of a human-level system", {"capability_level": "below_human"}),
]


def _what_ifs(ctx: _Context) -> str | None:
    from gmnet.viz.plots import heatmap, probability_grid

    net = ctx.network
    if not {"harm", "shift_type"} <= set(net.variables):
        return None
    parts = []
    if ctx.template.scenarios or ctx.evidence:
        start, where = "P(harm=yes)", "under the report's scenario"
    else:
        start = ("P(harm=yes | do(shift_type=extreme, spec_quality=low))"
                 if "spec_quality" in net.variables else "P(harm=yes | do(shift_type=extreme))")
        where = "from an extreme distribution shift with a low-quality specification"
    try:
        before = ctx.ask(start, interval=True)
    except GmnetError as exc:
        ctx.notes.append(f"what-ifs skipped: {exc}")
        before = None
    rows = []
    fixed = set(before.question.evidence) | set(before.question.do) if before else set()
    for question, intervention in _WHAT_IFS if before else ():
        if not set(intervention) <= set(net.variables) or set(intervention) & fixed:
            continue
        text = start[:-1] + (", " if "|" in start else " | ") + \
            f"do({_assign(intervention)}))"
        try:
            after = ctx.ask(text, interval=True)
        except GmnetError as exc:
            ctx.notes.append(f"what-if {question!r} skipped: {exc}")
            continue
        change = (after.probability - before.probability) / before.probability \
            if before.probability > 0 else float("nan")
        rows.append([_esc(question), f"<code>do({_esc(_assign(intervention))})</code>",
                     _with_interval(before), f"<b>{_with_interval(after)}</b>",
                     f"{change:+.0%}"])
    if rows:
        held = "; ".join(before.resolved.assumptions())
        parts.append(
            f"<p>Start {where} (<code>{_esc(before.question.text)}</code>) and change one "
            "decision. Brackets: 90% of parameter draws "
            f"({ctx.samples:,} draws, seed {ctx.rng}); the point is the document's point "
            "values.</p>"
            + _table(["what if…", "intervention", "P(harm) before", "P(harm) after", "change"],
                     rows, numeric=(2, 3, 4))
            + f'<p class="caption">Assumed: {_esc(held)}.</p>')
    diagnostic = []
    for target, state in (("goal_misgeneralizes", "yes"), ("learned_objective", "proxy"),
                          ("shift_type", "extreme")):
        if target not in net.variables or target in ctx.evidence or "harm" in ctx.evidence:
            continue
        try:
            prior = ctx.ask(f"P({target}={state})").probability
            post = ctx.ask(f"P({target}={state} | harm=yes)").probability
        except GmnetError:
            continue
        diagnostic.append([f"<code>P({_esc(target)}={_esc(state)})</code>", _pct(prior),
                           f"<b>{_pct(post)}</b>"])
    if diagnostic:
        parts.append("<p>Reading backwards: what observing harm says about its causes "
                     "(conditioning, not intervening).</p>"
                     + _table(["quantity", "before observing harm", "given harm=yes"],
                              diagnostic, numeric=(1, 2)))
    if "spec_quality" in net.variables:
        grid, rows_s, cols_s = probability_grid(net, "shift_type", "spec_quality",
                                                evidence=ctx.evidence)
        fig = heatmap(grid, rows_s, cols_s, title="P(harm) by shift type and specification "
                      "quality", row_title="shift type", column_title="specification quality")
        parts.append(_figure_img(fig, "heatmap of P(harm) over shift type and specification "
                                      "quality"))
        parts.append("<p class=\"caption\">Each cell sets shift type and specification quality "
                     "by do(), the other settings at their neutral levels. Where the document's "
                     "multipliers would push goal failure past its ceiling, the cell is capped "
                     "(see the audit).</p>")
    parts.append(_domains(ctx))
    return "".join(parts) or None


def _domains(ctx: _Context) -> str:
    from gmnet.viz.charts import available, chart

    if not available("domains") or ctx.evidence or ctx.label:
        return ""  # a scenario already fixes the domain or period
    try:
        drawn = chart("domains", ctx.network)
    except GmnetError as exc:
        ctx.notes.append(f"domain x period chart skipped: {exc}")
        return ""
    return (_figure_img(drawn.figure, "heatmap of P(harm) over application domains and periods")
            + "<p class=\"caption\">The source document's Application Domain Risk Profiles and "
              "Timeline Projections as scenarios (<code>gmnet scenarios</code>): each cell "
              "applies one domain and one period; the settings they leave open are neutral.</p>")
