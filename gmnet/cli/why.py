"""Commands: counterfactual (would the alternative have prevented it?) and explain (why this
answer: the most probable explanation, the most probable path, what each observation did)."""

from __future__ import annotations

import click

from gmnet.analysis.ask import resolve
from gmnet.analysis.uncertainty import MAX_SAMPLES
from gmnet.cli.common import Options, echo, emit_json, network_options
from gmnet.errors import InvalidArgumentError, QuerySyntaxError

_GIVEN_HELP = ("The context, as in a query's condition: 'shift_type=extreme, "
               "do(spec_quality=low)'.")


def _assignment(text: str, option: str, example: str) -> tuple[str, str]:
    parts = [p.strip() for p in (text or "").split("=")]
    if len(parts) != 2 or not all(parts):
        raise QuerySyntaxError(f"cannot parse {option} {text!r}; write it like {example!r}")
    return parts[0], parts[1]


def _given(text: str | None):
    """Evidence, do() and soft findings of a --given condition."""
    from gmnet.query_text import parse_query

    if not text or not text.strip():
        return {}, {}, ()
    try:
        parsed = parse_query(f"P(harm | {text})")
    except QuerySyntaxError as exc:
        raise QuerySyntaxError(f"cannot parse --given {text!r}; write it like 'shift_type="
                               f"extreme, do(spec_quality=low)' ({str(exc).split(';')[0]})"
                               ) from None
    return dict(parsed.evidence), dict(parsed.do), tuple(parsed.soft)


def _situation(opts: Options, evidence: dict[str, str], do: dict[str, str], *,
               mentioned=()) -> tuple:
    """The network, evidence and do() a why-question is asked with (--scenario, --worldview).

    The one place these commands meet the shared question plumbing: a context policy that holds
    unmentioned nodes must count ``mentioned`` (the cause, the outcome, a target, soft-evidence
    nodes) as mentioned.
    """
    base = opts.network()
    mentioned = [m for m in mentioned if m]
    target = mentioned[0] if mentioned else base.variables[-1]
    resolved = resolve(base, opts.question_for(target, evidence=evidence, do=do),
                       free=mentioned)
    return resolved.network, resolved.evidence, resolved.do, resolved


def _provenance(resolved) -> dict:
    """What the context policy held and the rest of the assumptions, for JSON."""
    p = resolved.provenance()
    return {k: p[k] for k in ("context", "held", "set", "unknowns", "assumptions")}


def _applied(opts: Options) -> dict:
    out = {}
    if opts.extras.get("scenario"):
        out["scenario"] = list(opts.extras["scenario"])
    if opts.extras.get("worldview"):
        out["worldview"] = opts.extras["worldview"]
    return out


def _under(opts: Options) -> str:
    parts = [f"{k} {' + '.join(v) if isinstance(v, list) else v}"
             for k, v in _applied(opts).items()]
    return ("  [" + ", ".join(parts) + "]") if parts else ""


def _context_line(evidence, do) -> str:
    parts = [f"{k}={v}" for k, v in evidence.items()]
    parts += [f"do({k}={v})" for k, v in do.items()]
    return ", ".join(parts) or "none"


def _interval(pair) -> str:
    return "undefined" if pair is None else f"[{pair[0]:.4f}, {pair[1]:.4f}]"


@click.command()
@click.option("--cause", required=True, metavar="VAR=STATE",
              help="What happened, e.g. ai_control=off (a two-state variable).")
@click.option("--alternative", required=True, metavar="STATE",
              help="The state it is compared with, e.g. on.")
@click.option("--outcome", required=True, metavar="VAR=STATE",
              help="The outcome that happened, e.g. harm=yes.")
@click.option("--given", "given", metavar="CONDITION", default=None, help=_GIVEN_HELP)
@click.option("--samples", type=click.IntRange(min=1, max=MAX_SAMPLES), default=None,
              help="Also give 5-95% intervals over this many draws of the uncertain numbers.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Random seed of the draws.")
@click.option("--unknowns/--no-unknowns", default=True, show_default=True,
              help="Include the Critical Unknowns in the draws.")
@network_options
def counterfactual(cause: str, alternative: str, outcome: str, given: str | None,
                   samples: int | None, seed: int, unknowns: bool, opts: Options) -> None:
    """Would the alternative have prevented the outcome? Exact bounds on the probabilities of
    necessity (PN), sufficiency (PS) and both (PNS), and their values under monotonicity.

    Example: gmnet counterfactual --cause ai_control=off --alternative on --outcome harm=yes
    --given shift_type=extreme. See docs/why.md.
    """
    from gmnet.analysis.counterfactual import counterfactual as run

    cause_var, cause_state = _assignment(cause, "--cause", "ai_control=off")
    outcome_var, outcome_state = _assignment(outcome, "--outcome", "harm=yes")
    evidence, do, soft = _given(given)
    if soft:
        raise InvalidArgumentError("--given of a counterfactual takes observations and do(), "
                                   "not soft evidence (the bounds need a settled context)")
    net, evidence, do, resolved = _situation(opts, evidence, do,
                                             mentioned=(cause_var, outcome_var))
    result = run(net, cause_var, cause_state, alternative.strip(), outcome_var, outcome_state,
                 evidence=evidence, do=do, samples=samples, rng=seed, unknowns=unknowns)
    if opts.json:
        emit_json({"network": net.name, **result.to_dict(), **_applied(opts),
                   **_provenance(resolved)})
        return
    x, alt, y = (f"{cause_var}={cause_state}", f"{cause_var}={result.alternative}",
                 f"{outcome_var}={outcome_state}")
    echo(f"Counterfactual: cause {x}, alternative {alt}, outcome {y}{_under(opts)}")
    echo(f"  given: {_context_line(result.evidence, result.do)}; network's point values")
    for line in resolved.assumptions():
        echo(f"  {line}")
    rows = (("PN", result.pn, f"P(not {y} under {alt} | {x}, {y})"),
            ("PS", result.ps, f"P({y} under {x} | {alt}, not {y})"),
            ("PNS", result.pns, f"P({y} under {x}, and not under {alt})"))
    echo(f"  {'':<4} {'bounds':<18} {'monotone':<9} meaning")
    for label, pair, meaning in rows:
        echo(f"  {label:<4} {_interval(pair):<18} "
             f"{_value(result.monotone[label.lower()]):<9} {meaning}")
    if result.contradictions:
        echo("  monotonicity is contradicted by the network: " + "; ".join(
            result.contradictions))
    if result.samples:
        s = result.samples
        echo(f"  over {s['samples']:,} draws (seed {seed}), 5-95% of each end:")
        for key in ("pn", "ps", "pns"):
            row = s[key]
            echo(f"    {key.upper():<4} lower {_band(row['lower'])}  upper {_band(row['upper'])}"
                 f"  monotone {_band(row['monotone'])}")
        if s["draws_contradicting_monotonicity"]:
            echo(f"    {s['draws_contradicting_monotonicity']:,} draws contradict monotonicity")
    echo("")
    echo(result.sentence())
    echo("Bounds: Tian and Pearl (2000), from P(cause, outcome | context) and "
         "P(outcome | do(cause), context); they assume the context is settled before the cause.")


def _value(v) -> str:
    return "undefined" if v is None else f"{v:.4f}"


def _band(q) -> str:
    return "undefined" if q is None else f"{q[0]:.4f}-{q[2]:.4f}"


def _soft_options(likelihoods, marginals):
    from gmnet.model.soft_evidence import parse_soft_option

    return (tuple(parse_soft_option(t, "likelihood") for t in likelihoods)
            + tuple(parse_soft_option(t, "marginal") for t in marginals))


@click.command()
@click.argument("condition", metavar="EVIDENCE", required=False)
@click.option("--target", "target", metavar="VAR=STATE", default=None,
              help="Also show how each observation moved P(VAR=STATE), e.g. harm=yes.")
@click.option("--likelihood", "likelihoods", multiple=True, metavar="NODE=STATE:W,...",
              help="Soft (likelihood) evidence, e.g. capability_level=below_human:0.2,"
                   "human_level:0.5,superhuman:0.3; repeatable.")
@click.option("--marginal", "marginals", multiple=True, metavar="NODE=STATE:P,...",
              help="Fix a node's probability (Jeffrey's rule), e.g. "
                   "capability_level=superhuman:0.3; repeatable.")
@network_options
def explain(condition: str | None, target: str | None, likelihoods: tuple[str, ...],
            marginals: tuple[str, ...], opts: Options) -> None:
    """Why: the most probable explanation of the evidence, the most probable path along the
    pathway, and how much each observation moved the target.

    EVIDENCE is a query's condition: "harm=yes, shift_type=extreme, do(ai_control=off)"; soft
    terms such as "P(capability_level=superhuman)=0.3" are allowed. See docs/why.md.
    """
    from gmnet.analysis.explain import explain as run

    evidence, do, soft = _given(condition)
    soft = soft + _soft_options(likelihoods, marginals)
    target_var = target_state = None
    if target is not None:
        target_var, target_state = _assignment(target, "--target", "harm=yes")
    net, evidence, do, resolved = _situation(
        opts, evidence, do, mentioned=[f.node for f in soft] + ([target_var] if target_var else []))
    result = run(net, evidence, do, target=target_var, state=target_state, soft=soft)
    if opts.json:
        emit_json({**result.to_dict(), **_applied(opts), **_provenance(resolved)})
        return
    given = _context_line(result.evidence, result.do)
    if result.soft:
        given += "; soft: " + ", ".join(result.soft)
    echo(f"Explanation given {given}{_under(opts)} (network's point values)")
    for line in resolved.assumptions():
        echo(f"  {line}")
    tie = " (tied: another joint state is as probable)" if result.mpe_tied else ""
    echo(f"\nMost probable explanation: P = {result.mpe_probability:.4g} given the evidence"
         f"{tie}")
    width = max((len(v) for v in result.mpe), default=0)
    for var, state in result.mpe.items():
        echo(f"  {var:<{width}}  {state}")
    if result.path:
        tie = " (tied)" if result.path_tied else ""
        echo(f"\nMost probable path along the pathway: P = {result.path_probability:.4g}{tie}")
        echo("  " + " -> ".join(f"{v}={s}" for v, s in result.path.items()))
    if result.target is not None:
        echo(f"\nP({result.target}={result.target_state} | all of it) = "
             f"{result.target_probability:.4f}; without each observation:")
        for row in result.observations:
            what = row["soft"] or f"{row['variable']}={row['state']}"
            echo(f"  without {what}: {row['without']:.4f} "
                 f"(this observation moves it by {row['change']:+.4f})")
        if not result.observations:
            echo("  (no observation to remove)")


COMMANDS = [counterfactual, explain]
