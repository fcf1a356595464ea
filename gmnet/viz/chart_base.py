"""What every chart is: a figure with its data, summary and caption; which kinds exist; the
small helpers the chart modules share (gmnet.viz.charts and gmnet.viz.grids both use them)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gmnet.analysis.whatif import neutral_context
from gmnet.viz.plots import figure_svg, save_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from gmnet.model.network import Network

__all__ = ["CHART_KINDS", "Chart", "available"]

CHART_KINDS = ("heatmap", "domains", "uncertainty", "tornado", "sobol", "mitigations")
_NEEDS = {"tornado": "gmnet.analysis.sensitivity", "sobol": "gmnet.analysis.sensitivity",
          "uncertainty": "gmnet.analysis.uncertainty",
          "mitigations": "gmnet.analysis.mitigations", "domains": "gmnet.model.scenarios"}


@dataclass(frozen=True)
class Chart:
    """A figure, the numbers it shows (JSON-ready), a one-line summary and its caption (what
    the figure assumed, also written under it)."""

    kind: str
    figure: Figure
    data: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    caption: str = ""

    def save(self, path, *, format: str | None = None):  # noqa: A002 - matplotlib's word
        """Write the chart to ``path`` (svg, png or pdf; atomically). Returns the path."""
        return save_figure(self.figure, path, format=format)

    def _repr_svg_(self) -> str:
        return figure_svg(self.figure)


def available(kind: str) -> bool:
    """Whether this version of gmnet has the analysis behind chart ``kind``."""
    module = _NEEDS.get(kind)
    if module is None:
        return kind in CHART_KINDS
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # pragma: no cover - broken installs
        return False


def _label(network: Network, var: str) -> str:
    return network.node(var).label or var


def _held(network: Network, mentioned) -> dict[str, str]:
    return {k: v for k, v in neutral_context(network).items() if k not in set(mentioned)}
