"""One experiment's inputs in one object: the data, its likes matrix and the run store.

Notebooks and the command line open a workspace the same way, so they share runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from ..data import (
    DEFAULT_RELEASE,
    LIKE_THRESHOLD,
    Likes,
    MovieLens,
    colike_matrix,
    likes_matrix,
    load_movielens,
)
from ..data.titles import TitleIndex
from ..errors import ParameterError
from ..model.train import TrainConfig, TrainResult
from .store import RunStore
from .study import sweep


@dataclass
class Workspace:
    """Loaded data plus the store its runs go to; runs are keyed by the data's checksum."""

    data: MovieLens
    likes: Likes
    store: RunStore
    device: str = "auto"

    @classmethod
    def open(
        cls,
        data_path: str = "",
        dataset: str = DEFAULT_RELEASE,
        runs_dir: str = "",
        device: str = "auto",
        threshold: float = LIKE_THRESHOLD,
    ) -> Workspace:
        """Load ``dataset`` (from ``data_path`` if given), its likes (ratings >= ``threshold``), and
        open ``runs_dir`` (or the default)."""
        data = load_movielens(data_path or None, dataset)
        return cls(
            data=data,
            likes=likes_matrix(data.ratings, data.movies, threshold),
            store=RunStore(runs_dir or None),
            device=device,
        )

    @cached_property
    def colikes(self) -> sp.csr_matrix:
        """X = L^T L with a zero diagonal."""
        return colike_matrix(self.likes)

    @cached_property
    def titles(self) -> TitleIndex:
        """Title look-up over this data's movies."""
        return TitleIndex(self.data.movies)

    def sweep(
        self,
        configs: Iterable[TrainConfig],
        starts: Mapping[TrainConfig, tuple[torch.Tensor, torch.optim.Optimizer]] | None = None,
    ) -> list[TrainResult]:
        """Stored results for ``configs``, training the missing ones (from ``starts`` where a page
        made a run's V and optimizer); each must name this data set."""
        configs = list(configs)
        for config in configs:
            if config.dataset != self.data.release:
                raise ParameterError(
                    f"dataset={config.dataset!r} is not allowed here: "
                    f"the loaded data is {self.data.release}; "
                    f"open a workspace (or pass --dataset) for {config.dataset}"
                )
        return sweep(
            configs, self.likes, self.data.checksum, self.store, self.device, self.data.release, starts
        )

    def run(self, config: TrainConfig) -> TrainResult:
        """The stored result for ``config``, training it if missing."""
        return self.sweep([config])[0]

    def fit(self, config: TrainConfig, V: torch.Tensor, optimizer: torch.optim.Optimizer) -> TrainResult:
        """Run ``config`` from the page's initial embeddings ``V`` and its ``optimizer`` over them
        (they must be the config's), or read it back from the run store when it ran before."""
        return self.sweep([config], {config: (V, optimizer)})[0]

    def summary(self) -> pd.DataFrame:
        """The data's headline counts and the figures of X (one row each)."""
        ratings, colikes = self.data.ratings, self.colikes
        rows = {
            "movies": len(self.data.movies),
            "ratings": len(ratings),
            "users": int(ratings["userId"].nunique()),
            "rated movies": int(ratings["movieId"].nunique()),
            f"likes (rating >= {self.likes.threshold:g})": int(self.likes.matrix.nnz),
            "X non-zeros": int(colikes.nnz),
            "X max": int(colikes.max()),
            "X sum": int(colikes.sum(dtype=np.int64)),
            "||X||^2": int(np.square(colikes.data.astype(np.int64)).sum()),
        }
        return pd.DataFrame({"figure": list(rows), "value": list(rows.values())})
