"""The report's sections on the network itself: overview, the pathway diagram, the core
table reproduced."""

from __future__ import annotations

import re

from gmnet.analysis.ask import answer
from gmnet.errors import GmnetError, InvalidArgumentError
from gmnet.report.brief import headline, headline_target
from gmnet.report.common import (
    _assign,
    _caption,
    _Context,
    _esc,
    _pct,
    _table,
)


def _overview(ctx: _Context) -> str:
    net = ctx.network
    n_assumed = sum(p.is_assumption for p in net.parameters.values())
    parts = [f"<p>{_esc(net.description)}</p>" if net.description else ""]
    facts = [
        ("Network", f"{_esc(net.title)} (<code>{_esc(net.name)}</code>)"),
        ("Nodes", str(len(net.variables))),
        ("Numbers", f"{len(net.parameters)}, of which {n_assumed} are labelled assumptions "
                    "(the rest come from the source document's tables)"),
        ("Combination rule", f"<code>{_esc(net.rule)}</code>"),
    ]
    if ctx.label:
        facts.append(("Scenario", _esc(ctx.label)))
    if ctx.evidence:
        facts.append(("Evidence in every query", f"<code>{_esc(_assign(ctx.evidence))}</code>"))
    try:
        head = headline(ctx)
    except GmnetError as exc:
        ctx.notes.append(f"headline skipped: {exc}")
    else:
        if "brief" not in ctx.sections:  # the brief shows the headline and its assumptions
            facts.insert(0, ("Headline", f"<b>{_esc(head.statement())}</b>"))
            for i, line in enumerate(head.resolved.assumptions()):
                key, _, value = line.partition(": ")
                facts.insert(1 + i, ("Assumed: " + _esc(key), _esc(value)))
    parts.append("<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>")
    parts.append("<p>Every probability in this report is computed exactly from the network. "
                 "<code>P(x | a=…)</code> observes <code>a</code>; <code>P(x | do(b=…))</code> "
                 "sets <code>b</code>, as a deployment decision would, and cuts the arrows "
                 "into it.</p>")
    return "".join(parts)


def _diagram(ctx: _Context) -> str | None:
    from gmnet.viz.diagram import DotNotFoundError, draw

    target, state = headline_target(ctx)
    try:
        r = headline(ctx).resolved
    except GmnetError as exc:
        return f'<p class="missing">The diagram is not included: {_esc(exc)}.</p>'
    title = "Every node's probability under the report's question" + (
        f" ({ctx.label})" if ctx.label else "")
    diagram = draw(r.network, evidence=r.evidence, do=r.do, target=target, marginals=True,
                   title=title)
    try:
        svg = diagram.svg()
    except DotNotFoundError as exc:
        return f'<p class="missing">The diagram is not included: {_esc(exc)}.</p>'
    shown = diagram.target_distribution.get(state)
    return (f'<div class="diagram">{_fluid_svg(svg)}</div>'
            + _caption(
                "Each node shows the probability of each of its states under the headline's "
                f"question (<code>{_esc(target)}</code>, thick red border: "
                f"{_pct(shown) if shown is not None else '?'} {_esc(state)}, the headline); "
                "a dashed orange border marks a node held by do(), a blue one a node observed. "
                "Clusters follow the source document's pathway: context, training phase, "
                "deployment phase, and the mitigation layers.", r.assumptions()))


def _fluid_svg(svg: str) -> str:
    """Graphviz's SVG without its fixed size: it scales to the page (and, printed, to the
    page's height too), never above its natural size."""
    svg = svg[svg.find("<svg"):]
    head, rest = svg.split(">", 1)
    size = re.search(r'\swidth="([\d.]+)pt"\s+height="([\d.]+)pt"', head)
    if size:
        natural = float(size.group(1)) * 4 / 3  # pt -> CSS px
        head = head.replace(size.group(0), f' width="100%" style="max-width:{natural:.0f}px"')
    return head + ">" + rest


def _core_table(ctx: _Context) -> str | None:
    from gmnet.analysis.whatif import core_table

    net = ctx.network
    try:
        rows = core_table(net)  # for the pathway check and the document's own figures
    except InvalidArgumentError:
        return None  # not the goal-misgeneralization pathway: nothing to reproduce
    # every number asked on the Question path: the report's worldview and numbers, the
    # baseline context, no scenario (the document's table describes none)
    template = ctx.template.replace(scenarios=(), evidence={}, do={}, context="baseline")

    def ask(target: str, given: dict[str, str]):
        return answer(ctx.base, template.replace(targets=(target,), states=("yes",),
                                                 evidence=given))

    body, held = [], None
    for r in rows:
        doc, s = r.document, {"shift_type": r.shift_type}
        harm = ask("harm", s)
        held = held or harm.resolved.assumptions()
        values = (ask("capability_transfer", s).probability,
                  ask("goal_misgeneralizes", {**s, "capability_transfer": "yes"}).probability,
                  ask("harm", {**s, "goal_misgeneralizes": "yes"}).probability,
                  harm.probability)
        body.append([
            _esc(r.shift_type),
            _pct(values[0]) + (f" <span class=doc>({_pct(doc[0], 0)})</span>" if doc else ""),
            _pct(values[1]) + (f" <span class=doc>({_pct(doc[1], 0)})</span>" if doc else ""),
            _pct(values[2]),
            f"<b>{_pct(values[3])}</b>" + (f" <span class=doc>({_pct(doc[2])})</span>"
                                            if doc else ""),
        ])
    dropped = [what for what, given in (
        ("scenario", ctx.template.scenarios), ("evidence", ctx.evidence or ctx.template.do),
        ("context policy", ctx.template.context != "baseline")) if given]
    return (
        "<p>The source document's <em>Detailed Risk Assessment by Shift Type</em>, as the "
        "network reproduces it: <code>P(capability_transfer=yes | shift_type=S)</code>, "
        "<code>P(goal_misgeneralizes=yes | capability_transfer=yes, shift_type=S)</code>, "
        "<code>P(harm=yes | goal_misgeneralizes=yes, shift_type=S)</code> and "
        "<code>P(harm=yes | shift_type=S)</code>, each asked on the Question path with the "
        "baseline context. The document's own figures are in brackets."
        + (" The table describes the document's reference deployment, so it is asked without "
           f"the report's {' and '.join(dropped)}." if dropped else "") + "</p>"
        + _table(["shift type", "P(capability transfers)", "P(goal fails | capability)",
                  "P(harm | goal fails)", "P(harmful misgeneralization)"], body,
                 numeric=(1, 2, 3, 4))
        + _caption("P(harm | goal fails) is implied by the document's P(M) column; its note says "
                   "50-70% instead, which the parameter ranges in the appendix carry. Points "
                   "only: the document's table has no intervals (the uncertainty section has "
                   "them).", held or ()))
