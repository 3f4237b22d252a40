"""The likes matrix L (users x movies, rating >= 4) and the co-like matrix X = L^T L.

Book page: "The data".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import DataError

LIKE_THRESHOLD = 4.0


@dataclass(frozen=True)
class Likes:
    """The users x movies likes matrix L (CSR, float32 0/1) and its row and column labels.

    Columns follow the order of ``movies.csv`` and include movies nobody rated (zero
    columns); rows are the users who rated anything, in increasing userId.
    """

    matrix: sp.csr_matrix
    user_ids: np.ndarray
    movie_ids: np.ndarray
    threshold: float = LIKE_THRESHOLD

    @cached_property
    def movie_index(self) -> dict[int, int]:
        """movieId -> column of L."""
        return {int(m): i for i, m in enumerate(self.movie_ids)}

    @cached_property
    def user_index(self) -> dict[int, int]:
        """userId -> row of L."""
        return {int(u): i for i, u in enumerate(self.user_ids)}

    @property
    def n_users(self) -> int:
        return self.matrix.shape[0]

    @property
    def n_movies(self) -> int:
        return self.matrix.shape[1]

    @cached_property
    def like_counts(self) -> np.ndarray:
        """D: how many users like each movie (the diagonal of L^T L), int64."""
        return np.asarray(self.matrix.sum(axis=0), dtype=np.int64).ravel()


def deduplicate_ratings(ratings: pd.DataFrame) -> pd.DataFrame:
    """Keep one rating per (userId, movieId): the latest by timestamp (last row on ties).

    MovieLens has no duplicates; edited exports can. The seed's ``pivot_table`` would
    average them into a fractional "like", which X = L^T L cannot count.
    """
    keys = ["userId", "movieId"]
    if not ratings.duplicated(keys).any():
        return ratings
    order = ratings.sort_values("timestamp", kind="stable") if "timestamp" in ratings else ratings
    return order.drop_duplicates(keys, keep="last").sort_index()


COMPACT_IDS = 1 << 26  # ids below this are indexed through a lookup table, not a hash or a sort


def _positions(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Index of each value in ``labels`` (unique), -1 where absent; O(n) for compact ids."""
    if len(labels) and labels.min() >= 0 and labels.max() < COMPACT_IDS:
        table = np.full(int(labels.max()) + 1, -1, dtype=np.int32)
        table[labels] = np.arange(len(labels), dtype=np.int32)
        inside = (values >= 0) & (values < len(table))
        return np.where(inside, table[np.where(inside, values, 0)], -1)
    return pd.Index(labels).get_indexer(values).astype(np.int32)


def _compact(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, each value's index among them), like ``np.unique``'s
    ``return_inverse`` but without sorting all the values when the ids are compact."""
    if len(values) and values.min() >= 0 and values.max() < COMPACT_IDS:
        present = np.bincount(values, minlength=0) > 0
        distinct = np.flatnonzero(present)
        return distinct, (np.cumsum(present, dtype=np.int32) - 1)[values]
    distinct, inverse = np.unique(values, return_inverse=True)
    return distinct, inverse.astype(np.int32)


def _has_duplicates(rows: np.ndarray, columns: np.ndarray, n_columns: int) -> bool:
    """Whether a (row, column) pair occurs twice: one sort of int64 keys, no hash table."""
    keys = rows.astype(np.int64) * n_columns + columns
    keys.sort()
    return bool((keys[1:] == keys[:-1]).any())


def likes_matrix(ratings: pd.DataFrame, movies: pd.DataFrame, threshold: float = LIKE_THRESHOLD) -> Likes:
    """L[u, i] = 1 when user u rated movie i at least ``threshold``; all movies are columns.

    Built straight from the id columns into CSR (lookup tables, no pivot, no dense copy),
    so ML-32M's 32M ratings take seconds and a few hundred MB. Book page: "The data".
    """
    if not np.isfinite(threshold):
        raise DataError(f"threshold must be a finite rating, got {threshold!r}")
    movie_ids = movies["movieId"].to_numpy(dtype=np.int64)
    if len(np.unique(movie_ids)) != len(movie_ids):
        raise DataError("movies.csv lists a movieId twice: each movie needs one row")
    rated = ratings["movieId"].to_numpy()
    columns = _positions(rated, movie_ids)
    if (columns < 0).any():
        unknown = np.unique(rated[columns < 0])
        raise DataError(
            f"ratings.csv rates {len(unknown)} movieId(s) missing from movies.csv "
            f"(e.g. {unknown[:5].tolist()}): the two files come from different releases"
        )
    user_ids, rows = _compact(ratings["userId"].to_numpy())
    if _has_duplicates(rows, columns, len(movie_ids)):
        return likes_matrix(deduplicate_ratings(ratings), movies, threshold)
    liked = ratings["rating"].to_numpy() >= threshold
    matrix = sp.csr_matrix(
        (np.ones(int(liked.sum()), dtype=np.float32), (rows[liked], columns[liked])),
        shape=(len(user_ids), len(movie_ids)),
    )
    matrix.sort_indices()
    return Likes(
        matrix=matrix, user_ids=user_ids.astype(np.int64), movie_ids=movie_ids, threshold=float(threshold)
    )


def as_csr(likes: Likes | sp.spmatrix, dtype: type | None = None) -> sp.csr_matrix:
    """The users x movies matrix of ``likes`` (a :class:`Likes` or any scipy matrix) as CSR."""
    return sp.csr_matrix(likes.matrix if isinstance(likes, Likes) else likes, dtype=dtype)


def colike_matrix(likes: Likes | sp.spmatrix) -> sp.csr_matrix:
    """X = L^T L with a zero diagonal: X[i, j] = users who like both i and j (int32 CSR).

    Book page: "The data".
    """
    matrix = as_csr(likes)
    counts = matrix.astype(np.int32)
    colikes = (counts.T @ counts).tocsr()
    colikes.setdiag(0)
    colikes.eliminate_zeros()
    colikes.sort_indices()
    return colikes
