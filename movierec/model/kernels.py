"""Dense kernels of the training step, chosen per device: the Gram matrix V V^T and the
gradient's product (V V^T) V.

V V^T is symmetric, so a BLAS symmetric rank-k update (``syrk``) computes it with half the
arithmetic of a general product. torch has no such call; on the CPU movierec calls the BLAS
that scipy ships, through ``scipy.linalg.blas``, and mirrors the triangle that BLAS fills. The
gradient's n x d product with that symmetric matrix goes through the same BLAS (``symm``,
accumulating into the rest of the gradient in place): on AMD EPYC cores torch's MKL runs these
products at half OpenBLAS's speed; on Intel Xeon cores ``symm`` only ties torch's product and
``syrk`` wins by its halved arithmetic alone (measured in "Scaling up").

Book page: "Scaling up".
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.linalg import blas

from ..errors import ParameterError

#: Smallest d for which the CPU ``syrk`` beats torch's matmul. Measured on 2 AMD EPYC cores at
#: n = 9,742: torch is faster up to d = 256 (call overhead, a thin product), syrk from d = 512
#: (1.4x there, 1.8x to 2x from d = 1,024). On 2 Intel Xeon cores the crossing is near d = 1,024
#: (torch 1.5x faster at 512, syrk 1.76x at d = n); the book's sizes (64, 256, n) are on the
#: same side of either threshold.
SYRK_MIN_DIM = 512
#: Rows of the triangle mirrored per slice, so that each copy's source stays in cache.
MIRROR_BLOCK = 256
SYRK = {torch.float32: blas.ssyrk, torch.float64: blas.dsyrk}
SYMM = {torch.float32: blas.ssymm, torch.float64: blas.dsymm}


def gram_matrix(rows: torch.Tensor) -> torch.Tensor:
    """V V^T (d x d) from the n x d movie rows of V.

    A BLAS ``syrk`` (half the work of a general product) on the CPU, in float32 or float64,
    for d >= SYRK_MIN_DIM; torch's matmul elsewhere and whenever autograd records ``rows``.
    """
    if (
        rows.device.type != "cpu"
        or rows.dtype not in SYRK
        or rows.shape[1] < SYRK_MIN_DIM
        or (rows.requires_grad and torch.is_grad_enabled())
    ):
        return rows.mT @ rows
    return symmetric_gram(rows.detach())


def symmetric_gram(rows: torch.Tensor) -> torch.Tensor:
    """rows^T rows of a float32 or float64 CPU matrix through BLAS ``syrk``, both triangles filled.

    ``rows`` (n x d) is read in place when it is C- or Fortran-contiguous and copied once
    otherwise; the only other allocation is the d x d result.
    """
    if rows.dtype not in SYRK or rows.device.type != "cpu":
        raise ParameterError(
            f"symmetric_gram needs a float32 or float64 CPU tensor, got {rows.dtype} on {rows.device}: "
            f"use rows.mT @ rows"
        )
    array = rows.numpy()
    if array.flags.f_contiguous:  # rows is column-major itself: C = a^T a with a = rows
        lower = SYRK[rows.dtype](1.0, array, trans=1, lower=0)
    else:  # rows^T (d x n) is column-major: C = a a^T with a = rows^T
        lower = SYRK[rows.dtype](1.0, np.ascontiguousarray(array).T, trans=0, lower=0)
    gram = torch.from_numpy(lower.T)  # row-major view of BLAS's upper triangle: our lower one
    return mirror_lower_triangle(gram)


def mirror_lower_triangle(square: torch.Tensor) -> torch.Tensor:
    """Copy the lower triangle of ``square`` onto its upper one, in place, one row slice at a time."""
    size = square.shape[0]
    for start in range(0, size, MIRROR_BLOCK):
        stop = min(start + MIRROR_BLOCK, size)
        diagonal = square[start:stop, start:stop]
        diagonal.copy_(diagonal.tril() + diagonal.tril(-1).mT)
        square[start:stop, stop:] = square[stop:, start:stop].mT
    return square


def gram_product(rows: torch.Tensor, gram: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``bias + rows @ gram`` (n x d) for a symmetric ``gram`` = V V^T, written into ``bias``.

    A BLAS ``symm`` on the CPU, in float32 or float64, for d >= SYRK_MIN_DIM (the same sizes
    as :func:`gram_matrix`); ``torch.addmm`` elsewhere, which rounds as before for small d.
    """
    if (
        rows.device.type != "cpu"
        or rows.dtype not in SYMM
        or rows.shape[1] < SYRK_MIN_DIM
        or not (rows.is_contiguous() and gram.is_contiguous() and bias.is_contiguous())
    ):
        return torch.addmm(bias, rows, gram)
    # Column-major views without copies: bias^T (d x n) += gram (d x d, symmetric) @ rows^T (d x n)
    updated = SYMM[rows.dtype](1.0, gram.numpy().T, rows.numpy().T, beta=1.0, c=bias.numpy().T, overwrite_c=1)
    if not np.shares_memory(updated, bias.numpy()):
        bias.copy_(torch.from_numpy(updated.T))
    return bias
