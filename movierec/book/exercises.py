"""Checkers for the book's code exercises: ``mr.exercises.check_colikes(my_colikes)`` runs the
student's function on small seeded inputs and returns a one-line :class:`Verdict`.

Each checker builds its own inputs, compares the answer with a reference computed here or by the
package, names the exercise's typical mistakes, and never raises, whatever the answer does.
Book pages: the chapters' code exercises.
"""

from __future__ import annotations

import html
import itertools
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from ..data import colike_matrix, likes_matrix
from ..model.cost import dense_cost

__all__ = [
    "Verdict",
    "check_colikes",
    "check_cost_gradient",
    "check_ease",
    "check_largest_eigenvalue",
    "check_momentum_step",
    "check_ndcg",
    "check_recommender",
    "check_training_loop",
]

NOT_WRITTEN = "not written yet: replace the `...` with your code"
RETURNED_NONE = "not written yet: replace the `...` with your code (it returned None: `return` the result)"
ERROR_HINT = "call it yourself on a small example to read the traceback"
MAX_ERROR_TEXT = 150  # characters of an exception's message quoted in a verdict


@dataclass(frozen=True, repr=False)
class Verdict:
    """The outcome of one check, one line: "✓ exercise: correct — what was checked" or
    "✗ exercise: what is wrong — how to fix it"."""

    ok: bool
    message: str
    exercise: str

    def __str__(self) -> str:
        line = (
            f"✓ {self.exercise}: correct — {self.message}"
            if self.ok
            else f"✗ {self.exercise}: {self.message}"
        )
        return " ".join(line.split())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return f'<p class="mr-verdict">{html.escape(str(self), quote=False)}</p>'


class _Wrong(Exception):
    """What is wrong with an answer and the hint: ends a check with a failed verdict."""


# ---------------------------------------------------------------------------------------------
# Running the answer and reading what it returned


def _verdict(exercise: str, fn: object, check: Callable[[Callable], str]) -> Verdict:
    """Run ``check`` on the student's ``fn``; whatever happens, a Verdict comes back."""
    if not callable(fn):
        checker = check.__name__.lstrip("_")
        return Verdict(
            False,
            f"got {_describe(fn)}, not a function — pass the function itself, by its name without "
            f"parentheses: {checker}(my_function), not {checker}(my_function(...))",
            exercise,
        )
    try:
        with warnings.catch_warnings(), torch.enable_grad():
            warnings.simplefilter("ignore")
            return Verdict(True, check(fn), exercise)
    except _Wrong as wrong:
        return Verdict(False, str(wrong), exercise)
    except Exception as error:
        return Verdict(
            False,
            f"could not read what your function returned ({_error_text(error)}) — return a plain "
            "numpy array, torch tensor, list or float as the exercise asks",
            exercise,
        )


def _call(
    fn: Callable,
    *args: Any,
    inputs: str = "",
    hints: Mapping[type[BaseException], str] | None = None,
    on_none: str = RETURNED_NONE,
) -> Any:
    """fn(*args), or a _Wrong: not written yet (``...``, NotImplementedError; None says ``on_none``),
    or what it raised, with the hint of ``hints`` for that exception type (else a generic one)."""
    try:
        result = fn(*args)
    except NotImplementedError:
        raise _Wrong(NOT_WRITTEN) from None
    except (Exception, SystemExit) as error:
        hint = next((text for kind, text in (hints or {}).items() if isinstance(error, kind)), ERROR_HINT)
        where = f" on {inputs}" if inputs else ""
        raise _Wrong(f"your function raised {_error_text(error)}{where} — {hint}") from None
    if result is Ellipsis:
        raise _Wrong(NOT_WRITTEN)
    if result is None:
        raise _Wrong(on_none)
    return result


def _error_text(error: BaseException) -> str:
    """'Type: message' of an exception, on one line and cut to MAX_ERROR_TEXT characters."""
    text = " ".join(str(error).split())
    if len(text) > MAX_ERROR_TEXT:
        text = text[: MAX_ERROR_TEXT - 3] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _describe(value: object) -> str:
    """A short description of a value's type (and shape or length), for messages."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {_shape(value.shape)}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {_shape(value.shape)}"
    if value is None:
        return "None"
    name = type(value).__name__
    article = "an" if name[:1].lower() in "aeiou" else "a"
    if isinstance(value, (list, tuple, set, dict)):
        return f"{article} {name} of {len(value)}"
    return f"{article} {name}"


def _shape(shape: tuple[int, ...]) -> str:
    """A shape as '3 x 4' ('()' for a scalar)."""
    return " x ".join(str(size) for size in shape) if len(shape) else "()"


def _num(value: float) -> str:
    """A number in messages: six significant digits, integers without a decimal point."""
    return f"{float(value):.6g}"


def _array(value: Any, what: str) -> np.ndarray:
    """``value`` (numpy, torch, list, scipy sparse or pandas) as a float64 array, else a _Wrong
    saying it returned the wrong type instead of ``what``."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.layout != torch.strided:
            value = value.to_dense()
        if value.dtype == torch.bfloat16:
            value = value.float()
        value = value.numpy()
    elif sp.issparse(value):
        value = value.toarray()
    elif isinstance(value, (pd.DataFrame, pd.Series)):
        value = value.to_numpy()
    elif isinstance(value, (list, tuple)):
        try:
            value = np.array([_plain(item) for item in value])
        except (TypeError, ValueError, RuntimeError):
            raise _Wrong(
                f"returned {_describe(value)} that is not a rectangular array — return {what}"
            ) from None
    elif not isinstance(value, (np.ndarray, int, float, np.number)):
        raise _Wrong(f"returned {_describe(value)}, not {what}")
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise _Wrong(f"returned an array of {array.dtype} values, not numbers — return {what}")
    return array.astype(np.float64)


def _plain(item: Any) -> Any:
    """A list's item ready for np.array: tensors detached, nested lists converted."""
    if isinstance(item, torch.Tensor):
        return item.detach().cpu().numpy()
    if isinstance(item, (list, tuple)):
        return [_plain(inner) for inner in item]
    return item


def _number(value: Any, what: str) -> float:
    """``value`` as a float (a Python or numpy number, or a one-element array or tensor), else a
    _Wrong saying it returned the wrong type instead of ``what``."""
    if isinstance(value, (bool, np.bool_)):
        raise _Wrong(f"returned a bool ({value}), not {what}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, (torch.Tensor, np.ndarray)):
        array = _array(value, what)
        if array.size == 1:
            return float(array.reshape(-1)[0])
    raise _Wrong(f"returned {_describe(value)}, not {what}")


def _finite(array: np.ndarray, hint: str) -> None:
    """A _Wrong naming the first NaN or inf entry of ``array``, with ``hint``."""
    bad = ~np.isfinite(array)
    if bad.any():
        where = [int(index) for index in np.argwhere(bad)[0]]
        kind = "NaN" if np.isnan(array[tuple(where)]) else "inf"
        raise _Wrong(f"contains {kind} (e.g. at {where}) — {hint}")


def _close(answer: np.ndarray, expected: np.ndarray, rtol: float = 1e-6) -> bool:
    """Same shape and equal within ``rtol`` of the largest expected entry."""
    if answer.shape != expected.shape:
        return False
    scale = float(np.abs(expected).max(initial=0.0))
    return bool(np.allclose(answer, expected, rtol=rtol, atol=rtol * max(scale, 1e-12)))


def _first_difference(answer: np.ndarray, expected: np.ndarray, rtol: float = 1e-6) -> tuple[int, ...]:
    """The index of the first entry out of tolerance (of the largest difference if none is)."""
    scale = float(np.abs(expected).max(initial=0.0))
    far = ~np.isclose(answer, expected, rtol=rtol, atol=rtol * max(scale, 1e-12))
    if far.any():
        return tuple(int(index) for index in np.argwhere(far)[0])
    return tuple(int(index) for index in np.unravel_index(np.argmax(np.abs(answer - expected)), answer.shape))


def _difference(answer: np.ndarray, expected: np.ndarray, rtol: float = 1e-6) -> str:
    """'at [i, j]: expected a, got b' for the first entry out of tolerance."""
    where = _first_difference(answer, expected, rtol)
    return f"at {list(where)}: expected {_num(expected[where])}, got {_num(answer[where])}"


# ---------------------------------------------------------------------------------------------
# 1. Co-likes X = L^T L from the ratings

#: Not sorted, so that a matrix in movieId order shows; movie 60 is never rated.
COLIKE_MOVIES = (30, 10, 50, 20, 60, 40)
#: (userId, movieId, rating), MovieLens style, with several ratings of exactly 4.0.
COLIKE_RATINGS = (
    (1, 10, 4.0),
    (1, 20, 5.0),
    (1, 30, 3.5),
    (1, 50, 4.0),
    (2, 20, 4.5),
    (2, 30, 4.0),
    (2, 40, 2.0),
    (3, 10, 4.0),
    (3, 30, 4.5),
    (3, 40, 4.0),
    (3, 50, 1.0),
    (4, 10, 5.0),
    (4, 20, 4.0),
    (4, 40, 3.0),
    (4, 50, 4.5),
    (5, 30, 5.0),
    (5, 40, 4.0),
    (5, 50, 4.0),
    (6, 10, 2.5),
    (6, 20, 3.0),
    (6, 30, 0.5),
    (7, 20, 4.0),
    (7, 30, 4.0),
    (7, 40, 5.0),
    (7, 50, 3.5),
)
LIKE = 4.0
#: Half-star ratings the seeded tables draw from, thresholds' neighbours most often.
SEEDED_RATINGS = (1.0, 2.0, 2.5, 3.0, 3.0, 3.5, 3.5, 4.0, 4.0, 4.5, 4.5, 5.0)

ColikeCase = tuple[tuple[int, ...], tuple[tuple[int, int, float], ...]]


def _colike_case(seed: int | None = None, size: int | None = None) -> ColikeCase:
    """(movie_ids, ratings): the book's (COLIKE_MOVIES, COLIKE_RATINGS) without a seed; with one,
    ``size`` movies (default 6) in an unsorted order, one never rated, 7 to 9 users, and ratings of
    exactly 3, 3.5, 4 and 4.5 that change X, so that ``>`` for ``>=`` shows at any of those thresholds."""
    if seed is None and size is None:
        return COLIKE_MOVIES, COLIKE_RATINGS
    rng = np.random.default_rng(seed)
    n = max(3, size or 6)
    while True:
        movies = tuple(int(movie) for movie in rng.choice(np.arange(1, 100), n, replace=False))
        if list(movies) == sorted(movies):
            continue
        never = movies[int(rng.integers(n))]
        users = int(rng.integers(7, 10))
        ratings = tuple(
            (user, movie, float(rng.choice(SEEDED_RATINGS)))
            for user in range(1, users + 1)
            for movie in movies
            if movie != never and rng.random() < 0.7
        )
        case = (movies, ratings)
        references = [_colike_reference(threshold, case) for threshold in (3.0, 3.5, 4.0, 4.5, 5.0)]
        if all(not np.array_equal(a, b) for a, b in itertools.pairwise(references)):
            return case


def _colike_ratings(case: ColikeCase | None = None) -> pd.DataFrame:
    """The co-likes exercise's ratings table, as pd.read_csv gives ratings.csv."""
    users, movies, ratings = zip(*(case or _colike_case())[1], strict=True)
    return pd.DataFrame(
        {
            "userId": np.array(users, dtype=np.int64),
            "movieId": np.array(movies, dtype=np.int64),
            "rating": np.array(ratings, dtype=np.float64),
            "timestamp": np.arange(len(users), dtype=np.int64) + 964_982_703,
        }
    )


def _colike_reference(threshold: float = LIKE, case: ColikeCase | None = None) -> np.ndarray:
    """X = L^T L, zero diagonal, for the exercise's ratings at ``threshold``, via the package."""
    case = case or _colike_case()
    movies = pd.DataFrame({"movieId": np.array(case[0], dtype=np.int64)})
    return colike_matrix(likes_matrix(_colike_ratings(case), movies, threshold)).toarray().astype(np.float64)


def _rating_matrix(case: ColikeCase | None = None) -> np.ndarray:
    """Users x movies ratings (0 where unrated), columns in movie_ids (COLIKE_MOVIES) order."""
    case = case or _colike_case()
    movie_ids, rows = case
    ratings = _colike_ratings(case)
    users = sorted(set(ratings["userId"]))
    matrix = np.zeros((len(users), len(movie_ids)))
    for user, movie, rating in rows:
        matrix[users.index(user), movie_ids.index(movie)] = rating
    return matrix


def _other_threshold(threshold: float) -> float:
    """A second threshold the answer is tried at, so that one with the page's threshold typed in
    fails: 3.5 (half a star below the course's 4), or 4 when the page's is 3.5."""
    return 4.0 if threshold == 3.5 else 3.5


def _check_colikes_at(
    fn: Callable, threshold: float, typed: tuple[float, ...] = (), case: ColikeCase | None = None
) -> str:
    """The co-likes check at ``threshold`` on ``case`` (the book's ratings by default); ``typed``:
    thresholds an answer that passed at another threshold may have typed in (named before the other
    slips)."""
    case = case or _colike_case()
    movie_ids = list(case[0])
    n = len(movie_ids)
    ratings = _rating_matrix(case)
    users = ratings.shape[0]
    rated = int((ratings > 0).any(axis=0).sum())
    never = [movie for movie, column in zip(movie_ids, ratings.T, strict=True) if not column.any()]
    t = f"{threshold:g}"
    X = _array(
        _call(fn, _colike_ratings(case), list(movie_ids), threshold), f"the {n} x {n} co-like matrix X"
    )
    if X.ndim != 2:
        raise _Wrong(f"X is not 2-D (shape {_shape(X.shape)}) — X is n x n, n = len(movie_ids) = {n}")
    if X.shape != (n, n):
        if X.shape == (users, n):
            raise _Wrong(f"X is {users} x {n}, users x movies: that is L — X = L^T L is movies x movies")
        if X.shape == (users, users):
            raise _Wrong(
                f"X is {users} x {users}, users x users: that is L L^T — X = L^T L is movies x movies"
            )
        if X.shape == (rated, rated):
            raise _Wrong(
                f"X is {rated} x {rated}, but movie_ids lists {n} movies: movie {never[0]}, which no one "
                "rated, is missing — every movie in movie_ids needs a row and a column (of zeros if no one "
                "liked it), e.g. reindex by movie_ids with fill_value=0"
            )
        raise _Wrong(f"X is {_shape(X.shape)}, not {n} x {n} — one row and one column per movie in movie_ids")
    _finite(X, "a user who did not rate a movie counts 0: fill the missing ratings with 0 (e.g. .fillna(0))")
    expected = _colike_reference(threshold, case)
    if _close(X, expected):
        return (
            f"X[i, j] counts the users who rated both movies i and j at the threshold or more, zero "
            f"diagonal, in movie_ids order ({users} users, {n} movies, one never rated, ratings of "
            f"exactly the threshold; thresholds {t} and {_other_threshold(threshold):g})"
        )
    off = ~np.eye(n, dtype=bool)

    def same_off_diagonal(other: np.ndarray) -> bool:
        return _close(X[off], other[off])

    if same_off_diagonal(expected):
        liked = (ratings >= threshold).sum(axis=0)
        if _close(np.diag(X), liked.astype(np.float64)):
            raise _Wrong(
                "the diagonal counts each movie's own likes — set X_ii = 0 (e.g. np.fill_diagonal(X, 0))"
            )
        i = int(np.argmax(np.abs(np.diag(X))))
        raise _Wrong(f"the diagonal is not zero (X[{i}, {i}] = {_num(X[i, i])}) — set X_ii = 0")
    for fixed in typed:
        if same_off_diagonal(_colike_reference(fixed, case)):
            raise _Wrong(
                f"called with threshold={t}, X counts the ratings >= {fixed:g}: the threshold is typed "
                "into your code — use the threshold argument"
            )
    if same_off_diagonal(_colike_reference(threshold + 0.25, case)):
        raise _Wrong(f"ratings of exactly {t} are left out (rating > {t}) — a like is rating >= threshold")
    if same_off_diagonal(_colike_reference(0.5, case)):
        raise _Wrong("every rating is counted, not only likes — count a user only where rating >= threshold")
    liked_ratings = np.where(ratings >= threshold, ratings, 0.0)
    if same_off_diagonal(liked_ratings.T @ liked_ratings) or same_off_diagonal(ratings.T @ ratings):
        raise _Wrong(
            "X multiplies rating values — make L 0/1 (1 where rating >= threshold), so that X = L^T L "
            "counts users"
        )
    orders = itertools.permutations(range(n)) if n <= 7 else [tuple(np.argsort(movie_ids))]
    for order in orders:
        if same_off_diagonal(expected[np.ix_(order, order)]):
            shown = [movie_ids[i] for i in order]
            raise _Wrong(
                f"the movies are in a different order than movie_ids: rows and columns follow {shown}, "
                f"not {movie_ids} — row and column i must be movie movie_ids[i] (e.g. reindex by movie_ids)"
            )
    if not _close(X, X.T):
        i, j = _first_difference(X, X.T)
        raise _Wrong(
            f"X is not symmetric (X[{i}, {j}] = {_num(X[i, j])} but X[{j}, {i}] = {_num(X[j, i])}) — "
            "X[i, j] and X[j, i] both count the users who like both movies"
        )
    i, j = _first_difference(X, expected)
    raise _Wrong(
        f"wrong values at threshold={t}, e.g. at [{i}, {j}] (movies {movie_ids[i]} and {movie_ids[j]}): "
        f"expected {_num(expected[i, j])}, got {_num(X[i, j])} — X[i, j] is the number of users who "
        "rated both at the threshold or more"
    )


def check_colikes(
    fn: Callable, threshold: float = LIKE, *, seed: int | None = None, size: int | None = None
) -> Verdict:
    """Check ``fn(ratings, movie_ids, threshold) -> X``: X[i, j] = users who rated movies i and j at
    ``threshold`` or more, zero diagonal, in movie_ids order (the co-likes the embeddings fit); tried
    at the page's threshold and at a second one, so that a threshold typed into the code fails.
    ``seed`` (and ``size``, the number of movies): another ratings table drawn from that seed
    instead of the book's, so that an answer typed in for the book's table fails."""
    case = _colike_case(seed, size)

    def both(answer: Callable) -> str:
        message = _check_colikes_at(answer, threshold, case=case)
        _check_colikes_at(answer, _other_threshold(threshold), typed=(threshold,), case=case)
        return message

    both.__name__ = "_check_colikes"
    return _verdict("co-likes", fn, both)


# ---------------------------------------------------------------------------------------------
# 2. The gradient of the cost

GRADIENT_FORMULA = "4[(V V^T)V - (V L^T)L + V diag(D) - V diag(s)]"


def _gradient_inputs(seed: int | None = None, size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded V (3 x 5) and 0/1 likes L (6 users x 5 movies), float64; another seed (default 7)
    and ``size`` movies (default 5; d = 3, or 2 when size is 3, so that a transposed answer shows)
    draw others."""
    n = max(2, size or 5)
    d = 2 if n == 3 else 3
    generator = torch.Generator().manual_seed(7 if seed is None else seed)
    V = torch.randn(d, n, generator=generator, dtype=torch.float64)
    L = (torch.rand(n + 1, n, generator=generator, dtype=torch.float64) < 0.5).to(torch.float64)
    return V, L


def _colikes_of(L: torch.Tensor, zero_diagonal: bool = True) -> torch.Tensor:
    """X = L^T L, with its diagonal zeroed unless told otherwise."""
    X = L.mT @ L
    return X.fill_diagonal_(0.0) if zero_diagonal else X


def _autograd(
    cost: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], V: torch.Tensor, X: torch.Tensor
) -> np.ndarray:
    """d cost(V, X) / dV by torch autograd."""
    leaf = V.clone().requires_grad_(True)
    cost(leaf, X).backward()
    return leaf.grad.numpy()


def _unmasked_cost(V: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """sum over all i, j, the diagonal included: the mistake the masked cost avoids."""
    return (V.mT @ V - X).square().sum()


def _check_cost_gradient(fn: Callable, seed: int | None = None, size: int | None = None) -> str:
    V, L = _gradient_inputs(seed, size)
    d, n = V.shape
    grad = _array(_call(fn, V.clone(), L.clone()), f"the gradient, a {d} x {n} tensor like V")
    expected = _autograd(dense_cost, V, _colikes_of(L))
    if grad.shape != (d, n):
        if grad.shape == (n, d):
            raise _Wrong(f"the gradient is transposed ({n} x {d}) — it has V's shape, d x n = {d} x {n}")
        if grad.size == 1:
            raise _Wrong(
                f"returned one number (the cost?), not the gradient — return dc/dV, {d} x {n} like V"
            )
        raise _Wrong(f"the gradient is {_shape(grad.shape)} — it has V's shape, d x n = {d} x {n}")
    _finite(grad, f"V and L are finite, so is the gradient: {GRADIENT_FORMULA}")
    size = float(np.linalg.norm(expected))
    error = float(np.linalg.norm(grad - expected)) / size
    if error <= 1e-6:
        return (
            f"equals autograd of sum_(i != j) (v_i^T v_j - X_ij)^2 on a {d} x {n} V "
            f"(relative error {error:.1g})"
        )
    factor = float(np.vdot(grad, expected)) / size**2
    if abs(factor) > 1e-9 and float(np.linalg.norm(grad - factor * expected)) <= 1e-6 * abs(factor) * size:
        if abs(factor + 1) < 1e-6:
            raise _Wrong(
                "the sign is flipped (yours is minus the gradient) — return the gradient itself, which "
                "points uphill; the optimizer subtracts it"
            )
        power = np.log2(abs(factor))
        if factor > 0 and abs(power - round(power)) < 1e-6:
            times = 2 ** abs(round(power))
            raise _Wrong(
                f"off by a factor {times} (yours is {_num(factor)} times the gradient) — each pair appears "
                f"twice in the sum, as (i, j) and (j, i), and the square's derivative brings a 2: "
                f"grad = {GRADIENT_FORMULA}"
            )
        raise _Wrong(
            f"off by a constant factor: yours is {_num(factor)} times the gradient — "
            f"grad = {GRADIENT_FORMULA}"
        )
    if _close(grad, _autograd(_unmasked_cost, V, _colikes_of(L))):
        raise _Wrong(
            "the diagonal i = j is included (the gradient of the sum over all i, j) — the cost leaves "
            "out i = j: subtract its share, 4 V diag(s), s_i = ||v_i||^2"
        )
    if _close(grad, _autograd(_unmasked_cost, V, _colikes_of(L, zero_diagonal=False))):
        raise _Wrong(
            "the diagonal i = j is included, with X's diagonal (the like counts D) — the sum is over "
            "i != j: add its share back, 4[V diag(D) - V diag(s)]"
        )
    raise _Wrong(
        f"wrong values, relative error {error:.2g} (e.g. {_difference(grad, expected)}) — compare with "
        "autograd on a small V: V.requires_grad_(); cost(V).backward(); V.grad"
    )


def check_cost_gradient(fn: Callable, *, seed: int | None = None, size: int | None = None) -> Verdict:
    """Check ``fn(V, L) -> grad``: the exact gradient (d x n) of c(V) = sum_{i != j} (v_i^T v_j - X_ij)^2,
    X = L^T L with a zero diagonal, against torch autograd; ``seed`` and ``size`` (movies) draw other
    V and L than the book's."""

    def check(answer: Callable) -> str:
        return _check_cost_gradient(answer, seed, size)

    check.__name__ = "_check_cost_gradient"
    return _verdict("cost gradient", fn, check)


# ---------------------------------------------------------------------------------------------
# 3. One step of SGD with momentum

MOMENTUM_LR = 0.05
MOMENTUM = 0.8
MOMENTUM_STEPS = 3


def _momentum_inputs(
    seed: int | None = None, size: int | None = None
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Seeded V (2 x 3, float64; another seed than 3 and ``size`` columns draw others) and one
    gradient per step."""
    shape = (2, max(1, size or 3))
    generator = torch.Generator().manual_seed(3 if seed is None else seed)
    V = torch.randn(*shape, generator=generator, dtype=torch.float64)
    return V, [torch.randn(*shape, generator=generator, dtype=torch.float64) for _ in range(MOMENTUM_STEPS)]


def _momentum_settings(seed: int | None = None) -> tuple[float, float]:
    """(lr, momentum): the book's (MOMENTUM_LR, MOMENTUM), or others drawn from ``seed``, so that
    a step with the book's settings typed in fails."""
    if seed is None:
        return MOMENTUM_LR, MOMENTUM
    rng = np.random.default_rng(seed)
    return float(rng.choice([0.01, 0.02, 0.1, 0.2])), float(rng.choice([0.5, 0.6, 0.7, 0.9, 0.95]))


def _sgd_states(
    V: torch.Tensor, grads: list[torch.Tensor], lr: float = MOMENTUM_LR, momentum: float = MOMENTUM
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(V, velocity) after each step of torch.optim.SGD(lr, momentum) fed these gradients."""
    parameter = V.clone().requires_grad_(True)
    optimizer = torch.optim.SGD([parameter], lr=lr, momentum=momentum)
    states = []
    for grad in grads:
        parameter.grad = grad.clone()
        optimizer.step()
        velocity = optimizer.state[parameter]["momentum_buffer"]
        states.append((parameter.detach().numpy().copy(), velocity.numpy().copy()))
    return states


def _step_pair(answer: Any, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The answer's (new_V, new_velocity) as arrays of V's shape, or a _Wrong."""
    if not isinstance(answer, (tuple, list)):
        raise _Wrong(
            f"returned {_describe(answer)}, not the pair (new_V, new_velocity) — return both: "
            "`return V, velocity`"
        )
    if len(answer) != 2:
        raise _Wrong(f"returned {_describe(answer)}, not a pair — return (new_V, new_velocity)")
    pair = tuple(_array(item, f"a {_shape(shape)} tensor like V") for item in answer)
    for name, array in zip(("new_V", "new_velocity"), pair, strict=True):
        if array.shape != shape:
            raise _Wrong(f"{name} is {_shape(array.shape)} — it has V's shape, {_shape(shape)}")
        _finite(array, f"{name} must stay finite: one small step from finite V and grad")
    return pair


def _check_momentum_step(fn: Callable, seed: int | None = None, size: int | None = None) -> str:
    V, grads = _momentum_inputs(seed, size)
    lr, momentum = _momentum_settings(seed)
    current_V, current_velocity = V.clone(), torch.zeros_like(V)
    for step, (grad, (expected_V, expected_velocity)) in enumerate(
        zip(grads, _sgd_states(V, grads, lr, momentum), strict=True), start=1
    ):
        answer = _call(fn, current_V.clone(), grad.clone(), current_velocity.clone(), lr, momentum)
        new_V, new_velocity = _step_pair(answer, tuple(V.shape))
        if not (_close(new_V, expected_V) and _close(new_velocity, expected_velocity)):
            _diagnose_momentum(
                step,
                new_V,
                new_velocity,
                current_V.numpy(),
                current_velocity.numpy(),
                grad.numpy(),
                lr,
                momentum,
            )
        current_V, current_velocity = torch.from_numpy(new_V), torch.from_numpy(new_velocity)
    return (
        f"matches torch.optim.SGD(lr={lr}, momentum={momentum}) over {MOMENTUM_STEPS} successive steps, "
        "V and velocity"
    )


def _diagnose_momentum(
    step: int,
    new_V: np.ndarray,
    new_velocity: np.ndarray,
    V: np.ndarray,
    velocity: np.ndarray,
    grad: np.ndarray,
    lr: float = MOMENTUM_LR,
    momentum: float = MOMENTUM,
) -> None:
    """The _Wrong for a momentum step whose (new_V, new_velocity) differ from torch's."""
    expected_velocity = momentum * velocity + grad
    expected_V = V - lr * expected_velocity
    at = f"at step {step}, "
    if _close(new_V, expected_velocity) and _close(new_velocity, expected_V):
        raise _Wrong(f"{at}the pair is swapped (velocity, V) — return (new_V, new_velocity), in that order")
    folded = momentum * velocity + lr * grad
    if _close(new_velocity, folded) or _close(new_velocity, -folded):
        raise _Wrong(
            f"{at}the velocity includes the learning rate — torch keeps the velocity without the learning "
            "rate: velocity = momentum * velocity + grad, then V = V - lr * velocity"
        )
    if _close(new_velocity, velocity) and not _close(velocity, expected_velocity):
        raise _Wrong(
            f"{at}the velocity is returned unchanged — update it: velocity = momentum * velocity + grad, "
            "and return the new one"
        )
    if _close(new_velocity, -expected_velocity):
        raise _Wrong(f"{at}the velocity has the wrong sign — velocity = momentum * velocity + grad")
    if _close(new_velocity, momentum * velocity + (1 - momentum) * grad):
        raise _Wrong(
            f"{at}the velocity averages, (1 - momentum) * grad — torch adds the whole gradient: "
            "velocity = momentum * velocity + grad"
        )
    if step > 1 and (_close(new_velocity, grad) or _close(new_V, V - lr * grad)):
        raise _Wrong(
            f"{at}momentum is ignored (V moved by lr * grad alone) — velocity = momentum * velocity + grad, "
            "then V = V - lr * velocity"
        )
    if _close(new_V, V + lr * expected_velocity):
        raise _Wrong(f"{at}the step is added, so V climbs the cost — subtract it: V = V - lr * velocity")
    if not _close(new_velocity, expected_velocity):
        raise _Wrong(
            f"{at}wrong velocity, {_difference(new_velocity, expected_velocity)} — "
            "velocity = momentum * velocity + grad"
        )
    raise _Wrong(
        f"{at}wrong new V, {_difference(new_V, expected_V)} — V = V - lr * velocity, with the new velocity"
    )


def check_momentum_step(fn: Callable, *, seed: int | None = None, size: int | None = None) -> Verdict:
    """Check ``fn(V, grad, velocity, lr, momentum) -> (new_V, new_velocity)``: one step of SGD with
    heavy-ball momentum exactly as torch.optim.SGD takes it, over three successive steps; ``seed``
    draws another V, other gradients and another lr and momentum, ``size`` V's columns."""

    def check(answer: Callable) -> str:
        return _check_momentum_step(answer, seed, size)

    check.__name__ = "_check_momentum_step"
    return _verdict("momentum step", fn, check)


# ---------------------------------------------------------------------------------------------
# 4. Recommending by mean cosine similarity

RECOMMEND_INPUTS = (0, 3)
RECOMMEND_TOP_N = 5
ZERO_MOVIE = 5
#: d = 3, n = 10; built so that each mistake gives another list: the inputs are close (either would
#: rank first), movie 4 is long (it wins under the dot product), movie 5 is the zero vector (its
#: score 0 puts it fifth), the inputs' lengths differ (3 and 0.5) and movies 7 to 9 score below 0.
RECOMMEND_DIRECTIONS = (
    (3.0, (1.0, 0.0, 0.0)),
    (1.0, (1.0, 0.1, 0.5)),
    (1.2, (1.0, -0.3, 0.6)),
    (0.5, (0.7, 0.7, 0.1)),
    (9.0, (0.3, 0.4, 0.85)),
    (0.0, (1.0, 0.0, 0.0)),
    (1.0, (0.2, 1.0, 0.3)),
    (1.0, (-1.0, 0.1, 0.2)),
    (0.8, (0.1, -1.0, 0.2)),
    (1.1, (-0.5, -0.5, -0.4)),
)


def _recommend_embeddings() -> torch.Tensor:
    """The recommender exercise's d x n embeddings (float32, as training gives them)."""
    columns = [
        length * np.array(direction) / np.linalg.norm(direction) for length, direction in RECOMMEND_DIRECTIONS
    ]
    return torch.tensor(np.stack(columns, axis=1), dtype=torch.float32)


def _mean_scores(
    embeddings: np.ndarray,
    normalise_inputs: bool = True,
    normalise_movies: bool = True,
    inputs: tuple[int, ...] = RECOMMEND_INPUTS,
) -> np.ndarray:
    """Each movie's mean similarity to the inputs: cosine when both sides are normalised (zero
    vectors score 0), dot products when neither is."""
    norms = np.linalg.norm(embeddings, axis=0)
    unit = embeddings * np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    queries = (unit if normalise_inputs else embeddings)[:, list(inputs)]
    return (queries.T @ (unit if normalise_movies else embeddings)).mean(axis=0)


def _ranked(
    scores: np.ndarray, exclude_inputs: bool = True, inputs: tuple[int, ...] = RECOMMEND_INPUTS
) -> list[int]:
    """Movies by decreasing score (ties to the lower index), inputs left out unless told otherwise."""
    candidates = [j for j in range(len(scores)) if not (exclude_inputs and j in inputs)]
    return sorted(candidates, key=lambda j: (-scores[j], j))


RecommendCase = tuple[torch.Tensor, tuple[int, ...], int, int]


def _recommend_case(seed: int | None = None, size: int | None = None) -> RecommendCase:
    """(embeddings, inputs, top_n, zero movie): the book's without a seed; with one, ``size``
    movies (default 12) drawn as the book's are built: two inputs of different lengths, one long
    movie, one zero vector whose score 0 ends the correct list, and the dot product, unnormalised
    inputs and a NaN for the zero vector each giving another list."""
    if seed is None and size is None:
        return _recommend_embeddings(), RECOMMEND_INPUTS, RECOMMEND_TOP_N, ZERO_MOVIE
    rng = np.random.default_rng(seed)
    n = max(8, size or 12)
    while True:
        directions = rng.standard_normal((3, n))
        directions /= np.linalg.norm(directions, axis=0)
        lengths = rng.uniform(0.5, 1.5, n)
        inputs = tuple(int(j) for j in rng.choice(n, 2, replace=False))
        others = [j for j in range(n) if j not in inputs]
        zero, long = (int(j) for j in rng.choice(others, 2, replace=False))
        lengths[list(inputs)] = (3.0, 0.5)
        lengths[long], lengths[zero] = 9.0, 0.0
        embeddings = (directions * lengths).astype(np.float32).astype(np.float64)
        scores = _mean_scores(embeddings, inputs=inputs)
        top_n = sum(1 for j in others if scores[j] > 0) + 1
        if not 3 <= top_n <= n - 4:
            continue
        ranking = _ranked(scores, inputs=inputs)
        expected = ranking[:top_n]
        rest = [j for j in ranking if j != zero]
        slips = [
            _ranked(_mean_scores(embeddings, False, False, inputs), inputs=inputs)[:top_n],
            _ranked(_mean_scores(embeddings, normalise_movies=False, inputs=inputs), inputs=inputs)[:top_n],
            _ranked(_mean_scores(embeddings, normalise_inputs=False, inputs=inputs), inputs=inputs)[:top_n],
            [zero, *rest[: top_n - 1]],
            rest[:top_n],
        ]
        if expected[-1] == zero and all(slip != expected for slip in slips):
            return torch.tensor(embeddings, dtype=torch.float32), inputs, top_n, zero


def _check_recommender(fn: Callable, seed: int | None = None, size: int | None = None) -> str:
    embeddings, inputs, top_n, zero_movie = _recommend_case(seed, size)
    n = embeddings.shape[1]
    answer = _call(fn, embeddings.clone(), list(inputs), top_n)
    if isinstance(answer, tuple) and hasattr(answer, "indices") and hasattr(answer, "values"):
        raise _Wrong("returned torch.topk's (values, indices) — return its .indices")
    picked_values = _array(answer, f"a list of {top_n} movie indices")
    if picked_values.ndim != 1:
        raise _Wrong(
            f"returned shape {_shape(picked_values.shape)}, not a flat list — return {top_n} indices"
        )
    _finite(picked_values, f"return {top_n} movie indices (integers), best first")
    if (picked_values != np.round(picked_values)).any():
        raise _Wrong(
            "returned scores, not movie indices — return the indices of the top_n scores "
            "(e.g. torch.topk(scores, top_n).indices, or an argsort)"
        )
    picked = [int(index) for index in picked_values]
    if len(picked) != top_n:
        raise _Wrong(
            f"returned {len(picked)} movies, not top_n = {top_n} — keep the first top_n of the ranking"
        )
    if any(not 0 <= index < n for index in picked):
        raise _Wrong(
            f"returned {picked}: indices run from 0 to n - 1 = {n - 1} — return column indices of embeddings"
        )
    if len(set(picked)) != len(picked):
        raise _Wrong(f"returned {picked}, with a movie twice — each movie once, best first")
    scores = _mean_scores(embeddings.numpy().astype(np.float64), inputs=inputs)
    ranking = _ranked(scores, inputs=inputs)
    expected = ranking[:top_n]
    if picked == expected:
        return (
            f"top {top_n} by mean cosine similarity, inputs excluded, a zero-vector movie scored 0, on "
            f"{n} movies built so that the dot product, kept inputs or NaN give other lists"
        )
    kept = [index for index in picked if index in inputs]
    if kept:
        raise _Wrong(
            f"the inputs are not excluded ({kept} recommended) — leave the input movies out of the list"
        )
    others = [index for index in ranking if index != zero_movie]
    if picked in ([zero_movie, *others[: top_n - 1]], others[:top_n]):
        moved = "to the top" if picked[0] == zero_movie else "out of the list"
        raise _Wrong(
            f"movie {zero_movie}, whose embedding is the zero vector, scored NaN (0/0) and moved {moved} — "
            "score it 0: divide by the norm only where it is > 0 "
            "(or use torch.nn.functional.cosine_similarity)"
        )
    embedding_array = embeddings.numpy().astype(np.float64)
    unnormalised = (
        _ranked(_mean_scores(embedding_array, False, False, inputs), inputs=inputs)[:top_n],
        _ranked(_mean_scores(embedding_array, normalise_movies=False, inputs=inputs), inputs=inputs)[:top_n],
    )
    longest = int(np.argmax(np.linalg.norm(embedding_array, axis=0)))
    if picked in unnormalised:
        raise _Wrong(
            f"not normalised: ranked by the dot product, so long embeddings win (movie {longest}) — divide "
            "by the norms: score each movie by its mean cosine similarity to the inputs"
        )
    if (
        picked
        == _ranked(_mean_scores(embedding_array, normalise_inputs=False, inputs=inputs), inputs=inputs)[
            :top_n
        ]
    ):
        raise _Wrong(
            "the inputs are not normalised (the long input outweighs the short one) — average the cosines, "
            "each input's embedding divided by its norm"
        )
    if sorted(picked) == sorted(expected):
        raise _Wrong(f"the right movies in the wrong order ({picked}, expected {expected}) — best first")
    raise _Wrong(
        f"expected {expected}, got {picked} — score each movie by its mean cosine similarity to the "
        "inputs, leave the inputs out, and return the top_n indices, best first"
    )


def check_recommender(fn: Callable, *, seed: int | None = None, size: int | None = None) -> Verdict:
    """Check ``fn(embeddings, inputs, top_n) -> indices``: the top_n movies by mean cosine similarity
    to the inputs, best first, inputs excluded, a zero-vector movie scoring 0; ``seed`` and ``size``
    (movies) draw other embeddings, inputs and top_n, built as the book's are."""

    def check(answer: Callable) -> str:
        return _check_recommender(answer, seed, size)

    check.__name__ = "_check_recommender"
    return _verdict("recommender", fn, check)


# ---------------------------------------------------------------------------------------------
# 5. The training loop

LOOP_EPOCHS = 5
LOOP_LR = 0.1
LOOP_RTOL = 1e-7
LOOP_TARGET = ((1.0, -2.0, 0.5), (3.0, 0.0, -1.0))
LOOP_WEIGHTS = ((1.0, 2.0, 0.5), (1.5, 1.0, 3.0))


def _quadratic_cost(V: torch.Tensor) -> torch.Tensor:
    """A weighted quadratic cost with its minimum at LOOP_TARGET."""
    target = torch.tensor(LOOP_TARGET, dtype=V.dtype)
    weights = torch.tensor(LOOP_WEIGHTS, dtype=V.dtype)
    return (weights * (V - target).square()).sum()


def _loop_start(seed: int | None = None) -> tuple[torch.Tensor, torch.optim.Optimizer]:
    """A fresh leaf V (seeded, 5 unless told otherwise, float64) and plain SGD over it."""
    generator = torch.Generator().manual_seed(5 if seed is None else seed)
    V = torch.randn(2, 3, generator=generator, dtype=torch.float64).requires_grad_(True)
    return V, torch.optim.SGD([V], lr=LOOP_LR)


def _loop_costs(
    zero_grad: bool = True, after_step: bool = False, seed: int | None = None, epochs: int = LOOP_EPOCHS
) -> np.ndarray:
    """The costs a loop records: the correct one, or one without zero_grad, or after the step."""
    V, optimizer = _loop_start(seed)
    costs = []
    for _ in range(epochs):
        if zero_grad:
            optimizer.zero_grad()
        cost = _quadratic_cost(V)
        cost.backward()
        optimizer.step()
        costs.append(float(_quadratic_cost(V) if after_step else cost))
    return np.array(costs)


def _check_training_loop(fn: Callable, seed: int | None = None, size: int | None = None) -> str:
    epochs = LOOP_EPOCHS if size is None else max(2, size)
    V, optimizer = _loop_start(seed)
    answer = _call(fn, _quadratic_cost, V, optimizer, epochs)
    every_epoch = "return the list of every epoch's cost, one float each"
    if isinstance(answer, (int, float, np.number)) or (isinstance(answer, torch.Tensor) and answer.ndim == 0):
        raise _Wrong(f"returned one number, not a list — {every_epoch}")
    if isinstance(answer, torch.Tensor):
        raise _Wrong(f"returned a tensor — {every_epoch}: costs.append(float(cost))")
    if not isinstance(answer, (list, tuple, np.ndarray)):
        raise _Wrong(f"returned {_describe(answer)}, not a list — {every_epoch}")
    tensors = [item for item in answer if isinstance(item, torch.Tensor)]
    if any(item.requires_grad for item in tensors):
        raise _Wrong("the list holds tensors, not floats — keep float(cost): a tensor keeps its graph alive")
    if tensors:
        raise _Wrong("the list holds tensors, not floats — append float(cost) (or cost.item())")
    costs = _array(answer, "a list of floats")
    if costs.ndim != 1:
        raise _Wrong(f"returned shape {_shape(costs.shape)}, not a flat list — {every_epoch}")
    expected = _loop_costs(seed=seed, epochs=epochs)
    if _close(costs, expected, rtol=LOOP_RTOL):
        return (
            f"returns the {epochs} costs as floats, each before its step, matching a correct loop "
            "(zero_grad, cost, backward, step) on a quadratic cost with SGD"
        )
    if len(costs) == 1 and epochs > 1 and np.isclose(costs[0], expected[-1], rtol=LOOP_RTOL):
        raise _Wrong(
            "only the last cost is returned — `costs = []` is inside the loop: create the list once, "
            "before it"
        )
    if len(costs) != epochs:
        raise _Wrong(f"returned {len(costs)} costs for epochs = {epochs} — record one cost per epoch")
    _finite(costs, "record float(cost) of each epoch's cost_fn(V); SGD on this small cost does not diverge")
    if np.allclose(costs, expected[0], rtol=LOOP_RTOL):
        raise _Wrong(
            "the cost never changes — each epoch: optimizer.zero_grad(), cost.backward(), then "
            "optimizer.step() (zero_grad between backward and step erases the gradient)"
        )
    if _close(costs, _loop_costs(zero_grad=False, seed=seed, epochs=epochs), rtol=LOOP_RTOL):
        raise _Wrong(
            "gradients accumulate: optimizer.zero_grad() is missing — call it each epoch, before "
            "cost.backward()"
        )
    if _close(costs, _loop_costs(after_step=True, seed=seed, epochs=epochs), rtol=LOOP_RTOL):
        raise _Wrong(
            "each cost is recorded after the step — record float(cost) of the cost computed before "
            "optimizer.step()"
        )
    (epoch,) = _first_difference(costs, expected, LOOP_RTOL)
    raise _Wrong(
        f"wrong costs, e.g. at epoch {epoch}: expected {_num(expected[epoch])}, got "
        f"{_num(costs[epoch])} — each epoch: zero_grad(), cost = cost_fn(V), cost.backward(), "
        "costs.append(float(cost)), step()"
    )


def check_training_loop(fn: Callable, *, seed: int | None = None, size: int | None = None) -> Verdict:
    """Check ``fn(cost_fn, V, optimizer, epochs) -> costs``: the full-batch training loop, returning each
    epoch's cost as a float, recorded before the step, against a correct loop; ``seed`` draws another
    start V, ``size`` is the number of epochs (default 5)."""

    def check(answer: Callable) -> str:
        return _check_training_loop(answer, seed, size)

    check.__name__ = "_check_training_loop"
    return _verdict("training loop", fn, check)


# ---------------------------------------------------------------------------------------------
# 6. NDCG@k

#: (ranked, relevant, k): hits beyond k, more relevant items than k, a perfect ranking.
NDCG_CASES = (
    ((5, 2, 9, 1, 7, 3, 8, 4), frozenset({2, 7, 8, 4}), 5),
    ((3, 8, 1, 6, 2, 0, 4), frozenset({8, 6, 0, 4, 9, 5}), 3),
    ((4, 1, 6, 0), frozenset({1, 4}), 3),
)
NDCG_EMPTY = ((2, 0, 1), frozenset(), 3)
NDCG_RTOL = 1e-9
NDCG_FORMULA = "DCG = sum over the first k items of rel / log2(p + 1), p = 1, 2, ...; divide by the ideal DCG"


def _ndcg(
    ranked: tuple[int, ...],
    relevant: frozenset[int],
    k: int,
    shift: int = 0,
    discounted: bool = True,
    cut_at_k: bool = True,
    ideal_of_all: bool = False,
) -> float:
    """NDCG@k with binary relevance (0.0 with nothing relevant); the flags make its typical mistakes."""
    if not relevant:
        return 0.0

    def discounts(count: int) -> np.ndarray:
        positions = np.arange(1, count + 1)
        return 1.0 / np.log2(positions + 1 + shift) if discounted else np.ones(count)

    shown = ranked[:k] if cut_at_k else ranked
    hits = np.array([item in relevant for item in shown])
    ideal = discounts(len(relevant) if ideal_of_all else min(k, len(relevant))).sum()
    return float(discounts(len(shown))[hits].sum() / ideal)


LOG2_OF_ONE = (
    "is a discount 1 / log2(1) = 1 / 0 (inf, and inf / inf is NaN)? Position p (1-based) is discounted "
    "by log2(p + 1)"
)
NDCG_MISTAKES = (
    (
        {"discounted": False},
        "no discount: every hit counts 1 — divide the hit at position p (1-based) by log2(p + 1)",
    ),
    ({"cut_at_k": False}, "k is ignored: hits beyond the first k items count — score only ranked[:k]"),
    (
        {"cut_at_k": False, "ideal_of_all": True},
        "k is ignored: hits beyond the first k items count — score only ranked[:k], and the ideal DCG "
        "over min(k, |relevant|) items",
    ),
    (
        {"ideal_of_all": True},
        "the ideal DCG counts all relevant items — at most k fit in the top k: the ideal DCG is over "
        "min(k, |relevant|) items",
    ),
    ({"shift": -1}, "off by one in the discount (log2(p)): " + LOG2_OF_ONE),
    (
        {"shift": 1},
        "off by one in the discount (log2(p + 2)) — position p (1-based) is discounted by log2(p + 1), "
        "so the first item counts 1",
    ),
)


def _case_text(ranked: tuple[int, ...], relevant: frozenset[int], k: int) -> str:
    """One NDCG case as the call's arguments read."""
    shown = "{" + ", ".join(str(item) for item in sorted(relevant)) + "}" if relevant else "set()"
    return f"ranked={list(ranked)}, relevant={shown}, k={k}"


def _check_ndcg(fn: Callable) -> str:
    answers = []
    for number, (ranked, relevant, k) in enumerate(NDCG_CASES):
        text = _case_text(ranked, relevant, k)
        hints = {ZeroDivisionError: LOG2_OF_ONE, ValueError: "log2(0) is undefined: " + LOG2_OF_ONE}
        on_none = f"returned None on {text} — every path must `return` the NDCG, a float"
        answer = _call(
            fn,
            list(ranked),
            set(relevant),
            k,
            inputs=text,
            hints=hints,
            on_none=on_none if number else RETURNED_NONE,
        )
        answers.append(_number(answer, "one float, the NDCG@k"))
    expected = [_ndcg(*case) for case in NDCG_CASES]
    if not np.allclose(answers, expected, rtol=NDCG_RTOL, atol=1e-12):
        for flags, message in NDCG_MISTAKES:
            mistaken = [_ndcg(*case, **flags) for case in NDCG_CASES]
            if np.allclose(answers, mistaken, rtol=NDCG_RTOL, atol=1e-12, equal_nan=True):
                raise _Wrong(message)
        for value, case in zip(answers, NDCG_CASES, strict=True):
            if not np.isfinite(value):
                kind = "NaN" if np.isnan(value) else "inf"
                raise _Wrong(f"returned {kind} on {_case_text(*case)} — {LOG2_OF_ONE}")
        (i,) = _first_difference(np.array(answers), np.array(expected), NDCG_RTOL)
        raise _Wrong(
            f"wrong NDCG on {_case_text(*NDCG_CASES[i])}: expected {_num(expected[i])}, got "
            f"{_num(answers[i])} — {NDCG_FORMULA} of min(k, |relevant|) hits"
        )
    ranked, relevant, k = NDCG_EMPTY
    empty = "return 0.0 when relevant is empty (the ideal DCG is 0, so NDCG would be 0/0)"
    answer = _call(
        fn,
        list(ranked),
        set(relevant),
        k,
        inputs="an empty relevant set",
        hints={ZeroDivisionError: empty},
        on_none=f"returned None for an empty relevant set — {empty}",
    )
    value = _number(answer, "one float, the NDCG@k")
    if np.isnan(value):
        raise _Wrong(f"returned NaN for an empty relevant set — {empty}")
    if value != 0.0:
        raise _Wrong(f"returned {_num(value)} for an empty relevant set — {empty}")
    return (
        f"NDCG@k on {len(NDCG_CASES)} rankings (hits beyond k, more relevant items than k, a perfect one) "
        "and 0.0 for an empty relevant set"
    )


def check_ndcg(fn: Callable) -> Verdict:
    """Check ``fn(ranked, relevant, k) -> float``: NDCG@k with binary relevance and the 1/log2(p + 1)
    discount, over min(k, |relevant|) ideal hits, 0.0 when nothing is relevant."""
    return _verdict("NDCG@k", fn, _check_ndcg)


# ---------------------------------------------------------------------------------------------
# 7. The largest eigenvalue

EIGEN_RTOL = 1e-6


def _symmetric(eigenvalues: tuple[float, ...], seed: int) -> np.ndarray:
    """Q diag(eigenvalues) Q^T for a seeded random orthogonal Q."""
    size = len(eigenvalues)
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((size, size)))
    matrix = Q @ np.diag(eigenvalues) @ Q.T
    return (matrix + matrix.T) / 2


def _eigen_matrices() -> list[tuple[str, np.ndarray]]:
    """The exercise's symmetric matrices, each with what makes it a test."""
    likes = (np.random.default_rng(11).random((8, 6)) < 0.5).astype(np.float64)
    colikes = likes.T @ likes
    np.fill_diagonal(colikes, 0.0)
    return [
        ("a 6 x 6 co-like matrix", colikes),
        (
            "a matrix whose two largest eigenvalues are close (10 and 9)",
            _symmetric((10, 9, 3, 1, 0.5, 0.2), 12),
        ),
        (
            "a matrix whose most negative eigenvalue (-5) outweighs its largest (3)",
            _symmetric((-5, 3, 1.5, 1, 0.3, -0.5), 13),
        ),
    ]


def _near(value: float, target: float, scale: float) -> bool:
    """Whether ``value`` is ``target`` to 1e-3 of ``scale``: close enough to name what it converged to."""
    return abs(value - target) <= 1e-3 * scale


def _check_largest_eigenvalue(fn: Callable) -> str:
    for label, X in _eigen_matrices():
        eigenvalues = np.linalg.eigvalsh(X)
        largest, smallest = float(eigenvalues[-1]), float(eigenvalues[0])
        radius = max(abs(largest), abs(smallest))
        answer = _call(fn, X.copy(), inputs=label)
        if isinstance(answer, (tuple, list)) and len(answer) == 2:
            raise _Wrong(f"returned a pair on {label} — return only the eigenvalue, one float")
        if isinstance(answer, (np.ndarray, torch.Tensor, list)) and np.size(_array(answer, "a float")) == len(
            X
        ):
            raise _Wrong(
                "returned a vector (the eigenvector?), not the eigenvalue — return the Rayleigh quotient "
                "v^T X v / v^T v, one float"
            )
        value = _number(answer, "one float, the largest eigenvalue")
        if not np.isfinite(value):
            raise _Wrong(
                f"returned {'NaN' if np.isnan(value) else 'inf'} on {label} — normalise v after each "
                "multiplication (v = X v / ||X v||), starting from a non-zero random vector"
            )
        if abs(value - largest) <= EIGEN_RTOL * abs(largest):
            continue

        if abs(value) > radius * (1 + EIGEN_RTOL):
            raise _Wrong(
                f"on {label}, {_num(value)} is larger than any eigenvalue (the largest |eigenvalue| is "
                f"{_num(radius)}): v is not normalised — return v^T X v / v^T v (or v^T X v with ||v|| = 1)"
            )
        if _near(value, smallest, radius) and -smallest > largest:
            raise _Wrong(
                f"on {label}, power iteration converged to the most negative eigenvalue ({_num(smallest)}), "
                "the largest in magnitude — shift: iterate on X + c I with c >= |most negative eigenvalue| "
                "(e.g. c = the largest row sum of |X|), then subtract c"
            )
        if _near(value, smallest, radius):
            raise _Wrong(
                f"on {label}, returned the smallest eigenvalue ({_num(smallest)}) — np.linalg.eigvalsh sorts "
                "ascending: the largest is the last"
            )
        if _near(value, radius, radius) and radius > largest * (1 + EIGEN_RTOL):
            raise _Wrong(
                f"on {label}, returned the largest |eigenvalue| ({_num(radius)}), not the largest "
                f"eigenvalue ({_num(largest)}) — ||X v|| loses the sign: use v^T X v, and shift X by c I "
                "when a negative eigenvalue is larger in magnitude"
            )
        if abs(value - largest) <= 1e-2 * abs(largest):
            raise _Wrong(
                f"not converged on {label}: {_num(value)}, but the largest eigenvalue is {_num(largest)} "
                f"(relative error {abs(value - largest) / abs(largest):.1g}) — iterate until the change "
                "is below 1e-9"
            )
        if any(_near(value, float(other), radius) for other in eigenvalues):
            raise _Wrong(
                f"on {label}, returned another eigenvalue ({_num(value)}), not the largest "
                f"({_num(largest)}) — start from a random vector and iterate until the change is below 1e-9"
            )
        raise _Wrong(
            f"on {label}, expected {_num(largest)}, got {_num(value)} — compare with "
            "np.linalg.eigvalsh(X)[-1]"
        )
    return (
        "equals np.linalg.eigvalsh's largest (relative 1e-6) on a co-like matrix, one with a close second "
        "eigenvalue, and one whose most negative eigenvalue is larger in magnitude"
    )


def check_largest_eigenvalue(fn: Callable) -> Verdict:
    """Check ``fn(X) -> float``: the largest eigenvalue of a symmetric X (e.g. by power iteration),
    against np.linalg.eigvalsh to a relative 1e-6."""
    return _verdict("largest eigenvalue", fn, _check_largest_eigenvalue)


# ---------------------------------------------------------------------------------------------
# 8. EASE

EASE_LAMBDA = 2.0


def _ease_likes() -> np.ndarray:
    """12 users x 5 movies of seeded 0/1 likes, L^T L invertible (so a missing lambda shows)."""
    return (np.random.default_rng(17).random((12, 5)) < 0.45).astype(np.float64)


def _ease(L: np.ndarray, lam: float, ridge: str = "diagonal") -> np.ndarray:
    """B = I - P / diag(P), P = (L^T L + lam I)^-1; ``ridge`` "none" or "everywhere" for the mistakes."""
    n = L.shape[1]
    added = {"diagonal": lam * np.eye(n), "none": 0.0, "everywhere": lam}[ridge]
    P = np.linalg.inv(L.T @ L + added)
    return np.eye(n) - P / np.diag(P)


def _check_ease(fn: Callable) -> str:
    L, lam = _ease_likes(), EASE_LAMBDA
    users, n = L.shape
    B = _array(_call(fn, L.copy(), lam), f"B, the {n} x {n} item-item weights")
    expected = _ease(L, lam)
    if B.shape != (n, n):
        if B.shape == (users, n) and _close(B, L @ expected):
            raise _Wrong(f"returned the scores L B ({users} x {n}) — return B itself, {n} x {n}")
        if B.shape == (users, users):
            raise _Wrong(
                f"B is {users} x {users}, users x users — B is movies x movies, from L^T L (not L L^T)"
            )
        raise _Wrong(f"B is {_shape(B.shape)}, not {n} x {n} — one row and one column per movie")
    _finite(B, "L^T L + lambda I is invertible, so B is finite: B = I - P / diag(P)")
    if _close(B, expected):
        return (
            f"B = I - P / diag(P), P = (L^T L + λI)^-1, zero diagonal, on {users} users x {n} movies, "
            f"λ = {lam}"
        )
    off = ~np.eye(n, dtype=bool)
    if _close(B[off], expected[off]):
        i = int(np.argmax(np.abs(np.diag(B))))
        raise _Wrong(
            f"the diagonal is not zero (B[{i}, {i}] = {_num(B[i, i])}) — B = I - P / diag(P) has B_jj = 0: "
            "a movie may not predict itself"
        )
    if _close(B, expected.T):
        raise _Wrong(
            "rows divided instead of columns (B is transposed) — divide each column j by P_jj: "
            "P / np.diag(P) broadcasts over the columns"
        )
    if _close(B, -expected):
        raise _Wrong("the sign is flipped — B = I - P / diag(P)")
    if _close(B, np.linalg.inv(L.T @ L + lam * np.eye(n))):
        raise _Wrong("returned P = (L^T L + λI)^-1 itself — B = I - P / diag(P)")
    if _close(B, _ease(L, lam, ridge="none")):
        raise _Wrong("λ is not added to the diagonal — P = (L^T L + λ I)^-1")
    if _close(B, _ease(L, lam, ridge="everywhere")):
        raise _Wrong("λ is added to every entry — add it to the diagonal only: L^T L + λ I (np.eye)")
    raise _Wrong(
        f"wrong values, e.g. {_difference(B, expected)} — P = (L^T L + λ I)^-1, then B = I - P / diag(P)"
    )


def check_ease(fn: Callable) -> Verdict:
    """Check ``fn(L, lam) -> B``: EASE's item-item weights (Steck 2019), B = I - P / diag(P) with
    P = (L^T L + lam I)^-1, so diag(B) = 0."""
    return _verdict("EASE", fn, _check_ease)
