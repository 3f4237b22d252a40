"""Data-parallel step (movierec.model.distributed) on 1 and 2 local processes at ML-25M and ML-32M shape.

For each shape, a fresh process generates the seeded synthetic ratings (as benchmarks/scale.py
does) and saves L. Then, for each process count, fresh processes (one rank each, gloo over
loopback, the machine's threads shared between them) load L, keep their block of users, build
the cost (CoLikeCost for 1 process, ShardedCoLikeCost for more) and time, at d = 64, a training
step (cost + gradient + Adam), its two parts alone, the rank's user side (L_k V^T, its squared
norm and L_k^T (L_k V^T)) and the replicated movie side (V V^T, s, (V V^T) V and the other
movie terms, Adam), and an all-reduce of an n x d float32 tensor, taking turns, all ranks starting
each run together; best of --repeats after a warm-up, and of --rounds runs of each process
count in turn (times on a shared machine drift). Reported per process: the bytes of L it holds
(sparse L_k and L_k^T), the step and its parts, its peak resident memory
during the steps (the peak is reset after set-up) and during set-up, and the bytes all-reduced
per step, next to n x d x 4.

A second table models P machines from the 1-process figures: the user side divides by P, the
movie side does not, and a ring all-reduce of the
n x d float32 gradient costs 2 (P-1)/P x n d 4 bytes / bandwidth plus 2 (P-1) message latencies.

    python benchmarks/distributed.py [--shapes ml-25m ml-32m] [--procs 1 2] [--dim 64] [--repeats 10]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import scipy.sparse as sp
import torch
import torch.distributed as dist

from movierec.data.synthetic import SHAPES
from movierec.model.cost import CoLikeCost
from movierec.model.distributed import ShardedCoLikeCost, spawn_ranks, user_block
from movierec.model.kernels import gram_matrix

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cost_epoch import machine_line  # noqa: E402  (a sibling script, not a package)
from scale import prepare  # noqa: E402

MIB, GIB = 1 << 20, 1 << 30
BANDWIDTHS_GBIT = (10, 100)
MACHINES = (1, 2, 8, 64)
LATENCY_S = 50e-6  # one message hop on a data-centre network, assumed


def resident_peak() -> int:
    """This process's peak resident memory since start or the last :func:`reset_peak`, in bytes."""
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\s+(\d+) kB", status.read()).group(1)) * 1024


def reset_peak() -> None:
    """Start the resident-memory peak afresh (Linux: clear_refs 5)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def sparse_bytes(tensor: torch.Tensor) -> int:
    """Bytes of a sparse CSR tensor's three arrays."""
    parts = (tensor.crow_indices(), tensor.col_indices(), tensor.values())
    return sum(part.numel() * part.element_size() for part in parts)


def measure_rank(path: str, dim: int, repeats: int) -> list[dict]:
    """One rank: load L, keep its users, build the cost, time the steps; every rank's figures."""
    rank, world = dist.get_rank(), dist.get_world_size()
    start = time.perf_counter()
    block = user_block(sp.load_npz(path).tocsr(), rank, world)
    cost = CoLikeCost(block) if world == 1 else ShardedCoLikeCost(block)
    setup_s = time.perf_counter() - start
    setup_peak = resident_peak()
    del block
    generator = torch.Generator().manual_seed(576)
    rows = torch.normal(0.0, 0.5, size=(dim, cost.n_movies), generator=generator).mT.contiguous()
    rows.requires_grad_(True)
    optimizer = torch.optim.Adam([rows], lr=0.01)
    reset_peak()

    def one_step() -> None:
        _, grad = cost.value_and_grad(rows.mT)
        rows.grad = grad.mT
        optimizer.step()

    def user_side() -> None:  # this rank's share of the step: L_k V^T, its squared norm, L_k^T (L_k V^T)
        with torch.no_grad():
            products = cost.likes @ rows
            products.square().sum(dtype=cost.acc)
            cost.likes_t @ products

    def movie_side() -> (
        None
    ):  # the replicated rest: V V^T, s, the scalar sums, the gradient's movie terms, Adam
        with torch.no_grad():
            movies = rows.detach()
            gram = gram_matrix(movies)
            norms = torch.linalg.vector_norm(movies, dim=1).square_()
            gram.square().sum(dtype=cost.acc) - norms.square().sum(dtype=cost.acc)
            torch.dot(cost.like_counts.to(cost.acc), norms.to(cost.acc))
            torch.addmm((cost.like_counts - norms).unsqueeze(1) * movies, movies, gram).mul_(4)
        optimizer.step()

    works = {"step": one_step, "user": user_side, "movie": movie_side}
    if world > 1:
        works["reduce"] = lambda: dist.all_reduce(torch.zeros(cost.n_movies, dim))
    times = timed_in_turn(works, repeats)
    figures = {
        "users": cost.n_users,
        "likes_bytes": sparse_bytes(cost.likes) + sparse_bytes(cost.likes_t),
        "setup_s": setup_s,
        "setup_peak": setup_peak,
        "step_s": min(times["step"]),
        "user_s": min(times["user"]),
        "movie_s": min(times["movie"]),
        "reduce_s": min(times.get("reduce", [0.0])),
        "step_peak": resident_peak(),
        "bytes_per_step": getattr(cost, "reduced_bytes", 0) / (repeats + 1),
        "movies": cost.n_movies,
    }
    everyone: list[dict] = [{}] * world
    dist.all_gather_object(everyone, figures)
    return everyone


def slowest_step(ranks: list[dict]) -> float:
    """The step time of a set of ranks: that of the slowest."""
    return max(rank["step_s"] for rank in ranks)


def timed_in_turn(works: dict, repeats: int) -> dict[str, list[float]]:
    """Times of ``repeats`` runs of each work after a warm-up, the works taking turns (so that a busy
    spell slows all of them alike) and every rank starting each run together."""
    for work in works.values():
        work()
    times: dict[str, list[float]] = {name: [] for name in works}
    for _ in range(repeats):
        for name, work in works.items():
            dist.barrier()
            start = time.perf_counter()
            work()
            times[name].append(time.perf_counter() - start)
    return times


def modelled_step(one: dict, dim: int, machines: int, gbit: float) -> tuple[float, float]:
    """(step seconds, of which all-reduce) on ``machines`` machines like this one, one process each:
    the measured user side divides by the machines, the measured movie side does not."""
    payload = one["movies"] * dim * 4
    reduce_s = 0.0
    if machines > 1:
        reduce_s = 2 * (machines - 1) / machines * payload / (gbit * 1e9 / 8) + 2 * (machines - 1) * LATENCY_S
    return one["movie_s"] + one["user_s"] / machines + reduce_s, reduce_s


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shapes", nargs="+", default=["ml-25m", "ml-32m"], choices=list(SHAPES))
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each process count, best kept")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    print(machine_line(torch.device("cpu")) + f", d = {args.dim}, gloo over loopback", flush=True)
    print(
        f"{'shape':>8} {'procs':>5} {'users/proc':>10} {'L/proc (MiB)':>12} {'step (s)':>9} "
        f"{'user (s)':>9} {'movie (s)':>10} {'all-reduce (s)':>14} {'reduced/step (B)':>16} "
        f"{'n d 4 (B)':>11} {'step peak (GiB)':>15} {'set-up peak (GiB)':>17} {'set-up (s)':>10}"
    )
    single: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        for shape in args.shapes:
            path = Path(folder) / f"{shape}.npz"
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as fresh:
                fresh.submit(prepare, shape, path, args.seed).result()
            best: dict[int, list[dict]] = {}
            for _ in range(args.rounds):  # rounds in turn: a busy spell does not favour one count
                for procs in args.procs:
                    ranks = spawn_ranks(measure_rank, procs, str(path), args.dim, args.repeats)
                    if procs not in best or slowest_step(ranks) < slowest_step(best[procs]):
                        best[procs] = ranks
            for procs, ranks in best.items():
                slowest = max(ranks, key=lambda rank: rank["step_s"])
                if procs == 1:
                    single[shape] = slowest
                payload = slowest["movies"] * args.dim * 4
                print(
                    f"{shape:>8} {procs:>5} {max(r['users'] for r in ranks):>10,} "
                    f"{max(r['likes_bytes'] for r in ranks) / MIB:>12.1f} {slowest['step_s']:>9.3f} "
                    f"{max(r['user_s'] for r in ranks):>9.3f} {slowest['movie_s']:>10.3f} "
                    f"{max(r['reduce_s'] for r in ranks):>14.4f} "
                    f"{slowest['bytes_per_step']:>16,.0f} {payload:>11,} "
                    f"{max(r['step_peak'] for r in ranks) / GIB:>15.2f} "
                    f"{max(r['setup_peak'] for r in ranks) / GIB:>17.2f} "
                    f"{max(r['setup_s'] for r in ranks):>10.1f}",
                    flush=True,
                )
            path.unlink()
    print(
        f"\nModelled from the 1-process figures: P machines like this one, one process each, ring "
        f"all-reduce, {LATENCY_S * 1e6:.0f} us per message"
    )
    columns = [f"{f'step @ {gbit} Gb/s (s)':>19} {'of which comm':>13}" for gbit in BANDWIDTHS_GBIT]
    print(f"{'shape':>8} {'machines':>8} " + " ".join(columns))
    for shape, one in single.items():
        for machines in MACHINES:
            cells = []
            for gbit in BANDWIDTHS_GBIT:
                step_s, reduce_s = modelled_step(one, args.dim, machines, gbit)
                cells.append(f"{step_s:>19.3f} {reduce_s:>13.4f}")
            print(f"{shape:>8} {machines:>8} " + " ".join(cells))


if __name__ == "__main__":
    main()
