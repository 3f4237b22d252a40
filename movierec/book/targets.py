"""Chapter 8's tables from the targets search: each stage's runs, the best run at each value of
a setting, and the comparison with the baselines, laid out for the page. What a target is, how
it is searched, compared and listed is :mod:`movierec.judging.targets`.

Book page: "What should the embeddings fit?".
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ..judging.targets import COMPARED_METRICS, TARGET_LABELS, TargetSearch, ndcg_column


def search_table(searches: Mapping[str, TargetSearch], stage: str) -> pd.DataFrame:
    """Every target's rows of one ``stage`` (``settings``, ``size`` or ``sgd``, which also gets
    each rate as a multiple of its bound), for a page: the stage column dropped, so are columns
    that are empty throughout (the ridge where no target has one) and an optimizer or status
    that is the same in every row (the epochs too: they differ only where the search stopped runs
    early, :attr:`TargetSearch.stopped`), and each validation NDCG column is named by its rule alone
    (``NDCG, dot``). Book page: "What should the embeddings fit?"."""
    parts = []
    for search in searches.values():
        rows = search.table[search.table["stage"] == stage].drop(columns="stage")
        if stage == "sgd":
            rows.insert(rows.columns.get_loc("lr") + 1, "lr / bound", rows["lr"] / search.sgd_bound)
        parts.append(rows)
    table = pd.concat(parts, ignore_index=True)
    table["target"] = table["target"].map(TARGET_LABELS)
    empty = [column for column in table.columns if table[column].isna().all()]
    constant = [column for column in ("optimizer", "epochs", "status") if table[column].nunique() == 1]
    table = table.drop(columns=empty + constant)
    rules = {
        column: column.rsplit("(", 1)[1].rstrip(")") for column in table if column.startswith("val NDCG")
    }
    if stage == "sgd":  # each SGD run is scored by its target's chosen rule only: one column, and the rule
        scores = table[list(rules)]
        table = table.drop(columns=list(rules))
        table["NDCG"] = scores.max(axis=1)
        table["rule"] = scores.notna().idxmax(axis=1).map(rules).where(table["NDCG"].notna())
        table = table[[*table.columns.drop(["rule", "NDCG"]), "rule", "NDCG"]]
        return table.reset_index(drop=True)
    return table.rename(columns={column: f"NDCG, {rule}" for column, rule in rules.items()}).reset_index(
        drop=True
    )


def setting_effect(search: TargetSearch, setting: str, k: int = 10) -> pd.DataFrame:
    """The best settings run at each value of ``setting`` (a column of the search table:
    ``ridge``, ``init std`` or ``lr``), by value: its validation NDCG@k under the chosen rule
    and the epochs it ran (fewer than the search's where halving stopped it early, so that its
    NDCG is from fewer epochs than the others')."""
    rows = search.table[search.table["stage"] == "settings"]
    column = ndcg_column(k, search.scoring)
    best = []
    for value, group in rows.groupby(setting):
        row = group.loc[group[column].idxmax()] if group[column].notna().any() else group.iloc[0]
        best.append({setting: value, "NDCG": row[column], "epochs": int(row["epochs"])})
    return pd.DataFrame(best, columns=[setting, "NDCG", "epochs"])


def comparison_table(differences: pd.DataFrame, reference: str = "EASE", k: int = 10) -> pd.DataFrame:
    """:func:`paired_differences` for the page: a block of rows per metric, each method's test
    value, its difference to ``reference`` and the 95% interval in columns of their own (so
    the table fits the page); the methods in the order of their test NDCG in every block."""
    ndcg = differences[differences["metric"] == "NDCG"].sort_values("test", ascending=False, kind="stable")
    method_rank = {method: rank for rank, method in enumerate(ndcg["method"])}
    metric_rank = {metric: rank for rank, metric in enumerate(COMPARED_METRICS)}
    table = differences.sort_values(
        ["metric", "method"],
        key=lambda column: column.map(metric_rank if column.name == "metric" else method_rank),
        kind="stable",
    )
    return pd.DataFrame(
        {
            "metric": [f"{metric}@{k}" for metric in table["metric"]],
            "method": table["method"].to_numpy(),
            "test": table["test"].to_numpy(),
            f"minus {reference}": table["difference"].to_numpy(),
            "95% low": table["95% low"].to_numpy(),
            "95% high": table["95% high"].to_numpy(),
        }
    )
