"""Several runs' recommendation lists side by side."""

from __future__ import annotations

import pandas as pd

from movierec.judging.lists import side_by_side


def lists_of(**titles: list[str]) -> dict[str, pd.DataFrame]:
    return {
        label: pd.DataFrame({"movieId": [hash(t) for t in names], "title": names})
        for label, names in titles.items()
    }


def test_side_by_side_pads_shorter_lists():
    table = side_by_side(lists_of(a=["X", "Y", "Z"], b=["Y", "X"]))
    assert table.index.tolist() == [1, 2, 3] and table["b"].tolist() == ["Y", "X", ""]
