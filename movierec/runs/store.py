"""The run store: each run's history, embeddings and metadata on disk, keyed by parameters and data.

Each file is written to a temporary name and renamed into place, and ``meta.json``
(which holds the SHA-256 of the other two) is written last: a run killed half-way
leaves no ``meta.json``, and a damaged file fails its checksum, so neither is ever read
as a result. A run folder without ``meta.json``, or holding a temporary file, is a run being
written: removing runs never touches one. Removal renames a run's folder out of the store
before deleting it, so no half-deleted run is ever read as complete. A process about to train
a run first *claims* it (a small ``.KEY.claim`` file, created exclusively): another process
that wants the same run meanwhile (two chapters executed at once) trains its other runs first
and then reads this one, instead of training it twice. A claim only saves work: a stale one
(its process gone) is taken over, and results never depend on it. Book page: "Re-run it
yourself".
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import datetime
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
KEY_START = re.compile(r"[0-9a-f]{1,16}")
TEMPORARY = ".*.tmp"  # what atomic_write writes before its rename
REMOVING = ".removing-"  # a run folder renamed out of the store, being deleted
SECONDS_PER_DAY = 86_400
CLAIM_SUFFIX = ".claim"
CLAIM_POLL_SECONDS = 0.2  # how often a process waiting for another's claim looks again
CLAIM_FOREIGN_HOURS = 6.0  # a claim from another machine (a shared store) is stale after this


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


def _process_start(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot, from /proc), "" where unknown:
    with the pid it names a process even after the pid is reused."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _alive(pid: int, started: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    except OSError:
        return False
    return not started or _process_start(pid) in ("", started)


class Claim:
    """A claim file: this process computes what it names; others wait for the result instead.

    Created exclusively (``O_EXCL``) with the process's id, start and machine; removed by
    :meth:`release`. A claim whose process is gone (or, from another machine, older than
    ``CLAIM_FOREIGN_HOURS``) is stale and may be taken over.
    """

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def take(cls, path: Path) -> Claim | None:
        """The claim on ``path`` for this process, or None while another live process holds it."""
        for _ in range(3):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if held_elsewhere(path):
                    return None
                path.unlink(missing_ok=True)  # stale: its process is gone
                continue
            except OSError:
                return cls(path)  # a read-only store: nothing to coordinate, never an error here
            mine = {"pid": os.getpid(), "start": _process_start(os.getpid()), "host": socket.gethostname()}
            with os.fdopen(handle, "w") as stream:
                stream.write(json.dumps({**mine, "time": time.time()}))
            return cls(path)
        return None

    def release(self) -> None:
        """Remove the claim (once the result is stored, or the work failed)."""
        try:
            if json.loads(self.path.read_text()).get("pid") == os.getpid():
                self.path.unlink(missing_ok=True)
        except (OSError, ValueError, AttributeError):
            pass

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def held_elsewhere(path: Path) -> bool:
    """Whether the claim ``path`` is held by another process that is still running."""
    try:
        text = path.read_text()
        stamp = path.stat().st_mtime
    except OSError:
        return False
    try:
        claim = json.loads(text)
        pid, host = int(claim["pid"]), str(claim["host"])
    except (ValueError, KeyError, TypeError):  # being written this instant, or damaged: young ones count
        return time.time() - stamp < 5.0
    if host != socket.gethostname():
        return time.time() - stamp < CLAIM_FOREIGN_HOURS * 3600
    return pid != os.getpid() and _alive(pid, str(claim.get("start", "")))


def wait_for(ready: Callable[[], object | None], claim_path: Path) -> object | None:
    """Poll ``ready()`` until it returns a value (another process stored the result) or the claim
    ``claim_path`` is no longer held elsewhere; then the value, or None (compute it yourself)."""
    while True:
        found = ready()
        if found is not None:
            return found
        if not held_elsewhere(claim_path):
            return ready()
        time.sleep(CLAIM_POLL_SECONDS)


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

    def claim_path(self, key: str) -> Path:
        """The file by which a process claims the training of run ``key``."""
        return self.root / f".{key}{CLAIM_SUFFIX}"

    def claim(self, key: str) -> Claim | None:
        """Claim run ``key`` for training (:class:`Claim`): None while another live process trains it."""
        return Claim.take(self.claim_path(key))

    def wait(self, config: TrainConfig, data_checksum: str) -> TrainResult | None:
        """The run another process is training, once stored; None if that process gave it up."""
        found = wait_for(lambda: self.find(config, data_checksum), self.claim_path(config.key(data_checksum)))
        return found if isinstance(found, TrainResult) else None

    def keys(self) -> list[str]:
        """Keys of runs whose metadata is present (not checked)."""
        if not self.root.is_dir():
            return []
        return sorted(p.parent.name for p in self.root.glob(f"*/{META}") if RUN_KEY.fullmatch(p.parent.name))

    def resolve_key(self, text: str) -> str:
        """The run key ``text`` names: a full 16-digit key, or the start of exactly one stored
        run's key (``movierec runs`` shows them); a :class:`StoreError` otherwise."""
        given = str(text).strip().lower()
        if RUN_KEY.fullmatch(given):
            return given
        if not KEY_START.fullmatch(given):
            shown = given if len(given) <= 40 else given[:39] + "…"
            raise StoreError(
                f"{shown!r} is not a run key: keys are 16 hexadecimal digits, or the start of one "
                f"(see `movierec runs`)"
            )
        matches = [key for key in self.keys() if key.startswith(given)]
        if not matches:
            raise StoreError(f"no stored run's key starts with {given!r} in {self.root}: see `movierec runs`")
        if len(matches) > 1:
            listed = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
            raise StoreError(
                f"run key {given!r} is ambiguous: {len(matches)} stored runs start with it ({listed}): "
                f"give more digits"
            )
        return matches[0]

    def stored_at(self, key: str) -> float:
        """When run ``key`` was stored (its metadata's modification time, seconds since the epoch)."""
        return (self.path(key) / META).stat().st_mtime

    def size(self, key: str) -> int:
        """Bytes the files of run ``key`` take (0 for a folder that is gone)."""
        return _folder_bytes(self.path(key))

    def being_written(self) -> list[str]:
        """The store's run folders that are being written (or were left half-written by a
        killed run): no ``meta.json`` yet, or a temporary file inside. Never removed."""
        if not self.root.is_dir():
            return []
        return sorted(
            folder.name
            for folder in self.root.iterdir()
            if RUN_KEY.fullmatch(folder.name) and folder.is_dir() and self._in_use(folder.name)
        )

    def _in_use(self, key: str) -> bool:
        folder = self.path(key)
        return not (folder / META).exists() or any(folder.glob(TEMPORARY))

    def older_than(self, days: float) -> list[str]:
        """Keys of the stored runs (not being written) stored more than ``days`` days ago."""
        if isinstance(days, bool) or not isinstance(days, (int, float)) or not days >= 0:
            raise ParameterError(f"days={days!r} is not allowed: days must be a number >= 0")
        cutoff = time.time() - days * SECONDS_PER_DAY
        return [key for key in self.keys() if not self._in_use(key) and self.stored_at(key) < cutoff]

    def remove(self, keys: Iterable[str]) -> list[str]:
        """Delete the runs ``keys`` (full keys); return them. Each run's folder is renamed out of
        the store, then deleted, so no reader ever finds half a run. All are checked first: a key
        not stored, or a run being written, is a :class:`StoreError` and nothing is removed."""
        keys = list(dict.fromkeys(keys))
        for key in keys:
            if not RUN_KEY.fullmatch(key) or not (self.path(key)).is_dir():
                raise StoreError(f"run {key!r} is not stored in {self.root}: nothing was removed")
            if self._in_use(key):
                raise StoreError(
                    f"run {key} is being written (no meta.json yet, or temporary files): "
                    f"nothing was removed; try again once it is stored"
                )
        for key in keys:
            parting = self.root / f"{REMOVING}{key}-{os.getpid()}"
            try:
                os.rename(self.path(key), parting)
            except OSError as error:
                raise StoreError(
                    f"cannot remove run {key} from {self.root} ({error.strerror or error}): "
                    f"make the folder writable"
                ) from error
            shutil.rmtree(parting, ignore_errors=True)
        for leftover in self.root.glob(f"{REMOVING}*"):  # a removal killed half-way
            shutil.rmtree(leftover, ignore_errors=True)
        return keys

    def table(self, sizes: bool = False) -> pd.DataFrame:
        """One row per stored run, newest first: when (local time), key, what it trained on, its
        target, optimizer, lr, d, epochs, status and final cost (``damaged`` when the run cannot
        be read); with ``sizes``, the bytes its files take (``bytes``)."""
        rows = []
        for key in self.keys():
            stored = self.stored_at(key)
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
            if sizes:
                rows[-1]["bytes"] = self.size(key)
        columns = LISTING_COLUMNS + (["bytes"] if sizes else [])
        if not rows:
            return pd.DataFrame(columns=columns)
        table = pd.DataFrame(rows, columns=columns)
        table = table.sort_values(["stored", "key"], ascending=[False, True], kind="stable")
        table["stored"] = [
            datetime.fromtimestamp(when).strftime("%Y-%m-%d %H:%M") for when in table["stored"]
        ]
        return table.reset_index(drop=True)


def _folder_bytes(folder: Path) -> int:
    """Bytes of the files directly in ``folder`` (a run's folder is flat); 0 when it is gone."""
    try:
        return sum(entry.stat().st_size for entry in folder.iterdir() if entry.is_file())
    except OSError:
        return 0
