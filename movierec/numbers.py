"""Numbers in the book's one style, for tables, run labels and the command line.

Columns are formatted by kind, told from their name and dtype: costs with thousands
separators (scientific past 1e12), learning rates in one style (``0.5``, ``0.001``,
``1e-5``), seconds to 2 significant digits, percentages to one decimal, counts with
separators, ids plain, metrics and shares between -1 and 1 to 3 decimals, differences of
metrics signed to 3 decimals, relative differences in scientific notation, other numbers to 4
significant digits, and a missing value as an en dash. The book's tables
(``movierec.book.tables``) and the command line both use these.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

MISSING = "–"
PLAIN_INTEGERS = {"rank", "epoch", "epochs", "d", "dim", "seed", "rounds", "k", "draw", "timestamp", "year"}

Formatter = Callable[[object], str]


def _finite(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(float(value))


def format_cost(value: float) -> str:
    """A cost: thousands separators, 4 significant digits below 1,000 (a whitened target's
    cost is below 1), or scientific notation once it passes 1e12 (a blow-up)."""
    if not _finite(value):
        return MISSING if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    if abs(value) >= 1e12:
        return f"{value:.2e}"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def format_lr(value: float) -> str:
    """A learning rate in the book's one style, to 3 significant digits: ``0.5``, ``0.00119``,
    then ``1e-4``, ``2.5e-5``."""
    if not _finite(value):
        return MISSING
    if value == 0 or abs(value) >= 1e-3:
        return f"{float(f'{value:.3g}'):g}"
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def format_seconds(value: float) -> str:
    """Seconds to 2 significant digits (``0.57``, ``9.1``, ``120``)."""
    if not _finite(value):
        return MISSING
    return f"{float(f'{value:.2g}'):,g}"


def format_percent(value: float) -> str:
    """A percentage to one decimal."""
    return f"{value:,.1f}" if _finite(value) else MISSING


def format_count(value: float) -> str:
    """A whole number with thousands separators."""
    return f"{int(value):,}" if _finite(value) else MISSING


def format_plain(value: float) -> str:
    """A whole number as it is (ids, ranks, epochs, sizes)."""
    return f"{int(value)}" if _finite(value) else MISSING


def format_relative(value: float) -> str:
    """A relative difference, in scientific notation to 2 digits (``1.9e-07``): its size is the point."""
    return f"{value:.1e}" if _finite(value) else MISSING


def format_unit(value: float) -> str:
    """A value between -1 and 1 (a metric, a share, a correlation) to 3 decimals."""
    return f"{value:.3f}" if _finite(value) else MISSING


def format_difference(value: float) -> str:
    """A difference of metrics (and its interval's ends), signed, to 3 decimals: ``+0.009``;
    one that rounds to zero is ``0.000``."""
    if not _finite(value):
        return MISSING
    rounded = round(float(value), 3)
    return "0.000" if rounded == 0 else f"{rounded:+.3f}"


def format_number(value: float) -> str:
    """Any other number: 4 significant digits, separators from 1,000 on (so a column never
    mixes ``3205`` and ``122,676``)."""
    if not _finite(value):
        return MISSING
    if abs(value) >= 1e3:
        return format_cost(value)
    return f"{value:.4g}"


def column_formatter(name: str, values: pd.Series) -> Formatter | None:
    """The formatter of a column, from its name and dtype; None for text."""
    label = str(name).strip().lower()
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if not numeric:
        return None
    if "seconds" in label or label in {"s", "s/epoch"} or label.endswith("(s)"):
        return format_seconds
    if "relative" in label:
        return format_relative
    if label.startswith("minus ") or label in {"95% low", "95% high"}:
        return format_difference
    if "/" in label or "ratio" in label:
        return format_number
    if label in {"lr", "learning rate"} or label.endswith(" lr"):
        return format_lr
    if "cost" in label or label.startswith("||"):
        return format_cost
    if label.startswith("%") or label.endswith("%") or label.endswith("(%)"):
        return format_percent
    if pd.api.types.is_integer_dtype(values):
        return format_plain if label in PLAIN_INTEGERS or label.endswith("id") else format_count
    finite = values[np.isfinite(values.to_numpy(dtype=float))]
    if len(finite) and (finite.abs() <= 1).all():
        return format_unit
    return format_number


def format_cells(
    frame: pd.DataFrame, formats: Mapping[str, Formatter] | None = None
) -> tuple[pd.DataFrame, tuple[bool, ...]]:
    """``frame`` as text cells, each column by its kind or by ``formats[column]``, and which
    columns are numeric (right-aligned); a meaningful index (not 0..n-1) becomes the first column."""
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name:
        frame = frame.reset_index()
    formats = dict(formats or {})
    cells = {}
    numeric = []
    for column in frame.columns:
        values = frame[column]
        formatter = formats.get(column) or column_formatter(column, values)
        if formatter is None:
            cells[column] = [MISSING if _missing(v) else str(v) for v in values]
        else:
            cells[column] = [formatter(v) for v in values]
        numeric.append(formatter is not None)
    return pd.DataFrame(cells, columns=list(frame.columns)), tuple(numeric)


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def terminal_text(frame: pd.DataFrame, width: int = 100) -> str:
    """``frame`` as aligned text for the command line, formatted like the book's tables and
    kept within ``width`` columns (text columns are shortened with an ellipsis)."""
    cells = format_cells(frame)[0]
    text = cells.to_string(index=False)
    while max(map(len, text.splitlines()), default=0) > width:
        lengths = {c: cells[c].str.len().max() for c in cells.columns if not _is_numeric_text(cells[c])}
        if not lengths:
            break
        widest = max(lengths, key=lengths.get)
        if lengths[widest] <= 8:
            break
        cut = lengths[widest] - 4
        cells[widest] = [v if len(v) <= cut else v[: cut - 1] + "…" for v in cells[widest]]
        text = cells.to_string(index=False)
    return text


def _is_numeric_text(values: pd.Series) -> bool:
    return bool(values.str.fullmatch(r"[-+0-9.,e–]+").all())
