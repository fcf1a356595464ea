"""Core commands: query, show, validate, run."""

from __future__ import annotations

import click

from gmnet.analysis.whatif import check_targets, core_table, neutral_context, what_if
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
from gmnet.model.scenarios import merge_evidence
from gmnet.query_text import parse_query

ENGINE_CHOICES = click.Choice(["einsum", "pgmpy", "enumeration"])


@click.command()
@click.argument("query_text", metavar="QUERY")
@click.option("--engine", type=ENGINE_CHOICES, default="einsum", show_default=True,
              help="Inference engine (all exact).")
@network_options
def query(query_text: str, engine: str, opts: Options) -> None:
    """Answer a conditional or interventional query.

    QUERY is written like: "P(harm | shift_type=extreme, do(alignment_method=standard))".
    Name a state, P(harm=yes | ...), to get one probability instead of the distribution.
    """
    parsed = parse_query(query_text)
    net, scenario_evidence = opts.setup()
    if parsed.state is not None:
        net.check_state(parsed.target, parsed.state)
    evidence = merge_evidence(scenario_evidence, parsed.evidence, parsed.do)
    dist = net.query(parsed.target, evidence=evidence, do=parsed.do, engine=engine)
    if opts.json:
        payload = {"query": str(parsed), "network": net.name, "target": parsed.target,
                   "evidence": evidence, "do": parsed.do, "distribution": dist}
        if opts.extras.get("scenario"):
            payload["scenario"] = list(opts.extras["scenario"])
        if opts.extras.get("worldview"):
            payload["worldview"] = opts.extras["worldview"]
        if parsed.state is not None:
            payload["state"] = parsed.state
            payload["probability"] = dist[parsed.state]
        emit_json(payload)
        return
    if parsed.state is not None:
        echo(f"{dist[parsed.state]:.6g}")
        return
    echo(str(parsed) + _under(opts))
    width = max(len(s) for s in dist)
    for state, p in dist.items():
        bar = "#" * round(p * 40)
        echo(f"  {state:<{width}}  {fmt_p(p)}  {bar}")


@click.command()
@click.argument("variable", required=False)
@click.option("--markdown", is_flag=True,
              help="Print every number (value, range, source) as a Markdown table.")
@network_options
def show(variable: str | None, markdown: bool, opts: Options) -> None:
    """List the network's nodes (states, parents, CPT source), or one node in detail."""
    net, _ = opts.setup()
    if markdown:
        from gmnet.model.describe import parameters_markdown

        echo(parameters_markdown(net).rstrip("\n"))
        return
    names = [variable] if variable is not None else list(net.variables)
    if variable is not None:
        net.node(variable)
    if opts.json:
        emit_json({"network": net.name, "title": net.title, "rule": net.rule,
                   "nodes": [_node_dict(net, v) for v in names],
                   "parameters": [_param_dict(p) for p in net.parameters.values()]
                   if not variable else [_param_dict(p) for p in _params_of(net, variable)]})
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
@click.option("--report", "report_path", metavar="FILE.html", default="out/report.html",
              show_default=True, help="Also write the one-file HTML report here.")
@click.option("--no-report", is_flag=True, help="Do not write the report.")
@network_options
def run(report_path: str, no_report: bool, opts: Options) -> None:
    """The main job: the document's core table as the network reproduces it, and a what-if."""
    _check_report_options(report_path, no_report)
    net, scenario_evidence = opts.setup()
    if not _has_pathway(net):
        _run_other_network(net, report_path, no_report, scenario_evidence, opts)
        return
    rows = core_table(net)
    example = _example_what_if(net)
    written = None if no_report else _write_run_report(net, report_path, scenario_evidence, opts)
    if opts.json:
        emit_json({"network": net.name, "core_table": [r.to_dict() for r in rows],
                   "what_if": example.to_dict() if example else None,
                   "report": str(written) if written else None})
        return
    echo(f"{net.title}: Detailed Risk Assessment by Shift Type, reproduced "
         f"(neutral context, rule {net.rule}){_under(opts)}")
    echo(f"{'shift type':<12} {'P(cap)':>8} {'P(goal|cap)':>12} {'P(harm|fail)':>13} "
         f"{'P(M)':>8} {'document':>9}")
    for r in rows:
        doc = f"{r.document[2]:.1%}" if r.document else "-"
        echo(f"{r.shift_type:<12} {r.p_capability_transfer:>8.1%} "
             f"{r.p_goal_fails_given_capability:>12.1%} {r.p_harm_given_failure:>13.1%} "
             f"{r.p_harmful_misgeneralization:>8.1%} {doc:>9}")
    if example:
        echo("")
        echo("What if an autonomous system under extreme shift, with a low-quality "
             "specification, were interpretability-verified?")
        echo(f"  P(harm) with standard alignment:       {example.before:.1%}")
        echo(f"  P(harm) do(interpretability_verified): {example.after:.1%} "
             f"({example.relative_change:+.0%})")
    if written:
        echo("")
        echo(f"Report (diagram, tables, analyses, every number's source): {written}")


def _check_report_options(report_path: str, no_report: bool) -> None:
    """--report and --no-report exclude each other; a --report FILE must be writable (its
    folder must exist: only the default folder, out/, is created)."""
    from pathlib import Path

    ctx = click.get_current_context(silent=True)
    given = ctx is not None and ctx.get_parameter_source("report_path") not in (
        None, click.core.ParameterSource.DEFAULT)
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
        target.parent.mkdir(parents=True, exist_ok=True)
        label = " + ".join(opts.extras.get("scenario") or ()) if opts else ""
        with section_progress("report") as progress:
            return write_report(net, target, evidence=evidence or None, label=label or None,
                                progress=progress)
    except (GmnetError, OSError) as exc:
        echo(f"gmnet: warning: report not written: {exc}", err=True)
        return None


def _example_what_if(net):
    needed = {"harm", "shift_type", "spec_quality", "alignment_method"}
    if not needed <= set(net.variables):
        return None
    base = {**neutral_context(net), "shift_type": "extreme", "spec_quality": "low",
            "alignment_method": "standard"}
    return what_if(net, "harm", "yes", baseline_do=base,
                   intervention={"alignment_method": "interpretability_verified"})


COMMANDS = [query, show, validate, run]
