"""Baselines: each score matches its definition; ALS is deterministic and silent."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from conftest import random_likes
from movierec.data import Likes
from movierec.errors import ParameterError
from movierec.judging.baselines import (
    BASELINES,
    Ease,
    als_scores,
    colike_cosine_scores,
    grid_points,
    likes_cosine_scores,
    popularity_scores,
    tune_baselines,
)
from movierec.judging.evaluate import evaluate_scores, split_likes


def unit(columns: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(columns, axis=0)
    return columns / np.where(norms > 0, norms, 1.0)


def test_popularity_is_the_like_count():
    train = random_likes(20, 15, 0.3, seed=0)
    scores = popularity_scores(train)
    assert np.array_equal(scores[3], np.asarray(train.sum(axis=0)).ravel())


def test_item_cosines_match_their_definitions():
    train = random_likes(25, 18, 0.3, seed=1)
    dense = train.toarray().astype(float)
    X = dense.T @ dense
    np.fill_diagonal(X, 0)
    weights = dense / np.maximum(dense.sum(axis=1, keepdims=True), 1)
    assert np.allclose(colike_cosine_scores(train), weights @ (unit(X).T @ unit(X)))
    assert np.allclose(likes_cosine_scores(train), weights @ (unit(dense).T @ unit(dense)))


def test_ease_matches_the_closed_form():
    train = random_likes(30, 50, 0.2, seed=2)
    lam = 3.0
    dense = train.toarray().astype(float)
    P = np.linalg.inv(dense.T @ dense + lam * np.eye(50))
    B = np.eye(50) - P / np.diag(P)
    assert np.allclose(np.diag(B), 0)
    assert np.allclose(Ease(train).scores(lam), dense @ B)


def test_als_is_deterministic_and_silent(capfd):
    train = random_likes(40, 60, 0.15, seed=3)
    first = als_scores(train, factors=4, regularization=0.1, seed=5)
    second = als_scores(train, factors=4, regularization=0.1, seed=5)
    assert first.shape == (40, 60) and np.array_equal(first, second)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_tune_baselines_tunes_and_scores_every_method():
    matrix = random_likes(80, 60, 0.15, seed=4)
    likes = Likes(matrix=matrix, user_ids=np.arange(80), movie_ids=np.arange(60))
    split = split_likes(likes, seed=0)
    grids = {"ease": {"lam": [10.0, 100.0]}, "als": {"factors": [4], "reg": [0.1, 1.0]}}
    tuning, scored = tune_baselines(split, grids, k=5)
    rows = [method.row(5) for method in scored]
    assert len(tuning) == 4 and set(tuning["method"]) == {"EASE", "ALS (implicit)"}
    assert [row["method"] for row in rows] == [
        "popularity",
        "item cosine, rows of X",
        "item cosine, columns of L",
        "EASE",
        "ALS (implicit)",
    ]
    assert all(0 <= row["test NDCG@5"] <= 1 for row in rows)


@pytest.mark.integration
def test_on_real_data_ease_and_item_cosine_beat_popularity(likes):
    split = split_likes(likes, seed=0)
    popularity = evaluate_scores(popularity_scores(split.train), split)["NDCG"]
    assert evaluate_scores(Ease(split.train).scores(300.0), split)["NDCG"] > popularity + 0.05
    assert evaluate_scores(likes_cosine_scores(split.train), split)["NDCG"] > popularity + 0.03
    assert sp.issparse(split.train)


def test_the_registry_checks_grids_and_can_tune_a_subset():
    matrix = random_likes(60, 40, 0.2, seed=5)
    split = split_likes(Likes(matrix=matrix, user_ids=np.arange(60), movie_ids=np.arange(40)), seed=0)
    with pytest.raises(ParameterError, match="unknown baseline\\(s\\) slim: allowed are popularity"):
        tune_baselines(split, {"slim": {"l1": [1.0]}})
    with pytest.raises(
        ParameterError, match="baseline_grids\\['ease'\\] has options \\['lambda'\\]: ease takes \\['lam'\\]"
    ):
        tune_baselines(split, {"ease": {"lambda": [1.0]}})
    tuning, scored = tune_baselines(split, {"ease": {"lam": [5.0]}}, k=5, only=("popularity", "ease"))
    assert [method.method for method in scored] == ["popularity", "EASE"]
    assert tuning["setting"].tolist() == ["lam=5"]
    assert grid_points({"a": [1, 2], "b": [3]}) == [{"a": 1, "b": 3}, {"a": 2, "b": 3}]
    assert grid_points({}) == [{}]
    assert set(BASELINES) == {"popularity", "x_cosine", "l_cosine", "ease", "als"}
