"""The fit-limits chapter's source (notebooks/07_fit_limits.ipynb): it runs SGD at the book's
momentum and threshold, calls the eigen-alternation's cost the lowest cost found (not a bound),
and writes its prose in Markdown with every run-dependent sentence under a claim."""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

from conftest import ROOT
from movierec.book.lint import HIDDEN_TAGS, chapter_problems

CHAPTER = ROOT / "notebooks" / "07_fit_limits.ipynb"


@pytest.fixture(scope="module")
def book():
    return nbformat.read(CHAPTER, as_version=4)


def tags(cell) -> set[str]:
    return set(cell.metadata.get("tags", []))


def visible_code(book) -> list[str]:
    return [c.source for c in book.cells if c.cell_type == "code" and not tags(c) & HIDDEN_TAGS]


def markdown(book) -> str:
    return "\n\n".join(c.source for c in book.cells if c.cell_type == "markdown")


def glued_keys(book) -> set[str]:
    keys = set()
    for cell in book.cells:
        if cell.cell_type == "code" and "remove-cell" in tags(cell):
            keys |= set(re.findall(r'\bglue\(\s*"([\w-]+)"', cell.source))
    return keys


def test_the_chapter_follows_the_form():
    assert chapter_problems(CHAPTER) == []


def test_it_opens_the_workspace_at_the_threshold_and_shows_no_page_machinery(book):
    code = visible_code(book)
    assert "ws = mr.Workspace.open(data_path, dataset, runs_dir, threshold=threshold)" in code[0]
    parameters = next(c.source for c in book.cells if "parameters" in tags(c))
    assert re.search(r"^threshold: float = 4\.0  #", parameters, re.M)
    assert re.search(r"^sgd_momentum: float = 0\.9  #", parameters, re.M)
    joined = "\n".join(code)
    for machinery in ("mr.book.", "glue(", "ws.sweep", "record_results", "format_"):
        assert machinery not in joined, machinery


def test_every_train_config_passes_the_threshold_and_the_momentum(book):
    calls = [
        node
        for source in visible_code(book)
        for node in ast.walk(
            ast.parse("\n".join(line for line in source.splitlines() if not line.startswith("%")))
        )
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("TrainConfig")
    ]
    assert calls
    for call in calls:
        keywords = {k.arg: ast.unparse(k.value) for k in call.keywords}
        assert keywords.get("threshold") == "threshold"
        assert keywords.get("momentum") == "sgd_momentum"


def test_the_eigen_alternation_cost_is_never_called_a_bound(book):
    prose = markdown(book).lower()
    for wording in ("best cost", "best possible", "lowest possible", "no embedding costs less than"):
        assert wording not in prose, wording
    assert "lowest cost found" in prose and "eigen-alternation" in prose


def test_every_claim_and_glued_key_is_glued_and_every_claim_has_a_note(book):
    prose = markdown(book)
    glued = glued_keys(book)
    used = set(re.findall(r"\{glue:(?:text|table|figure)\}`?\s*([\w-]+)", prose))
    assert used <= glued, sorted(used - glued)
    claims = re.findall(r"```\{claim\} ([\w-]+)\n(.*?)\n\s*```", prose, re.S)
    assert len(claims) >= 6
    for key, body in claims:
        assert key in glued and key.startswith("claim-"), key
        assert sum(line.strip() == "+++" for line in body.splitlines()) == 1, key
    assert "{glue:md}" not in prose


def test_the_bound_is_stated_with_the_momentum_and_not_as_a_guarantee(book):
    prose = markdown(book)
    assert "3.8" not in prose and "0.9" not in prose  # the bound follows sgd_momentum
    assert "2(1+\\beta)" in prose and "{glue:text}`sgd-momentum`" in prose
    assert "necessary, not sufficient" in prose
