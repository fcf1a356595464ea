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

from gmnet.io.jsonsafe import json_safe
from gmnet.model.network import Network, load_network

__all__ = ["network_options", "Options", "emit_json", "fmt_p", "echo", "progress_bar",
           "section_progress"]


@dataclass
class Options:
    """What the shared options resolved to; commands call :meth:`network` to get the network."""

    network_ref: str | None = None
    json: bool = False
    extras: dict[str, Any] = field(default_factory=dict)

    def network(self) -> Network:
        """The network named by --network, as file (no scenario or worldview applied)."""
        return load_network(self.network_ref)

    def setup(self) -> tuple[Network, dict[str, str]]:
        """The network with --worldview and --scenario applied, and the scenario's evidence.

        Commands that answer questions use this: the evidence a scenario sets must be merged
        into the query's own evidence (``gmnet.model.scenarios.merge_evidence(evidence,
        query_evidence, do)``: do() wins over a scenario's evidence).
        """
        from gmnet.model.scenarios import apply

        return apply(self.network(), scenario=self.extras.get("scenario") or None,
                     worldview=self.extras.get("worldview"))


# Further shared options (e.g. --scenario, --worldview) register here: (decorator, key) pairs
# that are applied to every command using @network_options.
EXTRA_OPTIONS: list[tuple[Callable, str]] = [
    (click.option("--scenario", "scenario", multiple=True, metavar="NAME",
                  help="Apply a scenario (gmnet scenarios lists them); repeat to combine, e.g. "
                       "a domain and a period."), "scenario"),
    (click.option("--worldview", "worldview", metavar="NAME", default=None,
                  help="Replace numbers with a worldview's (gmnet worldviews lists them; "
                       "default: document-table, the network's own)."), "worldview"),
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


def emit_json(payload: Any) -> None:
    click.echo(json.dumps(json_safe(payload), indent=2, allow_nan=False))


def fmt_p(p: float, digits: int = 4) -> str:
    """A probability for people: 0.2770 (27.70%)."""
    return f"{p:.{digits}f}"


def echo(text: str = "", err: bool = False) -> None:
    click.echo(text, err=err, file=sys.stderr if err else None)


@contextlib.contextmanager
def progress_bar(total: int | None, what: str, *, unit: str = "draw") -> Iterator:
    """A tqdm bar on stderr, shown only on a terminal and only after a second of work; yields
    its ``update(n)``."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=what, unit=unit, unit_scale=unit == "draw", file=sys.stderr,
               delay=1.0, leave=False, disable=None)
    try:
        yield bar.update
    finally:
        bar.close()


@contextlib.contextmanager
def section_progress(what: str) -> Iterator:
    """A progress callback ``(title, done, total)`` for multi-part work such as the report."""
    from tqdm import tqdm

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
