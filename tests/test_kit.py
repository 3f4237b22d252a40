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
    assert install_comment("") == (
        "# Run this notebook yourself: python -m pip install . (in your copy of the movierec repository), "
        "then run all cells."
    )
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


def synthetic_chapter(path):
    """A chapter of known counts: 18 words of prose, one equation, a figure, 3 visible code
    lines (and hidden ones), a code, a re-run and a think exercise, and solutions not counted."""
    markdown = (
        "# Title\n\nOne two three $x$ five {doc}`page`.\n\n$$\na = b\n$$ (eq-a)\n\n"
        "```{glue:figure} curve\n:name: fig-curve\n\nSeven eight.\n```\n\n{glue:md}`said`\n"
    )
    exercises = (
        "```{exercise}\n:label: ex-a\n\nWrite it.\n```\n\n"
        "```{solution-start} ex-a\n:class: dropdown\n```\n\nNot counted at all here.\n\n"
        "```{solution-end}\n```\n\n"
        "```{exercise}\n:label: ex-b\n\nSet `dim` to 3.\n```\n\n"
        "```{solution} ex-b\n:class: dropdown\n\nHidden words are not read.\n```\n\n"
        "```{exercise}\n:label: ex-c\n\nWhy?\n```\n"
    )
    glued = nbformat.v4.new_output(
        "display_data",
        data={"application/papermill.record/text/markdown": "Nine ten."},
        metadata={"scrapbook": {"name": "said", "mime_prefix": "application/papermill.record/"}},
    )
    cells = [
        nbformat.v4.new_code_cell("# install", metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_markdown_cell(markdown),
        nbformat.v4.new_code_cell("a = 1\n\nb = 2\nprint(a + b)", outputs=[glued]),
        nbformat.v4.new_code_cell("hidden = 1", metadata={"tags": ["hide-input"]}),
        nbformat.v4.new_markdown_cell(exercises),
    ]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def test_chapter_times_follow_the_stated_rule(tmp_path):
    from movierec.book import times

    time = times.chapter_time(synthetic_chapter(tmp_path / "01_x.ipynb"))
    assert (time.words, time.equations, time.code_lines, time.figures_tables) == (18, 1, 3, 1)
    assert time.exercises == {"code": 1, "rerun": 1, "think": 1}
    seconds = 18 * 60 / times.WORDS_PER_MINUTE + times.SECONDS_PER_EQUATION
    seconds += 3 * times.SECONDS_PER_CODE_LINE + times.SECONDS_PER_FIGURE_OR_TABLE
    assert time.reading_minutes == max(1, -(-seconds // 60))
    assert time.lab_minutes == sum(times.LAB_MINUTES.values())
    assert times.times_line(time) == f"Reading: {time.reading_minutes} min \u00b7 Lab: {time.lab_minutes} min"
    table = times.times_table([time])
    assert (
        table.startswith(times.rule_text()) and "| {doc}`executed/01_x` | 18 | 1 | 3 | 1 | 1, 1, 1 |" in table
    )
    assert f"{times.WORDS_PER_MINUTE} words a minute" in table and table.rstrip().endswith(
        f"**{time.reading_minutes}** | **{time.lab_minutes}** |\n````"
    )


def test_a_glued_figure_records_its_svg_and_a_300_dpi_png():
    import base64
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.pylabtools import select_figure_formats
    from PIL import Image

    from movierec.book.figures import PACK_KEY, PNG_DPI, PackedFigure, glued_figures, strip_pack_outputs

    select_figure_formats(InteractiveShell.instance(), {"png"})  # as in a kernel with %matplotlib inline
    figure, axes = plt.subplots(figsize=(4, 3))
    axes.plot([0, 1], [1, 0])
    bundle, metadata = PackedFigure(figure)._repr_mimebundle_()
    plt.close(figure)
    assert "image/png" in bundle and "text/plain" in bundle  # what the page shows
    recorded = metadata[PACK_KEY]
    assert recorded["svg"].lstrip().startswith("<?xml") and "<svg" in recorded["svg"]
    image = Image.open(io.BytesIO(base64.b64decode(recorded["png300"])))
    assert round(image.info["dpi"][0]) == PNG_DPI and image.size[0] > 3 * PNG_DPI
    output = {
        "output_type": "display_data",
        "data": bundle,
        "metadata": {**metadata, "scrapbook": {"name": "k"}},
    }
    notebook = {"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": [output]}]}
    assert glued_figures(notebook) == {"k": recorded}
    stripped = strip_pack_outputs(notebook)
    assert glued_figures(stripped) == {} and stripped["cells"][0]["outputs"][0]["data"] == bundle


def test_figures_are_matched_to_their_numbers_and_named_by_them():
    from movierec.book.figures import figure_occurrences, match_numbers, pack_name

    def glued(name: str, mime: str) -> dict:
        metadata = {"scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}}
        return {"data": {f"application/papermill.record/{mime}": "..."}, "metadata": metadata}

    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": "```{glue:figure} model\n:name: fig-model\n\nA.\n```"},
            {
                "cell_type": "code",
                "source": "",
                "outputs": [
                    glued("curves-Adam", "image/png"),
                    glued("curves-n", "text/plain"),
                    glued("curves-SGD", "image/png"),
                ],
            },
            {
                "cell_type": "markdown",
                "source": "```{glue:figures} curves\n:name: fig-curves\n\n{name}.\n```",
            },
            {
                "cell_type": "markdown",
                "source": "````{solution} ex\n```{glue:figure} sol-curve\n\nB.\n```\n````",
            },
        ]
    }
    occurrences = figure_occurrences(notebook)
    assert occurrences == [
        ("fig-model", "model"),
        ("fig-curves-adam", "curves-Adam"),
        ("fig-curves-sgd", "curves-SGD"),
        (None, "sol-curve"),
    ]
    numbered = {"fig-curves-sgd": (3, 3), "id1": (3, 4), "fig-curves-adam": (3, 2), "fig-model": (3, 1)}
    matched, missing = match_numbers(numbered, occurrences)
    assert [pack_name(number, label) for number, label, _ in matched] == [
        "fig-3.1-model",
        "fig-3.2-curves-adam",
        "fig-3.3-curves-sgd",
        "fig-3.4-sol-curve",
    ] and missing == []
    matched, missing = match_numbers({"fig-curves-adam": (3, 1), "id9": (3, 2)}, occurrences)
    assert [label for _, label, _ in matched] == ["fig-curves-adam"] and missing == ["id9"]


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

    def test_every_chapter_states_its_reading_and_lab_minutes(self, smoke_book):
        """Each chapter's "You will learn" box ends with the minutes that the rule stated on the
        teachers' page gives the counts in its row there, worked out here by that rule; and the
        counts that the built page shows are the row's: its visible lines of code (cells not
        hidden, removed or solutions) and its exercises, at least one of them code."""
        import html as entities
        import math
        import re

        from movierec.book.toc import chapter_names

        root, html = smoke_book
        teachers = (html / "book" / "teachers.html").read_text()
        rule = re.search(
            r"at (\d+) words a minute, plus (\d+) s per displayed equation, (\d+) s per visible line of "
            r"code and (\d+) s per figure or table, rounded up\. Lab minutes: per exercise, (\d+) min to "
            r"write code that its checker tests; (\d+) min to predict, change a book parameter and re-run; "
            r"(\d+) min to reason or derive on paper\.",
            teachers,
        )
        assert rule, "the teachers' page states no rule for the minutes"
        per_minute, per_equation, per_line, per_figure, *lab_minutes = map(int, rule.groups())
        table = teachers.split("Reading minutes", 1)[1]
        for name in chapter_names(root):
            row = re.search(rf'href="executed/{name}\.html">.*?</tr>', table, re.S)
            assert row, f"the teachers' table has no row for {name}"
            cells = re.findall(r'<td class="text-right"><p>([^<]*)</p></td>', row.group(0))
            words, equations, lines, shown = (int(cell.replace(",", "")) for cell in cells[:4])
            exercises = [int(count) for count in cells[4].split(", ")]  # code, re-run, think
            reading, lab = int(cells[5]), int(cells[6])
            seconds = words * 60 / per_minute + equations * per_equation + lines * per_line
            seconds += shown * per_figure
            assert reading == max(1, math.ceil(seconds / 60)), (name, cells)
            lab_by_rule = sum(minutes * count for minutes, count in zip(lab_minutes, exercises, strict=True))
            assert lab == lab_by_rule, (name, cells)
            page = (html / "book" / "executed" / f"{name}.html").read_text()
            box = page.split('<p class="admonition-title">You will learn</p>', 1)[1].split("</div>", 1)[0]
            assert f'<p class="movierec-times">Reading: {reading} min \u00b7 Lab: {lab} min</p>' in box, name
            assert reading > 1 and lab > 0, name
            assert exercises[0] >= 1 and sum(exercises) == page.count('class="exercise admonition"'), name
            visible, hidden = 0, {"remove-cell", "remove-input", "hide-input", "hide-cell", "solution"}
            for cell in re.finditer(r'<div class="cell((?: tag_[\w-]+)*) docutils container">', page):
                if hidden & set(re.findall(r"tag_([\w-]+)", cell.group(1))):
                    continue
                code = re.search(r'<div class="cell_input.*?<pre>(.*?)</pre>', page[cell.end() :], re.S)
                text = entities.unescape(re.sub(r"<[^>]+>", "", code.group(1)))
                visible += sum(1 for line in text.splitlines() if line.strip())
            assert lines == visible, (name, lines, visible)

    def test_the_figure_pack_holds_every_numbered_figure_as_svg_and_png(self, smoke_book):
        import re
        import zipfile

        from movierec.book.toc import chapter_names

        root, html = smoke_book
        numbers = []
        for name in chapter_names(root):
            page = (html / "book" / "executed" / f"{name}.html").read_text()
            numbers += re.findall(r'<span class="caption-number">Fig\. ([\d.]+) </span>', page)
        assert len(numbers) >= len(chapter_names(root)) and len(set(numbers)) == len(numbers)
        teachers = (html / "book" / "teachers.html").read_text()
        link = re.search(r'<a class="movierec-figure-pack reference external" href="([^"]+)"', teachers)
        pack = (html / "book" / link.group(1)).resolve()
        assert pack == (html / "figures" / "movierec-figures.zip").resolve()
        with zipfile.ZipFile(pack) as archive:
            names = sorted(archive.namelist())
            for member in names:
                data = archive.read(member)
                assert data.startswith(b"\x89PNG" if member.endswith(".png") else b"<?xml"), member
        stems = {name.rsplit(".", 1)[0] for name in names}
        assert names == sorted(f"{stem}.{kind}" for stem in stems for kind in ("png", "svg"))
        assert sorted(stem.split("-")[1] for stem in stems) == sorted(numbers)
        assert "fig-3.1-curves-adam" in stems and "fig-1.1-likes-per-movie" in stems


@pytest.fixture(scope="module")
def pdfs(smoke_book):
    """``make book-pdf`` on the smoke book, once for the module: (root, the PDFs' folder)."""
    from conftest import CHROMIUM
    from movierec.book.build import build_book

    if CHROMIUM is None or shutil.which("pdftotext") is None:
        pytest.skip("Chromium and pdftotext (poppler-utils) are needed to print and read the PDFs")
    root, _ = smoke_book
    folder = build_book("smoke", root, pdf=True)
    return root, folder


@pytest.mark.browser
@pytest.mark.notebooks
@pytest.mark.integration
class TestPdfEditions:
    """``make book-pdf`` on the smoke book: both editions printed by Chromium."""

    def texts(self, path):
        from movierec.book.pdf import page_texts

        return [text for text in page_texts(path) if text.strip()]

    def test_both_pdfs_have_page_numbers_and_a_contents_list(self, pdfs):
        import re

        from movierec.book.pdf import PDF_NAMES
        from movierec.book.toc import chapter_names

        root, folder = pdfs
        assert folder == root / "_build" / "pdf"
        for edition, name in PDF_NAMES.items():
            pages = self.texts(folder / name)
            assert len(pages) > 20, edition
            assert all(
                re.search(rf"\b{number} / {len(pages)}\s*$", page) for number, page in enumerate(pages, 1)
            )
            contents = "\n".join(pages[:4])
            assert "Contents" in pages[0] and "1. The data" in contents and "For teachers" in contents
            listed = re.findall(r"^\s*(\d)\. (.+?)\s{2,}(\d+)\s*$", contents, re.M)
            assert len(listed) == len(chapter_names(root)), edition
            for number, title, page in listed:  # each chapter opens its page, where the contents says
                assert " ".join(pages[int(page) - 1].split()[:8]).startswith(f"{number}. {title.split()[0]}")
            text = "\n".join(pages)
            assert "\\(" not in text and "$$" not in text, "maths left untypeset"

    def test_every_figure_is_in_both_pdfs(self, pdfs):
        import subprocess

        root, folder = pdfs
        if shutil.which("pdfimages") is None:
            pytest.skip("pdfimages (poppler-utils) is needed to count the images")
        counts = {}
        for name in ("movierec-instructor.pdf", "movierec-student.pdf"):
            listing = subprocess.run(
                ["pdfimages", "-list", str(folder / name)], capture_output=True, text=True
            )
            counts[name] = len(listing.stdout.strip().splitlines()[2:])
        assert (
            counts["movierec-student.pdf"] >= 10
            and counts["movierec-instructor.pdf"] > counts["movierec-student.pdf"]
        )
        text = "\n".join(self.texts(folder / "movierec-instructor.pdf"))
        assert "Fig. 3.1" in text and "Fig. 8.1" in text

    def test_the_student_pdf_holds_no_solution(self, pdfs):
        from movierec.book.toc import EXECUTED_DIR, chapter_names

        root, folder = pdfs
        instructor = "\n".join(self.texts(folder / "movierec-instructor.pdf"))
        student = "\n".join(self.texts(folder / "movierec-student.pdf"))
        assert instructor.count("Solution") >= 2 * len(chapter_names(root)) and "Exercise 2.2" in student
        assert "Solution" not in student
        solution_lines, other_lines = set(), set()
        for name in chapter_names(root):  # the solutions' own code lines (a gated solution's code)
            for cell in nbformat.read(root / EXECUTED_DIR / f"{name}.ipynb", as_version=4).cells:
                tags = set(cell.metadata.get("tags", []))
                if cell.cell_type != "code" or "remove-cell" in tags:
                    continue
                lines = {line.strip() for line in cell.source.splitlines() if 12 <= len(line.strip()) <= 60}
                (solution_lines if "solution" in tags else other_lines).update(lines)
        own = solution_lines - other_lines
        assert own and any(line in instructor for line in own)
        assert not [line for line in own if line in student]


def assert_editions_agree(root, build, profile: str) -> None:
    """Build the student edition after the instructor's, with ``profile``: the same executed
    chapters (none executed again), the same recorded results, the same numbers in every
    chapter's summary, and "For teachers" saying so."""
    import html as markup
    import os
    import re

    from movierec.book.build import EXECUTED_DIR, read_editions
    from movierec.book.pages import read_results
    from movierec.book.toc import chapter_names

    chapters = [root / EXECUTED_DIR / f"{name}.ipynb" for name in chapter_names(root)]
    instructor = build(profile, root)
    results = [read_results(path) for path in chapters]
    stamps = [os.stat(path).st_mtime_ns for path in chapters]
    student = build(profile, root, edition="student")
    assert [os.stat(path).st_mtime_ns for path in chapters] == stamps
    assert [read_results(path) for path in chapters] == results
    records = read_editions(root)
    assert records["instructor"]["profile"] == records["student"]["profile"] == profile
    assert records["instructor"]["results"] == records["student"]["results"]

    def summary(folder, name):
        page = (folder / "book" / "executed" / f"{name}.html").read_text()
        found = re.search(r'<section id="summary">(.*?)</section>', page, re.S)
        return " ".join(markup.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())

    for name in chapter_names(root):
        assert summary(instructor, name) == summary(student, name), name
    teachers = " ".join(re.sub(r"<[^>]+>", " ", (student / "book" / "teachers.html").read_text()).split())
    assert f"This student edition was built with profile {profile}" in teachers
    assert f"The instructor edition was built with profile {profile}" in teachers
    assert "from the same executed chapters" in teachers


@pytest.mark.notebooks
@pytest.mark.integration
def test_both_smoke_editions_show_the_same_results(smoke_book):
    from movierec.book.build import build_book

    root, _ = smoke_book
    assert_editions_agree(root, build_book, "smoke")


@pytest.mark.notebooks
@pytest.mark.integration
@pytest.mark.slow
def test_both_lab_editions_show_the_same_results(archive, tmp_path, monkeypatch):
    """The lab profile, from an empty run store (minutes on two cores)."""
    from conftest import copy_book_sources
    from movierec.book.build import build_book

    copy_book_sources(tmp_path)
    monkeypatch.setenv("MOVIEREC_DATA", str(archive))
    monkeypatch.setenv("MOVIEREC_RUNS", str(tmp_path / "runs"))
    assert_editions_agree(tmp_path, build_book, "lab")
