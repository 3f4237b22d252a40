"""The course notebook this book grew from: what it printed, its runs, and ours beside them.

Named ``course`` so that it is never confused with ``seed``, the random seed of a run.
Book page: "Reproducing the course notebook".
"""

from __future__ import annotations

import math

import pandas as pd

from ..model.train import TrainConfig, TrainResult

#: Adam(lr=0.5), d = n, std 0.5, torch.manual_seed(576): the cost every 10 epochs.
COURSE_ADAM_COSTS = {
    0: 57_846_087_680.0,
    10: 8_292_660_224.0,
    20: 2_230_697_216.0,
    30: 607_125_888.0,
    40: 173_342_816.0,
    50: 51_432_160.0,
    60: 16_213_693.0,
    70: 5_517_181.5,
    80: 2_026_323.5,
    90: 787_639.375,
}
#: The course notebook's sweep (learning rate outer, Adam then SGD inner; V drawn once per run after two
#: earlier draws): the costs it printed before it was interrupted.
COURSE_SWEEP_COSTS = {
    ("adam", 0.001): {
        0: 57_829_216_256.0,
        10: 52_843_864_064.0,
        20: 48_331_300_864.0,
        30: 44_281_692_160.0,
        40: 40_660_541_440.0,
        50: 37_422_321_664.0,
        60: 34_520_301_568.0,
        70: 31_911_553_024.0,
        80: 29_558_611_968.0,
        90: 27_429_482_496.0,
    },
    ("sgd", 0.001): {
        0: 57_861_603_328.0,
        10: float("nan"),
        20: float("nan"),
        30: float("nan"),
        40: float("nan"),
        50: float("nan"),
    },
}
COURSE_SWEEP_LRS = (0.001, 0.01, 0.1)
COURSE_SWEEP_EPOCHS = 100


def course_adam_config(epochs: int) -> TrainConfig:
    """The course notebook's first run: Adam, lr 0.5, d = number of movies, std 0.5, seed 576."""
    return TrainConfig(optimizer="adam", lr=0.5, epochs=epochs, dim="full", init_std=0.5, seed=576)


def course_sweep_configs(epochs: int) -> list[TrainConfig]:
    """The course notebook's sweep in its own order, each run on the generator draw it had there."""
    order = [(lr, optimizer) for lr in COURSE_SWEEP_LRS for optimizer in ("adam", "sgd")]
    return [
        TrainConfig(
            optimizer=optimizer,
            lr=lr,
            epochs=epochs,
            dim="full",
            init_std=0.5,
            seed=576,
            init_draw=2 + position,
        )
        for position, (lr, optimizer) in enumerate(order)
    ]


def against_printed(result: TrainResult, printed: dict[int, float]) -> pd.DataFrame:
    """The course notebook's printed costs beside this run's at the same epochs, with relative difference."""
    costs = result.history.set_index("epoch")["cost"]
    rows = []
    for epoch, printed_value in printed.items():
        ours = float(costs[epoch]) if epoch in costs.index else float("nan")
        comparable = math.isfinite(printed_value) and math.isfinite(ours)
        relative = abs(ours - printed_value) / printed_value if comparable else math.nan
        rows.append(
            {"epoch": epoch, "printed": printed_value, "this run": ours, "relative difference": relative}
        )
    return pd.DataFrame(rows)
