"""Runs on disk: atomic round trip, checksums, reuse in sweeps, the listing."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import movierec.runs.study as study_module
from conftest import random_likes
from movierec.data import Likes
from movierec.errors import StoreError
from movierec.model.train import TrainConfig, train
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


def test_summary_table_columns(small_likes):
    results = [
        train(small_likes, epochs=2, dim=2),
        train(small_likes, optimizer="sgd", lr=1e6, epochs=30, dim=2),
    ]
    table = summary_table(results)
    assert list(table.columns) == ["optimizer", "lr", "final cost", "lowest cost", "status", "s/epoch"]
    assert table["status"].iloc[0] == "finished" and table["status"].iloc[1].startswith("diverged at epoch")


def test_store_table_lists_runs(tmp_path, small_likes):
    store = RunStore(tmp_path)
    store.save(train(small_likes, epochs=2, dim=2))
    assert store.table()["status"].tolist() == ["finished"]
