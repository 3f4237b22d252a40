"""Several runs' recommendation lists side by side.

Book page: "What should the embeddings fit?".
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd


def side_by_side(lists: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One column of titles per run, one row per rank."""
    longest = max(len(table) for table in lists.values())
    columns = {label: list(table["title"]) + [""] * (longest - len(table)) for label, table in lists.items()}
    return pd.DataFrame(columns, index=pd.RangeIndex(1, longest + 1, name="rank"))
