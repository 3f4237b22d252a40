"""Profiles checked whole and up front: every value, and the titles against the data, before any
run; each error names the profile file and the parameter's path."""

from __future__ import annotations

import pytest
import yaml

from conftest import ROOT
from movierec.book import build
from movierec.book.cli import main
from movierec.book.profiles import PROFILE_DIR, load_profile
from movierec.errors import ParameterError


@pytest.mark.parametrize(
    "values,message",
    [
        (
            {"study_lrs": {"adam": [-0.1]}},
            "study_lrs.adam[0]=-0.1 is not allowed: lr must be a positive number",
        ),
        (
            {"study_lrs": {"adamw2": [0.1]}},
            "study_lrs.adamw2='adamw2' is not allowed: optimizer must be one of",
        ),
        (
            {"eval_lrs": {"sgd": [1e-5, 0.0]}},
            "eval_lrs.sgd[1]=0.0 is not allowed: lr must be a positive number",
        ),
        ({"study_lrs": {"sgdd": [0.1]}}, "study_lrs.sgdd='sgdd' is not allowed: optimizer must be one of"),
        ({"model_lr": -1.0}, "model_lr=-1.0 is not allowed: lr must be a positive number"),
        ({"dim": 0}, "dim=0 is not allowed: dim must be an integer >= 1"),
        ({"epochs": 0}, "epochs=0 is not allowed: epochs must be an integer >= 1"),
        ({"init_std": -0.5}, "init_std=-0.5 is not allowed: init_std must be a positive number"),
        ({"dataset": "ml-3m"}, "dataset='ml-3m' is not allowed: dataset must be one of"),
        ({"titles": ["Toy Story (1995)", " "]}, "titles[1]=' ' is not allowed: a title must not be empty"),
        ({"top_n": 0}, "top_n=0 is not allowed: top_n must be an integer >= 1"),
        ({"course_epochs": -1}, "course_epochs=-1 is not allowed: course_epochs must be an integer >= 0"),
        ({"split_seed": -3}, "split_seed=-3 is not allowed: split_seed must be an integer >= 0"),
        ({"eval_k": 0}, "eval_k=0 is not allowed: eval_k must be an integer >= 1"),
        ({"eval_dims": [32, 0]}, "eval_dims[1]=0 is not allowed: dim must be an integer >= 1"),
        (
            {"bootstrap_samples": 10},
            "bootstrap_samples=10 is not allowed: use at least 100 bootstrap resamples",
        ),
        ({"optimum_dims": [16, -2]}, "optimum_dims[1]=-2 is not allowed: a size must be an integer >= 1"),
        (
            {"stability_lrs": [1e-4, -1e-5]},
            "stability_lrs[1]=-1e-05 is not allowed: lr must be a positive number",
        ),
        (
            {"baseline_grids": {"ease": {"lam": [100.0, 0.0]}}},
            "baseline_grids.ease.lam[1]=0.0 is not allowed: the EASE ridge lambda must be a positive number",
        ),
        (
            {"baseline_grids": {"als": {"factors": [2.5], "reg": [1.0]}}},
            "baseline_grids.als.factors[0]=2.5 is not allowed: ALS factors must be a whole number >= 1",
        ),
        ({"baseline_grids": {"knn": {"k": [5.0]}}}, "baseline_grids names unknown baseline(s) knn"),
        ({"target_dims": [0]}, "target_dims[0]=0 is not allowed: dim must be an integer >= 1"),
        (
            {"target_lrs": {"bogus": [0.1]}, "target_init_stds": {"bogus": [0.1]}},
            "target_lrs.bogus='bogus' is not allowed: target must be one of colikes, cosine, whitened",
        ),
        (
            {"target_init_stds": {"colikes": [0.5], "cosine": [-0.03], "whitened": [0.01]}},
            "target_init_stds.cosine[0]=-0.03 is not allowed: init_std must be a positive number",
        ),
        ({"target_ridges": [300.0, -1.0]}, "target_ridges[1]=-1.0 is not allowed: ridge must be a positive"),
        (
            {"target_sgd_fractions": [0.0]},
            "target_sgd_fractions[0]=0.0 is not allowed: fractions of the bound",
        ),
    ],
)
def test_every_value_is_checked_when_the_profile_is_loaded(values, message, tmp_path, monkeypatch):
    folder = tmp_path / PROFILE_DIR
    folder.mkdir(parents=True)
    (folder / "x.yml").write_text(yaml.safe_dump(values))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParameterError) as caught:
        load_profile("x", tmp_path)
    assert str(caught.value).startswith(f"profile book/profiles/x.yml: {message}"), caught.value


def test_the_shipped_profiles_pass():
    for path in sorted((ROOT / PROFILE_DIR).glob("*.yml")):
        assert isinstance(load_profile(path), dict)


def write_profile(tmp_path, values) -> str:
    path = tmp_path / "x.yml"
    path.write_text(yaml.safe_dump(values))
    return str(path)


@pytest.mark.integration
def test_a_bad_title_stops_the_book_before_any_run(archive, tmp_path, capsys, monkeypatch):
    runs = tmp_path / "runs"
    monkeypatch.setenv("MOVIEREC_DATA", str(archive))
    monkeypatch.setenv("MOVIEREC_RUNS", str(runs))
    monkeypatch.chdir(ROOT)
    executed = []  # how long the check takes is measured by benchmarks/refusals.py, not asserted
    monkeypatch.setattr(build, "execute_chapters", lambda *args, **kwargs: executed.append(args))
    profile = write_profile(tmp_path, {"dim": 4, "epochs": 2, "titles": ["Forest Gump", "Hamlet"]})
    assert main(["book", "--profile", profile]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith(
        f"movierec: error: profile {profile}: titles[0]: unknown title 'Forest Gump'"
    )
    assert "did you mean 'Forrest Gump (1994)'" in captured.err
    assert "titles[1]: title 'Hamlet' matches 5 movies: Hamlet (1996)" in captured.err
    assert "training" not in captured.out and not (runs.exists() and any(runs.iterdir()))
    assert executed == []  # stopped before its chapters


@pytest.mark.integration
def test_sweep_checks_sizes_and_titles_against_the_data_before_any_run(archive, tmp_path, capsys):
    runs = tmp_path / "runs"
    for values, message in [
        (
            {"dim": 20000, "epochs": 1},
            "dim=20000 is not allowed: dim must be at most the number of movies (9,742)",
        ),
        ({"dim": 4, "epochs": 1, "titles": ["toy storyy"]}, "titles[0]: unknown title 'toy storyy'"),
        ({"dim": 4, "epochs": 1, "eval_dims": [8, 10**5]}, "eval_dims[1]=100000 is not allowed: dim must be"),
    ]:
        profile = write_profile(tmp_path, values)
        assert main(["sweep", profile, "--data", str(archive), "--runs", str(runs)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"movierec: error: profile {profile}: {message}"), err
        assert not runs.exists()
