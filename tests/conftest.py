"""Shared fixtures: the real archive (via $MOVIEREC_DATA) and small synthetic data."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
SHARED_ARCHIVE = ROOT.parent / "shared" / "data" / "ml-latest-small.zip"


def archive_path() -> Path | None:
    """The real ml-latest-small archive: $MOVIEREC_DATA, else the workplace's shared copy."""
    given = os.environ.get("MOVIEREC_DATA")
    if given:
        return Path(given)
    return SHARED_ARCHIVE if SHARED_ARCHIVE.exists() else None


@pytest.fixture(scope="session")
def archive() -> Path:
    path = archive_path()
    if path is None:
        pytest.skip("the ml-latest-small archive is not available: set MOVIEREC_DATA")
    return path


@pytest.fixture(scope="session")
def movielens(archive):
    from movierec.data import load_movielens

    return load_movielens(archive)


@pytest.fixture(scope="session")
def likes(movielens):
    from movierec.data import likes_matrix

    return likes_matrix(movielens.ratings, movielens.movies)


@pytest.fixture(scope="session")
def colikes(likes):
    from movierec.data import colike_matrix

    return colike_matrix(likes)


@pytest.fixture
def runs_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "runs"
    monkeypatch.setenv("MOVIEREC_RUNS", str(folder))
    return folder


def random_likes(users: int, movies: int, density: float, seed: int) -> sp.csr_matrix:
    """A random 0/1 users x movies matrix (float32 CSR)."""
    matrix = sp.random(users, movies, density=density, format="csr", random_state=seed, dtype=np.float32)
    matrix.data[:] = 1.0
    return matrix


def tiny_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Five movies (one never rated), four users, typed as load_movielens returns them."""
    movies = pd.DataFrame(
        {
            "movieId": np.array([10, 20, 30, 40, 50], dtype="int32"),
            "title": pd.array(
                [
                    "Matrix, The (1999)",
                    "Toy Story (1995)",
                    "Toy Story 2 (1999)",
                    "Emma (1996)",
                    "Misérables, Les (1995)",
                ],
                dtype="string",
            ),
            "genres": pd.array(["Action", "Animation", "Animation", "Drama", "Drama"], dtype="string"),
        }
    )
    ratings = pd.DataFrame(
        {
            "userId": np.array([1, 1, 1, 2, 2, 3, 3, 4], dtype="int32"),
            "movieId": np.array([10, 20, 30, 20, 30, 10, 40, 20], dtype="int32"),
            "rating": np.array([4.0, 5.0, 3.5, 4.5, 4.0, 4.0, 4.0, 1.0], dtype="float32"),
            "timestamp": np.arange(8, dtype="int64"),
        }
    )
    return movies, ratings


BOOK_SOURCES = ("book", "notebooks", "_config.yml", "_toc.yml")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Without the background-networking flags, Chromium tries hosts this closed machine cannot reach.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    """Debian's headless Chromium driven by Playwright, once per session."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium; .ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def copy_book_sources(root: Path) -> None:
    """The book's sources (notebooks, pages, configuration, package) copied into ``root``,
    without executed notebooks: a book the tests may build and change."""
    import shutil

    for name in BOOK_SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("executed", "__pycache__"))
        else:
            shutil.copy(source, root / name)


@pytest.fixture(scope="session")
def smoke_book(archive, tmp_path_factory):
    """The whole book built under the smoke profile in a copy of the sources (own run store)."""

    from movierec.book.build import build_book

    root = tmp_path_factory.mktemp("book")
    copy_book_sources(root)
    patch = pytest.MonkeyPatch()
    patch.setenv("MOVIEREC_DATA", str(archive))
    patch.setenv("MOVIEREC_RUNS", str(root / "runs"))
    try:
        html = build_book("smoke", root)
        yield root, html
    finally:
        patch.undo()


class QuietHandler:
    """Factory of a silent static-file HTTP handler for a folder (no request log on stderr)."""

    def __new__(cls, folder: Path):
        import functools
        import http.server

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002 - the base class's signature
                pass

        return functools.partial(Handler, directory=str(folder))


@contextmanager
def serving():
    """start(folder) -> base URL of a loopback HTTP server for ``folder``; all stopped on exit."""
    import http.server
    import threading

    servers = []

    def start(folder: Path) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), QuietHandler(folder))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    try:
        yield start
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@pytest.fixture
def serve():
    """serve(folder) -> base URL of a loopback HTTP server for ``folder``; stopped after the test."""
    with serving() as start:
        yield start
