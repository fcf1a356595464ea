"""The ``compare`` command: mitigation portfolios compared by intervention."""

from __future__ import annotations

import click

from gmnet.analysis.compare import compare_question
from gmnet.analysis.mitigations import MitigationComparison
from gmnet.cli.common import (
    Options,
    echo,
    emit_json,
    network_options,
    progress_bar,
    scheduler_option,
)
from gmnet.display import percent
from gmnet.errors import QuerySyntaxError
from gmnet.query_text import parse_query


def _parse_given(text: str | None) -> tuple[dict[str, str], dict[str, str]]:
    if not text:
        return {}, {}
    try:
        parsed = parse_query(f"P(harm | {text})")
    except QuerySyntaxError as exc:
        raise QuerySyntaxError(
            f"cannot parse --given {text!r}; write it like "
            "'shift_type=extreme, do(capability_level=superhuman)' ("
            + str(exc).split(";")[0] + ")") from None
    from gmnet.model.soft_evidence import refuse_soft

    refuse_soft(parsed.soft, "--given here")  # soft-evidence guard (issue 19)
    return dict(parsed.evidence), dict(parsed.do)


def _parse_target(text: str) -> tuple[str, str]:
    if text.count("=") != 1 or not all(part.strip() for part in text.split("=")):
        raise QuerySyntaxError(f"cannot parse --target {text!r}; write it like 'harm=yes'")
    variable, state = (part.strip() for part in text.split("="))
    return variable, state


@click.command()
@click.option("--given", "given", metavar="CONDITIONS", default=None,
              help="Context to condition on and set, in query syntax: "
                   "'shift_type=extreme, do(spec_quality=low)'.")
@click.option("--target", "target", metavar="VAR=STATE", default="harm=yes", show_default=True,
              help="The outcome whose probability the mitigations should reduce.")
@click.option("--all-portfolios", is_flag=True,
              help="With --json: also list P(target) for every one of the 2^k portfolios.")
@click.option("--samples", type=click.IntRange(min=1), default=None,
              help="Also draw the uncertain numbers N times: each row gets its 90% interval and "
                   "the share of paired draws in which it beats the next (docs/uncertainty.md).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Random seed for --samples.")
@scheduler_option
@network_options
def compare(given: str | None, target: str, all_portfolios: bool,
            samples: int | None, seed: int, opts: Options, scheduler=None) -> None:
    """Compare mitigation portfolios by intervention: alone, by layer, marginal, Shapley.

    Every portfolio switches its mitigations on and all others off with do(): the answers say
    what adding them would do, not how deployments that have them fare.
    """
    evidence, do = _parse_given(given)
    variable, state = _parse_target(target)
    result, resolved = compare_question(opts.network(),
                                        opts.question_for(variable, state, evidence=evidence,
                                                          do=do))
    net = resolved.network
    applied = {"scenarios": list(resolved.scenarios), "worldview": resolved.worldview}
    unc = None
    if samples is not None:
        from gmnet.analysis.uncertainty import comparison_uncertainty

        with progress_bar(samples, "drawing") as update:
            unc = comparison_uncertainty(net, result, samples=samples, rng=seed, progress=update,
                                         scheduler=scheduler)
    if opts.json:
        p = resolved.provenance()
        emit_json({**result.to_dict(all_portfolios=all_portfolios), **applied,
                   "query": resolved.question.text, "context": p["context"], "held": p["held"],
                   "set": p["set"], "unknowns": p["unknowns"], "assumptions": p["assumptions"],
                   **({"uncertainty": unc.to_dict()} if unc else {})})
        return
    for line in format_comparison(result, assumptions=resolved.assumptions(),
                                  question=resolved.question.text):
        echo(line)
    if unc is not None:
        from gmnet.cli.uncertainty import format_comparison_uncertainty

        for line in format_comparison_uncertainty(result, unc):
            echo(line)


NOISE = 1e-12  # differences below this are floating-point noise, shown as 0


def _pp(x: float, *, signed: bool = False) -> str:
    """A difference of probabilities in percentage points."""
    x = 0.0 if abs(x) < NOISE else x
    return f"{100 * x:+.2f}" if signed else f"{100 * x:.2f}"


def _pct(x: float, digits: int = 1) -> str:
    """gmnet's one format for people (:func:`gmnet.display.percent`), noise shown as 0."""
    return percent(0.0 if abs(x) < NOISE else x)


def format_comparison(result: MitigationComparison, *,
                      assumptions: list[str] | None = None,
                      question: str | None = None) -> list[str]:
    """The comparison as lines of text for the terminal."""
    what = f"P({result.target}={result.state})"
    lines = [f"Mitigations compared by intervention: {question or what}",
             *(f"  {line}" for line in (assumptions or [f"context: {result.context}"])),
             f"no mitigation {_pct(result.baseline, 2)};  all {len(result.mitigations)} in place "
             f"{_pct(result.all_on, 2)};  as adopted today (the priors) "
             f"{_pct(result.as_adopted, 2)}",
             ""]
    header = (f"{'mitigation':<30} {'layer':<10} {'alone':>8} {'rel':>7} {'last':>7} "
              f"{'Shapley':>8} {'share':>6}  {'cost (document)':<20} {'document says'}")
    lines += ["Each mitigation, by its Shapley share of the all-on reduction "
              "(reductions in percentage points)", header, "-" * len(header)]
    for v in result.values:
        m = v.mitigation
        lines.append(f"{m.name:<30} {m.layer:<10} {_pp(v.alone):>8} {_pct(v.alone_relative):>7} "
                     f"{_pp(v.marginal):>7} {_pp(v.shapley):>8} {_pct(v.shapley_share):>6}  "
                     f"{m.cost:<20} {m.document_reduction}")
    lines += ["  alone: reduction with only this one in place; rel: the same, relative; "
              "last: reduction when added to all the others", ""]
    rows = [p for p in result.portfolios if p.kind not in ("mitigation",)]
    rows.sort(key=lambda p: (-p.absolute_reduction, p.name))
    header = f"{'portfolio':<36} {what:>14} {'reduction':>10} {'rel':>7}"
    lines += ["Layers", header, "-" * len(header)]
    for p in rows:
        lines.append(f"{p.name:<36} {_pct(p.probability, 2):>14} {_pp(p.absolute_reduction):>10} "
                     f"{_pct(p.relative_reduction):>7}")
    lines += ["", "Layers together vs apart (percentage points; remaining ratio < 1: better "
              "than independent layers)"]
    header = f"{'layers':<36} {'together':>9} {'sum apart':>10} {'interaction':>12} {'ratio':>7}"
    lines += [header, "-" * len(header)]
    for i in result.interactions:
        verdict = ("more than the sum" if i.interaction > NOISE else
                   "less than the sum" if i.interaction < -NOISE else "the sum")
        ratio = "-" if i.remaining_ratio != i.remaining_ratio else f"{i.remaining_ratio:.3f}"
        lines.append(f"{' + '.join(i.layers):<36} {_pp(i.together):>9} {_pp(sum(i.apart)):>10} "
                     f"{_pp(i.interaction, signed=True):>12} {ratio:>7}  {verdict}")
    return lines


COMMANDS = [compare]
