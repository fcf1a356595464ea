"""The report's first page, a brief: what the report asks (scenario, worldview, context policy,
the reader's own numbers), the headline with its 90% interval, the few what-ifs that move it
most from there, and the mitigation chart. Every number is asked on the Question path
(:meth:`_Context.ask`), with its interval beside it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from gmnet.analysis.ask import Answer, with_interval
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

#: How many what-ifs the brief shows: the changes that lower the headline most, then those
#: that raise it most (at most one of each per setting).
LOWER, RAISE = 3, 2


def headline_target(ctx: _Context) -> tuple[str, str]:
    """The report's target: harm=yes on the goal-misgeneralization pathway, else the last
    node's first state."""
    net = ctx.network
    target = "harm" if "harm" in net.variables else net.variables[-1]
    state = "yes" if "yes" in net.states(target) else net.states(target)[0]
    return target, state


def headline(ctx: _Context) -> Answer:
    """The headline answer with its interval (asked once per report)."""
    target, state = headline_target(ctx)
    return ctx.shared("headline", lambda: ctx.ask(f"P({target}={state})", interval=True))


def _words(state: str) -> str:
    return state.replace("_", " ")


# ============================================================================ the question
def _question_box(ctx: _Context, head: Answer) -> str:
    r = head.resolved
    t = ctx.template
    rows = [("Scenario", _esc(", ".join(r.scenarios)) if r.scenarios
             else "none: the source document's reference deployment" if r.held
             else "none")]
    rows.append(("Worldview", _esc(r.worldview)))
    rows.append(("Context policy", f"<b>{_esc(t.context)}</b>: {_esc(r.held_text())}"))
    observed = dict(r.evidence)
    if observed:
        rows.append(("Observed in every question", f"<code>{_esc(_assign(observed))}</code>"))
    if t.do:
        rows.append(("Set in every question", f"<code>do({_esc(_assign(t.do))})</code>"))
    rows.append(("Your numbers", _esc(", ".join(f"{k}={v:g}" for k, v in r.set_by_you.items()))
                 if r.set_by_you else "none: every number is the document's or a labelled "
                                      "assumption (appendix)"))
    rows.append(("Critical Unknowns", "fixed by you: " + _esc(_assign(r.unknowns))
                 if r.unknowns else "none fixed: drawn in every interval"))
    rows.append(("Intervals", f"90% of {ctx.samples:,} draws of every uncertain number "
                              f"(seed {ctx.rng}); the point uses the document's point values"))
    body = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return f'<dl class="question">{body}</dl>'


def _headline_block(head: Answer) -> str:
    lo, hi = head.interval
    interval = (f"90% interval {_pct(lo)} to {_pct(hi)}" if hi - lo > 1e-12
                else "exact: none of its numbers has a range")
    return (
        '<div class="headline">'
        f'<div class="headline-number">{_pct(head.probability)}</div>'
        f'<div class="headline-interval">{interval}</div>'
        f'<div class="headline-question"><code>{_esc(head.question.text)}</code></div>'
        "</div>")


# ============================================================================ the what-ifs
@dataclass(frozen=True)
class WhatIf:
    """One setting changed by do() from the headline's question."""

    node: str
    state: str
    instead_of: str | None  # the state the headline held it at (None: it was left free)
    answer: Answer

    def change(self, before: float) -> float:
        return (self.answer.probability - before) / before if before > 0 else 0.0


def candidate_nodes(ctx: _Context, head: Answer) -> list[str]:
    """The settings the headline's question leaves open: the context nodes it holds at the
    baseline, and (without a scenario) the root context nodes it leaves free."""
    net, r = ctx.network, head.resolved
    target = head.question.target
    nodes = [v for v in r.held if net.node(v).role != "mitigation"]
    free = [v for v in net.variables if net.node(v).role == "context" and v not in r.held
            and v not in r.evidence and v not in r.do and v != target and not r.scenarios
            and not net.parents(v)]
    return free + nodes


def _candidates(ctx: _Context, head: Answer) -> list[tuple[str, str, str | None]]:
    """Every single change of a setting the headline leaves open."""
    net, r = ctx.network, head.resolved
    out = []
    for v in candidate_nodes(ctx, head):
        current = r.held.get(v)
        out += [(v, s, current) for s in net.states(v) if s != current]
    return out


def what_ifs(ctx: _Context) -> list[WhatIf]:
    """The what-ifs that move the headline most: the ``LOWER`` changes that lower it most and
    the ``RAISE`` that raise it most (one per setting and direction), each with its
    interval. Computed once per report."""
    return ctx.shared("brief_what_ifs", lambda: _what_ifs(ctx))


def _what_ifs(ctx: _Context) -> list[WhatIf]:
    head = headline(ctx)
    target, state = head.question.target, head.question.state
    before = head.probability
    tried: list[WhatIf] = []
    for node, s, current in _candidates(ctx, head):
        try:
            a = ctx.ask(f"P({target}={state} | do({node}={s}))")
        except GmnetError as exc:
            ctx.notes.append(f"what-if do({node}={s}) skipped: {exc}")
            continue
        tried.append(WhatIf(node, s, current, a))
    ctx.cache["what_ifs_tried"] = len(tried)

    def best(items: list[WhatIf], sign: int, n: int) -> list[WhatIf]:
        per_node: dict[str, WhatIf] = {}
        for w in sorted(items, key=lambda w: sign * (w.answer.probability - before)):
            if sign * (w.answer.probability - before) < -1e-12 and w.node not in per_node:
                per_node[w.node] = w
        return list(per_node.values())[:n]

    chosen = best(tried, 1, LOWER) + best(tried, -1, RAISE)
    return [replace(w, answer=with_interval(w.answer, samples=ctx.samples, seed=ctx.rng))
            for w in chosen]


def _what_if_label(ctx: _Context, w: WhatIf) -> str:
    label = ctx.network.node(w.node).label or w.node
    instead = (f"instead of {_words(w.instead_of)}" if w.instead_of is not None
               else "instead of its prior mix")
    return f"{_esc(label)}: <b>{_esc(_words(w.state))}</b> {_esc(instead)}"


def _what_if_table(ctx: _Context, head: Answer) -> str:
    rows_w = what_ifs(ctx)
    if not rows_w:
        return ""
    before = head.probability
    rows = [[_what_if_label(ctx, w), f"<code>do({_esc(w.node)}={_esc(w.state)})</code>",
             f"<b>{_with_interval(w.answer)}</b>", f"{w.change(before):+.0%}"] for w in rows_w]
    tried = ctx.cache.get("what_ifs_tried", len(rows_w))
    return (
        f"<h3>What if…</h3><p>One setting changed by do() from the headline, the rest as "
        f"above: of the {tried} single changes of a setting the question leaves "
        f"{'free or ' if not head.resolved.scenarios else ''}at the baseline, those that lower "
        "it most and those that raise it most.</p>"
        + _table(["what if…", "intervention", f"P({head.question.target}={head.question.state}) "
                  "[90% interval]", "change"], rows, numeric=(2, 3), cls="whatifs"))


# ============================================================================ mitigations
def mitigation_chart(ctx: _Context):
    """The mitigation chart for the report's question (computed once per report), or None
    where the network has no mitigations or the analyses are missing.

    The comparison is asked on the Question path (:func:`gmnet.analysis.compare.compare_question`:
    the report's scenarios, worldview, context policy and numbers), its intervals on one set of
    draws for every portfolio, and drawn with :func:`gmnet.viz.plots.interval_bars` as the
    ``mitigations`` chart draws them.
    """
    from gmnet.viz.charts import available

    net = ctx.network
    if not (available("mitigations") and available("uncertainty")) \
            or "harm" not in net.variables:
        return None
    from gmnet.analysis.mitigations import mitigations_of

    if not mitigations_of(net):
        return None
    return ctx.shared("mitigations_chart", lambda: _mitigation_chart(ctx))


def _mitigation_chart(ctx: _Context):
    from gmnet.analysis.compare import compare_question
    from gmnet.analysis.uncertainty import comparison_uncertainty
    from gmnet.viz.charts import Chart, mitigation_rows
    from gmnet.viz.plots import interval_bars

    result, resolved = compare_question(ctx.base, ctx.question("P(harm=yes)"))
    spread = comparison_uncertainty(resolved.network, result, samples=ctx.samples, rng=ctx.rng)
    data = result.to_dict()
    data["uncertainty"] = spread.to_dict()
    intervals = spread.portfolios

    outside: list[str] = []  # bars whose point lies outside its interval: no whisker drawn
    rows, groups = mitigation_rows(result, intervals, outside=outside)
    where = f" ({ctx.label})" if ctx.label else ""
    fig = interval_bars(rows, baseline=result.baseline, groups=groups,
                        title=f"P(harm=yes){where} with each mitigation, each layer and all "
                              "of them (bars: 90% of parameter draws)", xlabel="P(harm=yes)")
    data["outside_interval"] = outside
    return Chart("mitigations", fig, data,
                 f"no mitigation {_pct(result.baseline)}; all on {_pct(result.all_on)}")


def check_mitigation_chart(ctx: _Context, drawn) -> list[str]:
    """Problems, if any, between the chart's numbers and the Question path's (the chart runs
    the mitigation comparison, which holds the same baseline itself)."""
    problems = []
    names = [m["name"] for m in drawn.data["mitigations"]]

    def portfolio(on: str | None) -> str:
        return "P(harm=yes | do(" + ", ".join(f"{m}={'on' if m == on else 'off'}"
                                              for m in names) + "))"

    checks = [("no mitigation", drawn.data["baseline"], portfolio(None))]
    checks += [(m["name"], m["probability_alone"], portfolio(m["name"]))
               for m in drawn.data["mitigations"]]
    for name, value, text in checks:
        try:
            asked = ctx.ask(text).probability
        except GmnetError as exc:
            problems.append(f"{name}: {exc}")
            continue
        if abs(asked - value) > 1e-9:
            problems.append(f"{name}: the chart's {_pct(value)} against {text} = {_pct(asked)}")
    return problems


def _mitigation_block(ctx: _Context, head: Answer) -> str:
    try:
        drawn = mitigation_chart(ctx)
    except GmnetError as exc:
        ctx.notes.append(f"mitigation chart skipped: {exc}")
        return ""
    if drawn is None:
        return ""
    problems = ctx.shared("mitigation_checks", lambda: check_mitigation_chart(ctx, drawn))
    agrees = ("each bar is the Question path's P(harm=yes | do(...)) with its mitigations on "
              "and the others off" if not problems else
              "the chart's bars differ from the Question path's answers: " + "; ".join(problems))
    data = drawn.data
    return (
        "<h3>Mitigations</h3>"
        + _figure_img(drawn.figure, "bar chart of P(harm) under each mitigation, each layer "
                                    "and all of them, with 90% intervals")
        + _caption(
            f"P(harm=yes) with each mitigation switched on alone by do(), each layer and all "
            f"of them (all: {_pct(data['all_on'])}); the line is no mitigation "
            f"({_pct(data['baseline'])}{_line_note(data['baseline'], head)}); whiskers: 90% "
            f"of {ctx.samples:,} draws (seed {ctx.rng}, the same draws for every bar)"
            f"{_esc(_no_whisker(data))}; "
            f"{_esc(agrees)}.",
            head.resolved.assumptions()))


def _line_note(baseline: float, head: Answer) -> str:
    if abs(baseline - head.probability) < 1e-9:
        return ", the headline"
    return (f"; the headline, {_pct(head.probability)}, leaves the mitigations at their "
            "adoption priors")


def _no_whisker(data) -> str:
    outside = data.get("outside_interval") or []
    if not outside:
        return ""
    return ("; no whisker where the point lies outside its interval (the draws are skewed): "
            + ", ".join(outside))


# ============================================================================ the section
def _brief(ctx: _Context) -> str | None:
    try:
        head = headline(ctx)
    except GmnetError as exc:
        ctx.notes.append(f"brief skipped: {exc}")
        return None
    return (
        '<div class="brief-top">'
        + _question_box(ctx, head)
        + _headline_block(head)
        + "</div>"
        + _what_if_table(ctx, head)
        + _mitigation_block(ctx, head))
