"""A one-file HTML report: the diagram, the core table, what-ifs, analyses and every number.

The file is self-contained: styles are inline, the diagram is inline SVG and the plots are
``data:`` URIs, so nothing is fetched when it is opened, and it can be e-mailed or printed (it has
print styles). Sections whose analysis is not available (for instance without Graphviz's ``dot``)
say so instead of failing.

>>> import gmnet
>>> text = build_report(gmnet.load_network(), sections=("core_table", "parameters"))
>>> "Detailed Risk Assessment by Shift Type" in text and "</html>" in text
True
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import importlib.util
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gmnet._version import __version__
from gmnet.analysis.ask import Answer, answer, resolve, with_interval
from gmnet.display import percent, percent_interval
from gmnet.errors import GmnetError, InvalidArgumentError, UnknownNameError
from gmnet.model.question import Question, parse_question

if TYPE_CHECKING:
    from gmnet.model.network import Network

__all__ = ["SECTIONS", "build_report", "check_report_path", "write_report"]


@dataclass
class _Context:
    network: Network  # the template's worldview, scenarios and numbers applied
    evidence: dict[str, str]  # what every question observes (the scenarios', the caller's)
    samples: int
    rng: int
    label: str | None
    base: Network | None = None  # the network as given: questions are asked on it
    template: Question | None = None  # scenarios, worldview, context policy, numbers
    notes: list[str] = field(default_factory=list)

    def question(self, text: str) -> Question:
        """``text`` under the report's scenarios, worldview, context policy and numbers."""
        t = self.template
        q = parse_question(text)
        return t.replace(targets=q.targets, states=q.states,
                         evidence={**t.evidence, **q.evidence}, do={**t.do, **q.do})

    def ask(self, text: str, *, interval: bool = False) -> Answer:
        result = answer(self.base, self.question(text))
        return with_interval(result, samples=self.samples, seed=self.rng) if interval \
            else result


@dataclass(frozen=True)
class _Section:
    key: str
    title: str
    render: Callable[[_Context], str | None]


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _pct(p: float, digits: int = 1) -> str:
    """gmnet's one format for people (``digits`` is kept for old callers)."""
    return percent(p)


def _with_interval(a: Answer) -> str:
    """A point and its 90% interval, for a table cell."""
    if a.interval is None:
        return _pct(a.probability)
    return (f"{_pct(a.probability)} <span class=\"doc\">[{_esc(percent_interval(*a.interval))}]"
            "</span>")


def _assign(mapping: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in mapping.items())


def _settings(network: Network, assignment: Mapping[str, str]) -> str:
    """``do(...)`` of the context settings, with the mitigations summarised (all off, ...)."""
    mitigations = {v: s for v, s in assignment.items() if network.node(v).role == "mitigation"}
    rest = {v: s for v, s in assignment.items() if v not in mitigations}
    text = f"<code>do({_esc(_assign(rest))})</code>"
    if mitigations:
        states = set(mitigations.values())
        text += (f", every mitigation {_esc(states.pop())}" if len(states) == 1
                 else f", mitigations <code>{_esc(_assign(mitigations))}</code>")
    return text


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _figure_img(figure, alt: str) -> str:
    from gmnet.viz.plots import figure_svg

    data = base64.b64encode(figure_svg(figure).encode("utf-8")).decode("ascii")
    return (f'<img class="figure" alt="{_esc(alt)}" '
            f'src="data:image/svg+xml;base64,{data}">')


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, numeric: Sequence[int] = (),
           cls: str = "") -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            klass = ' class="num"' if i in numeric else ""
            cells.append(f"<td{klass}>{cell}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# ============================================================================ sections
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
    target = "harm" if "harm" in net.variables else net.variables[-1]
    state = "yes" if "yes" in net.states(target) else net.states(target)[0]
    try:
        headline = ctx.ask(f"P({target}={state})", interval=True)
    except GmnetError as exc:
        ctx.notes.append(f"headline skipped: {exc}")
    else:
        facts.insert(0, ("Headline", f"<b>{_esc(headline.statement())}</b>"))
        for i, line in enumerate(headline.resolved.assumptions()):
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

    net = ctx.network
    target = "harm" if "harm" in net.variables else net.variables[-1]
    title = "Every node's probability" + (f" given {_assign(ctx.evidence)}" if ctx.evidence
                                          else (f" ({ctx.label})" if ctx.label else ""))
    diagram = draw(net, evidence=ctx.evidence, target=target, marginals=True, title=title)
    try:
        svg = diagram.svg()
    except DotNotFoundError as exc:
        return f'<p class="missing">The diagram is not included: {_esc(exc)}.</p>'
    return (f'<div class="diagram">{_fluid_svg(svg)}</div>'
            "<p class=\"caption\">Each node shows the probability of each of its states "
            + ("given the evidence above" if ctx.evidence else
               "with no evidence (every setting equally likely)")
            + f"; the target <code>{_esc(target)}</code> has a thick red border. Clusters follow "
            "the source document's pathway: context, training phase, deployment phase, and the "
            "mitigation layers where the network has them.</p>")


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
    from gmnet.analysis.whatif import core_table, neutral_context

    net = ctx.network
    try:
        rows = core_table(net)
    except InvalidArgumentError:
        return None  # not the goal-misgeneralization pathway: nothing to reproduce
    body = []
    for r in rows:
        doc = r.document
        body.append([
            _esc(r.shift_type),
            _pct(r.p_capability_transfer) + (f" <span class=doc>({_pct(doc[0], 0)})</span>"
                                             if doc else ""),
            _pct(r.p_goal_fails_given_capability)
            + (f" <span class=doc>({_pct(doc[1], 0)})</span>" if doc else ""),
            _pct(r.p_harm_given_failure),
            f"<b>{_pct(r.p_harmful_misgeneralization)}</b>"
            + (f" <span class=doc>({_pct(doc[2])})</span>" if doc else ""),
        ])
    neutral = neutral_context(net)
    return (
        "<p>The source document's <em>Detailed Risk Assessment by Shift Type</em>, as the "
        "network reproduces it: each factor is an interventional query at the neutral context "
        f"({_settings(ctx.network, neutral)}). The document's own figures are in "
        "brackets.</p>"
        + _table(["shift type", "P(capability transfers)", "P(goal fails | capability)",
                  "P(harm | goal fails)", "P(harmful misgeneralization)"], body,
                 numeric=(1, 2, 3, 4))
        + "<p class=\"caption\">P(harm | goal fails) is implied by the document's P(M) column; "
          "its note says 50-70% instead, which the parameter ranges in the appendix carry.</p>")


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


def _mitigations(ctx: _Context) -> str | None:
    from gmnet.viz.charts import available, chart

    net = ctx.network
    if not available("mitigations") or "harm" not in net.variables:
        return None
    from gmnet.analysis.mitigations import mitigations_of

    if not mitigations_of(net):
        return None
    try:
        drawn = chart("mitigations", net, evidence=ctx.evidence, samples=ctx.samples,
                      rng=ctx.rng)
    except GmnetError as exc:
        return f'<p class="missing">No mitigation comparison: {_esc(exc)}</p>'
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
    return (
        f"<p>Each mitigation switched on by do(), the others off, {where}, the other settings "
        f"neutral. With none, P(harm) is <b>{_pct(data['baseline'])}</b>; with all of them, "
        f"<b>{_pct(data['all_on'], 2)}</b>."
        + (" Brackets and bars: 90% of parameter draws (the same draws for every portfolio)."
           if spread else "") + "</p>"
        + _figure_img(drawn.figure, "bar chart of P(harm) under each mitigation")
        + _table(["mitigation", "layer", "document's reduction", "cost", "P(harm) alone",
                  "reduction alone", "reduction added last", "Shapley share"], rows,
                 numeric=(4, 5, 6, 7))
        + "<p class=\"caption\">Reduction added last: how much P(harm) rises when only this "
          "mitigation is removed from the full set. Shapley share: its part of the full set's "
          "reduction, averaged over every order of adding the mitigations.</p>"
        + (_table(["layers", "reduction together", "sum of reductions apart", "interaction",
                   "risk left vs independent layers"], interactions, numeric=(1, 2, 3, 4))
           + "<p class=\"caption\">Interaction below zero: the layers overlap (they catch the "
             "same failures). Ratio above 1: less protection than independent layers would "
             "give.</p>" if interactions else ""))


def _uncertainty(ctx: _Context) -> str | None:
    from gmnet.viz.charts import available, chart, focus_question

    net = ctx.network
    if not available("uncertainty") or "harm" not in net.variables:
        return None
    from gmnet.analysis.uncertainty import uncertainty

    question = focus_question(net, ctx.evidence)
    try:
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
    ]
    if not ctx.evidence and not net.metadata.get("scenarios") and "shift_type" in net.variables:
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
            "<p>P(harm) by shift type, the other settings neutral, no mitigation:</p>"
            + _table(["shift type", "point values", "median", "90% of draws",
                      "document's likelihood range (Risk Assessment)"], rows,
                     numeric=(1, 2, 3, 4)))
    return "".join(parts)


def _sensitivity(ctx: _Context) -> str | None:
    from gmnet.viz.charts import available, chart, focus_question

    net = ctx.network
    if not available("tornado") or "harm" not in net.variables:
        return None
    question = focus_question(net, ctx.evidence)
    try:
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
    return (
        f"<p>Which uncertain number matters for {_esc(question.description)}: each one moved "
        "alone across its range (tornado), and all at once (Sobol indices: the share of the "
        f"answer's variance each explains alone, S1, and with its interactions, ST; "
        f"{data['samples']:,} base samples).</p>"
        f"<p><b>{_esc(tornado.summary)}.</b></p>"
        + _figure_img(tornado.figure, "tornado chart: P(harm) with each number at the low and "
                                      "high end of its range")
        + _figure_img(sobol.figure, "total-order Sobol indices with confidence intervals")
        + (_table(["uncertain number", "range (point)", "P(harm) at low end",
                   "P(harm) at high end", "S1", "ST"], rows, numeric=(2, 3, 4, 5))
           if rows else "")
        + "<p class=\"caption\">Numbers that do not appear cannot move this answer: either "
          "they have no range or the question does not reach them.</p>")


def _audit(ctx: _Context) -> str | None:
    if not _has("gmnet.analysis.audit"):
        return None
    from gmnet.analysis.audit import VERDICTS, audit

    if not {"shift_type", "goal_misgeneralizes", "harm"} <= set(ctx.network.variables):
        return None  # the audit compares the goal-misgeneralization pathway only
    try:
        result = audit(ctx.network)
    except GmnetError as exc:
        return f'<p class="missing">No audit: {_esc(exc)}</p>'
    totals = result.verdicts()
    summary = ", ".join(f"<b>{n}</b> {_esc(VERDICTS[v])}" for v, n in totals.items() if n)
    per_table = []
    for section in result.sections:
        counts = section.verdicts()
        per_table.append([_esc(section.table)]
                         + [str(counts.get(v, 0) or "") for v in VERDICTS]
                         + [f'<span class="note">{_esc(section.method)}</span>'])
    outside = [[_esc(section.table), _esc(row.row), _esc(row.document), _esc(row.model),
                _esc(row.reason)]
               for section in result.sections for row in section.rows
               if row.verdict == "outside"]
    parts = [
        f"<p>Every numeric table of the source document against the network (worldview "
        f"<code>{_esc(result.worldview)}</code>, rule <code>{_esc(result.rule)}</code>): "
        f"{summary}.</p>",
        _table(["table", *VERDICTS.values(), "how the model's number is computed"], per_table,
               numeric=tuple(range(1, 1 + len(VERDICTS)))),
    ]
    if outside:
        parts.append("<h3>Where the network and the document differ</h3>"
                     + _table(["table", "row", "document", "network", "why"], outside))
    if result.inconsistencies:
        items = "".join(
            f"<dt>{_esc(i.title)}</dt><dd><p>{_esc(i.arithmetic)}</p>"
            f'<p class="note">{_esc(i.consequence)}</p></dd>' for i in result.inconsistencies)
        parts.append("<h3>Where the document disagrees with itself</h3>"
                     f'<dl class="findings">{items}</dl>')
    if result.region is not None:
        parts.append(f'<p class="caption">{_esc(result.region.note)}</p>')
    return "".join(parts)


def _parameters(ctx: _Context) -> str:
    rows = []
    for p in sorted(ctx.network.parameters.values(), key=lambda p: p.name):
        rng = f"{p.low:.4g} – {p.high:.4g}" if p.low is not None else "–"
        source = _esc(p.source)
        if p.is_assumption:
            source = f'<span class="assumption">{source}</span>'
        if p.note:
            source += f'<br><span class="note">{_esc(p.note)}</span>'
        rows.append([f"<code>{_esc(p.name)}</code>", f"{p.value:.4g}", rng, _esc(p.unit), source])
    return ("<p>Every number of the network, with its range where one is known and where it "
            "comes from: a table of the source document, or a labelled assumption "
            "(<span class=\"assumption\">in italics</span>).</p>"
            + _table(["parameter", "value", "range", "unit", "source"], rows, numeric=(1, 2),
                     cls="params"))


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
        "shift_type" not in ctx.evidence else {}
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


SECTIONS: tuple[_Section, ...] = (
    _Section("overview", "Overview", _overview),
    _Section("diagram", "The causal pathway", _diagram),
    _Section("core_table", "The core table, reproduced", _core_table),
    _Section("what_if", "What-if questions", _what_ifs),
    _Section("mitigations", "Mitigations compared", _mitigations),
    _Section("decisions", "Decisions: portfolios and research priorities", _decisions),
    _Section("uncertainty", "Uncertainty", _uncertainty),
    _Section("sensitivity", "Sensitivity", _sensitivity),
    _Section("audit", "Audit of the source document", _audit),
    _Section("parameters", "Appendix: every number and its source", _parameters),
)
_KEYS = tuple(s.key for s in SECTIONS)


# ============================================================================ assembly
_CSS = """
:root { --ink: #1d232b; --muted: #5b6470; --rule: #d5d9df; --accent: #8a1c1c; }
* { box-sizing: border-box; }
body { font: 15px/1.5 "DejaVu Sans", Verdana, Arial, sans-serif; color: var(--ink);
       max-width: 1100px; margin: 0 auto; padding: 24px 28px 60px; background: #fff; }
h1 { font-size: 1.7em; margin: 0 0 .2em; }
h2 { font-size: 1.25em; margin: 2em 0 .6em; padding-bottom: .2em;
     border-bottom: 2px solid var(--rule); }
.subtitle { color: var(--muted); margin: 0 0 1.5em; }
nav ol { columns: 2; font-size: .95em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; }
dt { font-weight: bold; }
dd { margin: 0; }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .9em; }
table { border-collapse: collapse; margin: .6em 0 1em; width: 100%; font-size: .92em; }
th, td { border-bottom: 1px solid var(--rule); padding: .35em .6em; text-align: left;
         vertical-align: top; }
th { background: #f3f5f8; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.doc { color: var(--muted); font-size: .9em; }
.params td { font-size: .86em; }
h3 { font-size: 1.05em; margin: 1.4em 0 .4em; }
dl.findings { display: block; }
dl.findings dt { margin-top: .8em; }
dl.findings dd { margin: .2em 0 0 1.2em; }
dl.findings p { margin: .2em 0; }
.assumption { font-style: italic; }
.note { color: var(--muted); font-size: .9em; }
.caption { color: var(--muted); font-size: .9em; }
.missing { color: var(--muted); font-style: italic; }
/* the diagram is wide: it may use the whole window, not just the text column */
.diagram { margin: 0 calc(50% - 50vw + 24px); text-align: center; }
.diagram svg { height: auto; }
img.figure { width: 100%; max-width: 860px; height: auto; display: block; margin: .5em 0; }
footer { margin-top: 3em; color: var(--muted); font-size: .85em; }
@media print {
  body { font-size: 10.5pt; max-width: none; padding: 0; }
  nav { display: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  table, img.figure, .diagram, dl { break-inside: avoid; page-break-inside: avoid; }
  .diagram { margin: 0; }
  .diagram svg { max-height: 150mm; }
  section#diagram { page: wide; }
  .params tr { break-inside: avoid; page-break-inside: avoid; }
  section.appendix { break-before: page; page-break-before: always; }
  a { color: inherit; text-decoration: none; }
}
@page { margin: 16mm 14mm; }
@page wide { size: A4 landscape; margin: 10mm; }
"""


def build_report(network: Network, *, question: Question | None = None,
                 evidence: Mapping[str, str] | None = None,
                 label: str | None = None, sections: Sequence[str] | None = None,
                 samples: int = 2000, rng: int = 0,
                 progress: Callable[[str, int, int], None] | None = None) -> str:
    """The report as one HTML document (a string).

    Parameters
    ----------
    network
        The network to report on.
    question
        The report's scenarios, worldview, context policy and numbers, as a
        :class:`~gmnet.model.question.Question` (its target is ignored); every question of the
        report is asked under them, the way the command line asks (default: none of them, the
        baseline context).
    evidence
        Evidence every query of the report conditions on (e.g. a scenario's).
    label
        A name for what is reported (e.g. the scenario), shown in the title.
    sections
        Keys of the sections to include, in the standard order (default: all of
        :data:`SECTIONS`).
    samples, rng
        Parameter draws and seed for the uncertainty, sensitivity and mitigation analyses.
    progress
        Called as ``progress(section_title, done, total)`` before each section is built (the
        CLI draws a progress bar with it; the library itself never prints).
    """
    from gmnet.inference.query import resolve_assignments

    evidence = dict(evidence or {})
    resolve_assignments(network, evidence, what="evidence")
    if sections is None:
        chosen = set(_KEYS)
    else:
        unknown = [s for s in sections if s not in _KEYS]
        if unknown:
            raise UnknownNameError("report section", unknown[0], _KEYS)
        chosen = set(sections)
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 10:
        raise InvalidArgumentError(f"samples must be an integer of at least 10, got {samples!r}")
    if isinstance(rng, bool) or not isinstance(rng, int) or rng < 0:
        raise InvalidArgumentError(f"rng must be a non-negative integer seed, got {rng!r}")
    _check_report_samples(network, chosen, samples)
    template = question if question is not None else Question(network.variables[-1])
    template = template.replace(evidence={**template.evidence, **evidence})
    resolved = resolve(network, template.replace(states=None))
    ctx = _Context(resolved.network, dict(resolved.evidence), samples, rng, label,
                   base=network, template=template)
    return _build(ctx, [s for s in SECTIONS if s.key in chosen], progress)


def _check_report_samples(network: Network, chosen: set[str], samples: int) -> None:
    """Fail before any section runs if a section would refuse ``samples`` draws (a section
    that fails is otherwise reported inside the file, not to the caller)."""
    from gmnet.viz.charts import check_chart_samples

    if chosen & {"uncertainty", "sensitivity"}:
        check_chart_samples("uncertainty", network, samples)
    if "mitigations" in chosen and "harm" in network.variables and _has(
            "gmnet.analysis.mitigations"):
        from gmnet.analysis.mitigations import mitigations_of
        from gmnet.analysis.uncertainty import check_samples

        portfolios = 2 ** len(mitigations_of(network))
        try:
            check_samples(samples, portfolios=portfolios)
        except GmnetError as exc:
            raise InvalidArgumentError(
                f"the mitigations section evaluates all {portfolios:,} portfolios on every "
                f"draw: {exc}, or leave the section out") from None


def _build(ctx: _Context, sections: Sequence[_Section],
           progress: Callable[[str, int, int], None] | None = None) -> str:
    rendered = []
    for done, section in enumerate(sections):
        if progress is not None:
            progress(section.title, done, len(sections))
        body = section.render(ctx)
        if body:
            rendered.append((section, body))
    title = f"{ctx.network.title}: report" + (f" ({ctx.label})" if ctx.label else "")
    toc = "".join(f'<li><a href="#{s.key}">{_esc(s.title)}</a></li>' for s, _ in rendered)
    blocks = []
    for s, body in rendered:
        klass = ' class="appendix"' if s.key == "parameters" else ""
        blocks.append(f'<section id="{s.key}"{klass}><h2>{_esc(s.title)}</h2>{body}</section>')
    notes = "".join(f"<li>{_esc(n)}</li>" for n in ctx.notes)
    today = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{_esc(title)}</h1>"
        f"<p class=\"subtitle\">Goal misgeneralization as an executable Bayesian network, "
        f"from the source document <em>Goal Misgeneralization Probability Model</em>. "
        f"Generated by gmnet {__version__} on {today}.</p></header>"
        f"<nav><ol>{toc}</ol></nav>"
        + "".join(blocks)
        + (f"<section><h2>Notes</h2><ul>{notes}</ul></section>" if notes else "")
        + "<footer>Made with gmnet. Numbers from the source document are cited by its table "
          "names; everything else is a labelled assumption.</footer>"
        "</body></html>\n")


def check_report_path(path: str | Path) -> Path:
    """Check, before anything is computed, that a report can be written to ``path``: an
    ``.html`` name in a folder that exists."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise InvalidArgumentError(f"the report is HTML; name the file *.html, got {str(path)!r}")
    from gmnet.io.atomic import check_destination

    return check_destination(path)


def write_report(network: Network, path: str | Path, **options: Any) -> Path:
    """Build the report (see :func:`build_report`) and write it to ``path`` atomically.

    The path is checked (:func:`check_report_path`) before the report is built."""
    from gmnet.io.atomic import write_text

    path = check_report_path(path)
    return write_text(path, build_report(network, **options))
