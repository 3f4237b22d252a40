"""What chapter 6 tabulates: the methods side by side, the fit check, the metrics at other list
lengths and the change under another split. The split, the metrics and the tuning are
:mod:`movierec.judging.evaluate`.

Book page: "Recommending well".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..judging.evaluate import METRICS, Scored, Split, fit_check


def methods_table(methods: Sequence[Scored], k: int = 10, short: bool = False) -> pd.DataFrame:
    """Every method's validation NDCG@k and test metrics, best test NDCG first; ``short`` names
    the test columns by their metric alone (for a page, whose caption says they are test@k).

    Book page: "Does it recommend well?".
    """
    table = pd.DataFrame([method.row(k) for method in methods])
    table = table.sort_values(f"test NDCG@{k}", ascending=False, kind="stable").reset_index(drop=True)
    if short:
        table = table.rename(
            columns={f"test {name}@{k}": name for name in METRICS} | {f"val NDCG@{k}": "val NDCG"}
        )
    return table


def fit_table(
    embeddings: dict[str, np.ndarray], colikes: sp.spmatrix, zeros: int = 100_000, seed: int = 0
) -> pd.DataFrame:
    """:func:`fit_check` for several named d x n embeddings, one row each.

    Book page: "Does it recommend well?".
    """
    return pd.DataFrame(
        [{"embeddings": name, **fit_check(V, colikes, zeros, seed)} for name, V in embeddings.items()]
    )


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
