"""Tables for the page: one renderer, numbered, right-aligned, never cut off.

Every table in the book goes through :func:`table`. Its cells are formatted by kind with the
library's one number style (:mod:`movierec.numbers`). On the page the table is a numbered
Sphinx table, built from the cells as data (:data:`TABLE_MIME`), whose numeric columns are
right-aligned and whose cells are padded by the theme; a table wider than the text column is
set full width, into the margin. In Jupyter it shows as HTML, in a terminal as aligned text.
Book page: "Re-run it yourself".
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from ..numbers import Formatter, format_cells

#: The mime type of a table shown or glued in a notebook: its cells as data, not Markdown.
TABLE_MIME = "application/vnd.movierec.table+json"
MAX_ALIGNED_COLUMNS = 24  # the stylesheet right-aligns numeric columns up to this position
#: Width of the book's text column at 1280 px, and of its table text (0.88 of 16 px) per
#: character: digits (tabular), other text and bold header text. A table whose comfortable
#: width passes the column is set full width (into the margin), so it is never cut off.
TEXT_COLUMN_PX = 686
CHAR_PX = {"digits": 8.9, "text": 7.7, "header": 8.6}
CELL_PADDING_PX = 21
COMFORTABLE_CHARS = 16  # a text cell may wrap to lines of this length without hurting the read


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

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, object]:
        """The table as data (:data:`TABLE_MIME`, which the book renders as a numbered Sphinx
        table: :mod:`movierec.book.sphinxext`), as HTML for Jupyter and as text."""
        return {TABLE_MIME: self.as_data(), "text/html": self._repr_html_(), "text/plain": str(self)}

    def as_data(self) -> dict[str, object]:
        """What the book's renderer needs: headers, cell texts, the table's classes and width."""
        return {
            "columns": self.columns,
            "rows": [[str(value) for value in row] for row in self.cells.itertuples(index=False)],
            "classes": self._classes().split(),
            "wide": self.wide,
            "caption": self.caption,
            "name": self.name,
        }

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
    cells, numeric = format_cells(frame, formats)
    return Table(
        cells=cells,
        numeric=numeric,
        caption=caption,
        name=name,
    )
