"""Figures of analysis results: the uncertainty result's histogram and CDF, the sensitivity
result's tornado, each with a caption saying what the result assumed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gmnet.errors import InvalidArgumentError

if TYPE_CHECKING:
    from gmnet.model.network import Network

__all__ = ["result_caption", "tornado_figure", "uncertainty_figure"]


def uncertainty_figure(result, *, title: str | None = None, bins: int = 40,
                       network: Network | None = None, caption: str | None = None):
    """Histogram and CDF of an uncertainty result's draws, with its 5-95% band and point value.

    ``result`` is a :class:`gmnet.analysis.uncertainty.UncertaintyResult`; save the figure with
    :func:`gmnet.viz.plots.save_figure`. ``caption`` (default: built by
    :func:`gmnet.viz.labels.figure_caption` from the result's question and ``network``'s
    scenarios and worldview) is written under the figure.
    """
    from gmnet.viz.plots import uncertainty_distribution

    if caption is None:
        caption = result_caption(result, network,
                                 note=f"{result.samples:,} draws, seed {result.seed}")
    return uncertainty_distribution(
        result.draws, point=result.point, bins=bins,
        xlabel=f"P({result.target}={result.state})", caption=caption,
        title=title or f"{result.query}: {result.samples:,} draws of the uncertain numbers")


def result_caption(result, network: Network | None = None, *, note: str | None = None) -> str:
    """The caption of a figure of an uncertainty or sensitivity ``result``: its evidence and
    do(), and ``network``'s scenarios and worldview."""
    from gmnet.viz.labels import figure_caption

    return figure_caption(network, evidence=result.evidence, do=result.do, note=note)


def tornado_figure(result, *, title: str | None = None, top: int = 15,
                   network: Network | None = None, caption: str | None = None):
    """The one-way tornado of a sensitivity result: each input that moves the answer, at the
    low and the high end of its range (at most ``top`` bars, widest swing first).

    With ``network`` (the one the result was computed on), the bars are named by the numbers'
    own descriptions ("Specification-quality multiplier on goal failure: low") instead of
    their names (``m_spec.low``), and the caption names its scenarios and worldview.
    """
    from gmnet.viz.labels import parameter_label
    from gmnet.viz.plots import tornado

    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise InvalidArgumentError(f"top must be an integer of at least 1, got {top!r}")
    moving = [r for r in result.rows if r.reaches_target and r.swing > 1e-9]
    if not moving:
        raise InvalidArgumentError(f"{result.query} does not depend on any uncertain number: "
                                   "there is nothing to draw")
    bars = [(parameter_label(network, r.name, r.label), r.output_low, r.output_high)
            for r in moving]
    if caption is None:
        caption = result_caption(result, network)
    return tornado(bars, baseline=result.point, xlabel=f"P({result.target}={result.state})",
                   max_bars=top, caption=caption,
                   title=title or f"Sensitivity of {result.query}, one number at a time")
