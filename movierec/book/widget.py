"""The in-page recommender: a reader types films on the static book page and sees the top 10.

No kernel and no server. :func:`export` writes the chosen runs' embeddings, the titles and the
genres into ``recommender-data.js``, a script that assigns one global (Chromium refuses
``fetch()`` from ``file://``, a ``<script src>`` is allowed), and copies the widget's own
``recommender.js`` and ``recommender.css`` beside it. :func:`embed_html` is what a notebook
cell displays to put the widget on a page. The widget follows the rules of
:mod:`movierec.data.titles` and :func:`movierec.judging.recommend`:

- **Titles.** ``recommender.js`` derives each title's forms (case and accents ignored, year
  optional, trailing article moved or dropped, alternate titles) with the same steps as
  :func:`movierec.data.titles.title_forms`; the tables it cannot know (Python's article list, the
  characters ``casefold`` maps unlike ``toLowerCase``, the combining marks ``normalize``
  drops) come from Python in the data file. Deriving the forms in the page instead of
  exporting them keeps two runs at d = 64 under 2 MB; ``tests/test_widget.py`` checks that
  the page's forms equal :meth:`TitleIndex.forms` for every title, and that its candidates
  equal :meth:`TitleIndex.candidates`. Suggestions rank a title by its best match: the exact
  title or a whole form first, then a form that starts with the typed text, then one holding
  its words, then (3 characters or more) one holding it as a substring; within a rank, the
  more liked first, then by title. When nothing matches, the page offers the close spellings
  that the command line's "did you mean" names (:meth:`TitleIndex.suggestions`): the script
  restates ``difflib.get_close_matches`` step by step (ratio, autojunk, the order of ties) over
  the forms it derives, so no data is exported for it; ``tests/test_widget.py`` holds it to
  Python's on real misspellings.
- **Scores.** Each movie's unit embedding is scaled so that its largest component is 127
  and rounded to int8 (zero embeddings stay zero). The page scores a movie by the mean,
  over the inputs with a non-zero embedding, of the cosine of the int8 vectors, leaves the
  inputs out, and breaks ties by ``movies`` order, as :func:`movierec.judging.recommend` does.

The quantisation error is measured, not estimated: :func:`score_error_bound` is the largest
difference between the int8 cosine and the float cosine over all pairs of movies. A score
is a mean of such cosines, so no score moves by more than that bound, and two titles can
trade places only where their float scores differ by at most twice it.
Book page: "Recommendations".
"""

from __future__ import annotations

import base64
import html
import json
import math
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..data.titles import ARTICLES, TitleIndex
from ..errors import ParameterError, StoreError
from ..judging.recommend import unit_columns
from ..model.train import TrainResult
from ..numbers import format_lr
from ..runs.store import atomic_write
from ..runs.workspace import Workspace

if TYPE_CHECKING:
    from IPython.display import HTML

ELEMENT_ID = "try-recommender"
DATA_FILE = "recommender-data.js"
SCRIPT_FILE = "recommender.js"
STYLE_FILE = "recommender.css"
WIDGET_FILES = (SCRIPT_FILE, STYLE_FILE)
DATA_GLOBAL = "movierecRecommenderData"
DATA_FORMAT = 1
#: Where the book keeps the widget's files, relative to the repository root: ``_vendor`` is the
#: book's ``html_static_path``, so they are served at ``_static/recommender/``.
ASSET_FOLDER = Path("_vendor") / "recommender"
#: From the Recommendations page (``book/executed/04_recommendations.html``) to those files.
STATIC_PREFIX = "../../_static/recommender/"
INT8_LEVELS = 127
#: A guard, not the budget: past this a page would make readers download tens of megabytes
#: (runs at d = n are about 127 MB each); the book's two runs at d = 64 take under 2 MB.
MAX_DATA_BYTES = 8_000_000
#: The page's budget: the data file a reader downloads holds at most this many bytes; the runs
#: beyond it (the costliest first) are left out of the picker, and the page says which.
DATA_BUDGET = 2_000_000
ERROR_BLOCK = 512  # movies per block when all pairwise cosines are compared
CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
SCORE_ERROR_RULE = (
    "the largest |cos(q_i, q_j) - cos(v_i, v_j)| over all pairs of movies, with q the int8 "
    "vectors and v the float embeddings; a score is a mean of such cosines, so none moves by "
    "more, and two titles can swap only where their float scores differ by at most twice it"
)


@dataclass(frozen=True)
class WidgetAsset:
    """What :func:`export` wrote: the files, the data file's size, and per run (by label) the
    measured bound on how far an in-page score is from :func:`movierec.judging.recommend`'s."""

    files: tuple[Path, ...]
    data_bytes: int
    score_error: dict[str, float]
    error_rule: str = field(default=SCORE_ERROR_RULE)

    @property
    def total_bytes(self) -> int:
        """Bytes of all the files written (data, script and stylesheet)."""
        return sum(path.stat().st_size for path in self.files)

    def record(self) -> dict[str, Any]:
        """A JSON-ready summary for a notebook's recorded results (``assets`` lists the files,
        so that the book driver re-executes the page if one is missing)."""
        return {
            "assets": [path.as_posix() for path in self.files],
            "data_bytes": self.data_bytes,
            "score_error": self.score_error,
        }


def run_label(result: TrainResult) -> str:
    """A run's name in the page's run picker: optimizer and learning rate ("adam, lr 0.5")."""
    return f"{result.config.optimizer}, lr {format_lr(result.config.lr)}"


def choose_runs(results: Sequence[TrainResult]) -> dict[str, TrainResult]:
    """The best finished run (lowest final cost) of each optimizer, labelled by :func:`run_label`,
    best overall first: the runs the page offers. Runs that diverged are left out."""
    best: dict[str, TrainResult] = {}
    for result in results:
        if result.status != "finished" or not math.isfinite(result.final_cost):
            continue
        held = best.get(result.config.optimizer)
        if held is None or result.final_cost < held.final_cost:
            best[result.config.optimizer] = result
    ranked = sorted(best.values(), key=lambda result: result.final_cost)
    return {run_label(result): result for result in ranked}


def quantise(embeddings: np.ndarray) -> np.ndarray:
    """Int8 codes (d x n) of the unit columns: each column scaled so that its largest
    component is 127, then rounded; a zero column stays zero. Cosines of the codes stand in
    for cosines of the embeddings."""
    unit = unit_columns(embeddings)
    peaks = np.abs(unit).max(axis=0)
    scale = np.divide(INT8_LEVELS, peaks, out=np.zeros_like(peaks), where=peaks > 0)
    return np.rint(unit * scale).astype(np.int8)


def score_error_bound(embeddings: np.ndarray, codes: np.ndarray) -> float:
    """The largest |cos(codes_i, codes_j) - cos(v_i, v_j)| over all pairs of movies: since a
    score is a mean of such cosines, it bounds every score's error, whatever the inputs."""
    exact = unit_columns(embeddings)
    coded = unit_columns(codes.astype(np.float64))
    worst = 0.0
    for start in range(0, exact.shape[1], ERROR_BLOCK):
        block = slice(start, start + ERROR_BLOCK)
        difference = coded[:, block].T @ coded - exact[:, block].T @ exact
        worst = max(worst, float(np.abs(difference).max()))
    return worst


@lru_cache(maxsize=1)
def unicode_tables() -> dict[str, Any]:
    """What the page needs to normalize text as :func:`movierec.data.titles.normalize` does: the
    ranges of combining characters it drops, and the characters whose ``casefold`` differs
    from their lower case (``ß`` -> ``ss``), from Python's Unicode database."""
    combining: list[list[int]] = []
    folds: dict[str, str] = {}
    for point in range(sys.maxunicode + 1):
        char = chr(point)
        if unicodedata.combining(char):
            if combining and combining[-1][1] == point - 1:
                combining[-1][1] = point
            else:
                combining.append([point, point])
        elif char.casefold() != char.lower() and unicodedata.normalize("NFKD", char) == char:
            folds[char] = char.casefold()
    return {"unicode": unicodedata.unidata_version, "combining": combining, "casefold": folds}


def _codes(values: Sequence[int]) -> str:
    return "".join(CODE_ALPHABET[value] for value in values)


def _genre_codes(movies: pd.DataFrame) -> tuple[list[str], str]:
    """The distinct genres, and per movie its genres as letters of :data:`CODE_ALPHABET`
    (movies separated by commas)."""
    per_movie = [
        str(value).split("|") if isinstance(value, str) and value else [] for value in movies["genres"]
    ]
    names = sorted({genre for genres in per_movie for genre in genres})
    if len(names) > len(CODE_ALPHABET):
        raise ParameterError(
            f"movies have {len(names)} distinct genres: the page encodes at most {len(CODE_ALPHABET)}; "
            f"check the genres column of movies.csv"
        )
    position = {name: number for number, name in enumerate(names)}
    return names, ",".join(_codes([position[genre] for genre in genres]) for genres in per_movie)


def _popularity_codes(popularity: Sequence[float] | np.ndarray | None, count: int) -> str:
    """Per movie one letter, 0-63 on a log scale of ``popularity`` (e.g. its likes): the
    suggestions' order within a rank. None: all equal (suggestions by title)."""
    if popularity is None:
        return CODE_ALPHABET[0] * count
    values = np.asarray(popularity, dtype=np.float64).ravel()
    if len(values) != count or not np.isfinite(values).all() or (values < 0).any():
        raise ParameterError(
            f"popularity must hold one finite count >= 0 per movie ({count:,}, in movies order), "
            f"e.g. each movie's number of likes; got {len(values):,} values"
        )
    logs = np.log1p(values)
    top = logs.max()
    levels = np.rint(logs / top * (len(CODE_ALPHABET) - 1)) if top > 0 else np.zeros(count)
    return _codes(levels.astype(int).tolist())


def _run_entry(label: str, result: TrainResult, count: int) -> tuple[dict[str, Any], float]:
    embeddings = np.asarray(result.embeddings)
    if embeddings.ndim != 2 or embeddings.shape[1] != count:
        raise ParameterError(
            f"run {label!r} has embeddings of shape {embeddings.shape}, but there are {count:,} movies: "
            f"export runs trained on this movies table (d x {count:,})"
        )
    if not np.isfinite(embeddings).all():
        raise ParameterError(f"run {label!r} has non-finite embeddings (it diverged): export finished runs")
    codes = quantise(embeddings)
    bound = score_error_bound(embeddings, codes)
    entry = {
        "label": label,
        "optimizer": result.config.optimizer,
        "lr": result.config.lr,
        "dim": int(embeddings.shape[0]),
        "key": result.key,
        "finalCost": result.final_cost,
        "scoreError": bound,
        "vectors": base64.b64encode(np.ascontiguousarray(codes.T).tobytes()).decode("ascii"),
    }
    return entry, bound


def vector_bytes(runs: Mapping[str, TrainResult]) -> int:
    """Bytes the runs' int8 vectors take in the data file (base64: 4 characters per 3 bytes)."""
    return sum(4 * math.ceil(np.asarray(result.embeddings).size / 3) for result in runs.values())


def _check_export(
    runs: Mapping[str, TrainResult], movies: pd.DataFrame, index: TitleIndex, limit: int
) -> None:
    if not runs:
        raise ParameterError("no runs to export: pass choose_runs(results) with at least one finished run")
    titles = movies["title"].astype(str).tolist()
    if index.titles != titles:
        raise ParameterError(
            "the title index was built from another movies table: pass TitleIndex(movies) "
            "(ws.titles with ws.data.movies)"
        )
    broken = [title for title in titles if "\n" in title]
    if broken:
        raise ParameterError(f"title {broken[0]!r} holds a line break: fix it in movies.csv")
    estimate = vector_bytes(runs)
    if estimate > limit:
        dims = ", ".join(f"{label}: d = {np.asarray(r.embeddings).shape[0]:,}" for label, r in runs.items())
        raise ParameterError(
            f"the page would carry {estimate:,} bytes of embeddings ({dims}), more than "
            f"max_bytes={limit:,}: export runs with a small d (the book's default is 64), "
            f"or leave the in-page recommender out"
        )


def export(
    runs: Mapping[str, TrainResult],
    movies: pd.DataFrame,
    index: TitleIndex,
    folder: str | Path,
    popularity: Sequence[float] | np.ndarray | None = None,
    max_bytes: int = MAX_DATA_BYTES,
) -> WidgetAsset:
    """Write the page's data for ``runs`` (label -> run, as :func:`choose_runs` gives them)
    into ``folder/recommender-data.js``, with the widget's script and stylesheet beside it;
    each file is written under a temporary name and renamed into place.

    ``movies`` and ``index`` are the table the runs were trained on and its title index;
    ``popularity`` (one count per movie, e.g. its likes) orders suggestions within a rank.
    Returns the files, the data file's size and each run's :func:`score_error_bound`.
    """
    _check_export(runs, movies, index, max_bytes)
    folder = Path(folder)
    count = len(movies)
    genre_names, genres = _genre_codes(movies)
    entries, bounds = [], {}
    for label, result in runs.items():
        entry, bounds[label] = _run_entry(label, result, count)
        entries.append(entry)
    payload = {
        "format": DATA_FORMAT,
        "count": count,
        "titles": "\n".join(index.titles),
        "genreNames": genre_names,
        "genres": genres,
        "popularity": _popularity_codes(popularity, count),
        "articles": list(ARTICLES),
        **unicode_tables(),
        "runs": entries,
    }
    script = (
        "/* movierec in-page recommender data, written by movierec.book.widget.export: do not edit. */\n"
        f"window.{DATA_GLOBAL} = {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))};\n"
    ).encode()
    written = []
    try:
        for name in WIDGET_FILES:
            source = files("movierec.book").joinpath("widget_assets", name)
            atomic_write(folder / name, source.read_bytes())
            written.append(folder / name)
        atomic_write(folder / DATA_FILE, script)
    except OSError as error:
        raise StoreError(
            f"cannot write the in-page recommender to {folder} ({error.strerror or error}): "
            f"make the folder writable"
        ) from error
    written.append(folder / DATA_FILE)
    return WidgetAsset(files=tuple(written), data_bytes=len(script), score_error=bounds)


def read_asset(path: str | Path) -> dict[str, Any]:
    """The data an exported ``recommender-data.js`` holds, as Python objects (for checks)."""
    text = Path(path).read_text(encoding="utf-8")
    prefix = f"window.{DATA_GLOBAL} = "
    start = text.find(prefix)
    if start < 0 or not text.rstrip().endswith(";"):
        raise ParameterError(
            f"{path} is not a recommender data file: export it with movierec.book.widget.export"
        )
    return json.loads(text[start + len(prefix) :].rstrip().removesuffix(";"))


def decode_vectors(run: Mapping[str, Any], count: int) -> np.ndarray:
    """The int8 codes (d x n) of one run entry of :func:`read_asset`'s data."""
    raw = np.frombuffer(base64.b64decode(run["vectors"]), dtype=np.int8)
    return raw.reshape(count, int(run["dim"])).T


def embed_html(static_prefix: str = STATIC_PREFIX, initial_titles: Sequence[str] = ()) -> str:
    """The HTML that puts the widget on a page: the ``#try-recommender`` element (with a
    ``<noscript>`` line), then the stylesheet and the two scripts, found at ``static_prefix``
    relative to the page. ``initial_titles`` (catalogue titles) are chosen when it opens."""
    prefix = html.escape(static_prefix, quote=True)
    chosen = html.escape(json.dumps(list(initial_titles), ensure_ascii=False), quote=True)
    return (
        f'<div id="{ELEMENT_ID}" class="movierec-recommender" data-titles="{chosen}">\n'
        "<noscript>The in-page recommender needs JavaScript; the lists above were computed "
        "in Python.</noscript>\n"
        '<p class="movierec-loading">Loading the in-page recommender&hellip; (it runs in the built book, '
        "not inside Jupyter)</p>\n"
        "</div>\n"
        f'<link rel="stylesheet" href="{prefix}{STYLE_FILE}">\n'
        f'<script src="{prefix}{DATA_FILE}"></script>\n'
        f'<script src="{prefix}{SCRIPT_FILE}"></script>\n'
    )


def show(static_prefix: str = STATIC_PREFIX, initial_titles: Sequence[str] = ()) -> HTML:
    """:func:`embed_html` as a display object: the last line of a notebook cell."""
    from IPython.display import HTML

    return HTML(embed_html(static_prefix, initial_titles))


@dataclass(frozen=True)
class PageWidget:
    """What the Recommendations page shows: the widget (with the asset it reads), or nothing when
    it is left out (no run finished, or the runs are too large for a web page). ``offered``: the
    runs the picker offers; ``left_out``: the finished runs it leaves out to stay within
    :data:`DATA_BUDGET`, or all of them when the widget is left out. The last line of a notebook
    cell displays it; the page's Markdown says what was left out."""

    html: str
    asset: WidgetAsset | None = None
    offered: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()

    def _repr_html_(self) -> str:
        return self.html

    def record(self) -> dict[str, Any]:
        """:meth:`WidgetAsset.record` (empty ``assets`` when the widget is left out), and the runs
        offered and left out."""
        recorded = self.asset.record() if self.asset else {"assets": [], "data_bytes": 0, "score_error": {}}
        return {**recorded, "offered": list(self.offered), "left_out": list(self.left_out)}


def on_page(
    results: Sequence[TrainResult],
    ws: Workspace,
    initial_titles: Sequence[str] = (),
    folder: str | Path = ASSET_FOLDER,
    static_prefix: str = STATIC_PREFIX,
    budget: int = DATA_BUDGET,
) -> PageWidget:
    """The widget for a chapter notebook: :func:`choose_runs` of ``results`` (the best finished
    run of each optimizer, the lowest cost first), :func:`export`-ed into ``folder`` (relative to
    the book's root, where the driver runs the notebooks) with each movie's likes as popularity,
    and :func:`embed_html`. Runs are left out, the costliest first, until the data file fits
    ``budget``; when no run finished or even one run is too large (d = n), the widget is left
    out and the page shows nothing in its place."""
    runs = choose_runs(results)
    if not runs or vector_bytes(dict(list(runs.items())[:1])) > min(budget, MAX_DATA_BYTES):
        return PageWidget("", left_out=tuple(runs))
    likes = np.asarray(ws.likes.matrix.sum(axis=0)).ravel()
    kept = dict(runs)
    while True:
        asset = export(kept, ws.data.movies, ws.titles, folder, popularity=likes)
        if asset.data_bytes <= budget or len(kept) == 1:
            break
        kept.pop(list(kept)[-1])
    left_out = tuple(label for label in runs if label not in kept)
    return PageWidget(embed_html(static_prefix, initial_titles), asset, tuple(kept), left_out)
