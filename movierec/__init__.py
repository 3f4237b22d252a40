"""movierec: movie embeddings from co-likes, the package behind the movierec Jupyter Book.

Import it one way everywhere: ``import movierec as mr``. Where each idea lives:

- data: :mod:`.data` (releases, download, formats, L and X); training: :mod:`.cost`,
  :mod:`.train`; sets of runs: :mod:`.study`, stored by :mod:`.store`; one experiment's
  inputs: :mod:`.workspace`;
- recommending: :mod:`.titles`, :mod:`.recommend`, :mod:`.lists`; judging:
  :mod:`.evaluate`, :mod:`.baselines`, :mod:`.optimum`; the course notebook: :mod:`.course`;
- showing: :mod:`.tables`, :mod:`.plots`, :mod:`.pages`; building: :mod:`.profiles`,
  :mod:`.book`, :mod:`.cli`.
"""

import importlib

from .cost import CoLikeCost, colike_norm2, dense_cost
from .data import Likes, MovieLens, colike_matrix, likes_matrix, load_movielens
from .errors import DataError, MovierecError, ParameterError, StoreError, TitleError
from .profiles import PARAMETERS, load_profile
from .recommend import recommend
from .store import RunStore
from .study import config_grid, study_configs, sweep
from .tables import summary_table, table
from .titles import TitleIndex
from .train import DIVERGENCE_FACTOR, TrainConfig, TrainResult, train
from .workspace import Workspace

__version__ = "0.2.0"

#: Modules loaded on first use (``mr.plots``, ``mr.book`` ...): the command line does not pay
#: for matplotlib, nbformat or the baselines it never touches.
LAZY_MODULES = (
    "baselines",
    "book",
    "course",
    "evaluate",
    "lists",
    "optimum",
    "pages",
    "plots",
    "prose",
    "synthetic",
    "targets",
    "widget",
)


def __getattr__(name: str):
    if name in LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'movierec' has no attribute {name!r}")


__all__ = [
    "DIVERGENCE_FACTOR",
    "PARAMETERS",
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
    "load_profile",
    "recommend",
    "study_configs",
    "summary_table",
    "sweep",
    "table",
    "train",
]
