"""The co-like cost c(V) = sum_{i != j} (v_i^T v_j - X_ij)^2, exact and fast.

V is d x n: column i is the embedding of movie i, as in the seed notebook. Expanding
the square and using X = L^T L - diag(D) (D = like counts) gives, exactly,

    c(V) = ||V V^T||^2 - sum_i s_i^2 - 2 (||V L^T||^2 - sum_i D_i s_i) + ||X||^2,
    grad = 4 [(V V^T) V - (V L^T) L + V diag(D) - V diag(s)],     s_i = ||v_i||^2,

which needs only d x d, d x users and sparse products: never an n x n matrix when d < n.

Book page: "The model" (notebooks/02_model.ipynb).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from .data import Likes, as_csr
from .kernels import gram_matrix

GRAM_BLOCK_ENTRIES = 1 << 23


def colike_norm2(likes: Likes | sp.spmatrix) -> int:
    """||X||_F^2 for X = offdiag(L^T L), exactly in integers, without forming X.

    ||L^T L||^2 = ||L L^T||^2, so the Gram matrix G of the shorter side is summed in row
    blocks whose heights keep each block under GRAM_BLOCK_ENTRIES entries (a bound from the
    row sums), so memory stays flat at any scale; the diagonal's share, sum_i D_i^2, is
    then removed.
    """
    matrix = as_csr(likes, np.int32)
    side = matrix.T.tocsr() if matrix.shape[0] > matrix.shape[1] else matrix
    side_t = side.T.tocsr()
    reach = np.minimum(side @ np.diff(side_t.indptr).astype(np.int64), side.shape[0])  # bound on G's row nnz
    bounds = np.cumsum(reach)
    total, start = 0, 0
    while start < side.shape[0]:
        limit = (bounds[start - 1] if start else 0) + GRAM_BLOCK_ENTRIES
        stop = max(start + 1, int(np.searchsorted(bounds, limit, side="right")))
        total += int(np.square((side[start:stop] @ side_t).data, dtype=np.int64).sum())
        start = stop
    counts = np.asarray(matrix.sum(axis=0), dtype=np.int64).ravel()
    return total - int(np.square(counts).sum())


def to_torch_csr(matrix: sp.spmatrix, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """A scipy matrix as a torch sparse CSR tensor on ``device`` (beta-API warning muted).

    Indices are int32 when they fit: half the index traffic of the memory-bound products.
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
            torch.from_numpy(csr.data.astype(np.float32)),
            size=csr.shape,
            check_invariants=False,
        ).to(device=device, dtype=dtype)


def accumulation_dtype(device: torch.device) -> torch.dtype:
    """float64 for the cost's sums wherever the device has it (MPS has no float64)."""
    return torch.float32 if device.type == "mps" else torch.float64


class CoLikeCost:
    """c(V) and its exact gradient for one likes matrix, on one device and dtype.

    Build once per data set; :meth:`value_and_grad` then costs O(n d^2 + nnz(L) d).
    The user side of the cost (||V L^T||^2 and (V L^T) L, sums over users) goes through
    :meth:`user_norm2` and :meth:`user_gradient`, so that a subclass can hold only some users
    and add the other processes' shares (:mod:`movierec.distributed`); ``like_counts`` and
    ``x_norm2`` are always those of all users. Book page: "The model".
    """

    def __init__(
        self,
        likes: Likes | sp.spmatrix,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ):
        matrix = as_csr(likes)
        self.device = torch.device(device)
        self.dtype = dtype
        self.n_users, self.n_movies = matrix.shape
        self.likes = to_torch_csr(matrix, self.device, dtype)
        self.likes_t = to_torch_csr(matrix.T, self.device, dtype)
        counts = np.asarray(matrix.sum(axis=0)).ravel()
        self.like_counts = torch.as_tensor(counts, dtype=dtype, device=self.device)
        self.x_norm2 = colike_norm2(matrix)
        self.acc = accumulation_dtype(self.device)

    def _check(self, V: torch.Tensor) -> None:
        if V.ndim != 2 or V.shape[1] != self.n_movies:
            raise ValueError(f"V must be d x {self.n_movies} (one column per movie), got {tuple(V.shape)}")

    def user_norm2(self, user_side: torch.Tensor) -> torch.Tensor:
        """||V L^T||^2 from ``user_side`` = L V^T (users x d), summed in the accumulation dtype."""
        return user_side.square().sum(dtype=self.acc)

    def user_gradient(self, user_side: torch.Tensor) -> torch.Tensor:
        """(V L^T) L as movies x d rows: L^T (L V^T)."""
        return self.likes_t @ user_side

    def _forward(
        self, V: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """c(V) and the pieces its gradient reuses: rows (n x d), V V^T, s and L V^T."""
        self._check(V)
        with torch.no_grad():
            rows = V.mT.contiguous()  # n x d movie embeddings as rows: one layout, one rounding
            gram = gram_matrix(rows)  # V V^T, d x d
            norms = torch.linalg.vector_norm(rows, dim=1).square_()  # s_i = ||v_i||^2
            user_side = self.likes @ rows  # L V^T, users x d
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
            grad_rows = torch.addmm((self.like_counts - norms).unsqueeze(1) * rows, rows, gram)
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


def compare_with_dense(
    likes: Likes | sp.spmatrix, dim: int = 16, movies: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Factored vs masked formula in float64 on the ``movies`` most-liked movies: the check
    the book shows that the factored cost is exact. Book page: "The model"."""
    matrix = as_csr(likes)
    counts = np.asarray(matrix.sum(axis=0)).ravel()
    kept = np.sort(np.argsort(-counts, kind="stable")[: min(movies, matrix.shape[1])])
    sub = matrix[:, kept]
    counts_int = sub.astype(np.int64)
    X = torch.tensor((counts_int.T @ counts_int).toarray(), dtype=torch.float64)
    X.fill_diagonal_(0)
    V = torch.randn(
        dim, len(kept), dtype=torch.float64, generator=torch.Generator().manual_seed(seed), requires_grad=True
    )
    reference = dense_cost(V, X)
    reference.backward()
    value, grad = CoLikeCost(sub, dtype=torch.float64).value_and_grad(V.detach())
    return pd.DataFrame(
        {
            "quantity": ["cost c(V)", "gradient (max |entry|)"],
            "masked n x n formula": [float(reference.detach()), float(V.grad.abs().max())],
            "factored": [float(value), float(grad.abs().max())],
            "max relative difference": [
                abs(float(value) - float(reference.detach())) / float(reference.detach()),
                float((grad - V.grad).abs().max() / V.grad.abs().max()),
            ],
        }
    )
