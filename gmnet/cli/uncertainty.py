"""Commands: uncertainty (the band around an answer) and sensitivity (what drives it)."""

from __future__ import annotations

import click

from gmnet.analysis.uncertainty import MAX_SAMPLES
from gmnet.cli.common import (
    Options,
    echo,
    emit_json,
    network_options,
    progress_bar,
    scheduler_option,
)
from gmnet.display import percent
from gmnet.model.soft_evidence import refuse_soft

UNKNOWNS_HELP = ("Include the source document's default Critical Unknowns (LLM vs RL "
                 "generalization) as uncertain inputs; see docs/uncertainty.md.")
WITH_UNKNOWN_HELP = ("Also include this Critical Unknown (repeatable): interpretability_feasibility"
                     " (success with probability 0.5), superhuman_capability_effects (direction"
                     " unknown, 1/3x-3x), or all.")


def _unknowns(unknowns: bool, extra: tuple[str, ...]):
    """The library's ``unknowns`` argument from --unknowns/--no-unknowns and --with-unknown."""
    if not extra:
        return unknowns
    if "all" in extra:
        return "all"
    from gmnet.analysis.uncertainty import CRITICAL_UNKNOWNS

    base = [u.key for u in CRITICAL_UNKNOWNS if u.default] if unknowns else []
    return [*base, *(k for k in extra if k not in base)]


def _question(query_text: str, opts: Options):
    """The question on the Question path: (resolved network, question, evidence, do, resolved)."""
    from gmnet.analysis.ask import resolve
    from gmnet.errors import InvalidArgumentError, UnknownNameError

    q = opts.question(query_text)
    if q.joint:
        raise InvalidArgumentError(f"{q.text}: uncertainty and sensitivity take one target")
    net = opts.network()
    if q.target not in net.variables:
        raise UnknownNameError("variable", q.target, net.variables, context="as target")
    if q.state is None:  # the target's first state, said in the question shown
        q = q.replace(states=(net.states(q.target)[0],))
    resolved = resolve(net, q)
    return resolved.network, q, resolved.evidence, resolved.do, resolved


def _active_unknowns(flag, resolved):
    from gmnet.analysis.unknowns import drawn_unknowns

    return drawn_unknowns(flag, resolved.unknowns)


def _applied(resolved) -> dict:
    return resolved.provenance()


def _under(resolved) -> list[str]:
    return ["  " + line for line in resolved.assumptions()]


@click.command()
@click.argument("query_text", metavar="QUERY")
@click.option("--samples", type=click.IntRange(min=1, max=MAX_SAMPLES), default=10_000,
              show_default=True,
              help="Number of draws of the uncertain numbers.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Random seed: the same seed gives the same numbers.")
@click.option("--unknowns/--no-unknowns", default=True, show_default=True, help=UNKNOWNS_HELP)
@click.option("--with-unknown", "with_unknown", multiple=True, metavar="KEY",
              help=WITH_UNKNOWN_HELP)
@click.option("--plot", "plot", metavar="FILE", default=None,
              help="Also draw the histogram to FILE (.png or .svg).")
@click.option("--bins", type=click.IntRange(min=2, max=200), default=12, show_default=True,
              help="Bins of the terminal histogram.")
@scheduler_option
@network_options
def uncertainty(query_text: str, samples: int, seed: int, unknowns: bool,
                with_unknown: tuple[str, ...], plot: str | None, bins: int,
                opts: Options, scheduler=None) -> None:
    """The band around an answer: every ranged number drawn from its distribution.

    QUERY is written like "P(harm=yes | shift_type=extreme, do(ai_control=on))"; without a
    state, the target's first state is used. Prints the point value, mean, median, the 5, 25,
    75 and 95% quantiles and a histogram of the draws.
    """
    from gmnet.analysis.uncertainty import check_plot_path
    from gmnet.analysis.uncertainty import uncertainty as run_uncertainty

    if plot is not None:
        check_plot_path(plot)  # before the draws, not after
    net, parsed, evidence, do, resolved = _question(query_text, opts)
    with progress_bar(samples, "drawing") as update:
        result = run_uncertainty(net, parsed.target, parsed.state, evidence=evidence,
                                 do=do, samples=samples, rng=seed,
                                 unknowns=_active_unknowns(_unknowns(unknowns, with_unknown),
                                                           resolved),
                                 progress=update, soft=parsed.soft, scheduler=scheduler)
    written = None
    if plot:
        from gmnet.viz.charts import uncertainty_figure
        from gmnet.viz.plots import save_figure

        written = save_figure(uncertainty_figure(result, bins=bins, network=net), plot)
    if opts.json:
        payload = {**result.to_dict(), **_applied(resolved), "query": resolved.question.text,
                   "computed_as": result.query}
        counts, edges = result.histogram(bins)
        payload["histogram"] = {"counts": counts.tolist(), "edges": edges.tolist()}
        if written:
            payload["plot"] = str(written)
        emit_json(payload)
        return
    for line in format_uncertainty(result, bins=bins, under=_under(resolved),
                                   title=resolved.question.text):
        echo(line)
    if written:
        echo(f"plot written to {written}")


def format_uncertainty(result, *, bins: int = 12, under: list[str] | None = None,
                       title: str | None = None) -> list[str]:
    """The result of :func:`gmnet.analysis.uncertainty.uncertainty` as terminal lines."""
    unknowns = ", ".join(result.unknowns) if result.unknowns else "none"
    draws = f"{result.samples:,} draw" + ("s" if result.samples != 1 else "")
    lines = [title or result.query, *(under or []),
             f"  {draws}, seed {result.seed}; {len(result.inputs)} uncertain "
             f"numbers can move this answer ({len(result.cancelling)} more reach it but "
             f"cancel); critical unknowns: {unknowns}",
             "",
             f"  point value  {percent(result.point)}   (the document's point values)"]
    if result.samples == 1:
        return lines + [f"  one draw     {percent(float(result.draws[0]))}   (a spread, quantiles "
                        "and a histogram need more draws)", "", result.summary()]
    q = result.quantiles()
    lines += [f"  mean         {percent(result.mean)}   (std {percent(result.std)})",
              f"  median       {percent(result.median)}",
              "  quantiles    " + "   ".join(f"{level:.0%} {percent(q[level])}"
                                             for level in (0.05, 0.25, 0.75, 0.95)),
              ""]
    counts, edges = result.histogram(bins)
    width = 40
    top = max(int(counts.max()), 1)
    for count, lo, hi in zip(counts, edges[:-1], edges[1:], strict=True):
        bar = "#" * round(width * count / top)
        lines.append(f"  {percent(lo):>6} - {percent(hi):>6} | {bar:<{width}} {count:,}")
    lines += ["", result.summary()]
    return lines


@click.command()
@click.argument("query_text", metavar="QUERY")
@click.option("--samples", type=click.IntRange(min=2, max=MAX_SAMPLES), default=1024,
              show_default=True,
              help="Sobol base sample size N, a power of 2; the design has N x (inputs + 2) "
                   "rows.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the Sobol design and of the bootstrap intervals.")
@click.option("--sobol/--no-sobol", default=True, show_default=True,
              help="Compute Sobol indices (else the one-way tornado only).")
@click.option("--unknowns/--no-unknowns", default=True, show_default=True, help=UNKNOWNS_HELP)
@click.option("--with-unknown", "with_unknown", multiple=True, metavar="KEY",
              help=WITH_UNKNOWN_HELP)
@click.option("--top", type=click.IntRange(min=1), default=15, show_default=True,
              help="Rows of the table (and bars of the plot).")
@click.option("--plot", "plot", metavar="FILE", default=None,
              help="Also draw the tornado chart to FILE (.png or .svg).")
@scheduler_option
@network_options
def sensitivity(query_text: str, samples: int, seed: int, sobol: bool, unknowns: bool,
                with_unknown: tuple[str, ...], top: int, plot: str | None,
                opts: Options, scheduler=None) -> None:
    """Which uncertain number matters most: one-way tornado and Sobol indices.

    Each input goes to its low and high end with the others at their points (the tornado);
    Sobol indices (SALib) give each input's share of the answer's variance, alone (S1) and with
    its interactions (ST), with confidence intervals. Sorted by total effect.
    """
    from gmnet.analysis.sensitivity import sensitivity as run_sensitivity
    from gmnet.analysis.uncertainty import check_plot_path

    if plot is not None:
        check_plot_path(plot)  # before the analysis, not after
    net, parsed, evidence, do, resolved = _question(query_text, opts)
    refuse_soft(parsed.soft, "sensitivity")
    with progress_bar(None, "evaluating") as update:
        result = run_sensitivity(net, parsed.target, parsed.state, evidence=evidence,
                                 do=do, samples=samples if sobol else None, rng=seed,
                                 unknowns=_active_unknowns(_unknowns(unknowns, with_unknown),
                                                           resolved),
                                 progress=update, scheduler=scheduler)
    written = None
    if plot:
        from gmnet.viz.charts import tornado_figure
        from gmnet.viz.plots import save_figure

        written = save_figure(tornado_figure(result, top=top, network=net), plot)
    if opts.json:
        payload = {**result.to_dict(), **_applied(resolved), "query": resolved.question.text,
                   "computed_as": result.query}
        if written:
            payload["plot"] = str(written)
        emit_json(payload)
        return
    for line in format_sensitivity(result, top=top, under=_under(resolved),
                                   title=resolved.question.text):
        echo(line)
    if written:
        echo(f"plot written to {written}")


def format_sensitivity(result, *, top: int = 15, under: list[str] | None = None,
                       title: str | None = None) -> list[str]:
    """The result of :func:`gmnet.analysis.sensitivity.sensitivity` as terminal lines."""
    reaching = [r for r in result.rows if r.moves_answer]
    cancel = len(result.cancelling)
    rest = len(result.rows) - len(reaching) - cancel
    how = (f"Sobol N={result.samples} ({result.evaluations:,} evaluations), seed {result.seed}"
           if result.samples else "one-way only")
    lines = [title or result.query, *(under or []),
             f"  point value {percent(result.point)}; {len(reaching)} of {len(result.rows)} "
             f"uncertain inputs can move it ({cancel} more reach it but cancel); {how}", ""]
    width = max([len(r.label) for r in reaching[:top]] + [5])
    header = (f"  {'input':<{width}}  {'range':>17}  {'at low':>7} {'at high':>7}  "
              + (f"{'S1':>5} {'±':>4}  {'ST':>5} {'±':>4}" if result.samples else ""))
    lines += [header, "  " + "-" * (len(header) - 2)]
    for r in reaching[:top]:
        rng = f"[{_num(r.low)}, {_num(r.high)}]"
        line = (f"  {r.label:<{width}}  {rng:>17}  {r.output_low:>7.4f} {r.output_high:>7.4f}  ")
        if result.samples:
            line += f"{r.s1:>5.2f} {r.s1_conf:>4.2f}  {r.st:>5.2f} {r.st_conf:>4.2f}"
        lines.append(line.rstrip())
    if len(reaching) > top:
        lines.append(f"  ... {len(reaching) - top} more (--top, or --json for all)")
    if cancel:
        lines.append(f"  {cancel} inputs reach this answer but cancel: changing one changes "
                     "nothing (e.g. the pathway's inner split, a mitigation held off).")
    if rest:
        lines.append(f"  {rest} inputs cannot reach this answer (their indices are 0).")
    lines += ["", "  at low / at high: the answer with that input at the end of its range, "
              "the others at their points."]
    if result.samples:
        lines.append(f"  S1: share of variance on its own; ST: with its interactions; ± half "
                     f"of the {result.conf_level:.0%} interval.")
    lines += ["", result.summary()]
    return lines


def _num(x: float) -> str:
    return f"{x:.3g}"


COMMANDS = [uncertainty, sensitivity]


def format_comparison_uncertainty(comparison, unc) -> list[str]:
    """Intervals for `gmnet compare --samples`: every row of its tables, with the share of
    paired draws in which a row beats the next."""
    what = f"P({comparison.target}={comparison.state})"
    pct = f"{unc.level:.0%}"
    unknowns = ", ".join(unc.unknowns) if unc.unknowns else "none"
    lines = ["", f"Uncertainty: {unc.samples:,} paired draws of the uncertain numbers, seed "
             f"{unc.seed}; critical unknowns: {unknowns}",
             f"  {pct} intervals; 'beats next': the share of draws in which the row beats the "
             "row below it ('tie': equal in every draw)", ""]
    header = (f"{'mitigation':<30} {'Shapley':>8} {pct + ' interval':>17} {'alone':>7} "
              f"{pct + ' interval':>17} {'beats next':>10}")
    lines += [header, "-" * len(header)]
    beats = {b["a"]: b for b in unc.beats["mitigations"]}
    for v in comparison.values:
        iv = unc.mitigations[v.name]
        lines.append(f"{v.name:<30} {100 * v.shapley:>8.2f} {_pp_interval(iv['shapley']):>17} "
                     f"{100 * v.alone:>7.2f} {_pp_interval(iv['alone']):>17} "
                     f"{_share_text(beats.get(v.name)):>10}")
    lines += ["  (percentage points)", ""]
    rows = sorted((p for p in comparison.portfolios if p.kind != "mitigation"),
                  key=lambda p: (-p.absolute_reduction, p.name))
    beats = {b["a"]: b for b in unc.beats["portfolios"]}
    header = f"{'portfolio':<36} {what:>14} {pct + ' interval':>19} {'beats next':>10}"
    lines += [header, "-" * len(header)]
    for p in rows:
        interval = _pp_interval(unc.portfolios[p.name]).replace(" to ", "-") + "%"
        lines.append(f"{p.name:<36} {100 * p.probability:>13.2f}% {interval:>19} "
                     f"{_share_text(beats.get(p.name)):>10}")
    return lines


def _pp_interval(iv) -> str:
    lo, hi = (0.0 if abs(x) < 5e-5 else 100 * x for x in iv)
    return f"{lo:.2f} to {hi:.2f}"


def _share_text(odds) -> str:
    if odds is None:
        return "-"
    if odds["p_tie"] >= 0.995:
        return "tie"
    return f"{100 * odds['p_a_beats_b']:.0f}%"
