"""Shared CLI plumbing: the options every command takes, output helpers, error reporting."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import click

from gmnet.errors import InvalidArgumentError
from gmnet.io.jsonsafe import json_safe
from gmnet.model.network import Network, load_network
from gmnet.model.question import CONTEXT_POLICIES, Question, parse_question

__all__ = ["network_options", "scheduler_option", "Options", "emit_json", "fmt_p", "echo",
           "progress_bar", "section_progress"]


@dataclass
class Options:
    """What the shared options resolved to; commands call :meth:`network` to get the network."""

    network_ref: str | None = None
    json: bool = False
    extras: dict[str, Any] = field(default_factory=dict)

    def network(self) -> Network:
        """The network named by --network, as file (no scenario or worldview applied)."""
        return load_network(self.network_ref)

    # ------------------------------------------------------------------ the Question path
    def question(self, text: str) -> Question:
        """``text`` (the ``P(...)`` form) with this command's --scenario, --worldview,
        --context, --set and --unknown."""
        return parse_question(text, scenarios=self.extras.get("scenario") or (),
                              worldview=self.extras.get("worldview"),
                              context=self.context, overrides=self.overrides,
                              unknowns=self.unknowns)

    def question_for(self, target: str, state: str | None = None, *,
                     evidence: dict[str, str] | None = None,
                     do: dict[str, str] | None = None) -> Question:
        """A question about ``target`` with this command's options."""
        return Question(target, state, evidence or {}, do or {},
                        tuple(self.extras.get("scenario") or ()),
                        self.extras.get("worldview"), self.context, self.overrides,
                        self.unknowns)

    def resolve(self, question: Question):
        """The question resolved on --network (see :func:`gmnet.analysis.ask.resolve`)."""
        from gmnet.analysis.ask import resolve

        return resolve(self.network(), question)

    @property
    def context(self) -> str:
        return self.extras.get("context") or "baseline"

    @property
    def overrides(self) -> dict[str, str]:
        return _pairs(self.extras.get("set") or (), "--set", "NAME=VALUE", "m_spec.low=2.0")

    @property
    def unknowns(self) -> dict[str, str]:
        return _pairs(self.extras.get("unknown") or (), "--unknown", "NAME=STATE",
                      "interpretability_feasibility=fails")

    def setup(self) -> tuple[Network, dict[str, str]]:
        """The network with --worldview and --scenario applied, and the scenario's evidence.

        Commands that answer questions use this: the evidence a scenario sets must be merged
        into the query's own evidence (``gmnet.model.scenarios.merge_evidence(evidence,
        query_evidence, do)``: do() wins over a scenario's evidence).
        """
        r = self.resolve(self.question_for(self.network().variables[-1]))
        return r.network, r.scenario_evidence


def _pairs(items, option: str, shape: str, example: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InvalidArgumentError(f"{option} {item[:60]!r}: write it as {shape}, e.g. "
                                       f"{option} {example}")
        if name.strip() in out:
            raise InvalidArgumentError(f"{option} {name.strip()} is given twice")
        out[name.strip()] = value.strip()
    return out


# Further shared options (e.g. --scenario, --worldview) register here: (decorator, key) pairs
# that are applied to every command using @network_options.
EXTRA_OPTIONS: list[tuple[Callable, str]] = [
    (click.option("--scenario", "scenario", multiple=True, metavar="NAME|FILE",
                  help="Apply a scenario (gmnet scenarios lists them) or a scenario file's "
                       "(FILE.yaml[:NAME]); repeat to combine, e.g. a domain and a period."),
     "scenario"),
    (click.option("--worldview", "worldview", metavar="NAME|FILE", default=None,
                  help="Replace numbers with a worldview's (gmnet worldviews lists them; "
                       "default: document-table, the network's own), or a worldview file's "
                       "(FILE.yaml, or FILE.yaml:NAME if it holds several)."), "worldview"),
    (click.option("--context", "context", type=click.Choice(CONTEXT_POLICIES), default=None,
                  help="What unmentioned nodes do: baseline (default) holds the context at the "
                       "document's neutral levels and every mitigation off, where the "
                       "document's numbers hold; prior lets them follow the network's priors "
                       "(the population average). docs/context.md."), "context"),
    (click.option("--set", "set", multiple=True, metavar="NAME=VALUE",
                  help="Use your own number for a parameter (repeatable), e.g. --set "
                       "m_spec.low=2.0; shown as 'set by you'. gmnet show lists the names."),
     "set"),
    (click.option("--unknown", "unknown", multiple=True, metavar="NAME=STATE",
                  help="Fix a Critical Unknown (repeatable), e.g. --unknown "
                       "interpretability_feasibility=fails."), "unknown"),
]


def network_options(func: Callable) -> Callable:
    """Add --network and --json (and any registered shared options) to a command."""

    @functools.wraps(func)
    def wrapper(*args, network: str | None, as_json: bool, **kwargs):
        extras = {key: kwargs.pop(key) for _, key in EXTRA_OPTIONS if key in kwargs}
        return func(*args, opts=Options(network, as_json, extras), **kwargs)

    wrapped = click.option("--json", "as_json", is_flag=True,
                           help="Print machine-readable JSON.")(wrapper)
    wrapped = click.option("--network", "network", metavar="PATH|NAME", default=None,
                           help="A network file or the name of a bundled network "
                                "(default: goal_misgeneralization).")(wrapped)
    for decorator, _ in EXTRA_OPTIONS:
        wrapped = decorator(wrapped)
    return wrapped


def scheduler_option(func: Callable) -> Callable:
    """Add --scheduler ADDRESS to a command that draws: its chunks then run on that Dask
    cluster. The command gets ``scheduler``: None, or a connected Client (closed afterwards);
    a bad address, or Dask missing, is a one-line error before anything is computed."""

    @functools.wraps(func)
    def wrapper(*args, scheduler: str | None = None, **kwargs):
        if scheduler is None:
            return func(*args, scheduler=None, **kwargs)
        from gmnet.inference.cluster import connect

        client = connect(scheduler, what="--scheduler")
        try:
            return func(*args, scheduler=client, **kwargs)
        finally:
            with contextlib.suppress(Exception):
                client.close()

    return click.option(
        "--scheduler", "scheduler", metavar="ADDRESS", default=None,
        help="Compute the draws on a Dask cluster: the address `dask scheduler` printed, e.g. "
             "tcp://10.0.0.5:8786 (needs gmnet[dask]; the same numbers as here; "
             "docs/distributed.md).")(wrapper)


def emit_json(payload: Any) -> None:
    click.echo(json.dumps(json_safe(payload), indent=2, allow_nan=False))


def fmt_p(p: float, digits: int | None = None) -> str:
    """A probability for people: gmnet's one format (:func:`gmnet.display.percent`)."""
    from gmnet.display import percent

    return percent(p)


def echo(text: str = "", err: bool = False) -> None:
    click.echo(text, err=err, file=sys.stderr if err else None)


def _tqdm():
    """tqdm's bar class, without its monitor thread: the bars are updated after each chunk
    anyway, and a process that runs no other thread can fork its batched runs' workers
    (gmnet.inference.forked)."""
    from tqdm import tqdm

    tqdm.monitor_interval = 0
    return tqdm


@contextlib.contextmanager
def progress_bar(total: int | None, what: str, *, unit: str = "draw") -> Iterator:
    """A tqdm bar on stderr, shown only on a terminal and only after a second of work; yields
    its ``update(n)``."""
    tqdm = _tqdm()
    bar = tqdm(total=total, desc=what, unit=unit, unit_scale=unit == "draw", file=sys.stderr,
               delay=1.0, leave=False, disable=None)
    try:
        yield bar.update
    finally:
        bar.close()


@contextlib.contextmanager
def section_progress(what: str) -> Iterator:
    """A progress callback ``(title, done, total)`` for multi-part work such as the report."""
    tqdm = _tqdm()
    bar = tqdm(total=None, desc=what, unit="section", file=sys.stderr, delay=1.0, leave=False,
               disable=None)

    def update(title: str, done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(title, refresh=False)
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()
