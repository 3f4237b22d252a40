"""The machinery of the movierec book: the driver, the table of contents and the chapter lint,
the kernels' set-up, the table renderer, the results cell, the in-page recommender, the Sphinx
extension and the parameter profiles. The library never imports from here, and a chapter's
visible code never calls it."""

import importlib

#: The book's modules, reached as ``mr.book.<name>`` and loaded on first use.
MODULES = (
    "build",
    "cli",
    "evaluation",
    "pages",
    "profiles",
    "tables",
    "targets",
    "widget",
)


def __getattr__(name: str):
    if name in MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'movierec.book' has no attribute {name!r}")
