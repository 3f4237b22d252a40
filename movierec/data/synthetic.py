"""Seeded MovieLens-shaped data: Zipf-like movie popularity, lognormal user activity.

For scale tests and benchmarks without downloading the big releases: :func:`synthetic_tables`
gives typed DataFrames as :func:`movierec.data.load_movielens` returns them, and
:func:`write_archive` writes them as a zip in the ml-latest CSV format, which loads back
with ``load_movielens(path, dataset="ml-latest", verify=False)``.

Book page: "Scaling up".
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .formats import MOVIE_DTYPES, RATING_DTYPES

GENRES = (
    "Action",
    "Adventure",
    "Animation",
    "Children",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
MIN_RATINGS_PER_USER = 20
FIRST_TIMESTAMP = 946_684_800  # 2000-01-01
LAST_TIMESTAMP = 1_696_118_400  # 2023-10-01
CSV_CHUNK = 1_000_000


@dataclass(frozen=True)
class Shape:
    """How big a synthetic release is: users, movies and (before de-duplication) ratings."""

    n_users: int
    n_movies: int
    n_ratings: int


SHAPES: dict[str, Shape] = {
    "ml-latest-small": Shape(610, 9_742, 100_836),
    "ml-1m": Shape(6_040, 3_883, 1_000_209),
    "ml-25m": Shape(162_541, 62_423, 25_000_095),
    "ml-32m": Shape(200_948, 87_585, 32_000_204),
}


def popularity(n_movies: int, exponent: float = 1.0, offset: float = 30.0) -> np.ndarray:
    """Zipf-like probabilities p_i ∝ (i + offset)^-exponent; the offset keeps the top movie
    near MovieLens's share (about 0.3% of all ratings) instead of a pure Zipf's 8%."""
    weights = (np.arange(n_movies, dtype=np.float64) + offset) ** -exponent
    return weights / weights.sum()


def user_activity(rng: np.random.Generator, shape: Shape, sigma: float = 1.0) -> np.ndarray:
    """Ratings per user: lognormal with mean n_ratings / n_users, at least 20 (as MovieLens)."""
    mean = shape.n_ratings / shape.n_users
    mu = np.log(max(mean - MIN_RATINGS_PER_USER, 1.0)) - sigma**2 / 2
    counts = MIN_RATINGS_PER_USER + np.rint(rng.lognormal(mu, sigma, shape.n_users))
    return np.minimum(counts, shape.n_movies).astype(np.int64)


def draw_ratings(
    rng: np.random.Generator, counts: np.ndarray, p: np.ndarray, rounds: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """(user, movie) index pairs, sorted and distinct: user u draws ``counts[u]`` movies by
    ``p``; repeats are dropped and redrawn for a few rounds, so few users fall short."""
    n_movies = len(p)
    cdf = np.cumsum(p)
    keys = np.empty(0, dtype=np.int64)
    wanted = counts
    for _ in range(rounds):
        users = np.repeat(np.arange(len(counts), dtype=np.int64), wanted)
        movies = np.minimum(
            np.searchsorted(cdf, rng.random(len(users)) * cdf[-1], side="right"), n_movies - 1
        )
        keys = np.concatenate((keys, users * n_movies + movies))
        del users, movies
        keys.sort()
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
        wanted = counts - np.bincount(keys // n_movies, minlength=len(counts))
        if not wanted.any():
            break
    return np.divmod(keys, n_movies)


def synthetic_tables(shape: Shape, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(movies, ratings) typed as ``load_movielens`` returns them, a pure function of ``seed``.

    Each user draws their count of movies by popularity (:func:`draw_ratings`). A rating is
    3.7 + movie quality + user bias + noise on the half-star scale, so about half are likes.
    """
    rng = np.random.default_rng(seed)
    counts = user_activity(rng, shape)
    users, movies = draw_ratings(rng, counts, popularity(shape.n_movies))
    quality = rng.normal(0.0, 0.5, shape.n_movies).astype(np.float32)
    bias = rng.normal(0.0, 0.4, shape.n_users).astype(np.float32)
    raw = 3.7 + quality[movies] + bias[users] + rng.normal(0.0, 0.9, len(users)).astype(np.float32)
    rating = np.clip(np.rint(raw * 2) / 2, 0.5, 5.0).astype(np.float32)
    del raw
    ratings = pd.DataFrame(
        {
            "userId": (users + 1).astype(np.int32),
            "movieId": (movies + 1).astype(np.int32),
            "rating": rating,
            "timestamp": rng.integers(FIRST_TIMESTAMP, LAST_TIMESTAMP, len(users), dtype=np.int64),
        }
    )
    del users, movies, rating
    return movie_table(rng, shape.n_movies), ratings.astype(RATING_DTYPES)


def movie_table(rng: np.random.Generator, n_movies: int) -> pd.DataFrame:
    """Titles ``Synthetic movie i (year)`` and one to three genres joined by ``|``."""
    ids = np.arange(1, n_movies + 1)
    years = rng.integers(1920, 2024, n_movies)
    picks = rng.random((n_movies, len(GENRES))).argsort(axis=1)[:, :3]
    sizes = rng.integers(1, 4, n_movies)
    genres = ["|".join(GENRES[g] for g in sorted(row[:size])) for row, size in zip(picks, sizes, strict=True)]
    titles = [f"Synthetic movie {i} ({year})" for i, year in zip(ids, years, strict=True)]
    return pd.DataFrame({"movieId": ids, "title": titles, "genres": genres}).astype(MOVIE_DTYPES)


def _readme(name: str, movies: pd.DataFrame, ratings: pd.DataFrame) -> str:
    return (
        f"{name}: synthetic MovieLens-shaped data written by movierec.data.synthetic.\n\n"
        f"{len(ratings):,} ratings of {len(movies):,} movies by {ratings['userId'].nunique():,} users.\n"
        "Not real ratings: movie popularity is Zipf-like and user activity lognormal.\n"
        "Files follow the ml-latest format: movies.csv (movieId,title,genres) and\n"
        "ratings.csv (userId,movieId,rating,timestamp).\n"
    )


def write_archive(
    path: str | os.PathLike, movies: pd.DataFrame, ratings: pd.DataFrame, name: str = "ml-latest"
) -> Path:
    """Write ``name/{README.txt,movies.csv,ratings.csv}`` into a zip at ``path``, in the
    ml-latest CSV format; ratings are written in chunks so memory stays flat."""
    path = Path(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as bundle:
        bundle.writestr(f"{name}/README.txt", _readme(name, movies, ratings))
        bundle.writestr(f"{name}/movies.csv", movies.to_csv(index=False))
        with bundle.open(f"{name}/ratings.csv", "w", force_zip64=True) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            text.write("userId,movieId,rating,timestamp\n")
            for start in range(0, len(ratings), CSV_CHUNK):
                ratings.iloc[start : start + CSV_CHUNK].to_csv(
                    text, index=False, header=False, float_format="%.1f"
                )
            text.flush()
            text.detach()
    return path


def synthetic_archive(path: str | os.PathLike, shape: Shape, seed: int = 0, name: str = "ml-latest") -> Path:
    """Generate a seeded release of ``shape`` and write it to the zip at ``path``."""
    movies, ratings = synthetic_tables(shape, seed)
    return write_archive(path, movies, ratings, name)
