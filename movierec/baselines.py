"""Baselines scored on the same split as the embeddings: popularity, two item cosines, EASE, ALS.

Every function takes the train likes (users x movies 0/1) and returns users x movies
scores; :func:`movierec.evaluate.evaluate_scores` ranks them with the same exclusions.
Book page: "Evaluation and tuning" (notebooks/06_evaluation.ipynb).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from .data import colike_matrix
from .errors import ParameterError
from .evaluate import Split, cosine_scores, evaluate_scores, method_row

ALS_ITERATIONS = 15


def popularity_scores(train: sp.spmatrix) -> np.ndarray:
    """Every user gets the movies with the most train likes. Book page: "Evaluation and tuning"."""
    train = sp.csr_matrix(train)
    counts = np.asarray(train.sum(axis=0), dtype=np.float64).ravel()
    return np.broadcast_to(counts, train.shape)


def colike_cosine_scores(train: sp.spmatrix) -> np.ndarray:
    """Mean cosine between rows of X = offdiag(L^T L): the seed's commented-out approach.

    Book page: "Evaluation and tuning".
    """
    return cosine_scores(colike_matrix(train), train)


def likes_cosine_scores(train: sp.spmatrix) -> np.ndarray:
    """Mean cosine between columns of L (movies as vectors of the users who like them).

    Book page: "Evaluation and tuning".
    """
    return cosine_scores(train, train)


class Ease:
    """EASE (Steck 2019): B = I - P / diag(P) with P = (L^T L + lambda I)^-1, so diag(B) = 0.

    With fewer users than movies, Woodbury gives lambda P = I - L^T K L with
    K = (L L^T + lambda I)^-1, a users x users matrix; one eigendecomposition of L L^T
    then makes every lambda cheap: scores = L B = L - (L - L L^T K L) / (1 - diag(L^T K L)).
    Book page: "Evaluation and tuning".
    """

    def __init__(self, train: sp.spmatrix):
        self.train = sp.csr_matrix(train, dtype=np.float64)
        gram = (self.train @ self.train.T).toarray()
        with threadpool_limits(1, "blas"):
            self.eigenvalues, self.eigenvectors = np.linalg.eigh(gram)
        self.projected = np.asarray(self.train.T @ self.eigenvectors).T  # Q^T L, users x movies

    def scores(self, lam: float) -> np.ndarray:
        """Users x movies EASE scores at ridge ``lam`` > 0."""
        if not lam > 0:
            raise ParameterError(f"lambda={lam!r} is not allowed: the EASE ridge must be positive")
        weights = self.eigenvalues / (self.eigenvalues + lam)
        with threadpool_limits(1, "blas"):
            whitened = self.eigenvectors @ (weights[:, None] * self.projected)  # L L^T K L
        scaled = self.projected / np.sqrt(self.eigenvalues + lam)[:, None]
        diagonal = 1.0 - np.square(scaled).sum(axis=0)  # lambda diag(P)
        dense = self.train.toarray()
        return dense - (dense - whitened) / diagonal


def als_scores(train: sp.spmatrix, factors: int, regularization: float, seed: int = 0, threads: int = 1,
               iterations: int = ALS_ITERATIONS) -> np.ndarray:
    """Implicit-feedback ALS from the ``implicit`` library: user factors . item factors.

    Deterministic (``random_state``, fixed ``threads``), silent (no progress bar, BLAS
    thread warning muted). Book page: "Evaluation and tuning".
    """
    with threadpool_limits(1, "blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from implicit.cpu.als import AlternatingLeastSquares

        model = AlternatingLeastSquares(factors=factors, regularization=regularization, iterations=iterations,
                                        random_state=seed, num_threads=threads)
        model.fit(sp.csr_matrix(train, dtype=np.float32), show_progress=False)
    return np.asarray(model.user_factors, dtype=np.float64) @ np.asarray(model.item_factors, dtype=np.float64).T


def compare_baselines(split: Split, ease_lambdas: Sequence[float], als_factors: Sequence[int],
                      als_regs: Sequence[float], k: int = 10, seed: int = 0) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Tune EASE (lambda) and ALS (factors x regularization) on validation NDCG@k, then score
    every baseline on validation and test: (tuning table, comparison rows).

    Book page: "Evaluation and tuning".
    """
    column = f"val NDCG@{k}"
    ease = Ease(split.train)
    tuning: list[dict[str, Any]] = []
    for lam in ease_lambdas:
        metrics = evaluate_scores(ease.scores(lam), split, "validation", k)
        tuning.append({"method": "EASE", "setting": f"lambda={lam:g}", "params": (lam,), column: metrics["NDCG"]})
    for factors in als_factors:
        for reg in als_regs:
            metrics = evaluate_scores(als_scores(split.train, factors, reg, seed), split, "validation", k)
            tuning.append({"method": "ALS (implicit)", "setting": f"factors={factors}, reg={reg:g}",
                           "params": (factors, reg), column: metrics["NDCG"]})
    table = pd.DataFrame(tuning)
    best = table.loc[table.groupby("method", sort=False)[column].idxmax()].set_index("method")
    (lam,) = best.loc["EASE", "params"]
    factors, reg = best.loc["ALS (implicit)", "params"]
    candidates = {
        "popularity": ("", lambda: popularity_scores(split.train)),
        "item cosine, rows of X": ("", lambda: colike_cosine_scores(split.train)),
        "item cosine, columns of L": ("", lambda: likes_cosine_scores(split.train)),
        "EASE": (best.loc["EASE", "setting"], lambda: ease.scores(lam)),
        "ALS (implicit)": (best.loc["ALS (implicit)", "setting"], lambda: als_scores(split.train, factors, reg, seed)),
    }
    rows = []
    for method, (setting, make) in candidates.items():
        scores = make()
        rows.append(method_row(method, setting, evaluate_scores(scores, split, "validation", k),
                               evaluate_scores(scores, split, "test", k), k))
    return table.drop(columns="params"), rows
