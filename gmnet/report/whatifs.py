"""The what-if section: one decision changed at a time, reading backwards from harm, and
P(harm) over two settings and over the scenario catalog."""

from __future__ import annotations

from gmnet.analysis.ask import answer
from gmnet.errors import GmnetError
from gmnet.report.common import (
    _assign,
    _caption,
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
    # change only what the start leaves at the baseline (not what it, or a scenario, sets)
    open_ = set(before.resolved.held) if before else set()
    for question, intervention in _WHAT_IFS if before else ():
        if not set(intervention) <= open_:
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
    parts.append(_grid(ctx))
    parts.append(_domains(ctx))
    return "".join(parts) or None


def _grid(ctx: _Context) -> str:
    """P(harm) over two settings the report's question leaves open, each cell asked on the
    Question path."""
    from gmnet.report.brief import candidate_nodes, headline
    from gmnet.viz.plots import heatmap

    try:
        head = headline(ctx)
    except GmnetError:
        return ""
    nodes = candidate_nodes(ctx, head)
    preferred = [v for v in ("shift_type", "spec_quality") if v in nodes]
    pair = (preferred + [v for v in nodes if v not in preferred])[:2]
    if len(pair) < 2 or head.question.target != "harm":
        return ""
    rows, cols = pair
    net = ctx.network
    grid, first = [], None
    for r in net.states(rows):
        line = []
        for c in net.states(cols):
            a = ctx.ask(f"P(harm=yes | do({rows}={r}, {cols}={c}))")
            first = first or a
            line.append(a.probability)
        grid.append(line)
    label = {v: (net.node(v).label or v) for v in pair}
    fig = heatmap(grid, net.states(rows), net.states(cols),
                  title=f"P(harm=yes) by {label[rows].lower()} and {label[cols].lower()}"
                        + (f" ({ctx.label})" if ctx.label else ""),
                  row_title=label[rows], column_title=label[cols], colorbar_label="P(harm=yes)")
    held = first.resolved.assumptions()
    return (_figure_img(fig, f"heatmap of P(harm) over {label[rows]} and {label[cols]}")
            + _caption(f"Each cell sets {_esc(label[rows].lower())} and "
                       f"{_esc(label[cols].lower())} by do() and asks P(harm=yes) on the Question "
                       "path, the rest as the report's question holds it. Where the document's "
                       "multipliers would push goal failure past its ceiling, the cell is capped "
                       "(see the audit).", held))


def _domains(ctx: _Context) -> str:
    from gmnet.viz.charts import available, chart

    if not available("domains") or ctx.evidence or ctx.label:
        return ""  # a scenario already fixes the domain or period
    try:
        drawn = chart("domains", ctx.network)
    except GmnetError as exc:
        ctx.notes.append(f"domain x period chart skipped: {exc}")
        return ""
    rows, cols = drawn.data["rows"], drawn.data["columns"]
    cell = answer(ctx.base, ctx.template.replace(targets=("harm",), states=("yes",),
                                                 scenarios=(rows[0], cols[0])))
    value = drawn.data["values"][0][0]
    check = ("each cell equals the Question path's P(harm=yes) under its two scenarios "
             f"(e.g. {rows[0]} + {cols[0]}: {_pct(cell.probability)})"
             if abs(cell.probability - value) < 1e-9 else
             f"the chart holds the neutral context itself: {rows[0]} + {cols[0]} shows "
             f"{_pct(value)}, the Question path gives {_pct(cell.probability)}")
    return (_figure_img(drawn.figure, "heatmap of P(harm) over application domains and periods")
            + _caption("The source document's Application Domain Risk Profiles and Timeline "
                       "Projections as scenarios (<code>gmnet scenarios</code>): each cell "
                       "applies one domain and one period; the settings they leave open are held "
                       f"at the baseline; {_esc(check)}.", cell.resolved.assumptions()))
