"""The book's notebooks: parameters match the schema; under smoke every page executes,
records its results, and the HTML builds with warnings as errors."""

from __future__ import annotations

import ast
import json
import os

import nbformat
import pytest
import yaml

from conftest import ROOT
from movierec.book import EXECUTED_DIR, NOTEBOOKS, build_book, notebook_parameters, read_results
from movierec.errors import ParameterError
from movierec.profiles import PARAMETERS

SEED_TITLES = {"Apollo 13 (1995)", "Toy Story (1995)", "Home Alone (1990)"}
NOTEBOOK_PATHS = [ROOT / "notebooks" / f"{name}.ipynb" for name in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=NOTEBOOKS)
def test_parameters_cell_matches_the_schema(path):
    declared = notebook_parameters(path)
    assert declared, f"{path.name} declares no parameters"
    for name, parameter in declared.items():
        assert name in PARAMETERS, f"{path.name}: {name} is not a book parameter"
        assert parameter["inferred_type_name"] == PARAMETERS[name].type, name
        assert ast.literal_eval(parameter["default"]) == PARAMETERS[name].default, name
        assert parameter["help"], f"{path.name}: {name} has no help comment"


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=NOTEBOOKS)
def test_sources_are_clean_with_one_parameters_cell_and_a_results_cell(path):
    book = nbformat.read(path, as_version=4)
    tagged = [cell for cell in book.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert all(
        not cell.get("outputs") and not cell.get("execution_count")
        for cell in book.cells
        if cell.cell_type == "code"
    )
    assert book.cells[0].cell_type == "markdown" and book.cells[0].source.startswith("# ")
    assert {"results", "remove-cell"} <= set(book.cells[-1].metadata.get("tags", []))
    assert "## Try it" in "\n".join(cell.source for cell in book.cells if cell.cell_type == "markdown")


def test_every_profile_is_valid():
    from movierec.profiles import load_profile

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
        ({"adam_lrs": [0.1, -1.0]}, "lr=-1.0 is not allowed: lr must be a positive number"),
        ({"epochs": 0}, "epochs=0 is not allowed: epochs must be an integer >= 1"),
        ({"dim": 0}, "dim=0 is not allowed"),
        ({"model_optimizer": "adamm"}, "optimizer='adamm' is not allowed: optimizer must be one of"),
        ({"dim": "half"}, "dim='half' has the wrong type: dim must be an integer or \"full\""),
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

    def test_model_page_checks_exactness_and_trains(self, smoke_book):
        results = self.results(smoke_book, "02_model")
        assert results["check_relative_difference"] < 1e-12
        assert (
            results["epochs"] == 5 + 1 and results["status"] == "finished"
        )  # costs before the first step and after each of 5
        assert results["final_cost"] < results["first_cost"]

    def test_optimizer_page_records_each_run(self, smoke_book):
        runs = {(r["optimizer"], r["lr"]): r for r in self.results(smoke_book, "03_optimizers")["runs"]}
        assert set(runs) == {("adam", 0.1), ("adam", 0.01), ("sgd", 0.1), ("sgd", 1e-5)}
        assert runs[("sgd", 0.1)]["status"] == "diverged"
        assert runs[("sgd", 0.1)]["diverged_epoch"] == runs[("sgd", 0.1)]["epochs"] - 1
        assert runs[("adam", 0.1)]["status"] == "finished"

    def test_recommendation_lists_exclude_inputs(self, smoke_book):
        results = self.results(smoke_book, "04_recommendations")
        assert set(results["inputs"]) == SEED_TITLES
        assert results["lists"] and all(len(titles) == 5 for titles in results["lists"].values())
        assert all(not SEED_TITLES & set(titles) for titles in results["lists"].values())
        assert "sgd lr=0.1" not in results["lists"]

    def test_seed_page_matches_the_printed_first_cost(self, smoke_book):
        results = self.results(smoke_book, "05_seed")
        assert results["relative_difference"] < 1e-6
        assert results["first_cost"] == pytest.approx(57_846_087_680, rel=1e-6)

    def test_injected_parameters_are_hidden_and_pages_built(self, smoke_book):
        root, html = smoke_book
        for name in NOTEBOOKS:
            book = nbformat.read(root / EXECUTED_DIR / f"{name}.ipynb", as_version=4)
            injected = [c for c in book.cells if "injected-parameters" in c.metadata.get("tags", [])]
            assert len(injected) == 1 and "hide-input" in injected[0].metadata["tags"]
            assert json.loads(json.dumps(book.metadata["movierec"]["parameters"]))
            assert (html / "book" / "executed" / f"{name}.html").exists()

    def test_rebuild_with_nothing_changed_executes_nothing(self, smoke_book):
        root, _ = smoke_book
        executed = [root / EXECUTED_DIR / f"{name}.ipynb" for name in NOTEBOOKS]
        before = [os.stat(path).st_mtime_ns for path in executed]
        build_book("smoke", root)
        assert [os.stat(path).st_mtime_ns for path in executed] == before


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

    from movierec.book import BookError, execute_notebook

    book = new_notebook(cells=[new_markdown_cell("# Broken"), new_code_cell(source)])
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "broken.ipynb"
    nbformat.write(book, path)
    target = tmp_path / "executed" / "broken.ipynb"
    with pytest.raises(BookError, match=message):
        execute_notebook(path, target, {}, "fingerprint", tmp_path)
    assert not target.exists() and not list(target.parent.glob(".*"))
