"""The book's page directives on a one-chapter book, executed as the driver executes chapters:
``{claim}`` (a sentence for the published run, or the note written for a run where it fails),
``{glue:figures}`` (one numbered figure per glued key, however many there are) and tables shown
or glued as data (numbered Sphinx tables, never glued Markdown)."""

from __future__ import annotations

import re
import shutil

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import ROOT

PAGE = """# Claims

```{claim} holds
The published sentence that holds.
+++
A note that must not show.
```

```{claim} fails
The published sentence that is false here.
+++
In this run the rate is {glue:text}`rate`.
```

```{claim} absent
A sentence about a run this build did not make.
+++
Its note.
```

```{glue:figures} curves
:name: fig-curves

Cost per epoch of **{name}**.
```

See {numref}`fig-curves-adam`, {numref}`fig-curves-rmsprop` and {numref}`tbl-named`.

```{glue:table} scores
:name: tbl-scores

Scores by run.
```
"""

CODE = """\
%matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
from myst_nb import glue

glue("holds", 2 > 1, display=False)
glue("fails", 1 > 2, display=False)
glue("rate", "0.1", display=False)
glue("absent", None, display=False)
for name in ("Adam", "SGD", "RMSprop"):
    figure, axes = plt.subplots()
    axes.plot([3, 2, 1])
    glue(f"curves-{name}", figure, display=False)
    plt.close(figure)
scores = pd.DataFrame({"run": ["adam lr=0.5", "sgd lr=1e-05"], "cost": [1308832.0, 2.5e9]})
glue("scores", scores, display=False)
from movierec.book.tables import table
display(table(scores, caption="A table named in its data.", name="tbl-named"))
scores
"""


def one_chapter_book(root):
    """A book of one executed chapter holding :data:`PAGE`, with the real configuration."""
    from movierec.book.build import execute_notebook

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    (root / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: book/executed/01_x\n"
    )
    shutil.copytree(ROOT / "book" / "_assets", root / "book" / "_assets")
    (root / "book" / "references.bib").write_text("")
    (root / "book" / "intro.md").write_text("# Tiny\n\n```{tableofcontents}\n```\n")
    (root / "notebooks").mkdir()
    notebook = new_notebook(
        cells=[new_markdown_cell(PAGE), new_code_cell(CODE, metadata={"tags": ["remove-input"]})]
    )
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    source = root / "notebooks" / "01_x.ipynb"
    nbformat.write(notebook, source)
    execute_notebook(source, root / "book" / "executed" / "01_x.ipynb", {}, "test", root)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from movierec.book.build import build_html

    root = tmp_path_factory.mktemp("directives")
    one_chapter_book(root)
    html = build_html(root, "instructor", "smoke")
    return (html / "book" / "executed" / "01_x.html").read_text()


@pytest.mark.notebooks
class TestPageDirectives:
    def test_a_claim_that_holds_shows_its_sentence_and_no_note(self, page):
        assert "The published sentence that holds." in page
        assert "A note that must not show." not in page

    def test_a_claim_that_fails_shows_its_note_in_place_of_the_sentence(self, page):
        assert "The published sentence that is false here." not in page
        note = re.search(r'<div class="[^"]*movierec-claim-note[^"]*">(.*?)</div>', page, re.S)
        assert note and "In this run" in note.group(1) and "In this run the rate is" in note.group(1)
        assert "0.1" in note.group(1)

    def test_a_claim_checked_as_none_shows_neither_part(self, page):
        assert "a run this build did not make" not in page and "Its note." not in page

    def test_every_glued_figure_of_a_prefix_is_a_numbered_captioned_figure(self, page):
        captions = re.findall(
            r'<span class="caption-number">Fig\. (\d+) </span>.*?Cost per epoch of <strong>(\w+)</strong>',
            page,
            re.S,
        )
        assert captions == [("1", "Adam"), ("2", "SGD"), ("3", "RMSprop")]
        assert 'id="fig-curves-rmsprop"' in page and "Fig. 3</span>" in page
        assert re.findall(r'<img alt="([^"]*)"', page)[:3] == [
            f"Cost per epoch of {name}." for name in ("Adam", "SGD", "RMSprop")
        ]

    def test_tables_are_sphinx_tables_from_data_shown_and_glued(self, page):
        tables = re.findall(r"<table[^>]*>.*?</table>", page, re.S)
        assert len(tables) == 3 and all("mr-table" in table and "1,308,832" in table for table in tables)
        assert 'id="tbl-named"' in page and "A table named in its data." in page
        assert '<span class="caption-number">Table 1 </span>' in page and "Scores by run." in page


@pytest.mark.notebooks
def test_a_claim_check_that_is_not_a_bool_fails_the_build(tmp_path):
    from movierec.book.build import BookError, build_html

    one_chapter_book(tmp_path)
    executed = tmp_path / "book" / "executed" / "01_x.ipynb"
    text = executed.read_text().replace("```{claim} holds", "```{claim} rate")
    executed.write_text(text)
    with pytest.raises(BookError, match=r"claim check 'rate' must be glued as a bool \(or None"):
        build_html(tmp_path, "instructor", "smoke")
