"""Chapter 6's source ("Does it recommend well?"): what the page shows is the subject, its prose
is Markdown, and every sentence that depends on the runs is a claim the notebook checks."""

from __future__ import annotations

import re

import nbformat
import pytest

from conftest import ROOT
from movierec.book.lint import HIDDEN_TAGS

CHAPTER = ROOT / "notebooks" / "06_recommend_well.ipynb"


@pytest.fixture(scope="module")
def cells():
    return nbformat.read(CHAPTER, as_version=4).cells


def tags(cell) -> set[str]:
    return set(cell.metadata.get("tags", []))


def test_visible_code_is_the_subject_not_the_pages_machinery(cells):
    visible = "\n".join(c.source for c in cells if c.cell_type == "code" and not tags(c) & HIDDEN_TAGS)
    assert "mr.book." not in visible and "glue(" not in visible and "ws.sweep" not in visible
    assert "mr.Workspace.open(data_path, dataset, runs_dir, threshold=threshold)" in visible
    assert "threshold=threshold, sgd_momentum=sgd_momentum" in visible  # the tuning grid's runs


def test_prose_is_markdown_never_glued_sentences(cells):
    code = "\n".join(c.source for c in cells if c.cell_type == "code")
    markdown = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    assert "{glue:md}" not in markdown
    assert ".say(" not in code and "prose." not in code and "Markdown(" not in code


def test_every_claim_is_checked_in_a_hidden_cell(cells):
    markdown = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    hidden = "\n".join(c.source for c in cells if c.cell_type == "code" and "remove-cell" in tags(c))
    claims = set(re.findall(r"\{claim\} ([\w-]+)", markdown))
    assert {"claim-ease-best", "claim-gap-excludes-0", "claim-sol-gap-larger"} <= claims
    for key in claims:
        assert re.search(rf'glue\(\s*"{key}",', hidden), key  # the build holds it to a bool
