"""The factored cost equals the masked formula, value and gradient, to rounding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import random_likes
from movierec.cost import CoLikeCost, colike_norm2, dense_cost, seed_cost
from movierec.data import colike_matrix
from movierec.train import TrainConfig, initial_embeddings


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
