"""Tables for the page and the terminal: one format per kind of column, one renderer.

Every table in the book goes through :func:`table`. Columns are formatted by kind, told
from their name and dtype: costs with thousands separators (scientific past 1e12), learning
rates in one style (``0.5``, ``0.001``, ``1e-5``), seconds to 2 significant digits,
percentages to one decimal, counts with separators, ids plain, metrics and shares between
-1 and 1 to 3 decimals, differences of metrics signed to 3 decimals, relative differences in
scientific notation, other numbers to 4 significant digits, and a missing value as an en
dash. On the page the table is a numbered Sphinx table (a MyST ``list-table``) whose numeric
columns are right-aligned and whose cells are padded by the theme; a table wider than the
text column is set full width, into the margin. In Jupyter it shows
as HTML, in a terminal as aligned text. Book page: "Re-run it yourself".
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .train import TrainResult

MISSING = "–"
MAX_ALIGNED_COLUMNS = 24  # the stylesheet right-aligns numeric columns up to this position
#: Width of the book's text column at 1280 px, and of its table text (0.88 of 16 px) per
#: character: digits (tabular), other text and bold header text. A table whose comfortable
#: width passes the column is set full width (into the margin), so it is never cut off.
TEXT_COLUMN_PX = 686
CHAR_PX = {"digits": 8.9, "text": 7.7, "header": 8.6}
CELL_PADDING_PX = 21
COMFORTABLE_CHARS = 16  # a text cell may wrap to lines of this length without hurting the read
PLAIN_INTEGERS = {"rank", "epoch", "epochs", "d", "dim", "seed", "rounds", "k", "draw", "timestamp", "year"}
_PUNCTUATION = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|$~^=:&%])")  # % opens a MyST comment

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
    if "second" in label or label in {"s", "s/epoch"} or label.endswith("(s)"):
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


def escape_myst(text: str) -> str:
    """Cell text as literal MyST: markup characters escaped, line breaks flattened."""
    flat = " ".join(str(text).split())
    return _PUNCTUATION.sub(r"\\\1", flat) if flat else " "


@dataclass(frozen=True)
class Table:
    """A formatted table: shows as a numbered MyST table in the book, HTML in Jupyter, text
    in a terminal. Build it with :func:`table`."""

    cells: pd.DataFrame
    numeric: tuple[bool, ...]
    caption: str = ""
    name: str = ""
    index_name: str = ""

    def _classes(self) -> str:
        right = [f"mr-r{position + 1}" for position, flag in enumerate(self.numeric) if flag]
        return " ".join(["mr-table", *right[:MAX_ALIGNED_COLUMNS]])

    @property
    def comfortable_px(self) -> float:
        """An estimate of the width the table reads well at: numbers on one line, text cells
        wrapped to lines of about ``COMFORTABLE_CHARS`` characters, headers at their longest word."""
        total = 0.0
        for column, numeric in zip(self.cells.columns, self.numeric, strict=True):
            values = [str(value) for value in self.cells[column]]
            if numeric:
                body = max(map(len, values), default=0) * CHAR_PX["digits"]
            else:
                body = min(max(map(len, values), default=0), COMFORTABLE_CHARS) * CHAR_PX["text"]
            header = max(map(len, str(column).split() or [""])) * CHAR_PX["header"]
            total += max(body, header) + CELL_PADDING_PX
        return total

    @property
    def wide(self) -> bool:
        """Whether the table needs more than the text column: it is then set full width."""
        return self.comfortable_px > TEXT_COLUMN_PX

    def _repr_markdown_(self) -> str:
        lines = [
            f"```{{list-table}} {escape_myst(self.caption)}".rstrip(),
            ":header-rows: 1",
            ":widths: auto",
        ]
        lines.append(f":class: {self._classes()}")
        if self.name:
            lines.append(f":name: {self.name}")
        lines.append("")
        lines.append("* " + "\n  ".join(f"- {escape_myst(column)}" for column in self.cells.columns))
        for row in self.cells.itertuples(index=False):
            lines.append("* " + "\n  ".join(f"- {escape_myst(value)}" for value in row))
        lines.append("```")
        if self.wide:  # sphinx-book-theme's full-width: the margin's contents step aside
            lines = ["````{container} full-width", *lines, "````"]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        def cell(tag: str, text: str, right: bool) -> str:
            align = "right" if right else "left"
            return f'<{tag} style="padding:0.25em 0.75em;text-align:{align}">{html.escape(str(text))}</{tag}>'

        head = "".join(cell("th", c, r) for c, r in zip(self.cells.columns, self.numeric, strict=True))
        body = "".join(
            "<tr>" + "".join(cell("td", v, r) for v, r in zip(row, self.numeric, strict=True)) + "</tr>"
            for row in self.cells.itertuples(index=False)
        )
        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return (
            f'<div style="overflow-x:auto"><table class="{self._classes()}">{caption}'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
        )

    def __str__(self) -> str:
        return self.cells.to_string(index=False)

    def __repr__(self) -> str:
        return str(self)

    @property
    def columns(self) -> list[str]:
        """The column headers, as shown."""
        return [str(column) for column in self.cells.columns]


def table(
    frame: pd.DataFrame,
    caption: str = "",
    name: str = "",
    formats: Mapping[str, Formatter] | None = None,
) -> Table:
    """``frame`` formatted for the page: each column by its kind (see the module), or by
    ``formats[column]``; a meaningful index (not 0..n-1) becomes the first column.
    ``name`` labels it for ``{numref}``."""
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
    return Table(
        cells=pd.DataFrame(cells, columns=list(frame.columns)),
        numeric=tuple(numeric),
        caption=caption,
        name=name,
    )


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def terminal_text(frame: pd.DataFrame, width: int = 100) -> str:
    """``frame`` as aligned text for the command line, formatted like the book's tables and
    kept within ``width`` columns (text columns are shortened with an ellipsis)."""
    cells = table(frame).cells.copy()
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


def median_epoch_seconds(result: TrainResult) -> float:
    """The median time of one epoch (cost, gradient and step) of a run: unlike its wall time, not
    inflated by the first run's warm-up (thread pools, allocations). A run's last interval may
    hold less than an epoch (a step and a cost without its gradient when the run ended its
    epochs, a step that overflowed), so it is left out when others remain, and always when the
    run ended its epochs; a run of one epoch has no full interval, and its time to the first
    cost and gradient stands in."""
    seconds = result.history["seconds"].to_numpy(dtype=float)
    steps = np.diff(seconds)
    if len(result.history) == result.config.epochs + 1 or len(steps) > 1:
        steps = steps[:-1]
    if len(steps):
        return float(np.median(steps))
    return float(seconds[0]) if len(seconds) else float("nan")


def summary_table(results: Iterable[TrainResult], optimum: float | None = None) -> pd.DataFrame:
    """Optimizer, lr, final and lowest cost, status and median seconds per epoch: one row per
    run; with the best achievable cost ``optimum``, also how far above it each run ended (%)."""
    rows = []
    for result in results:
        row = {
            "optimizer": result.config.optimizer,
            "lr": result.config.lr,
            "final cost": result.final_cost,
            "lowest cost": result.lowest_cost,
            "status": result.status_text,
            "s/epoch": median_epoch_seconds(result),
        }
        if optimum is not None:
            finished = result.status == "finished"
            row["% above optimum"] = 100 * (result.final_cost - optimum) / optimum if finished else math.nan
        rows.append(row)
    return pd.DataFrame(rows)
