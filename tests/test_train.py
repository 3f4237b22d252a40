"""Training: configuration checks, divergence as data, reproducibility, the d = 64 optimum."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from conftest import random_likes
from movierec.errors import ParameterError
from movierec.model.cost import CoLikeCost
from movierec.model.train import TrainConfig, Training, initial_embeddings, make_optimizer, train

BEST_COST_D64 = 1_308_831


@pytest.mark.parametrize(
    "params,message",
    [
        ({"lr": 0}, "lr=0 is not allowed: lr must be a positive number"),
        ({"lr": -1e-3}, "lr must be a positive number"),
        ({"epochs": 0}, "epochs must be an integer >= 1"),
        ({"dim": 0}, "dim must be an integer >= 1"),
        ({"dim": "half"}, 'or "full"'),
        ({"optimizer": "adamm"}, "optimizer must be one of .*adam.*sgd"),
        ({"momentum": 0.9}, "momentum=0.9 is not allowed"),
        ({"dtype": "float16"}, "dtype must be one of float32, float64"),
        ({"colour": "red"}, "unknown training parameter"),
    ],
)
def test_bad_parameters_are_named(params, message):
    with pytest.raises(ParameterError, match=message):
        TrainConfig.from_dict(params)


def test_sgd_gets_momentum_and_names_are_case_insensitive():
    config = TrainConfig(optimizer="SGD", lr=0.01)
    assert config.optimizer == "sgd" and config.momentum == 0.9
    assert TrainConfig(optimizer="adam").momentum is None


@pytest.mark.parametrize(
    "config,reference",
    [
        (TrainConfig(optimizer="adam", lr=0.1), lambda V: torch.optim.Adam([V], lr=0.1, foreach=False)),
        (
            TrainConfig(optimizer="sgd", lr=0.01),
            lambda V: torch.optim.SGD([V], lr=0.01, momentum=0.9, foreach=False),
        ),
    ],
)
def test_the_foreach_step_gives_the_default_loops_bits(config, reference):
    """make_optimizer's multi-tensor step (3x faster for Adam on the CPU) leaves every stored
    run as the default per-tensor loop would make it, bit for bit."""
    generator = torch.Generator().manual_seed(0)
    start = torch.randn(300, 40, generator=generator)
    grads = [torch.randn(300, 40, generator=generator) * 10.0 ** (step % 3 - 1) for step in range(12)]
    ends = []
    for build in (lambda V: make_optimizer(config, [V]), reference):
        V = start.clone().requires_grad_(True)
        optimizer = build(V)
        for grad in grads:
            V.grad = grad.clone()
            optimizer.step()
        ends.append(V.detach())
    assert make_optimizer(config, [start.clone().requires_grad_(True)]).defaults["foreach"] is True
    assert torch.equal(ends[0], ends[1])


def test_dim_larger_than_movies_is_rejected():
    with pytest.raises(ParameterError, match="at most the number of movies"):
        train(random_likes(10, 12, 0.3, seed=0), dim=13, epochs=1)


def test_history_follows_the_seed_convention_and_descends():
    matrix = random_likes(50, 40, 0.2, seed=1)
    result = train(matrix, optimizer="adam", lr=0.05, epochs=30, dim=4, device="cpu")
    cost = CoLikeCost(matrix)
    first = cost.value(initial_embeddings(result.config, 40))
    assert result.history["cost"].iloc[0] == pytest.approx(first, rel=1e-6)
    assert list(result.history["epoch"]) == list(range(31))
    assert result.status == "finished" and result.diverged_epoch is None
    assert result.final_cost < 0.5 * first
    assert result.final_cost == pytest.approx(cost.value(torch.from_numpy(result.embeddings)), rel=1e-6)
    assert result.embeddings.shape == (4, 40) and result.embeddings.dtype == np.float32
    assert np.all(np.diff(result.history["seconds"]) >= 0)


def test_a_blow_up_on_the_last_step_is_caught():
    matrix = random_likes(60, 40, 0.3, seed=3)
    result = train(matrix, optimizer="sgd", lr=10.0, epochs=1, dim=8)
    assert result.status == "diverged" and result.diverged_epoch == 1
    assert list(result.history["epoch"]) == [0, 1]


def test_unavailable_devices_and_sparse_adam_are_named():
    with pytest.raises(ParameterError, match="device='cuda:7' is not available here"):
        train(random_likes(5, 4, 0.5, seed=0), device="cuda:7", epochs=1, dim=1)
    with pytest.raises(ParameterError, match="optimizer='sparseadam' is not allowed"):
        TrainConfig(optimizer="sparseadam")


def test_runs_are_reproducible():
    matrix = random_likes(30, 25, 0.2, seed=2)
    first = train(matrix, optimizer="sgd", lr=1e-3, epochs=5, dim=3)
    again = train(matrix, optimizer="sgd", lr=1e-3, epochs=5, dim=3)
    np.testing.assert_array_equal(first.embeddings, again.embeddings)


@pytest.mark.parametrize("lr", [10.0, 1e6, 1e30])
def test_divergence_is_recorded_not_raised(lr):
    matrix = random_likes(60, 40, 0.3, seed=3)
    result = train(matrix, optimizer="sgd", lr=lr, epochs=50, dim=8)
    assert result.status == "diverged"
    assert result.diverged_epoch == len(result.history) - 1 >= 1
    last = result.history["cost"].iloc[-1]
    assert not math.isfinite(last) or last > 1e3 * result.history["cost"].iloc[0]
    assert result.status_text == f"diverged at epoch {result.diverged_epoch}"


def reference_costs(matrix, optimizer: type[torch.optim.Optimizer], lr: float, epochs: int, dim: int):
    """A run made by hand, in float64: the masked cost sum_{i != j} (v_i^T v_j - X_ij)^2 with an
    n x n residual, its gradient by autograd, the torch.optim class stepped as its documentation
    says (L-BFGS with the closure), from the seed's V (N(0, 0.5^2) from seed 576). The cost
    before each step, then the cost of the last V."""
    L = torch.tensor(matrix.toarray(), dtype=torch.float64)
    X, off = L.mT @ L, 1 - torch.eye(L.shape[1], dtype=torch.float64)
    V = torch.normal(0.0, 0.5, size=(dim, L.shape[1]), generator=torch.Generator().manual_seed(576))
    V = V.double().requires_grad_(True)
    steps = optimizer([V], lr=lr)

    def closure() -> torch.Tensor:
        steps.zero_grad()
        cost = (off * (V.mT @ V - X).square()).sum()
        cost.backward()
        return cost

    costs = []
    for _ in range(epochs):
        costs.append(float(closure().detach()))
        steps.step(closure if optimizer is torch.optim.LBFGS else None)
    return [*costs, float(closure().detach())]


@pytest.mark.parametrize(
    "name,optimizer,lr",
    [
        ("rmsprop", torch.optim.RMSprop, 0.02),
        ("adagrad", torch.optim.Adagrad, 0.02),
        ("lbfgs", torch.optim.LBFGS, 0.01),  # far from L-BFGS's stopping tolerances: no branch flips
    ],
)
def test_any_torch_optimizer_by_name_including_lbfgs(name, optimizer, lr):
    """A run named by an optimizer's lower-case name takes that torch.optim class's steps at its
    lr (none of them the class's default): its costs are those of the run made by hand (another
    optimizer's, or another lr's, differ by 1 % or more here)."""
    matrix = random_likes(30, 20, 0.3, seed=4)
    result = train(matrix, optimizer=name, lr=lr, epochs=5, dim=3, dtype="float64", device="cpu")
    assert result.status == "finished" and result.config.optimizer == name
    expected = reference_costs(matrix, optimizer, lr=lr, epochs=5, dim=3)
    assert result.history["cost"].tolist() == pytest.approx(expected, rel=1e-9)
    assert result.final_cost < 0.99 * expected[0]


def test_float64_training():
    """dtype="float64" computes in float64: its costs match the float64 run made by hand to 1e-12,
    which a float32 run misses (by about 3e-7 here)."""
    matrix = random_likes(20, 15, 0.3, seed=5)
    expected = reference_costs(matrix, torch.optim.Adam, lr=0.5, epochs=3, dim=2)
    result = train(matrix, epochs=3, dim=2, dtype="float64", device="cpu")
    assert result.status == "finished" and result.embeddings.dtype == np.float32
    assert result.history["cost"].tolist() == pytest.approx(expected, rel=1e-12)
    single = train(matrix, epochs=3, dim=2, dtype="float32", device="cpu")
    assert single.history["cost"].tolist() != pytest.approx(expected, rel=1e-9)


@pytest.mark.integration
def test_adam_reaches_the_d64_optimum(likes):
    result = train(likes, optimizer="adam", lr=0.5, epochs=100, dim=64, device="cpu")
    assert result.status == "finished"
    assert result.final_cost == pytest.approx(BEST_COST_D64, rel=0.05)
    assert result.final_cost >= BEST_COST_D64 * (1 - 1e-3)


@pytest.mark.integration
def test_seed_sgd_learning_rate_diverges_at_d64(likes):
    result = train(likes, optimizer="sgd", lr=0.001, epochs=100, dim=64)
    assert result.status == "diverged"


@pytest.mark.integration
@pytest.mark.slow
def test_seed_sweep_draw_reproduces_its_first_cost(likes):
    cost = CoLikeCost(likes)
    third = initial_embeddings(TrainConfig(dim="full", init_draw=2), likes.n_movies)
    assert cost.value(third) == pytest.approx(57_829_216_256, rel=1e-6)
    fourth = initial_embeddings(TrainConfig(dim="full", init_draw=3), likes.n_movies)
    assert cost.value(fourth) == pytest.approx(57_861_603_328, rel=1e-6)


def test_training_in_turns_is_training_in_one_go():
    matrix = random_likes(40, 30, 0.2, seed=5)
    config = TrainConfig(lr=0.05, epochs=12, dim=3, init_std=0.2)
    whole = train(matrix, config, device="cpu", progress=None)
    run = Training(matrix, config, device="cpu", progress=None)
    run.advance(4)
    stopped = run.stopped()
    short = train(matrix, replace(config, epochs=4), device="cpu", progress=None)
    assert stopped.config == short.config and stopped.key == short.key
    assert np.array_equal(stopped.embeddings, short.embeddings)
    assert stopped.history["cost"].tolist() == short.history["cost"].tolist()
    run.advance(9)
    assert np.array_equal(stopped.embeddings, short.embeddings)  # the snapshot is a copy
    finished = run.advance().result()
    assert np.array_equal(finished.embeddings, whole.embeddings)
    assert finished.history["cost"].tolist() == whole.history["cost"].tolist()
    assert finished.status == whole.status and (finished.history["seconds"].diff().dropna() >= 0).all()
    with pytest.raises(Exception, match="at epoch 0 of 12"):
        Training(matrix, config, device="cpu", progress=None).result()


def test_a_diverging_run_stopped_late_is_the_whole_diverged_run():
    matrix = random_likes(40, 30, 0.2, seed=5)
    config = TrainConfig(optimizer="sgd", lr=50.0, epochs=12, dim=3, init_std=0.2)
    whole = train(matrix, config, device="cpu", progress=None)
    assert whole.status == "diverged"
    stopped = Training(matrix, config, device="cpu", progress=None).advance(10).stopped()
    assert stopped.config == config and stopped.diverged_epoch == whole.diverged_epoch


def page_start(config: TrainConfig, n_movies: int, make=None):
    """V and an optimizer made as a page makes them: torch.normal from the seeded generator, then
    the torch.optim class by hand (``make``: another optimizer, to be refused)."""
    d = config.resolved_dim(n_movies)
    V = torch.normal(
        0.0, config.init_std, size=(d, n_movies), generator=torch.Generator().manual_seed(config.seed)
    )
    V.requires_grad_()
    if make is not None:
        return V, make(V)
    if config.optimizer == "sgd":
        return V, torch.optim.SGD([V], lr=config.lr, momentum=config.momentum)
    return V, {"adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop}[config.optimizer]([V], lr=config.lr)


@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(optimizer="adam", lr=0.1, dim=6, epochs=12),
        TrainConfig(optimizer="sgd", lr=1e-3, dim=6, epochs=12, momentum=0.5),
        TrainConfig(optimizer="rmsprop", lr=0.01, dim=6, epochs=12),
        TrainConfig(optimizer="sgd", lr=10.0, dim=6, epochs=12),
    ],
    ids=["adam", "sgd-momentum-0.5", "rmsprop", "sgd-diverges"],
)
def test_a_page_made_start_trains_the_configs_run_bit_for_bit(config):
    """A run from the page's V (d x n) and optimizer is the run the package makes from the config
    (its V's transpose, its foreach step): the same costs and embeddings, bit for bit."""
    likes = random_likes(30, 40, 0.2, seed=3)
    own = train(likes, config, device="cpu", progress=None)
    paged = train(likes, config, device="cpu", progress=None, start=page_start(config, 40))
    assert own.history.cost.tolist() == paged.history.cost.tolist()
    assert np.array_equal(own.embeddings, paged.embeddings) and own.status_text == paged.status_text


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda V: torch.optim.Adam([V], lr=0.2), "optimizer has lr=0.2, but run adam lr=0.1 has lr=0.1"),
        (
            lambda V: torch.optim.SGD([V], lr=0.1),
            "optimizer is SGD, but run adam lr=0.1 is trained by torch.optim.Adam",
        ),
        (lambda V: torch.optim.Adam([V], lr=0.1, betas=(0.8, 0.99)), r"optimizer has betas=\(0.8, 0.99\)"),
        (lambda V: torch.optim.Adam([V, torch.zeros(1, requires_grad=True)], lr=0.1), "must hold V alone"),
    ],
)
def test_a_start_that_is_not_the_configs_run_is_refused(make, message):
    config = TrainConfig(optimizer="adam", lr=0.1, dim=6, epochs=2)
    with pytest.raises(ParameterError, match=message):
        train(
            random_likes(30, 40, 0.2, seed=3),
            config,
            device="cpu",
            progress=None,
            start=page_start(config, 40, make),
        )


def test_a_start_drawn_otherwise_is_refused():
    config = TrainConfig(optimizer="adam", lr=0.1, dim=6, epochs=2, seed=1)
    V, optimizer = page_start(replace(config, seed=2), 40)
    with pytest.raises(
        ParameterError, match=r"V is not the start of run adam lr=0.1: draw it as torch.normal\(0.0, 0.5"
    ):
        train(random_likes(30, 40, 0.2, seed=3), config, device="cpu", progress=None, start=(V, optimizer))
    with pytest.raises(
        ParameterError, match="a 6 x 40 tensor with requires_grad: got a tensor of shape 6 x 40, not a leaf"
    ):
        train(
            random_likes(30, 40, 0.2, seed=3),
            config,
            device="cpu",
            progress=None,
            start=(V.detach(), optimizer),
        )
