"""MovieLens file formats: zip or folder access, the csv, ``::``-dat and ml-100k layouts, typed tables.

Every reader names the file and row at fault. Book page: "The data".
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from ..errors import DataError
from .download import unreachable_reason
from .releases import Release

MOVIE_DTYPES = {"movieId": "int32", "title": "string", "genres": "string"}
RATING_DTYPES = {"userId": "int32", "movieId": "int32", "rating": "float32", "timestamp": "int64"}

ML100K_GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
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
NO_GENRES = "(no genres listed)"


FILE_KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def _kind(mode: int) -> str:
    return FILE_KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _status(path: Path) -> os.stat_result | None:
    """``path``'s status, None when nothing is there; a :class:`DataError` when it cannot be
    looked at (a link loop, a broken link, no access)."""
    reason = unreachable_reason(path)
    if reason == "does not exist":
        return None
    if reason:
        raise DataError(f"{path} {reason}: fix it, or give the archive or the folder it unpacks to")
    return os.stat(path)


class _Files:
    """Read access to one release's files in a zip archive or an unpacked folder.

    The files are looked for at the top of the archive or folder, or in the release's own
    folder directly below it (``ml-latest-small/``), never deeper: a path such as ``/`` or a
    home folder is answered at once. Only regular files are opened (never a FIFO or device).
    """

    def __init__(self, path: Path, release: Release):
        self.path = path
        self.release = release
        self._zip: zipfile.ZipFile | None = None
        status = _status(path)
        if status is None:
            raise DataError(f"{path} does not exist: give the {release.archive_name} archive or its folder")
        if stat.S_ISREG(status.st_mode):
            self._open_archive()
        elif not stat.S_ISDIR(status.st_mode):
            raise DataError(
                f"{path} is {_kind(status.st_mode)}, not an archive or a folder: give the "
                f"{release.archive_name} archive or the folder it unpacks to"
            )
        self.base = self._find_base()

    def _open_archive(self) -> None:
        try:
            self._zip = zipfile.ZipFile(self.path)
        except PermissionError:
            raise DataError(
                f"{self.path} cannot be read (permission denied): make it readable (chmod a+r) "
                f"or give another copy"
            ) from None
        except (zipfile.BadZipFile, OSError) as error:
            raise DataError(
                f"{self.path} is not a readable zip archive ({error}): download it again"
            ) from error
        self._members = {name for name in self._zip.namelist() if not name.endswith("/")}

    def _places(self) -> list[str]:
        """Where the release's files may be, relative to the archive or folder: its top, then the
        release's folder directly below."""
        return ["", f"{self.release.folder or self.release.name}/"]

    def _present(self, relative: str) -> bool:
        if self._zip is not None:
            return relative in self._members
        return _status(self.path / relative) is not None

    def _find_base(self) -> str:
        """The place holding the release's files: the first that holds its ratings or movies file."""
        wanted = (self.release.ratings_file, self.release.movies_file)
        for place in self._places():
            if any(self._present(place + name) for name in wanted):
                return place
        looked = " and ".join(self._where(place) for place in self._places())
        raise DataError(
            f"{self.path} has no {self.release.ratings_file} (looked in {looked}, not deeper): "
            f"give the {self.release.archive_name} archive, the folder it unpacks to, or the folder "
            f"that holds that one"
        )

    def _where(self, place: str) -> str:
        if self._zip is not None:
            return f"{self.path}:{place or '/'}"
        return str(self.path / place) if place else str(self.path)

    @property
    def is_archive(self) -> bool:
        return self._zip is not None

    def has(self, name: str) -> bool:
        return self._present(self.base + name)

    def require(self, name: str) -> None:
        if not self.has(name):
            raise DataError(
                f"{self.path} has no {name} (looked in {self._where(self.base)}): give the complete "
                f"MovieLens archive or folder"
            )

    def _open_file(self, name: str) -> IO[bytes]:
        target = self.path / (self.base + name)
        status = _status(target)
        if status is not None and not stat.S_ISREG(status.st_mode):
            raise DataError(
                f"{target} is {_kind(status.st_mode)}, not a file: put the release's {name} there"
            )
        try:
            return open(target, "rb")
        except PermissionError:
            raise DataError(
                f"{target} cannot be read (permission denied): make it readable (chmod a+r)"
            ) from None
        except OSError as error:
            raise DataError(
                f"{target} cannot be read ({error.strerror or error}): unpack the archive again"
            ) from None

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        self.require(name)
        if self._zip is not None:
            try:
                with self._zip.open(self.base + name) as handle:
                    yield handle
            except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, zlib.error) as error:
                raise DataError(f"{self.path}: {name} is damaged ({error}): download it again") from error
        else:
            with self._open_file(name) as handle:
                yield handle

    def sha256_of(self, names: list[str]) -> str:
        """SHA-256 over the bytes of ``names`` one after the other, as the release holds them:
        the same for the archive and for the folder it unpacks to."""
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
    sep: str = ",",
    names: list[str] | None = None,
    separator: bytes | None = None,
    dtype: dict | str = "string",
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
            genres = "|".join(g for g, flag in zip(genre_names, flags, strict=True) if flag.strip() == "1")
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
    files: _Files,
    name: str,
    dtypes: dict[str, str],
    sep: str = ",",
    names: list[str] | None = None,
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
