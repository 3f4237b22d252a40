"""One full training step (cost, gradient, Adam step): the seed's formula vs movierec's.

The seed evaluates ((1 - eye(n)) * (V^T V - X)^2).sum() with an n x n eye rebuilt each
step and autograd through it; movierec uses the factored exact cost with its hand-written
gradient. Both run here, side by side (their steps interleaved, so a busy machine slows both
alike), on the real data, from the same V: the seed's draw (torch.manual_seed(576), std 0.5)
and its Adam(lr=0.5). The table reports each step's best time and the ratio.

With --full, d = n (9,742, the seed's setting) is added, where both are n^3 work: the seed's
formula does three n x n x n products per step (V^T V and two in the backward pass), movierec
one and a half (V V^T as a symmetric rank-k update, then (V V^T) V). At d = n the costs of the
first three epochs are checked against a float64 run of the exact cost (to 1e-5 relative),
and the first against the 57,846,087,680 the seed notebook printed (to 1e-6).

    python benchmarks/cost_epoch.py [--data PATH] [--dims 16 64 256] [--full] [--repeats 3] [--device cpu]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import scipy
import torch

from movierec.data import colike_matrix, likes_matrix, load_movielens
from movierec.model.cost import CoLikeCost, seed_cost
from movierec.model.train import TrainConfig, initial_embeddings, machine_description, pick_device, train

LR = 0.5
SEED_FIRST_COST = 57_846_087_680.0  # what the course notebook printed at epoch 0 (d = n, seed 576)
FULL_EPOCHS_CHECKED = 3
FAST_STEPS = 50  # movierec steps timed when d is small: each takes milliseconds
FIRST_COST_TOLERANCE = 1e-6
REFERENCE_TOLERANCE = 1e-5


def machine_line(device: torch.device) -> str:
    """The CPU (or GPU) model, cores, threads and library versions the times were taken on."""
    line = f"{machine_description(device)}, torch {torch.__version__}, scipy {scipy.__version__}"
    return line + (f", CUDA {torch.version.cuda}" if device.type == "cuda" else "")


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work, so that a timer reads the work, not its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def seed_step(V: torch.Tensor, X: torch.Tensor, optimizer: torch.optim.Optimizer) -> float:
    """The seed's step: its masked cost, autograd, Adam; returns the cost before the step."""
    optimizer.zero_grad()
    cost = seed_cost(V, X)
    cost.backward()
    optimizer.step()
    return float(cost.detach())


def package_step(rows: torch.Tensor, cost: CoLikeCost, optimizer: torch.optim.Optimizer) -> float:
    """movierec's step: the factored cost and its gradient, Adam; returns the cost before the step."""
    value, grad = cost.value_and_grad(rows.mT)
    rows.grad = grad.mT
    optimizer.step()
    return float(value)


def interleaved(steps: dict[str, tuple[Callable[[], float], int]], rounds: int, device: torch.device) -> dict:
    """``rounds`` rounds of each step in turn, ``steps[name] = (step, runs per round)``: per step
    its costs in order and its best time after the first (warm-up) run."""
    runs: dict[str, dict] = {name: {"costs": [], "times": []} for name in steps}
    for _ in range(rounds):
        for name, (step, per_round) in steps.items():
            for _ in range(per_round):
                synchronize(device)
                start = time.perf_counter()
                runs[name]["costs"].append(step())
                synchronize(device)
                runs[name]["times"].append(time.perf_counter() - start)
    for run in runs.values():
        run["best"] = min(run["times"][1:] or run["times"])
    return runs


def relative(value: float, reference: float) -> float:
    return abs(value - reference) / abs(reference)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", default=None, help="archive or folder (default: $MOVIEREC_DATA, cache, download)"
    )
    parser.add_argument("--dims", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--full", action="store_true", help="also d = number of movies (minutes on a laptop)")
    parser.add_argument("--repeats", type=int, default=3, help="timed steps after the warm-up one")
    parser.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu or cuda")
    args = parser.parse_args()

    device = pick_device(args.device)
    data = load_movielens(args.data)
    likes = likes_matrix(data.ratings, data.movies)
    X = torch.tensor(colike_matrix(likes).toarray(), dtype=torch.float32, device=device)
    cost = CoLikeCost(likes, device)
    n = likes.n_movies
    dims = args.dims + ([n] if args.full else [])
    print(machine_line(device), flush=True)
    print(f"{'d':>6} {'seed step (s)':>14} {'movierec step (s)':>18} {'speed-up':>9} {'first cost diff':>16}")
    full_runs = None
    for dim in dims:
        rounds = FULL_EPOCHS_CHECKED if dim == n else args.repeats + 1
        fast_repeats = 1 if dim >= n // 2 else FAST_STEPS // rounds + 1
        V0 = initial_embeddings(TrainConfig(dim=dim), n).to(device)
        runs = side_by_side(V0, X, cost, rounds, fast_repeats, device)
        seed_time, package_time = runs["seed"]["best"], runs["movierec"]["best"]
        agree = relative(runs["movierec"]["costs"][0], runs["seed"]["costs"][0])
        print(
            f"{dim:>6} {seed_time:>14.4f} {package_time:>18.5f} {seed_time / package_time:>8.2f}x "
            f"{agree:>15.1e}",
            flush=True,
        )
        if dim == n:
            full_runs = runs
        del V0, runs
    if full_runs is not None:
        check_full(likes, full_runs, device)


def side_by_side(
    V0: torch.Tensor, X: torch.Tensor, cost: CoLikeCost, rounds: int, fast_repeats: int, device: torch.device
) -> dict:
    """Steps of the seed's formula and of movierec's in turn, both from V0 with Adam: one seed step
    and ``fast_repeats`` movierec steps per round (a fast step needs more runs to time)."""
    V = V0.clone().requires_grad_(True)
    rows = V0.mT.contiguous().requires_grad_(True)
    seed_optimizer = torch.optim.Adam([V], lr=LR)
    package_optimizer = torch.optim.Adam([rows], lr=LR)
    return interleaved(
        {
            "seed": (lambda: seed_step(V, X, seed_optimizer), 1),
            "movierec": (lambda: package_step(rows, cost, package_optimizer), fast_repeats),
        },
        rounds,
        device,
    )


def check_full(likes, runs: dict[str, dict], device: torch.device) -> None:
    """The d = n costs against the seed notebook's first cost and a float64 run of the exact cost."""
    reference = train(
        likes, TrainConfig(dim="full", epochs=FULL_EPOCHS_CHECKED - 1, dtype="float64"), device=device
    )
    expected = reference.history["cost"].tolist()[:FULL_EPOCHS_CHECKED]
    print(f"\nd = n, Adam lr {LR}, the seed's draw: costs of the first {FULL_EPOCHS_CHECKED} epochs")
    print(
        f"{'epoch':>6} {'float64 reference':>20} {'seed (float32)':>20} {'movierec (float32)':>20} "
        f"{'max rel. diff':>14}"
    )
    worst = 0.0
    for epoch, value in enumerate(expected):
        seed_value, package_value = runs["seed"]["costs"][epoch], runs["movierec"]["costs"][epoch]
        difference = max(relative(seed_value, value), relative(package_value, value))
        worst = max(worst, difference)
        print(f"{epoch:>6} {value:>20,.1f} {seed_value:>20,.1f} {package_value:>20,.1f} {difference:>14.1e}")
    printed = SEED_FIRST_COST
    first = max(relative(runs["seed"]["costs"][0], printed), relative(runs["movierec"]["costs"][0], printed))
    print(
        f"first cost vs the seed notebook's {printed:,.0f}: {first:.1e} relative "
        f"({'ok' if first <= FIRST_COST_TOLERANCE else 'FAILED'}, tolerance {FIRST_COST_TOLERANCE:g}); "
        f"first {FULL_EPOCHS_CHECKED} epochs vs float64: {worst:.1e} "
        f"({'ok' if worst <= REFERENCE_TOLERANCE else 'FAILED'}, tolerance {REFERENCE_TOLERANCE:g})"
    )
    if first > FIRST_COST_TOLERANCE or worst > REFERENCE_TOLERANCE:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
