"""What every section of the report shares: the report's context (its question template, and
the one way it asks a question), and small HTML helpers (escaping, numbers, tables, figures,
captions)."""

from __future__ import annotations

import base64
import html
import importlib.util
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gmnet.analysis.ask import Answer, answer, with_interval
from gmnet.display import percent, percent_interval
from gmnet.model.question import Question, parse_question

if TYPE_CHECKING:
    from gmnet.model.network import Network


@dataclass
class _Context:
    network: Network  # the template's worldview, scenarios and numbers applied
    evidence: dict[str, str]  # what every question observes (the scenarios', the caller's)
    samples: int
    rng: int
    label: str | None
    base: Network | None = None  # the network as given: questions are asked on it
    template: Question | None = None  # scenarios, worldview, context policy, numbers
    notes: list[str] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)  # analyses two sections share
    sections: frozenset[str] = frozenset()  # the keys of the sections the report holds

    def question(self, text: str) -> Question:
        """``text`` under the report's scenarios, worldview, context policy and numbers."""
        t = self.template
        q = parse_question(text)
        return t.replace(targets=q.targets, states=q.states,
                         evidence={**t.evidence, **q.evidence}, do={**t.do, **q.do})

    def ask(self, text: str, *, interval: bool = False) -> Answer:
        """Answer ``text`` on the Question path (the command line's number), with its 90%
        interval over ``samples`` draws (seed ``rng``) if asked."""
        result = answer(self.base, self.question(text))
        return with_interval(result, samples=self.samples, seed=self.rng) if interval \
            else result

    def shared(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per report (e.g. the mitigation chart the brief and the
        appendix both show)."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]


@dataclass(frozen=True)
class _Section:
    key: str
    title: str
    render: Callable[[_Context], str | None]


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _pct(p: float, digits: int = 1) -> str:
    """gmnet's one format for people (``digits`` is kept for old callers)."""
    return percent(p)


def _interval_text(a: Answer) -> str:
    """``[lo-hi%]`` of an answer with an interval (empty without one)."""
    if a.interval is None:
        return ""
    return f"[{percent_interval(*a.interval)}]"


def _with_interval(a: Answer) -> str:
    """A point and its 90% interval, for a table cell."""
    if a.interval is None:
        return _pct(a.probability)
    return f"{_pct(a.probability)} <span class=\"doc\">{_esc(_interval_text(a))}</span>"


def _assign(mapping: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in mapping.items())


def _settings(network: Network, assignment: Mapping[str, str]) -> str:
    """``do(...)`` of the context settings, with the mitigations summarised (all off, ...)."""
    mitigations = {v: s for v, s in assignment.items() if network.node(v).role == "mitigation"}
    rest = {v: s for v, s in assignment.items() if v not in mitigations}
    text = f"<code>do({_esc(_assign(rest))})</code>"
    if mitigations:
        states = set(mitigations.values())
        text += (f", every mitigation {_esc(states.pop())}" if len(states) == 1
                 else f", mitigations <code>{_esc(_assign(mitigations))}</code>")
    return text


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _figure_img(figure, alt: str) -> str:
    from gmnet.viz.plots import figure_svg

    data = base64.b64encode(figure_svg(figure).encode("utf-8")).decode("ascii")
    return (f'<img class="figure" alt="{_esc(alt)}" '
            f'src="data:image/svg+xml;base64,{data}">')


def _caption(text: str, held: Sequence[str] = ()) -> str:
    """A caption under a figure or table: what it shows, then what it holds (the Answer's
    ``resolved.assumptions()`` lines)."""
    lines = "".join(f"<br><span class=\"held\">{_esc(line)}</span>" for line in held)
    return f'<p class="caption">{text}{lines}</p>'


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, numeric: Sequence[int] = (),
           cls: str = "") -> str:
    """An HTML table; ``numeric`` columns are right-aligned, headers included. Each cell
    carries its header (``data-label``) so that a narrow screen can show the rows as cards."""
    num = ' class="num"'
    head = "".join(f"<th{num if i in numeric else ''}>{_esc(h)}</th>"
                   for i, h in enumerate(headers))
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            klass = ' class="num"' if i in numeric else ""
            label = f' data-label="{_esc(headers[i])}"' if i < len(headers) else ""
            cells.append(f"<td{klass}{label}>{cell}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
