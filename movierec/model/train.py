"""Full-batch training of the movie embeddings with any torch optimizer.

Book pages: "The model" (one run) and "The optimizer study" (the sweep).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import os
import platform
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from tqdm import tqdm

from ..data import DEFAULT_RELEASE, LIKE_THRESHOLD, RELEASES, Likes, as_csr
from ..errors import ParameterError
from ..numbers import format_lr
from .cost import CoLikeCost, check_target

DIVERGENCE_FACTOR = 1e3
SGD_MOMENTUM = 0.9
DTYPES = {"float32": torch.float32, "float64": torch.float64}


@lru_cache(maxsize=1)
def optimizer_classes() -> dict[str, type[torch.optim.Optimizer]]:
    """Every dense ``torch.optim`` optimizer by lower-case name (``adam``, ``sgd``, ``lbfgs`` ...);
    SparseAdam is left out: it needs sparse gradients and this gradient is dense."""
    return {
        name.lower(): cls
        for name, cls in vars(torch.optim).items()
        if isinstance(cls, type)
        and issubclass(cls, torch.optim.Optimizer)
        and cls not in (torch.optim.Optimizer, torch.optim.SparseAdam)
    }


def optimizer_class(name: str) -> type[torch.optim.Optimizer]:
    """The ``torch.optim`` optimizer named ``name`` in lower case (``adam``: torch.optim.Adam,
    ``rmsprop``: torch.optim.RMSprop ...)."""
    classes = optimizer_classes()
    known = isinstance(name, str) and name.lower() in classes
    _require(known, "optimizer", name, f"one of {', '.join(sorted(classes))}")
    return classes[name.lower()]


def _require(condition: bool, name: str, value: Any, allowed: str) -> None:
    if not condition:
        raise ParameterError(f"{name}={value!r} is not allowed: {name} must be {allowed}")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a run's result; its hash keys the run on disk.

    ``dim`` is an int or ``"full"`` (d = number of movies, the seed's setting);
    ``init_draw`` skips that many earlier draws of V from the seeded generator, which
    reproduces the seed notebook's sweep; ``momentum`` defaults to 0.9 for SGD. ``target``
    is what V^T V fits (``colikes``, ``cosine`` or ``whitened``: :func:`movierec.model.cost.target_factor`)
    and ``ridge`` the whitened target's lambda (required there, unset otherwise).
    """

    optimizer: str = "adam"
    lr: float = 0.5
    epochs: int = 100
    dim: int | str = 64
    init_std: float = 0.5
    seed: int = 576
    init_draw: int = 0
    momentum: float | None = None
    dataset: str = DEFAULT_RELEASE
    threshold: float = LIKE_THRESHOLD
    dtype: str = "float32"
    target: str = "colikes"
    ridge: float | None = None

    def __post_init__(self) -> None:
        classes = optimizer_classes()
        _require(
            isinstance(self.optimizer, str) and self.optimizer.lower() in classes,
            "optimizer",
            self.optimizer,
            f"one of {', '.join(sorted(classes))}",
        )
        object.__setattr__(self, "optimizer", self.optimizer.lower())
        _require(_is_real(self.lr) and 0 < self.lr < math.inf, "lr", self.lr, "a positive number")
        object.__setattr__(self, "lr", float(self.lr))
        _require(_is_int(self.epochs) and self.epochs >= 1, "epochs", self.epochs, "an integer >= 1")
        _require(
            self.dim == "full" or (_is_int(self.dim) and self.dim >= 1),
            "dim",
            self.dim,
            'an integer >= 1 (at most the number of movies) or "full"',
        )
        _require(
            _is_real(self.init_std) and 0 < self.init_std < math.inf,
            "init_std",
            self.init_std,
            "a positive number",
        )
        object.__setattr__(self, "init_std", float(self.init_std))
        _require(_is_int(self.seed) and self.seed >= 0, "seed", self.seed, "an integer >= 0")
        _require(
            _is_int(self.init_draw) and self.init_draw >= 0, "init_draw", self.init_draw, "an integer >= 0"
        )
        if self.momentum is None and self.optimizer == "sgd":
            object.__setattr__(self, "momentum", SGD_MOMENTUM)
        if self.momentum is not None:
            _require(
                self.optimizer in {"sgd", "rmsprop"},
                "momentum",
                self.momentum,
                "left unset for optimizers other than sgd and rmsprop",
            )
            _require(
                _is_real(self.momentum) and 0 <= self.momentum < 1, "momentum", self.momentum, "in [0, 1)"
            )
            object.__setattr__(self, "momentum", float(self.momentum))
        _require(self.dataset in RELEASES, "dataset", self.dataset, f"one of {', '.join(sorted(RELEASES))}")
        _require(
            _is_real(self.threshold) and math.isfinite(self.threshold),
            "threshold",
            self.threshold,
            "a finite rating",
        )
        object.__setattr__(self, "threshold", float(self.threshold))
        _require(self.dtype in DTYPES, "dtype", self.dtype, f"one of {', '.join(DTYPES)}")
        object.__setattr__(self, "ridge", check_target(self.target, self.ridge))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Build from a mapping (a YAML profile, CLI options), naming any unknown key."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ParameterError(
                f"unknown training parameter(s) {', '.join(unknown)}: allowed are {', '.join(sorted(known))}"
            )
        return cls(**values)

    def resolved_dim(self, n_movies: int) -> int:
        """The embedding size for ``n_movies`` movies, checked against it."""
        dim = n_movies if self.dim == "full" else int(self.dim)
        _require(dim <= n_movies, "dim", self.dim, f'at most the number of movies ({n_movies:,}) or "full"')
        return dim

    def key(self, data_checksum: str) -> str:
        """A short hash of these parameters and the data, naming the run on disk.

        The default target (colikes, no ridge) is left out of the hash, so runs stored before
        targets existed keep their keys and are reused.
        """
        config = asdict(self)
        if self.target == "colikes":
            del config["target"], config["ridge"]
        payload = json.dumps({"config": config, "data": data_checksum}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        """A short human name, e.g. ``adam lr=0.5``, ``adam lr=0.003 whitened ridge=300``."""
        label = f"{self.optimizer} lr={format_lr(self.lr)}"
        if self.target != "colikes":
            label += f" {self.target}" + (f" ridge={self.ridge:g}" if self.ridge is not None else "")
        return label


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


@dataclass
class TrainResult:
    """What a run produced: per-epoch cost and time, final embeddings (d x n) and provenance.

    ``data_label`` says in words what the run trained on (a release, or a split's train part),
    ``machine`` the hardware it ran on (:func:`machine_description`; empty for older runs).
    ``history.cost[k]`` is c(V) after k optimizer steps (so before step k, as the seed
    printed it), and ``history.seconds[k]`` the time elapsed when it was measured; a
    finished run has ``epochs + 1`` rows, the last being the cost of ``embeddings``.
    """

    config: TrainConfig
    history: pd.DataFrame
    embeddings: np.ndarray
    status: str
    diverged_epoch: int | None
    data_checksum: str
    device: str
    versions: dict[str, str] = field(default_factory=dict)
    data_label: str = ""
    machine: str = ""

    @property
    def key(self) -> str:
        """The run's name in the store: a hash of its parameters and data."""
        return self.config.key(self.data_checksum)

    @property
    def final_cost(self) -> float:
        """The last cost measured: that of the returned embeddings, or the one that blew up."""
        return float(self.history["cost"].iloc[-1])

    @property
    def lowest_cost(self) -> float:
        finite = self.history["cost"][np.isfinite(self.history["cost"])]
        return float(finite.min()) if len(finite) else math.nan

    @property
    def seconds(self) -> float:
        """Wall-clock seconds the whole run took."""
        return float(self.history["seconds"].iloc[-1])

    @property
    def status_text(self) -> str:
        """``finished`` or ``diverged at epoch k``."""
        return self.status if self.diverged_epoch is None else f"diverged at epoch {self.diverged_epoch}"


def library_versions() -> dict[str, str]:
    """Versions that can move the last digits of a result."""
    import scipy

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
    }


def processor_name() -> str:
    """The CPU model (``AMD EPYC 9R14 ...``), from ``/proc/cpuinfo`` where there is one."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_description(device: str | torch.device = "cpu", threads: int | None = None) -> str:
    """The hardware a time is measured on, in words: ``AMD EPYC 9R14, 2 cores, 2 torch threads``,
    then ``, cuda: <GPU name>`` or ``, mps`` when the work ran there. ``threads``: the torch
    threads of the process that did the work (default: this one's)."""
    device = torch.device(device)
    threads = torch.get_num_threads() if threads is None else threads
    text = f"{processor_name()}, {os.cpu_count()} cores, {threads} torch thread{'s' * (threads != 1)}"
    if device.type == "cuda" and torch.cuda.is_available():
        return f"{text}, cuda: {torch.cuda.get_device_name(device)}"
    return text if device.type == "cpu" else f"{text}, {device.type}"


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """``auto``: CUDA, then Apple MPS, then CPU; otherwise the named device."""
    if str(device) != "auto":
        try:
            chosen = torch.device(device)
        except RuntimeError as error:
            raise ParameterError(f"device={device!r} is not allowed: use auto, cpu, cuda or mps") from error
        if chosen.type == "cuda" and not (
            torch.cuda.is_available() and (chosen.index or 0) < torch.cuda.device_count()
        ):
            raise ParameterError(
                f"device={device!r} is not available here (no such CUDA device): use auto or cpu"
            )
        if chosen.type == "mps" and not torch.backends.mps.is_available():
            raise ParameterError(f"device={device!r} is not available here (no Apple MPS): use auto or cpu")
        return chosen
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def initial_embeddings(config: TrainConfig, n_movies: int) -> torch.Tensor:
    """V ~ N(0, init_std^2), d x n, from a CPU generator seeded with ``seed``.

    Drawn as the seed drew it (``torch.manual_seed(576)`` then ``torch.normal``), so the
    same seed gives the same V on every device; ``init_draw`` earlier draws are skipped.
    """
    dim = config.resolved_dim(n_movies)
    generator = torch.Generator().manual_seed(config.seed)
    for _ in range(config.init_draw + 1):
        V = torch.normal(0.0, config.init_std, size=(dim, n_movies), generator=generator)
    return V


def make_optimizer(config: TrainConfig, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    """The configured ``torch.optim`` optimizer over ``params``, with the multi-tensor (foreach)
    update where the optimizer has one: on the CPU Adam's step is then three times faster, and
    Adam's and SGD's steps give the same bits as the default loop (tests/test_train.py)."""
    cls = optimizer_classes()[config.optimizer]
    options: dict[str, Any] = {"lr": config.lr}
    if config.momentum is not None:
        options["momentum"] = config.momentum
    if "foreach" in inspect.signature(cls).parameters:
        options["foreach"] = True
    return cls(params, **options)


#: Options of a torch optimizer that choose how its step is computed, not what it computes.
IMPLEMENTATION_OPTIONS = {"params", "foreach", "fused", "capturable", "differentiable"}


def check_start(
    config: TrainConfig, V: torch.Tensor, optimizer: torch.optim.Optimizer, n_movies: int
) -> None:
    """That ``V`` and ``optimizer``, made by a page, are the run ``config`` names: V its initial
    embeddings (a d x n leaf that requires its gradient), the optimizer its ``torch.optim`` class
    over ``[V]`` with its learning rate, momentum and the class's other defaults. A run is stored
    under its config, so a start that differs would store another run under its name."""
    dim = config.resolved_dim(n_movies)
    if not (
        isinstance(V, torch.Tensor) and V.is_leaf and V.requires_grad and tuple(V.shape) == (dim, n_movies)
    ):
        raise ParameterError(
            f"V must be the run's initial embeddings, a {dim} x {n_movies:,} tensor with requires_grad: "
            f"got {_described(V)}"
        )
    if V.dtype != DTYPES[config.dtype] or not torch.equal(
        V.detach().cpu(), initial_embeddings(config, n_movies)
    ):
        raise ParameterError(
            f"V is not the start of run {config.label}: draw it as torch.normal(0.0, {config.init_std:g}, "
            f"size=({dim}, {n_movies}), generator=torch.Generator().manual_seed({config.seed})) "
            f"in {config.dtype}"
        )
    expected = make_optimizer(config, [torch.zeros(1, requires_grad=True)])
    if type(optimizer) is not type(expected):
        raise ParameterError(
            f"optimizer is {type(optimizer).__name__}, but run {config.label} is trained by "
            f"torch.optim.{type(expected).__name__}"
        )
    groups = optimizer.param_groups
    if len(groups) != 1 or len(groups[0]["params"]) != 1 or groups[0]["params"][0] is not V:
        raise ParameterError("optimizer must hold V alone: build it as torch.optim.<Optimizer>([V], ...)")
    wanted = expected.param_groups[0]
    for option in sorted(set(wanted) - IMPLEMENTATION_OPTIONS):
        if groups[0].get(option) != wanted[option]:
            raise ParameterError(
                f"optimizer has {option}={groups[0].get(option)!r}, but run {config.label} has "
                f"{option}={wanted[option]!r}: build the optimizer with the run's settings"
            )


def _described(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        leaf = "" if value.is_leaf and value.requires_grad else ", not a leaf that requires its gradient"
        return f"a tensor of shape {' x '.join(map(str, value.shape))}{leaf}"
    return repr(value)[:80]


def train(
    likes: Likes | sp.spmatrix,
    config: TrainConfig | None = None,
    *,
    data_checksum: str = "",
    device: str | torch.device = "auto",
    cost: CoLikeCost | None = None,
    progress: str | None = "",
    start: tuple[torch.Tensor, torch.optim.Optimizer] | None = None,
    **params: Any,
) -> TrainResult:
    """Train embeddings full-batch; a run that diverges stops and says so, nothing raises.

    ``params`` are :class:`TrainConfig` fields (``optimizer="sgd", lr=1e-5`` ...), used
    when ``config`` is not given. A run diverges at epoch k when c is not finite or above
    1000 x its initial value (a step that overflows the float range counts as an infinite
    cost at the next epoch). The progress bar (in a terminal only) reads ``progress`` then
    the run's label and size; ``progress=None`` shows none (a distributed rank other than the
    first). A ``cost`` passed in must be built for the config's target and ridge (a sharded
    cost could not be rebuilt here). ``start``: the initial embeddings V and the optimizer over
    them, made by a page (they must be the config's: :func:`check_start`); by default the run
    makes both. The loop is :class:`Training`'s, run to its end.
    Book pages: "The model", "The optimizer study", "What should the embeddings fit?".
    """
    config = config or TrainConfig.from_dict(params)
    training = Training(
        likes, config, data_checksum=data_checksum, device=device, cost=cost, progress=progress, start=start
    )
    training.advance()
    return training.result()


class Training:
    """One run's training loop, which can pause after any epoch and go on later: the state of
    :func:`train` (V, the optimizer, the costs so far) kept between calls of :meth:`advance`.

    Run to ``config.epochs`` it is :func:`train`, step for step. Paused after k < epochs
    steps, :meth:`stopped` is exactly the run of ``replace(config, epochs=k)`` (the same start,
    the same k steps, the cost of its embeddings last), so a search that stops a run early
    stores what :func:`train` would have produced for that shorter run. Its seconds count only
    the time spent in :meth:`advance`, so runs advanced in turns keep their own times.
    Book page: "What should the embeddings fit?".
    """

    def __init__(
        self,
        likes: Likes | sp.spmatrix,
        config: TrainConfig,
        *,
        data_checksum: str = "",
        device: str | torch.device = "auto",
        cost: CoLikeCost | None = None,
        progress: str | None = "",
        start: tuple[torch.Tensor, torch.optim.Optimizer] | None = None,
    ):
        matrix = as_csr(likes)
        self.config = config
        self.data_checksum = data_checksum
        if start is not None:
            check_start(config, *start, matrix.shape[1])
        self.target = start[0].device if start is not None else pick_device(device)
        dtype = DTYPES[config.dtype]
        if cost is None:
            cost = CoLikeCost(matrix, self.target, dtype, config.target, config.ridge)
        elif (cost.target, cost.ridge) != (config.target, config.ridge):
            raise ParameterError(
                f"cost is built for target={cost.target!r}, ridge={cost.ridge!r} but the run asks for "
                f"target={config.target!r}, ridge={config.ridge!r}: pass a cost built for the run, or none"
            )
        self.cost = cost
        if start is None:  # the leaf is V's transpose, n x d: the layout the cost's kernels read fastest
            rows = (
                initial_embeddings(config, matrix.shape[1])
                .mT.contiguous()
                .to(device=self.target, dtype=dtype)
            )
            self.leaf, self.V = rows.requires_grad_(True), rows.mT
            self.optimizer = make_optimizer(config, [rows])
        else:  # the page's V (d x n) and optimizer: the same steps, bit for bit (tests/test_train.py)
            self.leaf = self.V = start[0]
            self.optimizer = start[1]
        self.costs: list[float] = []
        self.seconds: list[float] = []
        self.status, self.diverged_epoch = "finished", None
        self.epoch = 0  # optimizer steps taken
        self.done = False  # ended: all epochs run, or diverged
        self._spent = 0.0  # seconds spent in advance() so far
        size = f"d={self.V.shape[0]}" + (
            " (full size, one dimension per movie)" if config.dim == "full" else ""
        )
        self.bar = tqdm(
            total=config.epochs,
            desc=f"{progress or ''}{config.label} {size}",
            disable=True if progress is None else None,
            leave=False,
            unit="epoch",
        )

    def _closure(self) -> torch.Tensor:
        value, grad = self.cost.value_and_grad(self.V)
        self.leaf.grad = grad if self.leaf is self.V else grad.mT
        return value

    def _blew_up(self, value: float) -> bool:
        return not math.isfinite(value) or value > DIVERGENCE_FACTOR * self.costs[0]

    def advance(self, until: int | None = None) -> Training:
        """Train on up to epoch ``until`` (default: the config's epochs), or until the run diverges."""
        until = self.config.epochs if until is None else min(int(until), self.config.epochs)
        begun = time.perf_counter()

        def now() -> float:
            return self._spent + time.perf_counter() - begun

        while not self.done and self.epoch < until:
            value = float(self._closure())
            self.costs.append(value)
            self.seconds.append(now())
            if self._blew_up(value):
                self.status, self.diverged_epoch, self.done = "diverged", self.epoch, True
                break
            try:
                self.optimizer.step(self._closure if self.config.optimizer == "lbfgs" else None)
            except RuntimeError as error:  # an lr beyond the dtype's range overflows inside the step
                if "overflow" not in str(error):
                    raise
                self.costs.append(math.inf)
                self.seconds.append(now())
                self.status, self.diverged_epoch, self.done = "diverged", self.epoch + 1, True
                break
            self.epoch += 1
            self.bar.update()
            self.bar.set_postfix(cost=f"{value:.4g}", refresh=False)
        if not self.done and self.epoch == self.config.epochs:
            self.costs.append(self.cost.value(self.V))  # the cost of the embeddings that are returned
            self.seconds.append(now())
            if self._blew_up(self.costs[-1]):
                self.status, self.diverged_epoch = "diverged", self.config.epochs
            self.done = True
        self._spent = now()
        if self.done:
            self.bar.close()
        return self

    def embeddings(self) -> np.ndarray:
        """The current d x n embeddings, float32 on the CPU (a copy)."""
        return self.V.detach().to("cpu", torch.float32).numpy().copy()

    def _result(
        self,
        config: TrainConfig,
        costs: list[float],
        seconds: list[float],
        status: str,
        diverged: int | None,
        embeddings: np.ndarray,
    ) -> TrainResult:
        history = pd.DataFrame({"epoch": np.arange(len(costs)), "cost": costs, "seconds": seconds})
        return TrainResult(
            config=config,
            history=history,
            embeddings=embeddings,
            status=status,
            diverged_epoch=diverged,
            data_checksum=self.data_checksum,
            device=str(self.target),
            versions=library_versions(),
            machine=machine_description(self.target),
        )

    def result(self) -> TrainResult:
        """The finished (or diverged) run, as :func:`train` returns it."""
        if not self.done:
            raise ParameterError(
                f"run {self.config.label} is at epoch {self.epoch} of {self.config.epochs}: advance() it "
                f"to its end first, or take stopped()"
            )
        embeddings = self.V.detach().to("cpu", torch.float32).numpy()
        return self._result(
            self.config, self.costs, self.seconds, self.status, self.diverged_epoch, embeddings
        )

    def stopped(self) -> TrainResult:
        """The run stopped here: the run of ``replace(config, epochs=k)`` after k steps (k >= 1),
        with the cost of its embeddings last; the whole run once it has ended."""
        if self.done:
            return self.result()
        if self.epoch < 1:
            raise ParameterError(f"run {self.config.label} has taken no step yet: advance() it first")
        begun = time.perf_counter()
        last = self.cost.value(self.V)
        seconds = [*self.seconds, self._spent + time.perf_counter() - begun]
        status, diverged = "finished", None
        if self._blew_up(last):
            status, diverged = "diverged", self.epoch
        config = replace(self.config, epochs=self.epoch)
        return self._result(config, [*self.costs, last], seconds, status, diverged, self.embeddings())


def config_grid(
    rates: Mapping[str, Sequence[float]],
    dims: Sequence[int | str],
    sgd_momentum: float = SGD_MOMENTUM,
    **shared: Any,
) -> list[TrainConfig]:
    """One run per optimizer, embedding size and learning rate (in that nesting), SGD with
    ``sgd_momentum``, the other parameters shared: the grid behind the study, the tuning and the
    stability runs."""
    return [
        TrainConfig(
            optimizer=optimizer,
            lr=lr,
            dim=dim,
            momentum=sgd_momentum if optimizer.lower() == "sgd" else None,
            **shared,
        )
        for optimizer, lrs in rates.items()
        for dim in dims
        for lr in lrs
    ]
