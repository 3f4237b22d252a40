"""The pre-lab check (``movierec check-machine``): time training epochs on this machine and say
whether the ``lab`` profile's book builds here within the time a lab allows, or whether to build
the ``smoke`` profile's, or to read the HTML book. Under 30 s. Book page: "For teachers".

The estimate scales a reference build by this machine's epoch time: both were measured side by
side on the machine and date :data:`REFERENCE` names, so the estimate says how much slower or
faster this machine trains than that one, not more.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Measured side by side on one machine and day: this module's epoch timing (the median of 7
#: checks between and after the builds), then `movierec book --profile smoke` and `--profile lab`
#: from empty run stores (instructor edition, install not counted). The machine was shared with
#: other work (load average 6 to 9 on its 2 cores), which slows the builds' kernels more than the
#: epoch: the estimates lean long.
REFERENCE: dict[str, Any] = {
    "machine": "2 cores of an AMD EPYC shared with other work",
    "date": "2026-12-07",
    "epoch_seconds": 0.0026,
    "lab_seconds": 275.0,
    "smoke_seconds": 226.0,
}
BUILD_LIMIT_SECONDS = 600  # a student's own book, built before or at the start of the lab
EPOCHS = 5  # timed after one warm-up epoch
TIME_BUDGET = 30  # seconds the whole check may take


@dataclass
class MachineVerdict:
    """What the check measured and what it advises: ``lab``, ``smoke`` or ``html``."""

    advice: str
    message: str
    epoch_seconds: float | None = None
    lab_seconds: float | None = None
    smoke_seconds: float | None = None
    seconds: float = 0.0


def lab_dimension(root: Path | None = None) -> int:
    """The ``lab`` profile's embedding size (its ``dim``)."""
    from .profiles import defaults, load_profile

    try:
        return int({**defaults(), **load_profile("lab", root)}["dim"])
    except Exception:  # a clone without the profiles: the lab profile's value when this was written
        return 32


def time_epochs(data: str = "", dim: int = 32, epochs: int = EPOCHS) -> float:
    """Seconds per full-batch epoch (cost, gradient, Adam step) on ml-latest-small's likes at
    ``dim``, on one CPU thread (as each chapter of a book build on two cores trains), the fastest
    of ``epochs`` after one warm-up epoch (the fastest: other work on the machine only slows)."""
    import numpy as np
    import torch

    from ..data import likes_matrix, load_movielens
    from ..model.train import train

    loaded = load_movielens(data or None)
    likes = likes_matrix(loaded.ratings, loaded.movies)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = train(
            likes, dim=dim, epochs=epochs + 1, optimizer="adam", lr=0.1, device="cpu", progress=None
        )
    finally:
        torch.set_num_threads(threads)
    elapsed = np.diff(result.history["seconds"].to_numpy())
    return float(elapsed[1:].min()) if len(elapsed) > 1 else float(elapsed[0])


def check_machine(
    data: str = "", root: Path | None = None, reference: dict[str, Any] | None = None
) -> MachineVerdict:
    """Time epochs here; the lab and smoke books' estimated build times; the advice."""
    reference = reference or REFERENCE
    begun = time.perf_counter()
    try:
        epoch = time_epochs(data, lab_dimension(root))
    except Exception as error:  # no data, no torch that works, a read-only cache ...
        text = " ".join(str(error).split())[:200]
        return MachineVerdict(
            "html",
            f"could not train here ({type(error).__name__}: {text}): read the HTML book (it needs "
            "no Python) and use the recommender on its pages; the assignment notebooks still need "
            "Python with movierec installed",
            seconds=time.perf_counter() - begun,
        )
    ratio = epoch / reference["epoch_seconds"] if reference["epoch_seconds"] else float("nan")
    lab = reference["lab_seconds"] * ratio
    smoke = reference["smoke_seconds"] * ratio
    basis = (
        f"one epoch at the lab size took {epoch * 1000:.1f} ms here, {ratio:.2g} times the "
        f"{reference['epoch_seconds'] * 1000:.1f} ms of {reference['machine']} on {reference['date']}, "
        f"where the lab book took {reference['lab_seconds']:.0f} s and the smoke book "
        f"{reference['smoke_seconds']:.0f} s"
    )
    limit = f"{BUILD_LIMIT_SECONDS / 60:.0f} minutes"
    if lab <= BUILD_LIMIT_SECONDS:
        advice = "lab"
        message = (
            f"the lab profile fits: `make book PROFILE=lab` should take about {_minutes(lab)} here "
            f"(under {limit}); build it before the lab"
        )
    elif smoke <= BUILD_LIMIT_SECONDS:
        advice = "smoke"
        message = (
            f"the lab profile would take about {_minutes(lab)} here (over {limit}): use "
            f"`make book PROFILE=smoke` (about {_minutes(smoke)}; tiny runs, so its numbers match no "
            "solution) and read the lab book's numbers in the HTML book"
        )
    else:
        advice = "html"
        message = (
            f"even the smoke profile would take about {_minutes(smoke)} here: read the HTML book "
            "instead of building it"
        )
    return MachineVerdict(advice, f"{message} ({basis})", epoch, lab, smoke, time.perf_counter() - begun)


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} minutes"


def print_verdict(verdict: MachineVerdict, say: Callable[[str], None] = print) -> None:
    say(f"check-machine: {verdict.advice}: {verdict.message}")
    say(f"check-machine: done in {verdict.seconds:.1f} s ({os.cpu_count() or 1} cores seen)")
