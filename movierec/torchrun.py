"""``torchrun ... -m movierec.torchrun [movierec train options]``: this rank's part of
``movierec train``; rank 0 prints the run's line, the other ranks print nothing.

Only the ``train`` command's options are parsed here. Book page: "Scaling up".
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence

from .cli import Parser, add_train_arguments, cmd_train, run
from .model.distributed import LAUNCHER_VARIABLES, launched_by_torchrun


def main(argv: Sequence[str] | None = None) -> int:
    """This rank's ``movierec train``; returns the exit status."""
    if not launched_by_torchrun():
        print(
            f"movierec.torchrun: error: {', '.join(LAUNCHER_VARIABLES)} are not set: start it with "
            "torchrun (see the 'Scaling up' appendix), or use movierec train --nproc N",
            file=sys.stderr,
        )
        return 2
    parser = Parser(prog="movierec.torchrun", description="One rank of a data-parallel movierec train.")
    add_train_arguments(parser)
    parser.set_defaults(command="train")
    arguments = sys.argv[1:] if argv is None else argv
    if os.environ["RANK"] == "0":
        return run(parser, {"train": cmd_train}, arguments)
    with open(os.devnull, "w") as silent, contextlib.redirect_stdout(silent):
        return run(parser, {"train": cmd_train}, arguments)


if __name__ == "__main__":
    sys.exit(main())
