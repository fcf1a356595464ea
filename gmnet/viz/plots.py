"""Plots of gmnet's analyses, with matplotlib.

Every plot function takes plain data (numbers, arrays, lists of ``(label, value, low, high)``)
rather than analysis objects, so it works with any analysis that can produce those numbers, and
returns a :class:`matplotlib.figure.Figure` (built without pyplot: no global figure state, no
display backend needed). :func:`save_figure` writes one atomically; :func:`figure_svg` gives SVG
text for embedding.

>>> fig = heatmap([[0.1, 0.2], [0.3, 0.4]], ["a", "b"], ["x", "y"], title="demo")
>>> figure_svg(fig).startswith("<svg")
True
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gmnet.errors import GmnetError, InvalidArgumentError, UnknownNameError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from gmnet.model.network import Network

__all__ = [
    "FIGURE_FORMATS",
    "figure_svg",
    "heatmap",
    "interval_bars",
    "probability_grid",
    "save_figure",
    "tornado",
    "uncertainty_distribution",
]

FIGURE_FORMATS = ("svg", "png", "pdf")

_LOW = "#3d6fa8"    # a parameter at the low end of its range
_HIGH = "#c0392b"   # ... at the high end
_BAND = "#f2b134"
_NEUTRAL = "#555555"
_STYLE = {
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


# ============================================================================ helpers
def _figure(width: float, height: float) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise GmnetError("plots need matplotlib; install it with pip install matplotlib "
                         "(or pip install 'gmnet[analysis]')") from None
    return Figure(figsize=(width, height), layout="constrained")


def _styled():
    import matplotlib

    return matplotlib.rc_context(_STYLE)


def _title(fig, title: str) -> None:
    # a figure title, left-aligned (an axes title would be cut off by long tick labels) and
    # wrapped to the figure's width
    import textwrap

    width = max(int(fig.get_figwidth() * 11), 30)
    fig.suptitle(textwrap.fill(title, width), x=0.01, ha="left", fontsize=11)


def _percent_axis(axis) -> None:
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(1.0, decimals=None))


def _pct(p: float) -> str:
    return f"{p:.1%}" if abs(p) >= 0.001 or p == 0 else f"{p:.2%}"


def _finite(values: Any, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float).reshape(-1)
    if arr.size == 0:
        raise InvalidArgumentError(f"{what}: no values to plot")
    if not np.all(np.isfinite(arr)):
        raise InvalidArgumentError(f"{what}: values must be finite numbers (got NaN or inf)")
    return arr


def save_figure(figure: Figure, path: str | Path, *, format: str | None = None,  # noqa: A002
                dpi: int = 150) -> Path:
    """Write ``figure`` to ``path`` atomically (svg, png or pdf, from the suffix by default)."""
    from gmnet.io.atomic import atomic_path

    path = Path(path)
    fmt = (format or path.suffix.lower().lstrip(".")).lower()
    if fmt not in FIGURE_FORMATS:
        raise UnknownNameError("figure format", fmt or str(path), FIGURE_FORMATS,
                               context=f"(from {str(path)!r})")
    if format is not None:
        from gmnet.viz.diagram import check_format_matches

        check_format_matches(fmt, path)
    with _styled(), atomic_path(path, suffix="." + fmt) as tmp:
        figure.savefig(tmp, format=fmt, dpi=dpi, metadata=_metadata(fmt))
    return path


def _metadata(fmt: str) -> dict:
    # no creation date: the same numbers give the same file
    if fmt == "svg":
        return {"Date": None, "Creator": "gmnet"}
    if fmt == "pdf":
        return {"CreationDate": None, "Creator": "gmnet"}
    return {"Software": "gmnet"}


def figure_svg(figure: Figure) -> str:
    """``figure`` as SVG text (no XML declaration), ready to embed in HTML."""
    buffer = io.StringIO()
    with _styled():
        figure.savefig(buffer, format="svg", metadata=_metadata("svg"))
    text = buffer.getvalue()
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


# ============================================================================ tornado
def tornado(bars: Sequence[tuple[str, float, float]], *, baseline: float,
            title: str = "Sensitivity: one number at a time",
            xlabel: str = "P(harm)", low_label: str = "number at its low end",
            high_label: str = "number at its high end", max_bars: int = 15) -> Figure:
    """A tornado chart: the output when each number moves to the low and high end of its range.

    Parameters
    ----------
    bars
        ``(label, output at the low end, output at the high end)`` per number; drawn widest
        swing first, at most ``max_bars`` of them.
    baseline
        The output with every number at its point value (the vertical line).
    """
    rows = []
    for item in bars:
        if len(item) != 3:
            raise InvalidArgumentError("tornado: each bar is (label, value at low end, value at "
                                       f"high end), got {item!r}")
        label, lo, hi = item
        lo_v, hi_v = _finite([lo, hi], f"tornado bar {label!r}")
        rows.append((str(label), float(lo_v), float(hi_v)))
    if not rows:
        raise InvalidArgumentError("tornado: no bars to plot")
    base = float(_finite([baseline], "tornado baseline")[0])
    rows.sort(key=lambda r: abs(r[2] - r[1]), reverse=True)
    rows = rows[:max_bars]
    with _styled():
        fig = _figure(7.2, 0.9 + 0.36 * len(rows))
        ax = fig.add_subplot()
        y = np.arange(len(rows))[::-1]
        for yi, (_label, lo, hi) in zip(y, rows, strict=True):
            ax.barh(yi, lo - base, left=base, color=_LOW, height=0.62)
            ax.barh(yi, hi - base, left=base, color=_HIGH, height=0.62)
        lows = [r[1] for r in rows]
        highs = [r[2] for r in rows]
        span = max(max(lows + highs + [base]) - min(lows + highs + [base]), 1e-9)
        for yi, (_label, lo, hi) in zip(y, rows, strict=True):
            for v in (lo, hi):
                side = 1 if v >= base else -1
                ax.text(v + side * 0.01 * span, yi, _pct(v), va="center",
                        ha="left" if side > 0 else "right", fontsize=8, color="#222222")
        ax.axvline(base, color=_NEUTRAL, lw=1)
        ax.set_yticks(y, [r[0] for r in rows])
        ax.set_xlim(min(lows + [base]) - 0.14 * span, max(highs + lows + [base]) + 0.14 * span)
        _percent_axis(ax.xaxis)
        ax.set_xlabel(f"{xlabel}\n(line: all numbers at their point values, {_pct(base)})")
        _title(fig, title)
        from matplotlib.patches import Patch

        fig.legend(handles=[Patch(color=_LOW, label=low_label),
                            Patch(color=_HIGH, label=high_label)],
                   loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    return fig


# ============================================================================ uncertainty
def uncertainty_distribution(samples: Sequence[float] | np.ndarray, *, point: float | None = None,
                             band: tuple[float, float] = (0.05, 0.95),
                             title: str = "Uncertainty", xlabel: str = "P(harm)",
                             bins: int = 40) -> Figure:
    """Histogram and CDF of an output over parameter draws, with the ``band`` quantiles shaded.

    Parameters
    ----------
    samples
        The output in every draw (e.g. P(harm) per draw).
    point
        The output at the point values (drawn as a dashed line), if known.
    band
        The quantiles to shade, by default the 5-95% band.
    """
    values = _finite(samples, "uncertainty samples")
    q_lo, q_hi = band
    if not 0.0 <= q_lo < q_hi <= 1.0:
        raise InvalidArgumentError(f"band must be two quantiles 0 <= low < high <= 1, got {band}")
    lo, med, hi = np.quantile(values, [q_lo, 0.5, q_hi])
    band_label = f"{q_lo:.0%}-{q_hi:.0%} band: {_pct(lo)} to {_pct(hi)}"
    with _styled():
        fig = _figure(7.2, 3.3)
        hist_ax, cdf_ax = fig.subplots(1, 2)
        hist_ax.hist(values, bins=bins, color="#8fa9c9", edgecolor="white", linewidth=0.4)
        cdf_x = np.sort(values)
        cdf_y = np.arange(1, cdf_x.size + 1) / cdf_x.size
        cdf_ax.plot(cdf_x, cdf_y, color=_LOW, lw=1.5)
        for ax in (hist_ax, cdf_ax):
            ax.axvspan(lo, hi, color=_BAND, alpha=0.25, lw=0, label=band_label, zorder=0)
            ax.axvline(med, color=_NEUTRAL, lw=1, label=f"median {_pct(med)}")
            if point is not None:
                ax.axvline(float(point), color=_HIGH, lw=1.2, ls="--",
                           label=f"point values {_pct(float(point))}")
            _percent_axis(ax.xaxis)
            ax.set_xlabel(xlabel)
        hist_ax.set_ylabel("draws")
        cdf_ax.set_ylabel("share of draws at or below")
        cdf_ax.set_ylim(0, 1)
        _title(fig, title)
        handles, labels = cdf_ax.get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8,
                   frameon=False)
    return fig


# ============================================================================ interval bars
_GROUP_COLOURS = {"prevention": "#8fcf8f", "detection": "#8fb4df", "response": "#f2b880",
                  "all": "#b9b9b9", "Critical Unknown": "#e6a04e", "ranged number": "#8fb4df"}
_CYCLE = ("#8fcf8f", "#8fb4df", "#f2b880", "#c9a0dc", "#b9b9b9", "#e6d37a")


def interval_bars(rows: Sequence[tuple[str, float, float | None, float | None]], *,
                  baseline: float | None = None, title: str = "Mitigations compared",
                  xlabel: str = "P(harm)", baseline_label: str = "no mitigation",
                  groups: Sequence[str] | None = None, sort: bool = False) -> Figure:
    """Horizontal bars with intervals, e.g. P(harm) under each mitigation with its 5-95% band.

    Parameters
    ----------
    rows
        ``(label, value, low, high)`` per bar; ``low``/``high`` may be None (no interval).
    baseline
        A reference value drawn as a vertical line (e.g. P(harm) with no mitigation).
    groups
        A group name per row (e.g. the mitigation layer): bars are coloured by group, with a
        legend.
    sort
        Order bars by value (lowest first) instead of as given.
    """
    if groups is not None and len(groups) != len(rows):
        raise InvalidArgumentError(f"interval_bars: {len(groups)} groups for {len(rows)} rows; "
                                   "give one group per row")
    items = []
    for row in rows:
        if len(row) != 4:
            raise InvalidArgumentError("interval_bars: each row is (label, value, low, high), "
                                       f"got {row!r}")
        label, value, lo, hi = row
        v = float(_finite([value], f"bar {label!r}")[0])
        if (lo is None) != (hi is None):
            raise InvalidArgumentError(f"bar {label!r}: give both low and high, or neither")
        if lo is not None:
            lo_v, hi_v = _finite([lo, hi], f"bar {label!r} interval")
            if not lo_v <= hi_v:
                raise InvalidArgumentError(f"bar {label!r}: interval [{lo_v}, {hi_v}] is "
                                           "reversed; give (low, high)")
            items.append((str(label), v, float(lo_v), float(hi_v)))
        else:
            items.append((str(label), v, None, None))
    if not items:
        raise InvalidArgumentError("interval_bars: no rows to plot")
    names = [str(g) for g in groups] if groups is not None else [""] * len(items)
    if sort:
        order = sorted(range(len(items)), key=lambda i: items[i][1])
        items, names = [items[i] for i in order], [names[i] for i in order]
    palette: dict[str, str] = {}
    for g in names:
        if g not in palette:
            palette[g] = _GROUP_COLOURS.get(g, _CYCLE[len(palette) % len(_CYCLE)])
    with _styled():
        fig = _figure(7.2, 1.0 + 0.34 * len(items))
        ax = fig.add_subplot()
        y = np.arange(len(items))[::-1]
        values = np.array([r[1] for r in items])
        ax.barh(y, values, color=[palette[g] for g in names], height=0.62, edgecolor="#555555",
                linewidth=0.5)
        for yi, (_label, v, lo, hi) in zip(y, items, strict=True):
            if lo is not None:
                ax.errorbar(v, yi, xerr=[[v - lo], [hi - v]], fmt="none", ecolor="#222222",
                            elinewidth=1, capsize=3)
            text = _pct(v) + (f" [{_pct(lo)}, {_pct(hi)}]" if lo is not None else "")
            right = max(v, hi if hi is not None else v)
            # an offset in points, not leading spaces: SVG text collapses whitespace
            ax.annotate(text, (right, yi), xytext=(4, 0), textcoords="offset points",
                        va="center", ha="left", fontsize=8)
        top = max([r[1] for r in items] + [r[3] for r in items if r[3] is not None]
                  + ([baseline] if baseline is not None else []))
        handles = []
        if groups is not None:
            from matplotlib.patches import Patch

            handles = [Patch(facecolor=c, edgecolor="#555555", label=g)
                       for g, c in palette.items()]
        if baseline is not None:
            handles.append(ax.axvline(float(baseline), color=_HIGH, lw=1.2, ls="--",
                                      label=f"{baseline_label}: {_pct(float(baseline))}"))
        if handles:
            fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5),
                       fontsize=8, frameon=False)
        ax.set_yticks(y, [r[0] for r in items])
        ax.set_xlim(0, top * 1.45 if top > 0 else 1)
        if top <= 1:  # room for the labels, but no tick beyond 100%
            ax.set_xticks([t for t in ax.get_xticks() if 0 <= t <= 1 + 1e-9])
        _percent_axis(ax.xaxis)
        ax.set_xlabel(xlabel)
        _title(fig, title)
    return fig


# ============================================================================ heatmap
def heatmap(values: Sequence[Sequence[float]] | np.ndarray, row_labels: Sequence[str],
            column_labels: Sequence[str], *, title: str = "P(harm)", row_title: str = "",
            column_title: str = "", colorbar_label: str = "P(harm)") -> Figure:
    """A grid of probabilities with each cell's value written in it."""
    grid = np.asarray(values, dtype=float)
    if grid.ndim != 2 or grid.shape != (len(row_labels), len(column_labels)):
        raise InvalidArgumentError(
            f"heatmap: values have shape {grid.shape}, expected ({len(row_labels)}, "
            f"{len(column_labels)}) for {len(row_labels)} rows and {len(column_labels)} columns")
    _finite(grid, "heatmap values")
    with _styled():
        fig = _figure(1.8 + 1.15 * len(column_labels), 1.2 + 0.5 * len(row_labels))
        ax = fig.add_subplot()
        vmax = max(float(grid.max()), 1e-9)
        image = ax.imshow(grid, cmap="Reds", vmin=0.0, vmax=vmax, aspect="auto")
        for (i, j), v in np.ndenumerate(grid):
            ax.text(j, i, _pct(v), ha="center", va="center", fontsize=9,
                    color="white" if v > 0.6 * vmax else "#222222")
        ax.set_xticks(range(len(column_labels)), [str(c) for c in column_labels])
        ax.set_yticks(range(len(row_labels)), [str(r) for r in row_labels])
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xlabel(column_title)
        ax.set_ylabel(row_title)
        _title(fig, title)
        bar = fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
        _percent_axis(bar.ax.yaxis)
        bar.set_label(colorbar_label)
    return fig


def probability_grid(network: Network, rows: str, columns: str, *, target: str = "harm",
                     state: str = "yes", context: Mapping[str, str] | None = None,
                     evidence: Mapping[str, str] | None = None,
                     ) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """P(target=state | evidence, do(rows=r, columns=c, context)) for every pair of states.

    ``context`` defaults to the network's neutral context (the other settings held at their
    reference levels). Returns the grid and the row and column states.

    >>> import gmnet
    >>> grid, r, c = probability_grid(gmnet.load_network(), "shift_type", "spec_quality")
    >>> round(float(grid[r.index("extreme"), c.index("medium")]), 3)
    0.277
    """
    from gmnet.analysis.whatif import neutral_context

    for name in (rows, columns, target):
        network.node(name)
    if rows == columns:
        raise InvalidArgumentError(f"rows and columns are both {rows!r}; choose two variables")
    network.check_state(target, state)
    ctx = dict(neutral_context(network) if context is None else context)
    row_states, col_states = network.states(rows), network.states(columns)
    grid = np.zeros((len(row_states), len(col_states)))
    ev = {k: v for k, v in (evidence or {}).items() if k not in (rows, columns)}
    for i, r in enumerate(row_states):
        for j, c in enumerate(col_states):
            do = {k: v for k, v in ctx.items() if k not in ev}
            do.update({rows: r, columns: c})
            grid[i, j] = network.query(target, evidence=ev, do=do)[state]
    return grid, row_states, col_states
