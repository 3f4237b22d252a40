"""Title look-up: from what a reader types to one row of ``movies``.

A typed title is tried, in order, as ``id:<movieId>``; as the exact catalogue title; as any
*form* of a title (case and accents ignored, year optional, a trailing article moved to the
front or dropped, and each alternate title in parentheses, such as "Amelie" for "Amelie
(Fabuleux destin d'Amélie Poulain, Le) (2001)"); then as whole words inside a form ("Star
Wars"), then as a substring of one. A single match resolves; several are an ambiguity that
lists them (all of them up to twenty, else the first few and how to see the rest); none gets
up to five close spellings. The in-page recommender's script
(:mod:`movierec.book.widget`) derives the same forms in the browser, and a test holds it to these.
Book page: "Recommendations".
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence

import pandas as pd

from ..errors import TitleError

MAX_SUGGESTIONS = 5
MAX_LISTED = 20  # an ambiguity lists every match up to this many
LISTED_OF_MANY = 8  # past it, the first this many and how to list them all
QUOTE_LIMIT = 60
ARTICLES = (
    "The",
    "A",
    "An",
    "Les",
    "La",
    "Le",
    "L'",
    "Los",
    "Las",
    "El",
    "Il",
    "Der",
    "Die",
    "Das",
    "Den",
    "Det",
    "De",
)
_YEAR = re.compile(r"\s*\((\d{4})(?:[-–]\d{0,4})?\)\s*$")
_TRAILING_ARTICLE = re.compile(
    r"^(?P<body>.+), (?P<article>" + "|".join(re.escape(a) for a in ARTICLES) + r")$", re.IGNORECASE
)
_PARENTHESES = re.compile(r"\s*\(([^()]*)\)\s*$")
_AKA = re.compile(r"^(?:a\.k\.a\.|aka)\s+", re.IGNORECASE)
_ID_FORM = re.compile(r"^\s*(?:id|movieid)\s*[:=#]\s*(\d+)\s*$", re.IGNORECASE)
_WORD = re.compile(r"\w+")


def normalize(text: str) -> str:
    """Case-folded, accent-free, whitespace-collapsed form used for matching ("Misérables" ~ "miserables")."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def quoted(text: object) -> str:
    """``text`` quoted for an error message, cut to a readable length."""
    text = str(text)
    return repr(text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1] + "…")


def split_year(title: str) -> tuple[str, str | None]:
    """("Toy Story", "1995") from "Toy Story (1995)"; the year is None when absent."""
    match = _YEAR.search(title)
    return (title[: match.start()], match.group(1)) if match else (title, None)


def split_alternates(body: str) -> list[str]:
    """The main title and each alternate title in trailing parentheses, "a.k.a." removed:
    "Amelie (Fabuleux destin d'Amélie Poulain, Le)" -> ["Amelie", "Fabuleux destin d'Amélie Poulain, Le"]."""
    alternates = []
    while (match := _PARENTHESES.search(body)) and match.start() > 0:
        alternates.insert(0, _AKA.sub("", match.group(1)).strip())
        body = body[: match.start()]
    return [body.strip(), *(alternate for alternate in alternates if alternate)]


def name_forms(name: str) -> set[str]:
    """One name as typed: as it is, with a trailing article moved to the front, or dropped."""
    forms = {name}
    moved = _TRAILING_ARTICLE.match(name.strip())
    if moved:
        article = moved["article"]
        joiner = "" if article.endswith("'") else " "
        forms |= {f"{article}{joiner}{moved['body']}", moved["body"]}
    return {normalize(form) for form in forms}


def title_forms(title: str) -> set[str]:
    """Every normalized way a reader may write ``title``: the main or an alternate title, with
    or without the year, with a trailing article moved to the front or dropped
    ("Matrix, The (1999)" -> "the matrix", "matrix", "the matrix (1999)" ...)."""
    body, year = split_year(title)
    forms = {normalize(title), normalize(body)}
    for name in split_alternates(body):
        forms |= name_forms(name)
    if year:
        forms |= {f"{form} ({year})" for form in forms if not form.endswith(f"({year})")}
    return forms


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text))


def _contains_words(form: tuple[str, ...], query: tuple[str, ...]) -> bool:
    size = len(query)
    return any(form[start : start + size] == query for start in range(len(form) - size + 1))


class TitleIndex:
    """Resolves reader-typed titles to rows of ``movies`` (see the module for the rules)."""

    def __init__(self, movies: pd.DataFrame):
        self.movies = movies.reset_index(drop=True)
        self.titles = self.movies["title"].astype(str).tolist()
        self.ids = self.movies["movieId"].to_numpy()
        self._by_id = {int(m): i for i, m in enumerate(self.ids)}
        self._exact: dict[str, list[int]] = {}
        self._forms: dict[str, list[int]] = {}
        for row, title in enumerate(self.titles):
            self._exact.setdefault(title, []).append(row)
            for form in sorted(title_forms(title)):
                self._forms.setdefault(form, []).append(row)
        self._form_keys = list(self._forms)
        self._form_words = {form: _words(form) for form in self._form_keys}

    def forms(self, row: int) -> list[str]:
        """The normalized forms that resolve to ``row`` (what the in-page search matches)."""
        return sorted(title_forms(self.titles[row]))

    def candidates(self, title: str) -> list[int]:
        """Rows ``title`` may name, by the first rule that finds any (exact title, form, whole
        words, substring); empty when none does."""
        exact = self._exact.get(title.strip())
        if exact:
            return exact
        typed = normalize(title)
        if typed in self._forms:
            return self._forms[typed]
        query = _words(typed)
        tiers = (
            (lambda form: bool(query) and _contains_words(self._form_words[form], query)),
            (lambda form: len(typed) >= 3 and typed in form),
        )
        for matches in tiers:
            rows = sorted({row for form in self._form_keys if matches(form) for row in self._forms[form]})
            if rows:
                return rows
        return []

    def resolve(self, title: str, all_matches: bool = False) -> int:
        """Row of the single movie that ``title`` names, else a :class:`TitleError`; an ambiguity
        lists every match up to :data:`MAX_LISTED` of them, or with ``all_matches``."""
        if not isinstance(title, str) or not title.strip():
            raise TitleError(f"empty title {quoted(title)}: give a movie title such as 'Toy Story (1995)'")
        by_id = _ID_FORM.match(title)
        if by_id:
            movie_id = int(by_id.group(1))
            if movie_id not in self._by_id:
                raise TitleError(f"no movie has movieId {movie_id}: check the id in movies.csv")
            return self._by_id[movie_id]
        rows = self.candidates(title)
        if len(rows) == 1:
            return rows[0]
        if rows:
            shown = rows if all_matches or len(rows) <= MAX_LISTED else rows[:LISTED_OF_MANY]
            listed = "; ".join(
                f"{self.titles[r]} (movieId {self.ids[r]}, use 'id:{self.ids[r]}')" for r in shown
            )
            more = (
                f"; and {len(rows) - len(shown)} more (--all-matches, or all_matches=True, lists them all)"
                if len(shown) < len(rows)
                else ""
            )
            raise TitleError(f"title {quoted(title)} matches {len(rows)} movies: {listed}{more}")
        raise TitleError(self._unknown_message(title))

    def suggestions(self, title: str) -> list[str]:
        """Up to five catalogue titles close to ``title``."""
        close = difflib.get_close_matches(
            normalize(title)[:200], self._form_keys, n=4 * MAX_SUGGESTIONS, cutoff=0.6
        )
        found: list[str] = []
        for key in close:
            for row in self._forms[key]:
                if self.titles[row] not in found:
                    found.append(self.titles[row])
        return found[:MAX_SUGGESTIONS]

    def _unknown_message(self, title: str) -> str:
        near = self.suggestions(title)
        hint = (
            "did you mean " + "; ".join(repr(t) for t in near) + "?"
            if near
            else "check the spelling against movies.csv"
        )
        return f"unknown title {quoted(title)}: {hint}"

    def resolve_all(self, titles: Sequence[str], all_matches: bool = False) -> list[int]:
        """Rows for ``titles`` (in order, each once); an error names every title at fault."""
        if isinstance(titles, str):
            titles = [titles]
        if not titles:
            raise TitleError("no input titles: give at least one, e.g. 'Toy Story (1995)'")
        rows: list[int] = []
        problems = []
        for title in titles:
            try:
                row = self.resolve(title, all_matches)
            except TitleError as error:
                problems.append(str(error))
                continue
            if row not in rows:
                rows.append(row)
        if problems:
            raise TitleError("; ".join(problems))
        return rows
