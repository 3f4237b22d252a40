"""MovieLens data: a verified archive, typed DataFrames, the likes matrix L and X = L^T L.

Book page: "The data" (notebooks/01_data.ipynb).
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import DataError

DATA_ENV = "MOVIEREC_DATA"
CACHE_ENV = "MOVIEREC_CACHE"
LIKE_THRESHOLD = 4.0

MOVIE_DTYPES = {"movieId": "int32", "title": "string", "genres": "string"}
RATING_DTYPES = {"userId": "int32", "movieId": "int32", "rating": "float32", "timestamp": "int64"}


PIN_UNKNOWN = "GroupLens publishes no SHA-256 for this archive that movierec could confirm: unpinned"
BASE_URL = "https://files.grouplens.org/datasets/movielens/"
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
    "War", "Western",
)
NO_GENRES = "(no genres listed)"


@dataclass(frozen=True)
class Release:
    """One MovieLens release: where it lives upstream, its SHA-256 pin and expected size.

    ``layout`` names the file format: ``csv`` (movies.csv, ratings.csv: ml-20m and later),
    ``dat`` (movies.dat, ratings.dat separated by ``::``: ml-1m, ml-10m) or ``100k``
    (u.item, u.data). ``folder`` is the directory the archive unpacks to; ``note`` says
    why a pin or a count is missing. ``sha256`` is None where no published value is known.
    """

    name: str
    url: str
    sha256: str | None
    n_movies: int | None = None
    n_ratings: int | None = None
    layout: str = "csv"
    folder: str | None = None
    note: str = ""

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


@dataclass(frozen=True)
class MovieLens:
    """A loaded release: ``movies`` (movieId int32, title, genres as strings) and
    ``ratings`` (userId int32, movieId int32, rating float32, timestamp int64), with the
    SHA-256 that identifies the data (the archive's, or the CSVs' for a folder)."""

    movies: pd.DataFrame
    ratings: pd.DataFrame
    release: str
    checksum: str
    source: Path


def get_release(name: str) -> Release:
    """The :class:`Release` called ``name``, or a :class:`DataError` listing the known ones."""
    try:
        return RELEASES[name]
    except KeyError:
        known = ", ".join(sorted(RELEASES))
        raise DataError(f"unknown dataset {name!r}: use one of {known}") from None


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    """Where downloaded archives are kept: ``$MOVIEREC_CACHE``, else the user cache folder."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("movierec"))


def download_release(release: Release, folder: Path | None = None) -> Path:
    """Fetch ``release`` into the cache with pooch (SHA-256 check, atomic write, retries).

    A cached copy whose hash matches is reused; a damaged one is fetched again. Partial
    downloads live under a temporary name, so they are never taken for the archive.
    """
    import pooch

    folder = folder or cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise DataError(
            f"cache folder {folder} is not writable ({error.strerror or error}): set {CACHE_ENV} to a "
            f"writable folder, or give the archive with {DATA_ENV}=/path/to/{release.archive_name}"
        ) from error
    known_hash = f"sha256:{release.sha256}" if release.sha256 else None
    fetcher = pooch.create(
        path=folder,
        base_url=release.url.rsplit("/", 1)[0] + "/",
        registry={release.archive_name: known_hash},
        retry_if_failed=3,
    )
    try:
        return Path(fetcher.fetch(release.archive_name))
    except ValueError as error:
        raise DataError(f"downloaded {release.url} does not match its SHA-256 pin ({error})") from error
    except Exception as error:  # network failures come in many types (requests, OSError)
        raise DataError(
            f"cannot download {release.url} ({type(error).__name__}: {error}). Offline? "
            f"Give a local copy of the archive or its unpacked folder: "
            f"export {DATA_ENV}=/path/to/{release.archive_name}"
        ) from error


def resolve_source(source: str | os.PathLike | None = None, dataset: str = DEFAULT_RELEASE) -> Path:
    """Where the data comes from, in order: ``source``, ``$MOVIEREC_DATA``, the cache, a download."""
    release = get_release(dataset)
    for given, origin in ((source, "source"), (os.environ.get(DATA_ENV) or None, DATA_ENV)):
        if given is not None:
            path = Path(given).expanduser()
            if not path.exists():
                raise DataError(
                    f"{origin} {str(path)!r} does not exist: give the {release.archive_name} "
                    f"archive or the folder it unpacks to"
                )
            return path
    return download_release(release)


class _Files:
    """Uniform read access to the CSV files of a zip archive or an unpacked folder."""

    def __init__(self, path: Path):
        self.path = path
        self._zip = None
        if path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
                self._names = {Path(n).name: n for n in self._zip.namelist() if not n.endswith("/")}
            except (zipfile.BadZipFile, OSError) as error:
                raise DataError(
                    f"{path} is not a readable zip archive ({error}): download it again"
                ) from error
        else:
            self._names = {p.name: str(p) for p in path.rglob("*") if p.is_file()}

    @property
    def is_archive(self) -> bool:
        return self._zip is not None

    def has(self, name: str) -> bool:
        return name in self._names

    def require(self, name: str) -> None:
        if not self.has(name):
            raise DataError(f"{self.path} has no {name}: give the complete MovieLens archive or folder")

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        self.require(name)
        if self._zip is not None:
            try:
                with self._zip.open(self._names[name]) as handle:
                    yield handle
            except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, zlib.error) as error:
                raise DataError(f"{self.path}: {name} is damaged ({error}): download it again") from error
        else:
            with open(self._names[name], "rb") as handle:
                yield handle

    def sha256_of(self, names: list[str]) -> str:
        digest = hashlib.sha256()
        for name in names:
            with self.open(name) as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        return digest.hexdigest()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


Reader = Callable[[IO[bytes]], pd.DataFrame]


def _csv_engine() -> str:
    """pyarrow's multithreaded CSV parser where installed, else pandas's C parser."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return "c"
    return "pyarrow"


def delimited_reader(
    sep: str = ",", names: list[str] | None = None, separator: bytes | None = None, dtype: dict | str = "string"
) -> Reader:
    """A reader of delimited text: a header row unless ``names`` are given; a multi-byte
    ``separator`` (MovieLens's ``::``) is first rewritten to ``sep``. With a numeric
    ``dtype`` it parses straight into compact columns, with the fast engine."""

    def read(handle: IO[bytes]) -> pd.DataFrame:
        source: IO[bytes] = io.BufferedReader(handle)
        if separator is not None:
            source = io.BytesIO(source.read().replace(separator, sep.encode()))
        options = {"header": None, "names": names} if names else {}
        if isinstance(dtype, dict):
            options = options or {"usecols": list(dtype)}
            return pd.read_csv(source, sep=sep, dtype=dtype, engine=_csv_engine(), **options)
        return pd.read_csv(source, sep=sep, dtype=dtype, **options)

    return read


def decode(raw: bytes) -> str:
    """UTF-8 text, else latin-1: the older releases (ml-100k, ml-1m) are latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def dat_movies(handle: IO[bytes]) -> pd.DataFrame:
    """movies.dat of ml-1m and ml-10m: ``movieId::title::genres`` per line, no header."""
    lines = decode(handle.read()).splitlines()
    rows = [line.split("::", 2) for line in lines if line.strip()]
    return pd.DataFrame(rows, columns=["movieId", "title", "genres"], dtype="string")


def item_movies(genre_names: list[str]) -> Reader:
    """A reader of ml-100k's u.item (``id|title|release|video release|IMDb URL|`` then one 0/1
    flag per genre) whose genres are the flagged names joined by ``|``."""

    def read(handle: IO[bytes]) -> pd.DataFrame:
        rows = []
        for line in decode(handle.read()).splitlines():
            if not line.strip():
                continue
            fields = line.split("|")
            flags = fields[5:]
            if len(flags) != len(genre_names):
                raise DataError(
                    f"u.item line {len(rows) + 1} has {len(flags)} genre flags, expected "
                    f"{len(genre_names)}: is this the ml-100k u.item?"
                )
            genres = "|".join(g for g, flag in zip(genre_names, flags) if flag.strip() == "1")
            rows.append((fields[0], fields[1], genres or NO_GENRES))
        return pd.DataFrame(rows, columns=["movieId", "title", "genres"], dtype="string")

    return read


def genre_names(files: _Files) -> list[str]:
    """ml-100k's genre names in flag order: from u.genre (``name|index``) if present."""
    if not files.has("u.genre"):
        return list(ML100K_GENRES)
    with files.open("u.genre") as handle:
        pairs = [line.rsplit("|", 1) for line in decode(handle.read()).splitlines() if line.strip()]
    try:
        return [name for name, _ in sorted(pairs, key=lambda pair: int(pair[1]))]
    except (ValueError, IndexError):
        raise DataError(f"{files.path}: u.genre must hold name|index lines: is this ml-100k?") from None


def read_table(
    files: _Files,
    name: str,
    dtypes: dict[str, str],
    reader: Reader | None = None,
) -> pd.DataFrame:
    """Read one table, check its columns and cast them to ``dtypes``, naming what is wrong."""
    try:
        with files.open(name) as handle:
            frame = reader(handle) if reader else pd.read_csv(io.BufferedReader(handle), dtype="string")
    except pd.errors.EmptyDataError:
        raise DataError(f"{files.path}: {name} is empty: download the archive again") from None
    except (pd.errors.ParserError, UnicodeDecodeError, zipfile.BadZipFile, EOFError, OSError) as error:
        raise DataError(f"{files.path}: {name} cannot be parsed ({error}): download it again") from error
    missing = [column for column in dtypes if column not in frame.columns]
    if missing:
        raise DataError(
            f"{files.path}: {name} lacks column(s) {', '.join(missing)} "
            f"(has {', '.join(map(str, frame.columns))}): is this a MovieLens file?"
        )
    frame = frame[list(dtypes)]
    for column, dtype in dtypes.items():
        if dtype == "string":
            frame[column] = frame[column].astype("string")
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna() | frame[column].isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"{files.path}: {name} column {column!r} must be numeric, but row {row + 2} holds "
                f"{frame[column].iloc[row]!r}: fix or re-download the file"
            )
        if dtype.startswith("int") and not (values == values.round()).all():
            raise DataError(f"{files.path}: {name} column {column!r} must hold integers")
        frame[column] = values.astype(dtype)
    return frame.reset_index(drop=True)


def read_numeric(
    files: _Files, name: str, dtypes: dict[str, str], sep: str = ",", names: list[str] | None = None,
    separator: bytes | None = None,
) -> pd.DataFrame:
    """A large numeric table parsed straight into ``dtypes`` (no string copy of 32M rows);
    anything the fast parse rejects is read again by :func:`read_table`, which names the fault."""
    fast = delimited_reader(sep, names, separator, dtype=dtypes)
    try:
        with files.open(name) as handle:
            frame = fast(handle)
        if list(frame.columns) == list(dtypes) and not frame.isna().to_numpy().any():
            return frame.astype(dtypes)
    except (ValueError, TypeError, KeyError, pd.errors.ParserError):
        pass
    return read_table(files, name, dtypes, delimited_reader(sep, names, separator))


def read_release(files: _Files, release: Release) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(movies, ratings) of ``release``'s layout, typed as MOVIE_DTYPES and RATING_DTYPES."""
    columns = list(RATING_DTYPES)
    if release.layout == "csv":
        movies = read_table(files, "movies.csv", MOVIE_DTYPES)
        ratings = read_numeric(files, "ratings.csv", RATING_DTYPES)
    elif release.layout == "dat":
        movies = read_table(files, "movies.dat", MOVIE_DTYPES, dat_movies)
        ratings = read_numeric(files, "ratings.dat", RATING_DTYPES, names=columns, separator=b"::")
    else:
        movies = read_table(files, "u.item", MOVIE_DTYPES, item_movies(genre_names(files)))
        ratings = read_numeric(files, "u.data", RATING_DTYPES, sep="\t", names=columns)
    return movies, ratings


def _check_counts(path: Path, release: Release, movies: pd.DataFrame, ratings: pd.DataFrame) -> None:
    for label, frame, expected in (("movies", movies, release.n_movies), ("ratings", ratings, release.n_ratings)):
        if expected is not None and len(frame) != expected:
            raise DataError(
                f"{path}: {len(frame):,} {label} rows, but {release.name} has {expected:,}: "
                f"the folder is incomplete or another release; unpack the official archive again"
            )


def load_movielens(
    source: str | os.PathLike | None = None,
    dataset: str = DEFAULT_RELEASE,
    verify: bool = True,
) -> MovieLens:
    """Load ``dataset`` from ``source`` (zip or folder), ``$MOVIEREC_DATA``, the cache or the web.

    With ``verify`` (the default), an archive must match the release's SHA-256 pin and a
    folder its row counts; columns and dtypes are always checked. Book page: "The data".
    """
    release = get_release(dataset)
    path = resolve_source(source, dataset)
    files = _Files(path)
    try:
        if files.is_archive:
            checksum = file_sha256(path)
            if verify and release.sha256 and checksum != release.sha256:
                raise DataError(
                    f"{path} has SHA-256 {checksum}, but the official {release.archive_name} has "
                    f"{release.sha256}: the file is damaged or another release; download it again"
                )
        else:
            checksum = files.sha256_of([release.movies_file, release.ratings_file])
        movies, ratings = read_release(files, release)
    finally:
        files.close()
    if verify and not files.is_archive:
        _check_counts(path, release, movies, ratings)
    return MovieLens(movies=movies, ratings=ratings, release=release.name, checksum=checksum, source=path)


@dataclass(frozen=True)
class Likes:
    """The users x movies likes matrix L (CSR, float32 0/1) and its row and column labels.

    Columns follow the order of ``movies.csv`` and include movies nobody rated (zero
    columns); rows are the users who rated anything, in increasing userId.
    """

    matrix: sp.csr_matrix
    user_ids: np.ndarray
    movie_ids: np.ndarray
    threshold: float = LIKE_THRESHOLD

    @cached_property
    def movie_index(self) -> dict[int, int]:
        """movieId -> column of L."""
        return {int(m): i for i, m in enumerate(self.movie_ids)}

    @cached_property
    def user_index(self) -> dict[int, int]:
        """userId -> row of L."""
        return {int(u): i for i, u in enumerate(self.user_ids)}

    @property
    def n_users(self) -> int:
        return self.matrix.shape[0]

    @property
    def n_movies(self) -> int:
        return self.matrix.shape[1]

    @cached_property
    def like_counts(self) -> np.ndarray:
        """D: how many users like each movie (the diagonal of L^T L), int64."""
        return np.asarray(self.matrix.sum(axis=0), dtype=np.int64).ravel()


def deduplicate_ratings(ratings: pd.DataFrame) -> pd.DataFrame:
    """Keep one rating per (userId, movieId): the latest by timestamp (last row on ties).

    MovieLens has no duplicates; edited exports can. The seed's ``pivot_table`` would
    average them into a fractional "like", which X = L^T L cannot count.
    """
    keys = ["userId", "movieId"]
    if not ratings.duplicated(keys).any():
        return ratings
    order = ratings.sort_values("timestamp", kind="stable") if "timestamp" in ratings else ratings
    return order.drop_duplicates(keys, keep="last").sort_index()


COMPACT_IDS = 1 << 26  # ids below this are indexed through a lookup table, not a hash or a sort


def _positions(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Index of each value in ``labels`` (unique), -1 where absent; O(n) for compact ids."""
    if len(labels) and labels.min() >= 0 and labels.max() < COMPACT_IDS:
        table = np.full(int(labels.max()) + 1, -1, dtype=np.int32)
        table[labels] = np.arange(len(labels), dtype=np.int32)
        inside = (values >= 0) & (values < len(table))
        return np.where(inside, table[np.where(inside, values, 0)], -1)
    return pd.Index(labels).get_indexer(values).astype(np.int32)


def _compact(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, each value's index among them), like ``np.unique``'s
    ``return_inverse`` but without sorting all the values when the ids are compact."""
    if len(values) and values.min() >= 0 and values.max() < COMPACT_IDS:
        present = np.bincount(values, minlength=0) > 0
        distinct = np.flatnonzero(present)
        return distinct, (np.cumsum(present, dtype=np.int32) - 1)[values]
    distinct, inverse = np.unique(values, return_inverse=True)
    return distinct, inverse.astype(np.int32)


def _has_duplicates(rows: np.ndarray, columns: np.ndarray, n_columns: int) -> bool:
    """Whether a (row, column) pair occurs twice: one sort of int64 keys, no hash table."""
    keys = rows.astype(np.int64) * n_columns + columns
    keys.sort()
    return bool((keys[1:] == keys[:-1]).any())


def likes_matrix(ratings: pd.DataFrame, movies: pd.DataFrame, threshold: float = LIKE_THRESHOLD) -> Likes:
    """L[u, i] = 1 when user u rated movie i at least ``threshold``; all movies are columns.

    Built straight from the id columns into CSR (lookup tables, no pivot, no dense copy),
    so ML-32M's 32M ratings take seconds and a few hundred MB. Book page: "The data".
    """
    if not np.isfinite(threshold):
        raise DataError(f"threshold must be a finite rating, got {threshold!r}")
    movie_ids = movies["movieId"].to_numpy(dtype=np.int64)
    if len(np.unique(movie_ids)) != len(movie_ids):
        raise DataError("movies.csv lists a movieId twice: each movie needs one row")
    rated = ratings["movieId"].to_numpy()
    columns = _positions(rated, movie_ids)
    if (columns < 0).any():
        unknown = np.unique(rated[columns < 0])
        raise DataError(
            f"ratings.csv rates {len(unknown)} movieId(s) missing from movies.csv "
            f"(e.g. {unknown[:5].tolist()}): the two files come from different releases"
        )
    user_ids, rows = _compact(ratings["userId"].to_numpy())
    if _has_duplicates(rows, columns, len(movie_ids)):
        return likes_matrix(deduplicate_ratings(ratings), movies, threshold)
    liked = ratings["rating"].to_numpy() >= threshold
    matrix = sp.csr_matrix(
        (np.ones(int(liked.sum()), dtype=np.float32), (rows[liked], columns[liked])),
        shape=(len(user_ids), len(movie_ids)),
    )
    matrix.sort_indices()
    return Likes(matrix=matrix, user_ids=user_ids.astype(np.int64), movie_ids=movie_ids, threshold=float(threshold))


def as_csr(likes: Likes | sp.spmatrix, dtype: type | None = None) -> sp.csr_matrix:
    """The users x movies matrix of ``likes`` (a :class:`Likes` or any scipy matrix) as CSR."""
    return sp.csr_matrix(likes.matrix if isinstance(likes, Likes) else likes, dtype=dtype)


def colike_matrix(likes: Likes | sp.spmatrix) -> sp.csr_matrix:
    """X = L^T L with a zero diagonal: X[i, j] = users who like both i and j (int32 CSR).

    Book page: "The data".
    """
    matrix = as_csr(likes)
    counts = matrix.astype(np.int32)
    colikes = (counts.T @ counts).tocsr()
    colikes.setdiag(0)
    colikes.eliminate_zeros()
    colikes.sort_indices()
    return colikes
