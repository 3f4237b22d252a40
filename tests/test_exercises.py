"""The exercise checkers: right answers pass, each named mistake fails with its own message, and no
answer, however broken, makes a checker raise."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

import movierec as mr
from movierec.book import exercises
from movierec.book.exercises import (
    NOT_WRITTEN,
    Verdict,
    check_colikes,
    check_cost_gradient,
    check_ease,
    check_largest_eigenvalue,
    check_momentum_step,
    check_ndcg,
    check_recommender,
    check_training_loop,
)
from movierec.judging.baselines import Ease
from movierec.judging.evaluate import user_ndcg


def verdict(check, answer) -> Verdict:
    """check(answer), held to the verdict's form: a Verdict whose every rendering is one line."""
    result = check(answer)
    assert isinstance(result, Verdict)
    for text in (str(result), repr(result), result._repr_html_()):
        assert "\n" not in text
    assert str(result).startswith(
        f"✓ {result.exercise}: correct — " if result.ok else f"✗ {result.exercise}: "
    )
    return result


def passes(check, answer) -> None:
    result = verdict(check, answer)
    assert result.ok, str(result)


def fails(check, answer, fragment: str) -> None:
    result = verdict(check, answer)
    assert not result.ok, str(result)
    assert fragment in result.message, str(result)


# --- 1. co-likes ---------------------------------------------------------------------------------


def colikes(ratings, movie_ids, liked=lambda rating: rating >= 4, zero_diagonal=True, order=None):
    """The right answer, or, through its arguments, a typical mistake."""
    kept = ratings[liked(ratings["rating"])]
    L = pd.crosstab(kept["userId"], kept["movieId"]).reindex(columns=order or movie_ids, fill_value=0)
    X = L.to_numpy().T @ L.to_numpy()
    if zero_diagonal:
        np.fill_diagonal(X, 0)
    return X


def rated_products(ratings, movie_ids, fill=0.0):
    """R^T R of the liked ratings' values: a mistake (NaN where unrated unless filled)."""
    R = ratings.pivot(index="userId", columns="movieId", values="rating").reindex(columns=movie_ids)
    if fill is not None:
        R = R.fillna(fill)
    R = R.where(R >= 4, 0.0 if fill is not None else R).to_numpy()
    return R.T @ R


def test_colikes_right_answers_pass():
    passes(check_colikes, lambda ratings, ids, t: colikes(ratings, ids, liked=lambda x: x >= t))
    passes(check_colikes, lambda ratings, ids, t: torch.tensor(colikes(ratings, ids, liked=lambda x: x >= t)))
    passes(
        check_colikes, lambda ratings, ids, t: sp.csr_matrix(colikes(ratings, ids, liked=lambda x: x >= t))
    )
    verdict = check_colikes(lambda ratings, ids, t: colikes(ratings, ids, liked=lambda x: x >= t), 3.5)
    assert verdict.ok and "thresholds 3.5 and 4" in str(verdict)


def right(r, ids, t, **mistake):
    return colikes(r, ids, **{"liked": lambda x: x >= t, **mistake})


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (
            lambda r, ids, t: right(r, ids, t, zero_diagonal=False),
            "the diagonal counts each movie's own likes",
        ),
        (lambda r, ids, t: right(r, ids, t, liked=lambda x: x > t), "ratings of exactly 4 are left out"),
        (
            lambda r, ids, t: right(r, ids, t, liked=lambda x: x > t, zero_diagonal=False),
            "ratings of exactly 4 are left out",
        ),
        (
            lambda r, ids, t: right(r, ids, t, liked=lambda x: x > 0),
            "every rating is counted, not only likes",
        ),
        (lambda r, ids, t: right(r, ids, t, order=sorted(ids)), "different order than movie_ids"),
        (lambda r, ids, t: np.triu(right(r, ids, t)), "not symmetric"),
        (
            lambda r, ids, t: right(r, ids, t) + 1 - np.eye(len(ids)),
            "wrong values at threshold=4, e.g. at [0, 1]",
        ),
        (lambda r, ids, t: right(r, ids, t)[:5, :5], "movie 60, which no one rated, is missing"),
        (lambda r, ids, t: np.zeros((7, 6)), "that is L"),
        (lambda r, ids, t: right(r, ids, t).ravel(), "not 2-D"),
        (lambda r, ids, t: rated_products(r, ids), "multiplies rating values"),
        (lambda r, ids, t: rated_products(r, ids, fill=None), "fill the missing ratings with 0"),
        (
            lambda r, ids, t: colikes(r, ids),
            "called with threshold=3.5, X counts the ratings >= 4: the threshold is typed",
        ),
    ],
)
def test_colikes_mistakes_are_named(answer, fragment):
    fails(check_colikes, answer, fragment)


def test_colikes_at_the_pages_threshold_names_its_slips():
    """The page's threshold (3.5 here) reaches the checker and its messages; the second try is at 4."""
    at_35 = lambda fn: check_colikes(fn, 3.5)  # noqa: E731
    fails(
        at_35,
        lambda r, ids, t: right(r, ids, t, liked=lambda x: x > t),
        "ratings of exactly 3.5 are left out",
    )
    typed = lambda r, ids, t: colikes(r, ids, liked=lambda x: x >= 3.5)  # noqa: E731
    fails(at_35, typed, "called with threshold=4, X counts the ratings >= 3.5")


# --- 2. the cost's gradient ---------------------------------------------------------------------


def gradient(V, L):
    """The exact gradient 4[(V V^T)V - (V L^T)L + V diag(D) - V diag(s)]."""
    return 4 * ((V @ V.T) @ V - (V @ L.T) @ L + V * L.sum(dim=0) - V * V.square().sum(dim=0))


def test_gradient_right_answers_pass():
    passes(check_cost_gradient, gradient)
    passes(check_cost_gradient, lambda V, L: gradient(V, L).numpy())


def autograd_of(cost):
    def answer(V, L):
        V.requires_grad_(True)
        X = L.T @ L
        cost(V, X - torch.diag(torch.diag(X))).backward()
        return V.grad

    return answer


def test_gradient_by_autograd_passes():
    passes(check_cost_gradient, autograd_of(mr.dense_cost))


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (lambda V, L: gradient(V, L).T, "transposed"),
        (lambda V, L: gradient(V, L) / 2, "off by a factor 2 (yours is 0.5 times"),
        (lambda V, L: 2 * gradient(V, L), "off by a factor 2 (yours is 2 times"),
        (lambda V, L: gradient(V, L) / 4, "off by a factor 4"),
        (lambda V, L: 3 * gradient(V, L), "off by a constant factor: yours is 3 times"),
        (lambda V, L: -gradient(V, L), "the sign is flipped"),
        (autograd_of(lambda V, X: (V.T @ V - X).square().sum()), "the diagonal i = j is included"),
        (lambda V, L: 4 * ((V @ V.T) @ V - (V @ L.T) @ L), "with X's diagonal"),
        (lambda V, L: mr.dense_cost(V, L.T @ L), "one number (the cost?)"),
        (lambda V, L: gradient(V, L) + 0.1, "wrong values, relative error"),
        (lambda V, L: gradient(V, L)[:, :4], "it has V's shape"),
    ],
)
def test_gradient_mistakes_are_named(answer, fragment):
    fails(check_cost_gradient, answer, fragment)


def test_gradient_reference_is_the_closed_form():
    V, L = exercises._gradient_inputs()
    reference = exercises._autograd(mr.dense_cost, V, exercises._colikes_of(L))
    np.testing.assert_allclose(reference, gradient(V, L).numpy(), rtol=1e-12, atol=1e-12)


# --- 3. a momentum step -------------------------------------------------------------------------


def momentum_step(V, grad, velocity, lr, momentum):
    velocity = momentum * velocity + grad
    return V - lr * velocity, velocity


def momentum_step_in_place(V, grad, velocity, lr, momentum):
    velocity.mul_(momentum).add_(grad)
    V.sub_(lr * velocity)
    return V, velocity


def test_momentum_right_answers_pass():
    passes(check_momentum_step, momentum_step)
    passes(check_momentum_step, momentum_step_in_place)


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (lambda V, g, v, lr, m: (V - lr * g, g), "momentum is ignored"),
        (lambda V, g, v, lr, m: (V - lr * g, v), "the velocity is returned unchanged"),
        (
            lambda V, g, v, lr, m: (V - (m * v + lr * g), m * v + lr * g),
            "torch keeps the velocity without the learning rate",
        ),
        (lambda V, g, v, lr, m: (V + lr * (m * v + g), m * v + g), "the step is added"),
        (lambda V, g, v, lr, m: momentum_step(V, g, v, lr, m)[::-1], "the pair is swapped"),
        (lambda V, g, v, lr, m: (V - lr * (m * v + (1 - m) * g), m * v + (1 - m) * g), "averages"),
        (lambda V, g, v, lr, m: momentum_step(V, g, v, lr, m)[0], "not the pair (new_V, new_velocity)"),
        (lambda V, g, v, lr, m: (V - 2 * lr * (m * v + g), m * v + g), "wrong new V, at [0, 0]"),
    ],
)
def test_momentum_mistakes_are_named(answer, fragment):
    fails(check_momentum_step, answer, fragment)


# --- 4. the recommender -------------------------------------------------------------------------


def mean_cosines(embeddings, inputs, normalise=torch.nn.functional.normalize, inputs_too=True):
    unit = normalise(embeddings, dim=0)
    return ((unit if inputs_too else embeddings)[:, inputs].T @ unit).mean(dim=0)


def recommender(embeddings, inputs, top_n):
    scores = mean_cosines(embeddings, inputs)
    scores[inputs] = -math.inf
    return torch.topk(scores, top_n).indices


def recommender_numpy(embeddings, inputs, top_n):
    vectors = embeddings.numpy()
    norms = np.linalg.norm(vectors, axis=0)
    unit = vectors / np.where(norms > 0, norms, 1)
    scores = (unit[:, inputs].T @ unit).mean(axis=0)
    order = [int(j) for j in np.argsort(-scores, kind="stable") if j not in inputs]
    return order[:top_n]


def nan_cosines(embeddings, dim):
    return embeddings / embeddings.norm(dim=dim)


def without_exclusion(embeddings, inputs, top_n):
    return torch.topk(mean_cosines(embeddings, inputs), top_n).indices


def by(scores_of):
    """A recommender ranking by scores_of(embeddings, inputs), inputs excluded."""

    def answer(embeddings, inputs, top_n):
        scores = scores_of(embeddings, inputs)
        scores[inputs] = -math.inf
        return torch.topk(scores, top_n).indices

    return answer


def nan_last(embeddings, inputs, top_n):
    scores = mean_cosines(embeddings, inputs, normalise=nan_cosines).numpy()
    return [int(j) for j in np.argsort(-scores) if j not in inputs][:top_n]


def test_recommender_right_answers_pass():
    passes(check_recommender, recommender)
    passes(check_recommender, recommender_numpy)
    passes(check_recommender, lambda e, i, n: recommender(e, i, n).tolist())


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (without_exclusion, "the inputs are not excluded"),
        (by(lambda e, i: (e[:, i].T @ e).mean(dim=0)), "ranked by the dot product"),
        (by(lambda e, i: mean_cosines(e, i, normalise=lambda x, dim: x)), "ranked by the dot product"),
        (by(lambda e, i: mean_cosines(e, i, inputs_too=False)), "the inputs are not normalised"),
        (by(lambda e, i: mean_cosines(e, i, normalise=nan_cosines)), "scored NaN (0/0) and moved to the top"),
        (nan_last, "scored NaN (0/0) and moved out of the list"),
        (lambda e, i, n: torch.topk(mean_cosines(e, i), n), "torch.topk's (values, indices)"),
        (lambda e, i, n: torch.topk(mean_cosines(e, i), n).values, "returned scores, not movie indices"),
        (lambda e, i, n: recommender(e, i, n + 1), "returned 6 movies, not top_n = 5"),
        (lambda e, i, n: recommender(e, i, n).flip(0), "the right movies in the wrong order"),
        (lambda e, i, n: [1, 1, 2, 4, 6], "with a movie twice"),
        (lambda e, i, n: [1, 2, 4, 6, 10], "indices run from 0 to n - 1 = 9"),
    ],
)
def test_recommender_mistakes_are_named(answer, fragment):
    fails(check_recommender, answer, fragment)


def test_recommender_reference_agrees_with_the_package():
    embeddings = exercises._recommend_embeddings().numpy()
    movies = pd.DataFrame(
        {
            "movieId": np.arange(10),
            "title": pd.array([f"Movie {j} (2000)" for j in range(10)], dtype="string"),
            "genres": pd.array(["Drama"] * 10, dtype="string"),
        }
    )
    titles = [f"Movie {j} (2000)" for j in exercises.RECOMMEND_INPUTS]
    table = mr.recommend(embeddings, movies, titles, top_n=exercises.RECOMMEND_TOP_N)
    expected = exercises._ranked(exercises._mean_scores(embeddings.astype(np.float64)))
    assert table["movieId"].tolist() == expected[: exercises.RECOMMEND_TOP_N]


# --- 5. the training loop -----------------------------------------------------------------------


def training_loop(
    cost_fn, V, optimizer, epochs, zero_grad=True, keep=float, after_step=False, fresh_list=False
):
    """The right loop, or, through its arguments, one of the course notebook's bugs."""
    costs = []
    for _ in range(epochs):
        if fresh_list:
            costs = []
        if zero_grad:
            optimizer.zero_grad()
        cost = cost_fn(V)
        cost.backward()
        if not after_step:
            costs.append(keep(cost))
        optimizer.step()
        if after_step:
            costs.append(keep(cost_fn(V)))
    return costs


def erasing_loop(cost_fn, V, optimizer, epochs):
    costs = []
    for _ in range(epochs):
        cost = cost_fn(V)
        cost.backward()
        optimizer.zero_grad()
        costs.append(float(cost))
        optimizer.step()
    return costs


def test_training_loop_right_answers_pass():
    passes(check_training_loop, training_loop)
    passes(check_training_loop, lambda *args: np.array(training_loop(*args)))
    passes(check_training_loop, lambda *args: training_loop(*args, keep=lambda cost: cost.item()))


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (lambda *args: training_loop(*args, fresh_list=True), "`costs = []` is inside the loop"),
        (lambda *args: training_loop(*args, keep=lambda cost: cost), "a tensor keeps its graph alive"),
        (lambda *args: training_loop(*args, keep=lambda cost: cost.detach()), "append float(cost)"),
        (lambda *args: training_loop(*args, zero_grad=False), "gradients accumulate"),
        (lambda *args: training_loop(*args, after_step=True), "recorded after the step"),
        (lambda f, V, o, epochs: training_loop(f, V, o, epochs - 1), "returned 4 costs for epochs = 5"),
        (erasing_loop, "the cost never changes"),
        (lambda *args: training_loop(*args)[-1], "returned one number, not a list"),
        (lambda *args: torch.tensor(training_loop(*args)), "returned a tensor"),
        (lambda *args: [cost + 1 for cost in training_loop(*args)], "wrong costs, e.g. at epoch 0"),
    ],
)
def test_training_loop_mistakes_are_named(answer, fragment):
    fails(check_training_loop, answer, fragment)


# --- 6. NDCG@k ----------------------------------------------------------------------------------


def ndcg(
    ranked, relevant, k, log2=math.log2, shift=0, empty_guard=True, discounted=True, cut=True, ideal=None
):
    """The right NDCG@k, or, through its arguments, a typical mistake."""
    if empty_guard and not relevant:
        return 0.0
    shown = ranked[:k] if cut else ranked
    gain = (lambda p: 1 / log2(p + 1 + shift)) if discounted else (lambda p: 1.0)
    dcg = sum(gain(p) for p, item in enumerate(shown, start=1) if item in relevant)
    best = sum(gain(p) for p in range(1, (ideal or min(k, len(relevant))) + 1))
    return dcg / best


def test_ndcg_right_answers_pass():
    passes(check_ndcg, ndcg)
    passes(check_ndcg, lambda *args: np.float64(ndcg(*args)))


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (lambda r, rel, k: ndcg(r, rel, k, discounted=False), "no discount"),
        (lambda r, rel, k: ndcg(r, rel, k, cut=False), "k is ignored"),
        (lambda r, rel, k: ndcg(r, rel, k, cut=False, ideal=len(rel)), "k is ignored"),
        (lambda r, rel, k: ndcg(r, rel, k, ideal=len(rel)), "the ideal DCG counts all relevant items"),
        (lambda r, rel, k: ndcg(r, rel, k, shift=1), "off by one in the discount (log2(p + 2))"),
        (lambda r, rel, k: ndcg(r, rel, k, shift=-1), "ZeroDivisionError"),
        (
            lambda r, rel, k: float(ndcg(r, rel, k, shift=-1, log2=np.log2)),
            "off by one in the discount (log2(p))",
        ),
        (lambda r, rel, k: math.inf, "returned inf on ranked=[5, 2, 9, 1, 7, 3, 8, 4]"),
        (lambda r, rel, k: ndcg(r, rel, k, empty_guard=False), "return 0.0 when relevant is empty"),
        (
            lambda r, rel, k: float(np.divide(1.0, np.float64(len(rel)))) * 0 if rel else np.float64(0) / 0,
            "wrong NDCG on ranked=[5, 2, 9, 1, 7, 3, 8, 4], relevant={2, 4, 7, 8}, k=5",
        ),
        (
            lambda r, rel, k: np.float64(0) / 0 if not rel else ndcg(r, rel, k),
            "NaN for an empty relevant set",
        ),
        (lambda r, rel, k: None if not rel else ndcg(r, rel, k), "returned None for an empty relevant set"),
        (lambda r, rel, k: [ndcg(r, rel, k)] * 2, "not one float"),
    ],
)
def test_ndcg_mistakes_are_named(answer, fragment):
    fails(check_ndcg, answer, fragment)


@pytest.mark.parametrize("case", exercises.NDCG_CASES)
def test_ndcg_reference_agrees_with_evaluate(case):
    ranked, relevant, k = case
    items = max(*ranked, *relevant) + 1
    held_out = sp.csr_matrix(
        (np.ones(len(relevant)), (np.zeros(len(relevant)), sorted(relevant))), shape=(1, items)
    )
    package = user_ndcg(np.array([ranked[:k]]), held_out)
    assert package == pytest.approx([exercises._ndcg(ranked, relevant, k)], rel=1e-12)
    assert exercises._ndcg(ranked, relevant, k) == pytest.approx(
        ndcg(list(ranked), set(relevant), k), rel=1e-12
    )


# --- 7. the largest eigenvalue ------------------------------------------------------------------


def power_iteration(X, iterations=10_000, shift=True, normalise=True, rayleigh=True):
    """Power iteration on X + c I (c bounds every |eigenvalue|), or, through its arguments, a mistake."""
    c = float(np.abs(X).sum(axis=1).max()) if shift else 0.0
    shifted = X + c * np.eye(len(X))
    v = np.ones(len(X)) / math.sqrt(len(X))
    value = 0.0
    for _ in range(iterations):
        w = shifted @ v
        new = float(v @ w) / float(v @ v) if rayleigh else float(np.linalg.norm(w))
        v = w / np.linalg.norm(w) if normalise else w
        if abs(new - value) < 1e-13 * max(c, 1.0):
            break
        value = new
    return (float(v @ X @ v) if not normalise else new - c) if rayleigh else new - c


def test_largest_eigenvalue_right_answers_pass():
    passes(check_largest_eigenvalue, lambda X: np.linalg.eigvalsh(X)[-1])
    passes(check_largest_eigenvalue, power_iteration)
    passes(check_largest_eigenvalue, lambda X: torch.linalg.eigvalsh(torch.from_numpy(X))[-1])


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (lambda X: power_iteration(X, shift=False), "converged to the most negative eigenvalue (-5)"),
        (lambda X: power_iteration(X, shift=False, rayleigh=False), "returned the largest |eigenvalue| (5)"),
        (
            lambda X: power_iteration(X, iterations=25, shift=False),
            "not converged on a matrix whose two largest",
        ),
        (lambda X: np.linalg.eigh(X)[1][:, -1], "returned a vector"),
        (
            lambda X: power_iteration(X, iterations=30, shift=False, normalise=False),
            "larger than any eigenvalue",
        ),
        (lambda X: np.linalg.eigvalsh(X)[0], "returned the smallest eigenvalue"),
        (lambda X: np.linalg.eigvalsh(X)[-2], "returned another eigenvalue"),
        (lambda X: np.linalg.eigh(X), "returned a pair"),
        (lambda X: math.inf, "returned inf"),
    ],
)
def test_largest_eigenvalue_mistakes_are_named(answer, fragment):
    fails(check_largest_eigenvalue, answer, fragment)


# --- 8. EASE ------------------------------------------------------------------------------------


def ease(L, lam, ridge=lambda lam, n: lam * np.eye(n), rows=False):
    P = np.linalg.inv(L.T @ L + ridge(lam, L.shape[1]))
    return np.eye(len(P)) - P / (np.diag(P)[:, None] if rows else np.diag(P))


def test_ease_right_answers_pass():
    passes(check_ease, ease)
    passes(check_ease, lambda L, lam: torch.from_numpy(ease(L, lam)))


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (lambda L, lam: ease(L, lam) - np.eye(L.shape[1]), "the diagonal is not zero (B[0, 0] = -1)"),
        (lambda L, lam: ease(L, lam, ridge=lambda lam, n: 0.0), "λ is not added to the diagonal"),
        (lambda L, lam: ease(L, lam, ridge=lambda lam, n: lam), "λ is added to every entry"),
        (lambda L, lam: ease(L, lam, rows=True), "rows divided instead of columns"),
        (lambda L, lam: -ease(L, lam), "the sign is flipped"),
        (lambda L, lam: L @ ease(L, lam), "returned the scores L B"),
        (lambda L, lam: np.linalg.inv(L.T @ L + lam * np.eye(L.shape[1])), "returned P"),
        (lambda L, lam: ease(L, lam)[:4], "not 5 x 5"),
        (lambda L, lam: ease(L, 2 * lam), "wrong values, e.g. at [0, 1]"),
    ],
)
def test_ease_mistakes_are_named(answer, fragment):
    fails(check_ease, answer, fragment)


def test_ease_reference_agrees_with_the_baseline():
    L = exercises._ease_likes()
    B = exercises._ease(L, exercises.EASE_LAMBDA)
    np.testing.assert_allclose(L @ B, Ease(sp.csr_matrix(L)).scores(exercises.EASE_LAMBDA), atol=1e-10)


# --- every checker ------------------------------------------------------------------------------


#: checker -> (the right answer, an answer that returns NaN where the values go)
CHECKERS = {
    check_colikes: (
        lambda r, ids, t: colikes(r, ids, liked=lambda x: x >= t),
        lambda r, ids, t: np.full((len(ids), len(ids)), np.nan),
    ),
    check_cost_gradient: (gradient, lambda V, L: torch.full_like(V, math.nan)),
    check_momentum_step: (momentum_step, lambda V, g, v, lr, m: (V * math.nan, v)),
    check_recommender: (recommender, lambda e, i, n: torch.full((n,), math.nan)),
    check_training_loop: (training_loop, lambda f, V, o, epochs: [math.nan] * epochs),
    check_ndcg: (ndcg, lambda r, rel, k: math.nan),
    check_largest_eigenvalue: (power_iteration, lambda X: math.nan),
    check_ease: (ease, lambda L, lam: np.full((L.shape[1],) * 2, np.nan)),
}


def not_implemented(*args):
    raise NotImplementedError


def unwritten(*args): ...


def raising(*args):
    raise KeyError("userId")


@pytest.mark.parametrize("check", CHECKERS, ids=lambda check: check.__name__)
def test_every_checker_passes_its_right_answer_the_same_way_twice(check):
    right, _ = CHECKERS[check]
    assert str(verdict(check, right)) == str(verdict(check, right))
    assert verdict(check, right).ok


@pytest.mark.parametrize("check", CHECKERS, ids=lambda check: check.__name__)
def test_every_checker_survives_broken_answers(check):
    right, nan_answer = CHECKERS[check]
    assert verdict(check, not_implemented).message == NOT_WRITTEN
    assert verdict(check, lambda *args: ...).message == NOT_WRITTEN
    fails(check, unwritten, "not written yet: replace the `...` with your code (it returned None")
    fails(check, raising, "your function raised KeyError: 'userId'")
    fails(check, lambda *args: "an answer", "returned a str")
    fails(check, lambda *args: {"X": 1}, "returned a dict")
    fails(check, nan_answer, "NaN")
    fails(check, 42, "got an int, not a function")
    fails(check, None, "got None, not a function")


def test_mr_exercises_is_this_module():
    assert mr.exercises is exercises


def test_verdict_is_one_line():
    assert str(Verdict(True, "X is\nright", "co-likes")) == "✓ co-likes: correct — X is right"
    assert repr(Verdict(False, "a <b> — c", "EASE")) == "✗ EASE: a <b> — c"
    assert (
        Verdict(False, "a <b> — c", "EASE")._repr_html_()
        == '<p class="mr-verdict">✗ EASE: a &lt;b&gt; — c</p>'
    )
