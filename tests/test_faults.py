"""Faults and bad input: each ends in a clear message or a clean recovery (marker ``faults``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import random_likes, tiny_tables
from movierec.cli import main
from movierec.cost import CoLikeCost
from movierec.data import Likes, colike_matrix
from movierec.errors import StoreError, TitleError
from movierec.plots import cost_curves
from movierec.recommend import TitleIndex, recommend
from movierec.runs import RunStore, sweep
from movierec.train import TrainConfig, train

pytestmark = pytest.mark.faults


def small_likes(seed: int = 0) -> Likes:
    matrix = random_likes(40, 30, 0.25, seed=seed)
    return Likes(matrix=matrix, user_ids=np.arange(40), movie_ids=np.arange(30))


# --- titles -------------------------------------------------------------------------------

def test_all_inputs_unknown_names_each():
    with pytest.raises(TitleError) as caught:
        TitleIndex(tiny_tables()[0]).resolve_all(["Nothing Like It", "Neither This"])
    assert "'Nothing Like It'" in str(caught.value) and "'Neither This'" in str(caught.value)


def test_a_movie_no_one_liked_is_left_out_of_the_mean_and_alone_is_an_error():
    movies, _ = tiny_tables()
    embeddings = np.array([[1.0, 0.8, 0.1, 0.9, 0.0], [0.0, 0.6, 1.0, 0.1, 0.0]])
    with_zero = recommend(embeddings, movies, ["the matrix", "Misérables, Les (1995)"], top_n=3)
    alone = recommend(embeddings, movies, ["the matrix"], top_n=3)
    np.testing.assert_allclose(with_zero["score"], alone["score"])
    assert np.isfinite(with_zero["score"]).all()
    with pytest.raises(TitleError, match="zero embedding"):
        recommend(embeddings, movies, ["Misérables, Les (1995)"])


def test_same_title_twice_counts_once():
    movies, _ = tiny_tables()
    embeddings = np.random.default_rng(0).normal(size=(3, 5))
    once = recommend(embeddings, movies, ["toy story"])
    twice = recommend(embeddings, movies, ["toy story", "Toy Story (1995)", "TOY STORY"])
    assert once.equals(twice)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_title_resolution_never_crashes(text):
    index = TitleIndex(tiny_tables()[0])
    try:
        row = index.resolve(text)
    except TitleError as error:
        assert str(error)
    else:
        assert 0 <= row < 5


# --- cost properties -----------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(0, 10_000), st.floats(0.0, 3.0))
def test_cost_is_nonnegative_zero_is_norm_and_permutation_invariant(dim, seed, scale):
    matrix = random_likes(15, 12, 0.3, seed=seed % 97)
    cost = CoLikeCost(matrix, dtype=torch.float64)
    V = scale * torch.randn(dim, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    value = cost.value(V)
    assert value >= -1e-9 * max(1.0, cost.x_norm2)
    assert cost.value(torch.zeros(dim, 12, dtype=torch.float64)) == cost.x_norm2
    order = np.random.default_rng(seed).permutation(12)
    permuted = CoLikeCost(matrix[:, order], dtype=torch.float64)
    assert permuted.value(V[:, order]) == pytest.approx(value, rel=1e-12, abs=1e-9)
    assert colike_matrix(matrix[:, order]).toarray().tolist() == colike_matrix(matrix).toarray()[np.ix_(order, order)].tolist()


# --- divergence -----------------------------------------------------------------------------

@pytest.mark.parametrize("init_std,lr", [(1e30, 0.1), (1e18, 1.0), (0.5, 1e300)])
def test_nan_inf_and_absurd_lr_are_recorded_and_drawn(init_std, lr):
    result = train(small_likes(), optimizer="sgd", lr=lr, init_std=init_std, epochs=20, dim=4)
    assert result.status == "diverged" and result.diverged_epoch is not None
    figure = cost_curves([result, train(small_likes(), epochs=3, dim=4)], "with a diverged run")
    assert figure.axes[0].get_legend() is not None


def test_nan_at_the_first_epoch_is_epoch_zero():
    result = train(small_likes(), init_std=1e30, epochs=5, dim=4)
    assert result.diverged_epoch == 0 and len(result.history) == 1
    assert not np.isfinite(result.history["cost"].iloc[0])


def test_sweep_goes_on_after_a_divergence(tmp_path):
    configs = [TrainConfig(optimizer="sgd", lr=1e6, epochs=10, dim=3), TrainConfig(optimizer="adam", lr=0.05, epochs=10, dim=3)]
    results = sweep(configs, small_likes(), "data", RunStore(tmp_path))
    assert [r.status for r in results] == ["diverged", "finished"]


# --- the run store --------------------------------------------------------------------------

def test_unwritable_run_store_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    store = RunStore(blocker / "runs")
    with pytest.raises(StoreError, match="cannot write run .* set MOVIEREC_RUNS to a writable folder"):
        store.save(train(small_likes(), epochs=2, dim=2))


def test_permission_denied_on_rename_is_a_clear_error(tmp_path, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(StoreError, match="Permission denied"):
        RunStore(tmp_path).save(train(small_likes(), epochs=2, dim=2))
    assert not list(tmp_path.rglob("*.tmp"))


def test_cli_with_unwritable_run_store_exits_2(archive, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["train", "--epochs", "2", "--dim", "2", "--data", str(archive), "--runs", str(blocker / "runs")]) == 2
    assert "cannot write run" in capsys.readouterr().err


@pytest.mark.integration
def test_kill_9_in_the_middle_of_a_sweep_then_resume(archive, tmp_path):
    profile = tmp_path / "long.yml"
    profile.write_text(yaml.safe_dump({"dim": 32, "epochs": 1500, "adam_lrs": [0.1, 0.01], "sgd_lrs": [1.0e-5]}))
    runs = tmp_path / "runs"
    command = [sys.executable, "-m", "movierec.cli", "sweep", str(profile), "--data", str(archive), "--runs", str(runs)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not list(runs.glob("*/meta.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    finished = list(runs.glob("*/meta.json"))
    assert len(finished) == 1, "the kill should land while the second run trains"
    first_meta = finished[0].read_bytes()
    first_mtime = finished[0].stat().st_mtime_ns
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert finished[0].stat().st_mtime_ns == first_mtime and finished[0].read_bytes() == first_meta
    assert len(list(runs.glob("*/meta.json"))) == 3
    assert not list(runs.rglob("*.tmp"))
    assert done.stdout.count("finished") == 3
