"""The library's commands: data summary, training, recommendations, the run store.

The ``movierec`` console script is these plus the book's own (``sweep``, ``book``), added by
:mod:`movierec.book.cli`; torchrun starts ``train`` alone through :mod:`movierec.torchrun`.
A user error (unknown title, bad parameter, damaged archive ...) ends with one line on
stderr and exit status 2, never a traceback. Book page: "Re-run it yourself".
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence

import pandas as pd

from .data import DEFAULT_RELEASE, LIKE_THRESHOLD
from .errors import MovierecError, ParameterError
from .judging.recommend import SCORINGS, recommend
from .model.cost import TARGETS
from .model.train import TrainConfig, optimizer_classes
from .numbers import format_cost, terminal_text
from .runs.store import RunStore
from .runs.workspace import Workspace

DEFAULT_RUN = TrainConfig()
LISTING_WIDTH = 100
#: The run listing's columns, least needed first: dropped in this order (those with one value
#: for every run before the others) until the listing fits; the key is never dropped nor cut.
LISTING_DROP_ORDER = (
    "epochs",
    "target",
    "data",
    "final cost",
    "status",
    "stored",
    "d",
    "lr",
    "optimizer",
    "MB",
)


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
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help=f"a rating at or above it is a like (default: {LIKE_THRESHOLD:g}, or the profile's)",
    )


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
        help="run key or a unique start of one, as `movierec runs` shows it (default: Adam lr 0.5, d 64, "
        "100 epochs; with --target, that target's recommended run)",
    )
    rec.add_argument(
        "--all-matches",
        action="store_true",
        help="list every movie an ambiguous title matches (without it, all up to 20, else the first 8)",
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

    runs = commands.add_parser("runs", help="list stored runs, newest first; their sizes; remove runs")
    runs.add_argument("--runs", default="", help="run store folder (default: $MOVIEREC_RUNS, else runs/)")
    action = runs.add_mutually_exclusive_group()
    action.add_argument("--size", action="store_true", help="add each run's disk use, and the total")
    action.add_argument(
        "--remove", nargs="+", metavar="KEY", help="remove these runs (keys, or unique starts of keys)"
    )
    action.add_argument(
        "--older-than", type=float, metavar="DAYS", help="remove the runs stored more than DAYS days ago"
    )


def build_parser(prog: str = "movierec") -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    """The command's parser and its subcommands, the library's added."""
    parser = Parser(
        prog=prog, description="Movie embeddings from co-likes: train, compare optimizers, recommend."
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    add_commands(commands)
    return parser, commands


def open_workspace(
    args: argparse.Namespace, dataset: str | None = None, threshold: float | None = None
) -> Workspace:
    """The workspace the options ``--data``, ``--dataset``, ``--runs``, ``--device`` and
    ``--threshold`` name (``dataset`` and ``threshold``, when given, in place of theirs)."""
    return Workspace.open(
        args.data,
        dataset or args.dataset or DEFAULT_RELEASE,
        args.runs,
        args.device,
        like_threshold(args) if threshold is None else threshold,
    )


def like_threshold(args: argparse.Namespace) -> float:
    """``--threshold``, else the default like threshold."""
    return LIKE_THRESHOLD if args.threshold is None else args.threshold


def show(frame: pd.DataFrame) -> None:
    """``frame`` on standard output, formatted like the book's tables."""
    print(terminal_text(frame))


def cmd_data(args: argparse.Namespace) -> None:
    ws = open_workspace(args)
    print(f"{ws.data.release} from {ws.data.source} (SHA-256 {ws.data.checksum[:12]}...)")
    print(f"likes: ratings >= {ws.likes.threshold:g}")
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
        threshold=like_threshold(args),
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
    rows = ws.titles.resolve_all(args.titles, all_matches=args.all_matches)
    print("Inputs: " + "; ".join(ws.titles.titles[row] for row in rows), flush=True)
    if args.run:
        result = ws.store.load(ws.store.resolve_key(args.run))
    else:
        target = args.target or DEFAULT_RUN.target
        result = ws.run(default_run(target, args.ridge, ws.data.release, ws.likes.threshold))
    scoring = args.scoring or default_scoring(result.config.target)
    table = recommend(result.embeddings, ws.data.movies, args.titles, args.top_n, ws.titles, scoring)
    print(
        f"recommendations from run {result.key} ({result.config.label}, d={result.config.dim}, "
        f"{scoring} scoring):"
    )
    show(table[["rank", "title", "score"]].assign(score=table["score"].round(4)))


def listing_width() -> int:
    """The run listing's width: 100 columns, or ``$COLUMNS`` where that is set wider."""
    try:
        return max(LISTING_WIDTH, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        return LISTING_WIDTH


def fit_columns(frame: pd.DataFrame, width: int) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` without the fewest :data:`LISTING_DROP_ORDER` columns that make its text fit
    ``width`` uncut, and the columns left out."""
    droppable = [column for column in LISTING_DROP_ORDER if column in frame.columns]
    constant = [column for column in droppable if frame[column].nunique(dropna=False) <= 1]
    order = constant + [column for column in droppable if column not in constant]
    dropped: list[str] = []

    def widest(table: pd.DataFrame) -> int:
        return max(map(len, terminal_text(table, width=sys.maxsize).splitlines()), default=0)

    while widest(frame) > width and order:
        dropped.append(order.pop(0))
        frame = frame.drop(columns=dropped[-1])
    return frame, dropped


def readable_size(count: int) -> str:
    """Bytes for a person: ``812 B``, ``4.1 kB``, ``2.5 MB``, ``379.6 MB``, ``1.2 GB`` (powers of 1000)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:,.1f} {unit}"
    return f"{count} B"


def cmd_runs(args: argparse.Namespace) -> None:
    store = RunStore(args.runs or None)
    if args.remove or args.older_than is not None:
        remove_runs(store, args)
        return
    table = store.table(sizes=args.size)
    total = int(table["bytes"].sum()) if args.size else 0
    if args.size:
        table = table.assign(bytes=[readable_size(count) for count in table["bytes"]]).rename(
            columns={"bytes": "size"}
        )
    if table.empty:
        print(f"no stored runs in {store.root}")
    else:
        width = listing_width()
        shown, dropped = fit_columns(table, width)
        print(terminal_text(shown, width=width))
        if dropped:
            print(f"(left out to fit {width} columns: {', '.join(dropped)}; set COLUMNS wider to see them)")
    if args.size:
        writing = store.being_written()
        line = f"{len(table)} run{'' if len(table) == 1 else 's'}, {readable_size(total)} in {store.root}"
        if writing:
            partial = sum(store.size(key) for key in writing)
            line += f"; {len(writing)} being written or left half-written, {readable_size(partial)}"
        print(line)


def remove_runs(store: RunStore, args: argparse.Namespace) -> None:
    """``movierec runs --remove KEY...`` or ``--older-than DAYS``: delete those runs, say which."""
    if args.remove:
        keys = [store.resolve_key(text) for text in args.remove]
        which = ""
    else:
        if not (math.isfinite(args.older_than) and args.older_than >= 0):
            raise ParameterError(
                f"--older-than {args.older_than:g} is not allowed: give a number of days >= 0"
            )
        keys = store.older_than(args.older_than)
        which = f" stored more than {args.older_than:g} day{'' if args.older_than == 1 else 's'} ago"
    sizes = {key: store.size(key) for key in keys}
    for key in store.remove(keys):
        print(f"removed run {key} ({readable_size(sizes[key])})")
    noun = "run" if len(keys) == 1 else "runs"
    print(f"removed {len(keys)} {noun}{which}, {readable_size(sum(sizes.values()))} freed")
    writing = store.being_written()
    if writing:
        print(f"left alone, being written or left half-written: {', '.join(writing)}")


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
    except BrokenPipeError:  # the output went to a pager or `head` that closed early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The library's commands alone (``python -m movierec.cli``); returns the exit status."""
    return run(build_parser()[0], COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
