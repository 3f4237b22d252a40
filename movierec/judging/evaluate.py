"""Held-out evaluation: a seeded per-user split of the likes, top-k scoring and ranking metrics.

The split hides some of each user's likes; every model (the co-like matrix X, the learned
embeddings and the baselines) is built from the train likes only, each user's train likes
are the input titles, and the hidden ones are what a good recommender should rank high.
Book page: "Does it recommend well?" (notebooks/06_recommend_well.ipynb).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from ..data import LIKE_THRESHOLD, Likes
from ..errors import ParameterError
from ..model.train import SGD_MOMENTUM, TrainConfig, TrainResult, config_grid
from ..numbers import format_lr
from ..runs.cache import ResultCache, compute_once, entry_key
from ..runs.store import RunStore
from ..runs.study import sweep
from .recommend import check_scoring, unit_columns

MIN_LIKES = 5
FIT_BLOCK = 512  # rows of the co-like matrix whose fitted pairs are one matrix product
HELD_OUT = 0.1
USER_BATCH = 1024
PARTS = ("validation", "test")
METRICS = ("HR", "Recall", "Precision", "NDCG", "Coverage")
RANK_DEPTH = 50  # test rankings are kept this deep, so that longer lists can be scored later


@dataclass(frozen=True)
class Split:
    """Train, validation and test likes (users x movies 0/1 CSR, same shape, disjoint).

    ``checksum`` identifies the data and the split, so runs trained on ``train`` are
    stored apart from runs on all the likes.
    """

    train: sp.csr_matrix
    validation: sp.csr_matrix
    test: sp.csr_matrix
    likes: Likes
    seed: int
    checksum: str

    @property
    def train_likes(self) -> Likes:
        """The train part as a :class:`Likes` (for training and the run store)."""
        return Likes(
            matrix=self.train,
            user_ids=self.likes.user_ids,
            movie_ids=self.likes.movie_ids,
            threshold=self.likes.threshold,
        )

    @property
    def label(self) -> str:
        """What runs on this split trained on, in words (for ``movierec runs``)."""
        return f"train split (seed {self.seed})"

    def held_out(self, part: str) -> sp.csr_matrix:
        """The likes a ranking is scored against: ``validation`` or ``test``."""
        if part not in PARTS:
            raise ParameterError(f"part={part!r} is not allowed: part must be one of {', '.join(PARTS)}")
        return self.validation if part == "validation" else self.test

    def known(self, part: str) -> sp.csr_matrix:
        """Likes never recommended when scoring ``part``: train, plus validation for the test."""
        return self.train if part == "validation" else (self.train + self.validation).tocsr()

    def sizes(self) -> pd.DataFrame:
        """Likes and users with at least one like in each part."""
        parts = {"train": self.train, "validation": self.validation, "test": self.test}
        return pd.DataFrame(
            [
                {"part": name, "likes": int(m.nnz), "users": int((np.diff(m.indptr) > 0).sum())}
                for name, m in parts.items()
            ]
        )


def split_likes(
    likes: Likes,
    seed: int = 0,
    held_out: float = HELD_OUT,
    min_likes: int = MIN_LIKES,
    data_checksum: str = "",
    store: RunStore | ResultCache | None = None,
) -> Split:
    """Split each user's likes at random into train / validation / test (seeded).

    Rule: a user with at least ``min_likes`` likes (n of them) gives
    ``max(1, round(held_out * n))`` likes to validation and as many to test, the rest to
    train (80/10/10 by default); a user with fewer likes stays in train only. The parts are
    disjoint and their sum is L. Given a run ``store`` (or a :class:`ResultCache`) and the data's
    checksum, the split is stored once in the store's cache, keyed by the data, the seed,
    ``held_out``, ``min_likes`` and the like threshold, and read back from there by every
    chapter: the runs keyed by :attr:`Split.checksum` always trained on the stored split.
    Book page: "Does it recommend well?".
    """
    if not 0 < held_out < 0.5:
        raise ParameterError(f"held_out={held_out!r} is not allowed: held_out must be in (0, 0.5)")
    if min_likes < 3:
        raise ParameterError(f"min_likes={min_likes!r} is not allowed: min_likes must be at least 3")
    matrix = sp.csr_matrix(likes.matrix)
    matrix.sort_indices()
    counts = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(matrix.shape[0]), counts)

    def assign() -> tuple[dict, dict[str, np.ndarray]]:
        keys = np.random.default_rng(seed).random(matrix.nnz)
        order = np.lexsort((keys, rows))
        rank = np.empty(matrix.nnz, dtype=np.int64)
        rank[order] = np.arange(matrix.nnz) - matrix.indptr[rows[order]]
        per_part = np.where(counts >= min_likes, np.maximum(1, np.rint(held_out * counts)), 0).astype(
            np.int64
        )[rows]
        parts = np.where(rank < per_part, 2, np.where(rank < 2 * per_part, 1, 0)).astype(np.int8)
        return {"likes": int(matrix.nnz)}, {"parts": parts}

    decides = {
        "data": data_checksum,
        "seed": int(seed),
        "held_out": float(held_out),
        "min_likes": int(min_likes),
        "threshold": float(likes.threshold),
        "shape": [int(side) for side in matrix.shape],
        "likes": int(matrix.nnz),
    }
    cache = ResultCache.beside(store) if data_checksum else None  # without the data's checksum, no key
    parts = compute_once(cache, "split", decides, assign)[1]["parts"]
    if parts.shape != (matrix.nnz,) or not np.isin(parts, (0, 1, 2)).all():
        parts = assign()[1]["parts"]  # an entry that does not fit these likes is never used

    def part(which: int) -> sp.csr_matrix:
        keep = parts == which
        return sp.csr_matrix((matrix.data[keep], (rows[keep], matrix.indices[keep])), shape=matrix.shape)

    tag = f"{data_checksum}:split:{seed}:{held_out}:{min_likes}:{likes.threshold}"
    return Split(
        train=part(0),
        validation=part(1),
        test=part(2),
        likes=likes,
        seed=int(seed),
        checksum=hashlib.sha256(tag.encode()).hexdigest(),
    )


def top_k(scores: np.ndarray, k: int, exclude: sp.spmatrix | None = None) -> np.ndarray:
    """The k highest-scoring movies per user (users x k), best first, ``exclude`` never.

    Ties go to the lower movie index. A slot with no allowed movie left holds -1.
    Book page: "Does it recommend well?".
    """
    scores = np.array(scores, dtype=np.float64)
    users, items = scores.shape
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= items:
        raise ParameterError(f"k={k!r} is not allowed: k must be an integer in [1, {items}]")
    scores[np.isnan(scores)] = -np.inf
    if exclude is not None:
        known = sp.coo_matrix(exclude)
        scores[known.row, known.col] = -np.inf
    threshold = np.partition(scores, items - k, axis=1)[:, items - k : items - k + 1]  # k-th largest
    above = scores > threshold
    ties = scores == threshold
    spare = k - above.sum(axis=1)  # slots left for the movies at the threshold: the lowest indices
    crowded = np.flatnonzero(ties.sum(axis=1) > spare)
    if len(crowded):
        kept = ties[crowded]
        kept &= np.cumsum(kept, axis=1) <= spare[crowded, None]
        ties[crowded] = kept
    chosen = np.nonzero(above | ties)[1].reshape(users, k)
    chosen_scores = np.take_along_axis(scores, chosen, axis=1)
    order = np.lexsort((chosen, -chosen_scores), axis=1)
    ranked = np.take_along_axis(chosen, order, axis=1)
    ranked[np.take_along_axis(chosen_scores, order, axis=1) == -np.inf] = -1
    return ranked


def _hits(ranked: np.ndarray, held_out: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(active users, their held-out counts, hits matrix active x k) of a ranking."""
    counts = np.diff(held_out.indptr)
    active = np.flatnonzero(counts > 0)
    ranked = ranked[active]
    k = ranked.shape[1]
    valid = ranked >= 0
    rows = np.repeat(np.arange(len(active)), k)
    hits = np.zeros(ranked.shape, dtype=bool)
    truth = held_out[active]
    hits.ravel()[valid.ravel()] = (
        np.asarray(truth[rows[valid.ravel()], ranked.ravel()[valid.ravel()]]).ravel() > 0
    )
    return active, counts[active], hits


def user_ndcg(ranked: np.ndarray, held_out: sp.spmatrix) -> np.ndarray:
    """NDCG@k of each user with held-out likes (in user order): the values the paired bootstrap
    resamples. Book page: "Does it recommend well?"."""
    _, counts, hits = _hits(ranked, sp.csr_matrix(held_out))
    k = ranked.shape[1]
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discount)[np.minimum(counts, k) - 1]
    return (hits * discount).sum(axis=1) / ideal


def user_metrics(ranked: np.ndarray, held_out: sp.spmatrix) -> dict[str, np.ndarray]:
    """HR, Recall and NDCG at k = ranked.shape[1] of each user with held-out likes (in user
    order), as :func:`ranking_metrics` averages them. Book page: "What should the embeddings fit?"."""
    _, counts, hits = _hits(ranked, sp.csr_matrix(held_out))
    n_hits = hits.sum(axis=1)
    return {
        "HR": (n_hits > 0).astype(np.float64),
        "Recall": n_hits / np.minimum(counts, ranked.shape[1]),
        "NDCG": user_ndcg(ranked, held_out),
    }


def ranking_metrics(
    ranked: np.ndarray, held_out: sp.spmatrix, n_items: int | None = None
) -> dict[str, float]:
    """HR, Recall, Precision and NDCG at k = ranked.shape[1], and catalogue coverage.

    Means over users with at least one held-out like: HR = 1 if any hit; Recall = hits /
    min(k, held-out count); Precision = hits / k; NDCG = DCG / ideal DCG with binary gains
    and discount 1/log2(rank + 1). Coverage = distinct movies recommended to those users /
    ``n_items`` (all movies by default). Book page: "Does it recommend well?".
    """
    held_out = sp.csr_matrix(held_out)
    n_items = held_out.shape[1] if n_items is None else n_items
    active, counts, hits = _hits(ranked, held_out)
    if len(active) == 0:
        return {name: float("nan") for name in METRICS}
    k = ranked.shape[1]
    n_hits = hits.sum(axis=1)
    listed = ranked[active]
    return {
        "HR": float((n_hits > 0).mean()),
        "Recall": float((n_hits / np.minimum(counts, k)).mean()),
        "Precision": float((n_hits / k).mean()),
        "NDCG": float(user_ndcg(ranked, held_out).mean()),
        "Coverage": float(len(np.unique(listed[listed >= 0])) / n_items),
    }


def mean_rows(inputs: sp.spmatrix) -> sp.csr_matrix:
    """Each user's inputs as weights 1/count (a mean); users without inputs get zeros."""
    inputs = sp.csr_matrix(inputs, dtype=np.float64)
    counts = np.diff(inputs.indptr).astype(np.float64)
    return (sp.diags(np.divide(1.0, counts, out=np.zeros_like(counts), where=counts > 0)) @ inputs).tocsr()


def cosine_scores(vectors: np.ndarray | sp.spmatrix, inputs: sp.spmatrix) -> np.ndarray:
    """The seed's rule for every user at once: mean cosine of each movie to the user's inputs.

    ``vectors`` holds one column per movie (d x n, dense or sparse); ``inputs`` is users x n
    0/1. Computed as mean(unit inputs)^T unit, in batches of users. Book page:
    "Does it recommend well?".
    """
    unit = unit_columns(vectors)
    weights = mean_rows(inputs)
    out = np.empty(weights.shape, dtype=np.float64)
    with threadpool_limits(1, "blas"):
        for start in range(0, weights.shape[0], USER_BATCH):
            block = weights[start : start + USER_BATCH]
            profile = unit @ block.T
            profile = profile.toarray() if sp.issparse(profile) else np.asarray(profile)
            out[start : start + USER_BATCH] = np.asarray(unit.T @ profile).T
    return out


def dot_scores(vectors: np.ndarray, inputs: sp.spmatrix) -> np.ndarray:
    """The dot-product rule for every user at once: the sum of the user's input vectors against
    every movie's, (inputs V^T) V, in batches of users (d x n ``vectors``, users x n 0/1
    ``inputs``). Book page: "What should the embeddings fit?"."""
    vectors = np.asarray(vectors, dtype=np.float64)
    inputs = sp.csr_matrix(inputs, dtype=np.float64)
    out = np.empty(inputs.shape, dtype=np.float64)
    with threadpool_limits(1, "blas"):
        for start in range(0, inputs.shape[0], USER_BATCH):
            out[start : start + USER_BATCH] = (inputs[start : start + USER_BATCH] @ vectors.T) @ vectors
    return out


def embedding_scores(embeddings: np.ndarray, inputs: sp.spmatrix, scoring: str = "cosine") -> np.ndarray:
    """Users x movies scores of d x n ``embeddings`` by ``scoring``: ``cosine`` (the seed's rule,
    :func:`cosine_scores`) or ``dot`` (:func:`dot_scores`). Book page: "What should the embeddings fit?"."""
    return (cosine_scores if check_scoring(scoring) == "cosine" else dot_scores)(embeddings, inputs)


def evaluate_scores(
    scores: np.ndarray, split: Split, part: str = "validation", k: int = 10
) -> dict[str, float]:
    """Metrics at ``k`` of users x movies ``scores`` on one held-out part of ``split``.

    Book page: "Does it recommend well?".
    """
    ranked = top_k(scores, k, exclude=split.known(part))
    return ranking_metrics(ranked, split.held_out(part), split.train.shape[1])


def evaluate_embeddings(
    embeddings: np.ndarray, split: Split, part: str = "validation", k: int = 10, scoring: str = "cosine"
) -> dict[str, float]:
    """Metrics of a recommendation rule (the seed's cosine, or ``scoring="dot"``) with these d x n
    embeddings (NaN if not finite).

    Book page: "Does it recommend well?".
    """
    if not np.isfinite(embeddings).all():
        return {name: float("nan") for name in METRICS}
    return evaluate_scores(embedding_scores(embeddings, split.train, scoring), split, part, k)


def tuning_configs(
    dims: Sequence[int],
    lrs: Mapping[str, Sequence[float]],
    epochs: int,
    init_std: float,
    seed: int,
    dataset: str,
    threshold: float = LIKE_THRESHOLD,
    sgd_momentum: float = SGD_MOMENTUM,
) -> list[TrainConfig]:
    """The tuning grid: every embedding size with every optimizer's learning rates (``eval_lrs``),
    on the likes at ``threshold``, SGD with ``sgd_momentum``.

    Book page: "Does it recommend well?".
    """
    return config_grid(
        lrs,
        dims,
        epochs=epochs,
        init_std=init_std,
        seed=seed,
        dataset=dataset,
        threshold=threshold,
        sgd_momentum=sgd_momentum,
    )


def tune_embeddings(
    store: RunStore, split: Split, configs: Sequence[TrainConfig], device: str = "auto", k: int = 10
) -> tuple[list[TrainResult], pd.DataFrame]:
    """Train (or reuse from ``store``) every config on the train likes; the runs and their table
    (validation metrics read from the store's cache where another page already scored a run).

    Book page: "Does it recommend well?".
    """
    results = sweep(configs, split.train_likes, split.checksum, store, device, split.label)
    return results, tuning_table(results, split, k, store)


def tuning_table(
    results: Sequence[TrainResult], split: Split, k: int = 10, store: RunStore | ResultCache | None = None
) -> pd.DataFrame:
    """One row per run trained on ``split.train``: settings, final cost, status, validation metrics
    (NaN for a diverged run: it is never chosen); with a ``store``, each run's metrics are scored
    once and kept in its cache (:func:`run_metrics`).

    Book page: "Does it recommend well?".
    """
    cache = ResultCache.beside(store)
    rows = []
    for result in results:
        if result.status == "finished":
            metrics = run_metrics(result.key, result.embeddings, split, "validation", k, "cosine", cache)
        else:
            metrics = {name: float("nan") for name in METRICS}
        rows.append(
            {
                "optimizer": result.config.optimizer,
                "dim": result.config.dim,
                "lr": result.config.lr,
                "final cost": result.final_cost,
                "status": result.status_text,
                **{f"val {name}@{k}": value for name, value in metrics.items()},
            }
        )
    return pd.DataFrame(rows)


def embeddings_digest(embeddings: np.ndarray) -> str:
    """SHA-256 of d x n embeddings as float32 (what the run store keeps), with their shape."""
    array = np.ascontiguousarray(embeddings, dtype=np.float32)
    return hashlib.sha256(repr(array.shape).encode() + array.tobytes()).hexdigest()


def run_metrics(
    run_key: str,
    embeddings: np.ndarray | Callable[[], np.ndarray],
    split: Split,
    part: str = "validation",
    k: int = 10,
    scoring: str = "cosine",
    cache: ResultCache | None = None,
) -> dict[str, float]:
    """:func:`evaluate_embeddings` of run ``run_key`` (trained on ``split``), scored once: kept in
    ``cache`` under the run's key, the split, part, k and rule, with the embeddings' digest. A
    stored entry whose digest differs from the embeddings at hand (a run trained again, rounding
    otherwise) is scored again. ``embeddings`` may be a function that produces them, called only
    when the entry is missing: a search asks for a run's score before deciding to train it."""
    decides = {"run": run_key, "split": split.checksum, "part": part, "k": int(k), "scoring": scoring}
    key = entry_key("metrics", decides)
    given = None if callable(embeddings) else np.asarray(embeddings)
    found = cache.load("metrics", key) if cache is not None else None
    if found is not None and (given is None or found[0].get("digest") == embeddings_digest(given)):
        return {name: float(value) for name, value in found[0]["metrics"].items()}
    vectors = given if given is not None else np.asarray(embeddings())
    metrics = evaluate_embeddings(vectors, split, part, k, scoring)
    if cache is not None:
        header = {"decides": decides, "digest": embeddings_digest(vectors), "metrics": metrics}
        cache.save("metrics", key, header, {})
    return metrics


def chosen_runs(results: Sequence[TrainResult], table: pd.DataFrame, k: int = 10) -> dict[str, TrainResult]:
    """Per optimizer, the run with the best validation NDCG@k (finished runs only).

    Book page: "Does it recommend well?".
    """
    column = f"val NDCG@{k}"
    chosen = {}
    for optimizer, rows in table[table[column].notna()].groupby("optimizer", sort=False):
        chosen[str(optimizer)] = results[int(rows[column].idxmax())]
    return chosen


@dataclass(frozen=True)
class Scored:
    """One method at its chosen setting: validation and test metrics, and each test user's
    NDCG (for the paired bootstrap). Book page: "Does it recommend well?"."""

    method: str
    setting: str
    validation: dict[str, float]
    test: dict[str, float]
    test_ndcg: np.ndarray
    ranked_test: np.ndarray

    def test_at(self, k: int, split: Split) -> dict[str, float]:
        """Test metrics of the same ranking cut at another ``k`` (up to the depth it was ranked to)."""
        if not 1 <= k <= self.ranked_test.shape[1]:
            depth = self.ranked_test.shape[1]
            raise ParameterError(f"k={k!r} is not allowed: the ranking is {depth} deep, use 1 to {depth}")
        return ranking_metrics(self.ranked_test[:, :k], split.test, split.train.shape[1])

    def row(self, k: int) -> dict[str, Any]:
        """The method's line in :func:`methods_table`."""
        return {
            "method": self.method,
            "setting": self.setting,
            f"val NDCG@{k}": self.validation["NDCG"],
            **{f"test {name}@{k}": value for name, value in self.test.items()},
        }


def score_method(method: str, setting: str, scores: np.ndarray, split: Split, k: int = 10) -> Scored:
    """Rank with users x movies ``scores`` and score the lists on validation and test; the test
    ranking is kept to depth ``max(k, RANK_DEPTH)`` so that other list lengths can be scored."""
    ranked_test = top_k(scores, max(k, min(RANK_DEPTH, scores.shape[1])), exclude=split.known("test"))
    return Scored(
        method=method,
        setting=setting,
        validation=evaluate_scores(scores, split, "validation", k),
        test=ranking_metrics(ranked_test[:, :k], split.test, split.train.shape[1]),
        test_ndcg=user_ndcg(ranked_test[:, :k], split.test),
        ranked_test=ranked_test,
    )


def embedding_methods(
    chosen: dict[str, TrainResult], split: Split, k: int = 10, scoring: str = "cosine"
) -> list[Scored]:
    """The tuned embeddings as methods: each optimizer's chosen run, scored by the seed's rule
    (or ``scoring="dot"``).

    Book page: "Does it recommend well?".
    """
    return [
        score_method(
            f"embeddings ({optimizer})",
            f"d={result.config.dim}, lr={format_lr(result.config.lr)}",
            embedding_scores(result.embeddings, split.train, scoring),
            split,
            k,
        )
        for optimizer, result in chosen.items()
    ]


def methods_table(methods: Sequence[Scored], k: int = 10, short: bool = False) -> pd.DataFrame:
    """Every method's setting, validation NDCG@k and test metrics, one row each, best test NDCG
    first; ``short`` names the test columns by their metric alone and the validation column
    ``val NDCG`` (for a table whose caption says they are at k).

    Book page: "Does it recommend well?".
    """
    table = pd.DataFrame([method.row(k) for method in methods])
    table = table.sort_values(f"test NDCG@{k}", ascending=False, kind="stable").reset_index(drop=True)
    if short:
        table = table.rename(
            columns={f"test {name}@{k}": name for name in METRICS} | {f"val NDCG@{k}": "val NDCG"}
        )
    return table


def paired_bootstrap(methods: Sequence[Scored], samples: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Each method's test NDCG minus the best method's, with a paired bootstrap 95% interval.

    Users are resampled with replacement ``samples`` times; the same resample is applied to
    both methods, so the interval reflects how much the gap depends on which users happened
    to be in the test set. The best method's own row is 0 with no interval.
    Book page: "Does it recommend well?".
    """
    if samples < 100:
        raise ParameterError(f"samples={samples!r} is not allowed: use at least 100 bootstrap resamples")
    best = max(methods, key=lambda method: method.test_ndcg.mean())
    users = len(best.test_ndcg)
    draws = np.random.default_rng(seed).integers(0, users, size=(samples, users))
    rows = []
    for method in methods:
        gap = method.test_ndcg - best.test_ndcg
        means = gap[draws].mean(axis=1)
        low, high = np.percentile(means, [2.5, 97.5]) if method is not best else (math.nan, math.nan)
        rows.append(
            {
                "method": method.method,
                "test NDCG": float(method.test_ndcg.mean()),
                "minus best": float(gap.mean()),
                "95% low": float(low),
                "95% high": float(high),
            }
        )
    return pd.DataFrame(rows).sort_values("test NDCG", ascending=False, kind="stable").reset_index(drop=True)


def fit_check(
    embeddings: np.ndarray, colikes: sp.spmatrix, zeros: int = 100_000, seed: int = 0
) -> dict[str, float]:
    """Pearson r between v_i^T v_j and X_ij over X's non-zeros, and over a seeded sample of its zeros.

    Each pair i < j once. The second number shows whether pairs nobody co-likes are
    pushed to 0 (r near 0 there is good: their X is constant). Book page: "Does it recommend well?".
    """
    X = sp.triu(sp.coo_matrix(colikes), k=1).tocsr()
    X.sort_indices()
    V = np.asarray(embeddings, dtype=np.float64)
    values = X.data.astype(np.float64)
    fitted = np.empty(X.nnz)
    for start in range(0, X.shape[0], FIT_BLOCK):  # v_i^T v_j for a block of rows i, as one product
        stop = min(start + FIT_BLOCK, X.shape[0])
        low, high = X.indptr[start], X.indptr[stop]
        if low == high:
            continue
        rows = np.repeat(np.arange(stop - start), np.diff(X.indptr[start : stop + 1]))
        block = V[:, start:stop].T @ V[:, start:]  # pairs j >= start only: X's upper triangle
        fitted[low:high] = block[rows, X.indices[low:high] - start]
    n = X.shape[0]
    rng = np.random.default_rng(seed)
    pairs = rng.integers(0, n, size=(3 * zeros, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    is_zero = np.asarray(sp.csr_matrix(colikes)[pairs[:, 0], pairs[:, 1]]).ravel() == 0
    pairs = pairs[is_zero][:zeros]
    zero_fit = np.einsum("di,di->i", V[:, pairs[:, 0]], V[:, pairs[:, 1]])
    return {
        "r, co-liked": float(np.corrcoef(fitted, values)[0, 1]),
        "co-liked pairs": int(len(values)),
        "mean fit, zeros": float(zero_fit.mean()),
        "r, with zeros": float(
            np.corrcoef(np.r_[fitted, zero_fit], np.r_[values, np.zeros(len(zero_fit))])[0, 1]
        ),
        "zero pairs": int(len(zero_fit)),
    }
