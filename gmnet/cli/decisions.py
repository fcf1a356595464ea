"""Decision commands: portfolios (cost vs risk), voi (value of information), threshold
(break-even values) and bounds (over every declared range). docs/decisions.md explains them."""

from __future__ import annotations

import click

from gmnet.cli.common import (
    Options,
    echo,
    emit_json,
    network_options,
    progress_bar,
    scheduler_option,
)
from gmnet.cli.mitigations import _parse_given, _parse_target
from gmnet.errors import InvalidArgumentError
from gmnet.model.scenarios import merge_evidence

__all__ = ["COMMANDS"]


def _pct(p: float | None) -> str:
    if p is None or p != p:
        return "-"
    return f"{p:.1%}" if abs(p) >= 0.001 or p == 0 else f"{p:.2%}"


def _question(opts: Options, given: str | None, target: str):
    """The network (scenario and worldview applied) and the question's parts."""
    from gmnet.analysis.mitigations import reshaped_priors

    if opts.context != "baseline":
        # a portfolio decision is taken in the document's world: each portfolio sets every
        # mitigation itself and the context is held at the baseline (docs/decisions.md)
        raise InvalidArgumentError(
            "the decision analyses compare portfolios at the baseline context; --context "
            f"{opts.context} is not taken here (set context nodes with --given instead)")
    net, scenario_evidence = opts.setup()
    evidence, do = _parse_given(given)
    variable, state = _parse_target(target)
    merged = merge_evidence(scenario_evidence, evidence, do)
    return net, dict(target=variable, state=state, evidence=merged, do=do,
                     keep_priors=reshaped_priors(opts.network(), net))


def _portfolio(text: str | None, names) -> tuple[str, ...]:
    if text is None or text.strip() in ("", "none", "-"):
        return ()
    parts = tuple(p.strip() for p in text.replace("+", ",").split(",") if p.strip())
    bad = [p for p in parts if p not in names]
    if bad:
        raise InvalidArgumentError(
            f"unknown mitigation {bad[0]!r} in a portfolio; choose from: {', '.join(names)} "
            "(write them joined by '+' or ',', or 'none')")
    return parts


def _header(lines: list[str], question_text: str, held: str) -> None:
    lines += [question_text, f"  ({held})"]


GIVEN = click.option("--given", "given", metavar="CONDITIONS", default=None,
                     help="Context to condition on and set, in query syntax: "
                          "'shift_type=extreme, do(spec_quality=low)'.")
TARGET = click.option("--target", "target", metavar="VAR=STATE", default="harm=yes",
                      show_default=True, help="The outcome whose probability to reduce.")
BUDGET = click.option("--budget", type=float, default=None, metavar="COST",
                      help="Largest total cost allowed (relative units; default: no limit).")
WEIGHT = click.option("--cost-weight", "cost_weight", type=float, default=None, metavar="W",
                      help="P(harm) one unit of cost is worth: loss = P(harm) + W x cost "
                           "(default: the network's cost_weight, 0).")
MAX_SIZE = click.option("--max-size", "max_size", type=click.IntRange(min=0), default=None,
                        metavar="N", help="At most N mitigations per portfolio (2: the best pair).")
SEED = click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                    help="Random seed.")


# ============================================================================ portfolios
@click.command()
@GIVEN
@TARGET
@BUDGET
@WEIGHT
@MAX_SIZE
@click.option("--samples", type=click.IntRange(min=0, max=20_000), default=2000,
              show_default=True, help="Paired draws for the intervals and P(best) (0: none).")
@SEED
@click.option("--all", "show_all", is_flag=True,
              help="List every portfolio, not only the frontier (JSON always lists all).")
@scheduler_option
@network_options
def portfolios(given, target, budget, cost_weight, max_size, samples, seed, show_all,
               opts: Options, scheduler=None) -> None:
    """Every mitigation portfolio: cost, risk, the Pareto frontier and the best under --budget.

    Asked at the baseline: context nodes not given are held at the document's neutral levels,
    mitigations not in a portfolio are off.
    """
    from gmnet.analysis.portfolios import portfolio_analysis

    net, q = _question(opts, given, target)
    with progress_bar(samples or None, "drawing") as update:
        result = portfolio_analysis(net, **q, budget=budget, cost_weight=cost_weight,
                                    max_size=max_size, samples=samples, rng=seed,
                                    progress=update, scheduler=scheduler)
    if opts.json:
        emit_json(result.to_dict())
        return
    for line in format_portfolios(result, show_all=show_all):
        echo(line)


def format_portfolios(result, *, show_all: bool = False) -> list[str]:
    lines: list[str] = []
    _header(lines, "Mitigation portfolios by cost and risk: " + result.question.text(),
            result.question.held_text())
    rows = result.rows if show_all else result.frontier
    rows = sorted(rows, key=lambda r: (r.cost, r.p_harm, r.index))
    header = (f"{'cost':>6} {'P(' + result.question.target + ')':>9} {'90% interval':>17} "
              f"{'P(best)':>8}  portfolio")
    lines += ["", ("Every portfolio" if show_all else
                   f"Pareto frontier ({len(result.frontier)} of {len(result.rows)} portfolios)"),
              header, "-" * len(header)]
    for r in rows:
        iv = "" if r.interval is None else f"{_pct(r.interval[0])}-{_pct(r.interval[1])}"
        mark = " *" if r.index == result.best else ("  " if r.on_frontier else " .")
        pb = "" if r.p_best is None else f"{r.p_best:.0%}"
        lines.append(f"{r.cost:>6.2f} {_pct(r.p_harm):>9} {iv:>17} {pb:>8}{mark} "
                     f"{' + '.join(r.mitigations) or 'none'}")
    best = result.best_row
    within = [f"budget {result.budget:g}"] if result.budget is not None else []
    within += [f"at most {result.max_size} mitigations"] if result.max_size is not None else []
    lines += ["", f"best{' within ' + ', '.join(within) if within else ''}"
              f": {' + '.join(best.mitigations) or 'none'} (cost {best.cost:g}, "
              f"P = {_pct(best.p_harm)}"
              + ("" if best.p_best is None else f", best in {best.p_best:.0%} of draws") + ")"]
    lines += ["assumed: " + a for a in result.assumptions()[1:]]
    return lines


# ============================================================================ voi
@click.command()
@GIVEN
@TARGET
@BUDGET
@WEIGHT
@MAX_SIZE
@click.option("--portfolio", default=None, metavar="A+B",
              help="Mitigations on for the observation values (default: the best within the "
                   "budget).")
@click.option("--samples", type=click.IntRange(min=0, max=20_000), default=4000,
              show_default=True, help="Paired draws for EVPI and EVPPI (0: observations only).")
@SEED
@click.option("--top", type=click.IntRange(min=1), default=12, show_default=True,
              help="Rows shown per table.")
@scheduler_option
@network_options
def voi(given, target, budget, cost_weight, max_size, portfolio, samples, seed, top,
        opts: Options, scheduler=None) -> None:
    """Value of information: which observation, number or Critical Unknown is worth resolving.

    Observations: exact expected entropy (and variance) reduction of the target. Numbers:
    EVPPI for the portfolio decision under --budget, in P(harm) avoided, with the EVPI ceiling.
    """
    from gmnet.analysis.decision_question import mitigation_names
    from gmnet.analysis.voi import value_of_information

    net, q = _question(opts, given, target)
    chosen = None if portfolio is None else _portfolio(portfolio, mitigation_names(net))
    with progress_bar(samples or None, "drawing") as update:
        result = value_of_information(net, **q, portfolio=chosen, budget=budget,
                                      cost_weight=cost_weight, max_size=max_size,
                                      samples=samples, rng=seed, progress=update,
                                      scheduler=scheduler)
    if opts.json:
        emit_json(result.to_dict())
        return
    for line in format_voi(result, top=top):
        echo(line)


def format_voi(result, *, top: int = 12) -> list[str]:
    lines: list[str] = []
    _header(lines, "Value of information: " + result.question.text(result.portfolio),
            result.question.held_text())
    lines += ["", f"Observations (exact): H({result.question.target}) = {result.entropy:.4f} "
              "bits", f"{'variable':<30} {'entropy red.':>12} {'share':>7} {'variance red.':>14}"]
    for o in result.observations[:top]:
        lines.append(f"{o.variable:<30} {o.entropy_reduction:>12.5f} "
                     f"{o.relative_entropy_reduction:>7.1%} {o.variance_reduction:>14.3g}")
    if result.samples:
        lines += ["", f"Decision: {' + '.join(result.best) or 'none'} (expected P = "
                  f"{_pct(result.expected_loss)}); EVPI = {result.evpi * 100:.3f} points "
                  f"(se {result.evpi_se * 100:.3f})",
                  f"{'number or unknown':<40} {'EVPPI (pts)':>11} {'se':>7} {'of EVPI':>8}  "
                  "document's priority"]
        for p in result.parameters[:top]:
            lines.append(f"{p.name:<40} {p.evppi * 100:>11.4f} {p.se * 100:>7.4f} "
                         f"{p.share_of_evpi:>8.0%}  {p.document or ''}")
    lines += ["assumed: " + a for a in result.assumptions()[1:]]
    return lines


# ============================================================================ threshold
@click.command()
@click.argument("parameter")
@GIVEN
@TARGET
@BUDGET
@WEIGHT
@MAX_SIZE
@click.option("--between", nargs=2, default=None, metavar="A B",
              help="Two portfolios (mitigations joined by '+', or 'none'): where they are "
                   "equally good.")
@click.option("--portfolio", default=None, metavar="A+B",
              help="With --below: the portfolio in place (default: none).")
@click.option("--below", type=float, default=None, metavar="X",
              help="The values of PARAMETER that bring P(target | do(portfolio)) below X.")
@click.option("--span", nargs=2, type=float, default=None, metavar="LOW HIGH",
              help="Values to search (default: the number's admissible range).")
@network_options
def threshold(parameter, given, target, budget, cost_weight, max_size, between, portfolio,
              below, span, opts: Options) -> None:
    """Break-even: how far PARAMETER must move before the best portfolio changes.

    With --between A B: where portfolio A and B are equally good; with --below X: the values
    that bring P(target | do(portfolio)) below X. Other numbers stay at their points.
    """
    from gmnet.analysis.decision_question import mitigation_names
    from gmnet.analysis.thresholds import break_even, value_for_target

    net, q = _question(opts, given, target)
    names = mitigation_names(net)
    if below is not None:
        if between is not None:
            raise InvalidArgumentError("give --below or --between, not both")
        result = value_for_target(net, parameter, below, portfolio=_portfolio(portfolio, names),
                                  span=span, **q)
    else:
        pair = None if between is None else tuple(_portfolio(p, names) for p in between)
        result = break_even(net, parameter, budget=budget, cost_weight=cost_weight,
                            max_size=max_size, between=pair, span=span, **q)
    if opts.json:
        emit_json(result.to_dict())
        return
    d = result.to_dict()
    echo(result.summary())
    for key in ("crossings",):
        for c in d[key]:
            if isinstance(c, dict):
                echo(f"  at {c['value']:.6g}: {' + '.join(c['before']) or 'none'} -> "
                     f"{' + '.join(c['after']) or 'none'}"
                     + ("" if c["inside_declared_range"] else "  (outside the declared range)"))
    echo(f"  ({result.question.held_text()}; every other number at its point value)")


# ============================================================================ bounds
@click.command()
@GIVEN
@TARGET
@click.option("--portfolio", default=None, metavar="A+B",
              help="Mitigations in place (default: none).")
@click.option("--samples", type=click.IntRange(min=0, max=100_000), default=4000,
              show_default=True, help="Draws for the PERT interval shown beside (0: none).")
@SEED
@click.option("--max-corners", type=click.IntRange(min=1, max=1 << 22), default=1 << 16,
              show_default=True, help="Search every corner up to this many, else a "
                                      "coordinate search.")
@network_options
def bounds(given, target, portfolio, samples, seed, max_corners, opts: Options) -> None:
    """Least and greatest value of the answer over every number's declared range.

    Names the settings that attain each end and shows the PERT 90% interval beside them.
    """
    from gmnet.analysis.bounds import bounds as compute
    from gmnet.analysis.decision_question import mitigation_names

    net, q = _question(opts, given, target)
    result = compute(net, **q, portfolio=_portfolio(portfolio, mitigation_names(net)),
                     samples=samples, rng=seed, max_corners=max_corners)
    if opts.json:
        emit_json(result.to_dict())
        return
    echo(result.summary())
    echo(f"  ({result.question.held_text()})")
    how = ("every corner" if result.exhaustive else "coordinate search over corners")
    echo(f"  {len(result.ranged)} ranged numbers move it ({how}, {result.corners:,} "
         f"evaluated); {len(result.inert)} more never moved it")
    for label, b in (("min", result.minimum), ("max", result.maximum)):
        at = ", ".join(f"{k}={v:g}" for k, v in b.settings.items())
        echo(f"  {label} {b.value:.4g} at {at or 'the point values'}")
        if b.interior_better:
            echo(f"    corners do not suffice: interior values do better for "
                 f"{', '.join(b.interior_better)}")


def plot_frontier(path, query_text, target, state, samples, seed, budget, opts: Options) -> None:
    """``gmnet plot frontier``: the figure of :func:`gmnet.viz.frontier.frontier_figure`."""
    from gmnet.analysis.mitigations import reshaped_priors
    from gmnet.analysis.portfolios import portfolio_analysis
    from gmnet.query_text import parse_query
    from gmnet.viz.frontier import frontier_caption, frontier_figure
    from gmnet.viz.plots import save_figure

    net, scenario_evidence = opts.setup()
    evidence, do = {}, {}
    if query_text:
        parsed = parse_query(query_text)
        target, state = parsed.target, parsed.state or state
        evidence, do = dict(parsed.evidence), dict(parsed.do)
    evidence = merge_evidence(scenario_evidence, evidence, do)
    result = portfolio_analysis(net, target=target, state=state, evidence=evidence, do=do,
                                keep_priors=reshaped_priors(opts.network(), net),
                                budget=budget, samples=min(samples, 20_000), rng=seed)
    save_figure(frontier_figure(result), path)
    if opts.json:
        emit_json({"network": net.name, "kind": "frontier", "out": str(path),
                   "data": result.to_dict(frontier_only=True)})
        return
    echo(f"wrote {path} (frontier)")
    echo(f"  {frontier_caption(result)}")


COMMANDS = [portfolios, voi, threshold, bounds]
