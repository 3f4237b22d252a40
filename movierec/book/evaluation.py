"""What chapter 6's exercise solutions tabulate: the metrics at another list length and the
change under another split. The split, the metrics, the tuning and the methods' table are
:mod:`movierec.judging.evaluate`.

Book page: "Does it recommend well?".
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..judging.evaluate import Scored, Split


def metrics_at(methods: Sequence[Scored], split: Split, k: int) -> pd.DataFrame:
    """Every method's test metrics with lists cut at another ``k``, best NDCG first.

    Book page: "Does it recommend well?".
    """
    rows = [
        {"method": method.method, **{f"test {n}@{k}": v for n, v in method.test_at(k, split).items()}}
        for method in methods
    ]
    return (
        pd.DataFrame(rows)
        .sort_values(f"test NDCG@{k}", ascending=False, kind="stable")
        .reset_index(drop=True)
    )


def split_change(first: Sequence[Scored], second: Sequence[Scored]) -> pd.DataFrame:
    """Test NDCG of the methods scored on two splits, and the change (methods in both only).

    Book page: "Does it recommend well?".
    """
    again = {method.method: method.test["NDCG"] for method in second}
    rows = [
        {"method": m.method, "first split": m.test["NDCG"], "second split": again[m.method]}
        for m in first
        if m.method in again
    ]
    table = pd.DataFrame(rows)
    table["change"] = table["second split"] - table["first split"]
    return table
