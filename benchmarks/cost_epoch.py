"""One full training step (cost, gradient, Adam step): the seed's formula vs movierec's.

The seed evaluates ((1 - eye(n)) * (V^T V - X)^2).sum() with an n x n eye rebuilt each
step and autograd through it; movierec uses the factored exact cost with its hand-written
gradient. Both run here, side by side, on the real data; the table reports the ratio.

    python benchmarks/cost_epoch.py [--data PATH] [--dims 16 64 256] [--full] [--repeats 3]
"""

from __future__ import annotations

import argparse
import platform
import time
from functools import partial

import torch

from movierec.cost import CoLikeCost, seed_cost
from movierec.data import colike_matrix, likes_matrix, load_movielens


def seed_step(V: torch.Tensor, X: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
    optimizer.zero_grad()
    seed_cost(V, X).backward()
    optimizer.step()


def package_step(rows: torch.Tensor, cost: CoLikeCost, optimizer: torch.optim.Optimizer) -> None:
    _, grad = cost.value_and_grad(rows.mT)
    rows.grad = grad.mT
    optimizer.step()


def best_time(step, repeats: int) -> float:
    step()  # warm-up: allocations, thread pools
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", default=None, help="archive or folder (default: $MOVIEREC_DATA, cache, download)"
    )
    parser.add_argument("--dims", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--full", action="store_true", help="also d = number of movies (minutes on a laptop)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    data = load_movielens(args.data)
    likes = likes_matrix(data.ratings, data.movies)
    X = torch.tensor(colike_matrix(likes).toarray(), dtype=torch.float32)
    cost = CoLikeCost(likes)
    n = likes.n_movies
    dims = args.dims + ([n] if args.full else [])
    machine = platform.processor() or platform.machine()
    print(f"{machine}, {torch.get_num_threads()} torch threads, torch {torch.__version__}")
    print(f"{'d':>6} {'seed step (s)':>14} {'movierec step (s)':>18} {'speed-up':>9}")
    for dim in dims:
        generator = torch.Generator().manual_seed(576)
        V = torch.normal(0.0, 0.5, size=(dim, n), generator=generator).requires_grad_(True)
        seed_optimizer = torch.optim.Adam([V], lr=0.01)
        seed_time = best_time(partial(seed_step, V, X, seed_optimizer), args.repeats)
        rows = torch.normal(0.0, 0.5, size=(dim, n), generator=generator).mT.contiguous().requires_grad_(True)
        package_optimizer = torch.optim.Adam([rows], lr=0.01)
        package_repeats = args.repeats if dim >= n // 2 else max(args.repeats, 50)
        package_time = best_time(partial(package_step, rows, cost, package_optimizer), package_repeats)
        print(f"{dim:>6} {seed_time:>14.4f} {package_time:>18.5f} {seed_time / package_time:>8.0f}x")


if __name__ == "__main__":
    main()
