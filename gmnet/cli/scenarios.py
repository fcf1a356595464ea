"""Commands: scenarios, worldviews (list / show / diff), audit."""

from __future__ import annotations

import click

from gmnet.cli.common import Options, echo, emit_json, network_options
from gmnet.errors import InvalidArgumentError
from gmnet.io.jsonsafe import json_safe

KIND_TITLES = {"domain": "Application domains (Application Domain Risk Profiles)",
               "period": "Periods (Timeline Projections)",
               "example_shift": "Example shifts (the shift chart)",
               "custom": "Other scenarios"}


def _held(net, context) -> str:
    """A do() context in words, with the mitigations that are all off said once."""
    off = [k for k, v in context.items()
           if k in net.variables and net.node(k).role == "mitigation" and v == "off"]
    mitigations = [v for v in net.variables if net.node(v).role == "mitigation"]
    parts = [f"{k}={v}" for k, v in context.items() if k not in off or len(off) < len(mitigations)]
    if mitigations and len(off) == len(mitigations):
        parts.insert(0, "every mitigation off")
    return ", ".join(parts) or "nothing"


# ============================================================================ scenarios
@click.command()
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--file", "path", type=click.Path(dir_okay=False), default=None,
              help="A scenario file to validate and list instead of the bundled one.")
@network_options
def scenarios(names: tuple[str, ...], path: str | None, opts: Options) -> None:
    """List the scenarios, or show NAME(s) combined and P(harm) under them.

    Use a scenario anywhere with --scenario NAME (repeatable: a domain and a period combine).
    """
    from gmnet.analysis.ask import answer
    from gmnet.model.scenarios import load_scenarios

    base = opts.network()
    catalog = load_scenarios(path, network=base if path or opts.network_ref else None)
    chosen = [*names, *(opts.extras.get("scenario") or ())]
    if not chosen:
        _list_scenarios(catalog, opts)
        return
    items = [catalog[n] for n in dict.fromkeys(chosen)]
    refs = [s.name if path is None else f"{path}:{s.name}" for s in items]
    target = "harm" if "harm" in base.variables else base.variables[-1]
    state = "yes" if "yes" in base.states(target) else base.states(target)[0]
    result = answer(base, opts.question_for(target, state).replace(scenarios=tuple(refs)))
    r = result.resolved
    net, evidence, p_harm = r.network, r.evidence, result.probability
    worldview = r.worldview
    if opts.json:
        emit_json({"network": net.name, "worldview": worldview,
                   "scenarios": [s.to_dict() for s in items], "evidence": evidence,
                   "priors": {v: dict(zip(net.states(v), map(float, net.cpt(v)), strict=True))
                              for s in items for v in (*s.prior, *s.within)},
                   "neutral": r.held, "p_harm": p_harm, "answer": result.to_dict()})
        return
    for s in items:
        echo(f"{s.name}  [{s.kind}]  {s.label}")
        if s.description:
            echo(f"  {s.description}")
        echo(f"  sets: {s.summary()}")
        echo(f"  source: {s.source}")
        if s.note:
            echo(f"  note: {' '.join(s.note.split())}")
    shown = sorted({v for s in items for v in (*s.prior, *s.within)}, key=net.variables.index)
    if shown:
        echo("")
        echo("Distributions after the scenarios:")
        for v in shown:
            dist = ", ".join(f"{st} {p:.3f}" for st, p in zip(net.states(v), net.cpt(v),
                                                                strict=True))
            echo(f"  {v}: {dist}")
    echo("")
    for line in result.lines():
        echo(line)


def _list_scenarios(catalog, opts: Options) -> None:
    from gmnet.model.scenarios import KINDS

    if opts.json:
        emit_json({"path": catalog.path, "scenarios": [s.to_dict() for s in catalog.values()]})
        return
    width = max(len(n) for n in catalog)
    for kind in KINDS:
        group = catalog.of_kind(kind)
        if not group:
            continue
        echo(KIND_TITLES[kind])
        for s in group:
            echo(f"  {s.name:<{width}}  {s.summary()}")
        echo("")
    echo("Combine with --scenario NAME on any command, e.g. "
         "gmnet scenarios autonomous_agents 2026-2027")


# ============================================================================ worldviews
@click.group(invoke_without_command=True)
@click.pass_context
@network_options
def worldviews(ctx: click.Context, opts: Options) -> None:
    """List the worldviews (named sets of parameter overrides); see `show` and `diff`.

    Use one anywhere with --worldview NAME.
    """
    if ctx.invoked_subcommand is not None:
        return
    from gmnet.model.worldviews import load_worldviews

    catalog = load_worldviews(network=opts.network() if opts.network_ref else None)
    if opts.json:
        emit_json({"path": catalog.path, "default": catalog.default,
                   "worldviews": [w.to_dict() for w in catalog.values()]})
        return
    width = max(len(n) for n in catalog)
    for w in catalog.values():
        default = " (default)" if w.name == catalog.default else ""
        applies = "all shift types" if w.applies_to is None else ", ".join(w.applies_to)
        echo(f"{w.name:<{width}}  {w.label}{default}")
        changes = ", ".join(f"{k} = {v.value:g}" + (f" [{v.range[0]:g}, {v.range[1]:g}]"
                                                     if v.range else "")
                            for k, v in w.overrides.items()) or "no change"
        echo(f"{'':<{width}}  applies to {applies}: {changes}")
    echo("")
    echo("Compare two: gmnet worldviews diff document-table meta-analysis-pooled")


@worldviews.command("show")
@click.argument("name")
@network_options
def worldviews_show(name: str, opts: Options) -> None:
    """One worldview: every number it sets, with its range and source."""
    from gmnet.model.worldviews import load_worldviews

    net = opts.network()
    w = load_worldviews()[name]
    resolved = w.resolved_overrides(net)
    if opts.json:
        emit_json({**w.to_dict(), "resolved": resolved})
        return
    echo(f"{w.name}: {w.label}")
    if w.description:
        echo(f"  {' '.join(w.description.split())}")
    echo(f"  applies to: {'all shift types' if w.applies_to is None else ', '.join(w.applies_to)}")
    if w.note:
        echo(f"  note: {' '.join(w.note.split())}")
    for k, v in resolved.items():
        rng = f" range [{v['range'][0]:g}, {v['range'][1]:g}]" if v["range"] else ""
        echo(f"  {k} = {v['value']:g}{rng}  ({v['source']})")
    if not resolved:
        echo("  (no overrides: the network's own numbers)")


@worldviews.command("diff")
@click.argument("a")
@click.argument("b")
@network_options
def worldviews_diff(a: str, b: str, opts: Options) -> None:
    """What changes from worldview A to worldview B: each number, then P(harm) per shift type."""
    from gmnet.model.worldviews import worldview_diff

    net = opts.network()
    diff = worldview_diff(net, a, b)
    if opts.json:
        emit_json(diff.to_dict())
        return
    echo(f"{a} -> {b}")
    echo(f"Numbers ({len(diff.changes)} changed):")
    if not diff.changes:
        echo("  none")
    width = max([len(c.name) for c in diff.changes] + [4])
    for c in diff.changes:
        def rng(p):
            return "" if p.low is None else f" [{p.low:.4g}, {p.high:.4g}]"
        echo(f"  {c.name:<{width}}  {c.before.value:.4g}{rng(c.before)} -> "
             f"{c.after.value:.4g}{rng(c.after)}")
    if diff.effects:
        echo("")
        echo(f"Per shift type, do({_held(net, diff.context)}):")
        echo(f"  {'shift type':<12} {'P(cap)':>15} {'P(goal|cap)':>15} {'P(harm|fail)':>15} "
             f"{'P(harm)':>17} {'change':>8} {'ratio':>6}")
        for e in diff.effects:
            cells = [f"{e.before[k]:.3f}->{e.after[k]:.3f}"
                     for k in ("p_capability_transfer", "p_goal_fails_given_capability",
                               "p_harm_given_failure")]
            echo(f"  {e.shift_type:<12} {cells[0]:>15} {cells[1]:>15} {cells[2]:>15} "
                 f"{e.before['p_harm']:.4f}->{e.after['p_harm']:.4f} {e.change:>+8.4f} "
                 f"{e.ratio:>5.2f}x")


# ============================================================================ audit
@click.command()
@click.option("--markdown", is_flag=True, help="Print (or write) the audit as Markdown.")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="Write to this file (atomically) instead of printing, e.g. "
                   "docs/validation.md.")
@network_options
def audit(markdown: bool, out: str | None, opts: Options) -> None:
    """Every numeric table of the source document against the network, row by row.

    Verdicts: reproduced exactly, within the document's range, or outside (with the reason);
    then the document's inconsistencies and where its formula cannot hold. --worldview audits
    another set of numbers. Regenerate the docs: gmnet audit --markdown --out docs/validation.md
    """
    from gmnet.analysis.audit import audit as run_audit
    from gmnet.io.atomic import write_text
    from gmnet.model.worldviews import apply_worldview

    if markdown and opts.json:
        raise InvalidArgumentError("choose one of --markdown and --json")
    if out is not None and not out.strip():
        raise InvalidArgumentError("--out needs a file name, e.g. --out docs/validation.md")
    if opts.extras.get("scenario"):
        raise InvalidArgumentError(
            "the audit applies the document's scenarios itself; drop --scenario "
            f"({', '.join(opts.extras['scenario'])})")
    net = apply_worldview(opts.network(), opts.extras.get("worldview"))
    if out is not None:
        from gmnet.io.atomic import check_destination

        check_destination(out)  # before the audit's work, and never over an input
    report = run_audit(net)
    if opts.json:
        import json

        text = json.dumps(json_safe(report.to_dict()), indent=2, allow_nan=False) + "\n"
    elif markdown:
        text = report.to_markdown()
    else:
        text = report.to_text() + "\n"
    if out is not None:
        write_text(out, text)
        counts = report.verdicts()
        echo(f"{out}: written ({', '.join(f'{n} {v}' for v, n in counts.items() if n)})")
        return
    click.echo(text, nl=False)


COMMANDS = [scenarios, worldviews, audit]
