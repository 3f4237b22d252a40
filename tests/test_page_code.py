"""The torch a page shows is held equal to the package's code, value for value.

The chapters define their own cost module, factored cost and gradient, training loop and
recommender, as a student would write them; these tests take those definitions out of the
notebooks (the source the reader sees) and compare them with what ``movierec`` runs. They also
hold every code exercise: its solution passes its checker, its starter cell does not.
"""

from __future__ import annotations

import ast
import math

import nbformat
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import movierec as mr
from conftest import ROOT, random_likes

NOTEBOOKS = ROOT / "notebooks"


def page_definitions(chapter: str, *names: str, **parameters: object) -> dict[str, object]:
    """The functions and classes ``names`` as the chapter's visible code cells define them, with
    the page's ``parameters`` (the globals they read) set."""
    book = nbformat.read(NOTEBOOKS / f"{chapter}.ipynb", as_version=4)
    namespace: dict[str, object] = {"torch": torch, "nn": nn, "math": math, "np": np, "pd": pd, "mr": mr}
    namespace.update(parameters)
    for cell in book.cells:
        if cell.cell_type != "code" or "solution" in cell.metadata.get("tags", []):
            continue
        tree = ast.parse("\n".join(line for line in cell.source.splitlines() if not line.startswith("%")))
        wanted = [
            node
            for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in names
        ]
        exec(compile(ast.Module(body=wanted, type_ignores=[]), chapter, "exec"), namespace)
    missing = [name for name in names if name not in namespace]
    assert not missing, f"{chapter} defines no {missing}"
    return {name: namespace[name] for name in names}


@pytest.fixture(scope="module")
def likes():
    matrix = random_likes(40, 30, 0.2, seed=3).tolil()
    matrix[:, 7] = 0  # a movie no one likes
    return matrix.tocsr()


def test_the_pages_cost_and_gradient_are_the_packages(likes):
    page = page_definitions("02_model", "MaskedCost", "factored_cost", "factored_gradient")
    L = torch.tensor(likes.toarray(), dtype=torch.float64)
    X = L.T @ L
    X.fill_diagonal_(0)
    V = torch.randn(5, L.shape[1], dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    masked = page["MaskedCost"](X, V.clone())
    masked_cost = masked()
    masked_cost.backward()
    package_cost, package_gradient = mr.CoLikeCost(likes, dtype=torch.float64).value_and_grad(V)
    page_cost = page["factored_cost"](V, L, mr.colike_norm2(likes))
    torch.testing.assert_close(page_cost, package_cost.to(torch.float64), rtol=1e-12, atol=0)
    torch.testing.assert_close(masked_cost.detach(), package_cost.to(torch.float64), rtol=1e-12, atol=0)
    torch.testing.assert_close(page["factored_gradient"](V, L), package_gradient, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(masked.V.grad, package_gradient, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("optimizer", "lr"), [("adam", 0.1), ("sgd", 1e-3), ("sgd", 0.5)])
def test_the_pages_training_loop_is_the_packages(likes, optimizer, lr):
    page = page_definitions("02_model", "factored_cost", "fit")
    config = mr.TrainConfig(optimizer=optimizer, lr=lr, epochs=30, dim=4, dtype="float64")
    L = torch.tensor(likes.toarray(), dtype=torch.float64)
    x_norm2 = mr.colike_norm2(likes)
    V = mr.model.train.initial_embeddings(config, L.shape[1]).double().requires_grad_()
    if optimizer == "adam":
        built = torch.optim.Adam([V], lr=lr)
    else:
        built = torch.optim.SGD([V], lr=lr, momentum=config.momentum)
    costs = page["fit"](lambda V: page["factored_cost"](V, L, x_norm2), V, built, 30)
    result = mr.train(likes, config, device="cpu", progress=None)
    expected = result.history.cost.to_numpy()[: len(costs)]
    np.testing.assert_allclose(costs, expected, rtol=1e-9)
    if result.status == "diverged":
        assert len(costs) == result.diverged_epoch + 1
    else:
        assert len(costs) == config.epochs


@pytest.mark.parametrize(
    ("name", "lr", "momentum"),
    [("adam", 0.5, None), ("sgd", 1e-5, 0.9), ("sgd", 1e-4, 0.5), ("rmsprop", 0.01, None)],
)
def test_the_optimizer_page_builds_the_optimizer_its_config_names(likes, name, lr, momentum):
    """The optimizer study's make_optimizer builds, for every torch.optim name, the optimizer the
    run's config names: the run store would refuse any other (check_start)."""
    make_optimizer = page_definitions("03_optimizers", "make_optimizer", sgd_momentum=momentum)[
        "make_optimizer"
    ]
    config = mr.TrainConfig(optimizer=name, lr=lr, momentum=momentum, dim=3, epochs=2)
    V = mr.model.train.initial_embeddings(config, likes.shape[1]).requires_grad_()
    mr.model.train.check_start(config, V, make_optimizer(name, V, lr), likes.shape[1])


def test_the_pages_recommender_gives_the_packages_list(tiny_movies):
    page = page_definitions("04_recommendations", "recommend_mean_cosine")
    rng = np.random.default_rng(5)
    embeddings = rng.standard_normal((4, len(tiny_movies)))
    embeddings[:, 3] = 0.0  # a zero vector scores 0, never NaN
    for inputs in ([0], [1, 4], [0, 2, 5]):
        titles = tiny_movies.title.iloc[inputs].tolist()
        expected = mr.recommend(embeddings, tiny_movies, titles, top_n=4).title.tolist()
        picked = page["recommend_mean_cosine"](torch.from_numpy(embeddings), inputs, 4)
        assert tiny_movies.title.iloc[picked.numpy()].tolist() == expected


@pytest.fixture
def tiny_movies() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "movieId": np.arange(1, 9, dtype="int32"),
            "title": pd.array([f"Film {letter} (2000)" for letter in "ABCDEFGH"], dtype="string"),
            "genres": pd.array(["Drama"] * 8, dtype="string"),
        }
    )


def code_exercises() -> list[tuple[str, str, str]]:
    """(chapter, starter source, solution source) of every code exercise: a visible cell that
    calls a checker, and the cell tagged ``solution`` that calls the same checker."""
    found = []
    for path in sorted(NOTEBOOKS.glob("0*.ipynb")):
        book = nbformat.read(path, as_version=4)
        starters, solutions = {}, {}
        for cell in book.cells:
            if cell.cell_type == "code" and "mr.exercises.check_" in cell.source:
                checker = cell.source.split("mr.exercises.")[1].split("(")[0]
                (solutions if "solution" in cell.metadata.get("tags", []) else starters)[checker] = (
                    cell.source
                )
        assert set(starters) == set(solutions), (
            f"{path.name}: every code exercise has a starter and a solution"
        )
        assert starters, f"{path.name} has no code exercise"
        found += [(path.stem, starters[name], solutions[name]) for name in starters]
    return found


@pytest.mark.parametrize(("chapter", "starter", "solution"), code_exercises())
def test_every_code_exercise_solution_passes_and_its_starter_does_not(chapter, starter, solution):
    def verdict(source: str):
        namespace = {"torch": torch, "nn": nn, "math": math, "np": np, "pd": pd, "mr": mr, "threshold": 4.0}
        *body, last = source.strip().splitlines()
        exec("\n".join(body), namespace)
        return eval(last, namespace)

    answered = verdict(solution)
    assert answered.ok, f"{chapter}: {answered}"
    unanswered = verdict(starter)
    assert not unanswered.ok and "not written yet" in str(unanswered)
