"""The factored cost equals the masked formula, value and gradient, to rounding, for every target."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from conftest import random_likes
from movierec.data import colike_matrix
from movierec.model.cost import (
    TARGETS,
    CoLikeCost,
    colike_norm2,
    dense_cost,
    dense_target,
    gram_norm2,
    seed_cost,
    target_factor,
)
from movierec.model.train import TrainConfig, initial_embeddings


def dense_x(matrix) -> torch.Tensor:
    return torch.tensor(colike_matrix(matrix).toarray(), dtype=torch.float64)


@pytest.mark.parametrize("users,movies,dim", [(40, 30, 1), (40, 30, 7), (25, 60, 60), (60, 35, 50)])
def test_factored_cost_and_gradient_match_the_masked_formula(users, movies, dim):
    matrix = random_likes(users, movies, 0.2, seed=dim)
    X = dense_x(matrix)
    cost = CoLikeCost(matrix, dtype=torch.float64)
    V = torch.randn(
        dim, movies, dtype=torch.float64, generator=torch.Generator().manual_seed(dim), requires_grad=True
    )
    reference = dense_cost(V, X)
    reference.backward()
    value, grad = cost.value_and_grad(V.detach())
    assert float(value) == pytest.approx(float(reference.detach()), rel=1e-12)
    torch.testing.assert_close(grad, V.grad, rtol=1e-10, atol=1e-10 * float(V.grad.abs().max()))


TARGET_RIDGES = {"colikes": None, "cosine": None, "whitened": 3.0}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("users,movies,dim", [(40, 30, 1), (40, 30, 7), (25, 60, 60), (60, 35, 50)])
def test_every_target_matches_the_masked_formula(target, users, movies, dim):
    keep = np.ones(movies, dtype=np.float32)
    keep[3] = 0  # a movie no one likes: a zero column of every factor
    matrix = (random_likes(users, movies, 0.2, seed=dim + 1) @ sp.diags(keep)).tocsr()
    matrix.eliminate_zeros()
    K = torch.tensor(dense_target(matrix, target, TARGET_RIDGES[target]))
    cost = CoLikeCost(matrix, dtype=torch.float64, target=target, ridge=TARGET_RIDGES[target])
    V = torch.randn(
        dim, movies, dtype=torch.float64, generator=torch.Generator().manual_seed(dim), requires_grad=True
    )
    reference = dense_cost(V, K)
    reference.backward()
    value, grad = cost.value_and_grad(V.detach())
    assert float(value) == pytest.approx(float(reference.detach()), rel=1e-11)
    torch.testing.assert_close(grad, V.grad, rtol=1e-10, atol=1e-10 * float(V.grad.abs().max()))
    assert cost.value(torch.zeros(dim, movies, dtype=torch.float64)) == pytest.approx(
        float(K.square().sum()), rel=1e-12
    )


@pytest.mark.parametrize("target", TARGETS)
def test_factor_reproduces_the_target(target):
    matrix = random_likes(30, 45, 0.2, seed=5)
    factor = target_factor(matrix, target, TARGET_RIDGES[target])
    F = factor.dense()
    full = F.T @ F
    np.testing.assert_allclose(np.diag(full), factor.diagonal, rtol=1e-12, atol=1e-12)
    np.fill_diagonal(full, 0)
    K = dense_target(matrix, target, TARGET_RIDGES[target])
    np.testing.assert_allclose(full, K, rtol=1e-9, atol=1e-12)
    assert factor.norm2 == pytest.approx(float(np.square(K).sum()), rel=1e-12)
    assert factor.error_bound == 0


def test_cosine_target_is_one_for_movies_liked_by_the_same_users():
    liked = random_likes(20, 10, 0.3, seed=2)
    matrix = sp.hstack([liked[:, :1], liked]).tocsr()  # movies 0 and 1 have the same fans
    K = dense_target(matrix, "cosine")
    assert K[0, 1] == pytest.approx(1.0)
    assert np.all(K <= 1 + 1e-12)


def test_whitened_target_is_eases_weights_before_the_column_scaling():
    # Woodbury: EASE's B_ij = K_ij / (1 - K_jj) with K + diag = L^T (L L^T + lambda I)^-1 L.
    matrix = random_likes(25, 40, 0.25, seed=3)
    L = matrix.toarray().astype(np.float64)
    ridge = 5.0
    P = np.linalg.inv(L.T @ L + ridge * np.eye(40))
    ease = np.eye(40) - P / np.diag(P)
    factor = target_factor(matrix, "whitened", ridge)
    full = factor.dense().T @ factor.dense()
    np.testing.assert_allclose(ease, (full - np.diag(np.diag(full))) / (1 - np.diag(full)), atol=1e-10)


def test_whitened_factor_works_from_either_side():
    tall = random_likes(50, 20, 0.2, seed=6)  # more users than movies: eigendecompose L^T L
    factor = target_factor(tall, "whitened", 2.0)
    full = factor.dense().T @ factor.dense()
    np.fill_diagonal(full, 0)
    np.testing.assert_allclose(full, dense_target(tall, "whitened", 2.0), atol=1e-10)


def test_truncated_whitening_states_a_bound_on_its_error():
    matrix = random_likes(60, 80, 0.15, seed=7)
    K = dense_target(matrix, "whitened", 4.0)
    for rank in (5, 20, 60):
        with pytest.warns(UserWarning, match=f"rank-{rank} randomized SVD.*relative Frobenius error of K"):
            factor = target_factor(matrix, "whitened", 4.0, rank=rank)
        assert factor.rank == rank
        truncated = factor.dense().T @ factor.dense()
        np.fill_diagonal(truncated, 0)
        measured = np.linalg.norm(truncated - K) / np.linalg.norm(truncated)
        assert measured <= factor.error_bound
    assert factor.error_bound < 1e-6  # rank 60 = every user: nothing left out


def test_float_gram_norm_is_the_squared_norm_of_the_gram_matrix():
    matrix = random_likes(30, 12, 0.3, seed=8).astype(np.float64)
    matrix.data *= np.random.default_rng(0).random(matrix.nnz)
    expected = float(np.square((matrix.T @ matrix).toarray()).sum())
    assert gram_norm2(matrix.tocsr()) == pytest.approx(expected, rel=1e-12)
    assert gram_norm2(matrix.T.tocsr()) == pytest.approx(expected, rel=1e-12)


def test_colikes_target_is_the_default_cost_bit_for_bit():
    matrix = random_likes(40, 30, 0.2, seed=9)
    V = torch.randn(8, 30, generator=torch.Generator().manual_seed(0))
    default, explicit = CoLikeCost(matrix), CoLikeCost(matrix, target="colikes")
    for a, b in zip(default.value_and_grad(V), explicit.value_and_grad(V), strict=True):
        assert torch.equal(a, b)


def test_cost_at_zero_is_the_squared_norm_of_x():
    matrix = random_likes(30, 20, 0.3, seed=3)
    cost = CoLikeCost(matrix, dtype=torch.float64)
    expected = int((colike_matrix(matrix).toarray().astype(np.int64) ** 2).sum())
    assert cost.x_norm2 == expected == colike_norm2(matrix)
    assert cost.value(torch.zeros(4, 20, dtype=torch.float64)) == expected


def test_norm_uses_the_shorter_side_either_way():
    wide, tall = random_likes(10, 50, 0.3, seed=1), random_likes(50, 10, 0.3, seed=2)
    for matrix in (wide, tall):
        assert colike_norm2(matrix) == int((colike_matrix(matrix).toarray().astype(np.int64) ** 2).sum())


def test_seed_formula_is_the_same_cost():
    matrix = random_likes(30, 20, 0.3, seed=4)
    V = torch.randn(5, 20, dtype=torch.float64)
    assert float(seed_cost(V, dense_x(matrix))) == pytest.approx(
        float(dense_cost(V, dense_x(matrix))), rel=1e-12
    )


def test_wrong_shape_is_rejected():
    cost = CoLikeCost(random_likes(5, 8, 0.5, seed=0))
    with pytest.raises(ValueError, match="d x 8"):
        cost.value_and_grad(torch.zeros(3, 7))


@pytest.mark.integration
def test_real_data_cost_and_gradient_at_d16(likes, colikes):
    X = torch.tensor(colikes.toarray(), dtype=torch.float64)
    V = torch.randn(
        16,
        likes.n_movies,
        dtype=torch.float64,
        generator=torch.Generator().manual_seed(0),
        requires_grad=True,
    )
    reference = dense_cost(V, X)
    reference.backward()
    value, grad = CoLikeCost(likes, dtype=torch.float64).value_and_grad(V.detach())
    assert float(value) == pytest.approx(float(reference.detach()), rel=1e-9)
    torch.testing.assert_close(grad, V.grad, rtol=1e-9, atol=1e-9 * float(V.grad.abs().max()))


@pytest.mark.integration
@pytest.mark.slow
def test_seed_first_cost_at_full_dimension(likes):
    V = initial_embeddings(TrainConfig(dim="full"), likes.n_movies)
    first = CoLikeCost(likes).value(V)
    assert first == pytest.approx(57_846_087_680, rel=1e-6)
