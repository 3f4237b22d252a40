"""The MovieLens release registry: where each release lives upstream, its SHA-256 pin, its size
and file layout. Adding a data set is one entry in :data:`RELEASES`.

Book pages: "The data", "Scaling up".
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import DataError

PIN_UNKNOWN = "GroupLens publishes no SHA-256 for this archive that movierec could confirm: unpinned"
BASE_URL = "https://files.grouplens.org/datasets/movielens/"


@dataclass(frozen=True)
class Release:
    """One MovieLens release: where it lives upstream, its SHA-256 pin and expected size.

    ``layout`` names the file format: ``csv`` (movies.csv, ratings.csv: ml-20m and later),
    ``dat`` (movies.dat, ratings.dat separated by ``::``: ml-1m, ml-10m) or ``100k``
    (u.item, u.data). ``folder`` is the directory the archive unpacks to; ``note`` says
    why a pin or a count is missing. ``sha256`` is None where no published value is known.
    ``tables_sha256`` is the SHA-256 over the bytes of the pinned archive's movies file then its
    ratings file: the unpacked folder whose files hash to it is the pinned data, and takes the
    archive's pin as its data checksum (so both give the same run keys).
    """

    name: str
    url: str
    sha256: str | None
    n_movies: int | None = None
    n_ratings: int | None = None
    layout: str = "csv"
    folder: str | None = None
    note: str = ""
    tables_sha256: str | None = None

    @property
    def archive_name(self) -> str:
        """The archive's file name upstream and in the cache."""
        return f"{self.name}.zip"

    @property
    def movies_file(self) -> str:
        """The movies table's file name in this layout."""
        return {"csv": "movies.csv", "dat": "movies.dat", "100k": "u.item"}[self.layout]

    @property
    def ratings_file(self) -> str:
        """The ratings table's file name in this layout."""
        return {"csv": "ratings.csv", "dat": "ratings.dat", "100k": "u.data"}[self.layout]


def _release(name: str, sha256: str | None = None, **fields) -> Release:
    return Release(
        name=name,
        url=f"{BASE_URL}{name}.zip",
        sha256=sha256,
        folder=fields.pop("folder", name),
        note=fields.pop("note", "" if sha256 else PIN_UNKNOWN),
        **fields,
    )


RELEASES: dict[str, Release] = {
    "ml-latest-small": _release(
        "ml-latest-small",
        "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
        n_movies=9742,
        n_ratings=100836,
        tables_sha256="ba5df7a541a3d7ac73e689605beab15987d65c7492f733206520c906544d4fed",
    ),
    "ml-100k": _release("ml-100k", n_movies=1682, n_ratings=100000, layout="100k"),
    "ml-1m": _release(
        "ml-1m",
        "a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
        n_movies=3883,
        n_ratings=1000209,
        layout="dat",
    ),
    "ml-10m": _release("ml-10m", layout="dat", folder="ml-10M100K"),
    "ml-20m": _release("ml-20m"),
    "ml-25m": _release("ml-25m"),
    "ml-32m": _release("ml-32m"),
    "ml-latest": _release(
        "ml-latest", note=PIN_UNKNOWN + "; the release is updated in place, so no pin can last"
    ),
}
DEFAULT_RELEASE = "ml-latest-small"


def get_release(name: str) -> Release:
    """The :class:`Release` called ``name``, or a :class:`DataError` listing the known ones."""
    try:
        return RELEASES[name]
    except KeyError:
        known = ", ".join(sorted(RELEASES))
        raise DataError(f"unknown dataset {name!r}: use one of {known}") from None
