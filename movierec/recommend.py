"""Title look-up and recommendations by mean cosine similarity of learned embeddings.

Book page: "Recommendations" (notebooks/04_recommendations.ipynb).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import ParameterError, TitleError

MAX_SUGGESTIONS = 5
ARTICLES = ("The", "A", "An", "Les", "La", "Le", "L'", "Los", "Las", "El", "Il", "Der", "Die", "Das", "Den", "Det", "De")
_YEAR = re.compile(r"\s*\((\d{4})(?:[-–]\d{0,4})?\)\s*$")
_TRAILING_ARTICLE = re.compile(r"^(?P<body>.+), (?P<article>" + "|".join(re.escape(a) for a in ARTICLES) + r")$")
_ID_FORM = re.compile(r"^\s*(?:id|movieid)\s*[:=#]\s*(\d+)\s*$", re.IGNORECASE)


def normalize(text: str) -> str:
    """Case-folded, accent-free, whitespace-collapsed form used for matching ("Misérables" ~ "miserables")."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def split_year(title: str) -> tuple[str, str | None]:
    """("Toy Story", "1995") from "Toy Story (1995)"; the year is None when absent."""
    match = _YEAR.search(title)
    return (title[: match.start()], match.group(1)) if match else (title, None)


def title_forms(title: str) -> set[str]:
    """Every normalized way a reader may write ``title``: with or without the year, with
    a trailing article moved to the front ("Matrix, The (1999)" -> "the matrix")."""
    body, year = split_year(title)
    bodies = {body}
    moved = _TRAILING_ARTICLE.match(body.strip())
    if moved:
        article = moved["article"]
        joiner = "" if article.endswith("'") else " "
        bodies.add(f"{article}{joiner}{moved['body']}")
    forms = {normalize(b) for b in bodies}
    if year:
        forms |= {f"{form} ({year})" for form in forms}
    return forms | {normalize(title)}


class TitleIndex:
    """Resolves reader-typed titles to rows of ``movies`` (exact, case-insensitive,
    article moved, year optional, or ``id:<movieId>``)."""

    def __init__(self, movies: pd.DataFrame):
        self.movies = movies.reset_index(drop=True)
        self.titles = self.movies["title"].astype(str).tolist()
        self.ids = self.movies["movieId"].to_numpy()
        self._by_id = {int(m): i for i, m in enumerate(self.ids)}
        self._exact: dict[str, list[int]] = {}
        self._forms: dict[str, list[int]] = {}
        for row, title in enumerate(self.titles):
            self._exact.setdefault(title, []).append(row)
            for form in title_forms(title):
                self._forms.setdefault(form, []).append(row)
        self._form_keys = list(self._forms)

    def resolve(self, title: str) -> int:
        """Row of the single movie that ``title`` names, else a :class:`TitleError`."""
        if not isinstance(title, str) or not title.strip():
            raise TitleError(f"empty title {title!r}: give a movie title such as 'Toy Story (1995)'")
        by_id = _ID_FORM.match(title)
        if by_id:
            movie_id = int(by_id.group(1))
            if movie_id not in self._by_id:
                raise TitleError(f"no movie has movieId {movie_id}: check the id in movies.csv")
            return self._by_id[movie_id]
        rows = self._exact.get(title.strip()) or self._forms.get(normalize(title), [])
        if len(rows) == 1:
            return rows[0]
        if rows:
            options = "; ".join(f"{self.titles[r]} (movieId {self.ids[r]}, use 'id:{self.ids[r]}')" for r in rows)
            raise TitleError(f"title {title!r} matches {len(rows)} movies: {options}")
        raise TitleError(self._unknown_message(title))

    def suggestions(self, title: str) -> list[str]:
        """Up to five catalogue titles close to ``title``."""
        close = difflib.get_close_matches(normalize(title), self._form_keys, n=4 * MAX_SUGGESTIONS, cutoff=0.6)
        found: list[str] = []
        for key in close:
            for row in self._forms[key]:
                if self.titles[row] not in found:
                    found.append(self.titles[row])
        return found[:MAX_SUGGESTIONS]

    def _unknown_message(self, title: str) -> str:
        near = self.suggestions(title)
        hint = "did you mean " + "; ".join(repr(t) for t in near) + "?" if near else "check the spelling against movies.csv"
        return f"unknown title {title!r}: {hint}"

    def resolve_all(self, titles: Sequence[str]) -> list[int]:
        """Rows for ``titles`` (in order, each once); an error names every title at fault."""
        if isinstance(titles, str):
            titles = [titles]
        if not titles:
            raise TitleError("no input titles: give at least one, e.g. 'Toy Story (1995)'")
        rows: list[int] = []
        problems = []
        for title in titles:
            try:
                row = self.resolve(title)
            except TitleError as error:
                problems.append(str(error))
                continue
            if row not in rows:
                rows.append(row)
        if problems:
            raise TitleError("; ".join(problems))
        return rows


def unit_columns(vectors: np.ndarray | sp.spmatrix) -> np.ndarray | sp.csr_matrix:
    """Columns scaled to unit length; zero columns stay zero (cosine 0, as the seed's rule).

    Book pages: "Recommendations", "Evaluation and tuning".
    """
    if sp.issparse(vectors):
        vectors = sp.csr_matrix(vectors, dtype=np.float64)
        norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=0)).ravel())
        return (vectors @ sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0))).tocsr()
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=0)
    return vectors * np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)


def cosine_similarities(embeddings: np.ndarray, rows: Sequence[int]) -> np.ndarray:
    """cos(v_r, v_j) for each input column r and every movie j (len(rows) x n).

    Zero-norm embeddings (a movie no one liked can shrink to 0) get similarity 0, not NaN.
    """
    unit = unit_columns(embeddings)
    return unit[:, list(rows)].T @ unit


def recommend(
    embeddings: np.ndarray,
    movies: pd.DataFrame,
    titles: Sequence[str],
    top_n: int = 10,
    index: TitleIndex | None = None,
) -> pd.DataFrame:
    """Top-``top_n`` movies by mean cosine similarity to the input titles, inputs excluded.

    ``embeddings`` is d x n with columns in ``movies`` order. Inputs whose embedding is zero
    (no direction) are left out of the mean; if all are, that is an error. Returns a
    DataFrame with rank, movieId, title, genres and score. Book page: "Recommendations".
    """
    if isinstance(top_n, bool) or not isinstance(top_n, (int, np.integer)) or top_n < 1:
        raise ParameterError(f"top_n={top_n!r} is not allowed: top_n must be an integer >= 1")
    embeddings = np.asarray(embeddings)
    if embeddings.ndim != 2 or embeddings.shape[1] != len(movies):
        raise ParameterError(
            f"embeddings have shape {embeddings.shape}, but there are {len(movies):,} movies: "
            f"use embeddings trained on this movies table (d x {len(movies):,})"
        )
    if not np.isfinite(embeddings).all():
        raise ParameterError("these embeddings are not finite (the run diverged): recommend from a finished run")
    index = index or TitleIndex(movies)
    rows = index.resolve_all(titles)
    usable = [row for row in rows if np.linalg.norm(embeddings[:, row]) > 0]
    if not usable:
        names = "; ".join(repr(index.titles[row]) for row in rows)
        raise TitleError(
            f"{names}: zero embedding (no one liked it, so it has no direction to compare with): "
            f"add a title that users liked"
        )
    scores = cosine_similarities(embeddings, usable).mean(axis=0)
    candidates = np.setdiff1d(np.arange(len(movies)), rows)
    top_n = min(int(top_n), len(candidates))
    order = candidates[np.lexsort((candidates, -scores[candidates]))][:top_n]
    picked = index.movies.iloc[order]
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "movieId": picked["movieId"].to_numpy(),
            "title": picked["title"].to_numpy(),
            "genres": picked["genres"].to_numpy(),
            "score": scores[order],
        }
    )
