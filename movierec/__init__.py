"""movierec: movie embeddings from co-likes, the package behind the movierec Jupyter Book.

Import it one way everywhere: ``import movierec as mr``.
"""

from . import baselines, book, compare, cost, evaluate, optimum, plots, seed
from .cost import CoLikeCost, colike_norm2, dense_cost
from .data import Likes, MovieLens, colike_matrix, likes_matrix, load_movielens
from .errors import DataError, MovierecError, ParameterError, StoreError, TitleError
from .profiles import PARAMETERS, load_profile, study_configs
from .recommend import TitleIndex, recommend
from .runs import RunStore, summary_table, sweep
from .train import TrainConfig, TrainResult, train
from .workspace import Workspace

__version__ = "0.1.0"

__all__ = [
    "CoLikeCost", "DataError", "Likes", "MovieLens", "MovierecError", "PARAMETERS", "ParameterError",
    "RunStore", "StoreError", "TitleError", "TitleIndex", "TrainConfig", "TrainResult", "Workspace",
    "colike_matrix", "colike_norm2", "dense_cost", "likes_matrix", "load_movielens", "load_profile",
    "recommend", "study_configs", "summary_table", "sweep", "train",
]
