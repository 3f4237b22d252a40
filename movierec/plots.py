"""Figures: each function takes data and returns a matplotlib Figure (fixed size and dpi).

Book pages: "The data", "The model", "The optimizer study", "Recommendations".
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .data import Likes
from .train import TrainResult

FIGSIZE = (7.0, 4.2)
DPI = 110
DIVERGED_MARKER = "X"


def new_figure(figsize: tuple[float, float] = FIGSIZE) -> tuple[Figure, matplotlib.axes.Axes]:
    """A figure and axes at the book's size and dpi, detached from pyplot's state."""
    figure = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    return figure, figure.subplots()


def likes_per_movie(likes: Likes) -> Figure:
    """Histogram of likes per movie on log-spaced bins (movies with no like counted apart)."""
    counts = likes.like_counts
    liked = counts[counts > 0]
    figure, axes = new_figure()
    bins = np.unique(np.logspace(0, math.log10(liked.max() + 1), 30).astype(int))
    axes.hist(liked, bins=bins, color="#3b6ea8", edgecolor="white")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("likes per movie (users rating it >= 4)")
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
    colors = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, len(results)))
    for result, color in zip(results, colors, strict=True):
        epochs = result.history["epoch"].to_numpy()
        cost = result.history["cost"].to_numpy(dtype=float)
        shown = np.where(np.isfinite(cost), np.minimum(cost, ceiling), np.nan)
        label = f"lr = {result.config.lr:g}"
        if result.diverged_epoch is not None:
            label += f" (diverged at epoch {result.diverged_epoch})"
            shown[-1] = ceiling if not np.isfinite(cost[-1]) or cost[-1] > ceiling else cost[-1]
        axes.plot(epochs, shown, color=color, label=label, linewidth=1.8)
        if result.diverged_epoch is not None:
            axes.plot(
                epochs[-1], shown[-1], DIVERGED_MARKER, color=color, markersize=11, markeredgecolor="black"
            )
    if optimum is not None:
        axes.axhline(
            optimum, color="black", linestyle="--", linewidth=1, label=f"best cost at this d ({optimum:,.0f})"
        )
    axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("cost c(V) (log scale)")
    axes.set_title(title)
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(fontsize=8, loc="best")
    return figure


def overlap_heatmap(overlap: pd.DataFrame, title: str = "Overlap of top-N lists (Jaccard)") -> Figure:
    """A labelled heatmap of a square run x run overlap table with values in [0, 1]."""
    size = max(4.5, 0.55 * len(overlap) + 2.5)
    figure, axes = new_figure((size + 1.2, size))
    image = axes.imshow(overlap.to_numpy(dtype=float), vmin=0, vmax=1, cmap="Blues")
    axes.set_xticks(range(len(overlap.columns)), overlap.columns, rotation=45, ha="right", fontsize=8)
    axes.set_yticks(range(len(overlap.index)), overlap.index, fontsize=8)
    for (row, column), value in np.ndenumerate(overlap.to_numpy(dtype=float)):
        axes.text(
            column,
            row,
            f"{value:.2f}",
            ha="center",
            va="center",
            fontsize=7,
            color="white" if value > 0.6 else "black",
        )
    axes.set_xlabel("run")
    axes.set_ylabel("run")
    axes.set_title(title)
    figure.colorbar(image, ax=axes, label="Jaccard overlap")
    return figure


def tuning_curves(table: pd.DataFrame, metric: str = "val NDCG@10") -> Figure:
    """Validation ``metric`` against learning rate (log axis): one line per optimizer and size d.

    ``table`` is :func:`movierec.evaluate.tuning_table`'s; diverged runs (NaN) are drawn as
    an X on the x axis. Book page: "Evaluation and tuning".
    """
    figure, axes = new_figure()
    styles = {"adam": ("#3b6ea8", "o"), "sgd": ("#c0504d", "s")}
    dims = sorted(table["dim"].unique(), key=lambda dim: (dim == "full", dim if dim != "full" else 0))
    widths = dict(zip(dims, np.linspace(0.8, 2.6, len(dims)), strict=True))
    for (optimizer, dim), rows in table.groupby(["optimizer", "dim"], sort=False):
        color, marker = styles.get(optimizer, ("#555555", "^"))
        rows = rows.sort_values("lr")
        axes.plot(
            rows["lr"],
            rows[metric],
            marker=marker,
            color=color,
            linewidth=widths[dim],
            alpha=0.45 + 0.5 * (widths[dim] - 0.8) / 1.8,
            label=f"{optimizer}, d = {dim}",
        )
        failed = rows[rows[metric].isna()]
        axes.plot(failed["lr"], np.zeros(len(failed)), DIVERGED_MARKER, color=color, markersize=9)
    axes.set_xscale("log")
    axes.set_xlabel("learning rate (log scale)")
    axes.set_ylabel(f"validation {metric.removeprefix('val ')}")
    axes.set_title("Learning-rate tuning on held-out likes (X at 0: diverged)")
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(fontsize=7, ncol=2, loc="best")
    return figure
