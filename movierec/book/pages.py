"""The results a chapter records for the tests: its last cell, tagged ``results`` (and
``remove-cell``), calls :func:`record_results`, and the tests read them back from the executed
notebook with :func:`read_results`. Book page: "Re-run it yourself".
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import nbformat

from ..errors import MovierecError

RESULTS_TAG = "results"


class PageError(MovierecError):
    """A notebook has no recorded results (it did not run to the end)."""


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
