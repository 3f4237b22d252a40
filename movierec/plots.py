"""Figures too long to draw on a page: each function takes data and returns a matplotlib Figure
(fixed size and dpi). The chapters draw their other figures with matplotlib themselves.

Text is sized for the page: a 5.3-inch figure at 110 dpi is about 580 px wide, so its 10-point
labels keep 9 px or more on a phone's screen; legends sit outside the axes, so they never cover
a curve, and neighbouring settings differ in colour, marker and line style. Book page: "Does it
recommend well?".
"""

from __future__ import annotations

from itertools import cycle

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

FIGSIZE = (5.3, 3.6)
DPI = 110
DIVERGED_MARKER = "X"
TEXT = {"tick": 10, "legend": 10, "label": 11, "title": 12}
#: Colour-blind-safe qualitative colours (Okabe-Ito), then markers and dashes, so that
#: neighbouring runs differ in three ways at once.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "*", "h")
DASHES = ("-", "--", "-.", ":")


def _style(axes: matplotlib.axes.Axes) -> None:
    axes.tick_params(labelsize=TEXT["tick"])
    axes.xaxis.label.set_size(TEXT["label"])
    axes.yaxis.label.set_size(TEXT["label"])
    axes.title.set_size(TEXT["title"])


def _legend_outside(figure: Figure, axes: matplotlib.axes.Axes, title: str | None = None) -> None:
    axes.legend(
        loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=TEXT["legend"], title=title, frameon=False
    )


def tuning_curves(table: pd.DataFrame, metric: str = "val NDCG@10") -> Figure:
    """Validation ``metric`` against learning rate (log axis): one line per optimizer and size d.

    ``table`` is :func:`movierec.judging.evaluate.tuning_table`'s. The y axis spans the finished
    runs only; runs that diverged (NaN) are marked with an X in a strip below, at their
    learning rate, so they cannot squash the range that matters. Book page: "Does it
    recommend well?".
    """
    figure = Figure(figsize=(FIGSIZE[0], FIGSIZE[1] + 0.6), dpi=DPI, layout="constrained")
    axes, strip = figure.subplots(2, 1, sharex=True, height_ratios=[6, 1])
    _style(axes)
    _style(strip)
    groups = list(table.groupby(["optimizer", "dim"], sort=False))
    optimizers = list(dict.fromkeys(table["optimizer"]))
    dims = sorted(
        {dim for (_, dim), _ in groups}, key=lambda dim: (dim == "full", 0 if dim == "full" else dim)
    )
    colors = dict(zip(optimizers, cycle(COLORS), strict=False))
    markers = dict(zip(dims, cycle(MARKERS), strict=False))
    dashes = dict(zip(dims, cycle(DASHES), strict=False))
    failed_rows = []
    for (optimizer, dim), rows in groups:
        rows = rows.sort_values("lr")
        finished = rows[rows[metric].notna()]
        axes.plot(
            finished["lr"],
            finished[metric],
            color=colors[optimizer],
            marker=markers[dim],
            linestyle=dashes[dim],
            linewidth=1.6,
            markersize=7,
            label=f"{optimizer}, d = {dim}",
        )
        for lr in rows.loc[rows[metric].isna(), "lr"]:
            failed_rows.append((optimizer, lr))
    for position, optimizer in enumerate(optimizers):
        rates = [lr for name, lr in failed_rows if name == optimizer]
        strip.plot(
            rates,
            [position] * len(rates),
            DIVERGED_MARKER,
            color=colors[optimizer],
            markersize=11,
            linestyle="none",
        )
    strip.set_yticks(range(len(optimizers)), optimizers)
    strip.set_ylim(-0.7, len(optimizers) - 0.3)
    strip.set_ylabel("diverged", fontsize=TEXT["label"])
    strip.grid(True, axis="x", alpha=0.3)
    axes.set_xscale("log")
    strip.set_xlabel("learning rate (log scale)")
    axes.set_ylabel(f"validation {metric.removeprefix('val ')}")
    axes.set_title("Learning-rate tuning on held-out likes")
    axes.grid(True, which="major", alpha=0.3)
    _legend_outside(figure, axes)
    return figure
