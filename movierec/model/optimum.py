"""The lowest cost eigen-alternation finds for a d-dimensional embedding, and the SGD
learning-rate bound.

Eigen-alternation: c(V) = ||V^T V - (X + diag(s))||^2 - (diagonal terms) where s_i =
||v_i||^2 is free, so with s fixed the best V is the top-d eigenpairs of X + diag(s)
(negative eigenvalues clipped to 0, Eckart-Young); then s is reset to diag(V^T V). Each
step cannot raise c, so the cost falls to a fixed point: the lowest cost this method finds,
not a proven lower bound on c. Book page: "How good can the fit get?"
(notebooks/07_fit_limits.ipynb).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from scipy.sparse.linalg import LinearOperator, eigsh
from threadpoolctl import threadpool_limits

from ..data import LIKE_THRESHOLD, Likes, as_csr
from ..errors import ParameterError
from .cost import CoLikeCost, target_factor
from .train import SGD_MOMENTUM, TrainConfig, TrainResult, config_grid, initial_embeddings, train

TOLERANCE = 1e-5
MAX_ITERATIONS = 50


@dataclass(frozen=True)
class Optimum:
    """The eigen-alternation's result: the lowest cost it found, its share of ||X||^2 (||K||^2
    for another ``target``), the d x n embeddings V* that reach it. No proof that no V costs
    less: a fixed point of the alternation."""

    cost: float
    x_norm2: int | float
    embeddings: np.ndarray
    history: list[float]
    seconds: float
    target: str = "colikes"

    @property
    def fraction(self) -> float:
        """c / ||X||^2: the share of the co-likes the fit found leaves unexplained."""
        return self.cost / self.x_norm2

    @property
    def iterations(self) -> int:
        return len(self.history)


def _shifted_gram(
    matrix: sp.csr_matrix, shift: np.ndarray, mixing: np.ndarray | None = None
) -> LinearOperator:
    """x -> (F^T F + diag(shift)) x without forming F^T F, for F = L (far fewer non-zeros than X)
    or F = C A (a target's factor: A sparse, C r x users)."""
    transposed = matrix.T.tocsr()

    def apply(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        side = matrix @ x if mixing is None else mixing.T @ (mixing @ (matrix @ x))
        return transposed @ side + (shift * x if x.ndim == 1 else shift[:, None] * x)

    n = matrix.shape[1]
    return LinearOperator((n, n), matvec=apply, matmat=apply, dtype=np.float64)


def best_cost(
    likes: Likes | sp.spmatrix,
    dim: int,
    tol: float = TOLERANCE,
    max_iterations: int = MAX_ITERATIONS,
    cost: CoLikeCost | None = None,
    target: str = "colikes",
    ridge: float | None = None,
) -> Optimum:
    """The lowest c(V) eigen-alternation finds at size ``dim``, alternating until c falls by less
    than ``tol`` (relative); a fixed point of the alternation, not a proven lower bound.

    X + diag(s) = L^T L + diag(s - D) is applied through L (any ``target``: K + diag(s) =
    F^T F + diag(s - k) through its factor F); movies no one co-likes keep v_i = 0 (their row
    of K is 0 for every target). ``eigsh`` is warm-started from the previous solution. The
    cost is evaluated exactly with :class:`~movierec.model.cost.CoLikeCost` (float64).
    Book pages: "How good can the fit get?", "What should the embeddings fit?".
    """
    matrix = as_csr(likes, np.float64)
    n = matrix.shape[1]
    cost = cost or CoLikeCost(matrix, "cpu", torch.float64, target, ridge)
    colikes_per_movie = (
        np.asarray(matrix.T @ (matrix @ np.ones(n)), dtype=np.float64)
        - np.asarray(matrix.sum(axis=0)).ravel()
    )
    active = np.flatnonzero(colikes_per_movie > 0)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool) or not 1 <= dim < len(active):
        raise ParameterError(
            f"dim={dim!r} is not allowed: dim must be an integer in [1, {len(active) - 1}] "
            f"(fewer than the {len(active):,} co-liked movies)"
        )
    factor = target_factor(matrix, target, ridge)
    sub = factor.likes[:, active].tocsr()
    counts = factor.diagonal[active]
    start = time.perf_counter()
    norms = np.zeros(len(active))
    v0 = None
    history: list[float] = []
    best: np.ndarray | None = None
    for _ in range(max_iterations):
        with threadpool_limits(1, "blas"):
            operator = _shifted_gram(sub, norms - counts, factor.mixing)
            values, vectors = eigsh(operator, k=dim, which="LA", v0=v0)
        values = np.clip(values, 0.0, None)
        V = np.zeros((dim, n))
        V[:, active] = (vectors * np.sqrt(values)).T
        value = cost.value(torch.from_numpy(V).to(cost.dtype))
        if history and value > history[-1] * (1 - tol):
            if value < history[-1]:
                history.append(value)
                best = V
            break
        history.append(value)
        best = V
        norms = np.square(V[:, active]).sum(axis=0)
        v0 = vectors @ np.sqrt(values)
        if not v0.any():
            break
    return Optimum(
        cost=history[-1],
        x_norm2=cost.x_norm2,
        embeddings=best.astype(np.float32),
        history=history,
        seconds=time.perf_counter() - start,
        target=target,
    )


def _extreme_eigenvalue(likes: Likes | sp.spmatrix, which: str, target: str, ridge: float | None) -> float:
    factor = target_factor(as_csr(likes, np.float64), target, ridge)
    operator = _shifted_gram(factor.likes, -factor.diagonal, factor.mixing)
    start = np.random.default_rng(0).standard_normal(operator.shape[0])
    return float(eigsh(operator, k=1, which=which, v0=start, return_eigenvectors=False)[0])


def lambda_max(likes: Likes | sp.spmatrix, target: str = "colikes", ridge: float | None = None) -> float:
    """The largest eigenvalue of X = offdiag(L^T L), or of another ``target``'s K.

    Lanczos starts from a seeded vector, so the same likes give the same digits every time.
    Book pages: "How good can the fit get?", "What should the embeddings fit?".
    """
    return _extreme_eigenvalue(likes, "LA", target, ridge)


def lambda_min(likes: Likes | sp.spmatrix, target: str = "colikes", ridge: float | None = None) -> float:
    """The smallest eigenvalue of X = offdiag(L^T L) (negative: X has a zero diagonal, so its
    eigenvalues sum to 0), or of another ``target``'s K. Book page: "How good can the fit get?"."""
    return _extreme_eigenvalue(likes, "SA", target, ridge)


def stable_sgd_rate(
    likes: Likes | sp.spmatrix,
    target: str = "colikes",
    ridge: float | None = None,
    init_std: float | None = None,
    momentum: float = SGD_MOMENTUM,
) -> float:
    """SGD's (heavy ball, ``momentum`` beta) largest stable learning rate at the optimum,
    2 (1 + beta) / (8 lambda_max(K)), and, given ``init_std`` (sigma), also at the initial V: the
    curvature there is about 12 n sigma^2.

    The path to the optimum is steeper still (about twice, for X), so runs use a fraction of it.
    Book page: "What should the embeddings fit?".
    """
    curvature = 8 * lambda_max(likes, target, ridge)
    if init_std is not None:
        curvature = max(curvature, 12 * as_csr(likes).shape[1] * init_std**2)
    return heavy_ball_bound(curvature, momentum)


def _hessian_operator(matrix: sp.csr_matrix, V: np.ndarray):
    transposed = matrix.T.tocsr()
    diagonal = np.asarray(matrix.sum(axis=0)).ravel() - np.einsum("di,di->i", V, V)
    gram = V @ V.T

    def apply(E: np.ndarray) -> np.ndarray:
        mixed = V @ E.T
        result = (mixed + mixed.T) @ V + gram @ E - (transposed @ (matrix @ E.T)).T
        return 4 * (result + E * diagonal - 2 * V * np.einsum("di,di->i", V, E))

    return apply


def hessian_product(likes: Likes | sp.spmatrix, embeddings: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """The Hessian of c at V (d x n) applied to a direction E (d x n), exactly, in float64.

    Differentiating grad = 4 [(V V^T) V - (V L^T) L + V diag(D - s)] along E gives
    4 [(E V^T + V E^T) V + (V V^T) E - (E L^T) L + E diag(D - s) - 2 V diag(<v_i, e_i>)].
    Book page: "How good can the fit get?".
    """
    V = np.asarray(embeddings, dtype=np.float64)
    return _hessian_operator(as_csr(likes, np.float64), V)(np.asarray(direction, dtype=np.float64))


def hessian_top_eigenvalue(
    likes: Likes | sp.spmatrix, embeddings: np.ndarray, tol: float = 1e-4, which: str = "LA"
) -> float:
    """The largest eigenvalue of the Hessian of c at V (d x n) (``which="SA"``: the smallest), by
    ``eigsh`` on exact Hessian-vector products. Book page: "How good can the fit get?"."""
    V = np.asarray(embeddings, dtype=np.float64)
    apply = _hessian_operator(as_csr(likes, np.float64), V)
    size = V.size
    operator = LinearOperator(
        (size, size), matvec=lambda x: apply(np.asarray(x).reshape(V.shape)).ravel(), dtype=np.float64
    )
    v0 = np.random.default_rng(0).standard_normal(size)
    with threadpool_limits(1, "blas"):
        return float(eigsh(operator, k=1, which=which, tol=tol, v0=v0, return_eigenvectors=False)[0])


def heavy_ball_bound(curvature: float, momentum: float = SGD_MOMENTUM) -> float:
    """The largest stable learning rate of SGD with momentum beta on curvature h: 2(1 + beta) / h.

    Heavy ball on a quadratic is stable iff 0 < lr h < 2 (1 + beta). Book page: "How good can the fit get?".
    """
    return 2 * (1 + momentum) / curvature


def sgd_stability(likes: Likes | sp.spmatrix, config: TrainConfig, optimum: Optimum) -> pd.DataFrame:
    """Curvatures of c and the SGD (heavy ball, the config's momentum) learning-rate bound each
    positive one implies.

    Rows: at the origin the Hessian is -4 X in each row of V (so one row measures it): its
    lowest eigenvalue -4 lambda_max(X) is negative (V grows along X's top eigenvectors at rate
    4 lr lambda_max: no bound), its highest -4 lambda_min(X) is positive (X's diagonal is zero,
    so it has negative eigenvalues); at the initial V (about 12 n std^2); at the lowest-cost V*
    eigen-alternation found (about 8 lambda_max: along v_1 = sqrt(lambda_1) q_1 the Gauss-Newton
    term is 2 ||2 sqrt(lambda_1) q_1 q_1^T||^2 = 8 lambda_1). "measured" is the Hessian's
    eigenvalue by Lanczos on exact Hessian-vector products. ``config`` gives the initial V; a
    config without momentum (not SGD) is judged with SGD's 0.9. Book page: "How good can the fit get?".
    """
    momentum = SGD_MOMENTUM if config.momentum is None else config.momentum
    matrix = as_csr(likes, np.float64)
    top, bottom = lambda_max(matrix), lambda_min(matrix)
    n, std = matrix.shape[1], config.init_std
    origin = np.zeros((1, n))
    init = initial_embeddings(config, n).numpy()
    rows = [
        (
            "origin V = 0, lowest",
            "-4 lambda_max(X)",
            -4 * top,
            hessian_top_eigenvalue(matrix, origin, which="SA"),
        ),
        ("origin V = 0, highest", "-4 lambda_min(X)", -4 * bottom, hessian_top_eigenvalue(matrix, origin)),
        (f"initial V (std {std:g})", "12 n std^2", 12 * n * std**2, hessian_top_eigenvalue(matrix, init)),
        (
            f"lowest found V* (d = {optimum.embeddings.shape[0]})",
            "8 lambda_max(X)",
            8 * top,
            hessian_top_eigenvalue(matrix, optimum.embeddings),
        ),
    ]
    return pd.DataFrame(
        [
            {
                "where": where,
                "formula": formula,
                "by formula": estimate,
                "measured": measured,
                "largest stable lr": heavy_ball_bound(measured, momentum) if measured > 0 else math.inf,
            }
            for where, formula, estimate, measured in rows
        ]
    )


def stability_configs(
    lrs: Sequence[float],
    dim: int,
    epochs: int,
    init_std: float,
    seed: int,
    dataset: str,
    sgd_momentum: float = SGD_MOMENTUM,
    threshold: float = LIKE_THRESHOLD,
) -> list[TrainConfig]:
    """SGD (heavy ball, ``sgd_momentum``) runs on all the likes (ratings >= ``threshold``) at
    each learning rate, largest first.

    Book page: "How good can the fit get?".
    """
    return config_grid(
        {"sgd": sorted(lrs, reverse=True)},
        [dim],
        sgd_momentum,
        epochs=epochs,
        init_std=init_std,
        seed=seed,
        dataset=dataset,
        threshold=threshold,
    )


def observed_stability(results: Sequence[TrainResult], bound: float, optimum_cost: float) -> pd.DataFrame:
    """SGD runs beside the predicted bound: lr, lr / bound, predicted, observed, final cost
    against the lowest cost found (``optimum_cost``). Book page: "How good can the fit get?"."""
    return pd.DataFrame(
        [
            {
                "lr": r.config.lr,
                "lr / bound": r.config.lr / bound,
                "predicted": "stable" if r.config.lr < bound else "unstable",
                "observed": r.status_text,
                "final cost": r.final_cost,
                "final / lowest found": r.final_cost / optimum_cost,
            }
            for r in sorted(results, key=lambda r: -r.config.lr)
        ]
    )


def optimum_table(optimum: Optimum) -> pd.DataFrame:
    """The lowest cost eigen-alternation found, its share of ||X||^2, rounds and seconds, as a
    one-row table.

    Book page: "How good can the fit get?".
    """
    return pd.DataFrame(
        [
            {
                "d": optimum.embeddings.shape[0],
                "lowest cost found": optimum.cost,
                "||X||^2": optimum.x_norm2,
                "share of ||X||^2": optimum.fraction,
                "rounds": optimum.iterations,
                "seconds": optimum.seconds,
            }
        ]
    )


def path_curvature(likes: Likes | sp.spmatrix, config: TrainConfig, epochs: Sequence[int]) -> pd.DataFrame:
    """The Hessian's largest eigenvalue after each of ``epochs`` epochs of ``config``'s run,
    and the SGD bound it implies: training passes through steeper places than the optimum.

    Book page: "How good can the fit get?".
    """
    momentum = SGD_MOMENTUM if config.momentum is None else config.momentum
    rows = []
    for count in epochs:
        run = train(likes, dataclasses.replace(config, epochs=count), device="cpu")
        curvature = hessian_top_eigenvalue(likes, run.embeddings, tol=1e-3)
        rows.append(
            {
                "epoch": count,
                "cost": run.final_cost,
                "top Hessian eigenvalue": curvature,
                "largest stable lr": heavy_ball_bound(curvature, momentum),
            }
        )
    return pd.DataFrame(rows)
