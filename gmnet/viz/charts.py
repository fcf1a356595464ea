"""Charts of gmnet's analyses: run an analysis, turn its result into plain data, plot it.

This is the only place where the plots meet the analyses (:mod:`gmnet.viz.plots` takes plain
numbers); the CLI's ``plot`` command and the HTML report both use it, so a chart looks the same
wherever it appears.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gmnet.display import percent
from gmnet.errors import GmnetError, InvalidArgumentError, UnknownNameError
from gmnet.model.question import Question as AskedQuestion
from gmnet.viz.chart_base import _NEEDS, CHART_KINDS, Chart, _held, _label, available
from gmnet.viz.figures import result_caption, tornado_figure, uncertainty_figure
from gmnet.viz.grids import _domains, _heatmap, document_domain_ranges, scenario_grid

if TYPE_CHECKING:

    from gmnet.model.network import Network
    from gmnet.query_text import ParsedQuery

__all__ = ["CHART_KINDS", "Chart", "Question", "available", "chart", "check_chart_samples",
           "describe", "document_domain_ranges", "focus_question", "result_caption",
           "scenario_grid", "tornado_figure", "uncertainty_figure"]

@dataclass(frozen=True)
class Question:
    """P(target=state | evidence, do(...)), with a short description for titles."""

    target: str
    state: str
    evidence: dict[str, str]
    do: dict[str, str]
    description: str
    held: tuple[str, ...] = ()  # the nodes in ``do`` that the question itself did not name

    @property
    def text(self) -> str:
        head = f"{self.target}={self.state}"
        parts = [f"{k}={v}" for k, v in self.evidence.items()]
        if self.do:
            parts.append("do(" + ", ".join(f"{k}={v}" for k, v in self.do.items()) + ")")
        return f"P({head}" + (" | " + ", ".join(parts) if parts else "") + ")"


def focus_question(network: Network, evidence: Mapping[str, str] | None = None, *,
                   target: str = "harm", state: str = "yes") -> Question:
    """The question the uncertainty and sensitivity charts ask by default.

    Without evidence: an extreme shift (the document's Type 4) with every other setting at the
    neutral context and no mitigation, where the core table gives 27.7%. Under a scenario
    (``evidence``, or scenarios recorded in the network's metadata): the scenario's evidence,
    with the settings it leaves open held neutral.
    """
    from gmnet.analysis.whatif import neutral_context

    network.check_state(target, state)
    evidence = dict(evidence or {})
    scenarios = list(network.metadata.get("scenarios") or [])
    touched = set(evidence) | _scenario_variables(scenarios)
    do = {k: v for k, v in neutral_context(network).items() if k not in touched}
    if not evidence and not scenarios and "shift_type" in network.variables:
        do["shift_type"] = network.states("shift_type")[-1]
        what = f"{_label(network, 'shift_type').lower()} {do['shift_type']}"
    elif scenarios:
        what = "scenario " + " + ".join(scenarios)
    else:
        what = ", ".join(f"{k}={v}" for k, v in evidence.items()) or "no evidence"
    held = tuple(k for k in do if k != "shift_type" or evidence or scenarios)
    return Question(target, state, evidence, do,
                    f"P({target}={state}), {what}" + (", other settings neutral" if do else ""),
                    held)


def describe(network: Network, target: str, state: str, evidence: Mapping[str, str],
             do: Mapping[str, str]) -> str:
    """A query in words short enough for a title: the mitigations set by do() are summarised
    ("every mitigation off") instead of listed."""
    mitigations = {v: s for v, s in do.items() if network.node(v).role == "mitigation"}
    rest = {v: s for v, s in do.items() if v not in mitigations}
    parts = [f"{k}={v}" for k, v in evidence.items()]
    if rest:
        parts.append("do(" + ", ".join(f"{k}={v}" for k, v in rest.items()) + ")")
    states = set(mitigations.values())
    if len(states) == 1 and len(mitigations) > 2:
        parts.append(f"every mitigation {states.pop()}")
    elif mitigations:
        parts.append("do(" + ", ".join(f"{k}={v}" for k, v in mitigations.items()) + ")")
    return f"P({target}={state}" + (" | " + ", ".join(parts) if parts else "") + ")"


def _as_question(network: Network, question, evidence: dict[str, str], target: str,
                 state: str) -> Question:
    from gmnet.model.scenarios import merge_evidence
    from gmnet.query_text import ParsedQuery, parse_query

    if question is None:
        return focus_question(network, evidence, target=target, state=state)
    if isinstance(question, str):
        question = parse_query(question)
    if isinstance(question, ParsedQuery):
        from gmnet.model.soft_evidence import refuse_soft

        refuse_soft(question.soft, "charts")  # soft-evidence guard (issue 19)
        network.node(question.target)
        q_state = question.state or network.states(question.target)[0]
        network.check_state(question.target, q_state)
        ev = merge_evidence(evidence, question.evidence, question.do)
        question = Question(question.target, q_state, ev, dict(question.do),
                            describe(network, question.target, q_state, ev, question.do))
    if not isinstance(question, Question):
        raise InvalidArgumentError("question must be a query string such as 'P(harm=yes | "
                                   f"do(shift_type=extreme))', got {type(question).__name__}")
    return question


def _scenario_variables(names) -> set[str]:
    if not names:
        return set()
    try:
        from gmnet.model.scenarios import load_scenarios

        catalog = load_scenarios()
        return set().union(*(catalog[n].variables for n in names if n in catalog))
    except (ImportError, GmnetError):
        return set()


def chart(kind: str, network: Network, *, evidence: Mapping[str, str] | None = None,
          question: Question | ParsedQuery | str | None = None, rows: str = "shift_type",
          columns: str = "spec_quality", target: str = "harm", state: str = "yes",
          samples: int | None = 2000, rng: int = 0, caption: str | None = None) -> Chart:
    """Run the analysis behind chart ``kind`` on ``network`` and plot it.

    Parameters
    ----------
    kind
        ``heatmap`` (P(target=state) over ``rows`` x ``columns`` set by do()), ``domains``
        (over the application domains x the periods of the scenario catalog), ``uncertainty``
        (the answer's distribution over parameter draws), ``tornado`` (one number at a time),
        ``sobol`` (total-order Sobol indices) or ``mitigations`` (each mitigation, each layer,
        all; with 90% intervals when ``samples`` is given).
    evidence
        Evidence every query conditions on (e.g. a scenario's).
    question
        For uncertainty, tornado and sobol: the question, as a :class:`Question`, a parsed
        query or a query string such as ``"P(harm=yes | do(shift_type=extreme))"`` (default
        :func:`focus_question`). Evidence in ``evidence`` is added to it.
    samples, rng
        Parameter draws and seed for the analyses that sample (Sobol rounds ``samples`` down
        to a power of two, at least 64 and at most what keeps its design within memory, see
        :func:`gmnet.analysis.sensitivity.max_sobol_samples`). Checked before anything runs
        (:func:`check_chart_samples`).
    caption
        The line under the figure saying what it assumed (default: built by
        :func:`gmnet.viz.labels.figure_caption` from the chart's question, the network's
        scenarios and worldview, and the nodes it holds).
    """
    if kind not in CHART_KINDS:
        raise UnknownNameError("chart", str(kind), CHART_KINDS)
    if not available(kind):
        raise GmnetError(f"the {kind} chart needs {_NEEDS[kind]}, which this version of gmnet "
                         "does not have")
    check_chart_samples(kind, network, samples)
    network.node(target)
    network.check_state(target, state)
    evidence = dict(evidence or {})
    if kind == "heatmap":
        return _heatmap(network, evidence, rows, columns, target, state, caption, samples, rng)
    if kind == "domains":
        return _domains(network, evidence, target, state, caption)
    if kind == "mitigations":
        return _mitigations(network, evidence, target, state, samples, rng, caption,
                            question if isinstance(question, AskedQuestion) else None)
    question = _as_question(network, question, evidence, target, state)
    if kind == "uncertainty":
        return _uncertainty(network, question, samples or 2000, rng, caption)
    return _sensitivity(network, question, kind, samples, rng, caption)


def check_chart_samples(kind: str, network: Network, samples: int | None) -> None:
    """Raise unless ``samples`` draws are allowed for chart ``kind`` on ``network``.

    The uncertainty and Sobol charts take at most
    :data:`gmnet.analysis.uncertainty.MAX_SAMPLES` draws; the mitigation chart evaluates every
    portfolio (2**k for k mitigations) on each draw, so it takes at most
    ``MAX_PORTFOLIO_ENTRIES // 2**k``. Cheap: call it before a long computation.
    """
    if kind not in ("uncertainty", "sobol", "mitigations") or not available(kind):
        return
    if samples is None or samples == 0:
        return  # the default count (uncertainty, sobol) or no intervals (mitigations)
    from gmnet.analysis.uncertainty import check_samples

    portfolios = 1
    if kind == "mitigations":
        from gmnet.analysis.mitigations import mitigations_of

        portfolios = 2 ** len(mitigations_of(network))
    try:
        check_samples(samples, portfolios=portfolios)
    except GmnetError as exc:
        if portfolios == 1:
            raise
        raise InvalidArgumentError(f"the mitigation chart evaluates all {portfolios:,} "
                                   f"portfolios on every draw: {exc}") from None


def _question_caption(network: Network, question: Question, caption: str | None,
                      note: str | None = None) -> str:
    from gmnet.viz.labels import figure_caption

    if caption is not None:
        return caption
    held = {k: v for k, v in question.do.items() if k in question.held}
    do = {k: v for k, v in question.do.items() if k not in question.held}
    return figure_caption(network, evidence=question.evidence, do=do, held=held, note=note)


def mitigation_rows(result, intervals: Mapping[str, tuple[float, float]], *,
                    outside: list[str] | None = None) -> tuple[list[tuple], list[str]]:
    """The mitigation chart's bars, layer by layer (each mitigation alone, best first; the
    whole layer; all of them): rows ``(label, value, low, high)`` and each row's group.

    With ``outside`` (a list), a bar whose point lies outside its interval gets no interval
    and is named in the list instead (the report says so under its figure).
    """
    def row(label, name, value):
        low, high = intervals.get(name, (None, None))
        if outside is not None and low is not None and not low <= value <= high:
            outside.append(f"{label} {percent(value)} [{percent(low)}, {percent(high)}]")
            low = high = None
        return (label, value, low, high)

    rows, groups = [], []
    for layer in result.layers:
        alone = sorted((v for v in result.values if v.mitigation.layer == layer),
                       key=lambda v: v.probability_alone)
        for value in alone:
            rows.append(row(value.mitigation.label, value.name, value.probability_alone))
            groups.append(layer)
        if len(alone) > 1:
            rows.append(row(f"whole {layer} layer", layer, result.portfolio(layer).probability))
            groups.append(layer)
    rows.append(row("all mitigations", "all", result.all_on))
    groups.append("all")
    return rows, groups


def _mitigations(network, evidence, target, state, samples, rng, caption=None,
                 asked: AskedQuestion | None = None) -> Chart:
    """With ``asked`` (a :class:`gmnet.model.question.Question` about ``network`` as loaded),
    the comparison is asked on the one question path (its scenarios, worldview, context policy
    and numbers; the caption is its assumptions); otherwise at the neutral context."""
    from gmnet.analysis.compare import compare_question
    from gmnet.analysis.mitigations import compare_mitigations
    from gmnet.viz.plots import interval_bars

    if asked is not None:
        result, resolved = compare_question(network, asked)
        network, evidence = resolved.network, dict(resolved.evidence)
        target, state = asked.target, asked.state or state
        if caption is None:
            caption = "; ".join(resolved.assumptions())
    else:
        result = compare_mitigations(network, evidence=evidence, target=target, state=state)
    intervals: dict[str, tuple[float, float]] = {}
    data = result.to_dict()
    if samples and available("uncertainty"):
        from gmnet.analysis.uncertainty import comparison_uncertainty

        spread = comparison_uncertainty(network, result, samples=samples, rng=rng)
        intervals = spread.portfolios
        data["uncertainty"] = spread.to_dict()

    rows, groups = mitigation_rows(result, intervals)
    what = f"P({target}={state})"
    band = " (bars: 90% of parameter draws)" if intervals else ""
    if caption is None:
        from gmnet.viz.labels import figure_caption

        held = {k: v for k, v in _held(network, evidence).items()
                if network.node(k).role != "mitigation"}
        caption = figure_caption(
            network, evidence=evidence, held=held,
            note=("Each bar sets its mitigations on and the others off by do()"
                  + (f"; intervals from {samples:,} parameter draws, seed {rng}"
                     if intervals else "")))
    fig = interval_bars(rows, baseline=result.baseline, groups=groups,
                        title=f"{what} with each mitigation, each layer and all of them{band}",
                        xlabel=what, caption=caption)
    return Chart("mitigations", fig, data,
                 f"no mitigation {result.baseline:.1%}; all on {result.all_on:.1%}", caption)


def _uncertainty(network, question: Question, samples: int, rng, caption=None) -> Chart:
    from gmnet.analysis.uncertainty import uncertainty

    result = uncertainty(network, question.target, question.state, evidence=question.evidence,
                         do=question.do, samples=samples, rng=rng)
    caption = _question_caption(network, question, caption,
                                note=f"{result.samples:,} draws, seed {rng}")
    fig = uncertainty_figure(result, title=f"{question.description}: {result.samples:,} draws "
                             f"of the {len(result.inputs)} uncertain numbers it depends on",
                             caption=caption)
    lo, hi = result.interval(0.9)
    return Chart("uncertainty", fig, result.to_dict(),
                 f"{question.description}: point {result.point:.1%}, median "
                 f"{result.median:.1%}, 90% of draws in [{lo:.1%}, {hi:.1%}]", caption)


def _sensitivity(network, question: Question, kind: str, samples, rng, caption=None) -> Chart:
    from gmnet.analysis.sensitivity import sensitivity
    from gmnet.viz.labels import parameter_label
    from gmnet.viz.plots import interval_bars

    base = None
    if kind == "sobol":
        from gmnet.analysis.sensitivity import max_sobol_samples
        from gmnet.analysis.uncertainty import uncertainty_model

        base = 64
        while base * 2 <= (samples or 1024):
            base *= 2
        base = min(base, max_sobol_samples(len(uncertainty_model(network).inputs)))
    result = sensitivity(network, question.target, question.state, evidence=question.evidence,
                         do=question.do, samples=base, rng=rng)
    moving = [r for r in result.rows if r.reaches_target and r.swing > 1e-9]
    if kind == "tornado":
        if not moving:
            raise InvalidArgumentError(f"{question.text} does not depend on any uncertain "
                                       "number: there is nothing to draw")
        caption = _question_caption(network, question, caption)
        fig = tornado_figure(result, title=f"Sensitivity of {question.description}, one "
                                           "number at a time", network=network,
                             caption=caption)
        top = max(moving, key=lambda r: r.swing)
        summary = (f"widest swing: {top.label}, {top.output_low:.1%} to "
                   f"{top.output_high:.1%} (point {result.point:.1%})")
    else:
        ranked = [r for r in result.rows if (r.st or 0.0) > 0.005][:12]
        if not ranked:
            raise InvalidArgumentError(f"{question.text} does not depend on any uncertain "
                                       "number: there is nothing to draw")
        rows = [(parameter_label(network, r.name, r.label), max(r.st, 0.0),
                 max(r.st - r.st_conf, 0.0), r.st + r.st_conf) for r in ranked]
        groups = ["Critical Unknown" if r.critical_unknown else "ranged number"
                  for r in ranked]
        fig = interval_bars(rows, groups=groups, xlabel="share of the answer's variance",
                            title=f"Which uncertainty matters for {question.description}: "
                                  "total-order Sobol indices", percent=False,
                            interval_label=f"{result.conf_level:.0%} confidence",
                            caption=(caption := _question_caption(
                                network, question, caption,
                                note=f"Sobol N={base}, seed {rng}; whiskers: the index's "
                                     f"{result.conf_level:.0%} confidence interval")))
        top = ranked[0]
        summary = (f"most of the variance: {top.label}, total-order Sobol index "
                   f"{top.st:.2f} ± {top.st_conf:.2f} ({top.s1:.2f} on its own)")
    return Chart(kind, fig, result.to_dict(), summary, caption)
