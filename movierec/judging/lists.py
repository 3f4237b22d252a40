"""How the recommendation lists of several runs differ: side by side, overlap, entries and exits.

Book page: "Recommendations".
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd


def side_by_side(lists: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One column of titles per run, one row per rank."""
    longest = max(len(table) for table in lists.values())
    columns = {label: list(table["title"]) + [""] * (longest - len(table)) for label, table in lists.items()}
    return pd.DataFrame(columns, index=pd.RangeIndex(1, longest + 1, name="rank"))


def jaccard_overlap(lists: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """|A & B| / |A | B| of the movieIds of every pair of lists (1 on the diagonal)."""
    sets = {label: set(table["movieId"]) for label, table in lists.items()}
    labels = list(sets)
    return pd.DataFrame(
        [
            [len(sets[a] & sets[b]) / len(sets[a] | sets[b]) if sets[a] | sets[b] else 1.0 for b in labels]
            for a in labels
        ],
        index=labels,
        columns=labels,
    )


def list_changes(
    lists: Mapping[str, pd.DataFrame], reference: str, costs: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """For each run, the titles that enter and leave compared with the ``reference`` run;
    with ``costs`` (final cost per run), also each run's cost as a multiple of the reference's."""
    if reference not in lists:
        raise KeyError(f"reference run {reference!r} is not among {list(lists)}")
    base = list(lists[reference]["title"])
    rows = []
    for label, table in lists.items():
        if label == reference:
            continue
        titles = list(table["title"])
        row = {"run": label}
        if costs is not None:
            row["cost / reference cost"] = costs[label] / costs[reference]
        row.update(
            {
                "kept": sum(title in base for title in titles),
                "enter": "; ".join(title for title in titles if title not in base) or "-",
                "leave": "; ".join(title for title in base if title not in titles) or "-",
            }
        )
        rows.append(row)
    columns = ["run", *(["cost / reference cost"] if costs is not None else []), "kept", "enter", "leave"]
    return pd.DataFrame(rows, columns=columns)


def mean_overlap(overlap: pd.DataFrame) -> float:
    """The mean Jaccard overlap between distinct runs (the off-diagonal of :func:`jaccard_overlap`);
    NaN with fewer than two runs."""
    values = overlap.to_numpy(dtype=float)
    if len(values) < 2:
        return float("nan")
    return float(values[~np.eye(len(values), dtype=bool)].mean())
