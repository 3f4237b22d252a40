"""movierec: movie embeddings from co-likes, the package behind the movierec Jupyter Book.

Import it one way everywhere: ``import movierec as mr``.
"""

import importlib

from .cost import CoLikeCost, colike_norm2, dense_cost
from .data import Likes, MovieLens, colike_matrix, likes_matrix, load_movielens
from .errors import DataError, MovierecError, ParameterError, StoreError, TitleError
from .profiles import PARAMETERS, load_profile, study_configs
from .recommend import TitleIndex, recommend
from .runs import RunStore, summary_table, sweep
from .train import TrainConfig, TrainResult, train
from .workspace import Workspace

__version__ = "0.1.0"

#: Modules loaded on first use (``mr.plots``, ``mr.book`` ...): the command line does not pay
#: for matplotlib, nbformat or scikit-style baselines it never touches.
LAZY_MODULES = ("baselines", "book", "compare", "evaluate", "optimum", "plots", "seed", "synthetic")


def __getattr__(name: str):
    if name in LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'movierec' has no attribute {name!r}")

__all__ = [
    "CoLikeCost", "DataError", "Likes", "MovieLens", "MovierecError", "PARAMETERS", "ParameterError",
    "RunStore", "StoreError", "TitleError", "TitleIndex", "TrainConfig", "TrainResult", "Workspace",
    "colike_matrix", "colike_norm2", "dense_cost", "likes_matrix", "load_movielens", "load_profile",
    "recommend", "study_configs", "summary_table", "sweep", "train",
]
