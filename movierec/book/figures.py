"""The figure pack: every numbered figure of the book as SVG and as a 300-dpi PNG, named by its
number and label (``fig-3.1-curves-adam.svg``), in one zip linked from "For teachers".

Two halves. In the kernels the driver starts, :func:`record_figures` (run at kernel start, see
:mod:`movierec.book.kernel`) makes every glued matplotlib figure carry its SVG and a 300-dpi PNG in
the glued output's metadata (:data:`PACK_KEY`), beside the page's PNG, which the pages never
render. After the
HTML build, the Sphinx extension takes each numbered figure's number from Sphinx
(``env.toc_fignumbers``), finds the glue key its ``{glue:figure}`` names, and zips the two files
(:func:`figure_keys`, :func:`write_pack`). A notebook run outside the driver glues as before.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PACK_KEY = "movierec_figure"  # the glued output's metadata: {"svg": text, "png300": base64}
PNG_DPI = 300
PACK_NAME = "movierec-figures.zip"
PACK_FOLDER = "figures"  # under the HTML output: figures/movierec-figures.zip
GLUE_PREFIX = "application/papermill.record/"
_GLUE_FIGURE = re.compile(
    r"\{glue:figure\}[ \t]+(?P<key>[\w-]+)[^\n]*\n(?P<options>(?:[ \t]*:[\w-]+:[^\n]*\n)*)"
)
_GLUE_FIGURES = re.compile(
    r"\{glue:figures\}[ \t]+(?P<prefix>[\w-]+)[^\n]*\n(?P<options>(?:[ \t]*:[\w-]+:[^\n]*\n)*)"
)
_NAME = re.compile(r":name:[ \t]*(\S+)")


class PackedFigure:
    """A matplotlib figure shown as the page's PNG (IPython's own formatters), its SVG and a
    300-dpi PNG recorded in the display's metadata under :data:`PACK_KEY`."""

    def __init__(self, figure: Any):
        self.figure = figure

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        from IPython.core.formatters import format_display_data

        bundle, metadata = format_display_data(self.figure)
        svg, png = io.StringIO(), io.BytesIO()
        self.figure.savefig(svg, format="svg", bbox_inches="tight")
        self.figure.savefig(png, format="png", dpi=PNG_DPI, bbox_inches="tight")
        recorded = {"svg": svg.getvalue(), "png300": base64.b64encode(png.getvalue()).decode()}
        return bundle, {**metadata, PACK_KEY: recorded}


def record_figures() -> None:
    """Make myst-nb's ``glue`` record every matplotlib figure it glues as a :class:`PackedFigure`
    (the driver runs this at the start of each chapter's kernel)."""
    try:
        import myst_nb.ext.glue as glue_module
        from matplotlib.figure import Figure
    except ImportError:
        return
    original = glue_module.glue
    if getattr(original, "movierec_packs", False):
        return

    def glue(name: str, variable: Any, display: bool = True) -> None:
        return original(name, PackedFigure(variable) if isinstance(variable, Figure) else variable, display)

    glue.movierec_packs = True  # type: ignore[attr-defined]
    glue_module.glue = glue


def figure_occurrences(notebook: dict[str, Any]) -> list[tuple[str | None, str]]:
    """Each figure a notebook's Markdown places, in page order, as ``(name, glue key)``: a
    ``{glue:figure} KEY`` with its ``:name:`` (None when it has none), and for a
    ``{glue:figures} PREFIX`` each figure glued under ``PREFIX-NAME``, named as the Sphinx
    extension names it (``:name:``, default ``fig-PREFIX``, then ``-NAME``, in lower case)."""
    images = glued_images(notebook)
    found: list[tuple[str | None, str]] = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        text = ("".join(source) if isinstance(source, list) else source) + "\n"
        placed: list[tuple[int, str | None, str]] = []
        for match in _GLUE_FIGURE.finditer(text):
            name = _NAME.search(match.group("options"))
            placed.append((match.start(), name.group(1) if name else None, match.group("key")))
        for match in _GLUE_FIGURES.finditer(text):
            name = _NAME.search(match.group("options"))
            base = name.group(1) if name else f"fig-{match.group('prefix')}"
            prefix = match.group("prefix") + "-"
            for key in (key for key in images if key.startswith(prefix)):
                placed.append((match.start(), f"{base}-{key.removeprefix(prefix)}".lower(), key))
        found += [(name, key) for _, name, key in sorted(placed, key=lambda item: item[0])]
    return found


def glued_images(notebook: dict[str, Any]) -> list[str]:
    """The glue keys of a notebook (JSON) that hold an image, in the order they were glued."""
    keys = []
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name and any(
                mime.removeprefix(GLUE_PREFIX).startswith("image/") for mime in output.get("data", {})
            ):
                keys.append(name)
    return keys


def match_numbers(
    numbered: dict[str, tuple[int, ...]], occurrences: list[tuple[str | None, str]]
) -> tuple[list[tuple[tuple[int, ...], str, str]], list[str]]:
    """Sphinx's numbered figures of a page (node id: number) matched with its glue keys: in
    page order when the counts agree (an unnamed figure has an id like ``id1``), else by name.
    ``(number, label, key)`` for each match (label: the name, else ``fig-KEY``), and the ids
    left unmatched."""
    ordered = sorted(numbered.items(), key=lambda item: item[1])
    named = {name: key for name, key in occurrences if name}
    matched, missing = [], []
    if len(ordered) == len(occurrences) and all(
        name is None or name == node for (node, _), (name, _) in zip(ordered, occurrences, strict=True)
    ):
        for (_, number), (name, key) in zip(ordered, occurrences, strict=True):
            matched.append((number, name or f"fig-{key}", key))
        return matched, missing
    for node, number in ordered:
        if node in named:
            matched.append((number, node, named[node]))
        else:
            missing.append(node)
    return matched, missing


def glued_figures(notebook: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Each glue key's recorded SVG and 300-dpi PNG (base64), where the kernel recorded them."""
    found = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            metadata = output.get("metadata", {})
            name = metadata.get("scrapbook", {}).get("name")
            if name and isinstance(metadata.get(PACK_KEY), dict):
                found[name] = metadata[PACK_KEY]
    return found


def pack_name(number: Iterable[int], label: str) -> str:
    """``fig-3.1-curves-adam``: the figure's number, then its label without ``fig-``."""
    return f"fig-{'.'.join(str(part) for part in number)}-{label.removeprefix('fig-')}"


def write_pack(target: Path, figures: list[tuple[str, dict[str, str]]]) -> Path:
    """Zip each ``(name, recorded)`` figure as ``name.svg`` and ``name.png`` into ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as pack:
        for name, recorded in figures:
            pack.writestr(f"{name}.svg", recorded["svg"])
            pack.writestr(f"{name}.png", base64.b64decode(recorded["png300"]))
    temporary.replace(target)
    return target


def strip_pack_outputs(notebook: dict[str, Any]) -> dict[str, Any]:
    """``notebook`` (JSON) without the recorded SVG and 300-dpi PNG: a downloaded notebook keeps
    only what its page shows."""
    changed = False
    cells = []
    for cell in notebook.get("cells", []):
        outputs = []
        for output in cell.get("outputs", []):
            if PACK_KEY in output.get("metadata", {}):
                metadata = {key: value for key, value in output["metadata"].items() if key != PACK_KEY}
                output, changed = {**output, "metadata": metadata}, True
            outputs.append(output)
        cells.append({**cell, "outputs": outputs} if "outputs" in cell else cell)
    return {**notebook, "cells": cells} if changed else notebook
