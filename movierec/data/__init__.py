"""MovieLens data: a verified archive, typed DataFrames, the likes matrix L and X = L^T L.

One module per concern: :mod:`.releases` (the registry), :mod:`.download` (source order,
verified download, cache), :mod:`.formats` (file layouts, typed tables), :mod:`.load`
(:func:`load_movielens`) and :mod:`.likes` (L and X). Book page: "The data".
"""

from .download import CACHE_ENV, DATA_ENV, cache_dir, download_release, file_sha256, resolve_source
from .formats import MOVIE_DTYPES, RATING_DTYPES
from .likes import LIKE_THRESHOLD, Likes, as_csr, colike_matrix, deduplicate_ratings, likes_matrix
from .load import MovieLens, load_movielens
from .releases import DEFAULT_RELEASE, RELEASES, Release, get_release

__all__ = [
    "CACHE_ENV",
    "DATA_ENV",
    "DEFAULT_RELEASE",
    "LIKE_THRESHOLD",
    "MOVIE_DTYPES",
    "RATING_DTYPES",
    "RELEASES",
    "Likes",
    "MovieLens",
    "Release",
    "as_csr",
    "cache_dir",
    "colike_matrix",
    "deduplicate_ratings",
    "download_release",
    "file_sha256",
    "get_release",
    "likes_matrix",
    "load_movielens",
    "resolve_source",
]
