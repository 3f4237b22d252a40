"""The book's notebooks: parameters match the schema; under smoke every page executes,
records its results, states only what its results show, and the HTML builds with warnings
as errors, in both editions."""

from __future__ import annotations

import ast
import html
import json
import os
import re

import nbformat
import numpy as np
import pytest
import yaml

from conftest import ROOT
from movierec.book.build import EXECUTED_DIR, build_book, install_comment, notebook_parameters, repository_url
from movierec.book.lint import chapter_problems
from movierec.book.pages import read_results
from movierec.book.profiles import PARAMETERS
from movierec.book.toc import chapter_names
from movierec.errors import ParameterError

COURSE_TITLES = {"Apollo 13 (1995)", "Toy Story (1995)", "Home Alone (1990)"}
CHAPTERS = chapter_names(ROOT)


def page_text(page: str) -> str:
    """A built page's text, tags dropped and spaces collapsed (none before punctuation)."""
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    return re.sub(r" ([,.:;])", r"\1", text)


NOTEBOOK_PATHS = [ROOT / "notebooks" / f"{name}.ipynb" for name in CHAPTERS]


def execute_chapter(name: str, parameters: dict, archive, tmp_path, monkeypatch):
    """One chapter run alone with papermill, as a reader would, on the real archive and a fresh
    run store; the executed copy's path."""
    import papermill

    monkeypatch.setenv("MOVIEREC_DATA", str(archive))
    monkeypatch.setenv("MOVIEREC_RUNS", str(tmp_path / "runs"))
    target = tmp_path / f"{name}.ipynb"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / f"{name}.ipynb"),
        str(target),
        parameters=parameters,
        cwd=str(ROOT),
        progress_bar=False,
        kernel_name="python3",
    )
    return target


def test_chapters_come_from_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    assert CHAPTERS and all(f"book/executed/{name}" in toc for name in CHAPTERS)
    assert CHAPTERS[:2] == ["01_data", "02_model"]


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=CHAPTERS)
def test_parameters_cell_matches_the_schema(path):
    declared = notebook_parameters(path)
    assert declared, f"{path.name} declares no parameters"
    for name, parameter in declared.items():
        assert name in PARAMETERS, f"{path.name}: {name} is not a book parameter"
        assert parameter["inferred_type_name"] == PARAMETERS[name].type, name
        assert ast.literal_eval(parameter["default"]) == PARAMETERS[name].default, name
        assert parameter["help"] == PARAMETERS[name].help, (
            f"{path.name}: {name}'s help differs from the schema"
        )


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=CHAPTERS)
def test_sources_follow_the_chapter_form(path):
    assert chapter_problems(path) == []
    assert notebook_parameters(path), f"{path.name} declares no parameters"


def test_every_profile_is_valid():
    from movierec.book.profiles import load_profile

    for profile in (ROOT / "book" / "profiles").glob("*.yml"):
        assert isinstance(load_profile(profile), dict)


def test_unknown_parameter_fails_the_driver_before_any_work(tmp_path, monkeypatch):
    profile = tmp_path / "typo.yml"
    profile.write_text(yaml.safe_dump({"epochs": 3, "learning_rate": 0.1}))
    monkeypatch.setenv("MOVIEREC_DATA", str(tmp_path / "never-read.zip"))
    with pytest.raises(ParameterError, match="unknown parameter.*learning_rate"):
        build_book(str(profile), ROOT)


@pytest.mark.parametrize(
    "values,message",
    [
        (
            {"study_lrs": {"adam": [0.1, -1.0]}},
            r"study_lrs.adam\[1\]=-1.0 is not allowed: lr must be a positive number",
        ),
        ({"study_lrs": {"adamm": [0.1]}}, "study_lrs.adamm='adamm' is not allowed: optimizer must be one of"),
        ({"epochs": 0}, "epochs=0 is not allowed: epochs must be an integer >= 1"),
        ({"dim": 0}, "dim=0 is not allowed"),
        ({"model_lr": -0.5}, "model_lr=-0.5 is not allowed: lr must be a positive number"),
        ({"dim": "half"}, "dim='half' has the wrong type: dim must be an integer or \"full\""),
        ({"study_lrs": [0.1]}, "study_lrs=\\[0.1\\] has the wrong type: study_lrs must be a mapping"),
    ],
)
def test_bad_values_fail_before_the_data_is_read(tmp_path, monkeypatch, values, message):
    profile = tmp_path / "bad.yml"
    profile.write_text(yaml.safe_dump(values))
    monkeypatch.setenv("MOVIEREC_DATA", str(tmp_path / "never-read.zip"))
    with pytest.raises(ParameterError, match=message):
        build_book(str(profile), ROOT)


def test_wrong_type_in_profile_is_named(tmp_path):
    profile = tmp_path / "bad.yml"
    profile.write_text("epochs: ten\n")
    with pytest.raises(ParameterError, match="epochs='ten' has the wrong type: epochs must be an integer"):
        build_book(str(profile), ROOT)


@pytest.mark.notebooks
@pytest.mark.integration
class TestSmokeBook:
    def results(self, smoke_book, name):
        root, _ = smoke_book
        return read_results(root / EXECUTED_DIR / f"{name}.ipynb")

    def page(self, smoke_book, name):
        _, html = smoke_book
        return (html / "book" / "executed" / f"{name}.html").read_text()

    def test_data_page_reproduces_the_reference_figures(self, smoke_book):
        results = self.results(smoke_book, "01_data")
        assert results["summary"] == {
            "movies": 9742,
            "ratings": 100836,
            "users": 610,
            "rated movies": 9724,
            "likes (rating >= 4)": 48580,
            "X non-zeros": 6000360,
            "X max": 168,
            "X sum": 11098852,
            "||X||^2": 63482944,
        }
        assert results["x_slice"][0] == [0, 21, 11, 0, 7, 27, 7, 1, 4, 19]
        assert results["same_as_package"] and results["threshold"] == 4.0
        page = self.page(smoke_book, "01_data")
        assert "100,836" in page and "63,482,944" in page

    def test_model_page_checks_exactness_and_trains(self, smoke_book):
        results = self.results(smoke_book, "02_model")
        assert results["check_relative_difference"] < 1e-12
        assert results["epochs"] == 5 + 1 and results["status"] == "finished"
        assert results["final_cost"] < results["first_cost"]
        assert results["loop_epochs"] == 5 and results["loop_relative_difference"] < 1e-4
        assert len(results["timing_seconds"]) == 2 and min(results["timing_seconds"]) > 0

    def test_optimizer_page_records_each_run_and_states_only_what_they_show(self, smoke_book):
        runs = {(r["optimizer"], r["lr"]): r for r in self.results(smoke_book, "03_optimizers")["runs"]}
        assert set(runs) == {("adam", 0.1), ("adam", 0.01), ("sgd", 0.1), ("sgd", 1e-5)}
        assert runs[("sgd", 0.1)]["status"] == "diverged"
        assert runs[("sgd", 0.1)]["diverged_epoch"] == runs[("sgd", 0.1)]["epochs"] - 1
        assert runs[("adam", 0.1)]["status"] == "finished"
        text = page_text(self.page(smoke_book, "03_optimizers"))
        assert "SGD blew up at its larger rates, 0.1, by epoch 1, and ran all 5 epochs at 1e-5" in text
        assert "Adam ran all 5 epochs at every rate" in text and "This study trains" not in text
        assert (
            self.results(smoke_book, "04_recommendations")["keys"]
            == self.results(smoke_book, "03_optimizers")["keys"]
        )

    def test_no_page_glues_markdown_and_none_shows_machinery(self, smoke_book):
        """Issue 29's measures on every executed chapter: no glued Markdown (a sentence written
        by Python), no visible code that is the page's machinery."""
        root, _ = smoke_book
        for name in CHAPTERS:
            book = nbformat.read(root / EXECUTED_DIR / f"{name}.ipynb", as_version=4)
            mimes = {
                mime
                for cell in book.cells
                for output in cell.get("outputs", [])
                for mime in output.get("data", {})
            }
            assert not any("markdown" in mime for mime in mimes), name
            shown = chapter_problems(root / EXECUTED_DIR / f"{name}.ipynb")
            assert [problem for problem in shown if "machinery" in problem] == [], name

    def test_recommendation_lists_exclude_inputs(self, smoke_book):
        results = self.results(smoke_book, "04_recommendations")
        assert set(results["inputs"]) == COURSE_TITLES
        assert results["lists"] and all(len(titles) == 5 for titles in results["lists"].values())
        assert all(not COURSE_TITLES & set(titles) for titles in results["lists"].values())
        assert "sgd lr=0.1" not in results["lists"]
        assert results["same_list"] and results["torch_list"] == results["lists"][results["best"]]
        page = self.page(smoke_book, "04_recommendations")
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        assert 'movierec recommend "Apollo 13 (1995)" "Toy Story (1995)" "Home Alone (1990)"' in text
        assert "close runs keep the list" not in page

    def test_course_page_says_what_this_profile_ran(self, smoke_book):
        results = self.results(smoke_book, "05_course")
        assert results["first_cost"] is None and results["printed_first_cost"] == 57_846_087_680
        assert "ran no epoch at" in self.page(smoke_book, "05_course")

    def test_evaluation_page_states_its_answer_with_an_interval(self, smoke_book):
        results = self.results(smoke_book, "06_recommend_well")
        best = max(results["ndcg_test"], key=results["ndcg_test"].get)
        text = page_text(self.page(smoke_book, "06_recommend_well"))
        assert f"{best} recommends best on the test users" in text
        assert any(row["95% low"] is not None for row in results["gaps"])

    def test_fit_page_records_the_bound(self, smoke_book, colikes):
        """The page's ||X||^2 is the seed's, its lambda_max scipy's, and the lowest cost it found
        at d = 4 is no higher than that of the top-4 eigenvectors of X it starts from, costed here
        straight from the definition."""
        from scipy.sparse.linalg import eigsh

        results = self.results(smoke_book, "07_fit_limits")
        assert results["x_norm2"] == 63_482_944 and results["optimum_dim"] == 4
        X = colikes.astype(np.float64)
        values, vectors = eigsh(X, k=4, which="LA")
        assert results["lambda_max"] == pytest.approx(values.max(), rel=1e-8)
        V = (vectors * np.sqrt(np.clip(values, 0, None))).T  # d x n
        rows, columns = X.nonzero()
        fitted = (V[:, rows] * V[:, columns]).sum(axis=0) @ X.data
        norms = np.square(V).sum(axis=0)
        squares = np.square(V @ V.T).sum() - np.square(norms).sum()
        start = results["x_norm2"] - 2 * fitted + squares
        assert (
            0 < results["optimum_cost"] <= start * (1 + 1e-9) and results["optimum_cost"] < results["x_norm2"]
        )
        assert 0 < results["sgd_bound"] < 2 * (1 + results["sgd_momentum"]) / (4 * results["lambda_max"])

    def test_targets_page_compares_every_target_with_ease(self, smoke_book):
        results = self.results(smoke_book, "08_targets")
        assert {"EASE", "ALS (implicit)"} <= set(results["ndcg_test"])
        assert set(results["chosen"]) == {"colikes", "cosine", "whitened"}
        assert results["chosen"]["whitened"]["scoring"] in {"dot", "cosine"}
        references = {row["method"] for row in results["differences"]}
        assert len(references) == len(results["ndcg_test"])
        assert "EASE" in self.page(smoke_book, "08_targets")

    def test_every_page_names_its_profile(self, smoke_book):
        _, html = smoke_book
        for page in ["book/intro.html", *(f"book/executed/{name}.html" for name in CHAPTERS)]:
            text = (html / page).read_text()
            assert "Built with profile <code>smoke</code>" in text, page

    def test_injected_parameters_are_hidden_and_pages_built(self, smoke_book):
        root, html = smoke_book
        for name in CHAPTERS:
            book = nbformat.read(root / EXECUTED_DIR / f"{name}.ipynb", as_version=4)
            injected = [c for c in book.cells if "injected-parameters" in c.metadata.get("tags", [])]
            assert len(injected) == 1 and "hide-input" in injected[0].metadata["tags"]
            assert json.loads(json.dumps(book.metadata["movierec"]["parameters"]))
            assert (html / "book" / "executed" / f"{name}.html").exists()

    def test_teachers_page_states_what_this_build_took(self, smoke_book):
        root, html = smoke_book
        records = [nbformat.read(root / EXECUTED_DIR / f"{name}.ipynb", as_version=4) for name in CHAPTERS]
        timings = (root / "book" / "_generated" / "timings.md").read_text()
        page = (html / "book" / "teachers.html").read_text()
        for name, book in zip(CHAPTERS, records, strict=True):
            record = book.metadata["movierec"]
            assert record["seconds"] > 0 and "cores" in record["machine"], name
            assert f"{record['seconds']:,.1f} |" in timings.split(f"`executed/{name}`")[1].splitlines()[0]
        total = timings.splitlines()[-1].split("**")[-2]
        assert (
            f"<strong>{total}</strong>" in page
            and f"{records[0].metadata['movierec']['seconds']:,.1f}" in page
        )
        assert timings.startswith("On ") and "cores:" in timings.splitlines()[0]
        assert timings.count("\n") == len(CHAPTERS) + 5

    def test_rerun_page_lists_every_parameter_from_the_schema(self, smoke_book):
        _, html = smoke_book
        page = (html / "book" / "rerun.html").read_text()
        for name, parameter in PARAMETERS.items():
            assert (
                f'<code class="docutils literal notranslate"><span class="pre">{name}</span></code>' in page
            ), name
            assert " ".join(parameter.help.replace('"', "").split()[:4]) in page.replace('"', ""), name

    def test_student_edition_has_the_exercises_and_no_solution(self, smoke_book):
        root, html = smoke_book
        student = build_book("smoke", root, edition="student")
        assert student == root / "_build" / "student" / "html"
        for name in CHAPTERS:
            page = (student / "book" / "executed" / f"{name}.html").read_text()
            instructor = (html / "book" / "executed" / f"{name}.html").read_text()
            assert "Exercise" in page and "solution" in instructor.lower()
            assert 'class="solution' not in page and "Solution to" not in page, name
            assert "student edition" in page
            # the code exercise: its starter and the checker's verdict on it in both editions,
            # the solution's code and its passing verdict only in the instructor's
            assert "check_" in page and "not written yet" in page, name
            assert "✓" in instructor and "✓" not in page, name
        for source in (student / "_sources" / "book" / "executed").glob("*.ipynb"):
            text = source.read_text()
            assert "{solution}" not in text and '"solution"' not in text, source.name
            assert "{solution-start}" not in text and "{solution-end}" not in text, source.name

    def test_the_downloaded_notebook_runs_in_a_fresh_kernel(self, smoke_book, archive, tmp_path, monkeypatch):
        from nbclient import NotebookClient

        _, html = smoke_book
        downloaded = nbformat.read(html / "_sources" / "book" / "executed" / "01_data.ipynb", as_version=4)
        assert downloaded.cells[0].source.splitlines()[0] == install_comment(repository_url(ROOT))
        monkeypatch.setenv("MOVIEREC_DATA", str(archive))
        monkeypatch.setenv("MOVIEREC_RUNS", str(tmp_path / "runs"))
        NotebookClient(
            downloaded, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        ).execute()
        results = next(cell for cell in downloaded.cells if "results" in cell.metadata.get("tags", []))
        assert results.outputs and "application/json" in results.outputs[0]["data"]

    def test_rebuild_with_nothing_changed_executes_nothing(self, smoke_book):
        root, _ = smoke_book
        executed = [root / EXECUTED_DIR / f"{name}.ipynb" for name in CHAPTERS]
        before = [os.stat(path).st_mtime_ns for path in executed]
        build_book("smoke", root)
        assert [os.stat(path).st_mtime_ns for path in executed] == before


@pytest.mark.notebooks
@pytest.mark.integration
@pytest.mark.slow
def test_course_page_matches_the_printed_first_cost(archive, tmp_path, monkeypatch):
    target = execute_chapter("05_course", {"course_epochs": 1}, archive, tmp_path, monkeypatch)
    results = read_results(target)
    assert results["relative_difference"] < 1e-6
    assert results["first_cost"] == pytest.approx(57_846_087_680, rel=1e-6)


@pytest.mark.notebooks
@pytest.mark.parametrize(
    "source,message",
    [
        (
            "x = 1\nraise ValueError('broken on purpose')",
            r"broken.ipynb failed in cell 1 .*ValueError: broken on purpose",
        ),
        ("import sys\nprint('careful', file=sys.stderr)", r"broken.ipynb: cell 1 wrote to stderr: careful"),
    ],
    ids=["exception", "stderr"],
)
def test_a_broken_notebook_names_itself_and_its_cell(tmp_path, source, message):
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    from movierec.book.build import BookError, execute_notebook

    book = new_notebook(cells=[new_markdown_cell("# Broken"), new_code_cell(source)])
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "broken.ipynb"
    nbformat.write(book, path)
    target = tmp_path / "executed" / "broken.ipynb"
    with pytest.raises(BookError, match=message):
        execute_notebook(path, target, {}, "fingerprint", tmp_path)
    assert not target.exists() and not list(target.parent.glob(".*"))


OWN_CHAPTER = [
    (
        "code",
        ["remove-cell"],
        install_comment("") + "\n# A chapter added as a notebook and a line in _toc.yml.",
    ),
    (
        "markdown",
        [],
        "# A chapter of its own\n\n```{admonition} You will learn\n:class: tip\n"
        "- that a chapter is a notebook and a line in `_toc.yml`.\n```",
    ),
    (
        "code",
        ["parameters"],
        "rounds: int = 3  # a parameter only this chapter declares\n"
        "threshold: float = 4.0  # a rating at or above it is a like",
    ),
    ("markdown", [], "The squares of the first `rounds` numbers:"),
    ("code", [], "import movierec as mr\n\nsquares = [k * k for k in range(rounds)]\nsquares"),
    (
        "markdown",
        [],
        "## Summary\n\n- Squares.\n\n## Exercises\n\n"
        "```{exercise}\n:label: ex-own-sum\n\nSum the squares.\n```",
    ),
    ("code", [], "def my_sum(values: list[int]) -> int:\n    ...\n\n\nmy_sum(squares)"),
    ("markdown", [], "```{solution-start} ex-own-sum\n:class: dropdown\n```"),
    (
        "code",
        ["solution"],
        "def my_sum(values: list[int]) -> int:\n    return sum(values)\n\n\nmy_sum(squares)",
    ),
    ("markdown", [], "```{solution-end}\n```"),
    ("code", ["results", "remove-cell"], "mr.book.pages.record_results({'squares': squares})"),
]


@pytest.mark.notebooks
@pytest.mark.integration
def test_a_re_runner_adds_an_optimizer_a_threshold_and_a_chapter_with_no_other_file(
    archive, tmp_path_factory
):
    """Issue 29's knobs and chapter rule, on a scratch copy of the book: a smoke profile with
    ``threshold: 3.5`` and ``rmsprop`` added to ``study_lrs`` builds both editions, with three
    figures on the optimizer page and the likes at 3.5 on the data page; a claim that does not hold
    any more shows its note and not its sentence; a chapter added as a notebook and a line in
    ``_toc.yml`` (with a parameter of its own, set by the profile) builds beside the others."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    from conftest import copy_book_sources

    root = tmp_path_factory.mktemp("knobs")
    copy_book_sources(root)
    cells = []
    for number, (kind, tags, source) in enumerate(OWN_CHAPTER):
        cell = (new_code_cell if kind == "code" else new_markdown_cell)(source, metadata={"tags": tags})
        cell["id"] = f"own-{number}"
        cells.append(cell)
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, root / "notebooks" / "09_own.ipynb")
    last = "      - file: book/executed/08_targets\n"
    toc = (root / "_toc.yml").read_text()
    (root / "_toc.yml").write_text(toc.replace(last, last + "      - file: book/executed/09_own\n"))
    profile = yaml.safe_load((ROOT / "book" / "profiles" / "smoke.yml").read_text())
    profile.update(threshold=3.5, rounds=4)
    profile["study_lrs"] = {**profile["study_lrs"], "rmsprop": [0.01]}
    (root / "knobs.yml").write_text(yaml.safe_dump(profile, sort_keys=False))
    patch = pytest.MonkeyPatch()
    patch.setenv("MOVIEREC_DATA", str(archive))
    patch.setenv("MOVIEREC_RUNS", str(root / "runs"))
    try:
        html_root = build_book(str(root / "knobs.yml"), root)
        student = build_book(str(root / "knobs.yml"), root, edition="student")
    finally:
        patch.undo()

    def text(folder, name):
        return page_text((folder / "book" / "executed" / f"{name}.html").read_text())

    data = text(html_root, "01_data")
    assert "likes at a threshold of 3.5" in data and "likes (rating >= 3.5) 61,716" in data
    study = text(html_root, "03_optimizers")
    captions = re.findall(r"Fig\. (3\.\d) (\w+) ?: cost per epoch", study)
    assert captions == [("3.1", "Adam"), ("3.2", "SGD"), ("3.3", "RMSprop")]
    page = (html_root / "book" / "executed" / "03_optimizers.html").read_text()
    note = re.search(r'<div class="[^"]*movierec-claim-note[^"]*">(.*?)</div>', page, re.S).group(1)
    assert "In this run" in note and "This study trains 5 runs of Adam, SGD, RMSprop" in page_text(note)
    assert "The study trains 5 runs: Adam at" not in study
    results = read_results(root / EXECUTED_DIR / "03_optimizers.ipynb")
    runs = {(run["optimizer"], run["lr"]) for run in results["runs"]}
    assert ("rmsprop", 0.01) in runs and len(runs) == 5
    own = text(html_root, "09_own")
    assert "A chapter of its own" in own and "[0, 1, 4, 9]" in own and "14" in own
    assert "Solution to" not in text(student, "09_own") and "Exercise" in text(student, "09_own")
    assert "61,716" in text(student, "01_data")
