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

from gmnet.errors import InvalidArgumentError, UnknownNameError
from gmnet.viz.layout import fit_texts, new_figure, percent_ticks, set_title, styled

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


# ============================================================================ helpers
_figure = new_figure
_styled = styled
_title = set_title


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
        from gmnet.viz.file_formats import check_format_matches

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
            high_label: str = "number at its high end", max_bars: int = 15,
            caption: str | None = None) -> Figure:
    """A tornado chart: the output when each number moves to the low and high end of its range.

    Parameters
    ----------
    bars
        ``(label, output at the low end, output at the high end)`` per number; drawn widest
        swing first, at most ``max_bars`` of them. Long labels wrap onto two lines.
    baseline
        The output with every number at its point value (the vertical line).
    caption
        A line under the figure saying what it assumed (see
        :func:`gmnet.viz.labels.figure_caption`).

    Each value is written beyond the end of its bar, in its bar's colour; when both ends lie on
    one side of the baseline the nearer value comes first. The axis is widened until every bar
    and label lies inside it.
    """
    from gmnet.viz.labels import wrap_label

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
    labels = [wrap_label(r[0]) for r in rows]
    row_height = _row_height(labels)
    with _styled():
        fig = _figure(7.6, 1.3 + row_height * len(rows), caption)
        ax = fig.add_subplot()
        y = np.arange(len(rows))[::-1]
        everything = [base] + [v for r in rows for v in r[1:]]
        span = max(max(everything) - min(everything), 1e-9)
        texts = []
        for yi, (_label, lo, hi) in zip(y, rows, strict=True):
            # the longer bar first, so the shorter one stays visible on top of it
            for v, colour in sorted(((lo, _LOW), (hi, _HIGH)), key=lambda t: -abs(t[0] - base)):
                ax.barh(yi, v - base, left=base, color=colour, height=0.62)
            texts += _end_labels(ax, yi, base, [(lo, _LOW), (hi, _HIGH)], 1e-6 * span)
        ax.axvline(base, color=_NEUTRAL, lw=1)
        ax.set_yticks(y, labels, fontsize=8.5)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlabel(f"{xlabel}\n(line: all numbers at their point values, {_pct(base)})")
        _title(fig, title)
        from matplotlib.patches import Patch

        fig.legend(handles=[Patch(color=_LOW, label=low_label),
                            Patch(color=_HIGH, label=high_label)],
                   loc="outside lower center", ncols=2, fontsize=8, frameon=False)
        fit_texts(fig, ax, texts, low=min(everything), high=max(everything))
        percent_ticks(ax)
    return fig.figure


def _row_height(labels: Sequence[str]) -> float:
    """Inches per bar: room for the tallest (wrapped) label."""
    return (0.34, 0.42, 0.54)[min(max(t.count("\n") for t in labels), 2)]


def _end_labels(ax, yi: float, base: float, ends, tie: float) -> list:
    """Each end's value beyond the end of the bars on its side, nearer value first; an end at
    the baseline goes on the side with no bar."""
    right = sorted([e for e in ends if e[0] > base + tie], key=lambda e: e[0])
    left = sorted([e for e in ends if e[0] < base - tie], key=lambda e: -e[0])
    for e in ends:
        if base - tie <= e[0] <= base + tie:
            (left if right and not left else right).insert(0, e)
    texts = []
    for side, group in ((1, right), (-1, left)):
        if not group:
            continue
        edge = max([base] + [v for v, _ in group]) if side > 0 else min(
            [base] + [v for v, _ in group])
        xy, coords = (edge, yi), "data"
        for value, colour in group:
            text = ax.annotate(_pct(value), xy=xy, xycoords=coords,
                               xytext=(4 * side, 0), textcoords="offset points",
                               va="center", ha="left" if side > 0 else "right", fontsize=8,
                               color=colour, fontweight="bold", annotation_clip=False)
            texts.append(text)
            # the next label starts where this one ends
            xy, coords = ((1, 0.5) if side > 0 else (0, 0.5)), text
    return texts


# ============================================================================ uncertainty
def uncertainty_distribution(samples: Sequence[float] | np.ndarray, *, point: float | None = None,
                             band: tuple[float, float] = (0.05, 0.95),
                             title: str = "Uncertainty", xlabel: str = "P(harm)",
                             bins: int = 40, caption: str | None = None) -> Figure:
    """Histogram and CDF of an output over parameter draws, with the ``band`` quantiles shaded.

    Parameters
    ----------
    samples
        The output in every draw (e.g. P(harm) per draw).
    point
        The output at the point values (drawn as a dashed line), if known.
    band
        The quantiles to shade, by default the 5-95% band.
    caption
        A line under the figure saying what it assumed.
    """
    values = _finite(samples, "uncertainty samples")
    q_lo, q_hi = band
    if not 0.0 <= q_lo < q_hi <= 1.0:
        raise InvalidArgumentError(f"band must be two quantiles 0 <= low < high <= 1, got {band}")
    lo, med, hi = np.quantile(values, [q_lo, 0.5, q_hi])
    band_label = f"{q_lo:.0%}-{q_hi:.0%} band: {_pct(lo)} to {_pct(hi)}"
    with _styled():
        fig = _figure(7.2, 3.3, caption)
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
    return fig.figure


# ============================================================================ interval bars
_GROUP_COLOURS = {"prevention": "#8fcf8f", "detection": "#8fb4df", "response": "#f2b880",
                  "all": "#b9b9b9", "Critical Unknown": "#e6a04e", "ranged number": "#8fb4df"}
_CYCLE = ("#8fcf8f", "#8fb4df", "#f2b880", "#c9a0dc", "#b9b9b9", "#e6d37a")


def interval_bars(rows: Sequence[tuple[str, float, float | None, float | None]], *,
                  baseline: float | None = None, title: str = "Mitigations compared",
                  xlabel: str = "P(harm)", baseline_label: str = "no mitigation",
                  groups: Sequence[str] | None = None, sort: bool = False,
                  caption: str | None = None, percent: bool = True,
                  interval_label: str = "90% interval") -> Figure:
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
    caption
        A line under the figure saying what it assumed.
    percent
        Values are probabilities (percent labels); ``False`` for other shares (two decimals).
    interval_label
        What the intervals are, for the heading of the value column.

    The values are written in a column right of the plot, one per bar, so no label meets a
    whisker or the reference line.
    """
    from gmnet.viz.labels import wrap_label

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
    fmt = _pct if percent else (lambda x: f"{x:.2f}")
    labels = [wrap_label(r[0], 40) for r in items]
    row_height = _row_height(labels)
    with _styled():
        fig = _figure(7.6, 1.2 + row_height * len(items), caption)
        ax = fig.add_subplot()
        y = np.arange(len(items))[::-1]
        values = np.array([r[1] for r in items])
        ax.barh(y, values, color=[palette[g] for g in names], height=0.62, edgecolor="#555555",
                linewidth=0.5)
        any_interval = False
        for yi, (_label, v, lo, hi) in zip(y, items, strict=True):
            if lo is not None:
                any_interval = True
                # the whisker spans the interval itself: the point value can lie outside the
                # central 90% of skewed draws (a negative error bar is matplotlib's ValueError)
                ax.errorbar((lo + hi) / 2, yi, xerr=(hi - lo) / 2, fmt="none",
                            ecolor="#222222", elinewidth=1, capsize=3)
            text = fmt(v) + (f" [{fmt(lo)}, {fmt(hi)}]" if lo is not None else "")
            # a column right of the axes: x in axes units, y in data units
            ax.annotate(text, (1.0, yi), xycoords=("axes fraction", "data"), xytext=(6, 0),
                        textcoords="offset points", va="center", ha="left", fontsize=8,
                        annotation_clip=False)
        ax.annotate(f"value [{interval_label}]" if any_interval else "value", (1.0, 1.0),
                    xycoords="axes fraction", xytext=(6, 2), textcoords="offset points",
                    va="bottom", ha="left", fontsize=7.5, color="#555555",
                    annotation_clip=False)
        top = max([r[1] for r in items] + [r[3] for r in items if r[3] is not None]
                  + ([baseline] if baseline is not None else []))
        handles = []
        if groups is not None:
            from matplotlib.patches import Patch

            handles = [Patch(facecolor=c, edgecolor="#555555", label=g)
                       for g, c in palette.items()]
        if baseline is not None:
            handles.append(ax.axvline(float(baseline), color=_HIGH, lw=1.2, ls="--",
                                      label=f"{baseline_label}: {fmt(float(baseline))}"))
        if handles:
            fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5),
                       fontsize=8, frameon=False)
        ax.set_yticks(y, labels, fontsize=8.5)
        ax.set_ylim(-0.6, len(items) - 0.4)
        ax.set_xlim(0, top * 1.06 if top > 0 else 1)
        if percent:
            percent_ticks(ax, clip=top <= 1)
        ax.set_xlabel(xlabel)
        _title(fig, title)
    return fig.figure


# ============================================================================ heatmap
def heatmap(values: Sequence[Sequence[float]] | np.ndarray, row_labels: Sequence[str],
            column_labels: Sequence[str], *, title: str = "P(harm)", row_title: str = "",
            column_title: str = "", colorbar_label: str = "P(harm)",
            notes: Sequence[Sequence[str]] | None = None, caption: str | None = None,
            notes_label: str | None = None) -> Figure:
    """A grid of probabilities with each cell's value written in it.

    ``notes``, one short text per cell (e.g. the document's range for that cell, or an
    interval), is written under the value; ``notes_label`` says what they are (under the
    figure, before ``caption``).
    """
    grid = np.asarray(values, dtype=float)
    if grid.ndim != 2 or grid.shape != (len(row_labels), len(column_labels)):
        raise InvalidArgumentError(
            f"heatmap: values have shape {grid.shape}, expected ({len(row_labels)}, "
            f"{len(column_labels)}) for {len(row_labels)} rows and {len(column_labels)} columns")
    _finite(grid, "heatmap values")
    if notes is not None and (len(notes) != grid.shape[0]
                              or any(len(r) != grid.shape[1] for r in notes)):
        raise InvalidArgumentError(f"heatmap: notes must have the values' shape {grid.shape}")
    cell_h = 0.5 if notes is None else 0.66
    text = " ".join(t for t in ((notes_label or "").strip(), (caption or "").strip()) if t)
    with _styled():
        fig = _figure(2.2 + 1.2 * len(column_labels), 1.3 + cell_h * len(row_labels),
                      text or None)
        ax = fig.add_subplot()
        vmax = max(float(grid.max()), 1e-9)
        image = ax.imshow(grid, cmap="Reds", vmin=0.0, vmax=vmax, aspect="auto")
        for (i, j), v in np.ndenumerate(grid):
            colour = "white" if v > 0.6 * vmax else "#222222"
            note = notes[i][j] if notes is not None else ""
            ax.text(j, i - (0.13 if note else 0.0), _pct(v), ha="center", va="center",
                    fontsize=9, fontweight="bold" if note else "normal", color=colour)
            if note:
                ax.text(j, i + 0.2, note, ha="center", va="center", fontsize=7, color=colour)
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
    return fig.figure


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
    for axis, name in (("rows", rows), ("columns", columns)):
        if name == target:
            raise InvalidArgumentError(
                f"{axis} {name!r} is the target: setting {name} by do() fixes the answer "
                f"P({target}={state}) to 0 or 1; choose {axis} among the nodes that act on it")
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
