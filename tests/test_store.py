"""Runs on disk: atomic round trip, checksums, reuse in sweeps, the listing."""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import movierec.runs.study as study_module
from conftest import random_likes
from movierec.data import Likes
from movierec.errors import ParameterError, StoreError
from movierec.model.train import TrainConfig, TrainResult, train
from movierec.runs.store import RunStore
from movierec.runs.study import summary_table, sweep


@pytest.fixture
def small_likes() -> Likes:
    matrix = random_likes(30, 20, 0.3, seed=7)
    return Likes(matrix=matrix, user_ids=np.arange(30), movie_ids=np.arange(20))


def test_round_trip_keeps_everything(tmp_path, small_likes):
    result = train(small_likes, optimizer="sgd", lr=1e-3, epochs=4, dim=3, data_checksum="abc")
    store = RunStore(tmp_path)
    folder = store.save(result)
    assert sorted(p.name for p in folder.iterdir()) == ["embeddings.npy", "history.csv", "meta.json"]
    back = store.load(result.key)
    assert back.config == result.config and back.status == result.status
    np.testing.assert_array_equal(back.embeddings, result.embeddings)
    pd.testing.assert_frame_equal(back.history, result.history)
    assert store.find(result.config, "abc") is not None
    assert store.find(result.config, "other data") is None


def test_diverged_run_round_trips_with_its_epoch(tmp_path, small_likes):
    result = train(small_likes, optimizer="sgd", lr=1e6, epochs=20, dim=3)
    back = RunStore(tmp_path).load(RunStore(tmp_path).save(result).name)
    assert back.status == "diverged" and back.diverged_epoch == result.diverged_epoch


def test_damaged_embeddings_are_detected(tmp_path, small_likes):
    store = RunStore(tmp_path)
    result = train(small_likes, epochs=2, dim=2)
    folder = store.save(result)
    data = (folder / "embeddings.npy").read_bytes()
    (folder / "embeddings.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError, match="embeddings.npy does not match its checksum"):
        store.load(result.key)
    assert store.find(result.config, result.data_checksum) is None


def test_no_meta_means_not_stored(tmp_path, small_likes):
    store = RunStore(tmp_path)
    result = train(small_likes, epochs=2, dim=2)
    (store.save(result) / "meta.json").unlink()
    assert store.find(result.config, "") is None
    with pytest.raises(StoreError, match="not stored"):
        store.load(result.key)


def test_sweep_reuses_finished_runs_and_recomputes_damaged(tmp_path, small_likes, monkeypatch):
    store = RunStore(tmp_path)
    configs = [TrainConfig(optimizer="adam", lr=lr, epochs=3, dim=2) for lr in (0.1, 0.01)]
    first = sweep(configs, small_likes, "sum", store)
    calls = []
    real_train = study_module.train
    monkeypatch.setattr(study_module, "train", lambda *a, **k: calls.append(a) or real_train(*a, **k))
    again = sweep(configs, small_likes, "sum", store)
    assert calls == []
    np.testing.assert_array_equal(first[1].embeddings, again[1].embeddings)
    meta = json.loads((store.path(first[0].key) / "meta.json").read_text())
    meta["sha256"]["history.csv"] = "0" * 64
    (store.path(first[0].key) / "meta.json").write_text(json.dumps(meta))
    sweep(configs, small_likes, "sum", store)
    assert len(calls) == 1


def made_run(
    config: TrainConfig, costs: list[float], seconds: list[float], diverged: int | None
) -> TrainResult:
    """A run with the history given, as train() would return it."""
    history = pd.DataFrame({"epoch": np.arange(len(costs)), "cost": costs, "seconds": seconds})
    status = "finished" if diverged is None else "diverged"
    return TrainResult(config, history, np.zeros((2, 3), np.float32), status, diverged, "data", "cpu")


def test_summary_table_columns():
    """Every column of the table, worked out by hand for two runs of known history: a finished
    run whose last cost is not its lowest, and one that diverged at epoch 2 of 30."""
    finished = made_run(TrainConfig(lr=0.1, epochs=3, dim=2), [10.0, 4.0, 6.0, 5.0], [0, 1, 3, 6], None)
    diverged = made_run(
        TrainConfig(optimizer="sgd", lr=1e6, epochs=30, dim=2), [10.0, 2e4, math.inf], [0, 2, 3], 2
    )
    expected = pd.DataFrame(
        {
            "optimizer": ["adam", "sgd"],
            "lr": [0.1, 1e6],
            "final cost": [5.0, math.inf],
            "lowest cost": [4.0, 10.0],
            "status": ["finished", "diverged at epoch 2"],
            # epochs took 1, 2 and 3 s; the last interval (a cost without its step) is left out
            "s/epoch": [1.5, 2.0],
        }
    )
    pd.testing.assert_frame_equal(summary_table([finished, diverged]), expected)
    above = expected.assign(**{"% above lowest found": [25.0, math.nan]})  # 100 (5 - 4) / 4
    pd.testing.assert_frame_equal(summary_table([finished, diverged], lowest_found=4.0), above)


def test_store_table_lists_runs(tmp_path, small_likes):
    store = RunStore(tmp_path)
    store.save(train(small_likes, epochs=2, dim=2))
    assert store.table()["status"].tolist() == ["finished"]


def stored_runs(store: RunStore, likes: Likes, count: int) -> list[str]:
    configs = [TrainConfig(optimizer="adam", lr=0.1 / 2**number, epochs=2, dim=2) for number in range(count)]
    return [result.key for result in sweep(configs, likes, "data", store)]


def test_a_unique_start_of_a_key_names_its_run(tmp_path, small_likes):
    store = RunStore(tmp_path)
    keys = stored_runs(store, small_likes, 3)
    assert all(store.resolve_key(key[:n]) == key for key in keys for n in (12, 16))
    assert store.resolve_key(keys[0].upper()) == keys[0]
    missing = next(digit for digit in "0123456789abcdef" if not any(key.startswith(digit) for key in keys))
    with pytest.raises(StoreError, match=rf"no stored run's key starts with '{missing}' in .*movierec runs"):
        store.resolve_key(missing)
    with pytest.raises(StoreError, match="'not-a-key' is not a run key: keys are 16 hexadecimal digits"):
        store.resolve_key("not-a-key")


def test_an_ambiguous_start_lists_the_runs(tmp_path, small_likes):
    store = RunStore(tmp_path)
    keys = stored_runs(store, small_likes, 1)
    twin = keys[0][:6] + "0" * 10 if keys[0][6:] != "0" * 10 else keys[0][:6] + "1" * 10
    shutil.copytree(store.path(keys[0]), store.path(twin))
    with pytest.raises(StoreError, match=rf"'{keys[0][:6]}' is ambiguous: 2 stored runs start with it"):
        store.resolve_key(keys[0][:6])


def test_removal_is_atomic_and_never_touches_a_run_being_written(tmp_path, small_likes, monkeypatch):
    store = RunStore(tmp_path)
    first, second, third = stored_runs(store, small_likes, 3)
    half_written = store.path("0123456789abcdef")
    half_written.mkdir()
    (half_written / "embeddings.npy").write_bytes(b"partial")
    rewriting = store.path(third) / ".meta.json.k2j4.tmp"
    rewriting.write_text("{")
    assert store.being_written() == sorted(["0123456789abcdef", third])
    with pytest.raises(StoreError, match=f"run {third} is being written .*nothing was removed"):
        store.remove([first, third])
    with pytest.raises(StoreError, match="run 0123456789abcdef is being written"):
        store.remove(["0123456789abcdef"])
    with pytest.raises(StoreError, match="run 'fedcba9876543210' is not stored"):
        store.remove(["fedcba9876543210"])
    assert store.path(first).is_dir() and set(store.keys()) == {first, second, third}

    def killed_half_way(path, ignore_errors=False):
        (Path(path) / "embeddings.npy").unlink()
        raise KeyboardInterrupt

    monkeypatch.setattr(shutil, "rmtree", killed_half_way)
    with pytest.raises(KeyboardInterrupt):
        store.remove([first])
    monkeypatch.undo()
    assert first not in store.keys() and store.find(TrainConfig(lr=0.1, epochs=2, dim=2), "data") is None
    assert first not in store.table()["key"].tolist()
    assert store.remove([second]) == [second]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(["0123456789abcdef", third])


def test_runs_older_than_some_days_and_their_sizes(tmp_path, small_likes):
    store = RunStore(tmp_path)
    old, new = stored_runs(store, small_likes, 2)
    long_ago = time.time() - 40 * 86_400
    os.utime(store.path(old) / "meta.json", (long_ago, long_ago))
    assert store.older_than(30) == [old] and sorted(store.older_than(0)) == sorted([old, new])
    with pytest.raises(ParameterError, match="days=-1 is not allowed"):
        store.older_than(-1)
    files = list(store.path(new).iterdir())
    assert store.size(new) == sum(path.stat().st_size for path in files) > 0
    table = store.table(sizes=True)
    assert table["key"].tolist() == [new, old] and table["bytes"].tolist() == [
        store.size(new),
        store.size(old),
    ]
    assert table["stored"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d").all()
