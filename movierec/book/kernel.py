"""What the driver sets up in each chapter's kernel before the notebook's first cell, so that the
pages need no setup code of their own: a DataFrame a cell shows (or glues) is the book's table,
and a glued matplotlib figure records its SVG and 300-dpi PNG for the figure pack. A notebook
run outside the driver shows pandas' own tables and glues figures as myst-nb does.
"""

from __future__ import annotations

from .figures import record_figures
from .tables import table

#: The kernel argument that runs :func:`setup` in each chapter's kernel (no name is left in the
#: notebook's namespace).
KERNEL_SETUP = "--IPKernelApp.exec_lines=__import__('movierec.book.kernel').book.kernel.setup()"


def setup() -> None:
    """Tables and figures as the book shows them (see the module's docstring)."""
    show_frames_as_tables()
    record_figures()


def show_frames_as_tables() -> None:
    """Register the book's table renderer as IPython's display formatter for DataFrames: a cell
    that ends with a DataFrame shows the book's table (its cells as data, which the book renders
    as a Sphinx table; HTML in Jupyter), and ``glue`` of a DataFrame glues that table. Does
    nothing outside IPython."""
    import pandas as pd

    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    shell.display_formatter.mimebundle_formatter.for_type(
        pd.DataFrame, lambda frame, include=None, exclude=None: table(frame)._repr_mimebundle_()
    )
