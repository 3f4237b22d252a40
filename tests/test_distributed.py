"""Data-parallel training: 2 local processes (gloo, CPU) give the 1-process run, to rounding."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
import torch
import torch.distributed as dist

from conftest import random_likes
from movierec.book import cli
from movierec.data import likes_matrix
from movierec.data.synthetic import SHAPES, synthetic_tables
from movierec.errors import ParameterError
from movierec.model.cost import CoLikeCost
from movierec.model.distributed import (
    ShardedCoLikeCost,
    require_colike_target,
    spawn_ranks,
    train_shard,
    user_block,
)
from movierec.model.train import TrainConfig, train
from movierec.runs.parallel import run_training
from movierec.runs.store import RunStore

EXACT_EPOCHS = 20
EXACT_DIM = 64
RELATIVE = 1e-6


def test_user_blocks_cover_every_user_once_with_balanced_likes():
    matrix = random_likes(101, 40, 0.2, seed=1)
    blocks = [user_block(matrix, rank, 3) for rank in range(3)]
    assert (sp.vstack(blocks) != matrix).nnz == 0
    likes = [block.nnz for block in blocks]
    assert max(likes) - min(likes) <= matrix.getnnz(axis=1).max()


def test_blocks_are_never_empty():
    dense = np.zeros((3, 42), dtype=np.float32)
    dense[0, 0] = dense[1, 1] = 1
    dense[2, 2:] = 1  # the last user holds almost all likes: a split by likes alone leaves blocks empty
    assert [user_block(sp.csr_matrix(dense), rank, 3).shape[0] for rank in range(3)] == [1, 1, 1]


def test_more_processes_than_users_is_refused():
    with pytest.raises(ParameterError, match="3 processes is not allowed for 2 users"):
        user_block(random_likes(2, 5, 0.5, seed=0), 0, 3)


def test_only_the_colike_target_is_distributed():
    require_colike_target(TrainConfig())
    require_colike_target(SimpleNamespace(target="colikes"))
    with pytest.raises(ParameterError, match="target='ratings' is not allowed with several processes"):
        require_colike_target(SimpleNamespace(target="ratings"))


def test_bad_nproc_is_refused():
    with pytest.raises(ParameterError, match="nproc=0 is not allowed"):
        run_training(None, TrainConfig(), 0)


def _rank_checks(small: sp.csr_matrix, ml1m: sp.csr_matrix, config: TrainConfig) -> dict:
    """In each rank: the sharded cost on ``small`` in float64, then a run on ``ml1m``."""
    rank, world = dist.get_rank(), dist.get_world_size()
    cost = ShardedCoLikeCost(user_block(small, rank, world), dtype=torch.float64)
    V = torch.randn(7, small.shape[1], dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    value, grad = cost.value_and_grad(V)
    result = train_shard(user_block(ml1m, rank, world), config)
    embeddings = [None] * world
    dist.all_gather_object(embeddings, result.embeddings)
    return {
        "value": float(value),
        "grad": grad,
        "like_counts": cost.like_counts,
        "x_norm2": cost.x_norm2,
        "reduced_bytes": cost.reduced_bytes,
        "costs": result.history["cost"].to_numpy(),
        "copies_equal": all(np.array_equal(copy, embeddings[0]) for copy in embeddings),
    }


@pytest.fixture(scope="module")
def ml1m_shape() -> sp.csr_matrix:
    movies, ratings = synthetic_tables(SHAPES["ml-1m"], seed=0)
    return likes_matrix(ratings, movies).matrix


def test_two_processes_equal_one(ml1m_shape):
    small = random_likes(60, 45, 0.2, seed=3)
    config = TrainConfig(epochs=EXACT_EPOCHS, dim=EXACT_DIM)
    ranks = spawn_ranks(_rank_checks, 2, small, ml1m_shape, config)

    reference = CoLikeCost(small, dtype=torch.float64)
    V = torch.randn(7, small.shape[1], dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    value, grad = reference.value_and_grad(V)
    assert ranks["value"] == pytest.approx(float(value), rel=1e-12)
    torch.testing.assert_close(ranks["grad"], grad, rtol=1e-10, atol=1e-10 * float(grad.abs().max()))
    assert ranks["x_norm2"] == reference.x_norm2
    assert torch.equal(ranks["like_counts"], reference.like_counts)
    assert ranks["reduced_bytes"] == 7 * 45 * 8 + 8  # one n x d gradient share and one scalar

    single = train(ml1m_shape, config, device="cpu").history["cost"].to_numpy()
    assert len(ranks["costs"]) == len(single) == EXACT_EPOCHS + 1
    np.testing.assert_allclose(ranks["costs"], single, rtol=RELATIVE)
    assert ranks["copies_equal"], "every rank must end with the same embeddings"


@pytest.mark.integration
def test_cli_nproc_2_stores_the_one_process_run(archive, likes, tmp_path, capsys):
    runs = tmp_path / "runs"
    options = ["--data", str(archive), "--runs", str(runs), "--device", "cpu"]
    options += ["--epochs", str(EXACT_EPOCHS), "--dim", str(EXACT_DIM)]
    assert cli.main(["train", "--nproc", "2", *options]) == 0
    two = capsys.readouterr().out.strip()
    assert cli.main(["train", *options]) == 0  # the same key: one process finds the stored run
    one = capsys.readouterr().out.strip()
    assert one == two and re.fullmatch(
        r"run [0-9a-f]{16}: adam lr=0\.5, d=64, finished, final cost .+", one.splitlines()[-1]
    )
    assert one.splitlines()[0].split() == ["epoch", "cost"] and len(one.splitlines()) == 1 + 11 + 1
    assert len(list(runs.iterdir())) == 1

    store = RunStore(runs)
    (key,) = store.keys()
    stored = store.load(key).history["cost"].to_numpy()
    single = train(likes, TrainConfig(epochs=EXACT_EPOCHS, dim=EXACT_DIM), device="cpu")
    np.testing.assert_allclose(stored, single.history["cost"].to_numpy(), rtol=RELATIVE)
