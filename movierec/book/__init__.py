"""The machinery of the movierec book: the driver, the chapters' page helpers and sentences, the
table renderer, the in-page recommender, the Sphinx extension, the parameter profiles and the
course notebook's printed numbers. The library never imports from here."""

import importlib

#: The book's modules, reached as ``mr.book.<name>`` and loaded on first use.
MODULES = (
    "build",
    "cli",
    "course",
    "evaluation",
    "pages",
    "profiles",
    "prose",
    "tables",
    "targets",
    "widget",
)


def __getattr__(name: str):
    if name in MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'movierec.book' has no attribute {name!r}")
