"""The one-file HTML report: the diagram, the core table, what-ifs, analyses and every number.

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

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gmnet.analysis.ask import resolve
from gmnet.errors import GmnetError, InvalidArgumentError, UnknownNameError
from gmnet.model.question import Question
from gmnet.report.analyses import _mitigations, _sensitivity, _uncertainty
from gmnet.report.appendix import _audit, _parameters
from gmnet.report.brief import _brief
from gmnet.report.common import _Context, _has, _Section
from gmnet.report.decisions import _decisions
from gmnet.report.page import _build
from gmnet.report.pathway import _core_table, _diagram, _overview
from gmnet.report.whatifs import _what_ifs

if TYPE_CHECKING:
    from gmnet.model.network import Network

__all__ = ["SECTIONS", "build_report", "check_report_path", "write_report"]


SECTIONS: tuple[_Section, ...] = (
    _Section("brief", "In brief", _brief),
    _Section("overview", "Overview", _overview),
    _Section("core_table", "The core table, reproduced", _core_table),
    _Section("diagram", "The causal pathway", _diagram),
    _Section("what_if", "What-if questions", _what_ifs),
    _Section("mitigations", "Mitigations compared", _mitigations),
    _Section("decisions", "Decisions: portfolios and research priorities", _decisions),
    _Section("uncertainty", "Uncertainty", _uncertainty),
    _Section("sensitivity", "Sensitivity", _sensitivity),
    _Section("audit", "Audit of the source document", _audit),
    _Section("parameters", "Appendix: every number and its source", _parameters),
)
_KEYS = tuple(s.key for s in SECTIONS)


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
                   base=network, template=template, sections=frozenset(chosen))
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
