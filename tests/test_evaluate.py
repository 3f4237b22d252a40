"""Held-out evaluation: the split's rule, the metrics against hand-computed lists, scoring."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from conftest import random_likes
from movierec.book.evaluation import metrics_at, split_change
from movierec.data import Likes
from movierec.errors import ParameterError
from movierec.judging.evaluate import (
    cosine_scores,
    evaluate_embeddings,
    evaluate_scores,
    fit_check,
    methods_table,
    ranking_metrics,
    score_method,
    split_likes,
    top_k,
)
from movierec.judging.recommend import cosine_similarities


def as_likes(matrix: sp.spmatrix) -> Likes:
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    return Likes(matrix=matrix, user_ids=np.arange(matrix.shape[0]), movie_ids=np.arange(matrix.shape[1]))


def held(rows: list[list[int]], items: int) -> sp.csr_matrix:
    data = [(u, i) for u, row in enumerate(rows) for i in row]
    u, i = zip(*data, strict=True)
    return sp.csr_matrix((np.ones(len(data)), (u, i)), shape=(len(rows), items))


def test_metrics_match_hand_computed_lists():
    ranked = np.array([[5, 2, 7], [1, 3, 4], [0, 1, 2], [8, 9, 0]])
    truth = held([[2, 9], [1, 3, 4, 6], [], [6]], 10)
    metrics = ranking_metrics(ranked, truth)
    # user 0: one hit at rank 2 of 2 held out; user 1: 3 hits of min(3, 4); user 2 is not
    # scored (nothing held out); user 3: no hit.
    ndcg0 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert metrics["HR"] == pytest.approx(2 / 3)
    assert metrics["Recall"] == pytest.approx((1 / 2 + 3 / 3 + 0) / 3)
    assert metrics["Precision"] == pytest.approx((1 / 3 + 1 + 0) / 3)
    assert metrics["NDCG"] == pytest.approx((ndcg0 + 1 + 0) / 3)
    assert metrics["Coverage"] == pytest.approx(len({5, 2, 7, 1, 3, 4, 8, 9, 0}) / 10)


def test_ndcg_rewards_a_hit_at_the_top_more():
    truth = held([[4]], 6)
    top = ranking_metrics(np.array([[4, 0, 1]]), truth)["NDCG"]
    last = ranking_metrics(np.array([[0, 1, 4]]), truth)["NDCG"]
    assert top == 1.0 and last == pytest.approx(1 / math.log2(4))


def test_missing_slots_count_as_misses():
    metrics = ranking_metrics(np.array([[3, -1]]), held([[3, 1]], 5))
    assert metrics["Precision"] == 0.5 and metrics["Recall"] == 0.5 and metrics["Coverage"] == 0.2


def test_top_k_orders_breaks_ties_by_index_and_excludes():
    scores = np.array([[0.1, 0.9, 0.5, 0.9, 0.2], [1.0, 1.0, 1.0, 1.0, 1.0]])
    assert top_k(scores, 3).tolist() == [[1, 3, 2], [0, 1, 2]]
    exclude = sp.csr_matrix(np.array([[0, 1, 0, 0, 0], [1, 1, 1, 1, 0]]))
    assert top_k(scores, 2, exclude).tolist() == [[3, 2], [4, -1]]
    with pytest.raises(ParameterError, match="k must be"):
        top_k(scores, 0)


def test_split_is_seeded_disjoint_and_covers():
    likes = as_likes(random_likes(60, 80, 0.12, seed=3))
    split = split_likes(likes, seed=7)
    again = split_likes(likes, seed=7)
    other = split_likes(likes, seed=8)
    for a, b in ((split.train, again.train), (split.validation, again.validation), (split.test, again.test)):
        assert (a != b).nnz == 0
    assert (split.test != other.test).nnz > 0
    total = split.train + split.validation + split.test
    assert (total != likes.matrix).nnz == 0 and total.max() == 1
    assert split.train.multiply(split.validation).nnz == 0 and split.train.multiply(split.test).nnz == 0
    assert split.validation.multiply(split.test).nnz == 0


def test_split_rule_per_user():
    rows = [list(range(n)) for n in (3, 4, 5, 10, 20, 25)]
    likes = as_likes(held(rows, 30))
    split = split_likes(likes, seed=0)
    val = np.diff(split.validation.indptr).tolist()
    test = np.diff(split.test.indptr).tolist()
    assert val == test == [0, 0, 1, 1, 2, 2]  # < 5 likes: train only; max(1, round(0.1 n))
    assert np.diff(split.train.indptr).tolist() == [3, 4, 3, 8, 16, 21]


def test_cosine_scores_are_the_seed_rule_for_every_user():
    rng = np.random.default_rng(0)
    V = rng.standard_normal((4, 12))
    V[:, 5] = 0.0  # a zero embedding scores 0, never NaN
    inputs = held([[0, 3], [7], [1, 2, 11]], 12)
    scores = cosine_scores(V, inputs)
    for user, rows in enumerate([[0, 3], [7], [1, 2, 11]]):
        assert np.allclose(scores[user], cosine_similarities(V, rows).mean(axis=0))
    assert np.allclose(scores[:, 5], 0.0)
    sparse = cosine_scores(sp.csr_matrix(V), inputs)
    assert np.allclose(sparse, scores)


def test_scoring_never_recommends_the_inputs():
    likes = as_likes(random_likes(40, 50, 0.2, seed=1))
    split = split_likes(likes, seed=0)
    V = np.random.default_rng(0).standard_normal((3, 50))
    ranked = top_k(cosine_scores(V, split.train), 10, split.known("validation"))
    assert not split.train[np.repeat(np.arange(40), 10), ranked.ravel()].any()
    metrics = evaluate_scores(cosine_scores(V, split.train), split, "test", k=5)
    assert 0 <= metrics["NDCG"] <= 1
    assert all(math.isnan(v) for v in evaluate_embeddings(np.full((3, 50), np.nan), split).values())


def test_fit_check_is_one_for_an_exact_fit():
    rng = np.random.default_rng(2)
    V = rng.standard_normal((3, 30))
    exact = V.T @ V
    exact[np.abs(exact) < 1.0] = 0.0  # zeros where the fit is not exact
    np.fill_diagonal(exact, 0)
    X = sp.csr_matrix(exact)
    result = fit_check(V, X, zeros=200, seed=0)
    assert result["r, co-liked"] == pytest.approx(1.0) and result["co-liked pairs"] == X.nnz // 2
    assert result["zero pairs"] == 200


def test_top_k_is_a_plain_sort_by_score_then_index_on_tie_heavy_scores():
    rng = np.random.default_rng(11)
    for _ in range(150):
        users, items = int(rng.integers(1, 12)), int(rng.integers(1, 25))
        k = int(rng.integers(1, items + 1))
        scores = rng.integers(0, 3, size=(users, items)).astype(float)  # ties everywhere
        scores[rng.random((users, items)) < 0.1] = np.nan
        exclude = sp.csr_matrix((rng.random((users, items)) < 0.3).astype(float))
        expected = []
        for row, banned in zip(scores, exclude.toarray() > 0, strict=True):
            allowed = [j for j in range(items) if not banned[j] and not np.isnan(row[j])]
            ranked = sorted(allowed, key=lambda j, row=row: (-row[j], j))[:k]
            expected.append(ranked + [-1] * (k - len(ranked)))
        assert top_k(scores, k, exclude).tolist() == expected


def scored_methods(split, names):
    """Methods scored on ``split`` from seeded random users x movies scores, one per name."""
    rng = np.random.default_rng(5)
    return [
        score_method(name, f"seed {seed}", rng.random(split.train.shape), split, k=5)
        for seed, name in enumerate(names)
    ]


def test_methods_table_ranks_by_test_ndcg_and_shortens_its_columns():
    split = split_likes(as_likes(random_likes(50, 40, 0.2, seed=4)), seed=0)
    methods = scored_methods(split, ["a", "b", "c"])
    table = methods_table(methods, k=5)
    assert table.columns.tolist() == [
        "method",
        "setting",
        "val NDCG@5",
        *(f"test {name}@5" for name in ("HR", "Recall", "Precision", "NDCG", "Coverage")),
    ]
    ndcg = {m.method: m.test["NDCG"] for m in methods}
    assert table["method"].tolist() == sorted(ndcg, key=lambda name: -ndcg[name])
    assert table["test NDCG@5"].tolist() == sorted(ndcg.values(), reverse=True)
    short = methods_table(methods, k=5, short=True)
    assert short.columns.tolist()[2:] == ["val NDCG", "HR", "Recall", "Precision", "NDCG", "Coverage"]
    assert short["NDCG"].tolist() == table["test NDCG@5"].tolist()


def test_metrics_at_another_k_rescore_the_kept_ranking():
    split = split_likes(as_likes(random_likes(50, 40, 0.2, seed=4)), seed=0)
    methods = scored_methods(split, ["a", "b"])
    longer = metrics_at(methods, split, 10).set_index("method")
    for method in methods:
        expected = ranking_metrics(method.ranked_test[:, :10], split.test, split.train.shape[1])
        assert longer.loc[method.method, "test NDCG@10"] == pytest.approx(expected["NDCG"])
        assert longer.loc[method.method, "test HR@10"] >= method.test["HR"]  # a longer list keeps its hits
    assert longer["test NDCG@10"].is_monotonic_decreasing


def test_split_change_compares_the_methods_both_splits_scored():
    likes = as_likes(random_likes(50, 40, 0.2, seed=4))
    first = scored_methods(split_likes(likes, seed=0), ["a", "b", "c"])
    second = scored_methods(split_likes(likes, seed=1), ["c", "a"])
    moved = split_change(first, second)
    assert moved["method"].tolist() == ["a", "c"]
    again = {m.method: m.test["NDCG"] for m in second}
    assert moved["second split"].tolist() == [again["a"], again["c"]]
    assert np.allclose(moved["change"], moved["second split"] - moved["first split"])
