"""One experiment's inputs in one object: the data, its likes matrix and the run store.

Notebooks and the command line open a workspace the same way, so they share runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import scipy.sparse as sp

from .data import DEFAULT_RELEASE, Likes, MovieLens, colike_matrix, likes_matrix, load_movielens
from .recommend import TitleIndex
from .runs import RunStore, sweep
from .train import TrainConfig, TrainResult


@dataclass
class Workspace:
    """Loaded data plus the store its runs go to; runs are keyed by the data's checksum."""

    data: MovieLens
    likes: Likes
    store: RunStore
    device: str = "auto"

    @classmethod
    def open(cls, data_path: str = "", dataset: str = DEFAULT_RELEASE, runs_dir: str = "", device: str = "auto") -> "Workspace":
        """Load ``dataset`` (from ``data_path`` if given) and open ``runs_dir`` (or the default)."""
        data = load_movielens(data_path or None, dataset)
        return cls(data=data, likes=likes_matrix(data.ratings, data.movies), store=RunStore(runs_dir or None), device=device)

    @cached_property
    def colikes(self) -> sp.csr_matrix:
        """X = L^T L with a zero diagonal."""
        return colike_matrix(self.likes)

    @cached_property
    def titles(self) -> TitleIndex:
        return TitleIndex(self.data.movies)

    def sweep(self, configs: Iterable[TrainConfig]) -> list[TrainResult]:
        """Stored results for ``configs``, training the missing ones."""
        return sweep(configs, self.likes, self.data.checksum, self.store, self.device)

    def run(self, config: TrainConfig) -> TrainResult:
        return self.sweep([config])[0]
