"""movierec: movie embeddings from co-likes, the package behind the movierec Jupyter Book.

Import it one way everywhere: ``import movierec as mr``. The folders are the layers, each
importing only those above it in this list:

- :mod:`.data`: releases, download, typed tables, titles, L and X, synthetic data;
- :mod:`.model`: the cost (:mod:`.model.cost`, :mod:`.model.kernels`), the training loop
  (:mod:`.model.train`), data-parallel training, the best achievable cost (:mod:`.model.optimum`);
- :mod:`.runs`: the run store, sweeps, the workspace, runs on several processes;
- :mod:`.judging`: recommending (:mod:`.judging.recommend`, :mod:`.judging.lists`), the split
  and its metrics (:mod:`.judging.evaluate`), baselines, targets;
- :mod:`.plots` (figures from runs), :mod:`.numbers` (the one number style), :mod:`.cli`;
- :mod:`.book`: what makes the book (driver, pages, prose, tables, widget, profiles); nothing
  above imports it.
"""

import importlib

from .data import Likes, MovieLens, colike_matrix, likes_matrix, load_movielens
from .data.titles import TitleIndex
from .errors import DataError, MovierecError, ParameterError, StoreError, TitleError
from .judging.recommend import recommend
from .model.cost import CoLikeCost, colike_norm2, dense_cost
from .model.train import DIVERGENCE_FACTOR, TrainConfig, TrainResult, config_grid, optimizer_class, train
from .runs.store import RunStore
from .runs.study import summary_table, sweep
from .runs.workspace import Workspace

__version__ = "0.3.0"

#: Modules reached as ``mr.<name>``, loaded on first use: the command line does not pay for
#: matplotlib, nbformat or the baselines it never touches. ``mr.book`` is the book's machinery,
#: for its notebooks; importing ``movierec`` never loads it.
LAZY_MODULES = {
    "cost": "model.cost",
    "kernels": "model.kernels",
    "optimum": "model.optimum",
    "distributed": "model.distributed",
    "store": "runs.store",
    "study": "runs.study",
    "parallel": "runs.parallel",
    "lists": "judging.lists",
    "evaluate": "judging.evaluate",
    "baselines": "judging.baselines",
    "targets": "judging.targets",
    "titles": "data.titles",
    "synthetic": "data.synthetic",
    "numbers": "numbers",
    "plots": "plots",
    "book": "book",
    "exercises": "book.exercises",
}


def __getattr__(name: str):
    if name in LAZY_MODULES:
        return importlib.import_module(f".{LAZY_MODULES[name]}", __name__)
    raise AttributeError(f"module 'movierec' has no attribute {name!r}")


__all__ = [
    "DIVERGENCE_FACTOR",
    "CoLikeCost",
    "DataError",
    "Likes",
    "MovieLens",
    "MovierecError",
    "ParameterError",
    "RunStore",
    "StoreError",
    "TitleError",
    "TitleIndex",
    "TrainConfig",
    "TrainResult",
    "Workspace",
    "colike_matrix",
    "colike_norm2",
    "config_grid",
    "dense_cost",
    "likes_matrix",
    "load_movielens",
    "optimizer_class",
    "recommend",
    "summary_table",
    "sweep",
    "train",
]
