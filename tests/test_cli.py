"""The command line: real output on the real data; one-line errors with exit status 2."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest

from movierec.book.cli import main

SEED_TITLES = ["Apollo 13 (1995)", "Toy Story (1995)", "Home Alone (1990)"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "movierec.book.cli", *args], capture_output=True, text=True, timeout=300
    )


@pytest.mark.integration
def test_recommend_prints_ten_titles_none_an_input(archive, runs_dir):
    done = run_cli("recommend", *SEED_TITLES, "--data", str(archive))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "Inputs: " + "; ".join(SEED_TITLES)
    assert lines[1].startswith("recommendations from run")
    titles = [line.split(maxsplit=1)[1].rsplit(maxsplit=1)[0] for line in lines[3:]]
    assert len(titles) == 10
    assert not set(titles) & set(SEED_TITLES)
    assert "Jurassic Park (1993)" in titles


@pytest.mark.integration
def test_lowercase_title_resolves_and_typo_fails_with_suggestions(archive, runs_dir):
    resolved = run_cli("recommend", "toy story", "the matrix", "--data", str(archive))
    assert resolved.returncode == 0
    assert resolved.stdout.splitlines()[0] == "Inputs: Toy Story (1995); Matrix, The (1999)"
    done = run_cli("recommend", "Toy Storyy", "--data", str(archive))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "movierec: error: unknown title 'Toy Storyy': did you mean 'Toy Story (1995)'; "
        "'Toy Story 3 (2010)'; 'Toy Story 2 (1999)'; 'Tokyo Story (Tôkyô monogatari) (1953)'; "
        "'True Story (2015)'?"
    )
    assert "Traceback" not in done.stderr


@pytest.mark.integration
def test_data_summary(archive, capsys):
    assert main(["data", "--data", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "X non-zeros: 6,000,360" in out and "||X||^2: 63,482,944" in out


@pytest.mark.integration
def test_threshold_35_counts_the_half_star_likes_and_keys_its_own_run(archive, runs_dir, capsys):
    """--threshold 3.5: 61,716 likes (48,580 at >= 4, plus the 13,136 ratings of 3.5), and a run
    trained on them is stored under its own key, never confused with the run at 4."""
    assert main(["data", "--threshold", "3.5", "--data", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "likes (rating >= 3.5): 61,716" in out and "X max: 189" in out
    keys = []
    for threshold in ("3.5", "4"):
        args = ["train", "--threshold", threshold, "--dim", "4", "--epochs", "2", "--data", str(archive)]
        assert main(args) == 0
        keys.append(re.search(r"^run (\w+):", capsys.readouterr().out, re.M).group(1))
    assert keys[0] != keys[1]
    from movierec import RunStore

    assert [RunStore().load(key).config.threshold for key in keys] == [3.5, 4.0]


@pytest.mark.integration
def test_dim_larger_than_the_catalogue_is_named(archive, runs_dir, capsys):
    assert main(["train", "--dim", "100000", "--data", str(archive)]) == 2
    assert (
        'dim=100000 is not allowed: dim must be at most the number of movies (9,742) or "full"'
        in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "--lr", "0"], "lr=0.0 is not allowed"),
        (["train", "--epochs", "-3"], "epochs=-3 is not allowed"),
        (["train", "--optimizer", "adamw2"], "optimizer='adamw2' is not allowed"),
        (["train", "--dim", "big"], 'dim must be an integer or "full"'),
        (["sweep", "no-such-profile"], "unknown profile 'no-such-profile'"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_user_errors_exit_2_with_one_line(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.startswith("movierec: error:")


def test_help_for_every_command():
    for command in ("data", "train", "sweep", "recommend", "runs", "book"):
        done = run_cli(command, "--help")
        assert done.returncode == 0 and "usage: movierec" in done.stdout


@pytest.mark.integration
def test_star_wars_is_an_ambiguity_naming_the_films_and_matrix_resolves(archive, runs_dir, capsys):
    assert main(["recommend", "Star Wars", "--data", str(archive)]) == 2
    err = capsys.readouterr().err
    assert "matches 13 movies" in err and "Star Wars: Episode V - The Empire Strikes Back (1980)" in err
    assert err.count("use 'id:") == 13 and "more" not in err  # up to 20 matches, every one is listed
    assert main(["recommend", "matrix", "amelie", "--data", str(archive), "--top-n", "3"]) == 0
    assert "recommendations from run" in capsys.readouterr().out


@pytest.mark.integration
def test_an_ambiguity_of_more_than_20_offers_all_matches(archive, runs_dir, capsys):
    assert main(["recommend", "dragon", "--data", str(archive)]) == 2
    err = capsys.readouterr().err
    assert "matches 41 movies" in err and err.count("use 'id:") == 8
    assert "and 33 more (--all-matches" in err and err.count("\n") == 1
    assert main(["recommend", "dragon", "--all-matches", "--data", str(archive)]) == 2
    err = capsys.readouterr().err
    assert err.count("use 'id:") == 41 and "more" not in err


@pytest.mark.integration
def test_recommend_takes_the_run_by_a_unique_start_of_its_key(archive, runs_dir, capsys):
    assert main(["train", "--dim", "4", "--epochs", "2", "--data", str(archive)]) == 0
    key = capsys.readouterr().out.splitlines()[-1].split()[1].rstrip(":")
    assert main(["recommend", "toy story", "--run", key[:5], "--data", str(archive), "--top-n", "3"]) == 0
    assert f"recommendations from run {key} " in capsys.readouterr().out
    assert main(["recommend", "toy story", "--run", "x" + key[:5], "--data", str(archive)]) == 2
    assert "is not a run key" in capsys.readouterr().err


@pytest.mark.integration
def test_a_yaml_profile_with_1e_minus_5_runs_and_the_listing_fits(archive, runs_dir, tmp_path, capsys):
    profile = tmp_path / "tiny.yml"
    profile.write_text("dim: 4\nepochs: 3\nstudy_lrs:\n  sgd: [1e-5, 3e-5]\n")
    assert main(["sweep", str(profile), "--data", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "1e-5" in out and "3e-5" in out
    assert main(["train", "--lr", "0.1", "--epochs", "25", "--dim", "4", "--data", str(archive)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["epoch", "cost"]  # every third epoch and the last, no index column
    assert [line.split()[0] for line in printed[1:-1]] == [str(e) for e in (*range(0, 25, 3), 25)]
    assert main(["runs", "--runs", str(runs_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert lines[0].split()[:3] == ["stored", "key", "data"] and "final cost" in lines[0]
    assert "optimizer" in lines[0] and re.fullmatch(r"[0-9a-f]{16}", lines[1].split()[2])
    assert "adam" in lines[1] and "ml-latest-small" in lines[1]  # newest first


def test_the_library_command_has_no_book_commands():
    done = subprocess.run(
        [sys.executable, "-m", "movierec.cli", "book", "--help"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2
    assert "invalid choice: 'book'" in done.stderr
    assert "movierec book" not in done.stdout


def test_the_torchrun_entry_refuses_to_start_without_torchrun(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    done = subprocess.run(
        [sys.executable, "-m", "movierec.torchrun", "--dim", "4"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2
    assert done.stderr.startswith(
        "movierec.torchrun: error: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT are not set"
    )
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.integration
def test_the_torchrun_entry_trains_as_a_one_rank_job(archive, runs_dir, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    launcher = {"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1"}
    options = ["--data", str(archive), "--dim", "4", "--epochs", "2", "--device", "cpu"]
    done = subprocess.run(
        [sys.executable, "-m", "movierec.torchrun", *options],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **launcher, "MASTER_PORT": str(port)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("run ")
    assert "recommend" not in done.stdout
    assert main(["train", *options]) == 0  # the one-process command finds the same stored run


def synthetic_store(folder) -> list[str]:
    """Runs of every listing column's widest kind: a long data label, a whitened target, a diverged run."""
    import numpy as np

    from conftest import random_likes
    from movierec.data import Likes
    from movierec.model.train import TrainConfig
    from movierec.runs.store import RunStore
    from movierec.runs.study import sweep

    likes = Likes(matrix=random_likes(30, 20, 0.3, seed=3), user_ids=np.arange(30), movie_ids=np.arange(20))
    store = RunStore(folder)
    configs = [
        TrainConfig(optimizer="adam", lr=0.1, epochs=3, dim=2),
        TrainConfig(optimizer="sgd", lr=1e6, epochs=30, dim=2),
        TrainConfig(optimizer="rmsprop", lr=0.01, epochs=3, dim=2, target="whitened", ridge=300.0),
    ]
    results = sweep(configs[:2], likes, "a" * 64, store, data_label="ml-latest-small train split (seed 0)")
    results += sweep(configs[2:], likes, "b" * 64, store, data_label="ml-latest-small")
    return [result.key for result in results]


def test_the_run_listing_shows_whole_keys_within_100_columns(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    keys = synthetic_store(tmp_path)
    for extra in ([], ["--size"]):
        assert main(["runs", "--runs", str(tmp_path), *extra]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert max(len(line) for line in lines) <= 100, "\n".join(lines)
        assert all(any(key in line.split() for line in lines) for key in keys)
        assert "…" not in "".join(lines)
    assert lines[0].split()[-1] == "size" and lines[-1].startswith("3 runs, ") and " kB in " in lines[-1]
    monkeypatch.setenv("COLUMNS", "250")
    assert main(["runs", "--runs", str(tmp_path)]) == 0
    wide = capsys.readouterr().out.splitlines()
    assert wide[0].split()[:3] == ["stored", "key", "data"] and "diverged@" in "".join(wide)
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d ", wide[1])


def test_runs_are_removed_by_key_start_or_age_and_errors_are_one_line(tmp_path, capsys):
    keys = synthetic_store(tmp_path)
    assert main(["runs", "--runs", str(tmp_path), "--remove", keys[0][:6]]) == 0
    out = capsys.readouterr().out
    assert f"removed run {keys[0]} (" in out and "removed 1 run, " in out
    assert main(["runs", "--runs", str(tmp_path), "--remove", keys[0]]) == 2
    assert "is not stored" in capsys.readouterr().err
    partial = tmp_path / "0123456789abcdef"
    partial.mkdir()
    assert main(["runs", "--runs", str(tmp_path), "--older-than", "1"]) == 0
    assert "removed 0 runs stored more than 1 day ago" in capsys.readouterr().out
    assert main(["runs", "--runs", str(tmp_path), "--older-than", "0"]) == 0
    out = capsys.readouterr().out
    assert (
        "removed 2 runs" in out and "left alone, being written or left half-written: 0123456789abcdef" in out
    )
    assert partial.is_dir() and main(["runs", "--runs", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("no stored runs")
    for args, message in [
        (["--older-than", "-2"], "--older-than -2 is not allowed: give a number of days >= 0"),
        (["--remove", "nope"], "'nope' is not a run key"),
        (["--size", "--older-than", "3"], "not allowed with argument"),
    ]:
        assert main(["runs", "--runs", str(tmp_path), *args]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


def test_book_pdf_goes_to_the_driver(monkeypatch):
    import movierec.book.build as build

    calls = []
    monkeypatch.setattr(
        build, "build_book", lambda profile, edition, pdf: calls.append((profile, edition, pdf))
    )
    assert main(["book", "--profile", "lab", "--pdf"]) == 0
    assert main(["book", "--edition", "student"]) == 0
    assert calls == [("lab", "instructor", True), ("default", "student", False)]
