"""Runs trained by several processes: one process, ``nproc`` local ones, or one rank of a
torchrun job, stored under the same key whatever the number of processes.

The data-parallel training itself is :mod:`movierec.model.distributed`'s. Entry points:
``movierec train --nproc N`` (N local processes) and, on one or several machines,
``torchrun ... -m movierec.torchrun [movierec train options]``. Book page: "Scaling up".
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import scipy.sparse as sp
import torch
import torch.distributed as dist

from ..errors import ParameterError
from ..model.distributed import (
    backend_for,
    is_first_rank,
    launched_by_torchrun,
    local_device,
    require_colike_target,
    share_threads,
    spawn_ranks,
    train_shard,
    user_block,
)
from ..model.train import TrainConfig, TrainResult, pick_device
from .store import RunStore
from .workspace import Workspace


def run_training(workspace: Workspace, config: TrainConfig, nproc: int = 1) -> TrainResult:
    """``workspace.run(config)`` in one process, in ``nproc`` local ones, or as this rank of a
    torchrun job: the stored result when there is one, else trained and stored (by rank 0)
    under the same key, whatever the number of processes."""
    if not isinstance(nproc, int) or nproc < 1:
        raise ParameterError(f"nproc={nproc!r} is not allowed: nproc must be an integer >= 1")
    if launched_by_torchrun():
        if nproc != 1:
            raise ParameterError(
                f"nproc={nproc} is not allowed under torchrun: torchrun starts the processes "
                f"(--nnodes, --nproc-per-node); drop --nproc"
            )
        return train_as_rank(workspace, config)
    if nproc == 1:
        return workspace.run(config)
    return train_in_processes(workspace, config, nproc)


def _check_workspace(workspace: Workspace, config: TrainConfig) -> None:
    require_colike_target(config)
    if config.dataset != workspace.data.release or config.threshold != workspace.likes.threshold:
        raise ParameterError(
            f"dataset={config.dataset!r}, threshold={config.threshold:g} is not allowed here: the loaded "
            f"likes are {workspace.data.release} at threshold {workspace.likes.threshold:g}; "
            f"open a workspace (or pass --dataset) for the run's data"
        )
    config.resolved_dim(workspace.likes.n_movies)


def train_in_processes(workspace: Workspace, config: TrainConfig, nproc: int) -> TrainResult:
    """The stored run for ``config``, else trained in ``nproc`` local processes and stored by rank 0."""
    _check_workspace(workspace, config)
    stored = workspace.store.find(config, workspace.data.checksum)
    if stored is not None:
        return stored
    device = pick_device(workspace.device)
    user_block(workspace.likes, 0, nproc)  # refuses more processes than users before any starts
    with tempfile.TemporaryDirectory(prefix="movierec-likes-") as folder:
        likes_path = Path(folder) / "likes.npz"
        sp.save_npz(likes_path, workspace.likes.matrix, compressed=False)
        return spawn_ranks(
            _train_and_store,
            nproc,
            str(likes_path),
            config,
            workspace.data.checksum,
            str(workspace.store.root),
            str(device),
            workspace.data.release,
            device=device,
        )


def _train_and_store(
    likes_path: str, config: TrainConfig, data_checksum: str, store_root: str, device: str, data_label: str
) -> TrainResult:
    """One rank of a local run: load L, keep this rank's users, train; rank 0 stores the result."""
    block = user_block(sp.load_npz(likes_path), dist.get_rank(), dist.get_world_size())
    result = train_shard(block, config, data_checksum=data_checksum, device=local_device(device))
    result.data_label = data_label
    if is_first_rank():
        RunStore(store_root).save(result)
    return result


def train_as_rank(workspace: Workspace, config: TrainConfig) -> TrainResult:
    """This process's part of a torchrun job: rank 0 looks the run up; if it is missing, every
    rank trains on its block and rank 0 stores it. Every rank returns rank 0's result."""
    _check_workspace(workspace, config)
    device = local_device(pick_device(workspace.device))
    if device.type == "cuda":
        torch.cuda.set_device(device)
    share_threads(torch.get_num_threads())
    dist.init_process_group(backend_for(device))
    try:
        found = [workspace.store.find(config, workspace.data.checksum) if is_first_rank() else None]
        dist.broadcast_object_list(found, group_src=0)
        if found[0] is not None:
            return found[0]
        block = user_block(workspace.likes, dist.get_rank(), dist.get_world_size())
        result = train_shard(block, config, data_checksum=workspace.data.checksum, device=device)
        result.data_label = workspace.data.release
        if is_first_rank():
            workspace.store.save(result)
        return result
    finally:
        dist.destroy_process_group()
