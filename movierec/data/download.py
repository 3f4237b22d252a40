"""Where the archive comes from: an explicit path, ``$MOVIEREC_DATA``, the cache, or a verified download.

Book page: "Re-run it yourself".
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

from ..errors import DataError
from .releases import DEFAULT_RELEASE, Release, get_release

DATA_ENV = "MOVIEREC_DATA"
CACHE_ENV = "MOVIEREC_CACHE"


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


def unreachable_reason(path: Path) -> str | None:
    """Why ``path`` cannot be opened at all (missing, a broken link, a link loop, no access), or
    None when it can be looked at; asks the file system once and never reads the path."""
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "is a symbolic link loop"
        if error.errno in (errno.ENOENT, errno.ENOTDIR) and os.path.islink(path):
            return f"is a symbolic link to {os.readlink(path)!r}, which does not exist"
        if error.errno in (errno.ENOENT, errno.ENOTDIR):
            return "does not exist"
        if error.errno in (errno.EACCES, errno.EPERM):
            return "cannot be reached (permission denied on a folder above it)"
        return f"cannot be looked at ({error.strerror or error})"
    return None


def resolve_source(source: str | os.PathLike | None = None, dataset: str = DEFAULT_RELEASE) -> Path:
    """Where the data comes from, in order: ``source``, ``$MOVIEREC_DATA``, the cache, a download."""
    release = get_release(dataset)
    for given, origin in ((source, "source"), (os.environ.get(DATA_ENV) or None, DATA_ENV)):
        if given is not None:
            path = Path(given).expanduser()
            reason = unreachable_reason(path)
            if reason:
                raise DataError(
                    f"{origin} {str(path)!r} {reason}: give the {release.archive_name} "
                    f"archive or the folder it unpacks to"
                )
            return path
    return download_release(release)
