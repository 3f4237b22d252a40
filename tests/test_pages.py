"""What pages are made of: checked parameters, the results cell, generated tables of the re-run
and teachers' pages, and the student edition's scrubbing."""

from __future__ import annotations

import math

import pytest
import yaml

from conftest import ROOT
from movierec.book import pages
from movierec.book.build import check_notebooks, exercises_table, parameters_page_table
from movierec.book.profiles import PARAMETERS, ProfileLoader, load_profile, validate_parameters, with_declared
from movierec.book.sphinxext import strip_notebook_solutions, strip_solution_blocks
from movierec.book.toc import chapter_names, toc_pages
from movierec.errors import ParameterError


def test_numbers_written_like_1e_minus_5_are_numbers():
    assert yaml.load("a: [1e-5, 3.0e-5, 1, 1e5]", Loader=ProfileLoader) == {"a": [1e-5, 3e-5, 1, 1e5]}
    assert validate_parameters({"study_lrs": {"sgd": ["1e-5", 3e-5]}}) == {"study_lrs": {"sgd": [1e-5, 3e-5]}}
    assert validate_parameters({"model_lr": "0.5"}) == {"model_lr": 0.5}
    with pytest.raises(ParameterError, match="model_lr='fast' has the wrong type"):
        validate_parameters({"model_lr": "fast"})


def test_a_profile_with_1e_minus_5_loads(tmp_path):
    profile = tmp_path / "p.yml"
    profile.write_text("study_lrs:\n  sgd: [1e-5, 3e-5]\n  rmsprop: [0.01]\n")
    assert load_profile(profile) == {"study_lrs": {"sgd": [1e-5, 3e-5], "rmsprop": [0.01]}}


def test_mapping_parameters_are_checked():
    with pytest.raises(ParameterError, match="must be a mapping of names to non-empty lists of numbers"):
        validate_parameters({"eval_lrs": {"adam": []}})
    with pytest.raises(ParameterError, match="baseline_grids"):
        validate_parameters({"baseline_grids": {"ease": [1.0]}})


def test_help_texts_are_parseable_by_papermill():
    for name, parameter in PARAMETERS.items():
        assert "=" not in parameter.help and "'" not in parameter.help, name


def test_json_safe_results():
    assert pages._json_safe({"x": [math.nan, 1.0, math.inf], "y": {"z": -math.inf}}) == {
        "x": [None, 1.0, None],
        "y": {"z": None},
    }


def test_solutions_are_stripped_from_sources():
    markdown = (
        "Q\n\n```{solution} ex-1\n:class: dropdown\n\nA {glue:text}`x`\n```\n\nafter\n\n"
        "````{solution} ex-2\nB\n````\n"
    )
    assert strip_solution_blocks(markdown) == "Q\n\n\nafter\n\n"
    notebook = {
        "cells": [
            {"cell_type": "code", "metadata": {"tags": ["remove-cell", "solution"]}, "source": "secret = 1"},
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": ["```{exercise}\n:label: e\n\nQ?\n```\n", markdown],
            },
        ]
    }
    scrubbed = strip_notebook_solutions(notebook)
    assert len(scrubbed["cells"]) == 1 and "{solution}" not in scrubbed["cells"][0]["source"]
    assert "{exercise}" in scrubbed["cells"][0]["source"]


def test_gated_solutions_lose_their_code_and_fences():
    notebook = {
        "cells": [
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": "```{exercise}\n:label: e\n\nWrite it.\n```\n",
            },
            {"cell_type": "code", "metadata": {}, "source": "def answer(): ...\nmr.exercises.check(answer)"},
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": "```{solution-start} e\n:class: dropdown\n```\n",
            },
            {"cell_type": "code", "metadata": {"tags": ["solution"]}, "source": "def answer(): return 1"},
            {"cell_type": "markdown", "metadata": {}, "source": "```{solution-end}\n```\n\nNext."},
        ]
    }
    scrubbed = strip_notebook_solutions(notebook)
    sources = [cell["source"] for cell in scrubbed["cells"]]
    assert "Write it." in sources[0] and "def answer(): ..." in sources[1]
    assert not any("return 1" in source or "{solution" in source or "Hint" in source for source in sources)
    assert sources[-1].strip() == "Next."


def test_generated_tables_follow_the_schema_and_the_notebooks():
    schema = with_declared(check_notebooks(ROOT))
    table = parameters_page_table(schema)
    assert all(f"| `{name}` |" in table for name in PARAMETERS)
    exercises = exercises_table(ROOT, schema)
    assert "{ref}`ex-model-dim` | `dim` |" in exercises
    assert all(f"{{doc}}`executed/{name}`" in exercises for name in chapter_names(ROOT))
    assert toc_pages(ROOT)[0] == "book/intro" and "book/references" in toc_pages(ROOT)


def test_timings_name_the_processor_and_how_each_chapter_shared_it(tmp_path):
    import nbformat

    from movierec.book.build import EXECUTED_DIR, timings_table

    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n"
        "  - file: book/executed/01_x\n  - file: book/executed/02_y\n"
    )
    (tmp_path / "notebooks").mkdir()
    (tmp_path / EXECUTED_DIR).mkdir(parents=True)
    for name in ("01_x", "02_y"):
        (tmp_path / "notebooks" / f"{name}.ipynb").write_text("{}")
    book = nbformat.v4.new_notebook()
    book.metadata["movierec"] = {
        "seconds": 12.25,
        "machine": "Xeon, 2 cores, 1 torch thread",
        "chapters_at_once": 2,
    }
    nbformat.write(book, tmp_path / EXECUTED_DIR / "01_x.ipynb")
    lines = timings_table(tmp_path).splitlines()
    assert lines[0] == "On Xeon, 2 cores:"
    assert "| chapter {doc}`executed/01_x` | 1 torch thread, 2 chapters at a time | 12.2 |" in lines
    assert "| chapter {doc}`executed/02_y` | not recorded | not recorded |" in lines
    assert lines[-1] == "| **all of the above** | | **12** |"


@pytest.mark.parametrize("edition", ["instructor", "student"])
def test_every_page_footer_carries_the_licences(tmp_path, edition):
    from movierec.book.build import edition_config

    for name in ("_config.yml", "_toc.yml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    config = yaml.safe_load(edition_config(tmp_path, edition, "smoke").read_text())
    footer = config["sphinx"]["config"]["html_theme_options"]["extra_footer"]
    assert "Built with profile <code>smoke</code>" in footer
    assert (
        "Text and figures \u00a9 2026 The movierec authors, licensed under "
        '<a href="https://creativecommons.org/licenses/by/4.0/" rel="license">CC BY 4.0</a>' in footer
    )
    assert "code under the MIT licence" in footer and "not redistributed" in footer


def test_chapters_start_longest_first(tmp_path):
    import nbformat

    from movierec.book.build import EXECUTED_DIR, longest_first

    executed = tmp_path / EXECUTED_DIR
    executed.mkdir(parents=True)
    paths = [tmp_path / "notebooks" / f"0{k}_x.ipynb" for k in range(1, 5)]
    for path, seconds in zip(paths[:2], (5.0, 50.0), strict=True):
        book = nbformat.v4.new_notebook()
        book.metadata["movierec"] = {"seconds": seconds}
        nbformat.write(book, executed / path.name)
    order = [path.name for path in longest_first(paths, tmp_path)]
    assert order == ["02_x.ipynb", "01_x.ipynb", "04_x.ipynb", "03_x.ipynb"]
