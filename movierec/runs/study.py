"""Sets of runs: the sweep that trains only what the run store lacks, and what a set of runs
says in one table (optimizer, rate, costs, status, time per epoch).

Book pages: "The optimizer study", "Re-run it yourself".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from ..data import Likes
from ..errors import ParameterError
from ..model.cost import CoLikeCost
from ..model.train import DTYPES, TrainConfig, Training, TrainResult, pick_device, train
from .store import RunStore


def sweep(
    configs: Iterable[TrainConfig],
    likes: Likes,
    data_checksum: str,
    store: RunStore | None = None,
    device: str = "auto",
    data_label: str = "",
    starts: Mapping[TrainConfig, tuple[torch.Tensor, torch.optim.Optimizer]] | None = None,
) -> list[TrainResult]:
    """Run each configuration, reusing finished runs and recomputing missing or damaged ones.

    The cost object (L or the target's factor on the device) is built once per dtype and
    target and shared; the bar of each run says which of the N runs it is. A run another
    process is training at the same moment (its claim in the store) is left to it: this
    sweep trains its other runs first, then reads that one once stored (or trains it, if
    the other process gave it up), so two chapters executed at once never train a run twice.
    ``data_label`` names the data in the store's listing; ``starts`` the initial embeddings and
    optimizer a page made for a run (:func:`movierec.model.train.check_start`), used when it
    is trained. Book page: "The optimizer study".
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
                start=(starts or {}).get(config),
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


@dataclass(frozen=True)
class Halving:
    """Successive halving, the early-stopping rule of a search that only picks a setting: the
    runs compared are scored at each of ``checks`` (fractions of their epochs); at each check the
    better ``keep`` share (rounded up, at least one) goes on and the others stop there. The run
    left goes on to its full epochs. Book page: "What should the embeddings fit?"."""

    checks: tuple[float, ...] = (0.25, 0.5)
    keep: float = 0.5

    def __post_init__(self) -> None:
        if not self.checks or not all(0 < check < 1 for check in self.checks):
            raise ParameterError(f"checks={self.checks!r} is not allowed: checks must be fractions in (0, 1)")
        if not 0 < self.keep < 1:
            raise ParameterError(f"keep={self.keep!r} is not allowed: keep must be in (0, 1)")

    def check_epochs(self, epochs: int) -> list[int]:
        """The epochs at which runs of ``epochs`` epochs are scored: distinct, from 1, before the end."""
        return sorted({round(check * epochs) for check in self.checks} & set(range(1, epochs)))

    def survivors(self, count: int) -> int:
        """How many of ``count`` runs go on past a check."""
        return max(1, math.ceil(self.keep * count))


#: The targets search's rule: scored after a quarter and half of the epochs, the better half goes on.
HALVING = Halving()

Score = Callable[[TrainConfig, Callable[[], TrainResult]], float]


def halve(
    configs: Sequence[TrainConfig],
    likes: Likes,
    data_checksum: str,
    store: RunStore,
    score: Score,
    rule: Halving = HALVING,
    complete: Iterable[TrainConfig] = (),
    device: str = "auto",
    data_label: str = "",
) -> list[TrainResult]:
    """``configs`` (all of the same epochs) compared by successive halving (``rule``): at each check
    epoch e, every run still going is scored by ``score(config at e, run)`` (higher is better,
    NaN worst; ``run()`` gives the run at e, trained only when called), the best go on, and each
    other stops at e and is stored as the run of ``replace(config, epochs=e)``, exactly what
    :func:`movierec.model.train.train` gives for it. The one left is trained to its end and stored.
    Configs in ``complete`` (a stage's incumbent, already trained in full) are compared but never
    stopped. Stored runs, stopped or complete, are read instead of trained; a run is trained in
    memory only for a score that ``score`` does not already know. Returns, for each config, the
    run it ended as (stopped, complete, or diverged before a check).
    Book page: "What should the embeddings fit?".
    """
    configs = list(dict.fromkeys(configs))
    complete = set(complete)
    if len({config.epochs for config in configs}) > 1:
        raise ParameterError("halve compares runs of the same length: give configs with equal epochs")
    target = pick_device(device)
    costs: dict[tuple[str, str, float | None], CoLikeCost] = {}
    trainings: dict[TrainConfig, Training] = {}

    def training(config: TrainConfig, epoch: int) -> Training:
        run = trainings.get(config)
        if run is None or run.epoch > epoch:
            kind = (config.dtype, config.target, config.ridge)
            if kind not in costs:
                costs[kind] = CoLikeCost(likes, target, DTYPES[config.dtype], config.target, config.ridge)
            run = trainings[config] = Training(
                likes, config, data_checksum=data_checksum, device=target, cost=costs[kind], progress=None
            )
        return run.advance(epoch)

    def at(config: TrainConfig, epoch: int) -> Callable[[], TrainResult]:
        def run() -> TrainResult:
            if epoch >= config.epochs:
                return finished(config)
            found = store.find(replace(config, epochs=epoch), data_checksum)
            if found is not None:
                return found
            whole = store.find(config, data_checksum)
            if whole is not None and whole.diverged_epoch is not None and whole.diverged_epoch <= epoch:
                return whole  # it diverged before this check
            return training(config, epoch).stopped()  # the whole run if it diverged before epoch

        return run

    def finished(config: TrainConfig) -> TrainResult:
        found = store.find(config, data_checksum)
        if found is None and store.claim_path(config.key(data_checksum)).exists():
            found = store.wait(config, data_checksum)  # another process trains it right now
        if found is not None:
            return found
        with store.claim(config.key(data_checksum)) or nullcontext():  # held elsewhere: train anyway
            result = training(config, config.epochs).result()
            result.data_label = data_label
            store.save(result)
        return result

    ended: dict[TrainConfig, TrainResult] = {}
    going = list(configs)
    for epoch in rule.check_epochs(configs[0].epochs) if len(configs) > 1 else []:
        scores = {config: score(replace(config, epochs=epoch), at(config, epoch)) for config in going}
        ranked = sorted(
            going, key=lambda config: -scores[config] if scores[config] == scores[config] else math.inf
        )
        kept = rule.survivors(len(going))
        for config in ranked[kept:]:
            if config not in complete:
                result = at(config, epoch)()
                if store.find(result.config, data_checksum) is None:  # stopped here, or diverged
                    result.data_label = data_label
                    store.save(result)
                ended[config] = result
                trainings.pop(config, None)
        going = [config for config in going if config in ranked[:kept]]
        if len(going) == 1:
            break
    for config in configs:
        if config not in ended:
            ended[config] = finished(config)
    return [ended[config] for config in configs]


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


def summary_table(results: Iterable[TrainResult], lowest_found: float | None = None) -> pd.DataFrame:
    """Optimizer, lr, final and lowest cost, status and median seconds per epoch: one row per
    run; with ``lowest_found``, the lowest cost any method found for this size (not a bound), also
    how far above it each finished run ended (%)."""
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
        if lowest_found is not None:
            above = 100 * (result.final_cost - lowest_found) / lowest_found
            row["% above lowest found"] = above if result.status == "finished" else math.nan
        rows.append(row)
    return pd.DataFrame(rows)
