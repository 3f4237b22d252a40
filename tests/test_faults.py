"""Faults and bad input: each ends in a clear message or a clean recovery (marker ``faults``)."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import random_likes, tiny_tables
from movierec.book.cli import main
from movierec.data import Likes, colike_matrix
from movierec.errors import StoreError, TitleError
from movierec.judging.recommend import TitleIndex, recommend
from movierec.model.cost import CoLikeCost
from movierec.model.train import TrainConfig, train
from movierec.runs.store import RunStore
from movierec.runs.study import sweep

pytestmark = pytest.mark.faults


def small_likes(seed: int = 0) -> Likes:
    matrix = random_likes(40, 30, 0.25, seed=seed)
    return Likes(matrix=matrix, user_ids=np.arange(40), movie_ids=np.arange(30))


# --- titles -------------------------------------------------------------------------------


def test_all_inputs_unknown_names_each():
    with pytest.raises(TitleError) as caught:
        TitleIndex(tiny_tables()[0]).resolve_all(["Nothing Like It", "Neither This"])
    assert "'Nothing Like It'" in str(caught.value) and "'Neither This'" in str(caught.value)


def test_a_movie_no_one_liked_is_left_out_of_the_mean_and_alone_is_an_error():
    movies, _ = tiny_tables()
    embeddings = np.array([[1.0, 0.8, 0.1, 0.9, 0.0], [0.0, 0.6, 1.0, 0.1, 0.0]])
    with_zero = recommend(embeddings, movies, ["the matrix", "Misérables, Les (1995)"], top_n=3)
    alone = recommend(embeddings, movies, ["the matrix"], top_n=3)
    np.testing.assert_allclose(with_zero["score"], alone["score"])
    assert np.isfinite(with_zero["score"]).all()
    with pytest.raises(TitleError, match="zero embedding"):
        recommend(embeddings, movies, ["Misérables, Les (1995)"])


def test_same_title_twice_counts_once():
    movies, _ = tiny_tables()
    embeddings = np.random.default_rng(0).normal(size=(3, 5))
    once = recommend(embeddings, movies, ["toy story"])
    twice = recommend(embeddings, movies, ["toy story", "Toy Story (1995)", "TOY STORY"])
    assert once.equals(twice)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_title_resolution_never_crashes(text):
    index = TitleIndex(tiny_tables()[0])
    try:
        row = index.resolve(text)
    except TitleError as error:
        assert str(error)
    else:
        assert 0 <= row < 5


# --- cost properties -----------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(0, 10_000), st.floats(0.0, 3.0))
def test_cost_is_nonnegative_zero_is_norm_and_permutation_invariant(dim, seed, scale):
    matrix = random_likes(15, 12, 0.3, seed=seed % 97)
    cost = CoLikeCost(matrix, dtype=torch.float64)
    V = scale * torch.randn(dim, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    value = cost.value(V)
    assert value >= -1e-9 * max(1.0, cost.x_norm2)
    assert cost.value(torch.zeros(dim, 12, dtype=torch.float64)) == cost.x_norm2
    order = np.random.default_rng(seed).permutation(12)
    permuted = CoLikeCost(matrix[:, order], dtype=torch.float64)
    assert permuted.value(V[:, order]) == pytest.approx(value, rel=1e-12, abs=1e-9)
    assert (
        colike_matrix(matrix[:, order]).toarray().tolist()
        == colike_matrix(matrix).toarray()[np.ix_(order, order)].tolist()
    )


# --- divergence -----------------------------------------------------------------------------


@pytest.mark.parametrize("init_std,lr", [(1e30, 0.1), (1e18, 1.0), (0.5, 1e300)])
def test_nan_inf_and_absurd_lr_are_recorded(init_std, lr):
    result = train(small_likes(), optimizer="sgd", lr=lr, init_std=init_std, epochs=20, dim=4)
    assert result.status == "diverged" and result.diverged_epoch is not None
    assert len(result.history) == result.diverged_epoch + 1


def test_nan_at_the_first_epoch_is_epoch_zero():
    result = train(small_likes(), init_std=1e30, epochs=5, dim=4)
    assert result.diverged_epoch == 0 and len(result.history) == 1
    assert not np.isfinite(result.history["cost"].iloc[0])


def test_sweep_goes_on_after_a_divergence(tmp_path):
    configs = [
        TrainConfig(optimizer="sgd", lr=1e6, epochs=10, dim=3),
        TrainConfig(optimizer="adam", lr=0.05, epochs=10, dim=3),
    ]
    results = sweep(configs, small_likes(), "data", RunStore(tmp_path))
    assert [r.status for r in results] == ["diverged", "finished"]


# --- the run store --------------------------------------------------------------------------


def test_unwritable_run_store_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    store = RunStore(blocker / "runs")
    with pytest.raises(StoreError, match="cannot write run .* set MOVIEREC_RUNS to a writable folder"):
        store.save(train(small_likes(), epochs=2, dim=2))


def test_permission_denied_on_rename_is_a_clear_error(tmp_path, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(StoreError, match="Permission denied"):
        RunStore(tmp_path).save(train(small_likes(), epochs=2, dim=2))
    assert not list(tmp_path.rglob("*.tmp"))


def test_cli_with_unwritable_run_store_exits_2(archive, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert (
        main(
            ["train", "--epochs", "2", "--dim", "2", "--data", str(archive), "--runs", str(blocker / "runs")]
        )
        == 2
    )
    assert "cannot write run" in capsys.readouterr().err


def test_unwritable_download_cache_is_a_clear_error(tmp_path):
    from movierec.data import download_release
    from movierec.errors import DataError

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(
        DataError,
        match="cache folder .* is not writable .*set MOVIEREC_CACHE .*or give the archive with MOVIEREC_DATA",
    ):
        download_release(served_release("http://127.0.0.1:9"), blocker / "cache")


def test_unwritable_book_output_is_a_clear_error(tmp_path):
    from conftest import ROOT
    from movierec.book.build import BookError, execute_notebook

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(BookError, match="cannot write the executed notebooks to .* make the folder writable"):
        execute_notebook(
            ROOT / "notebooks" / "01_data.ipynb", blocker / "executed" / "01_data.ipynb", {}, "x", ROOT
        )


@pytest.mark.integration
def test_kill_9_in_the_middle_of_a_sweep_then_resume(archive, tmp_path):
    profile = tmp_path / "long.yml"
    profile.write_text(
        yaml.safe_dump({"dim": 32, "epochs": 1500, "study_lrs": {"adam": [0.1, 0.01], "sgd": [1.0e-5]}})
    )
    runs = tmp_path / "runs"
    command = [
        sys.executable,
        "-m",
        "movierec.book.cli",
        "sweep",
        str(profile),
        "--data",
        str(archive),
        "--runs",
        str(runs),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not list(runs.glob("*/meta.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    finished = list(runs.glob("*/meta.json"))
    assert len(finished) == 1, "the kill should land while the second run trains"
    first_meta = finished[0].read_bytes()
    first_mtime = finished[0].stat().st_mtime_ns
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert finished[0].stat().st_mtime_ns == first_mtime and finished[0].read_bytes() == first_meta
    assert len(list(runs.glob("*/meta.json"))) == 3
    assert not list(runs.rglob("*.tmp"))
    assert done.stdout.count("finished") == 3


# --- archive, download and CSV content ----------------------------------------------------

REAL_SHA = "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436"


def served_release(base_url: str, sha256: str | None = REAL_SHA):
    from movierec.data import Release

    return Release(
        name="ml-latest-small",
        url=f"{base_url}/ml-latest-small.zip",
        sha256=sha256,
        n_movies=9742,
        n_ratings=100836,
    )


@pytest.mark.integration
def test_download_checks_the_hash_caches_and_refetches_a_damaged_copy(archive, tmp_path, serve):
    import shutil

    from movierec.data import download_release, file_sha256

    upstream = tmp_path / "upstream"
    upstream.mkdir()
    shutil.copy(archive, upstream / "ml-latest-small.zip")
    release = served_release(serve(upstream))
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "tmpk2j4x1_partial").write_bytes(b"PK\x03\x04 half a download")
    fetched = download_release(release, cache)
    assert fetched == cache / "ml-latest-small.zip" and file_sha256(fetched) == REAL_SHA
    fetched.write_bytes(fetched.read_bytes()[:1000])
    assert file_sha256(download_release(release, cache)) == REAL_SHA


@pytest.mark.integration
def test_download_of_a_different_file_is_rejected(tmp_path, serve):
    from movierec.data import download_release
    from movierec.errors import DataError

    upstream = tmp_path / "upstream"
    upstream.mkdir()
    (upstream / "ml-latest-small.zip").write_bytes(b"not the archive")
    with pytest.raises(DataError, match="does not match its SHA-256 pin"):
        download_release(served_release(serve(upstream)), tmp_path / "cache")
    assert not (tmp_path / "cache" / "ml-latest-small.zip").exists()


def test_offline_download_names_the_environment_variable(tmp_path):
    import socket

    from movierec.data import download_release
    from movierec.errors import DataError

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(
        DataError, match=r"cannot download .*Offline\? .*export MOVIEREC_DATA=/path/to/ml-latest-small.zip"
    ):
        download_release(served_release(f"http://127.0.0.1:{closed_port}"), tmp_path / "cache")


@pytest.fixture
def unpacked(archive, tmp_path):
    import zipfile

    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(tmp_path)
    return tmp_path / "ml-latest-small"


@pytest.mark.integration
def test_truncated_archive(archive, tmp_path):
    from movierec.data import load_movielens
    from movierec.errors import DataError

    truncated = tmp_path / "ml-latest-small.zip"
    truncated.write_bytes(archive.read_bytes()[:400_000])
    for verify in (True, False):
        with pytest.raises(
            DataError, match="ml-latest-small.zip is not a readable zip archive .*: download it again"
        ):
            load_movielens(truncated, verify=verify)


@pytest.mark.integration
def test_archive_without_ratings(unpacked, tmp_path):
    import zipfile

    from movierec.data import load_movielens
    from movierec.errors import DataError

    partial = tmp_path / "partial.zip"
    with zipfile.ZipFile(partial, "w") as bundle:
        bundle.write(unpacked / "movies.csv", "ml-latest-small/movies.csv")
    with pytest.raises(DataError, match=r"has no ratings.csv \(looked in .*\): give the complete MovieLens"):
        load_movielens(partial, verify=False)


@pytest.mark.integration
@pytest.mark.parametrize(
    "edit,message",
    [
        (
            lambda text: text.replace("userId,movieId,rating,timestamp", "userId,movieId,score,timestamp", 1),
            r"ratings.csv lacks column\(s\) rating \(has userId, movieId, score, timestamp\)",
        ),
        (
            lambda text: text.replace("1,1,4.0,964982703", "1,1,four,964982703", 1),
            r"ratings.csv column 'rating' must be numeric, but row 2 holds 'four'",
        ),
        (lambda text: "", r"ratings.csv is empty"),
    ],
    ids=["missing column", "non-numeric rating", "empty file"],
)
def test_bad_csv_content_is_named(unpacked, edit, message):
    from movierec.data import load_movielens
    from movierec.errors import DataError

    path = unpacked / "ratings.csv"
    path.write_text(edit(path.read_text()))
    with pytest.raises(DataError, match=message):
        load_movielens(unpacked)


@pytest.mark.integration
def test_non_ascii_titles_round_trip(movielens, tmp_path):
    from movierec.judging.recommend import TitleIndex

    titles = movielens.movies["title"].tolist()
    assert "Misérables, Les (1995)" in titles
    index = TitleIndex(movielens.movies)
    assert index.titles[index.resolve("Les Misérables (1995)")] == "Misérables, Les (1995)"
    assert index.titles[index.resolve("les miserables (1995)")] == "Misérables, Les (1995)"


# --- MOVIEREC_DATA pointing anywhere ------------------------------------------------------

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
MOVIEREC_SCRIPT = Path(sys.executable).with_name("movierec")
UNPRIVILEGED = 65534  # nobody and nogroup on Debian, whom file permissions bind
SETPRIV = shutil.which("setpriv")  # util-linux
DROP = [f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups"]


def movierec_data(path: Path, tmp_path: Path, drop: bool = False) -> subprocess.CompletedProcess:
    """``movierec data`` as a user runs it, with ``MOVIEREC_DATA=path`` (``drop``: as uid 65534).
    How long it takes is measured by benchmarks/refusals.py, not asserted here."""
    command = (
        [str(MOVIEREC_SCRIPT)] if MOVIEREC_SCRIPT.exists() else [sys.executable, "-m", "movierec.book.cli"]
    )
    env = {**os.environ, "MOVIEREC_DATA": str(path), "MOVIEREC_CACHE": str(tmp_path / "cache")}
    if drop:  # nobody has no home of its own: this one is in its folder
        command = [SETPRIV, *DROP, *command]
        env |= {"HOME": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [*command, "data"], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path
    )


#: load_movielens() in a process of its own: the DataError's message on stdout, exit status 0.
LOAD = """import sys
from movierec.data import load_movielens
from movierec.errors import DataError
try:
    load_movielens()
except DataError as error:
    print(error)
else:
    sys.exit("loaded without a DataError")
"""


@functools.cache
def unprivileged_refused() -> str:
    """Why this root process cannot run a case as uid 65534 here; empty when it can (setpriv
    drops to it, and that user can run this Python and read this checkout of movierec)."""
    if SETPRIV is None:
        return "util-linux's setpriv is missing, so root cannot drop to an unprivileged user"
    probe = subprocess.run(
        [SETPRIV, *DROP, sys.executable, "-c", "import movierec.data"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
        env={**os.environ, "HOME": "/", "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if probe.returncode:
        last = (probe.stderr.strip().splitlines() or ["no message"])[-1]
        return f"uid {UNPRIVILEGED} cannot import movierec from this checkout with this Python ({last})"
    return ""


def as_unprivileged(make_path) -> tuple[str, subprocess.CompletedProcess]:
    """A case made in a folder that uid and gid 65534 own, then loaded and given to ``movierec
    data`` by processes that setpriv has dropped to that user, whom file permissions bind (root
    reads any file): the loader's message and the command's result. Each process is started by
    setpriv itself (it then runs as 65534 with no capabilities): setpriv can start an interpreter
    that lives under root's home (pyenv in /root), which a process of that user cannot."""
    folder = Path(tempfile.mkdtemp(prefix="movierec-unprivileged-"))
    try:
        path = make_path(folder)
        for item in [folder, *folder.rglob("*")]:
            os.lchown(item, UNPRIVILEGED, UNPRIVILEGED)
        env = {**os.environ, "MOVIEREC_DATA": str(path), "HOME": str(folder), "PYTHONDONTWRITEBYTECODE": "1"}
        env["MOVIEREC_CACHE"] = str(folder / "cache")
        loaded = subprocess.run(
            [SETPRIV, *DROP, sys.executable, "-c", LOAD],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=folder,
        )
        assert loaded.returncode == 0 and loaded.stdout.count("\n") == 1, loaded.stdout + loaded.stderr
        return loaded.stdout.strip(), movierec_data(path, folder, drop=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def decoy_three_levels_down(tmp_path: Path) -> Path:
    deep = tmp_path / "leftover" / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (deep / "ratings.csv").write_text("")
    (deep / "movies.csv").write_text("")
    return tmp_path / "leftover"


def symlink_loop(tmp_path: Path) -> Path:
    (tmp_path / "one").symlink_to(tmp_path / "two")
    (tmp_path / "two").symlink_to(tmp_path / "one")
    return tmp_path / "one"


def dangling_symlink(tmp_path: Path) -> Path:
    (tmp_path / "gone.zip").symlink_to(tmp_path / "deleted.zip")
    return tmp_path / "gone.zip"


def fifo(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "pipe")
    return tmp_path / "pipe"


def fifo_as_ratings(tmp_path: Path) -> Path:
    folder = tmp_path / "ml-latest-small"
    folder.mkdir()
    (folder / "movies.csv").write_text("movieId,title,genres\n1,Toy Story (1995),Animation\n")
    os.mkfifo(folder / "ratings.csv")
    return tmp_path


def unreadable_file(tmp_path: Path) -> Path:
    path = tmp_path / "ml-latest-small.zip"
    path.write_bytes(b"PK\x05\x06" + bytes(18))
    path.chmod(0)
    return path


def unreadable_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "locked"
    (folder / "ml-latest-small").mkdir(parents=True)
    folder.chmod(0)
    return folder


def not_a_zip(tmp_path: Path) -> Path:
    path = tmp_path / "ml-latest-small.zip"
    path.write_text("<html>404 Not Found</html>")
    return path


ODD_PATHS = [
    ("root", lambda tmp: Path("/"), r"/ has no ratings.csv \(looked in / and /ml-latest-small, not deeper\)"),
    ("proc", lambda tmp: Path("/proc"), r"/proc has no ratings.csv \(looked in /proc and "),
    ("home", lambda tmp: Path.home(), r"has no ratings.csv \(looked in .* not deeper\)"),
    ("decoy three levels down", decoy_three_levels_down, r"leftover has no ratings.csv \(looked in "),
    ("symlink loop", symlink_loop, r"MOVIEREC_DATA '.*one' is a symbolic link loop"),
    ("dangling symlink", dangling_symlink, r"is a symbolic link to '.*deleted.zip', which does not exist"),
    ("fifo", fifo, r"pipe is a named pipe \(FIFO\), not an archive or a folder"),
    ("fifo as ratings.csv", fifo_as_ratings, r"ratings.csv is a named pipe \(FIFO\), not a file"),
    ("character device", lambda tmp: Path("/dev/null"), r"/dev/null is a character device"),
    ("not a zip", not_a_zip, r"is not a readable zip archive .*download it again"),
    ("unreadable file", unreadable_file, r"cannot be read \(permission denied\): make it readable"),
    ("unreadable folder", unreadable_folder, r"cannot be reached \(permission denied"),
]
NEEDS_PERMISSIONS = {"unreadable file", "unreadable folder"}


@pytest.mark.parametrize("make_path,message", [case[1:] for case in ODD_PATHS], ids=[c[0] for c in ODD_PATHS])
def test_any_data_path_is_one_line_and_exit_2(make_path, message, tmp_path, request, monkeypatch):
    """Whatever MOVIEREC_DATA names, loading ends in one DataError and ``movierec data`` in one line
    and exit status 2. As root (CI), the two permission cases run as an unprivileged user."""
    import re

    from movierec.data import load_movielens
    from movierec.errors import DataError

    if AS_ROOT and request.node.callspec.id in NEEDS_PERMISSIONS:
        refused = unprivileged_refused()
        if refused:
            pytest.skip(
                f"running as root, which reads any file and folder whatever its permissions, and {refused}"
            )
        error, done = as_unprivileged(make_path)
    else:
        path = make_path(tmp_path)
        try:
            monkeypatch.setenv("MOVIEREC_DATA", str(path))
            with pytest.raises(DataError) as caught:
                load_movielens()
            done = movierec_data(path, tmp_path)
        finally:
            for locked in (tmp_path / "ml-latest-small.zip", tmp_path / "locked"):
                if locked.exists() and not locked.is_symlink():
                    locked.chmod(0o755)
        error = str(caught.value)
    assert re.search(message, error), error
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("movierec: error: ") and re.search(message, done.stderr), done.stderr


# --- profiles that are not what they seem ---------------------------------------------------


@pytest.mark.parametrize(
    "content,message",
    [
        (b"1: 2\nepochs: 3\n", "unknown parameter\\(s\\) 1: allowed are"),
        (b"\xff\xfe\x00garbage", "cannot be read as UTF-8 text"),
        (
            b"stability_lrs: [" + b"9" * 400 + b"]\n",
            "stability_lrs=.* has the wrong type: stability_lrs must be a non-empty list of numbers",
        ),
        (b"epochs: [1, 2\n", "is not valid YAML at line 2, column 1: expected ',' or ']'"),
        (b"- just\n- a list\n", "must be a mapping of parameter: value"),
    ],
    ids=["non-string key", "not utf-8", "huge number", "broken yaml", "not a mapping"],
)
def test_odd_profiles_end_in_one_line(tmp_path, capsys, content, message):
    profile = tmp_path / "odd.yml"
    profile.write_bytes(content)
    assert main(["sweep", str(profile), "--runs", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("movierec: error: profile ")
    import re

    assert re.search(message, err), err


@pytest.mark.parametrize(
    "damage",
    [
        lambda meta: meta.write_text(meta.read_text()[:40]),
        lambda meta: meta.write_text(meta.read_text().replace('"status"', '"state"')),
        lambda meta: meta.write_text(meta.read_text().replace('"lr": 0.05', '"lr": -1.0')),
        lambda meta: meta.write_text(meta.read_text().replace('"format": 2', '"format": 99')),
    ],
    ids=["truncated", "missing status", "impossible parameter", "future format"],
)
def test_damaged_metadata_is_recomputed_and_listed(tmp_path, capsys, damage):
    store = RunStore(tmp_path)
    config = TrainConfig(optimizer="adam", lr=0.05, epochs=3, dim=2)
    first = sweep([config], small_likes(), "data", store)[0]
    damage(store.path(first.key) / "meta.json")
    assert store.find(config, "data") is None
    assert store.table()["status"].tolist() == ["damaged"]
    assert main(["runs", "--runs", str(tmp_path)]) == 0 and "damaged" in capsys.readouterr().out
    again = sweep([config], small_likes(), "data", store)[0]
    np.testing.assert_array_equal(again.embeddings, first.embeddings)
    assert store.load(first.key).status == "finished"


def test_run_keys_cannot_leave_the_store(tmp_path):
    with pytest.raises(StoreError, match="is not a run key"):
        RunStore(tmp_path).load("../elsewhere/0123456789abcdef")


def test_threshold_and_dataset_must_match_the_data(tmp_path):
    from movierec.errors import ParameterError

    with pytest.raises(
        ParameterError, match="threshold=3 is not allowed here: these likes were built with threshold 4"
    ):
        sweep([TrainConfig(threshold=3.0, epochs=1, dim=1)], small_likes(), "data", RunStore(tmp_path))


def test_corrupt_compressed_data_in_an_unpinned_archive(tmp_path, capsys):
    import zipfile

    from movierec.data import load_movielens
    from movierec.errors import DataError

    archive = tmp_path / "ml-latest.zip"
    rows = "".join(f"{u},{m},4.0,{u * m}\n" for u in range(1, 200) for m in range(1, 30))
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(
            "ml-latest/movies.csv",
            "movieId,title,genres\n" + "".join(f"{m},M {m} (2000),Drama\n" for m in range(1, 30)),
        )
        bundle.writestr("ml-latest/ratings.csv", "userId,movieId,rating,timestamp\n" + rows)
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as bundle:
        info = bundle.getinfo("ml-latest/ratings.csv")
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[middle : middle + 64] = bytes(64)
    archive.write_bytes(bytes(data))
    with pytest.raises(DataError, match="ratings.csv is damaged .*download it again"):
        load_movielens(archive, dataset="ml-latest", verify=False)
    assert main(["data", "--data", str(archive), "--dataset", "ml-latest"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
