"""What every chapter notebook does the same way: check its parameters, glue numbers and
sentences into the prose, show tables, and record the results that tests read back.

A chapter starts with ``ws = mr.pages.start(globals())`` and ends with
``mr.pages.record_results({...})`` in a cell tagged ``results``. Book page: "Re-run it yourself".
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import MutableMapping
from typing import Any

import nbformat
import pandas as pd

from ..errors import MovierecError
from ..runs.workspace import Workspace
from .profiles import PARAMETERS, validate_parameters
from .tables import Table, escape_myst, table

RESULTS_TAG = "results"

__all__ = [
    "RESULTS_TAG",
    "Table",
    "figure",
    "glue",
    "read_results",
    "record_results",
    "say",
    "start",
    "table",
    "titles",
    "words",
]


class PageError(MovierecError):
    """A notebook has no recorded results (it did not run to the end)."""


def start(namespace: MutableMapping[str, Any]) -> Workspace:
    """Check the book parameters defined in ``namespace`` (a notebook's ``globals()``), put their
    checked values back (``"1e-5"`` becomes 1e-05), show DataFrames as the book's tables, and
    open the workspace they name."""
    from .kernel import show_frames_as_tables

    show_frames_as_tables()
    given = {name: namespace[name] for name in PARAMETERS if name in namespace}
    namespace.update(validate_parameters(given))
    return Workspace.open(
        namespace.get("data_path", ""),
        namespace.get("dataset", "ml-latest-small"),
        namespace.get("runs_dir", ""),
    )


def glue(name: str, value: Any) -> None:
    """Glue ``value`` (text, a number, a figure, a DataFrame or :class:`Table`) under ``name``
    for ``{glue:text}``, ``{glue:figure}`` or ``{glue:table}``, without showing it where it
    was computed. A DataFrame is glued as the book's table."""
    from myst_nb import glue as myst_glue

    myst_glue(name, table(value) if isinstance(value, pd.DataFrame) else value, display=False)


def say(name: str, text: str) -> None:
    """Glue a sentence of MyST markdown (roles such as ``{numref}`` allowed) under ``name``,
    for ``{glue:md}`name:myst```: prose whose wording the results choose."""
    from IPython.display import Markdown

    glue(name, Markdown(text))


def figure(key: str, figure: Any, caption: str, name: str = "") -> None:
    """Glue ``figure`` under ``key`` and show it as a numbered MyST figure with ``caption``
    (MyST allowed), labelled ``name`` (default ``fig-<key>``) for ``{numref}``. For figures
    whose number or caption depends on the results, e.g. one per optimizer of the study."""
    from IPython.display import Markdown, display

    glue(key, figure)
    display(Markdown(f"```{{glue:figure}} {key}\n:name: {name or 'fig-' + key}\n\n{caption}\n```"))


def record_results(results: dict[str, Any]) -> None:
    """Show ``results`` as the JSON output of a notebook's last cell (tagged ``results``).

    Tests and the driver read it back with :func:`read_results`.
    """
    from IPython.display import display

    display({"application/json": _json_safe(json.loads(json.dumps(results, default=float)))}, raw=True)


def _json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities as None: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


def read_results(notebook: str | os.PathLike) -> dict[str, Any]:
    """The JSON recorded by the ``results`` cell of an executed notebook."""
    book = nbformat.read(notebook, as_version=4)
    for cell in book.cells:
        if RESULTS_TAG in cell.get("metadata", {}).get("tags", []):
            for output in cell.get("outputs", []):
                if "application/json" in output.get("data", {}):
                    return dict(output["data"]["application/json"])
    raise PageError(f"{notebook} has no recorded results: was it executed to the end?")


def titles(items: list[str]) -> str:
    """Movie titles for a sentence glued with :func:`say`: each in italics, its MyST characters
    escaped (a title may start with ``*``), joined by :func:`words`."""
    return words([f"*{escape_myst(title)}*" for title in items])


def words(items: list[str], conjunction: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``: a list for a sentence."""
    items = [str(item) for item in items]
    if len(items) <= 2:
        return f" {conjunction} ".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"
