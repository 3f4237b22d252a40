"""The same checks on an accelerator: cost, kernel, training and NCCL ranks on MOVIEREC_TEST_DEVICE.

Marked ``gpu``; the device is ``$MOVIEREC_TEST_DEVICE`` (default ``cuda``) and every test skips
when it is not available, so ``pytest`` on a CPU-only machine reports them skipped.
``MOVIEREC_TEST_DEVICE=cpu pytest -m gpu`` runs them on the CPU (to check the tests themselves).
benchmarks/gpu_check.sh runs them on CUDA.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
import torch.distributed as dist

from conftest import random_likes
from movierec.data import colike_matrix
from movierec.model.cost import CoLikeCost, dense_cost
from movierec.model.distributed import spawn_ranks, train_shard, user_block
from movierec.model.kernels import gram_matrix
from movierec.model.train import TrainConfig, initial_embeddings, train

DEVICE = os.environ.get("MOVIEREC_TEST_DEVICE", "cuda")


def device_available(name: str) -> bool:
    """Whether torch can use the device ``name`` here."""
    kind = torch.device(name).type
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return torch.backends.mps.is_available()
    return kind == "cpu"


pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not device_available(DEVICE), reason=f"no {DEVICE} device: skipped"),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("users,movies,dim", [(40, 30, 7), (25, 60, 60), (60, 35, 50)])
def test_cost_and_gradient_match_the_masked_formula(users, movies, dim, dtype):
    matrix = random_likes(users, movies, 0.2, seed=dim)
    X = torch.tensor(colike_matrix(matrix).toarray(), dtype=torch.float64)
    V = torch.randn(
        dim, movies, dtype=torch.float64, generator=torch.Generator().manual_seed(dim), requires_grad=True
    )
    reference = dense_cost(V, X)
    reference.backward()
    value, grad = CoLikeCost(matrix, DEVICE, dtype).value_and_grad(V.detach().to(DEVICE, dtype))
    tolerance = 1e-10 if dtype == torch.float64 else 1e-5
    assert float(value) == pytest.approx(float(reference.detach()), rel=tolerance)
    scale = float(V.grad.abs().max())
    torch.testing.assert_close(grad.cpu().double(), V.grad, rtol=0, atol=tolerance * scale)


@pytest.mark.parametrize("n,d", [(300, 40), (40, 300), (257, 257)])
def test_gram_matrix_on_the_device(n, d):
    rows = torch.randn(n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(n))
    gram = gram_matrix(rows.to(DEVICE))
    assert gram.device.type == torch.device(DEVICE).type
    torch.testing.assert_close(gram.cpu(), rows.mT @ rows, rtol=1e-12, atol=1e-12 * float(gram.abs().max()))


def test_training_on_the_device_follows_the_cpu_run():
    matrix = random_likes(300, 200, 0.05, seed=11)
    config = TrainConfig(epochs=20, dim=64)
    on_device = train(matrix, config, device=DEVICE).history["cost"].to_numpy()
    on_cpu = train(matrix, config, device="cpu").history["cost"].to_numpy()
    np.testing.assert_allclose(on_device, on_cpu, rtol=1e-5)


def _sharded_costs(matrix, config: TrainConfig) -> np.ndarray:
    block = user_block(matrix, dist.get_rank(), dist.get_world_size())
    device = torch.device(DEVICE).type
    local = torch.device(device, dist.get_rank()) if device == "cuda" else torch.device(device)
    return train_shard(block, config, device=local).history["cost"].to_numpy()


@pytest.mark.skipif(
    torch.device(DEVICE).type == "cuda" and torch.cuda.device_count() < 2, reason="fewer than 2 CUDA devices"
)
def test_two_ranks_on_the_device_equal_one():
    matrix = random_likes(400, 150, 0.05, seed=12)
    config = TrainConfig(epochs=20, dim=64)
    sharded = spawn_ranks(_sharded_costs, 2, matrix, config, device=torch.device(DEVICE).type)
    single = train(matrix, config, device=DEVICE).history["cost"].to_numpy()
    np.testing.assert_allclose(sharded, single, rtol=1e-6)


@pytest.mark.integration
def test_seed_first_cost_at_full_dimension_on_the_device(likes):
    V = initial_embeddings(TrainConfig(dim="full"), likes.n_movies).to(DEVICE)
    assert CoLikeCost(likes, DEVICE).value(V) == pytest.approx(57_846_087_680, rel=1e-6)
