"""Recommendations from learned embeddings: by mean cosine similarity (the seed's rule) or by
dot product (for targets whose scale carries meaning, such as the whitened one).

Book pages: "Recommendations" (notebooks/04_recommendations.ipynb), "What should the embeddings
fit?" (notebooks/08_targets.ipynb).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..data.titles import TitleIndex
from ..errors import ParameterError, TitleError

SCORINGS = ("cosine", "dot")


def check_scoring(scoring: str) -> str:
    """``scoring`` if it is a known rule, else a :class:`ParameterError` naming them."""
    if scoring not in SCORINGS:
        raise ParameterError(
            f"scoring={scoring!r} is not allowed: scoring must be one of {', '.join(SCORINGS)}"
        )
    return scoring


def unit_columns(vectors: np.ndarray | sp.spmatrix) -> np.ndarray | sp.csr_matrix:
    """Columns scaled to unit length; zero columns stay zero (cosine 0, as the seed's rule).

    Book pages: "Recommendations", "Evaluation and tuning".
    """
    if sp.issparse(vectors):
        vectors = sp.csr_matrix(vectors, dtype=np.float64)
        norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=0)).ravel())
        return (vectors @ sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0))).tocsr()
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=0)
    return vectors * np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)


def cosine_similarities(embeddings: np.ndarray, rows: Sequence[int]) -> np.ndarray:
    """cos(v_r, v_j) for each input column r and every movie j (len(rows) x n).

    Zero-norm embeddings (a movie no one liked can shrink to 0) get similarity 0, not NaN.
    """
    unit = unit_columns(embeddings)
    return unit[:, list(rows)].T @ unit


def dot_similarities(embeddings: np.ndarray, rows: Sequence[int]) -> np.ndarray:
    """v_r^T v_j for each input column r and every movie j (len(rows) x n)."""
    vectors = np.asarray(embeddings, dtype=np.float64)
    return vectors[:, list(rows)].T @ vectors


def recommend(
    embeddings: np.ndarray,
    movies: pd.DataFrame,
    titles: Sequence[str],
    top_n: int = 10,
    index: TitleIndex | None = None,
    scoring: str = "cosine",
) -> pd.DataFrame:
    """Top-``top_n`` movies for the input titles, inputs excluded.

    ``scoring="cosine"`` (the seed's rule) ranks by mean cosine similarity to the inputs;
    ``scoring="dot"`` by the dot product of the sum of the inputs' vectors with every movie's,
    which keeps the lengths a target such as the whitened one gives its embeddings.
    ``embeddings`` is d x n with columns in ``movies`` order. Inputs whose embedding is zero
    (no direction) are left out; if all are, that is an error. Returns a DataFrame with rank,
    movieId, title, genres and score. Book pages: "Recommendations", "What should the embeddings fit?".
    """
    check_scoring(scoring)
    if isinstance(top_n, bool) or not isinstance(top_n, (int, np.integer)) or top_n < 1:
        raise ParameterError(f"top_n={top_n!r} is not allowed: top_n must be an integer >= 1")
    embeddings = np.asarray(embeddings)
    if embeddings.ndim != 2 or embeddings.shape[1] != len(movies):
        raise ParameterError(
            f"embeddings have shape {embeddings.shape}, but there are {len(movies):,} movies: "
            f"use embeddings trained on this movies table (d x {len(movies):,})"
        )
    if not np.isfinite(embeddings).all():
        raise ParameterError(
            "these embeddings are not finite (the run diverged): recommend from a finished run"
        )
    index = index or TitleIndex(movies)
    rows = index.resolve_all(titles)
    usable = [row for row in rows if np.linalg.norm(embeddings[:, row]) > 0]
    if not usable:
        names = "; ".join(repr(index.titles[row]) for row in rows)
        raise TitleError(
            f"{names}: zero embedding (no one liked it, so it has no direction to compare with): "
            f"add a title that users liked"
        )
    if scoring == "cosine":
        scores = cosine_similarities(embeddings, usable).mean(axis=0)
    else:
        scores = dot_similarities(embeddings, usable).sum(axis=0)
    candidates = np.setdiff1d(np.arange(len(movies)), rows)
    top_n = min(int(top_n), len(candidates))
    order = candidates[np.lexsort((candidates, -scores[candidates]))][:top_n]
    picked = index.movies.iloc[order]
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "movieId": picked["movieId"].to_numpy(),
            "title": picked["title"].to_numpy(),
            "genres": picked["genres"].to_numpy(),
            "score": scores[order],
        }
    )
