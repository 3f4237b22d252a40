"""What a teacher is handed besides the HTML book (issue 20): the repository setting and its
links, the install line, chapter times, the figure pack, the PDF editions and the lab profile."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest
import yaml

from conftest import ROOT
from movierec.book.build import (
    install_command,
    install_comment,
    launch_settings,
    repository_url,
    setup_block,
)
from movierec.book.sphinxext import launch_url, set_install_line

URL = "https://github.com/example-org/movierec"


def test_the_repository_is_one_setting_unset_here():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"] == "" and repository_url(ROOT) == ""


def test_without_a_url_nothing_names_or_launches_a_repository():
    block = setup_block("")
    assert "git clone" not in block and "<" not in block and "make book" in block
    assert install_command("") == "python -m pip install ."
    assert install_comment("").startswith("# Run this notebook yourself: in your copy of the movierec")
    config = {"launch_buttons": {"colab_url": "https://colab.research.google.com"}, "html": {}}
    launch_settings(config, "")
    assert "launch_buttons" not in config and config["html"]["use_repository_button"] is False


def test_with_a_url_the_clone_install_and_launch_settings_use_it():
    assert setup_block(URL).splitlines()[3] == f"git clone {URL} movierec && cd movierec"
    assert install_command(URL) == f'python -m pip install "movierec @ git+{URL}"'
    assert URL in install_comment(URL) and "\n" not in install_comment(URL)
    config: dict = {}
    launch_settings(config, URL)
    assert config["html"]["use_repository_button"] is True and config["repository"]["url"] == URL
    assert set(config["launch_buttons"]) == {"binderhub_url", "colab_url", "notebook_interface"}
    launch_settings(other := {}, "https://gitlab.com/example-org/movierec")
    assert "colab_url" not in other["launch_buttons"]  # Colab opens GitHub repositories only


def test_launch_buttons_open_the_source_notebook_git_holds():
    built = "https://colab.research.google.com/github/o/r/blob/main/book/executed/02_model.ipynb"
    sources = {"book/executed/": "notebooks/"}
    assert launch_url(built, "book/executed/02_model", sources).endswith(
        "/blob/main/notebooks/02_model.ipynb"
    )
    assert launch_url(built, "book/intro", sources) == built
    download = "../../_sources/book/executed/02_model.ipynb"
    assert launch_url(download, "book/executed/02_model", sources) == download


def test_the_install_line_replaces_only_the_install_line():
    cell = {"cell_type": "code", "source": "# Run this notebook yourself: old\n# data: x", "metadata": {}}
    notebook = {"cells": [cell]}
    assert set_install_line(notebook, "# new")["cells"][0]["source"] == "# new\n# data: x"
    other = {"cells": [{**cell, "source": "import movierec"}]}
    assert set_install_line(other, "# new") is other


def tiny_book(root, url: str):
    """A one-chapter book with the real configuration and extension, and ``repository.url``."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["repository"]["url"] = url
    (root / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: book/executed/01_x\n"
    )
    (root / "book" / "executed").mkdir(parents=True)
    shutil.copytree(ROOT / "book" / "_assets", root / "book" / "_assets")
    (root / "book" / "references.bib").write_text("")
    (root / "book" / "intro.md").write_text("# Tiny\n\n```{tableofcontents}\n```\n")
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "# Run this notebook yourself: old line\n# second line", metadata={"tags": ["remove-cell"]}
            ),
            nbformat.v4.new_markdown_cell("# A chapter\n\nText."),
            nbformat.v4.new_code_cell("1 + 1"),
        ]
    )
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, root / "book" / "executed" / "01_x.ipynb")


@pytest.mark.notebooks
@pytest.mark.parametrize("url", ["", URL], ids=["unset", "set"])
def test_both_builds_link_only_what_exists(tmp_path, url):
    from movierec.book.build import build_html

    tiny_book(tmp_path, url)
    html = build_html(tmp_path, "instructor", "smoke")
    page = (html / "book" / "executed" / "01_x.html").read_text()
    downloaded = json.loads((html / "_sources" / "book" / "executed" / "01_x.ipynb").read_text())
    first = "".join(downloaded["cells"][0]["source"])
    assert first.splitlines() == [install_comment(url), "# second line"]
    assert "&lt;this repository&gt;" not in page and "executablebooks" not in page
    if not url:
        assert "mybinder" not in page and "colab" not in page.lower() and "github.com" not in page
        return
    assert (
        "https://mybinder.org/v2/gh/example-org/movierec/main?urlpath=lab/tree/notebooks/01_x.ipynb" in page
    )
    assert (
        "https://colab.research.google.com/github/example-org/movierec/blob/main/notebooks/01_x.ipynb" in page
    )
    assert f'href="{URL}"' in page and 'href="../../_sources/book/executed/01_x.ipynb"' in page


@pytest.mark.notebooks
@pytest.mark.integration
class TestSmokeKit:
    """The smoke book (built once per session by conftest's ``smoke_book``)."""

    def test_the_rerun_page_starts_without_a_placeholder_or_dead_link(self, smoke_book):
        _, html = smoke_book
        page = (html / "book" / "rerun.html").read_text()
        assert "this repository&gt;" not in page and "git clone" not in page
        assert "in the folder of your copy of the movierec repository" in page
        for name in ("rerun", "executed/02_model"):
            text = (html / "book" / f"{name}.html").read_text()
            assert "mybinder" not in text and "colab.research" not in text and "executablebooks" not in text
