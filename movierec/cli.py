"""The library's commands: data summary, training, recommendations, the run store.

The ``movierec`` console script is these plus the book's own (``sweep``, ``book``), added by
:mod:`movierec.book.cli`; torchrun starts ``train`` alone through :mod:`movierec.torchrun`.
A user error (unknown title, bad parameter, damaged archive ...) ends with one line on
stderr and exit status 2, never a traceback. Book page: "Re-run it yourself".
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence

import pandas as pd

from .data import DEFAULT_RELEASE
from .errors import MovierecError, ParameterError
from .judging.recommend import SCORINGS, recommend
from .model.cost import TARGETS
from .model.train import TrainConfig, optimizer_classes
from .numbers import format_cost, terminal_text
from .runs.store import RunStore
from .runs.workspace import Workspace

DEFAULT_RUN = TrainConfig()


class Parser(argparse.ArgumentParser):
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


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every command that opens the data takes: where the data, runs and device are."""
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


def add_train_arguments(train: argparse.ArgumentParser) -> None:
    """The options of ``movierec train``: the data, the run's parameters and the processes."""
    add_common_arguments(train)
    _add_train_options(train)
    train.add_argument(
        "--nproc",
        type=int,
        default=1,
        help="local processes sharing the users, same result (torch.distributed; default: %(default)s)",
    )


def add_commands(commands: argparse._SubParsersAction) -> None:
    """The library's commands, as subcommands of ``commands``."""
    data = commands.add_parser("data", help="summary figures of the data: counts, likes, X")
    add_common_arguments(data)

    add_train_arguments(commands.add_parser("train", help="train one run (reused when already stored)"))

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
    add_common_arguments(rec)

    runs = commands.add_parser("runs", help="list stored runs, newest first")
    runs.add_argument("--runs", default="", help="run store folder")


def build_parser(prog: str = "movierec") -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    """The command's parser and its subcommands, the library's added."""
    parser = Parser(
        prog=prog, description="Movie embeddings from co-likes: train, compare optimizers, recommend."
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    add_commands(commands)
    return parser, commands


def open_workspace(args: argparse.Namespace, dataset: str | None = None) -> Workspace:
    """The workspace the options ``--data``, ``--dataset``, ``--runs`` and ``--device`` name."""
    return Workspace.open(args.data, dataset or args.dataset or DEFAULT_RELEASE, args.runs, args.device)


def show(frame: pd.DataFrame) -> None:
    """``frame`` on standard output, formatted like the book's tables."""
    print(terminal_text(frame))


def cmd_data(args: argparse.Namespace) -> None:
    ws = open_workspace(args)
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
    ws = open_workspace(args)
    config.resolved_dim(ws.likes.n_movies)
    from .runs.parallel import run_training

    result = run_training(ws, config, args.nproc)
    every = max(1, math.ceil(config.epochs / 10))  # about ten costs, as the course notebook printed them
    history = result.history
    shown = history[(history["epoch"] % every == 0) | (history["epoch"] == history["epoch"].iloc[-1])]
    show(shown[["epoch", "cost"]].reset_index(drop=True))
    print(
        f"run {result.key}: {config.label}, d={args.dim}, {result.status_text}, "
        f"final cost {format_cost(result.final_cost)}, {result.seconds:.2f} s, "
        f"stored in {ws.store.path(result.key)}"
    )


def cmd_recommend(args: argparse.Namespace) -> None:
    from .judging.targets import default_run, default_scoring

    if args.run and (args.target or args.ridge is not None):
        raise ParameterError(
            "--target and --ridge choose the default run to train: drop them with --run "
            "(a stored run has its own target)"
        )
    ws = open_workspace(args)
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
    show(table[["rank", "title", "score"]].assign(score=table["score"].round(4)))


def cmd_runs(args: argparse.Namespace) -> None:
    table = RunStore(args.runs or None).table()
    if table.empty:
        print("no stored runs")
    else:
        show(table)


COMMANDS = {
    "data": cmd_data,
    "train": cmd_train,
    "recommend": cmd_recommend,
    "runs": cmd_runs,
}


def run(parser: argparse.ArgumentParser, commands: dict, argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, run its command; a user error is one line on stderr and status 2."""
    try:
        args = parser.parse_args(argv)
        commands[args.command](args)
    except MovierecError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted; finished runs are stored and will be reused", file=sys.stderr)
        return 130
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The library's commands alone (``python -m movierec.cli``); returns the exit status."""
    return run(build_parser()[0], COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
