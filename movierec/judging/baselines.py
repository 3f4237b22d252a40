"""Baselines scored on the same split as the embeddings: popularity, two item cosines, EASE, ALS.

Every scoring function takes the train likes (users x movies 0/1) and returns users x movies
scores; :func:`movierec.judging.evaluate.score_method` ranks them with the same exclusions. Adding a
baseline is one entry in :data:`BASELINES` (plus its grid in a profile's ``baseline_grids``
if it has one).
Book page: "Does it recommend well?" (notebooks/06_recommend_well.ipynb).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from ..data import colike_matrix
from ..errors import ParameterError
from ..runs.cache import ResultCache, compute_once
from ..runs.store import RunStore
from .evaluate import RANK_DEPTH, Scored, Split, cosine_scores, evaluate_scores, score_method

ALS_ITERATIONS = 15
ALS_ALPHA = 1.0  # confidence 1 + alpha for a like (implicit's default, stated here)


def popularity_scores(train: sp.spmatrix) -> np.ndarray:
    """Every user gets the movies with the most train likes. Book page: "Does it recommend well?"."""
    train = sp.csr_matrix(train)
    counts = np.asarray(train.sum(axis=0), dtype=np.float64).ravel()
    return np.broadcast_to(counts, train.shape)


def colike_cosine_scores(train: sp.spmatrix) -> np.ndarray:
    """Mean cosine between rows of X = offdiag(L^T L): the seed's commented-out approach.

    Book page: "Does it recommend well?".
    """
    return cosine_scores(colike_matrix(train), train)


def likes_cosine_scores(train: sp.spmatrix) -> np.ndarray:
    """Mean cosine between columns of L (movies as vectors of the users who like them).

    Book page: "Does it recommend well?".
    """
    return cosine_scores(train, train)


class Ease:
    """EASE (Steck 2019): B = I - P / diag(P) with P = (L^T L + lambda I)^-1, so diag(B) = 0.

    With fewer users than movies, Woodbury gives lambda P = I - L^T K L with
    K = (L L^T + lambda I)^-1, a users x users matrix; one eigendecomposition of L L^T
    then makes every lambda cheap: scores = L B = L - (L - L L^T K L) / (1 - diag(L^T K L)).
    Book page: "Does it recommend well?".
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


def als_scores(
    train: sp.spmatrix,
    factors: int,
    regularization: float,
    seed: int = 0,
    threads: int = 1,
    iterations: int = ALS_ITERATIONS,
) -> np.ndarray:
    """Implicit-feedback ALS from the ``implicit`` library: user factors . item factors.

    Deterministic (``random_state``, fixed ``threads``), silent (no progress bar, BLAS
    thread warning muted). Book page: "Does it recommend well?".
    """
    with threadpool_limits(1, "blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from implicit.cpu.als import AlternatingLeastSquares

        model = AlternatingLeastSquares(
            factors=factors,
            regularization=regularization,
            iterations=iterations,
            alpha=ALS_ALPHA,
            random_state=seed,
            num_threads=threads,
        )
        model.fit(sp.csr_matrix(train, dtype=np.float32), show_progress=False)
    return (
        np.asarray(model.user_factors, dtype=np.float64) @ np.asarray(model.item_factors, dtype=np.float64).T
    )


@dataclass(frozen=True)
class Baseline:
    """A baseline: its name in tables, how to fit it, and its default tuning grid.

    ``fit(train, seed)`` returns a scorer; ``scorer(**setting)`` returns users x movies scores
    for one point of the grid (no arguments when the grid is empty). ``cite`` is its
    reference in the book's bibliography.
    """

    label: str
    fit: Callable[[sp.csr_matrix, int], Callable[..., np.ndarray]]
    grid: Mapping[str, Sequence[float]] = field(default_factory=dict)
    cite: str = ""


def _fixed(
    scores: Callable[[sp.spmatrix], np.ndarray],
) -> Callable[[sp.csr_matrix, int], Callable[[], np.ndarray]]:
    return lambda train, seed: lambda: scores(train)


def _als(train: sp.csr_matrix, seed: int) -> Callable[..., np.ndarray]:
    def scorer(factors: float, reg: float) -> np.ndarray:
        if factors != int(factors) or factors < 1:
            raise ParameterError(
                f"factors={factors!r} is not allowed: ALS factors must be a whole number >= 1"
            )
        return als_scores(train, int(factors), reg, seed)

    return scorer


BASELINES: dict[str, Baseline] = {
    "popularity": Baseline("popularity", _fixed(popularity_scores)),
    "x_cosine": Baseline("item cosine, rows of X", _fixed(colike_cosine_scores)),
    "l_cosine": Baseline("item cosine, columns of L", _fixed(likes_cosine_scores)),
    "ease": Baseline(
        "EASE",
        lambda train, seed: Ease(train).scores,
        {"lam": (30.0, 100.0, 300.0, 1000.0)},
        cite="steck2019",
    ),
    "als": Baseline(
        "ALS (implicit)", _als, {"factors": (16, 32, 64), "reg": (0.1, 1.0, 10.0)}, cite="hu2008"
    ),
}


def grid_points(grid: Mapping[str, Sequence[float]]) -> list[dict[str, float]]:
    """Every combination of a grid's values, in order (one empty point for an empty grid)."""
    names = list(grid)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*(grid[n] for n in names))]


def setting_text(point: Mapping[str, float]) -> str:
    """A grid point for a table: ``lam=100``, ``factors=32, reg=1``."""
    return ", ".join(f"{name}={value:g}" for name, value in point.items())


def checked_grids(
    grids: Mapping[str, Mapping[str, Sequence[float]]],
) -> dict[str, Mapping[str, Sequence[float]]]:
    """Every baseline's grid: the profile's where it gives one, else the default; unknown
    baselines or options are an error naming what is allowed."""
    unknown = sorted(set(grids) - set(BASELINES))
    if unknown:
        raise ParameterError(
            f"baseline_grids names unknown baseline(s) {', '.join(unknown)}: "
            f"allowed are {', '.join(BASELINES)}"
        )
    chosen = {}
    for name, baseline in BASELINES.items():
        grid = grids.get(name, baseline.grid)
        if set(grid) != set(baseline.grid):
            raise ParameterError(
                f"baseline_grids[{name!r}] has options {sorted(grid)}: "
                f"{name} takes {sorted(baseline.grid) or 'none'}"
            )
        chosen[name] = grid
    return chosen


def tune_baselines(
    split: Split,
    grids: Mapping[str, Mapping[str, Sequence[float]]],
    k: int = 10,
    seed: int = 0,
    only: Sequence[str] | None = None,
    store: RunStore | ResultCache | None = None,
) -> tuple[pd.DataFrame, list[Scored]]:
    """Tune each baseline's grid (or only the baselines named in ``only``) on validation NDCG@k,
    then score it at its best point on validation and test: (tuning table of every grid point,
    the scored baselines).

    Given a run ``store`` (or a :class:`ResultCache`), each baseline is tuned once and stored in
    the store's cache, keyed by the split (its checksum: data, seed, held-out share), the
    baseline, its grid, k and the seed; every later call with the same key, in any chapter or
    process, reads it back (:func:`tuned_baseline`). While another process tunes one, this call
    tunes the others first. Book page: "Does it recommend well?".
    """
    column = f"val NDCG@{k}"
    chosen = {name: grid for name, grid in checked_grids(grids).items() if only is None or name in only}
    cache = ResultCache.beside(store)
    found = {
        name: tuned_baseline(split, name, grid, k, seed, cache, wait=False) for name, grid in chosen.items()
    }
    tuning: list[dict[str, Any]] = []
    scored = []
    for name, grid in chosen.items():
        entry = found[name] or tuned_baseline(split, name, grid, k, seed, cache)
        label = BASELINES[name].label
        if grid:
            tuning += [
                {"method": label, "setting": setting_text(point), column: ndcg}
                for point, ndcg in zip(entry.points, entry.ndcg, strict=True)
            ]
        scored.append(entry.scored)
    return pd.DataFrame(tuning, columns=["method", "setting", column]), scored


@dataclass(frozen=True)
class TunedBaseline:
    """One baseline tuned on a split: every grid point with its validation NDCG@k, and the
    baseline scored at the best point (:class:`Scored`)."""

    points: list[dict[str, float]]
    ndcg: list[float]
    scored: Scored


def tuned_baseline(
    split: Split,
    name: str,
    grid: Mapping[str, Sequence[float]],
    k: int = 10,
    seed: int = 0,
    cache: ResultCache | None = None,
    wait: bool = True,
) -> TunedBaseline | None:
    """Baseline ``name`` tuned over ``grid`` on ``split``'s validation NDCG@k and scored at its best
    point: from ``cache`` when stored there, else computed (and stored). None only with
    ``wait=False`` while another process computes it."""
    baseline = BASELINES[name]
    decides = {
        "split": split.checksum,
        "baseline": name,
        "grid": {option: [float(value) for value in values] for option, values in grid.items()},
        "k": int(k),
        "seed": int(seed),
        "depth": RANK_DEPTH,
        **({"iterations": ALS_ITERATIONS} if name == "als" else {}),
    }

    def tune() -> tuple[dict, dict[str, np.ndarray]]:
        scorer = baseline.fit(split.train, seed)
        points, values = grid_points(grid), []
        best: tuple[float, int, np.ndarray] | None = None
        for index, point in enumerate(points):
            scores = scorer(**point)
            ndcg = evaluate_scores(scores, split, "validation", k)["NDCG"]
            values.append(ndcg)
            if best is None or ndcg > best[0]:
                best = (ndcg, index, scores)
        scored = score_method(baseline.label, setting_text(points[best[1]]), best[2], split, k)
        header = {"points": points, "ndcg": values, "best": best[1]}
        header |= {"validation": scored.validation, "test": scored.test}
        return header, {"test_ndcg": scored.test_ndcg, "ranked_test": scored.ranked_test}

    entry = compute_once(cache, "baseline", decides, tune, wait)
    if entry is None:
        return None
    header, arrays = entry
    points = [dict(point) for point in header["points"]]
    scored = Scored(
        method=baseline.label,
        setting=setting_text(points[header["best"]]),
        validation=dict(header["validation"]),
        test=dict(header["test"]),
        test_ndcg=arrays["test_ndcg"],
        ranked_test=arrays["ranked_test"],
    )
    return TunedBaseline(points=points, ndcg=[float(value) for value in header["ndcg"]], scored=scored)
