"""What the driver sets up in each chapter's kernel before the notebook's first cell, so that the
pages need no setup code of their own: a DataFrame a cell shows (or glues) is the book's table,
a glued matplotlib figure records its SVG and 300-dpi PNG for the figure pack, and a figure is
drawn for the page's column (:data:`FIGURE_RC`). A notebook run outside the driver shows
pandas' own tables, glues figures as myst-nb does and draws them at matplotlib's sizes.
"""

from __future__ import annotations

from .figures import record_figures
from .tables import table

#: The kernel argument that runs :func:`setup` in each chapter's kernel (no name is left in the
#: notebook's namespace).
KERNEL_SETUP = "--IPKernelApp.exec_lines=__import__('movierec.book.kernel').book.kernel.setup()"


#: matplotlib's defaults in the chapters' kernels: a figure a page draws is sized for the page's
#: column, its smallest text 10 points at 110 dpi (15 px). Shown on a phone (a 342 px column), a
#: figure whose legend sits inside it keeps that text above 9 px without scrolling; a wider one
#: (a legend outside, a larger ``figsize``) is kept at its readable width and scrolls in its box
#: (movierec.book.access). On a wide screen it is shown at its drawn size.
FIGURE_RC = {
    "figure.figsize": (5.0, 3.4),
    "figure.dpi": 110,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "figure.titlesize": 12,
}


def setup() -> None:
    """Tables and figures as the book shows them (see the module's docstring)."""
    show_frames_as_tables()
    record_figures()
    figure_defaults()


def figure_defaults() -> None:
    """Set :data:`FIGURE_RC` in matplotlib's rcParams (nothing when matplotlib is missing)."""
    try:
        import matplotlib
    except ImportError:
        return
    matplotlib.rcParams.update(FIGURE_RC)


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
