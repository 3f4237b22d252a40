"""The ``movierec`` console script: the library's commands (:mod:`movierec.cli`) and the book's,
``sweep`` (a profile's optimizer study), ``book`` (execute the notebooks, build the HTML),
``assign`` (the course chapters' exercises as otter-grader assignments), ``grade`` (a class's
submissions graded by their autograder: grades.csv and mistakes.md) and ``check-machine`` (the
pre-lab check).

Book pages: "Re-run it yourself", "For teachers".
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..cli import COMMANDS, add_common_arguments, build_parser, open_workspace, run, show
from ..data import DEFAULT_RELEASE
from ..errors import ParameterError
from ..runs.study import summary_table
from .grade import TIME_LIMIT
from .profiles import check_with_data, defaults, load_profile, profile_path, shown_path, study_configs


def cmd_sweep(args: argparse.Namespace) -> None:
    """Train (or reuse) every run of a profile's optimizer study and print its summary table; the
    profile is checked whole first (its values, then its titles and sizes against the data)."""
    params = load_profile(args.profile)
    dataset = args.dataset or params.get("dataset", DEFAULT_RELEASE)
    if params.get("dataset", dataset) != dataset:
        raise ParameterError(
            f"--dataset {dataset} contradicts the profile's dataset {params['dataset']}: drop one"
        )
    threshold = params.get("threshold", defaults()["threshold"]) if args.threshold is None else args.threshold
    if params.get("threshold", threshold) != threshold:
        raise ParameterError(
            f"--threshold {threshold:g} contradicts the profile's threshold {params['threshold']:g}: drop one"
        )
    chosen = {**params, "dataset": dataset, "threshold": threshold}
    configs = study_configs(chosen)
    ws = open_workspace(args, dataset, threshold)
    check_with_data({**defaults(), **chosen}, ws, shown_path(profile_path(args.profile)))
    for config in configs:
        config.resolved_dim(ws.likes.n_movies)
    show(summary_table(ws.sweep(configs)))


def cmd_book(args: argparse.Namespace) -> None:
    """Run the study, execute the notebooks and build the HTML book of a profile (or its PDFs)."""
    from .build import build_book

    build_book(args.profile, edition=args.edition, pdf=args.pdf)


def cmd_assign(args: argparse.Namespace) -> None:
    """Write the course chapters' assignments (otter master, student notebook, autograder zip)."""
    from .assign import build_assignments

    build_assignments(out=args.out or None, chapters=args.chapters or None)


def cmd_grade(args: argparse.Namespace) -> None:
    """Grade submissions with an assignment's autograder: grades.csv and mistakes.md in --out."""
    from .grade import grade_submissions

    if args.time_limit <= 0 or (args.jobs is not None and args.jobs < 1):
        raise ParameterError("--time-limit must be a positive number of seconds and --jobs at least 1")
    grade_submissions(args.assignment, args.submissions, args.out, args.time_limit, args.jobs)


def cmd_check_machine(args: argparse.Namespace) -> None:
    """Time training epochs here and say whether the lab profile fits the lab."""
    from .machine import check_machine, print_verdict

    print_verdict(check_machine(args.data))


def book_parser() -> argparse.ArgumentParser:
    """The library's commands and the book's, in one parser."""
    parser, commands = build_parser()
    sweep = commands.add_parser("sweep", help="run a profile's optimizer study")
    sweep.add_argument("profile", help="profile name in book/profiles or path to a .yml file")
    add_common_arguments(sweep)

    book = commands.add_parser("book", help="run the study, execute the notebooks, build the HTML book")
    book.add_argument("--profile", default="default", help="profile name or .yml path (default: %(default)s)")
    book.add_argument(
        "--edition",
        default="instructor",
        choices=["instructor", "student"],
        help="instructor (solutions in dropdowns: _build/html) or student (none: _build/student/html)",
    )
    book.add_argument(
        "--pdf",
        action="store_true",
        help="build both editions as PDF instead (Chromium): _build/pdf/movierec-{instructor,student}.pdf",
    )
    assign = commands.add_parser(
        "assign", help="the course chapters' exercises as otter-grader assignments (_build/assignments)"
    )
    assign.add_argument("chapters", nargs="*", help="chapters to write (default: the course's, 01 to 05)")
    assign.add_argument("--out", default="", help="folder of the assignments (default: _build/assignments)")

    grade = commands.add_parser(
        "grade", help="grade submissions with an assignment's autograder: grades.csv, mistakes.md"
    )
    grade.add_argument("assignment", help="an assignment folder, e.g. _build/assignments/01_data")
    grade.add_argument("submissions", nargs="+", help="the students' notebooks")
    grade.add_argument("--out", required=True, help="folder for grades.csv, mistakes.md and results/")
    grade.add_argument(
        "--time-limit", type=float, default=TIME_LIMIT, help="seconds per submission (default: %(default)s)"
    )
    grade.add_argument(
        "--jobs", type=int, default=None, help="submissions graded at once (default: the cores)"
    )

    check = commands.add_parser(
        "check-machine", help="pre-lab check: does the lab profile build here in time (under 30 s)"
    )
    check.add_argument(
        "--data", default="", help="archive or unpacked folder (default: $MOVIEREC_DATA, cache, download)"
    )
    return parser


BOOK_COMMANDS = {
    **COMMANDS,
    "sweep": cmd_sweep,
    "book": cmd_book,
    "assign": cmd_assign,
    "grade": cmd_grade,
    "check-machine": cmd_check_machine,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``movierec`` console script; returns the exit status."""
    return run(book_parser(), BOOK_COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
