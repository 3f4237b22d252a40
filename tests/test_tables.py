"""The one table renderer: a format per kind of column, numbered MyST tables, terminal text."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from movierec.book.tables import TABLE_MIME, table
from movierec.model.train import TrainConfig, TrainResult
from movierec.numbers import (
    MISSING,
    column_formatter,
    format_cost,
    format_difference,
    format_lr,
    format_seconds,
    format_unit,
    terminal_text,
)
from movierec.runs.study import median_epoch_seconds


@pytest.mark.parametrize(
    "value,text",
    [
        (0.5, "0.5"),
        (0.001, "0.001"),
        (1e-4, "1e-4"),
        (3e-5, "3e-5"),
        (2.5e-5, "2.5e-5"),
        (1e-6, "1e-6"),
        (1.0, "1"),
    ],
)
def test_learning_rates_in_one_style(value, text):
    assert format_lr(value) == text


def test_costs_seconds_and_missing_values():
    assert format_cost(1_336_186.4) == "1,336,186"
    assert format_cost(5.15e18) == "5.15e+18"
    assert format_cost(math.nan) == MISSING
    assert (
        format_seconds(9.123) == "9.1" and format_seconds(0.5712) == "0.57" and format_seconds(123.4) == "120"
    )


def test_columns_are_formatted_by_kind():
    frame = pd.DataFrame(
        {
            "optimizer": ["adam", "sgd"],
            "lr": [1e-4, 0.5],
            "final cost": [5.15e18, 270_756_397.0],
            "s/epoch": [0.0123, 9.12],
            "% above optimum": [2.06, math.nan],
            "movieId": np.array([193609, 1], dtype="int32"),
            "likes": np.array([38840, 609]),
            "cost / reference cost": [1.5, 2.25],
        }
    )
    rendered = table(frame, caption="Runs", name="tbl-runs")
    assert rendered.cells.iloc[0].tolist() == [
        "adam",
        "1e-4",
        "5.15e+18",
        "0.012",
        "2.1",
        "193609",
        "38,840",
        "1.5",
    ]
    assert rendered.cells.iloc[1].tolist() == [
        "sgd",
        "0.5",
        "270,756,397",
        "9.1",
        MISSING,
        "1",
        "609",
        "2.25",
    ]
    assert rendered.numeric == (False, True, True, True, True, True, True, True)
    assert column_formatter("title", pd.Series(["x"])) is None
    assert column_formatter("relative difference", pd.Series([1.9e-7]))(1.9e-7) == "1.9e-07"
    assert column_formatter("val NDCG@10", pd.Series([0.1756, 0.2]))(0.1756) == "0.176"


def test_the_page_form_is_table_data_with_html_for_jupyter():
    rendered = table(
        pd.DataFrame({"title": ["*Amélie* (2001)", "1. A"], "score": [0.5, 0.25]}), "Top", "tbl-top"
    )
    bundle = rendered._repr_mimebundle_()
    assert "text/markdown" not in bundle  # a table is data, never glued Markdown
    assert bundle[TABLE_MIME] == {
        "columns": ["title", "score"],
        "rows": [["*Amélie* (2001)", "0.500"], ["1. A", "0.250"]],  # cell text as it is
        "classes": ["mr-table", "mr-r2"],
        "wide": False,
        "caption": "Top",
        "name": "tbl-top",
    }
    assert "text-align:right" in bundle["text/html"] and "Top" in bundle["text/html"]


def test_a_meaningful_index_becomes_a_column():
    frame = pd.DataFrame({"b": [1, 2]}, index=pd.Index([10, 20], name="userId"))
    assert table(frame).columns == ["userId", "b"]


def test_terminal_text_stays_within_its_width():
    frame = pd.DataFrame({"title": ["A very long title " * 8, "short"], "cost": [1e6, 2e6]})
    text = terminal_text(frame, width=60)
    assert max(len(line) for line in text.splitlines()) <= 60 and "…" in text and "1,000,000" in text


def test_median_epoch_time_ignores_the_warm_up():
    history = pd.DataFrame(
        {"epoch": range(5), "cost": [5.0, 4, 3, 2, 1], "seconds": [0.0, 9.0, 9.1, 9.2, 9.3]}
    )
    result = TrainResult(TrainConfig(epochs=4), history, np.zeros((1, 1)), "finished", None, "", "cpu")
    assert median_epoch_seconds(result) == pytest.approx(0.1)


def test_median_epoch_time_leaves_out_a_partial_last_interval():
    def timed(seconds, status, epochs):
        history = pd.DataFrame({"epoch": range(len(seconds)), "cost": 1.0, "seconds": seconds})
        diverged = None if status == "finished" else len(seconds) - 1
        return TrainResult(TrainConfig(epochs=epochs), history, np.zeros((1, 1)), status, diverged, "", "cpu")

    assert median_epoch_seconds(timed([1.0, 2.0, 2.4], "finished", 2)) == pytest.approx(1.0)
    assert median_epoch_seconds(timed([1.0, 2.0, 2.4], "diverged", 2)) == pytest.approx(
        1.0
    )  # last cost blew up
    assert median_epoch_seconds(timed([0.0, 1.0, 2.0, 2.2], "diverged", 10)) == pytest.approx(1.0)
    assert median_epoch_seconds(timed([0.0, 1.0], "diverged", 10)) == pytest.approx(1.0)


def test_a_one_epoch_run_is_timed_by_its_first_cost_and_gradient():
    history = pd.DataFrame({"epoch": [0, 1], "cost": [5.0, 4.0], "seconds": [11.4, 16.6]})
    result = TrainResult(TrainConfig(epochs=1), history, np.zeros((1, 1)), "finished", None, "", "cpu")
    assert median_epoch_seconds(result) == pytest.approx(11.4)


def test_differences_are_signed_and_zero_once_rounded():
    assert [format_difference(v) for v in (0.00884, -0.0199, 0.0, -0.0003, math.nan)] == [
        "+0.009",
        "-0.020",
        "0.000",
        "0.000",
        MISSING,
    ]


def test_bounds_and_large_numbers_read_alike_down_a_column():
    assert format_lr(0.00118576) == "0.00119" and format_lr(6.5523e-5) == "6.55e-5"
    assert column_formatter("top Hessian eigenvalue", pd.Series([3205.2, 122676.0]))(3205.2) == "3,205"


def test_a_table_wider_than_the_text_column_is_set_full_width():
    narrow = table(pd.DataFrame({"figure": ["movies", "users"], "value": [9742, 610]}))
    assert not narrow.wide and narrow.as_data()["wide"] is False
    titles = {f"run {k}": ["Shawshank Redemption, The (1994)", "Amelie (Fabuleux destin)"] for k in range(6)}
    wide = table(pd.DataFrame({"rank": [1, 2], **titles}), caption="Lists", name="tbl-lists")
    assert wide.wide and wide.as_data()["wide"] is True


def test_a_format_given_for_a_column_wins_over_its_kind():
    # "second split" is a metric, not seconds; a format given for a column wins over its kind
    frame = pd.DataFrame({"first split": [0.1995, 0.1751], "second split": [0.19955, 0.16812]})
    assert column_formatter("second split", frame["second split"]) is format_unit
    assert column_formatter("seconds", frame["second split"]) is format_seconds
    cells = table(frame, formats={"second split": format_seconds}).cells
    assert cells["second split"].tolist() == ["0.2", "0.17"]
    assert cells["first split"].tolist() == ["0.200", "0.175"]
