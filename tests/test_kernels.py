"""The Gram kernel equals rows^T rows on every path, and the cost built on it stays exact."""

from __future__ import annotations

import pytest
import torch

from conftest import random_likes
from movierec import kernels
from movierec.data import colike_matrix
from movierec.errors import ParameterError
from movierec.model.cost import CoLikeCost, dense_cost
from movierec.model.kernels import gram_matrix, gram_product, mirror_lower_triangle, symmetric_gram

TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-12}
SHAPES = [(1, 1), (7, 3), (3, 7), (50, 50), (300, 40), (40, 300), (257, 513)]


def random_rows(n: int, d: int, dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, d, dtype=dtype, generator=torch.Generator().manual_seed(seed))


def assert_gram(gram: torch.Tensor, rows: torch.Tensor, symmetric: bool = True) -> None:
    """``gram`` is rows^T rows to the dtype's rounding; ``symmetric``: exactly, as syrk's mirror is."""
    expected = rows.double().mT @ rows.double()
    assert gram.shape == expected.shape and gram.dtype == rows.dtype
    scale = float(expected.abs().max())
    torch.testing.assert_close(gram.double(), expected, rtol=0, atol=TOLERANCE[rows.dtype] * scale)
    assert not symmetric or torch.equal(gram, gram.mT), "both triangles must hold the same values"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("n,d", SHAPES)
def test_syrk_equals_the_product(n, d, dtype):
    rows = random_rows(n, d, dtype)
    assert_gram(symmetric_gram(rows), rows)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "layout",
    [
        lambda rows: rows.mT.contiguous().mT,  # Fortran-contiguous: read in place with trans
        lambda rows: torch.cat([rows, rows], dim=1)[:, ::2],  # strided columns: copied once
        lambda rows: torch.cat([rows, rows], dim=0)[::2],  # strided rows
    ],
    ids=["fortran", "column-stride", "row-stride"],
)
def test_syrk_reads_any_layout(layout, dtype):
    shaped = layout(random_rows(90, 35, dtype, seed=1))
    assert not shaped.is_contiguous()
    assert_gram(symmetric_gram(shaped), shaped)


def test_syrk_leaves_its_input_alone():
    rows = random_rows(60, 20, torch.float32)
    before = rows.clone()
    symmetric_gram(rows)
    assert torch.equal(rows, before)


@pytest.mark.parametrize(
    "size", [1, 5, kernels.MIRROR_BLOCK, kernels.MIRROR_BLOCK + 3, 3 * kernels.MIRROR_BLOCK]
)
def test_mirror_fills_the_upper_triangle_from_the_lower(size):
    full = random_rows(size, size, torch.float64)
    full = full + full.mT
    square = full.tril().clone()
    assert torch.equal(mirror_lower_triangle(square), full)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("d", [kernels.SYRK_MIN_DIM - 1, kernels.SYRK_MIN_DIM])
def test_gram_matrix_takes_either_path_and_agrees(d, dtype):
    rows = random_rows(70, d, dtype, seed=d)
    assert_gram(gram_matrix(rows), rows, symmetric=d >= kernels.SYRK_MIN_DIM)


@pytest.mark.parametrize("n,d", [(30, 20), (20, 30), (40, 40)])
def test_gram_matrix_uses_syrk_above_the_threshold(monkeypatch, n, d):
    calls = []
    monkeypatch.setattr(kernels, "SYRK_MIN_DIM", 1)
    monkeypatch.setattr(kernels, "symmetric_gram", lambda rows: calls.append(rows) or rows.mT @ rows)
    rows = random_rows(n, d, torch.float32)
    gram_matrix(rows)
    assert len(calls) == 1


def test_gram_matrix_keeps_autograd_working(monkeypatch):
    monkeypatch.setattr(kernels, "SYRK_MIN_DIM", 1)
    rows = random_rows(12, 5, torch.float64).requires_grad_(True)
    gram_matrix(rows).sum().backward()
    torch.testing.assert_close(rows.grad, 2 * rows.detach().sum(dim=1, keepdim=True).expand(12, 5))
    with torch.no_grad():
        assert_gram(gram_matrix(rows), rows.detach())


def test_other_dtypes_use_the_product():
    rows = random_rows(20, kernels.SYRK_MIN_DIM, torch.float32).to(torch.bfloat16)
    assert gram_matrix(rows).dtype == torch.bfloat16
    with pytest.raises(ParameterError, match="float32 or float64"):
        symmetric_gram(rows)


@pytest.mark.parametrize("users,movies,dim", [(40, 30, 7), (25, 60, 60), (60, 35, 50), (30, 20, 20)])
def test_cost_on_the_syrk_path_matches_the_masked_formula(monkeypatch, users, movies, dim):
    monkeypatch.setattr(kernels, "SYRK_MIN_DIM", 1)
    matrix = random_likes(users, movies, 0.2, seed=dim)
    X = torch.tensor(colike_matrix(matrix).toarray(), dtype=torch.float64)
    V = torch.randn(
        dim, movies, dtype=torch.float64, generator=torch.Generator().manual_seed(dim), requires_grad=True
    )
    reference = dense_cost(V, X)
    reference.backward()
    value, grad = CoLikeCost(matrix, dtype=torch.float64).value_and_grad(V.detach())
    assert float(value) == pytest.approx(float(reference.detach()), rel=1e-12)
    torch.testing.assert_close(grad, V.grad, rtol=1e-10, atol=1e-10 * float(V.grad.abs().max()))


def test_float32_cost_on_the_syrk_path_matches_float64(monkeypatch):
    matrix = random_likes(80, 120, 0.1, seed=5)
    V = torch.randn(120, 120, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    reference, reference_grad = CoLikeCost(matrix, dtype=torch.float64).value_and_grad(V)
    monkeypatch.setattr(kernels, "SYRK_MIN_DIM", 1)
    value, grad = CoLikeCost(matrix).value_and_grad(V.float())
    assert float(value) == pytest.approx(float(reference), rel=1e-5)
    torch.testing.assert_close(
        grad.double(), reference_grad, rtol=0, atol=1e-5 * float(reference_grad.abs().max())
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("n,d", [(30, 600), (700, 520), (5, 1024)])
def test_the_gradient_product_equals_addmm_and_writes_in_place(n, d, dtype):
    rows = random_rows(n, d, dtype)
    gram = gram_matrix(rows)
    bias = random_rows(n, d, dtype, seed=1)
    expected = torch.addmm(bias, rows, gram)
    result = gram_product(rows, gram, bias)
    assert result.data_ptr() == bias.data_ptr()
    tolerance = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(result, expected, rtol=tolerance, atol=tolerance * float(expected.abs().max()))


def test_the_gradient_product_below_the_threshold_is_torchs():
    rows, bias = random_rows(20, 8, torch.float32), random_rows(20, 8, torch.float32, seed=2)
    gram = rows.mT @ rows
    assert torch.equal(gram_product(rows, gram, bias.clone()), torch.addmm(bias, rows, gram))
