"""Visual commands: draw (the pathway diagram), plot (one chart), report (one HTML file)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gmnet.analysis.uncertainty import MAX_SAMPLES
from gmnet.cli.common import Options, _pairs, echo, emit_json, network_options, section_progress
from gmnet.display import percent
from gmnet.errors import InvalidArgumentError
from gmnet.model.soft_evidence import refuse_soft

_ASSIGNMENT_HELP = "VAR=STATE; repeat the option for several."


def _assignments(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    """--evidence / --do pairs (one parser with --set and --unknown: cli.common)."""
    return _pairs(pairs, option, "VAR=STATE", "shift_type=extreme")


def _check_out(out: str | None) -> Path | None:
    if out is None:
        return None
    from gmnet.io.atomic import check_destination

    return check_destination(out)


# ============================================================================ draw
@click.command()
@click.option("--out", "-o", metavar="FILE", default=None,
              help="Write the diagram here: FILE.svg, .png, .pdf or .dot (default: DOT text on "
                   "standard output).")
@click.option("--format", "fmt", type=click.Choice(["svg", "png", "pdf", "dot"]), default=None,
              help="Format, if not given by the file name (it must agree with the name's "
                   "ending).")
@click.option("--query", "-q", "query_text", metavar="QUERY", default=None,
              help='Show every node\'s probability under a query, e.g. '
                   '"P(harm | shift_type=extreme, do(alignment_method=standard))".')
@click.option("--evidence", "-e", multiple=True, metavar="VAR=STATE",
              help="Observe a node. " + _ASSIGNMENT_HELP)
@click.option("--do", "do_pairs", multiple=True, metavar="VAR=STATE",
              help="Set a node by intervention. " + _ASSIGNMENT_HELP)
@click.option("--target", "-t", metavar="VAR", default=None,
              help="Highlight this node (when no query names a target).")
@click.option("--marginals", is_flag=True,
              help="Show every node's probabilities even with no query or evidence.")
@click.option("--direction", type=click.Choice(["LR", "TB"]), default=None,
              help="LR: the pathway left to right, as the document draws it (default); TB: top "
                   "to bottom, narrower.")
@network_options
def draw(out: str | None, fmt: str | None, query_text: str | None, evidence: tuple[str, ...],
         do_pairs: tuple[str, ...], target: str | None, marginals: bool, direction: str | None,
         opts: Options) -> None:
    """Draw the network: phases and mitigation layers as clusters, nodes by role.

    With a query (or --evidence/--do/--target), every node shows the probability of each state,
    observed and intervened nodes are marked, and the target stands out. Needs Graphviz's dot
    program for svg, png and pdf (Debian package graphviz); .dot files need nothing.
    """
    from gmnet.viz.diagram import draw as draw_network
    from gmnet.viz.file_formats import diagram_format

    path = _check_out(out)
    fmt = diagram_format(path, fmt) if path else (fmt or "dot")
    if path is None and fmt in ("png", "pdf"):
        raise InvalidArgumentError(f"{fmt} is binary; give --out FILE.{fmt}")
    parsed = opts.question(query_text) if query_text is not None else None
    if parsed is not None:
        refuse_soft(parsed.soft, "the diagram")
    ev = _assignments(evidence, "--evidence")
    do = _assignments(do_pairs, "--do")
    if parsed is not None:
        for var in set(parsed.evidence) & set(ev) | set(parsed.do) & set(do):
            raise InvalidArgumentError(f"{var} is given in the query and as an option; "
                                       "give it once")
        ev.update(parsed.evidence)
        do.update(parsed.do)
    base = opts.network()
    shown = parsed.target if parsed is not None else target
    if shown is None:
        shown = "harm" if "harm" in base.variables else base.variables[-1]
    question = opts.question_for(shown, parsed.state if parsed is not None else None,
                                 evidence=ev, do=do)
    resolved = opts.resolve(question)
    net = resolved.network
    asked = parsed is not None or ev or do or target is not None or marginals
    diagram = draw_network(net, question.replace(evidence=resolved.evidence, do=resolved.do)
                           if asked else None, marginals=marginals or None, direction=direction,
                           title=_diagram_title(resolved) if asked else None)
    data = diagram.render(fmt)
    if path is not None:
        from gmnet.io.atomic import write_bytes

        write_bytes(path, data)
    dist = diagram.target_distribution
    if opts.json:
        emit_json({**resolved.provenance(), "query": question.text,
                   "out": str(path) if path else None, "format": fmt,
                   "target": diagram.target, "state": diagram.target_state,
                   "evidence": dict(diagram.evidence), "do": dict(diagram.do),
                   "distribution": dist,
                   "marginals": ({k: dict(v) for k, v in diagram.marginals.items()}
                                 if diagram.marginals else None),
                   **({} if path else {"content": data.decode("utf-8")})})
        return
    if path is None:
        sys.stdout.write(data.decode("utf-8"))
        return
    echo(f"wrote {path} ({fmt}, {len(net.variables)} nodes)")
    if dist is not None:
        values = ", ".join(f"{s} {percent(p)}" for s, p in dist.items()
                           if diagram.target_state in (None, s))
        echo(f"  {diagram.target}: {values}")
        for line in resolved.assumptions():
            echo(f"  {line}")


def _diagram_title(resolved) -> str:
    """The question as asked and what it held, for the diagram's title."""
    held = resolved.held_text()
    return f"{resolved.question.text}  ·  context {resolved.question.context}: {held}"


# ============================================================================ plot
PLOT_KINDS = ("heatmap", "domains", "uncertainty", "tornado", "sobol", "mitigations", "frontier")


@click.command()
@click.argument("kind", type=click.Choice(PLOT_KINDS), metavar="KIND")
@click.option("--out", "-o", metavar="FILE", required=True,
              help="Write the chart here: FILE.svg, .png or .pdf.")
@click.option("--rows", default="shift_type", show_default=True, metavar="VAR",
              help="heatmap: the variable down the side.")
@click.option("--columns", default="spec_quality", show_default=True, metavar="VAR",
              help="heatmap: the variable across the top.")
@click.option("--query", "-q", "query_text", metavar="QUERY", default=None,
              help="uncertainty, tornado, sobol: the question (default: P(harm=yes) at an "
                   "extreme shift, other settings neutral; under --scenario, the scenario).")
@click.option("--target", default="harm", show_default=True, metavar="VAR",
              help="The output variable.")
@click.option("--state", default="yes", show_default=True, help="The output state.")
@click.option("--samples", "-n", type=click.IntRange(min=10, max=MAX_SAMPLES), default=2000,
              show_default=True,
              help="Parameter draws (uncertainty, sobol, mitigations, and the heatmap's "
                   "intervals).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Random seed.")
@click.option("--budget", type=float, default=None, metavar="COST",
              help="frontier: the budget line and the best portfolio within it.")
@network_options
def plot(kind: str, out: str, rows: str, columns: str, query_text: str | None, target: str,
         state: str, samples: int, seed: int, budget: float | None, opts: Options) -> None:
    """Draw one chart (KIND): heatmap, domains, uncertainty, tornado, sobol, mitigations, frontier.

    heatmap: P(target=state) over two variables set by do(), the rest at the neutral context.
    domains: over the application domains x periods (the scenario catalog). uncertainty: the
    answer's distribution over parameter draws, with the 5-95% band. tornado: the answer as
    each number moves across its range. sobol: each number's share of the answer's variance.
    mitigations: each mitigation, each layer and all, with 90% intervals. frontier: every
    portfolio's cost against P(harm) with the Pareto frontier and, with --budget, the budget
    line and the best portfolio within it (--query "P(harm=yes | do(shift_type=extreme))" sets
    the question; docs/decisions.md).
    """
    from gmnet.viz import charts
    from gmnet.viz.plots import FIGURE_FORMATS, save_figure

    path = _check_out(out)
    assert path is not None
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FIGURE_FORMATS:
        raise InvalidArgumentError(f"cannot tell the chart format from {out!r}; end the file "
                                   "name with one of: " + ", ".join("." + f for f in
                                                                     FIGURE_FORMATS))
    if kind == "frontier":  # the portfolios' cost-risk frontier (gmnet.viz.frontier)
        from gmnet.cli.decisions import plot_frontier

        return plot_frontier(path, query_text, target, state, samples, seed, budget, opts)
    base = opts.network()
    question = caption = None
    if kind in ("uncertainty", "tornado", "sobol"):
        # the chart's question on the one question path, its assumptions as the caption
        text = query_text or (f"P({target}={state} | do(shift_type=extreme))"
                              if "shift_type" in base.variables and not opts.extras.get("scenario")
                              else f"P({target}={state})")
        q = opts.question(text)
        if q.state is None and q.target in base.variables:
            q = q.replace(states=(base.states(q.target)[0],))
        resolved = opts.resolve(q)
        net, evidence = resolved.network, {}
        question = charts.Question(q.target, q.state or "", dict(resolved.evidence),
                                   dict(resolved.do), q.text, held=tuple(resolved.held))
        caption = "; ".join(resolved.assumptions())
    elif kind == "mitigations":  # the comparison asks the question itself (compare_question)
        net, evidence = base, {}
        question = opts.question(query_text) if query_text else opts.question_for(target, state)
        if question.state is None:
            question = question.replace(states=(state,))
    else:
        resolved = opts.resolve(opts.question_for(target))
        net, evidence = resolved.network, resolved.scenario_evidence
    chart = charts.chart(kind, net, evidence=evidence, question=question, rows=rows,
                         columns=columns, target=target, state=state, samples=samples, rng=seed,
                         caption=caption)
    save_figure(chart.figure, path)
    if opts.json:
        emit_json({"network": net.name, "kind": kind, "out": str(path), "data": chart.data,
                   "caption": chart.caption})
        return
    echo(f"wrote {path} ({kind})")
    if chart.summary:
        echo(f"  {chart.summary}")


# ============================================================================ report
@click.command()
@click.option("--out", "-o", metavar="FILE.html", default="report.html", show_default=True,
              help="Where to write the report.")
@click.option("--samples", "-n", type=click.IntRange(min=10, max=MAX_SAMPLES), default=2000,
              show_default=True,
              help="Parameter draws for the uncertainty, sensitivity and mitigation sections.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Random seed for those draws.")
@click.option("--sections", metavar="NAMES", default=None,
              help="Comma-separated sections to include (default: all).")
@network_options
def report(out: str, samples: int, seed: int, sections: str | None, opts: Options) -> None:
    """Write a one-file HTML report: a one-page brief (the question, the headline with its
    interval, the what-ifs that move it most, the mitigation chart), then the appendix (core
    table, diagram, what-ifs, analyses, audit, every number).

    The file needs nothing else to open or print (images and styles are inside it).
    """
    from gmnet.report import check_report_path, write_report

    path = _check_out(out)
    if path is None:
        raise InvalidArgumentError("the report needs --out FILE.html")
    check_report_path(path)
    net = opts.network()
    chosen = [s.strip() for s in sections.split(",") if s.strip()] if sections else None
    label = _scenario_label(opts)
    with section_progress("report") as progress:
        written = write_report(net, path, question=opts.question_for(net.variables[-1]),
                               label=label, sections=chosen, samples=samples, rng=seed,
                               progress=progress)
    if opts.json:
        emit_json({"network": net.name, "out": str(written),
                   "bytes": written.stat().st_size})
        return
    echo(f"wrote {written} ({written.stat().st_size // 1024} KiB): open it in a browser")


def _scenario_label(opts: Options) -> str | None:
    """A human name for the scenario/worldview options, if the shared options carry any."""
    parts = []
    for key, value in opts.extras.items():
        if key == "context":
            continue  # the report states its context policy itself
        values = [value] if isinstance(value, str) else list(value or ())
        if values:
            parts.append(f"{key} {' + '.join(values)}")
    return ", ".join(parts) or None


COMMANDS = [draw, plot, report]
