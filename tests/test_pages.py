"""What pages are made of: checked parameters, outcome-chosen sentences, generated tables of
the re-run and teachers' pages, and the student edition's scrubbing."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT, random_likes
from movierec.book import pages, prose
from movierec.book.build import chapter_names, exercises_table, parameters_page_table, toc_pages
from movierec.book.profiles import PARAMETERS, ProfileLoader, load_profile, validate_parameters
from movierec.book.sphinxext import strip_notebook_solutions, strip_solution_blocks
from movierec.errors import ParameterError
from movierec.model.train import TrainConfig, TrainResult, train
from movierec.runs.study import by_optimizer, optimizer_label


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


def test_start_checks_and_converts_the_notebook_namespace(monkeypatch):
    opened = {}
    monkeypatch.setattr(
        pages.Workspace, "open", classmethod(lambda cls, *args: opened.setdefault("args", args))
    )
    namespace = {"study_lrs": {"sgd": ["1e-5"]}, "data_path": "x.zip", "other": 1}
    pages.start(namespace)
    assert namespace["study_lrs"] == {"sgd": [1e-5]} and opened["args"] == ("x.zip", "ml-latest-small", "")


def test_words_and_json_safe_results():
    assert pages.words(["a"]) == "a" and pages.words(["a", "b"]) == "a and b"
    assert pages.words(["a", "b", "c"], "or") == "a, b or c"
    assert pages._json_safe({"x": [math.nan, 1.0, math.inf], "y": {"z": -math.inf}}) == {
        "x": [None, 1.0, None],
        "y": {"z": None},
    }


@pytest.fixture(scope="module")
def study():
    likes = random_likes(40, 30, 0.2, seed=3)
    return [
        train(likes, config)
        for config in (
            TrainConfig(optimizer="adam", lr=0.1, epochs=20, dim=3),
            TrainConfig(optimizer="adam", lr=0.01, epochs=20, dim=3),
            TrainConfig(optimizer="sgd", lr=1e6, epochs=20, dim=3),
            TrainConfig(optimizer="sgd", lr=1e-4, epochs=20, dim=3),
        )
    ]


def test_outcome_sentences_say_only_what_the_runs_did(study):
    text = prose.outcome_sentences(study, optimum=study[0].final_cost / 2)
    assert text.startswith(
        "**Adam** ran all 20 epochs at every rate tried, 0.1 and 0.01; its best run (lr 0.1)"
    )
    assert "100.0% above the best possible cost" in text
    diverged = study[2].diverged_epoch
    assert (
        f"**SGD with momentum 0.9** blew up at 1e+06 (by epoch {diverged}) and ran all 20 epochs at 1e-4"
        in text
    )
    assert optimizer_label(study[2].config) == "SGD with momentum 0.9" and list(by_optimizer(study)) == [
        "adam",
        "sgd",
    ]


def test_captions_claim_an_order_only_when_the_runs_show_it(study):
    adam = study[:2]
    caption = prose.curves_caption(adam)
    ordered = adam[0].final_cost < adam[1].final_cost
    assert ("the larger the rate, the lower the final cost" in caption) == ordered
    assert "An X marks" not in caption and "An X marks" in prose.curves_caption(study[2:])


def test_list_agreement_is_chosen_by_the_costs():
    changes = pd.DataFrame({"run": ["a", "b"], "cost / reference cost": [1.05, 3.0], "kept": [9, 2]})
    assert "They do, mostly through how far training got" in prose.list_agreement(changes, 10)
    changes["kept"] = [1, 8]
    assert "the cost does not predict by how much" in prose.list_agreement(changes, 10)
    assert "every other run keeps 8 of its 10 titles, at 3 times the lowest cost" in prose.list_agreement(
        changes.iloc[1:], 10
    )
    assert prose.list_agreement(changes.assign(kept=10), 10).startswith(
        "They do not: every other run keeps all"
    )
    assert "Only one run finished" in prose.list_agreement(changes.iloc[:0], 10)
    far = pd.DataFrame({"run": list("abc"), "cost / reference cost": [1.4, 5.3, 13.7], "kept": [10, 5, 0]})
    assert prose.list_agreement(far, 10) == (
        "They do, mostly through how far training got: the further above the lowest cost a run ended, "
        "the fewer of its titles it keeps (no other run ended within 10% of the lowest cost; they keep "
        "on average 5.0 of its 10 titles)."
    )


def test_the_method_answer_reads_the_interval():
    gaps = pd.DataFrame(
        {
            "method": ["EASE", "embeddings (adam)", "popularity"],
            "test NDCG": [0.195, 0.175, 0.098],
            "minus best": [0.0, -0.020, -0.097],
            "95% low": [math.nan, -0.028, -0.11],
            "95% high": [math.nan, -0.012, -0.08],
        }
    )
    text = prose.method_answer(gaps, 10)
    assert text.startswith("**EASE** recommends best on the test users (NDCG@10 0.195).")
    assert "0.020 lower (95% interval 0.012 to 0.028 lower); the interval excludes 0" in text
    gaps.loc[1, "95% high"] = 0.004
    assert "the interval includes 0" in prose.method_answer(gaps, 10)


def test_stability_story_reports_both_sides_of_the_bound():
    observed = pd.DataFrame(
        {"lr": [2e-4, 6e-5, 1e-5], "observed": ["diverged at epoch 3", "diverged at epoch 40", "finished"]}
    )
    path = pd.DataFrame(
        {"epoch": [5, 10], "top Hessian eigenvalue": [9e4, 1.2e5], "largest stable lr": [4e-5, 3e-5]}
    )
    text = prose.stability_story(observed, 1e-4, path, [0.1, 1e-5])
    assert text.startswith("Of the rates above the bound (2e-4), all diverged.")
    assert "Rates below it diverged too (6e-5)" in text and "120,000 (after 10 epochs)" in text
    assert "are 1,000 to 1,000 times above it" in text


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


def test_a_dataframe_is_glued_as_the_books_table(monkeypatch):
    import myst_nb

    glued = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: glued.update({name: value}))
    pages.glue("frame", pd.DataFrame({"cost": [1234567.0], "title": ["Heat (1995)"]}))
    assert isinstance(glued["frame"], pages.Table)
    assert "{list-table}" in glued["frame"]._repr_markdown_()


def test_generated_tables_follow_the_schema_and_the_notebooks():
    table = parameters_page_table()
    assert all(f"| `{name}` |" in table for name in PARAMETERS)
    exercises = exercises_table(ROOT)
    assert "{ref}`ex-model-dim` | `dim` |" in exercises
    assert all(f"{{doc}}`executed/{name}`" in exercises for name in chapter_names(ROOT))
    assert toc_pages(ROOT)[0] == "book/intro" and "book/references" in toc_pages(ROOT)


def test_figures_use_readable_text(study):
    from movierec.plots import TEXT, cost_curves

    figure = cost_curves(study, "all")
    axes = figure.axes[0]
    sizes = [label.get_fontsize() for label in axes.get_xticklabels() + axes.get_legend().get_texts()]
    assert min(sizes) >= 10 and min(TEXT.values()) >= 10
    colors = [line.get_color() for line in axes.get_lines() if line.get_label().startswith("lr ")]
    assert len(set(colors)) == len(colors)
    assert np.isfinite(figure.get_size_inches()).all()


def test_titles_in_a_sentence_are_italic_and_escaped():
    assert pages.titles(["*batteries not included (1987)", "Up (2009)"]) == (
        "*\\*batteries not included \\(1987\\)* and *Up \\(2009\\)*"
    )


def test_timings_count_each_run_once_and_name_the_processor(tmp_path):
    from movierec.book.build import timings_table

    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: book/executed/01_x\n"
    )
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_x.ipynb").write_text("{}")
    history = pd.DataFrame({"epoch": [0, 1], "cost": [2.0, 1.0], "seconds": [1.0, 1.5]})

    def run(dim, machine, lr=0.5):
        config = TrainConfig(epochs=1, dim=dim, lr=lr)
        return pages_run(config, history, machine)

    cpu = "Xeon, 2 cores, 2 torch threads"
    gpu = "Xeon, 2 cores, 1 torch thread, cuda: H200"
    model = run(64, cpu)
    text = timings_table(
        tmp_path, [model, model, run(64, cpu, lr=0.1), run("full", gpu), run(64, "cpu", lr=0.01)]
    )
    lines = text.splitlines()
    assert lines[0] == "On Xeon, 2 cores:"
    assert "| 2 runs of 1 epoch at $d$ = 64 on all the likes | 2 torch threads | 3.0 |" in lines
    assert "| 1 run of 1 epoch at $d$ = n on all the likes | 1 torch thread, cuda: H200 | 1.5 |" in lines
    assert "| 1 run of 1 epoch at $d$ = 64 on all the likes | cpu | 1.5 |" in lines
    assert "| chapter {doc}`executed/01_x` | not recorded | not recorded |" in lines
    assert lines[-1] == "| **all of the above** | | **6** |"


def pages_run(config, history, machine):
    from movierec.model.train import TrainResult

    return TrainResult(config, history, np.zeros((1, 1)), "finished", None, "sum", "cpu", machine=machine)


def _run(optimizer: str, lr: float, costs: list[float], status: str = "finished") -> TrainResult:
    history = pd.DataFrame({"epoch": range(len(costs)), "cost": costs, "seconds": range(len(costs))})
    diverged = None if status == "finished" else len(costs) - 1
    config = TrainConfig(optimizer=optimizer, lr=lr, epochs=len(costs) - 1)
    return TrainResult(config, history, np.zeros((1, 1)), status, diverged, "", "cpu")


def test_the_smaller_start_answer_names_the_optimizer_that_gains_and_sgds_range():
    before = [
        _run("adam", 0.1, [9, 4]),
        _run("sgd", 1e-4, [9, math.inf], "diverged"),
        _run("sgd", 1e-5, [9, 8]),
    ]
    after = [_run("adam", 0.1, [5, 2]), _run("sgd", 1e-4, [5, 3]), _run("sgd", 1e-5, [5, 4])]
    text = prose.smaller_start_answer(before, after)
    assert text.startswith("SGD with momentum 0.9 benefits more: its lowest final cost falls 2.67 times")
    assert "SGD's stable range moves: it now also finishes at 1e-4." in text
    same = prose.smaller_start_answer(before[:1], [_run("adam", 0.1, [9, 8])])
    assert same.startswith("Neither benefits") and "SGD" not in same


def test_the_longer_training_answer_says_which_rates_improve_flatten_or_rise():
    longer = [
        _run("adam", 0.5, [9, 2, 3]),
        _run("adam", 0.1, [9, 4, 4.01]),
        _run("adam", 0.01, [9, 6, 5]),
        _run("adam", 1.0, [9, math.inf], "diverged"),
    ]
    text = prose.longer_training_answer(longer, 1)
    assert text.startswith("From epoch 1 to 2, Adam still improves at 0.01 (6 to 5)")
    assert (
        "has flattened, within 1%, at 0.1" in text and "ends higher than at epoch 1 at 0.5 (2 to 3)" in text
    )
    assert "diverges at 1 (diverged at epoch 1)" in text and " ; " not in text


def test_the_cosine_popularity_sentence_follows_the_shares():
    table = pd.DataFrame({"method": ["cos", "seed"], "share from the 100 most-liked": [0.821, 0.752]})
    assert "does not here: its lists draw *more*" in prose.cosine_popularity_sentence(table, "cos", "seed")
    assert "(0.821 of its list slots against 0.752 for seed)" in prose.cosine_popularity_sentence(
        table, "cos", "seed"
    )
    assert "does what it is meant to" in prose.cosine_popularity_sentence(table, "seed", "cos")


def test_the_study_brief_names_each_optimizers_best_rate_and_divergences():
    runs = [_run("adam", 0.5, [9, 2]), _run("adam", 0.1, [9, 3]), _run("sgd", 0.1, [9, math.inf], "diverged")]
    assert prose.study_brief(runs) == (
        "Adam's best rate was 0.5 and no rate diverged; SGD with momentum 0.9 diverged at every rate tried."
    )


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
