"""The ``movierec`` command: data summary, training, sweeps, recommendations, the book.

A user error (unknown title, bad parameter, damaged archive ...) ends with one line on
stderr and exit status 2, never a traceback. Book page: "Re-run it yourself".
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence

import pandas as pd

from .cost import TARGETS
from .data import DEFAULT_RELEASE
from .errors import MovierecError, ParameterError
from .profiles import load_profile
from .recommend import SCORINGS, recommend
from .store import RunStore
from .study import study_configs
from .tables import format_cost, summary_table, terminal_text
from .train import TrainConfig, optimizer_classes
from .workspace import Workspace

DEFAULT_RUN = TrainConfig()


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as :class:`ParameterError` (exit 2, one line)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ParameterError(f"{self.prog}: {message} (see {self.prog} --help)")


def _dim(text: str) -> int | str:
    if text == "full":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'dim must be an integer or "full", got {text!r}') from None


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", default="", help="archive or unpacked folder (default: $MOVIEREC_DATA, cache, download)"
    )
    parser.add_argument(
        "--dataset", default=None, help=f"MovieLens release (default: {DEFAULT_RELEASE}, or the profile's)"
    )
    parser.add_argument("--runs", default="", help="run store folder (default: $MOVIEREC_RUNS, else runs/)")
    parser.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda or mps")


def _add_train_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--optimizer", default=DEFAULT_RUN.optimizer, help=f"one of {', '.join(sorted(optimizer_classes()))}"
    )
    parser.add_argument(
        "--lr", type=float, default=DEFAULT_RUN.lr, help="learning rate (default: %(default)s)"
    )
    parser.add_argument(
        "--epochs", type=int, default=DEFAULT_RUN.epochs, help="epochs (default: %(default)s)"
    )
    parser.add_argument(
        "--dim", type=_dim, default=DEFAULT_RUN.dim, help='embedding size or "full" (default: %(default)s)'
    )
    parser.add_argument(
        "--init-std", type=float, default=DEFAULT_RUN.init_std, help="initial std (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_RUN.seed, help="seed (default: %(default)s)")
    parser.add_argument("--momentum", type=float, default=None, help="momentum (SGD default 0.9)")
    parser.add_argument(
        "--dtype", default=DEFAULT_RUN.dtype, help="float32 or float64 (default: %(default)s)"
    )
    _add_target_options(parser, DEFAULT_RUN.target)


def _add_target_options(parser: argparse.ArgumentParser, target: str | None) -> None:
    parser.add_argument(
        "--target",
        default=target,
        choices=TARGETS,
        help="what V^T V fits: the co-likes X, their cosine normalisation, or the ridge-whitened K "
        f"(default: {target or 'colikes'})",
    )
    parser.add_argument(
        "--ridge", type=float, default=None, help="lambda of the whitened target (required there)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="movierec", description="Movie embeddings from co-likes: train, compare optimizers, recommend."
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    data = commands.add_parser("data", help="summary figures of the data: counts, likes, X")
    _add_common(data)

    train = commands.add_parser("train", help="train one run (reused when already stored)")
    _add_common(train)
    _add_train_options(train)
    train.add_argument(
        "--nproc",
        type=int,
        default=1,
        help="local processes sharing the users, same result (torch.distributed; default: %(default)s)",
    )

    sweep = commands.add_parser("sweep", help="run a profile's optimizer study")
    sweep.add_argument("profile", help="profile name in book/profiles or path to a .yml file")
    _add_common(sweep)

    rec = commands.add_parser("recommend", help="top-N movies for input titles")
    rec.add_argument("titles", nargs="+", metavar="TITLE", help='e.g. "Toy Story (1995)", "the matrix", id:1')
    rec.add_argument(
        "--run",
        default="",
        help="run key (default: Adam lr 0.5, d 64, 100 epochs; with --target, that target's recommended run)",
    )
    rec.add_argument("--top-n", type=int, default=10, help="list length (default: %(default)s)")
    _add_target_options(rec, None)
    rec.add_argument(
        "--scoring",
        default=None,
        choices=SCORINGS,
        help="mean cosine to the inputs (the seed's rule) or dot product with their sum "
        "(default: cosine for colikes and cosine, dot for whitened)",
    )
    _add_common(rec)

    runs = commands.add_parser("runs", help="list stored runs, newest first")
    runs.add_argument("--runs", default="", help="run store folder")

    book = commands.add_parser("book", help="run the study, execute the notebooks, build the HTML book")
    book.add_argument("--profile", default="default", help="profile name or .yml path (default: %(default)s)")
    book.add_argument(
        "--edition",
        default="instructor",
        choices=["instructor", "student"],
        help="instructor (solutions in dropdowns: _build/html) or student (none: _build/student/html)",
    )
    return parser


def _workspace(args: argparse.Namespace, dataset: str | None = None) -> Workspace:
    return Workspace.open(args.data, dataset or args.dataset or DEFAULT_RELEASE, args.runs, args.device)


def _show(frame: pd.DataFrame) -> None:
    print(terminal_text(frame))


def cmd_data(args: argparse.Namespace) -> None:
    ws = _workspace(args)
    print(f"{ws.data.release} from {ws.data.source} (SHA-256 {ws.data.checksum[:12]}...)")
    for label, value in ws.summary().itertuples(index=False):
        print(f"{label:>22}: {value:,}")


def cmd_train(args: argparse.Namespace) -> None:
    config = TrainConfig(
        optimizer=args.optimizer,
        lr=args.lr,
        epochs=args.epochs,
        dim=args.dim,
        init_std=args.init_std,
        seed=args.seed,
        momentum=args.momentum,
        dtype=args.dtype,
        dataset=args.dataset or DEFAULT_RELEASE,
        target=args.target,
        ridge=args.ridge,
    )
    ws = _workspace(args)
    config.resolved_dim(ws.likes.n_movies)
    from .distributed import run_training

    result = run_training(ws, config, args.nproc)
    every = max(1, math.ceil(config.epochs / 10))  # about ten costs, as the course notebook printed them
    history = result.history
    shown = history[(history["epoch"] % every == 0) | (history["epoch"] == history["epoch"].iloc[-1])]
    _show(shown[["epoch", "cost"]].reset_index(drop=True))
    print(
        f"run {result.key}: {config.label}, d={args.dim}, {result.status_text}, "
        f"final cost {format_cost(result.final_cost)}, {result.seconds:.2f} s, "
        f"stored in {ws.store.path(result.key)}"
    )


def cmd_sweep(args: argparse.Namespace) -> None:
    params = load_profile(args.profile)
    dataset = args.dataset or params.get("dataset", DEFAULT_RELEASE)
    if params.get("dataset", dataset) != dataset:
        raise ParameterError(
            f"--dataset {dataset} contradicts the profile's dataset {params['dataset']}: drop one"
        )
    configs = study_configs({**params, "dataset": dataset})
    ws = _workspace(args, dataset)
    for config in configs:
        config.resolved_dim(ws.likes.n_movies)
    _show(summary_table(ws.sweep(configs)))


def cmd_recommend(args: argparse.Namespace) -> None:
    from .targets import default_run, default_scoring

    if args.run and (args.target or args.ridge is not None):
        raise ParameterError(
            "--target and --ridge choose the default run to train: drop them with --run "
            "(a stored run has its own target)"
        )
    ws = _workspace(args)
    ws.titles.resolve_all(args.titles)
    if args.run:
        result = ws.store.load(args.run)
    else:
        result = ws.run(default_run(args.target or DEFAULT_RUN.target, args.ridge, ws.data.release))
    scoring = args.scoring or default_scoring(result.config.target)
    table = recommend(result.embeddings, ws.data.movies, args.titles, args.top_n, ws.titles, scoring)
    print(
        f"recommendations from run {result.key} ({result.config.label}, d={result.config.dim}, "
        f"{scoring} scoring):"
    )
    _show(table[["rank", "title", "score"]].assign(score=table["score"].round(4)))


def cmd_runs(args: argparse.Namespace) -> None:
    table = RunStore(args.runs or None).table()
    if table.empty:
        print("no stored runs")
    else:
        _show(table)


def cmd_book(args: argparse.Namespace) -> None:
    from .book import build_book

    build_book(args.profile, edition=args.edition)


COMMANDS = {
    "data": cmd_data,
    "train": cmd_train,
    "sweep": cmd_sweep,
    "recommend": cmd_recommend,
    "runs": cmd_runs,
    "book": cmd_book,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``movierec`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        COMMANDS[args.command](args)
    except MovierecError as error:
        print(f"movierec: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("movierec: interrupted; finished runs are stored and will be reused", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
