"""Comparing recommendation lists, the course notebook's own numbers, and the figures built from runs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from conftest import random_likes
from movierec.book.course import COURSE_ADAM_COSTS, against_printed, course_adam_config, course_sweep_configs
from movierec.judging.lists import jaccard_overlap, list_changes, mean_overlap, side_by_side
from movierec.model.train import train
from movierec.plots import cost_curves, likes_per_movie, overlap_heatmap


def lists_of(**titles: list[str]) -> dict[str, pd.DataFrame]:
    return {
        label: pd.DataFrame({"movieId": [hash(t) for t in names], "title": names})
        for label, names in titles.items()
    }


def test_side_by_side_pads_shorter_lists():
    table = side_by_side(lists_of(a=["X", "Y", "Z"], b=["Y", "X"]))
    assert table.index.tolist() == [1, 2, 3] and table["b"].tolist() == ["Y", "X", ""]


def test_jaccard_overlap_by_hand():
    overlap = jaccard_overlap(lists_of(a=["X", "Y", "Z"], b=["Y", "Z", "W"], c=["V"]))
    assert overlap.loc["a", "b"] == pytest.approx(2 / 4)
    assert overlap.loc["a", "c"] == 0.0 and overlap.loc["c", "c"] == 1.0
    assert (overlap.to_numpy() == overlap.to_numpy().T).all()


def test_list_changes_names_entries_exits_and_cost_ratio():
    lists = lists_of(best=["X", "Y", "Z"], other=["Y", "W", "X"])
    changes = list_changes(lists, "best", {"best": 2.0, "other": 5.0})
    row = changes.iloc[0]
    assert (row["run"], row["kept"], row["enter"], row["leave"]) == ("other", 2, "W", "Z")
    assert row["cost / reference cost"] == 2.5
    assert list(list_changes(lists, "best").columns) == ["run", "kept", "enter", "leave"]
    with pytest.raises(KeyError, match="reference run 'nope'"):
        list_changes(lists, "nope")


def test_mean_overlap_leaves_out_the_diagonal():
    overlap = jaccard_overlap(lists_of(a=["X", "Y"], b=["Y", "Z"], c=["X", "Y"]))
    assert mean_overlap(overlap) == pytest.approx((1 / 3 + 1 + 1 / 3) * 2 / 6)
    assert math.isnan(mean_overlap(jaccard_overlap(lists_of(a=["X"]))))


def test_course_sweep_follows_the_course_order_and_draws():
    configs = course_sweep_configs(100)
    assert [(c.lr, c.optimizer, c.init_draw) for c in configs] == [
        (0.001, "adam", 2),
        (0.001, "sgd", 3),
        (0.01, "adam", 4),
        (0.01, "sgd", 5),
        (0.1, "adam", 6),
        (0.1, "sgd", 7),
    ]
    assert all(c.dim == "full" and c.momentum in (None, 0.9) for c in configs)
    assert course_adam_config(3).lr == 0.5 and course_adam_config(3).epochs == 3


def test_against_printed_marks_missing_epochs():
    result = train(random_likes(10, 8, 0.4, seed=0), epochs=12, dim=2)
    table = against_printed(result, {0: 100.0, 10: 50.0, 20: 1.0})
    assert table["epoch"].tolist() == [0, 10, 20]
    assert table["this run"].iloc[0] == result.history["cost"].iloc[0]
    assert table["relative difference"].iloc[1] == pytest.approx(
        abs(result.history["cost"].iloc[10] - 50) / 50
    )
    assert math.isnan(table["this run"].iloc[2])
    assert COURSE_ADAM_COSTS[0] == 57_846_087_680.0


def test_cost_curves_label_axes_and_mark_divergence():
    matrix = random_likes(30, 20, 0.3, seed=1)
    runs = [train(matrix, optimizer="sgd", lr=lr, epochs=15, dim=3) for lr in (1e6, 1e-4)]
    figure = cost_curves(runs, "SGD", optimum=10.0)
    axes = figure.axes[0]
    assert axes.get_xlabel() == "epoch" and "cost" in axes.get_ylabel() and axes.get_yscale() == "log"
    labels = [text.get_text() for text in axes.get_legend().get_texts()]
    assert labels[0].startswith("lr 1e+06, diverged at") and labels[-1].startswith("best cost")
    markers = [line for line in axes.get_lines() if line.get_marker() == "X"]
    assert len(markers) == 1
    assert (figure.get_size_inches() == (7.0, 4.2)).all()


def test_other_figures_have_labels():
    matrix = random_likes(30, 20, 0.3, seed=2)
    from movierec.data import Likes

    figure = likes_per_movie(Likes(matrix=matrix, user_ids=np.arange(30), movie_ids=np.arange(20)))
    assert figure.axes[0].get_xlabel().startswith("likes per movie")
    heat = overlap_heatmap(jaccard_overlap(lists_of(a=["X"], b=["X", "Y"])))
    assert heat.axes[0].get_xlabel() == "run" and len(heat.axes) == 2
