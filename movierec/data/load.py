"""Loading a release into typed DataFrames, checked against its pin and its row counts.

Book page: "The data".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import DataError
from .download import file_sha256, resolve_source
from .formats import _Files, read_release
from .releases import DEFAULT_RELEASE, Release, get_release


@dataclass(frozen=True)
class MovieLens:
    """A loaded release: ``movies`` (movieId int32, title, genres as strings) and
    ``ratings`` (userId int32, movieId int32, rating float32, timestamp int64), with the
    checksum that identifies the data whichever way it came (:func:`data_checksum`)."""

    movies: pd.DataFrame
    ratings: pd.DataFrame
    release: str
    checksum: str
    source: Path


def _check_counts(path: Path, release: Release, movies: pd.DataFrame, ratings: pd.DataFrame) -> None:
    for label, frame, expected in (
        ("movies", movies, release.n_movies),
        ("ratings", ratings, release.n_ratings),
    ):
        if expected is not None and len(frame) != expected:
            raise DataError(
                f"{path}: {len(frame):,} {label} rows, but {release.name} has {expected:,}: "
                f"the folder is incomplete or another release; unpack the official archive again"
            )


def data_checksum(files: _Files, release: Release, verify: bool) -> str:
    """The SHA-256 that names the data in run keys, the same for an archive and its unpacked
    folder: the release's pin for the pinned data (the archive that matches it, or a folder whose
    movies and ratings files hash to ``release.tables_sha256``), else the SHA-256 over the bytes
    of those two files. With ``verify``, an archive must match the pin."""
    if files.is_archive and release.sha256:
        archive = file_sha256(files.path)
        if archive == release.sha256:
            return archive
        if verify:
            raise DataError(
                f"{files.path} has SHA-256 {archive}, but the official {release.archive_name} has "
                f"{release.sha256}: the file is damaged or another release; download it again"
            )
    tables = files.sha256_of([release.movies_file, release.ratings_file])
    if release.sha256 and tables == release.tables_sha256:
        return release.sha256
    return tables


def load_movielens(
    source: str | os.PathLike | None = None,
    dataset: str = DEFAULT_RELEASE,
    verify: bool = True,
) -> MovieLens:
    """Load ``dataset`` from ``source`` (zip or folder), ``$MOVIEREC_DATA``, the cache or the web.

    With ``verify`` (the default), an archive must match the release's SHA-256 pin and a
    folder its row counts; columns and dtypes are always checked. The files are looked for in
    the folder itself or in the release's folder directly below it, never deeper. Book page:
    "The data".
    """
    release = get_release(dataset)
    path = resolve_source(source, dataset)
    files = _Files(path, release)
    try:
        checksum = data_checksum(files, release, verify)
        movies, ratings = read_release(files, release)
    finally:
        files.close()
    if verify and not files.is_archive:
        _check_counts(path, release, movies, ratings)
    return MovieLens(movies=movies, ratings=ratings, release=release.name, checksum=checksum, source=path)
