"""The run store: each run's history, embeddings and metadata on disk, keyed by parameters and data.

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
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import file_sha256
from ..errors import ParameterError, StoreError
from ..model.train import TrainConfig, TrainResult

RUNS_ENV = "MOVIEREC_RUNS"
META, HISTORY, EMBEDDINGS = "meta.json", "history.csv", "embeddings.npy"
FORMAT_VERSION = 2  # 2: history ends with the cost of the stored embeddings
META_FIELDS = (
    "format",
    "key",
    "config",
    "status",
    "diverged_epoch",
    "data_checksum",
    "device",
    "versions",
    "sha256",
)
LISTING_COLUMNS = [
    "stored",
    "key",
    "data",
    "target",
    "optimizer",
    "lr",
    "d",
    "epochs",
    "status",
    "final cost",
]
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
                "data": result.data_label,
                "device": result.device,
                "versions": result.versions,
                "machine": result.machine,
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
            raise StoreError(
                f"{key!r} is not a run key: keys are 16 hexadecimal digits (see `movierec runs`)"
            )
        path = self.path(key) / META
        try:
            meta = json.loads(path.read_text())
        except FileNotFoundError:
            raise StoreError(
                f"run {key} is not stored (or incomplete) in {self.root}: see `movierec runs`"
            ) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise StoreError(
                f"run {key} in {self.root} has unreadable metadata ({error}): it will be recomputed"
            ) from None
        missing = sorted(set(META_FIELDS) - set(meta)) if isinstance(meta, dict) else list(META_FIELDS)
        if missing or meta.get("key") != key:
            raise StoreError(
                f"run {key} in {self.root} has damaged metadata ({', '.join(missing) or 'key'}): "
                f"it will be recomputed"
            )
        if meta["format"] != FORMAT_VERSION:
            raise StoreError(
                f"run {key} in {self.root} is in store format {meta['format']!r}, this movierec "
                f"reads format {FORMAT_VERSION}: it will be recomputed"
            )
        try:
            return meta, TrainConfig(**meta["config"])
        except (TypeError, ParameterError) as error:
            raise StoreError(
                f"run {key} in {self.root} has impossible parameters ({error}): it will be recomputed"
            ) from None

    def load(self, key: str) -> TrainResult:
        """Read run ``key`` back, checking every file against the checksums in its metadata."""
        meta, config = self._meta(key)
        folder = self.path(key)
        try:
            for name, expected in meta["sha256"].items():
                if file_sha256(folder / name) != expected:
                    raise StoreError(
                        f"run {key}: {name} does not match its checksum (damaged): it will be recomputed"
                    )
            history = pd.read_csv(folder / HISTORY)
            embeddings = np.load(folder / EMBEDDINGS)
        except FileNotFoundError as error:
            raise StoreError(
                f"run {key} is incomplete in {self.root} (no {Path(error.filename).name}): "
                f"it will be recomputed"
            ) from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise StoreError(
                f"run {key} in {self.root} cannot be read ({error}): it will be recomputed"
            ) from error
        return TrainResult(
            config=config,
            history=history,
            embeddings=embeddings,
            status=meta["status"],
            diverged_epoch=meta["diverged_epoch"],
            data_checksum=meta["data_checksum"],
            data_label=meta.get("data", ""),
            device=meta["device"],
            versions=meta["versions"],
            machine=meta.get("machine", ""),
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
        """One row per stored run, newest first: when, key, what it trained on, its target,
        optimizer, lr, d, epochs, status and final cost (``damaged`` when the run cannot be read)."""
        rows = []
        for key in self.keys():
            stored = (self.path(key) / META).stat().st_mtime
            try:
                meta, config = self._meta(key)
                history = pd.read_csv(self.path(key) / HISTORY, usecols=["cost"])
                diverged = meta["diverged_epoch"]
                rows.append(
                    {
                        "stored": stored,
                        "key": key,
                        "data": meta.get("data") or "?",
                        "target": config.target
                        + (f" λ={config.ridge:g}" if config.ridge is not None else ""),
                        "optimizer": config.optimizer,
                        "lr": config.lr,
                        "d": config.dim,
                        "epochs": config.epochs,
                        "status": meta["status"] if diverged is None else f"diverged@{diverged}",
                        "final cost": float(history["cost"].iloc[-1]),
                    }
                )
            except (StoreError, OSError, ValueError, KeyError, IndexError):
                rows.append({"stored": stored, "key": key, "status": "damaged"})
        if not rows:
            return pd.DataFrame(columns=LISTING_COLUMNS)
        table = pd.DataFrame(rows, columns=LISTING_COLUMNS)
        table = table.sort_values(["stored", "key"], ascending=[False, True], kind="stable")
        table["stored"] = pd.to_datetime(table["stored"], unit="s").dt.strftime("%Y-%m-%d %H:%M")
        return table.reset_index(drop=True)
