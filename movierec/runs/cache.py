"""Results computed once and stored beside the run store: a held-out split, a tuned baseline's
scores, keyed by everything that decides them.

An entry is one ``.npz`` file, ``<store>/cache/<kind>-<key>.npz``: its arrays and a JSON header
(what decided it, its format, the library versions), written to a temporary name and renamed
into place (:func:`movierec.runs.store.atomic_write`), so a build killed half-way leaves no
entry, only a temporary file, and a damaged entry fails to read and is computed again. The key
is a hash of the entry's kind, its format and what decides it: a changed split seed, grid,
list length or data gives another key, so nothing stale is ever read. A process computing an
entry claims it first (:class:`movierec.runs.store.Claim`), so two chapters executed at once
compute it once: the second waits for the first's file. Removing ``cache/`` only costs the
time to compute its entries again. Book page: "Re-run it yourself".
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..model.train import library_versions
from .store import CLAIM_SUFFIX, Claim, RunStore, atomic_write, held_elsewhere, wait_for

CACHE_DIR = "cache"
CACHE_FORMAT = 1
HEADER = "__header__"

Entry = tuple[dict[str, Any], dict[str, np.ndarray]]


def entry_key(kind: str, decides: Mapping[str, Any]) -> str:
    """16 hex digits naming an entry: a hash of its kind, the cache format and ``decides``
    (JSON: what decides the result, e.g. the data's checksum and the split's parameters)."""
    payload = json.dumps({"kind": kind, "format": CACHE_FORMAT, "decides": decides}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class ResultCache:
    """A folder of computed results (default: ``cache/`` inside a run store's folder)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser()

    @classmethod
    def beside(cls, store: RunStore | ResultCache | str | os.PathLike | None) -> ResultCache | None:
        """The cache of ``store`` (a run store: its ``cache/`` folder), a cache itself, a folder,
        or None for none (compute every time)."""
        if store is None or isinstance(store, ResultCache):
            return store
        if isinstance(store, RunStore):
            return cls(store.root / CACHE_DIR)
        return cls(store)

    def path(self, kind: str, key: str) -> Path:
        return self.root / f"{kind}-{key}.npz"

    def load(self, kind: str, key: str) -> Entry | None:
        """(header, arrays) of an intact entry, or None (missing, half-written never counts, damaged)."""
        path = self.path(kind, key)
        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
            header = json.loads(arrays.pop(HEADER).tobytes().decode())
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError, EOFError):
            return None
        if not isinstance(header, dict) or header.get("key") != key or header.get("kind") != kind:
            return None
        return header, arrays

    def save(self, kind: str, key: str, header: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Path:
        """Store an entry atomically (one rename); return its path. A cache that cannot be written
        is no error: the result is only computed again next time."""
        full = {**header, "kind": kind, "key": key, "format": CACHE_FORMAT, "versions": library_versions()}
        buffer = io.BytesIO()
        encoded = np.frombuffer(json.dumps(full, allow_nan=True).encode(), dtype=np.uint8)
        np.savez(buffer, **{HEADER: encoded}, **{name: np.asarray(value) for name, value in arrays.items()})
        path = self.path(kind, key)
        try:
            atomic_write(path, buffer.getvalue())
        except OSError:
            pass
        return path

    def claim_path(self, kind: str, key: str) -> Path:
        return self.root / f".{kind}-{key}{CLAIM_SUFFIX}"

    def claim(self, kind: str, key: str) -> Claim | None:
        """This process's claim on computing an entry, or None while another live process holds it."""
        return Claim.take(self.claim_path(kind, key))

    def busy(self, kind: str, key: str) -> bool:
        """Whether another running process is computing this entry now."""
        return held_elsewhere(self.claim_path(kind, key))

    def wait(self, kind: str, key: str) -> Entry | None:
        """The entry another process is computing, once stored; None if it gave up."""
        found = wait_for(lambda: self.load(kind, key), self.claim_path(kind, key))
        return found if isinstance(found, tuple) else None

    def entries(self) -> list[Path]:
        """The stored entries' files."""
        return sorted(self.root.glob("*.npz")) if self.root.is_dir() else []


def compute_once(
    cache: ResultCache | None,
    kind: str,
    decides: Mapping[str, Any],
    compute: Callable[[], Entry],
    wait: bool = True,
) -> Entry | None:
    """The entry ``kind`` decided by ``decides``: read from ``cache``, else computed by
    ``compute()`` (which returns its header and arrays) and stored. While another process is
    computing it, wait for its file (``wait``), or return None at once (``wait=False``: do other
    work first, then ask again). Without a cache, always computed."""
    if cache is None:
        return compute()
    key = entry_key(kind, decides)
    while True:
        found = cache.load(kind, key)
        if found is not None:
            return found
        claim = cache.claim(kind, key)
        if claim is None:
            if not wait:
                return None
            found = cache.wait(kind, key)
            if found is not None:
                return found
            continue  # the other process gave it up: claim it now
        with claim:
            found = cache.load(kind, key)  # stored while this process was looking
            if found is not None:
                return found
            header, arrays = compute()
            cache.save(kind, key, {**header, "decides": dict(decides)}, arrays)
            return header, arrays
