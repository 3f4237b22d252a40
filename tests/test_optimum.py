"""The best cost by eigen-alternation, the exact Hessian and the SGD stability bound."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from conftest import random_likes
from movierec.model.cost import CoLikeCost, dense_target
from movierec.model.optimum import (
    best_cost,
    heavy_ball_bound,
    hessian_product,
    hessian_top_eigenvalue,
    lambda_max,
    lambda_min,
    observed_stability,
    optimum_table,
    sgd_stability,
    stability_configs,
    stable_sgd_rate,
)
from movierec.model.train import TrainConfig, train
from movierec.runs.store import RunStore
from movierec.runs.study import sweep


def test_best_cost_is_below_a_long_adam_run_and_never_rises():
    likes = random_likes(60, 40, 0.15, seed=0)
    optimum = best_cost(likes, 3, tol=1e-10, max_iterations=2000)
    assert all(b <= a * (1 + 1e-12) for a, b in pairwise(optimum.history))
    adam = train(
        likes, optimizer="adam", lr=0.05, epochs=800, dim=3, init_std=0.1, device="cpu", dtype="float64"
    )
    assert optimum.cost <= adam.final_cost * (1 + 1e-6)
    cost = CoLikeCost(likes, "cpu", torch.float64)
    assert cost.value(torch.from_numpy(optimum.embeddings.astype(np.float64))) == pytest.approx(
        optimum.cost, rel=1e-6
    )


def blocks(sizes: list[tuple[int, int]]) -> sp.csr_matrix:
    """Users in groups; each group likes its own block of movies (block b: users, movies)."""
    rows, cols, user, movie = [], [], 0, 0
    for users, movies in sizes:
        for u in range(user, user + users):
            rows += [u] * movies
            cols += list(range(movie, movie + movies))
        user, movie = user + users, movie + movies
    return sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(user, movie))


def test_best_cost_is_exact_on_block_data():
    # Block A: 4 movies liked by the same 3 users (X = 3 off the diagonal); block B: 3 movies,
    # 1 user (X = 1). Two dimensions fit both blocks exactly; one dimension fits A
    # (v_i^2 = 3) and leaves B's 3 * 2 off-diagonal ones: the best rank-1 cost is 6.
    likes = blocks([(3, 4), (1, 3)])
    assert best_cost(likes, 2).cost == pytest.approx(0.0, abs=1e-6)
    one = best_cost(likes, 1, tol=1e-9)
    assert one.cost == pytest.approx(6.0, rel=1e-6)
    assert one.fraction == pytest.approx(6.0 / (9 * 12 + 6))


def test_hessian_product_matches_finite_differences():
    likes = random_likes(30, 25, 0.2, seed=1)
    rng = np.random.default_rng(0)
    V, E = rng.standard_normal((4, 25)), rng.standard_normal((4, 25))
    cost = CoLikeCost(likes, "cpu", torch.float64)
    step = 1e-5

    def grad(W):
        return cost.value_and_grad(torch.from_numpy(W))[1].numpy()

    numeric = (grad(V + step * E) - grad(V - step * E)) / (2 * step)
    assert np.allclose(hessian_product(likes, V, E), numeric, rtol=1e-5, atol=1e-5)


def test_curvature_near_the_origin_is_minus_four_x():
    likes = random_likes(30, 25, 0.2, seed=2)
    top = lambda_max(likes)
    dense = (likes.T @ likes).toarray()
    np.fill_diagonal(dense, 0)
    assert top == pytest.approx(np.linalg.eigvalsh(dense)[-1])
    # At V = 0 the Hessian is -4 X in each row of V, so its largest eigenvalue is -4 lambda_min(X).
    assert hessian_top_eigenvalue(likes, np.zeros((2, 25))) == pytest.approx(
        -4 * np.linalg.eigvalsh(dense)[0], rel=1e-6
    )
    assert heavy_ball_bound(100.0, 0.9) == pytest.approx(0.038)


@pytest.mark.integration
def test_real_optimum_lambda_max_and_sgd_bound(likes, tmp_path):
    optimum = best_cost(likes, 64)
    assert optimum.cost == pytest.approx(1_308_831, rel=1e-3)
    assert optimum.x_norm2 == 63_482_944
    assert lambda_max(likes) == pytest.approx(7222.5, rel=1e-4)
    curvature = hessian_top_eigenvalue(likes, optimum.embeddings)
    assert curvature == pytest.approx(8 * 7222.5, rel=0.02)
    bound = heavy_ball_bound(curvature)
    # Above the bound at the optimum: diverges. Well below it (the path to the optimum is
    # about twice as steep as the optimum itself): converges.
    above, below = sweep(
        stability_configs([1.5 * bound, 0.3 * bound], 64, 100, 0.5, 576, "ml-latest-small"),
        likes,
        "test",
        RunStore(tmp_path),
        "cpu",
    )
    assert above.status == "diverged" and below.status == "finished"


@pytest.mark.parametrize("target,ridge,lr", [("cosine", None, 0.02), ("whitened", 10.0, 0.01)])
def test_best_cost_of_every_target_is_below_a_long_adam_run(target, ridge, lr):
    # (With a small ridge the whitened diagonal is large and the alternation can stall above
    # the optimum; on the real likes at d = 64 it matches a 400-epoch Adam run to 3e-6.)
    likes = random_likes(40, 80, 0.2, seed=0)
    optimum = best_cost(likes, 4, tol=1e-10, max_iterations=200, target=target, ridge=ridge)
    assert optimum.target == target
    assert all(b <= a * (1 + 1e-12) for a, b in pairwise(optimum.history))
    adam = train(
        likes,
        optimizer="adam",
        lr=lr,
        epochs=600,
        dim=4,
        init_std=0.05,
        device="cpu",
        dtype="float64",
        target=target,
        ridge=ridge,
    )
    assert optimum.cost <= adam.final_cost * (1 + 1e-6)
    cost = CoLikeCost(likes, "cpu", torch.float64, target, ridge)
    assert optimum.x_norm2 == pytest.approx(cost.x_norm2)
    assert cost.value(torch.from_numpy(optimum.embeddings.astype(np.float64))) == pytest.approx(
        optimum.cost, rel=1e-6
    )


def test_lambda_max_of_every_target_and_its_sgd_rate():
    likes = random_likes(30, 25, 0.2, seed=2)
    for target, ridge in [("colikes", None), ("cosine", None), ("whitened", 3.0)]:
        top = np.linalg.eigvalsh(dense_target(likes, target, ridge))[-1]
        assert lambda_max(likes, target, ridge) == pytest.approx(top, rel=1e-8)
        assert stable_sgd_rate(likes, target, ridge) == pytest.approx(heavy_ball_bound(8 * top), rel=1e-8)


def test_sgd_rate_takes_the_steeper_of_start_and_optimum():
    likes = random_likes(30, 25, 0.2, seed=2)
    at_optimum = stable_sgd_rate(likes, "cosine")
    assert stable_sgd_rate(likes, "cosine", init_std=1e-3) == pytest.approx(at_optimum, rel=1e-9)
    assert stable_sgd_rate(likes, "cosine", init_std=10.0) == pytest.approx(heavy_ball_bound(12 * 25 * 100.0))


def test_curvature_table_at_the_origin_has_both_signs_and_the_bound_follows_the_momentum():
    likes = random_likes(30, 25, 0.2, seed=2)
    dense = (likes.T @ likes).toarray()
    np.fill_diagonal(dense, 0)
    eigenvalues = np.linalg.eigvalsh(dense)
    assert lambda_min(likes) == pytest.approx(eigenvalues[0]) and eigenvalues[0] < 0
    optimum = best_cost(likes, 2)
    bounds = {}
    for momentum in (0.9, 0.5):
        config = TrainConfig(optimizer="sgd", lr=1e-3, momentum=momentum, dim=2, init_std=0.1)
        table = sgd_stability(likes, config, optimum)
        lowest, highest, at_start, at_optimum = table["measured"]
        # At V = 0 the Hessian is -4 X in each row of V: its lowest eigenvalue is -4 lambda_max(X)
        # (negative: no bound), its highest -4 lambda_min(X) (positive): the formula and the
        # measured value agree in sign and size.
        assert lowest == pytest.approx(-4 * eigenvalues[-1], rel=1e-6)
        assert highest == pytest.approx(-4 * eigenvalues[0], rel=1e-6) and highest > 0
        assert list(table["by formula"][:2]) == pytest.approx([-4 * eigenvalues[-1], -4 * eigenvalues[0]])
        assert table["largest stable lr"].iloc[0] == math.inf
        assert list(table["largest stable lr"][1:]) == pytest.approx(
            [2 * (1 + momentum) / h for h in (highest, at_start, at_optimum)]
        )
        bounds[momentum] = table["largest stable lr"].min()
    assert bounds[0.5] == pytest.approx(bounds[0.9] * 1.5 / 1.9)


def test_stability_runs_carry_the_momentum_and_threshold_and_the_tables_name_the_lowest_cost_found():
    configs = stability_configs([1e-5, 1e-4], 8, 5, 0.5, 576, "ml-latest-small", 0.5, 3.5)
    assert [c.lr for c in configs] == [1e-4, 1e-5]
    assert all(c.optimizer == "sgd" and c.momentum == 0.5 and c.threshold == 3.5 for c in configs)
    default = stability_configs([1e-5], 8, 5, 0.5, 576, "ml-latest-small")[0]
    assert default.momentum == 0.9 and default.threshold == 4.0
    likes = random_likes(30, 25, 0.2, seed=2)
    assert stable_sgd_rate(likes, momentum=0.5) == pytest.approx(heavy_ball_bound(8 * lambda_max(likes), 0.5))
    optimum = best_cost(likes, 2)
    assert "lowest cost found" in optimum_table(optimum).columns
    run = train(likes, optimizer="sgd", lr=1e-4, epochs=3, dim=2, init_std=0.1, device="cpu")
    observed = observed_stability([run], 1e-3, optimum.cost)
    assert observed["final / lowest found"].iloc[0] == pytest.approx(run.final_cost / optimum.cost)
    assert observed["predicted"].iloc[0] == "stable"
