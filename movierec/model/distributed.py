"""Data-parallel training with ``torch.distributed``: users split over processes, V replicated.

Each process (rank) holds a contiguous block L_k of L's rows (users, balanced by likes) and a
full copy of V. Only the user side of the cost is a sum over users,

    ||V L^T||^2 = sum_k ||V L_k^T||^2,        (V L^T) L = sum_k (V L_k^T) L_k,

so at every step each rank computes its share and two all-reduces (sum) add them: the n x d
gradient share and one scalar. V V^T, s and the optimizer step are computed on every rank from
its copy of V; every rank receives the same sums, so the copies stay identical. The training
loop is :func:`movierec.model.train.train` itself, given a :class:`ShardedCoLikeCost`.

At start-up, D (likes per movie) is an all-reduce of the blocks' column sums. ||X||^2 =
||L^T L||^2 - sum_i D_i^2 has cross-block terms, so rank 0 gathers the blocks once, computes it
exactly with :func:`movierec.model.cost.colike_norm2` and broadcasts it (the gathered copy is freed).

Storing and launching such runs (``movierec train --nproc N``, torchrun) is
:mod:`movierec.runs.parallel`'s. Book page: "Scaling up".
"""

from __future__ import annotations

import os
import pickle
import socket
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
import torch.distributed as dist
from threadpoolctl import threadpool_limits

from ..data import Likes, as_csr
from ..errors import ParameterError
from .cost import CoLikeCost, accumulation_dtype, colike_norm2, to_torch_csr
from .train import DTYPES, TrainConfig, TrainResult, train

COLIKES = "colikes"
LAUNCHER_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def require_colike_target(config: Any) -> None:
    """Refuse any target but the seed's X = L^T L: only its user side is a sum the ranks can split."""
    target = getattr(config, "target", COLIKES)
    if target != COLIKES:
        raise ParameterError(
            f"target={target!r} is not allowed with several processes: distributed training "
            f"supports only target={COLIKES!r} (X = L^T L); train it in one process (--nproc 1)"
        )


def user_block(likes: Likes | sp.spmatrix, rank: int, world_size: int) -> sp.csr_matrix:
    """Rank ``rank``'s rows of L: one of ``world_size`` contiguous, non-empty blocks of users
    holding about equal numbers of likes (the step's work is proportional to them)."""
    matrix = as_csr(likes)
    users = matrix.shape[0]
    if not 1 <= world_size <= users or not 0 <= rank < world_size:
        raise ParameterError(
            f"{world_size} processes is not allowed for {users:,} users (rank {rank}): "
            f"use at most one process per user"
        )
    targets = matrix.indptr[-1] * np.arange(world_size + 1) / world_size
    bounds = np.searchsorted(matrix.indptr, targets).clip(0, users)
    bounds[0], bounds[-1] = 0, users
    for k in range(1, world_size):  # every block keeps at least one user
        bounds[k] = min(max(bounds[k], bounds[k - 1] + 1), users - (world_size - k))
    return matrix[bounds[rank] : bounds[rank + 1]]


class ShardedCoLikeCost(CoLikeCost):
    """c(V) and its gradient from this rank's users, the user side summed over all ranks.

    Every rank of ``group`` builds one with its own block of users, in the same order of calls.
    ``like_counts`` and ``x_norm2`` are those of all users (see the module's docstring);
    ``reduced_bytes`` counts the bytes all-reduced by the training steps.
    """

    def __init__(
        self,
        block: Likes | sp.spmatrix,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        group: dist.ProcessGroup | None = None,
    ):
        matrix = as_csr(block)
        self.group = group
        self.device = torch.device(device)
        self.dtype = dtype
        self.target, self.ridge = COLIKES, None  # what train() checks the cost was built for
        self.acc = accumulation_dtype(self.device)
        self.n_users, self.n_movies = matrix.shape
        self.likes = to_torch_csr(matrix, self.device, dtype)
        self.likes_t = to_torch_csr(matrix.T, self.device, dtype)
        counts = torch.as_tensor(np.asarray(matrix.sum(axis=0), dtype=np.int64).ravel(), device=self.device)
        dist.all_reduce(counts, group=group)
        self.like_counts = counts.to(dtype)
        self.x_norm2 = shared_colike_norm2(matrix, group)
        self.reduced_bytes = 0

    def _sum_over_ranks(self, tensor: torch.Tensor) -> torch.Tensor:
        dist.all_reduce(tensor, group=self.group)
        self.reduced_bytes += tensor.numel() * tensor.element_size()
        return tensor

    def user_norm2(self, user_side: torch.Tensor) -> torch.Tensor:
        """||V L^T||^2 over all ranks' users: this block's share, all-reduced."""
        return self._sum_over_ranks(super().user_norm2(user_side))

    def user_gradient(self, user_side: torch.Tensor) -> torch.Tensor:
        """(V L^T) L over all ranks' users, movies x d: this block's L_k^T (L_k V^T), all-reduced."""
        return self._sum_over_ranks(super().user_gradient(user_side))


def shared_colike_norm2(block: sp.csr_matrix, group: dist.ProcessGroup | None = None) -> int:
    """||X||^2 of all ranks' blocks stacked in rank order: gathered on rank 0, computed there
    exactly (:func:`movierec.model.cost.colike_norm2`), broadcast; a mismatch of columns is refused."""
    blocks: list[sp.csr_matrix] | None = [None] * dist.get_world_size(group) if is_first_rank(group) else None
    dist.gather_object(block, blocks, group_dst=0, group=group)
    answer: list[int | str | None] = [None]
    if blocks is not None:
        widths = sorted({part.shape[1] for part in blocks})
        answer[0] = (
            colike_norm2(sp.vstack(blocks, format="csr"))
            if len(widths) == 1
            else f"the ranks' blocks of users have different numbers of movies ({widths}): "
            f"give every rank the same columns (all movies of the release)"
        )
        del blocks
    dist.broadcast_object_list(answer, group_src=0, group=group)
    if isinstance(answer[0], str):
        raise ParameterError(answer[0])
    return int(answer[0])


def is_first_rank(group: dist.ProcessGroup | None = None) -> bool:
    """Whether this process is rank 0 of ``group`` (the one that stores and reports)."""
    return dist.get_rank(group) == 0


def train_shard(
    block: Likes | sp.spmatrix,
    config: TrainConfig,
    *,
    data_checksum: str = "",
    device: torch.device | str = "cpu",
    progress: str = "",
    group: dist.ProcessGroup | None = None,
) -> TrainResult:
    """:func:`movierec.model.train.train` on this rank's users, inside an initialised process group:
    the same run, to rounding, as one process training on all users. Every rank returns it."""
    require_colike_target(config)
    target = torch.device(device)
    cost = ShardedCoLikeCost(block, target, DTYPES[config.dtype], group)
    shown = progress if is_first_rank(group) else None  # one bar, not one per process
    return train(block, config, data_checksum=data_checksum, device=target, cost=cost, progress=shown)


def backend_for(device: torch.device) -> str:
    """The collective backend for ``device``: nccl on CUDA, gloo on the CPU."""
    if device.type == "cuda":
        return "nccl"
    if device.type == "cpu":
        return "gloo"
    raise ParameterError(
        f"device={str(device)!r} is not allowed with several processes: torch.distributed has no "
        f"backend for it; use --device cpu or cuda"
    )


def local_device(device: torch.device | str) -> torch.device:
    """This process's device: for CUDA, GPU number LOCAL_RANK (one GPU per process)."""
    device = torch.device(device)
    if device.type != "cuda":
        return device
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))


def launched_by_torchrun() -> bool:
    """Whether this process is one rank of a job started by torchrun (or a launcher like it)."""
    return all(name in os.environ for name in LAUNCHER_VARIABLES)


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def spawn_ranks(
    function: Callable[..., Any], nproc: int, *args: Any, device: torch.device | str = "cpu"
) -> Any:
    """Run ``function(*args)`` in ``nproc`` fresh local processes, each one rank of a process
    group over loopback (gloo on the CPU, nccl on CUDA: one GPU each), the parent's torch threads
    shared between them; return rank 0's return value. A rank that fails raises here."""
    device = torch.device(device)
    backend = backend_for(device)
    if device.type == "cuda" and nproc > torch.cuda.device_count():
        raise ParameterError(
            f"nproc={nproc} is not allowed on {torch.cuda.device_count()} CUDA device(s): one GPU per "
            f"process; use at most --nproc {torch.cuda.device_count()} or --device cpu"
        )
    threads = max(1, torch.get_num_threads() // nproc)
    with tempfile.TemporaryDirectory(prefix="movierec-ranks-") as folder:
        answer = Path(folder) / "rank0.pickle"
        torch.multiprocessing.spawn(
            _rank_main,
            args=(nproc, free_port(), backend, threads, str(answer), function, args),
            nprocs=nproc,
            join=True,
        )
        with answer.open("rb") as stream:
            return pickle.load(stream)


def _rank_main(
    rank: int,
    nproc: int,
    port: int,
    backend: str,
    threads: int,
    answer: str,
    function: Callable[..., Any],
    args: Sequence[Any],
) -> None:
    """One spawned rank: join the group, run ``function``, rank 0 writes its return value."""
    os.environ["LOCAL_RANK"] = str(rank)
    share_threads(threads)
    if backend == "nccl":
        torch.cuda.set_device(rank)
    dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=nproc)
    try:
        value = function(*args)
        if rank == 0:
            with open(answer, "wb") as stream:
                pickle.dump(value, stream, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        dist.destroy_process_group()


def share_threads(threads: int) -> None:
    """Limit torch and the BLAS behind scipy (used by :mod:`movierec.model.kernels`) to ``threads``."""
    torch.set_num_threads(threads)
    threadpool_limits(threads, user_api="blas")
