"""Baselines: each score matches its definition; ALS is deterministic, silent and finds planted
groups; tuning picks each grid's best point."""

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


def planted_likes(sizes=(40, 30, 20, 10), per_group=20, inside=0.6, outside=0.02, seed=0):
    """Users in groups of unequal sizes, each group liking its own 20 movies (60 % of them) and
    almost nothing else (2 %): the likes, each user's group and each movie's. Popularity
    recommends the largest group's movies to everyone; a model that finds the groups does not."""
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(len(sizes)), sizes)
    movies = np.repeat(np.arange(len(sizes)), per_group)
    chance = np.where(users[:, None] == movies[None, :], inside, outside)
    matrix = sp.csr_matrix((rng.random(chance.shape) < chance).astype(np.float32))
    likes = Likes(matrix=matrix, user_ids=np.arange(len(users)), movie_ids=np.arange(len(movies)))
    return likes, users, movies


def ndcg_by_hand(scores: np.ndarray, known: sp.spmatrix, held_out: sp.spmatrix, k: int) -> float:
    """Mean NDCG@k over the users with held-out likes, one user at a time: the movies not known
    sorted by score (ties to the lower index), gain 1 per held-out like, discount 1/log2(rank + 1)."""
    known, held = sp.csr_matrix(known).toarray() > 0, sp.csr_matrix(held_out).toarray() > 0
    values = []
    for user in np.flatnonzero(held.any(axis=1)):
        candidates = [movie for movie in range(scores.shape[1]) if not known[user, movie]]
        ranked = sorted(candidates, key=lambda movie: (-scores[user, movie], movie))[:k]
        dcg = sum(1 / np.log2(rank + 2) for rank, movie in enumerate(ranked) if held[user, movie])
        ideal = sum(1 / np.log2(rank + 2) for rank in range(min(k, held[user].sum())))
        values.append(dcg / ideal)
    return float(np.mean(values))


def test_als_is_deterministic_silent_and_finds_planted_groups(capfd):
    likes, users, movies = planted_likes()
    split = split_likes(likes, seed=0)
    first = als_scores(split.train, factors=4, regularization=0.1, seed=5)
    second = als_scores(split.train, factors=4, regularization=0.1, seed=5)
    assert first.shape == likes.matrix.shape and np.array_equal(first, second)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""
    # every user's unseen movies of their own group score above the other groups' on average
    unseen = split.train.toarray() == 0
    own = users[:, None] == movies[None, :]
    for user in range(len(users)):
        row, mine, theirs = first[user], own[user] & unseen[user], ~own[user] & unseen[user]
        assert row[mine].mean() > row[theirs].mean(), user
    # and its lists find the held-out likes that popularity's miss
    popularity = popularity_scores(split.train)
    for known, held_out in ((split.train, split.validation), (split.known("test"), split.test)):
        als, popular = (ndcg_by_hand(scores, known, held_out, 5) for scores in (first, popularity))
        assert als > 2 * popular and als > popular + 0.1, (als, popular)


def ease_by_hand(train: np.ndarray, lam: float) -> np.ndarray:
    """EASE's scores from its closed form: L (I - P / diag(P)), P = (L^T L + lam I)^-1."""
    P = np.linalg.inv(train.T @ train + lam * np.eye(train.shape[1]))
    return train @ (np.eye(train.shape[1]) - P / np.diag(P))


def test_tune_baselines_tunes_and_scores_every_method():
    """Each grid point's validation NDCG is the one computed here by hand; the best point (in the
    middle of each grid, so that neither the first nor the last wins by accident) is chosen and
    scored on the test likes; popularity is scored as its definition says."""
    likes, _, _ = planted_likes()
    split = split_likes(likes, seed=0)
    grids = {"ease": {"lam": [1.0, 10.0, 1000.0]}, "als": {"factors": [4], "reg": [10.0, 0.1, 100.0]}}
    tuning, scored = tune_baselines(split, grids, k=5)
    rows = [method.row(5) for method in scored]
    assert [row["method"] for row in rows] == [
        "popularity",
        "item cosine, rows of X",
        "item cosine, columns of L",
        "EASE",
        "ALS (implicit)",
    ]
    train = split.train.toarray().astype(float)
    points = {
        "EASE": [(f"lam={lam:g}", ease_by_hand(train, lam)) for lam in grids["ease"]["lam"]],
        "ALS (implicit)": [
            (f"factors=4, reg={reg:g}", als_scores(split.train, 4, reg, seed=0))
            for reg in grids["als"]["reg"]
        ],
    }
    assert len(tuning) == 6 and list(tuning.columns) == ["method", "setting", "val NDCG@5"]
    by_method = {method.method: method for method in scored}
    for method, grid in points.items():
        table = tuning[tuning["method"] == method]
        validation = [ndcg_by_hand(scores, split.train, split.validation, 5) for _, scores in grid]
        assert table["setting"].tolist() == [setting for setting, _ in grid]
        assert table["val NDCG@5"].tolist() == pytest.approx(validation, abs=1e-12)
        best = int(np.argmax(validation))
        assert 0 < best < len(grid) - 1 and sorted(validation)[-2] < validation[best] - 0.005, validation
        chosen = by_method[method]
        assert chosen.setting == grid[best][0]
        assert chosen.validation["NDCG"] == pytest.approx(validation[best], abs=1e-12)
        test = ndcg_by_hand(grid[best][1], split.known("test"), split.test, 5)
        assert chosen.test["NDCG"] == pytest.approx(test, abs=1e-12)
    counts = np.broadcast_to(train.sum(axis=0), train.shape)
    popularity = by_method["popularity"]
    assert popularity.setting == "" and popularity.test["NDCG"] == pytest.approx(
        ndcg_by_hand(counts, split.known("test"), split.test, 5), abs=1e-12
    )
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
