"""The book's own Sphinx extension: one copy of each page script, and a student edition whose
downloadable sources hold no solutions either.

- Jupyter Book 1.0 registers sphinx-thebe's inline configuration script twice, so every
  page logged "Identifier 'THEBE_JS_URL' has already been declared"; each script is now
  emitted once.
- With ``hide_solutions`` (the student edition), sphinx-exercise drops the ``solution``
  blocks from the HTML; the notebooks and Markdown offered by the download button would still
  carry them, so their copies under ``_sources`` lose every ``{solution}`` block and every
  cell tagged ``solution`` (the hidden cells that compute solutions).

Enabled in ``_config.yml`` (``sphinx.extra_extensions``). Book page: "For teachers".
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SOLUTION_TAG = "solution"
_SOLUTION_BLOCK = re.compile(r"^(?P<fence>`{3,}|:{3,})\{solution\}.*?^(?P=fence)[ \t]*$\n?", re.M | re.S)


def strip_solution_blocks(markdown: str) -> str:
    """``markdown`` without its ``{solution}`` directives (backtick or colon fences)."""
    return _SOLUTION_BLOCK.sub("", markdown)


def strip_notebook_solutions(notebook: dict[str, Any]) -> dict[str, Any]:
    """A notebook (as JSON) without cells tagged ``solution`` and without solution blocks."""
    cells = []
    for cell in notebook.get("cells", []):
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.get("cell_type") == "markdown":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell = {**cell, "source": strip_solution_blocks(source)}
        cells.append(cell)
    return {**notebook, "cells": cells}


def scrub_sources(folder: Path) -> int:
    """Remove the solutions from every .ipynb and .md under ``folder``; the number of files changed."""
    changed = 0
    for path in [*folder.rglob("*.ipynb"), *folder.rglob("*.md")]:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            scrubbed = json.dumps(strip_notebook_solutions(json.loads(text)), indent=1, ensure_ascii=False)
        else:
            scrubbed = strip_solution_blocks(text)
        if scrubbed != text:
            path.write_text(scrubbed, encoding="utf-8")
            changed += 1
    return changed


def _one_copy_of_each_script(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique = []
    for script in scripts:
        filename = getattr(script, "filename", script) or ""  # an inline script's is None or ""
        key = (str(filename), tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: handlers that run later (MathJax's) add to this same list


def _scrub_student_sources(app, exception) -> None:
    if exception is None and getattr(app.config, "hide_solutions", False):
        sources = Path(app.outdir) / "_sources"
        if sources.is_dir():
            scrub_sources(sources)


def setup(app) -> dict[str, Any]:
    """Register the hooks with Sphinx."""
    # early: html-page-context stops at the first handler that returns a template name
    app.connect("html-page-context", _one_copy_of_each_script, priority=100)
    app.connect("build-finished", _scrub_student_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
