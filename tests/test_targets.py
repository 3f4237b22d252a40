"""Targets: configuration, run keys, scoring rules, and the chapter's search and comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

from conftest import random_likes
from movierec.cost import CoLikeCost, dense_cost, dense_target
from movierec.errors import ParameterError
from movierec.evaluate import dot_scores, embedding_scores
from movierec.recommend import recommend
from movierec.train import TrainConfig, train


@pytest.mark.parametrize(
    "params,message",
    [
        ({"target": "ppmi"}, "target must be one of colikes, cosine, whitened"),
        ({"target": "whitened"}, 'ridge is required with target="whitened": pass ridge=lambda > 0'),
        ({"target": "whitened", "ridge": 0}, "ridge must be a positive, finite number"),
        ({"target": "whitened", "ridge": -5.0}, "ridge must be a positive, finite number"),
        ({"target": "whitened", "ridge": "300"}, "ridge must be a positive number"),
        ({"target": "whitened", "ridge": float("inf")}, "ridge must be a positive, finite number"),
        ({"ridge": 300.0}, "ridge=300.0 is not allowed with target='colikes'"),
        ({"target": "cosine", "ridge": 1.0}, "leave ridge unset \\(None\\) for cosine"),
    ],
)
def test_bad_targets_and_ridges_are_named(params, message):
    with pytest.raises(ParameterError, match=message):
        TrainConfig(**params)


def test_default_target_keeps_the_run_keys_of_stored_runs():
    # Keys computed before targets existed (movierec 0.2, commit 9e6d5e0).
    assert TrainConfig().key("abc") == "1ce3e347392997e2"
    assert TrainConfig(optimizer="sgd", lr=1e-5, dim=32).key("x") == "d733319c213b2950"
    assert TrainConfig(target="colikes").key("abc") == "1ce3e347392997e2"
    whitened = TrainConfig(target="whitened", ridge=300)
    assert whitened.ridge == 300.0 and isinstance(whitened.ridge, float)
    assert whitened.key("abc") != TrainConfig(target="whitened", ridge=100.0).key("abc")
    assert TrainConfig(target="cosine").key("abc") != TrainConfig().key("abc")
    assert whitened.label == "adam lr=0.5 whitened ridge=300"
    assert TrainConfig.from_dict({"target": "cosine"}).target == "cosine"


@pytest.mark.parametrize("target,ridge", [("cosine", None), ("whitened", 2.0)])
def test_training_fits_the_chosen_target(target, ridge):
    matrix = random_likes(50, 40, 0.2, seed=1)
    result = train(
        matrix, optimizer="adam", lr=0.02, epochs=60, dim=4, init_std=0.05, target=target, ridge=ridge
    )
    K = torch.tensor(dense_target(matrix, target, ridge))
    V = torch.from_numpy(result.embeddings).double()
    assert result.final_cost == pytest.approx(float(dense_cost(V, K)), rel=1e-4)
    zero = CoLikeCost(matrix, target=target, ridge=ridge).x_norm2  # the cost of V = 0
    assert result.final_cost < 0.8 * zero


def test_a_cost_for_another_target_is_not_reused():
    matrix = random_likes(30, 20, 0.3, seed=2)
    colikes = CoLikeCost(matrix)
    result = train(
        matrix, epochs=2, dim=3, init_std=0.05, lr=0.01, target="cosine", cost=colikes, device="cpu"
    )
    first = CoLikeCost(matrix, target="cosine").value(
        torch.normal(0.0, 0.05, size=(3, 20), generator=torch.Generator().manual_seed(576))
    )
    assert result.history["cost"].iloc[0] == pytest.approx(first, rel=1e-6)


def tiny_movies(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "movieId": np.arange(1, n + 1, dtype="int32"),
            "title": [f"Movie {i} (2000)" for i in range(1, n + 1)],
            "genres": ["Drama"] * n,
        }
    )


def test_dot_scoring_sums_the_inputs_vectors():
    rng = np.random.default_rng(0)
    embeddings = rng.standard_normal((3, 6))
    embeddings[:, 0] *= 10  # a long vector: cosine ignores its length, dot does not
    movies = tiny_movies(6)
    dot = recommend(embeddings, movies, ["Movie 2 (2000)", "Movie 3 (2000)"], top_n=4, scoring="dot")
    expected = embeddings[:, [1, 2]].sum(axis=1) @ embeddings
    order = [j for j in np.argsort(-expected, kind="stable") if j not in (1, 2)][:4]
    assert list(dot["movieId"]) == [j + 1 for j in order]
    np.testing.assert_allclose(dot["score"], expected[order])
    cosine = recommend(embeddings, movies, ["Movie 2 (2000)", "Movie 3 (2000)"], top_n=4)
    assert cosine["score"].abs().max() <= 1 + 1e-12
    with pytest.raises(ParameterError, match="scoring must be one of cosine, dot"):
        recommend(embeddings, movies, ["Movie 2 (2000)"], scoring="euclid")


def test_dot_scores_for_every_user_match_the_single_user_rule():
    rng = np.random.default_rng(1)
    embeddings = rng.standard_normal((4, 9))
    inputs = sp.csr_matrix(random_likes(5, 9, 0.3, seed=3))
    scores = dot_scores(embeddings, inputs)
    np.testing.assert_allclose(scores, inputs.toarray() @ embeddings.T @ embeddings)
    np.testing.assert_array_equal(embedding_scores(embeddings, inputs, "dot"), scores)
    with pytest.raises(ParameterError, match="scoring"):
        embedding_scores(embeddings, inputs, "pearson")
