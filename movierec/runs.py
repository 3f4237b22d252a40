"""Runs on disk: history, embeddings and metadata, keyed by parameters and data checksum.

Each file is written to a temporary name and renamed into place, and ``meta.json``
(which holds the SHA-256 of the other two) is written last: a run killed half-way
leaves no ``meta.json``, and a damaged file fails its checksum, so neither is ever read
as a result. Book page: "Re-run it yourself".
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from .cost import CoLikeCost
from .data import Likes, file_sha256
from .errors import ParameterError, StoreError
from .train import DTYPES, TrainConfig, TrainResult, pick_device, train

RUNS_ENV = "MOVIEREC_RUNS"
META, HISTORY, EMBEDDINGS = "meta.json", "history.csv", "embeddings.npy"
FORMAT_VERSION = 2  # 2: history ends with the cost of the stored embeddings
META_FIELDS = ("format", "key", "config", "status", "diverged_epoch", "data_checksum", "device", "versions", "sha256")
RUN_KEY = re.compile(r"[0-9a-f]{16}")


def default_runs_dir() -> Path:
    """``$MOVIEREC_RUNS``, else ``runs/`` in the working directory."""
    return Path(os.environ.get(RUNS_ENV) or "runs").expanduser()


def atomic_write(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path`` via a temporary file and a rename; return its SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return hashlib.sha256(data).hexdigest()


class RunStore:
    """A folder of runs, one sub-folder per run key."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root).expanduser() if root is not None else default_runs_dir()

    def path(self, key: str) -> Path:
        """The folder of run ``key``."""
        return self.root / key

    def save(self, result: TrainResult) -> Path:
        """Store ``result`` atomically; return its folder."""
        folder = self.path(result.key)
        try:
            buffer = io.BytesIO()
            np.save(buffer, np.ascontiguousarray(result.embeddings, dtype=np.float32))
            embeddings_sha = atomic_write(folder / EMBEDDINGS, buffer.getvalue())
            history_sha = atomic_write(folder / HISTORY, result.history.to_csv(index=False).encode())
            meta = {
                "format": FORMAT_VERSION,
                "key": result.key,
                "config": asdict(result.config),
                "status": result.status,
                "diverged_epoch": result.diverged_epoch,
                "data_checksum": result.data_checksum,
                "device": result.device,
                "versions": result.versions,
                "sha256": {EMBEDDINGS: embeddings_sha, HISTORY: history_sha},
            }
            atomic_write(folder / META, json.dumps(meta, indent=2, allow_nan=True).encode())
        except OSError as error:
            raise StoreError(
                f"cannot write run {result.key} to {folder} ({error.strerror or error}): "
                f"make the folder writable or set {RUNS_ENV} to a writable folder"
            ) from error
        return folder

    def _meta(self, key: str) -> tuple[dict, TrainConfig]:
        """A run's metadata and parameters, checked: a :class:`StoreError` if not a run of ours."""
        if not RUN_KEY.fullmatch(key):
            raise StoreError(f"{key!r} is not a run key: keys are 16 hexadecimal digits (see `movierec runs`)")
        path = self.path(key) / META
        try:
            meta = json.loads(path.read_text())
        except FileNotFoundError:
            raise StoreError(f"run {key} is not stored (or incomplete) in {self.root}: see `movierec runs`") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise StoreError(f"run {key} in {self.root} has unreadable metadata ({error}): it will be recomputed") from None
        missing = sorted(set(META_FIELDS) - set(meta)) if isinstance(meta, dict) else list(META_FIELDS)
        if missing or meta.get("key") != key:
            raise StoreError(f"run {key} in {self.root} has damaged metadata ({', '.join(missing) or 'key'}): "
                             f"it will be recomputed")
        if meta["format"] != FORMAT_VERSION:
            raise StoreError(f"run {key} in {self.root} is in store format {meta['format']!r}, this movierec "
                             f"reads format {FORMAT_VERSION}: it will be recomputed")
        try:
            return meta, TrainConfig(**meta["config"])
        except (TypeError, ParameterError) as error:
            raise StoreError(f"run {key} in {self.root} has impossible parameters ({error}): it will be recomputed") from None

    def load(self, key: str) -> TrainResult:
        """Read run ``key`` back, checking every file against the checksums in its metadata."""
        meta, config = self._meta(key)
        folder = self.path(key)
        try:
            for name, expected in meta["sha256"].items():
                if file_sha256(folder / name) != expected:
                    raise StoreError(f"run {key}: {name} does not match its checksum (damaged): it will be recomputed")
            history = pd.read_csv(folder / HISTORY)
            embeddings = np.load(folder / EMBEDDINGS)
        except FileNotFoundError as error:
            raise StoreError(f"run {key} is incomplete in {self.root} (no {Path(error.filename).name}): it will be recomputed") from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise StoreError(f"run {key} in {self.root} cannot be read ({error}): it will be recomputed") from error
        return TrainResult(
            config=config,
            history=history,
            embeddings=embeddings,
            status=meta["status"],
            diverged_epoch=meta["diverged_epoch"],
            data_checksum=meta["data_checksum"],
            device=meta["device"],
            versions=meta["versions"],
        )

    def find(self, config: TrainConfig, data_checksum: str) -> TrainResult | None:
        """The stored, intact run for these parameters and data, or None."""
        key = config.key(data_checksum)
        if not (self.path(key) / META).exists():
            return None
        try:
            return self.load(key)
        except StoreError:
            return None

    def keys(self) -> list[str]:
        """Keys of runs whose metadata is present (not checked)."""
        if not self.root.is_dir():
            return []
        return sorted(p.parent.name for p in self.root.glob(f"*/{META}"))

    def table(self) -> pd.DataFrame:
        """One row per stored run: key, parameters and status (``damaged`` when unreadable)."""
        rows = []
        for key in self.keys():
            try:
                meta, _ = self._meta(key)
                rows.append({"key": key, **meta["config"], "status": meta["status"], "diverged_epoch": meta["diverged_epoch"]})
            except StoreError:
                rows.append({"key": key, "status": "damaged"})
        table = pd.DataFrame(rows)
        if "diverged_epoch" in table:
            table["diverged_epoch"] = table["diverged_epoch"].astype("Int64")
        return table

def sweep(
    configs: Iterable[TrainConfig],
    likes: Likes,
    data_checksum: str,
    store: RunStore | None = None,
    device: str = "auto",
) -> list[TrainResult]:
    """Run each configuration, reusing finished runs and recomputing missing or damaged ones.

    The cost object (sparse L on the device) is built once per dtype and shared.
    Book page: "The optimizer study".
    """
    store = store or RunStore()
    target = pick_device(device)
    costs: dict[str, CoLikeCost] = {}
    results = []
    for config in configs:
        if config.threshold != likes.threshold:
            raise ParameterError(
                f"threshold={config.threshold:g} is not allowed here: these likes were built with "
                f"threshold {likes.threshold:g}; build them again with likes_matrix(..., threshold={config.threshold:g})"
            )
        result = store.find(config, data_checksum)
        if result is None:
            if config.dtype not in costs:
                costs[config.dtype] = CoLikeCost(likes, target, DTYPES[config.dtype])
            result = train(likes, config, data_checksum=data_checksum, device=target, cost=costs[config.dtype])
            store.save(result)
        results.append(result)
    return results


def format_cost(value: float) -> str:
    """A cost for a table: thousands separators, or scientific notation once it has blown up."""
    return f"{value:,.0f}" if abs(value) < 1e12 else f"{value:.2e}"


def summary_table(results: Iterable[TrainResult], optimum: float | None = None) -> pd.DataFrame:
    """Optimizer, lr, final and lowest cost, status and seconds: one row per run; with the
    best achievable cost ``optimum``, also how far above it each run ended (in %)."""
    rows = []
    for r in results:
        row = {
            "optimizer": r.config.optimizer,
            "lr": r.config.lr,
            "final cost": r.final_cost,
            "lowest cost": r.lowest_cost,
            "status": r.status_text,
            "seconds": r.seconds,
        }
        if optimum is not None:
            row["% above optimum"] = 100 * (r.final_cost - optimum) / optimum if r.status == "finished" else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)
