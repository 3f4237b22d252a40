"""The cost c(V) = sum_{i != j} (v_i^T v_j - K_ij)^2 for each target K, exact and fast.

V is d x n: column i is the embedding of movie i, as in the seed notebook. Every target
has the form K = offdiag(A^T W A) = offdiag(F^T F), F = C A: A is L times a column scaling
and W = C^T C a users x users weighting. The seed's co-likes X = L^T L (A = L, W = I), their
cosine normalisation X_ij / sqrt(D_i D_j) (A = L diag(D)^-1/2, W = I) and the ridge-whitened
co-occurrence offdiag(L^T (L L^T + lambda I)^-1 L) (A = L, C = diag(sigma^2 + lambda)^-1/2 U^T
from the SVD L = U diag(sigma) Q^T). With k = diag(F^T F) (the like counts D for X),
expanding the square gives, exactly,

    c(V) = ||V V^T||^2 - sum_i s_i^2 - 2 (||V F^T||^2 - sum_i k_i s_i) + ||K||^2,
    grad = 4 [(V V^T) V - (V F^T) F + V diag(k) - V diag(s)],     s_i = ||v_i||^2,

which needs only d x d, sparse and rows x users products: never an n x n matrix when d < n.

Book pages: "The model" (notebooks/02_model.ipynb) and "What should the embeddings fit?"
(notebooks/08_targets.ipynb).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
import torch
from threadpoolctl import threadpool_limits

from ..data import Likes, as_csr
from ..errors import ParameterError
from .kernels import gram_matrix, gram_product

GRAM_BLOCK_ENTRIES = 1 << 23
TARGETS = ("colikes", "cosine", "whitened")
EXACT_WHITENING_SIDE = 4096  # eigendecompose L L^T (or L^T L) exactly up to this size
WHITENED_RANK = 1024  # rank of the randomized SVD of L beyond it
RANDOMIZED_ITERATIONS = 7
DIAGONAL_BLOCK = 4096  # movies per block when summing the whitened diagonal


def colike_norm2(likes: Likes | sp.spmatrix) -> int:
    """||X||_F^2 for X = offdiag(L^T L), exactly in integers, without forming X.

    ||L^T L||^2 = ||L L^T||^2, so the Gram matrix of the shorter side is summed in row blocks
    (:func:`gram_norm2`); the diagonal's share, sum_i D_i^2, is then removed.
    """
    matrix = as_csr(likes, np.int32)
    counts = np.asarray(matrix.sum(axis=0), dtype=np.int64).ravel()
    return gram_norm2(matrix) - int(np.square(counts).sum())


def gram_norm2(matrix: sp.csr_matrix) -> int | float:
    """||M^T M||_F^2 = ||M M^T||_F^2 of a sparse matrix, without forming either product in full.

    The Gram matrix G of the shorter side is summed in row blocks whose heights keep each
    block under GRAM_BLOCK_ENTRIES entries (a bound from the row sums), so memory stays flat
    at any scale. Integer matrices give an exact int, others a float64 sum.
    """
    exact = np.issubdtype(matrix.dtype, np.integer)
    side = matrix.T.tocsr() if matrix.shape[0] > matrix.shape[1] else matrix
    side_t = side.T.tocsr()
    pattern = sp.csr_matrix((np.ones(side.nnz, dtype=np.int64), side.indices, side.indptr), shape=side.shape)
    # a bound on the non-zeros of each row of G, from the pattern
    reach = np.minimum(pattern @ np.diff(side_t.indptr).astype(np.int64), side.shape[0])
    bounds = np.cumsum(reach)
    total, start = 0 if exact else 0.0, 0
    while start < side.shape[0]:
        limit = (bounds[start - 1] if start else 0) + GRAM_BLOCK_ENTRIES
        stop = max(start + 1, int(np.searchsorted(bounds, limit, side="right")))
        block = (side[start:stop] @ side_t).data
        if exact:
            total += int(np.square(block, dtype=np.int64).sum())
        else:
            total += float(np.square(block, dtype=np.float64).sum())
        start = stop
    return total


def check_target(target: str, ridge: float | None) -> float | None:
    """The checked ridge of ``target`` (None unless whitened), or a :class:`ParameterError`.

    ``ridge`` is lambda of the whitened target and means nothing for the others, so it must
    be None there; the whitened target has no default lambda (it is chosen on validation).
    Book page: "What should the embeddings fit?".
    """
    if target not in TARGETS:
        raise ParameterError(f"target={target!r} is not allowed: target must be one of {', '.join(TARGETS)}")
    if target != "whitened":
        if ridge is not None:
            raise ParameterError(
                f"ridge={ridge!r} is not allowed with target={target!r}: the ridge lambda belongs to "
                f'target="whitened"; leave ridge unset (None) for {target}'
            )
        return None
    if ridge is None:
        raise ParameterError(
            'ridge is required with target="whitened": pass ridge=lambda > 0, the lambda of '
            "(L L^T + lambda I)^-1 (choose it on validation, as EASE's; e.g. ridge=300)"
        )
    if isinstance(ridge, bool) or not isinstance(ridge, (int, float, np.integer, np.floating)):
        raise ParameterError(f"ridge={ridge!r} is not allowed: ridge must be a positive number")
    if not 0 < float(ridge) < math.inf:
        raise ParameterError(f"ridge={ridge!r} is not allowed: ridge must be a positive, finite number")
    return float(ridge)


@dataclass(frozen=True)
class TargetFactor:
    """A target as K = offdiag(F^T F) with F = C A: the factor's parts, k = diag(F^T F), ||K||_F^2.

    ``likes`` is A, L times a column scaling (users x n, sparse); ``mixing`` is C (r x users,
    dense) with C^T C = W, the users x users weighting, or None for W = I (colikes, cosine).
    So K = offdiag(A^T W A) and the cost's factor products stay sparse plus r x users.
    ``error_bound`` bounds ||K - K_F||_F / ||K_F||_F, the relative Frobenius error of the K
    this factor gives against the exact target (0 when exact; a truncated randomized SVD of
    large likes leaves out part of the spectrum). Book page: "What should the embeddings fit?".
    """

    target: str
    ridge: float | None
    likes: sp.csr_matrix
    mixing: np.ndarray | None
    diagonal: np.ndarray
    norm2: int | float
    error_bound: float = 0.0

    @property
    def rank(self) -> int:
        """Rows of F: the users for colikes and cosine, the singular values kept for whitened."""
        return self.likes.shape[0] if self.mixing is None else self.mixing.shape[0]

    def apply(self, x: np.ndarray) -> np.ndarray:
        """F x (x: n or n x m)."""
        side = self.likes @ x
        return side if self.mixing is None else self.mixing @ side

    def dense(self) -> np.ndarray:
        """F as a dense rows x n array (tests and small data)."""
        scaled = self.likes.toarray()
        return scaled if self.mixing is None else self.mixing @ scaled


def target_factor(
    likes: Likes | sp.spmatrix,
    target: str = "colikes",
    ridge: float | None = None,
    rank: int | None = None,
    seed: int = 0,
) -> TargetFactor:
    """The factor of ``target`` for these likes (see :class:`TargetFactor`).

    colikes: F = L as given, k = D, ||X||^2 exact. cosine: F = L diag(D)^-1/2 (movies no one
    likes keep a zero column). whitened: with L = U diag(sigma) Q^T (thin SVD),
    F = diag(sigma^2 + lambda)^-1/2 U^T L, so F^T F = L^T (L L^T + lambda I)^-1 L exactly and
    F F^T = diag(w), w = sigma^2 / (sigma^2 + lambda); the shorter side's Gram matrix is
    eigendecomposed. With ``rank`` given, or when both sides of L exceed EXACT_WHITENING_SIDE,
    a randomized SVD of L (``seed``) keeps the top ``rank`` (default WHITENED_RANK) singular
    values and the result states its error bound. Book page: "What should the embeddings fit?".
    """
    ridge = check_target(target, ridge)
    matrix = as_csr(likes)
    if target == "colikes":
        counts = np.asarray(matrix.sum(axis=0)).ravel()
        return TargetFactor(target, None, matrix, None, counts, colike_norm2(matrix))
    matrix = as_csr(matrix, np.float64)
    if target == "cosine":
        counts = np.asarray(matrix.sum(axis=0)).ravel()
        scale = np.divide(1.0, np.sqrt(counts), out=np.zeros_like(counts), where=counts > 0)
        scaled = (matrix @ sp.diags(scale)).tocsr()
        diagonal = np.asarray(scaled.multiply(scaled).sum(axis=0)).ravel()
        norm2 = gram_norm2(scaled) - float(np.square(diagonal).sum())
        return TargetFactor(target, None, scaled, None, diagonal, norm2)
    if rank is not None and (isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or rank < 1):
        raise ParameterError(f"rank={rank!r} is not allowed: rank must be an integer >= 1 (or None: exact)")
    if rank is None and min(matrix.shape) <= EXACT_WHITENING_SIDE:
        sigma2, left = _exact_singular_pairs(matrix)
        return _whitened(matrix, sigma2, left, ridge)
    return _randomized_whitening(matrix, ridge, rank or WHITENED_RANK, seed)


def _exact_singular_pairs(matrix: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """sigma^2 (> 0, largest first) and the left singular vectors U of L, from the
    eigendecomposition of the shorter side's Gram matrix (U = L Q / sigma when L is tall)."""
    users_side = matrix.shape[0] <= matrix.shape[1]
    gram = (matrix @ matrix.T if users_side else matrix.T @ matrix).toarray()
    with threadpool_limits(1, "blas"):
        sigma2, vectors = np.linalg.eigh(gram)
    keep = sigma2 > sigma2.max(initial=0.0) * gram.shape[0] * np.finfo(np.float64).eps
    sigma2, vectors = sigma2[keep][::-1], vectors[:, keep][:, ::-1]
    left = vectors if users_side else np.asarray(matrix @ vectors) / np.sqrt(sigma2)
    return sigma2, left


def _whitened(matrix: sp.csr_matrix, sigma2: np.ndarray, left: np.ndarray, ridge: float) -> TargetFactor:
    """The whitened factor C = diag(sigma^2 + lambda)^-1/2 U^T over A = L; k is summed over
    blocks of movies (C A in full would be r x n)."""
    mixing = left.T / np.sqrt(sigma2 + ridge)[:, None]
    diagonal = np.concatenate(
        [
            np.square(mixing @ matrix[:, start : start + DIAGONAL_BLOCK].toarray()).sum(axis=0)
            for start in range(0, matrix.shape[1], DIAGONAL_BLOCK)
        ]
    )
    norm2 = float(np.square(sigma2 / (sigma2 + ridge)).sum() - np.square(diagonal).sum())
    return TargetFactor("whitened", ridge, matrix, mixing, diagonal, norm2)


def _randomized_whitening(matrix: sp.csr_matrix, ridge: float, rank: int, seed: int) -> TargetFactor:
    """Whitened factor from the top ``rank`` singular triplets of L, with its error bound, stated
    in a warning.

    The computed sigma are those of a projection of L, so they interlace below the true
    ones: the spectrum left out holds at most ||L||^2 - sum sigma^2, and since
    w <= min(1, sigma^2 / lambda) its share of ||K||^2 is at most that over lambda. (On
    ml-latest-small at lambda = 300 the bound is 4 to 9 times the measured error: 0.84 against
    0.19 at rank 256, 0.22 against 0.023 at rank 512.)
    """
    from sklearn.utils.extmath import randomized_svd

    rank = min(rank, *matrix.shape)
    left, sigma, _ = randomized_svd(matrix, rank, n_iter=RANDOMIZED_ITERATIONS, random_state=seed)
    sigma2 = np.square(sigma)
    tail = max(float(matrix.multiply(matrix).sum()) - float(sigma2.sum()), 0.0) / ridge
    kept = _whitened(matrix, sigma2, left, ridge)
    bound = math.sqrt(tail / kept.norm2) if kept.norm2 > 0 else math.inf
    warnings.warn(
        f"whitened target from a rank-{rank} randomized SVD of the {matrix.shape[0]:,} x "
        f"{matrix.shape[1]:,} likes: the relative Frobenius error of K is at most {bound:.1%} "
        f"(exact when users or movies number at most {EXACT_WHITENING_SIDE:,})",
        UserWarning,
        stacklevel=3,
    )
    return replace(kept, error_bound=bound)


def dense_target(
    likes: Likes | sp.spmatrix, target: str = "colikes", ridge: float | None = None
) -> np.ndarray:
    """K itself, n x n float64, straight from its definition (zero diagonal): for tests and
    small data only, the reference the factored cost is held to."""
    ridge = check_target(target, ridge)
    L = as_csr(likes, np.float64).toarray()
    X = L.T @ L
    if target == "cosine":
        counts = np.diag(X).copy()
        scale = np.divide(1.0, np.sqrt(counts), out=np.zeros_like(counts), where=counts > 0)
        X = scale[:, None] * X * scale[None, :]
    elif target == "whitened":
        X = L.T @ np.linalg.solve(L @ L.T + ridge * np.eye(L.shape[0]), L)
    np.fill_diagonal(X, 0.0)
    return X


def to_torch_csr(matrix: sp.spmatrix, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """A scipy matrix as a torch sparse CSR tensor on ``device`` (beta-API warning muted).

    Indices are int32 when they fit: half the index traffic of the memory-bound products.
    Values go through float32 unless ``dtype`` is float64 (0/1 likes are exact either way).
    """
    csr = sp.csr_matrix(matrix)
    index = (
        np.int32 if csr.nnz < np.iinfo(np.int32).max and max(csr.shape) < np.iinfo(np.int32).max else np.int64
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            torch.from_numpy(csr.indptr.astype(index)),
            torch.from_numpy(csr.indices.astype(index)),
            torch.from_numpy(csr.data.astype(np.float64 if dtype == torch.float64 else np.float32)),
            size=csr.shape,
            check_invariants=False,
        ).to(device=device, dtype=dtype)


def accumulation_dtype(device: torch.device) -> torch.dtype:
    """float64 for the cost's sums wherever the device has it (MPS has no float64)."""
    return torch.float32 if device.type == "mps" else torch.float64


class CoLikeCost:
    """c(V) and its exact gradient for one likes matrix and target, on one device and dtype.

    Build once per data set and target; :meth:`value_and_grad` then costs
    O(n d^2 + nnz(L) d + r users d). ``likes`` holds A (L itself for the default colikes
    target) and ``mixing`` C (None but for whitened; see :func:`target_factor`),
    ``like_counts`` the diagonal k of F^T F (the like counts D for colikes) and ``x_norm2``
    ||K||^2 (||X||^2). The factor's side of the cost
    (||V F^T||^2 and (V F^T) F, sums over its rows: the users for colikes and cosine) goes
    through :meth:`user_norm2` and :meth:`user_gradient`, so that a subclass can hold only
    some rows and add the other processes' shares (:mod:`movierec.model.distributed`);
    ``like_counts`` and ``x_norm2`` are always those of all rows.
    Book pages: "The model", "What should the embeddings fit?".
    """

    mixing: torch.Tensor | None = None  # C; a subclass that sets up its own factor keeps W = I

    def __init__(
        self,
        likes: Likes | sp.spmatrix,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        target: str = "colikes",
        ridge: float | None = None,
    ):
        matrix = as_csr(likes)
        self.device = torch.device(device)
        self.dtype = dtype
        self.target, self.ridge = target, check_target(target, ridge)
        self.n_users, self.n_movies = matrix.shape
        factor = target_factor(matrix, target, self.ridge)
        self.likes = to_torch_csr(factor.likes, self.device, dtype)
        self.likes_t = to_torch_csr(factor.likes.T, self.device, dtype)
        self.mixing = (
            None if factor.mixing is None else torch.as_tensor(factor.mixing, dtype=dtype, device=self.device)
        )
        self.like_counts = torch.as_tensor(factor.diagonal, dtype=dtype, device=self.device)
        self.x_norm2 = factor.norm2
        self.acc = accumulation_dtype(self.device)

    def _check(self, V: torch.Tensor) -> None:
        if V.ndim != 2 or V.shape[1] != self.n_movies:
            raise ValueError(f"V must be d x {self.n_movies} (one column per movie), got {tuple(V.shape)}")

    def user_norm2(self, user_side: torch.Tensor) -> torch.Tensor:
        """||V F^T||^2 from ``user_side`` = F V^T (rows x d; F = L for colikes), summed in the
        accumulation dtype."""
        return user_side.square().sum(dtype=self.acc)

    def user_gradient(self, user_side: torch.Tensor) -> torch.Tensor:
        """(V F^T) F as movies x d rows: F^T (F V^T) = A^T C^T (F V^T)."""
        return self.likes_t @ (user_side if self.mixing is None else self.mixing.mT @ user_side)

    def _forward(
        self, V: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """c(V) and the pieces its gradient reuses: rows (n x d), V V^T, s and F V^T."""
        self._check(V)
        with torch.no_grad():
            rows = V.mT.contiguous()  # n x d movie embeddings as rows: one layout, one rounding
            gram = gram_matrix(rows)  # V V^T, d x d
            norms = torch.linalg.vector_norm(rows, dim=1).square_()  # s_i = ||v_i||^2
            user_side = self.likes @ rows  # F V^T = C A V^T (L V^T for colikes), rows of F x d
            if self.mixing is not None:
                user_side = self.mixing @ user_side
            acc = self.acc
            cost = (
                gram.square().sum(dtype=acc)
                - norms.square().sum(dtype=acc)
                - 2 * (self.user_norm2(user_side) - torch.dot(self.like_counts.to(acc), norms.to(acc)))
                + self.x_norm2
            )
        return cost, rows, gram, norms, user_side

    def value_and_grad(self, V: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(c(V), dc/dV) for V of shape d x n; the cost is summed in float64 where possible."""
        cost, rows, gram, norms, user_side = self._forward(V)
        with torch.no_grad():
            grad_rows = gram_product(rows, gram, (self.like_counts - norms).unsqueeze(1) * rows)
            grad_rows.sub_(self.user_gradient(user_side)).mul_(4)
        return cost, grad_rows.mT

    def value(self, V: torch.Tensor) -> float:
        """c(V) as a Python float, without the gradient's extra n d^2 product."""
        return float(self._forward(V)[0])


def dense_cost(V: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """The masked formula itself, sum_{i != j} (v_i^T v_j - X_ij)^2, with an n x n residual.

    The reference the factored cost is tested against; differentiable by autograd.
    """
    residual = V.mT @ V - X
    return residual.square().sum() - residual.diagonal().square().sum()


def seed_cost(V: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """The seed notebook's own expression, ``torch.eye`` rebuilt on every call (benchmarks)."""
    n = X.shape[0]
    return ((1 - torch.eye(n, device=X.device, dtype=X.dtype)) * (V.mT @ V - X) ** 2).sum()
