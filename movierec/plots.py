"""Figures: each function takes data and returns a matplotlib Figure (fixed size and dpi).

Text is sized for the page: a 7-inch figure at 110 dpi shows about 650 px wide in the book,
so 10-point legend and tick labels stay above 10 px on screen. Legends sit outside the axes,
so they never cover a curve or the best-cost line, and neighbouring learning rates differ
in colour, marker and line style. Book pages: "The data", "The model", "The optimizer
study", "Recommendations", "Reproducing the course notebook", "Does it recommend well?".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import cycle

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .data import Likes
from .model.train import TrainResult
from .numbers import format_lr

FIGSIZE = (7.0, 4.2)
DPI = 110
DIVERGED_MARKER = "X"
TEXT = {"tick": 10, "legend": 10, "label": 11, "title": 12}
#: Colour-blind-safe qualitative colours (Okabe-Ito), then markers and dashes, so that
#: neighbouring runs differ in three ways at once.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "*", "h")
DASHES = ("-", "--", "-.", ":")


def new_figure(figsize: tuple[float, float] = FIGSIZE) -> tuple[Figure, matplotlib.axes.Axes]:
    """A figure and axes at the book's size and dpi, detached from pyplot's state."""
    figure = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    axes = figure.subplots()
    _style(axes)
    return figure, axes


def _style(axes: matplotlib.axes.Axes) -> None:
    axes.tick_params(labelsize=TEXT["tick"])
    axes.xaxis.label.set_size(TEXT["label"])
    axes.yaxis.label.set_size(TEXT["label"])
    axes.title.set_size(TEXT["title"])


def run_styles(count: int) -> list[dict]:
    """Line styles for ``count`` runs: colour, marker and dash all change from one run to the next."""
    return [
        {
            "color": COLORS[k % len(COLORS)],
            "marker": MARKERS[k % len(MARKERS)],
            "linestyle": DASHES[k % len(DASHES)],
        }
        for k in range(count)
    ]


def _legend_outside(figure: Figure, axes: matplotlib.axes.Axes, title: str | None = None) -> None:
    axes.legend(
        loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=TEXT["legend"], title=title, frameon=False
    )


def likes_per_movie(likes: Likes) -> Figure:
    """Histogram of likes per movie on log-spaced bins (movies with no like counted apart)."""
    counts = likes.like_counts
    liked = counts[counts > 0]
    figure, axes = new_figure()
    bins = np.unique(np.logspace(0, math.log10(liked.max() + 1), 30).astype(int))
    axes.hist(liked, bins=bins, color=COLORS[0], edgecolor="white")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("likes per movie (users rating it 4 or more)")
    axes.set_ylabel("number of movies")
    axes.set_title(f"{len(liked):,} movies liked at least once; {int((counts == 0).sum()):,} never liked")
    return figure


def cost_curves(results: Sequence[TrainResult], title: str, optimum: float | None = None) -> Figure:
    """Cost per epoch on a log scale, one line per run, an X where a run diverged.

    Costs above 20x the largest initial cost are drawn at that ceiling so that runs that
    blew up do not flatten the others; the legend gives the epoch of divergence.
    """
    figure, axes = new_figure()
    starts = [float(r.history["cost"].iloc[0]) for r in results]
    finite_starts = [start for start in starts if math.isfinite(start)]
    ceiling = 20 * max(finite_starts) if finite_starts else 1e30
    for result, style in zip(results, run_styles(len(results)), strict=True):
        epochs = result.history["epoch"].to_numpy()
        cost = result.history["cost"].to_numpy(dtype=float)
        shown = np.where(np.isfinite(cost), np.minimum(cost, ceiling), np.nan)
        label = f"lr {format_lr(result.config.lr)}"
        if result.diverged_epoch is not None:
            label += f", diverged at {result.diverged_epoch}"
            shown[-1] = ceiling if not np.isfinite(cost[-1]) or cost[-1] > ceiling else cost[-1]
        axes.plot(
            epochs,
            shown,
            label=label,
            linewidth=1.8,
            markevery=max(1, len(epochs) // 8),
            markersize=6,
            **style,
        )
        if result.diverged_epoch is not None:
            axes.plot(
                epochs[-1],
                shown[-1],
                DIVERGED_MARKER,
                color=style["color"],
                markersize=12,
                markeredgecolor="black",
            )
    if optimum is not None:
        axes.axhline(
            optimum,
            color="black",
            linestyle=(0, (4, 3)),
            linewidth=1.2,
            label=f"best cost at this d\n({optimum:,.0f})",
        )
    axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("cost c(V) (log scale)")
    axes.set_title(title)
    axes.grid(True, which="major", alpha=0.3)
    _legend_outside(figure, axes)
    return figure


def overlap_heatmap(overlap: pd.DataFrame, title: str = "Overlap of top-N lists (Jaccard)") -> Figure:
    """A labelled heatmap of a square run x run overlap table with values in [0, 1]."""
    size = max(4.5, 0.6 * len(overlap) + 2.8)
    figure, axes = new_figure((size + 1.4, size))
    image = axes.imshow(overlap.to_numpy(dtype=float), vmin=0, vmax=1, cmap="Blues")
    axes.set_xticks(range(len(overlap.columns)), overlap.columns, rotation=45, ha="right")
    axes.set_yticks(range(len(overlap.index)), overlap.index)
    for (row, column), value in np.ndenumerate(overlap.to_numpy(dtype=float)):
        color = "white" if value > 0.6 else "black"
        axes.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=TEXT["tick"], color=color)
    axes.set_xlabel("run")
    axes.set_ylabel("run")
    axes.set_title(title)
    bar = figure.colorbar(image, ax=axes, label="Jaccard overlap")
    bar.ax.tick_params(labelsize=TEXT["tick"])
    bar.ax.yaxis.label.set_size(TEXT["label"])
    return figure


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


def course_trajectory(printed: Mapping[int, float], runs: Sequence[TrainResult], title: str) -> Figure:
    """The costs the course notebook printed (every 10 epochs) beside the curves of ``runs``
    (this build's runs of the same setting, however many epochs they have): log scale.

    Book page: "Reproducing the course notebook".
    """
    figure, axes = new_figure()
    epochs = sorted(printed)
    axes.plot(
        epochs,
        [printed[e] for e in epochs],
        "o",
        color="black",
        markersize=8,
        markerfacecolor="white",
        label="printed by the course notebook",
    )
    for result, style in zip(runs, run_styles(len(runs)), strict=True):
        history = result.history
        axes.plot(
            history["epoch"],
            history["cost"],
            linewidth=1.8,
            label=f"this build: {len(history) - 1} epoch(s)",
            **{**style, "marker": None},
        )
        axes.plot(history["epoch"].iloc[0], history["cost"].iloc[0], "+", color=style["color"], markersize=14)
    axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("cost c(V) (log scale)")
    axes.set_title(title)
    axes.grid(True, which="major", alpha=0.3)
    _legend_outside(figure, axes)
    return figure
