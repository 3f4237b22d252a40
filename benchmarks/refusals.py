"""How long movierec takes to refuse bad input, against the work it cannot skip, side by side.

1. ``movierec data`` with each odd ``MOVIEREC_DATA`` of tests/test_faults.py (``/``, ``/proc``, a
   symlink loop, a FIFO, a file that is not a zip ...) against its start-up alone: the same
   command given a path that does not exist (its imports, no data), run just before it, so
   that a busy spell slows both alike: the best times of --rounds such pairs, and the median
   of their ratios. Each case is also refused in this process (``load_movielens()``, best of
   5), without the start-up.
2. ``movierec book`` with a profile whose titles are unknown, which stops before any run, against
   ``movierec data`` on the same archive: loading the data and its likes is what the title check
   needs. Given the archive (--data, else $MOVIEREC_DATA).

The tests assert what each refusal says, never how long it takes (CONTRIBUTING.md): these times
and ratios are for reading, on the machine named in the first line. As root, the unreadable
file and folder are left out: root reads them.

    python benchmarks/refusals.py [--rounds 3] [--data PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, str(ROOT / "tests"))
from cost_epoch import machine_line  # noqa: E402  (a sibling script, not a package)
from test_faults import NEEDS_PERMISSIONS, ODD_PATHS  # noqa: E402  (the tests' cases, in one place)

from movierec.data import load_movielens  # noqa: E402
from movierec.errors import DataError  # noqa: E402

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
SCRIPT = Path(sys.executable).with_name("movierec")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "movierec.book.cli"]
BAD_TITLES = {"dim": 4, "epochs": 2, "titles": ["Forest Gump", "Hamlet"]}


def timed(arguments: list[str], env: dict[str, str], expected: int) -> float:
    """Seconds one command takes, checked to end with the exit status ``expected``."""
    start = time.perf_counter()
    done = subprocess.run(
        [*COMMAND, *arguments], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600
    )
    seconds = time.perf_counter() - start
    if done.returncode != expected:
        sys.exit(f"refusals.py: {' '.join(arguments)} ended {done.returncode}, not {expected}: {done.stderr}")
    return seconds


def in_process(path: Path, repeats: int) -> float:
    """The best seconds of ``load_movielens()`` refusing ``MOVIEREC_DATA=path`` in this process."""
    os.environ["MOVIEREC_DATA"] = str(path)
    best = float("inf")
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            try:
                load_movielens()
            except DataError:
                pass
            else:
                sys.exit(f"refusals.py: {path} loaded without a DataError")
            best = min(best, time.perf_counter() - start)
    finally:
        del os.environ["MOVIEREC_DATA"]
    return best


def odd_paths(rounds: int, folder: Path) -> None:
    cases = [case for case in ODD_PATHS if not (AS_ROOT and case[0] in NEEDS_PERMISSIONS)]
    paths = {}
    for name, make, _ in cases:
        home = folder / name.replace(" ", "-")
        home.mkdir()
        paths[name] = make(home)
    env = {**os.environ, "MOVIEREC_CACHE": str(folder / "cache")}
    pairs: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
    for _ in range(rounds):  # each case right after a start-up alone: a busy spell slows both
        for name, path in paths.items():
            alone = timed(["data"], {**env, "MOVIEREC_DATA": str(folder / "missing")}, 2)
            pairs[name].append((alone, timed(["data"], {**env, "MOVIEREC_DATA": str(path)}, 2)))
    print(f"\n`movierec data` refusing each MOVIEREC_DATA: best of {rounds} pairs, median ratio")
    print(
        f"{'MOVIEREC_DATA':>24} {'in process (us)':>15} {'start-up (s)':>12} {'command (s)':>11} "
        f"{'/ start-up':>10}"
    )
    for name, path in paths.items():
        alone, command = (min(pair[side] for pair in pairs[name]) for side in (0, 1))
        ratio = statistics.median(command / alone for alone, command in pairs[name])
        print(f"{name:>24} {in_process(path, 5) * 1e6:>15.0f} {alone:>12.2f} {command:>11.2f} {ratio:>10.2f}")
    if AS_ROOT:
        print(f"(as root: {', '.join(sorted(NEEDS_PERMISSIONS))} left out, root reads them)")
    for home in folder.iterdir():  # the unreadable cases made readable, so that they can be removed
        for locked in (home / "ml-latest-small.zip", home / "locked"):
            if locked.exists() and not locked.is_symlink():
                locked.chmod(0o755)


def bad_titles(rounds: int, archive: Path, folder: Path) -> None:
    profile = folder / "bad-titles.yml"
    profile.write_text(yaml.safe_dump(BAD_TITLES))
    env = {**os.environ, "MOVIEREC_DATA": str(archive), "MOVIEREC_RUNS": str(folder / "runs")}
    pairs = []
    for _ in range(rounds):
        pairs.append((timed(["data"], env, 0), timed(["book", "--profile", str(profile)], env, 2)))
    data, book = (min(pair[side] for pair in pairs) for side in (0, 1))
    if (folder / "runs").exists() and any((folder / "runs").iterdir()):
        sys.exit("refusals.py: the book trained a run before refusing its titles")
    ratio = statistics.median(book / data for data, book in pairs)
    print(
        f"\n`movierec book` refusing unknown titles on {archive.name}: best of {rounds} pairs, median ratio"
    )
    print(f"{'command':>38} {'seconds':>8} {'/ data':>7}")
    print(f"{'movierec data (loads data and likes)':>38} {data:>8.2f} {1:>7.2f}")
    print(f"{'movierec book --profile bad-titles':>38} {book:>8.2f} {ratio:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=os.environ.get("MOVIEREC_DATA") or None)
    args = parser.parse_args()
    print(machine_line(torch.device("cpu")), flush=True)
    folder = Path(tempfile.mkdtemp(prefix="movierec-refusals-"))
    try:
        odd_paths(args.rounds, folder)
        if args.data is None:
            print("\n(no archive given: --data or MOVIEREC_DATA; the book's title check is left out)")
        else:
            bad_titles(args.rounds, args.data, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
