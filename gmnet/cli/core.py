"""Core commands: query, show, validate, run."""

from __future__ import annotations

import click

from gmnet.analysis.whatif import check_targets, core_table
from gmnet.cli.common import (
    Options,
    echo,
    emit_json,
    fmt_p,
    network_options,
    section_progress,
)
from gmnet.errors import InvalidArgumentError, NetworkFileError
from gmnet.model.network import validate_file

ENGINE_CHOICES = click.Choice(["einsum", "pgmpy", "enumeration"])


@click.command()
@click.argument("query_text", metavar="QUERY")
@click.option("--engine", type=ENGINE_CHOICES, default="einsum", show_default=True,
              help="Inference engine (all exact).")
@network_options
def query(query_text: str, engine: str, opts: Options) -> None:
    """Answer a conditional or interventional query.

    QUERY is written like: "P(harm | shift_type=extreme, do(alignment_method=standard))".
    Name a state, P(harm=yes | ...), to get one probability instead of the distribution;
    name several targets, P(harm, containment | ...), for their joint distribution. Nodes the
    question does not mention are held at the document's baseline (--context prior: left to
    their priors); the answer says what it held.
    """
    from gmnet.analysis.ask import answer

    result = answer(opts.network(), opts.question(query_text), engine=engine)
    if opts.json:
        emit_json(result.to_dict())
        return
    q = result.question
    if q.states is not None:
        echo(result.statement())
    else:
        echo(q.text)
        labels = {s: (",".join(s) if isinstance(s, tuple) else s) for s in result.distribution}
        width = max(len(v) for v in labels.values())
        for state, p in result.distribution.items():
            bar = "#" * round(p * 40)
            echo(f"  {labels[state]:<{width}}  {fmt_p(p):>7}  {bar}")
    for line in result.resolved.assumptions():
        echo("  " + line)


CPT_ROWS_SHOWN = 48  # rows of a CPT printed before "... N more"


@click.command()
@click.argument("variable", required=False)
@click.option("--markdown", is_flag=True,
              help="Print every number (value, range, source) as a Markdown table.")
@click.option("--cpt", "show_cpt", is_flag=True,
              help="With NODE: also print its formula and its table (point values), every row "
                   "labelled by the parents' states.")
@network_options
def show(variable: str | None, markdown: bool, show_cpt: bool, opts: Options) -> None:
    """List the network's nodes (states, parents, CPT source), or one node in detail."""
    if show_cpt and variable is None:
        raise InvalidArgumentError("--cpt needs a NODE, e.g. gmnet show harm --cpt")
    net, _ = opts.setup()
    if markdown:
        from gmnet.model.describe import parameters_markdown

        echo(parameters_markdown(net).rstrip("\n"))
        return
    names = [variable] if variable is not None else list(net.variables)
    if variable is not None:
        net.node(variable)
    if opts.json:
        payload = {"network": net.name, "title": net.title, "rule": net.rule,
                   "nodes": [_node_dict(net, v) for v in names],
                   "parameters": [_param_dict(p) for p in net.parameters.values()]
                   if not variable else [_param_dict(p) for p in _params_of(net, variable)]}
        if show_cpt:
            payload["cpt"] = _cpt_dict(net, variable)
        emit_json(payload)
        return
    echo(f"{net.title} ({net.name}); combination rule: {net.rule}")
    for v in names:
        node = net.node(v)
        parents = ", ".join(node.parents) or "-"
        echo(f"\n{v}  [{node.phase}/{node.role}]  states: {', '.join(node.states)}")
        echo(f"  parents: {parents}")
        echo(f"  cpt: {node.cpt.kind}" + (f"; source: {node.cpt.source}"
                                          if getattr(node.cpt, "source", None) else ""))
        if variable:
            for p in _params_of(net, v):
                rng = f" range [{p.low:g}, {p.high:g}]" if p.low is not None else ""
                echo(f"    {p.name} = {p.value:.6g}{rng}  ({p.source})")
    if show_cpt:
        for line in _cpt_lines(net, variable):
            echo(line)


def _cpt_lines(net, variable) -> list[str]:
    from gmnet.model.tables import cpt_formula, cpt_rows

    lines = ["", "  formula:"] + [f"    {line}" for line in cpt_formula(net, variable)]
    parents, states, rows = cpt_rows(net, variable)
    heads = list(parents) or [""]
    cells = [list(labels) or ["prior"] for labels, _ in rows]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(heads)]
    prob_w = [max(len(s), 6) for s in states]
    lines += ["", "  table (point values; rows: parent states, columns: states of "
              f"{variable}):",
              "    " + "  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)) + "  "
              + " ".join(s.rjust(w) for s, w in zip(states, prob_w, strict=True))]
    for (_, probs), labels in zip(rows[:CPT_ROWS_SHOWN], cells, strict=False):
        lines.append("    " + "  ".join(c.ljust(w) for c, w in zip(labels, widths, strict=True))
                     + "  " + " ".join(f"{p:.4f}".rjust(w)
                                       for p, w in zip(probs, prob_w, strict=True)))
    if len(rows) > CPT_ROWS_SHOWN:
        lines.append(f"    ... {len(rows) - CPT_ROWS_SHOWN:,} more rows (--json for all, or "
                     f"net.table({variable!r}) in Python)")
    return lines


def _cpt_dict(net, variable) -> dict:
    from gmnet.model.tables import cpt_formula, cpt_rows

    parents, states, rows = cpt_rows(net, variable)
    return {"variable": variable, "parents": list(parents), "states": list(states),
            "formula": cpt_formula(net, variable),
            "rows": [{"parents": dict(zip(parents, labels, strict=True)),
                      "probabilities": dict(zip(states, probs, strict=True))}
                     for labels, probs in rows]}


def _params_of(net, variable):
    from gmnet.model.expressions import names_used

    node = net.node(variable)
    texts = []
    cpt = node.cpt
    if cpt.kind in ("prior", "expression"):
        texts = [t for t in cpt.probabilities.values() if isinstance(t, str) and t != "rest"]
    elif cpt.kind == "calibrated_route":
        texts = [cpt.target, cpt.route] + ([cpt.route_share]
                                           if isinstance(cpt.route_share, str) else [])
    groups = set().union(*[names_used(t) for t in texts]) if texts else set()
    return [p for p in net.parameters.values() if p.group in groups]


def _node_dict(net, v):
    node = net.node(v)
    return {"name": v, "label": node.label or v, "states": list(node.states),
            "parents": list(node.parents), "phase": node.phase, "role": node.role,
            "cpt_kind": node.cpt.kind, "source": getattr(node.cpt, "source", None),
            "parameters": [p.name for p in _params_of(net, v)]}


def _param_dict(p):
    return {"name": p.name, "value": p.value, "range": None if p.low is None else [p.low, p.high],
            "source": p.source, "unit": p.unit, "assumption": p.is_assumption}


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def validate(path: str, as_json: bool) -> None:
    """Check a network file: its shape and its meaning. Lists every problem.

    An invalid file exits 2: its problems are listed on standard output (all of them, as
    ``{"valid": false, "problems": [...]}`` with --json), the first on the error line.
    """
    import os

    if not os.path.isfile(path):
        raise InvalidArgumentError(f"no such file: {path!r}")
    try:
        net = validate_file(path)
    except NetworkFileError as exc:
        if as_json:
            emit_json({"path": path, "valid": False, "problems": exc.problems})
        elif len(exc.problems) > 1:
            echo(f"{path}: {len(exc.problems)} problems")
            for problem in exc.problems:
                echo(f"  - {problem}")
        raise
    if as_json:
        emit_json({"path": path, "valid": True, "name": net.name, "nodes": len(net.variables),
                   "parameters": len(net.parameters)})
    else:
        echo(f"{path}: valid ({len(net.variables)} nodes, {len(net.parameters)} parameters)")


@click.command()
@click.option("--report", "report_path", metavar="FILE.html", default=None,
              help="Also write the one-file HTML report here (e.g. out/report.html; its "
                   "folder must exist). Without it, no file is written.")
@click.option("--no-report", is_flag=True,
              help="Write no report (the default; kept for scripts that say so).")
@network_options
def run(report_path: str | None, no_report: bool, opts: Options) -> None:
    """The main job: the document's core table as the network reproduces it, and a what-if.

    Prints only; with --report FILE.html it also writes the one-file HTML report.
    """
    _check_report_options(report_path, no_report)
    no_report = no_report or report_path is None
    net, scenario_evidence = opts.setup()
    if not _has_pathway(net):
        _run_other_network(net, report_path, no_report, scenario_evidence, opts)
        return
    rows = core_table(net)
    example = _example_what_if(opts)
    written = None if no_report else _write_run_report(net, report_path, scenario_evidence, opts)
    if opts.json:
        emit_json({"network": net.name, "core_table": [r.to_dict() for r in rows],
                   "what_if": ({"before": example[0].to_dict(), "after": example[1].to_dict(),
                                "relative_change": _relative(*example)}
                               if example else None),
                   "report": str(written) if written else None})
        return
    echo(f"{net.title}: Detailed Risk Assessment by Shift Type, reproduced "
         f"(the document's baseline: neutral modifiers, every mitigation off; rule "
         f"{net.rule}){_under(opts)}")
    echo(f"{'shift type':<12} {'P(cap)':>8} {'P(goal|cap)':>12} {'P(harm|fail)':>13} "
         f"{'P(M)':>8} {'document':>9}")
    for r in rows:
        doc = f"{r.document[2]:.1%}" if r.document else "-"
        echo(f"{r.shift_type:<12} {r.p_capability_transfer:>8.1%} "
             f"{r.p_goal_fails_given_capability:>12.1%} {r.p_harm_given_failure:>13.1%} "
             f"{r.p_harmful_misgeneralization:>8.1%} {doc:>9}")
    if example:
        before, after = example
        echo("")
        echo("What if an autonomous system under extreme shift, with a low-quality "
             "specification, were interpretability-verified?")
        echo(f"  with standard alignment:       {before.statement()}")
        echo(f"  do(interpretability_verified): {after.statement()}")
        echo(f"  change of the point values: {_relative(before, after):+.0%}")
        for line in before.resolved.assumptions():
            echo(f"  {line}")
    if written:
        echo("")
        echo(f"Report (diagram, tables, analyses, every number's source): {written}")


def _check_report_options(report_path: str, no_report: bool) -> None:
    """--report and --no-report exclude each other; a --report FILE must be writable (its
    folder must exist)."""
    from pathlib import Path

    given = report_path is not None
    if given and no_report:
        raise InvalidArgumentError("give --report FILE or --no-report, not both")
    if given:
        from gmnet.io.atomic import check_destination

        if str(report_path).strip() == "" or Path(report_path).is_dir():
            raise InvalidArgumentError(f"--report {report_path!r} is not a file name; give "
                                       "one like out/report.html")
        check_destination(report_path)  # folder exists and is writable, not an input


def _has_pathway(net) -> bool:
    return {"shift_type", "capability_transfer", "goal_misgeneralizes", "harm"} <= set(
        net.variables)


def _run_other_network(net, report_path, no_report, evidence, opts: Options) -> None:
    """`run` on a network without the goal-misgeneralization pathway: its own targets."""
    checks = check_targets(net)
    written = None if no_report else _write_run_report(net, report_path, evidence, opts)
    if opts.json:
        emit_json({"network": net.name, "targets": [c.to_dict() for c in checks],
                   "report": str(written) if written else None})
        return
    echo(f"{net.title}: calibration targets reproduced{_under(opts)}")
    if not checks:
        echo("  (the network file lists no calibration targets)")
    for c in checks:
        mark = "ok " if c.holds else "OFF"
        echo(f"  {mark} {c.query}: model {c.model:.6g}, target {c.expected:.6g} "
             f"(+-{c.tolerance:g}); {c.source}")
    if written:
        echo("")
        echo(f"Report (diagram, tables, analyses, every number's source): {written}")


def _under(opts: Options) -> str:
    """' under worldview X, scenario Y' for headings, when those options are given."""
    parts = []
    if opts.extras.get("worldview"):
        parts.append(f"worldview {opts.extras['worldview']}")
    if opts.extras.get("scenario"):
        parts.append("scenario " + " + ".join(opts.extras["scenario"]))
    return ("  [" + ", ".join(parts) + "]") if parts else ""


def _write_run_report(net, path: str, evidence=None, opts: Options | None = None):
    """Write the HTML report for `run`; a failure is reported, not fatal to the main job."""
    from pathlib import Path

    from gmnet.errors import GmnetError
    from gmnet.report import write_report

    target = Path(path)
    try:
        label = " + ".join(opts.extras.get("scenario") or ()) if opts else ""
        with section_progress("report") as progress:
            base = opts.network() if opts else net
            question = opts.question_for(base.variables[-1]) if opts else None
            return write_report(base, target, question=question, label=label or None,
                                progress=progress)
    except (GmnetError, OSError) as exc:
        echo(f"gmnet: warning: report not written: {exc}", err=True)
        return None


def _example_what_if(opts: Options):
    """The headline what-if on the Question path, each answer with its 90% interval."""
    from gmnet.analysis.ask import answer, with_interval

    net = opts.network()
    if not {"harm", "shift_type", "spec_quality", "alignment_method"} <= set(net.variables):
        return None
    q = opts.question("P(harm=yes | do(shift_type=extreme, spec_quality=low))")
    after = q.replace(do={**q.do, "alignment_method": "interpretability_verified"})
    return with_interval(answer(net, q)), with_interval(answer(net, after))


def _relative(before, after) -> float:
    b, a = before.probability, after.probability
    return (a - b) / b if b > 0 else float("nan")


COMMANDS = [query, show, validate, run]
