"""Epoch time and peak memory of the factored co-like step on MovieLens-shaped synthetic data.

For each shape (ml-latest-small, ML-1M, ML-25M, ML-32M), one process generates the seeded
synthetic ratings and saves the likes matrix L; a fresh process then loads L, builds
CoLikeCost (exact ||X||^2 included) and times one training step (cost + gradient + Adam)
at d = 64, best of --repeats, and reports its peak RSS. The dense approach's memory need,
X and V^T V as n x n float32, is printed beside it. The last column, time / (nnz d + n d^2)
in nanoseconds, is flat when the step is linear in likes and in n d^2. With --device cuda the
step runs on the GPU (timed to the device's completion) and the peak is the GPU's allocation.

    python benchmarks/scale.py [--shapes ml-latest-small ml-1m ml-25m ml-32m] [--dim 64] [--repeats 5]
                               [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import scipy.sparse as sp
import torch

sys.path.insert(0, str(Path(__file__).parent))
from cost_epoch import machine_line, synchronize  # noqa: E402  (a sibling script, not a package)

from movierec.data import likes_matrix  # noqa: E402
from movierec.data.synthetic import SHAPES, synthetic_tables  # noqa: E402
from movierec.model.cost import CoLikeCost  # noqa: E402
from movierec.model.train import pick_device  # noqa: E402

GIB = 1 << 30


def peak_rss() -> int:
    """This process's peak resident memory in bytes (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def prepare(shape: str, path: Path, seed: int) -> dict:
    """Generate the synthetic release, build L, save it; report sizes and times."""
    start = time.perf_counter()
    movies, ratings = synthetic_tables(SHAPES[shape], seed)
    generated = time.perf_counter() - start
    start = time.perf_counter()
    likes = likes_matrix(ratings, movies)
    built = time.perf_counter() - start
    sp.save_npz(path, likes.matrix, compressed=False)
    return {
        "ratings": len(ratings),
        "users": likes.n_users,
        "movies": likes.n_movies,
        "likes": likes.matrix.nnz,
        "generate_s": generated,
        "likes_s": built,
        "prepare_peak": peak_rss(),
    }


def step(path: Path, dim: int, repeats: int, device: torch.device) -> dict:
    """Build CoLikeCost from the saved L and time one Adam step; report the peak memory (resident
    on the CPU, allocated on a GPU)."""
    matrix = sp.load_npz(path).tocsr()
    start = time.perf_counter()
    cost = CoLikeCost(matrix, device)
    synchronize(device)
    built = time.perf_counter() - start
    del matrix
    generator = torch.Generator().manual_seed(576)
    rows = (
        torch.normal(0.0, 0.5, size=(dim, cost.n_movies), generator=generator)
        .mT.contiguous()
        .to(device)
        .requires_grad_(True)
    )
    optimizer = torch.optim.Adam([rows], lr=0.01)

    def one_step() -> None:
        _, grad = cost.value_and_grad(rows.mT)
        rows.grad = grad.mT
        optimizer.step()

    one_step()
    synchronize(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        one_step()
        synchronize(device)
        times.append(time.perf_counter() - start)
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else peak_rss()
    return {"cost_init_s": built, "step_s": min(times), "step_peak": peak}


def in_child(*args: str) -> dict:
    """Run this script's ``args`` in a fresh interpreter, so each peak RSS is its own."""
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="where the step runs")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    device = pick_device(args.device)
    if args.child:
        role, path = args.child
        shape = args.shapes[0]
        result = (
            prepare(shape, Path(path), args.seed)
            if role == "prepare"
            else step(Path(path), args.dim, args.repeats, device)
        )
        print(json.dumps(result))
        return

    print(f"{machine_line(device)}, d = {args.dim}, step on {device}", flush=True)
    header = (
        f"{'shape':>16} {'users':>8} {'movies':>7} {'likes':>11} {'step (s)':>9} {'peak (GiB)':>10} "
        f"{'dense X+VtV (GiB)':>17} {'init (s)':>8} {'ns/(nnz d+n d^2)':>16}"
    )
    print(header)
    d = args.dim
    with tempfile.TemporaryDirectory() as folder:
        for shape in args.shapes:
            path = Path(folder) / f"{shape}.npz"
            sizes = in_child("--shapes", shape, "--seed", str(args.seed), "--child", "prepare", str(path))
            timing = in_child(
                "--dim",
                str(d),
                "--repeats",
                str(args.repeats),
                "--device",
                str(device),
                "--child",
                "step",
                str(path),
            )
            n, nnz = sizes["movies"], sizes["likes"]
            dense = 2 * n * n * 4 / GIB
            per_unit = timing["step_s"] / (nnz * d + n * d * d) * 1e9
            print(
                f"{shape:>16} {sizes['users']:>8,} {n:>7,} {nnz:>11,} {timing['step_s']:>9.4f} "
                f"{timing['step_peak'] / GIB:>10.2f} {dense:>17.2f} "
                f"{timing['cost_init_s']:>8.1f} {per_unit:>16.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
