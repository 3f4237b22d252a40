"""Chapter 8, "What should the embeddings fit?" (notebooks/08_targets.ipynb): its visible code is
the subject, its prose is the page's Markdown (numbers glued, claims checked), and under the
smoke profile every key the Markdown names was glued, each claim's check as a bool."""

from __future__ import annotations

import re

import nbformat
import pytest

from conftest import ROOT
from movierec.book.build import EXECUTED_DIR
from movierec.book.lint import HIDDEN_TAGS, MACHINERY

SOURCE = ROOT / "notebooks" / "08_targets.ipynb"
CLAIM = re.compile(r"^\s*(`{3,})\{claim\} ([\w-]+)\n(.*?)^\s*\1\s*$", re.M | re.S)
GLUED_ROLE = re.compile(r"\{glue:text\}`([\w-]+)`")
GLUED_BLOCK = re.compile(r"\{glue:(?:table|figure)\} ([\w-]+)")


def cells(notebook):
    return [cell for cell in notebook.cells if "injected-parameters" not in cell.metadata.get("tags", [])]


def visible_code(notebook) -> list[str]:
    return [
        cell.source
        for cell in cells(notebook)
        if cell.cell_type == "code" and not HIDDEN_TAGS & set(cell.metadata.get("tags", []))
    ]


def markdown(notebook) -> str:
    return "\n".join(cell.source for cell in cells(notebook) if cell.cell_type == "markdown")


@pytest.fixture(scope="module")
def source():
    return nbformat.read(SOURCE, as_version=4)


def test_visible_code_is_the_subject(source):
    code = visible_code(source)
    assert not [block for block in code if MACHINERY.search(block) or "ws.sweep" in block]
    assert "ws = mr.Workspace.open(data_path, dataset, runs_dir, threshold=threshold)" in code[0]
    search = next(block for block in code if "search_targets(" in block)
    assert "sgd_momentum=sgd_momentum" in search  # the book's momentum reaches the targets' SGD runs
    assert any("plt.subplots(" in block and "set_xlabel" in block for block in code)


def test_prose_is_markdown_with_glued_numbers(source):
    text = markdown(source)
    assert "{glue:md}" not in text
    assert not re.search(r"\bsay\(|mr\.book\.prose|mr\.book\.pages\.(glue|words|titles|table)\(", text)
    everything = "\n".join(cell.source for cell in cells(source))
    assert "_sentence(" not in everything and "setting_trend(" not in everything


def test_every_claim_has_its_note_and_a_glued_check(source):
    text = markdown(source)
    claims = CLAIM.findall(text)
    assert len(claims) >= 10
    hidden = "\n".join(
        cell.source
        for cell in cells(source)
        if cell.cell_type == "code" and "remove-cell" in cell.metadata.get("tags", [])
    )
    for _, key, body in claims:
        assert [line.strip() for line in body.splitlines()].count("+++") == 1, key
        assert f'glue(\n    "{key}"' in hidden or f'glue("{key}"' in hidden, key


def test_the_headline_claims_only_what_one_split_shows(source):
    text = markdown(source)
    assert "passes EASE" not in text and "The target is the lever" not in text
    assert "matches or edges past EASE" in text
    assert "resamples the test users\nonly" in text or "resamples the test users only" in text
    assert "budget-ease" in text and "budget-whitened-settings" in text  # the searches side by side
    assert "claim-hr-includes-zero" in text


def test_the_lowest_cost_found_is_never_called_the_optimum(source):
    text = markdown(source)
    assert "best cost" not in text and "% above its own optimum" not in text
    assert "lowest cost found" in text


@pytest.mark.notebooks
@pytest.mark.integration
def test_every_key_the_page_names_was_glued_under_smoke(smoke_book):
    root, html = smoke_book
    executed = nbformat.read(root / EXECUTED_DIR / "08_targets.ipynb", as_version=4)
    glued = {}
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook", {})
            if scrap.get("name"):
                prefix = scrap.get("mime_prefix", "")
                glued[scrap["name"]] = {
                    mime.removeprefix(prefix): data for mime, data in output["data"].items()
                }
    text = markdown(executed)
    named = set(GLUED_ROLE.findall(text)) | set(GLUED_BLOCK.findall(text))
    assert named - set(glued) == set()
    for _, key, _ in CLAIM.findall(text):
        assert glued[key]["text/plain"] in {"True", "False"}, key
    assert not [key for key, data in glued.items() if "text/markdown" in data]
    page = (html / "book" / "executed" / "08_targets.html").read_text()
    assert 'id="tbl-target-lists"' in page and "mean train likes" in page  # the row its sentence cites
