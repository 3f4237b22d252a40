"""Sets of runs: the grids behind the optimizer study, the tuning and the stability runs, and the
sweep that trains only what the run store lacks.

Book pages: "The optimizer study", "Re-run it yourself".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .cost import CoLikeCost
from .data import Likes
from .errors import ParameterError
from .profiles import defaults, validate_parameters
from .store import RunStore
from .train import DTYPES, TrainConfig, TrainResult, pick_device, train


def config_grid(
    rates: Mapping[str, Sequence[float]], dims: Sequence[int | str], **shared: Any
) -> list[TrainConfig]:
    """One run per optimizer, embedding size and learning rate (in that nesting), the other
    parameters shared: the grid behind the study, the tuning and the stability runs."""
    return [
        TrainConfig(optimizer=optimizer, lr=lr, dim=dim, **shared)
        for optimizer, lrs in rates.items()
        for dim in dims
        for lr in lrs
    ]


def study_configs(params: dict[str, Any]) -> list[TrainConfig]:
    """The optimizer study's runs: each optimizer of ``study_lrs`` at each of its learning rates,
    at size ``dim``; any ``torch.optim`` optimizer can be named. Book page: "The optimizer study".
    """
    values = {**defaults(), **validate_parameters(params)}
    shared = {key: values[key] for key in ("epochs", "init_std", "seed", "dataset")}
    return config_grid(values["study_lrs"], [values["dim"]], **shared)


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
    target and shared; the bar of
    each run says which of the N runs it is. ``data_label`` names the data in the store's listing.
    Book page: "The optimizer study".
    """
    store = store or RunStore()
    target = pick_device(device)
    costs: dict[tuple[str, str, float | None], CoLikeCost] = {}
    results = []
    configs = list(configs)
    for number, config in enumerate(configs, start=1):
        if config.threshold != likes.threshold:
            raise ParameterError(
                f"threshold={config.threshold:g} is not allowed here: these likes were built with "
                f"threshold {likes.threshold:g}; build them again with "
                f"likes_matrix(..., threshold={config.threshold:g})"
            )
        result = store.find(config, data_checksum)
        if result is None:
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
        results.append(result)
    return results


def by_optimizer(results: Iterable[TrainResult]) -> dict[str, list[TrainResult]]:
    """Runs grouped by optimizer, in the order the optimizers first appear."""
    groups: dict[str, list[TrainResult]] = {}
    for result in results:
        groups.setdefault(result.config.optimizer, []).append(result)
    return groups


def optimizer_label(config: TrainConfig) -> str:
    """The optimizer's name as torch spells it, with its momentum: ``Adam``, ``SGD with momentum 0.9``."""
    from .train import optimizer_classes

    name = optimizer_classes()[config.optimizer].__name__
    return f"{name} with momentum {config.momentum:g}" if config.momentum else name
