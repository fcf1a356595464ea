"""The one figure style of gmnet's plots: figure, fonts, title, caption, and room for labels.

Every plot in :mod:`gmnet.viz.plots` is built here: a constrained-layout figure without pyplot,
a left-aligned wrapped title, an optional caption strip under the figure saying what it assumed,
and :func:`fit_texts`, which widens an axis until every value label lies inside the axes (so no
label runs onto a tick label and no bar is cut off by the frame).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gmnet.errors import GmnetError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.text import Text

__all__ = ["STYLE", "new_figure", "styled", "set_title", "fit_texts",
           "percent_ticks"]

STYLE = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Verdana", "Arial", "Helvetica"],
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.labelsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",      # text stays text: searchable, selectable and small
    "svg.hashsalt": "gmnet",     # stable element ids: the same figure gives the same file
}
CAPTION_SIZE = 7.5
_CAPTION_LINE = 0.16  # inches per caption line


def new_figure(width: float, height: float, caption: str | None = None):
    """A figure ``width`` x ``height`` inches to draw in; with ``caption``, the figure grows by
    the caption's height and the caption sits in its own strip under everything else (the
    layout keeps legends and labels out of it).

    Returns the panel to draw in: the figure itself, or (with a caption) its upper subfigure;
    ``panel.figure`` is the figure to save.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise GmnetError("plots need matplotlib; install it with pip install matplotlib "
                         "(or pip install 'gmnet[analysis]')") from None
    if not caption:
        return Figure(figsize=(width, height), layout="constrained")
    chars = max(int(width * 16), 40)
    lines = textwrap.wrap(" ".join(caption.split()), chars)
    extra = _CAPTION_LINE * len(lines) + 0.12
    fig = Figure(figsize=(width, height + extra), layout="constrained")
    panel, strip = fig.subfigures(2, 1, height_ratios=[height, extra])
    strip.text(0.01, 0.5, "\n".join(lines), ha="left", va="center", fontsize=CAPTION_SIZE,
               color="#444444", linespacing=1.3, gid="caption")
    return panel


def styled():
    import matplotlib

    return matplotlib.rc_context(STYLE)


def set_title(fig, title: str) -> None:
    """A figure title, left-aligned (an axes title would be cut off by long tick labels) and
    wrapped to the figure's width."""
    width = max(int(fig.figure.get_figwidth() * 11), 30)
    fig.suptitle(textwrap.fill(title, width), x=0.01, ha="left", fontsize=11)


def _renderer(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = fig.figure
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def fit_texts(fig, ax: Axes, texts: Sequence[Text], *, low: float, high: float,
              pad: float = 0.015, rounds: int = 4) -> None:
    """Set the x limits so that [low, high] and every text in ``texts`` lie inside the axes.

    Text sizes are in points, limits in data units, and the layout moves the axes when the
    limits change; a few rounds of measuring settle it.
    """
    lo, hi = float(low), float(high)
    if hi <= lo:
        hi = lo + 1e-6
    ax.set_xlim(lo - (hi - lo) * 0.05, hi + (hi - lo) * 0.05)
    for _ in range(rounds):
        renderer = _renderer(fig)
        inverse = ax.transData.inverted()
        x0, x1 = lo, hi
        for text in texts:
            box = text.get_window_extent(renderer)
            (a, _), (b, _) = inverse.transform([(box.x0, box.y0), (box.x1, box.y1)])
            x0, x1 = min(x0, a), max(x1, b)
        span = x1 - x0
        new = (x0 - pad * span, x1 + pad * span)
        old = ax.get_xlim()
        ax.set_xlim(*new)
        if abs(new[0] - old[0]) < 1e-3 * span and abs(new[1] - old[1]) < 1e-3 * span:
            break


def percent_ticks(ax: Axes, *, clip: bool = True) -> None:
    """Percent tick labels on the x axis, with no tick outside 0-100% when ``clip``."""
    from matplotlib.ticker import FixedLocator, MaxNLocator, PercentFormatter

    if clip:
        lo, hi = ax.get_xlim()
        ticks = MaxNLocator(nbins=7).tick_values(max(lo, 0.0), min(hi, 1.0))
        ax.xaxis.set_major_locator(FixedLocator(
            [t for t in ticks if lo - 1e-12 <= t <= hi + 1e-12 and -1e-12 <= t <= 1 + 1e-12]))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
