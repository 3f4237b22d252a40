"""Sets of runs: the sweep that trains only what the run store lacks, and what a set of runs
says in one table (optimizer, rate, costs, status, time per epoch).

Book pages: "The optimizer study", "Re-run it yourself".
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..data import Likes
from ..errors import ParameterError
from ..model.cost import CoLikeCost
from ..model.train import DTYPES, TrainConfig, TrainResult, optimizer_classes, pick_device, train
from .store import RunStore


def sweep(
    configs: Iterable[TrainConfig],
    likes: Likes,
    data_checksum: str,
    store: RunStore | None = None,
    device: str = "auto",
    data_label: str = "",
) -> list[TrainResult]:
    """Run each configuration, reusing finished runs and recomputing missing or damaged ones.

    The cost object (L or the target's factor on the device) is built once per dtype and
    target and shared; the bar of each run says which of the N runs it is. A run another
    process is training at the same moment (its claim in the store) is left to it: this
    sweep trains its other runs first, then reads that one once stored (or trains it, if
    the other process gave it up), so two chapters executed at once never train a run twice.
    ``data_label`` names the data in the store's listing. Book page: "The optimizer study".
    """
    store = store or RunStore()
    target = pick_device(device)
    costs: dict[tuple[str, str, float | None], CoLikeCost] = {}
    configs = list(configs)
    for config in configs:
        if config.threshold != likes.threshold:
            raise ParameterError(
                f"threshold={config.threshold:g} is not allowed here: these likes were built with "
                f"threshold {likes.threshold:g}; build them again with "
                f"likes_matrix(..., threshold={config.threshold:g})"
            )

    def trained(number: int, config: TrainConfig) -> TrainResult | None:
        """The run, trained and stored under this process's claim; None if another holds it."""
        claim = store.claim(config.key(data_checksum))
        if claim is None:
            return None
        with claim:
            found = store.find(config, data_checksum)  # stored while this process looked elsewhere
            if found is not None:
                return found
            kind = (config.dtype, config.target, config.ridge)
            if kind not in costs:
                costs[kind] = CoLikeCost(likes, target, DTYPES[config.dtype], config.target, config.ridge)
            result = train(
                likes,
                config,
                data_checksum=data_checksum,
                device=target,
                cost=costs[kind],
                progress=f"run {number}/{len(configs)}: ",
            )
            result.data_label = data_label
            store.save(result)
            return result

    results: dict[int, TrainResult] = {}
    for number, config in enumerate(configs, start=1):
        found = store.find(config, data_checksum) or trained(number, config)
        if found is not None:
            results[number] = found
    for number, config in enumerate(configs, start=1):  # the runs other processes were training
        while number not in results:
            found = store.wait(config, data_checksum) or trained(number, config)
            if found is not None:
                results[number] = found
    return [results[number] for number in range(1, len(configs) + 1)]


def by_optimizer(results: Iterable[TrainResult]) -> dict[str, list[TrainResult]]:
    """Runs grouped by optimizer, in the order the optimizers first appear."""
    groups: dict[str, list[TrainResult]] = {}
    for result in results:
        groups.setdefault(result.config.optimizer, []).append(result)
    return groups


def optimizer_label(config: TrainConfig) -> str:
    """The optimizer's name as torch spells it, with its momentum: ``Adam``, ``SGD with momentum 0.9``."""
    name = optimizer_classes()[config.optimizer].__name__
    return f"{name} with momentum {config.momentum:g}" if config.momentum else name


def median_epoch_seconds(result: TrainResult) -> float:
    """The median time of one epoch (cost, gradient and step) of a run: unlike its wall time, not
    inflated by the first run's warm-up (thread pools, allocations). A run's last interval may
    hold less than an epoch (a step and a cost without its gradient when the run ended its
    epochs, a step that overflowed), so it is left out when others remain, and always when the
    run ended its epochs; a run of one epoch has no full interval, and its time to the first
    cost and gradient stands in."""
    seconds = result.history["seconds"].to_numpy(dtype=float)
    steps = np.diff(seconds)
    if len(result.history) == result.config.epochs + 1 or len(steps) > 1:
        steps = steps[:-1]
    if len(steps):
        return float(np.median(steps))
    return float(seconds[0]) if len(seconds) else float("nan")


def summary_table(results: Iterable[TrainResult], optimum: float | None = None) -> pd.DataFrame:
    """Optimizer, lr, final and lowest cost, status and median seconds per epoch: one row per
    run; with the best achievable cost ``optimum``, also how far above it each run ended (%)."""
    rows = []
    for result in results:
        row = {
            "optimizer": result.config.optimizer,
            "lr": result.config.lr,
            "final cost": result.final_cost,
            "lowest cost": result.lowest_cost,
            "status": result.status_text,
            "s/epoch": median_epoch_seconds(result),
        }
        if optimum is not None:
            finished = result.status == "finished"
            row["% above optimum"] = 100 * (result.final_cost - optimum) / optimum if finished else math.nan
        rows.append(row)
    return pd.DataFrame(rows)
