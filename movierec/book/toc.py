"""The book's table of contents: ``_toc.yml`` lists every page, and the pages under
``book/executed/`` are the chapters, executed from the notebooks of the same name in
``notebooks/``. Adding a chapter is its notebook and one line there. Book page: "Re-run it
yourself".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import MovierecError

NOTEBOOK_DIR = Path("notebooks")
EXECUTED_DIR = Path("book") / "executed"


class BookError(MovierecError):
    """A notebook failed, wrote to stderr, or the HTML build warned; or the book's sources are
    not what the build needs."""


def toc_pages(root: Path) -> list[str]:
    """Every page of the book as ``_toc.yml`` lists it (root first), as paths without suffix."""
    try:
        toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise BookError(f"{root / '_toc.yml'} cannot be read ({error}): restore it from git") from None
    pages = [toc["root"]]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                pages.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({key: value for key, value in toc.items() if key != "root"})
    return pages


def chapter_names(root: Path) -> list[str]:
    """The executed chapters ``_toc.yml`` lists (``book/executed/NAME``), in book order."""
    prefix = EXECUTED_DIR.as_posix() + "/"
    return [page.removeprefix(prefix) for page in toc_pages(root) if page.startswith(prefix)]


def notebook_paths(root: Path) -> list[Path]:
    """The chapters' notebook sources under ``root``, in book order; each must exist."""
    paths = [root / NOTEBOOK_DIR / f"{name}.ipynb" for name in chapter_names(root)]
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise BookError(f"_toc.yml lists chapters with no notebook source: {', '.join(missing)}")
    return paths
