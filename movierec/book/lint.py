"""The chapter form (CONTRIBUTING.md) as a lint: what a chapter's notebook lacks, each in words.

The driver runs it on every chapter ``_toc.yml`` lists before executing any, ``make lint``
runs it (``python -m movierec.book.lint``), and the tests hold every chapter to it: a new
chapter that follows the form needs no other file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

from . import blocks
from .toc import notebook_paths

INSTALL_PREFIX = "# Run this notebook yourself:"
HIDDEN_TAGS = {"remove-cell", "remove-input", "hide-input", "hide-cell", "parameters", "injected-parameters"}
#: What the page's own machinery looks like in code: it belongs in a cell tagged remove-cell.
MACHINERY = re.compile(r"\bmr\.book\.|\bglue\(|record_results\(")


def chapter_problems(path: str | Path) -> list[str]:
    """What the chapter notebook at ``path`` lacks of the chapter form, one short sentence each
    (empty when it follows it)."""
    try:
        book = nbformat.read(path, as_version=4)
    except Exception as error:  # any unreadable notebook is one problem, named
        return [f"cannot be read as a notebook ({error})"]
    cells = book.cells
    problems = []

    def tags(cell: nbformat.NotebookNode) -> set[str]:
        return set(cell.get("metadata", {}).get("tags", []))

    ids = [cell.get("id") for cell in cells]
    if not all(ids) or len(set(ids)) != len(ids):
        problems.append("every cell needs an id of its own (nbformat's normalize gives them)")
    if any(cell.get("outputs") or cell.get("execution_count") for cell in cells if cell.cell_type == "code"):
        problems.append(
            "the source keeps outputs or execution counts: clear them (executed copies are built)"
        )
    first = cells[0] if cells else None
    if not (first and first.cell_type == "code" and "remove-cell" in tags(first)):
        problems.append(f"the first cell must be a code cell tagged remove-cell: {INSTALL_PREFIX} ...")
    elif not first.source.startswith(INSTALL_PREFIX):
        problems.append(f"the first cell must start with the install line '{INSTALL_PREFIX} ...'")
    title = cells[1] if len(cells) > 1 else None
    if not (title and title.cell_type == "markdown" and title.source.startswith("# ")):
        problems.append("the second cell must be Markdown starting with the title ('# ...')")
    elif "You will learn" not in title.source:
        problems.append("the title cell needs a 'You will learn' admonition")
    if sum("parameters" in tags(cell) for cell in cells) != 1:
        problems.append("exactly one code cell must be tagged parameters (`name: type = value  # help`)")
    prose = "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")
    for heading in ("## Summary", "## Exercises"):
        if heading not in prose:
            problems.append(f"no '{heading}' section")
    solved = blocks.solution_labels(prose)
    for exercise in blocks.exercises(prose):
        if exercise.label not in solved:
            problems.append(f"exercise {exercise.label} has no solution")
    if not blocks.gated_labels(prose) or not any("solution" in tags(cell) for cell in cells):
        problems.append(
            "no code exercise: an {exercise}, a starter code cell, and a {solution-start} ... "
            "{solution-end} around a code cell tagged solution"
        )
    if not (cells and cells[-1].cell_type == "code" and {"results", "remove-cell"} <= tags(cells[-1])):
        problems.append("the last cell must be tagged results and remove-cell (the results tests read back)")
    for number, cell in enumerate(cells):
        if cell.cell_type == "code" and not tags(cell) & HIDDEN_TAGS and MACHINERY.search(cell.source):
            problems.append(
                f"cell {number} shows the page's machinery ({MACHINERY.search(cell.source).group(0)}...): "
                "move it to a cell tagged remove-cell"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    """Lint every chapter ``_toc.yml`` lists (or the notebooks named); 1 if any lacks something."""
    paths = [Path(name) for name in argv] if argv else notebook_paths(Path.cwd())
    found = [f"{path}: {problem}" for path in paths for problem in chapter_problems(path)]
    print("\n".join(found) or f"chapter form: {len(paths)} chapters, nothing missing")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
