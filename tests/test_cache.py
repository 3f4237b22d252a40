"""Computed once (issue #21): the held-out split, the tuned baselines and the runs' validation
scores stored beside the run store, keyed by what decides them; claims, so that two chapters
executed at once never compute the same thing twice; a killed write leaves no entry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import movierec.runs.study as study_module
from conftest import ROOT, random_likes
from movierec.data import Likes
from movierec.judging.baselines import BASELINES, tune_baselines
from movierec.judging.evaluate import run_metrics, split_likes, tuning_table
from movierec.model.train import TrainConfig
from movierec.runs import store as store_module
from movierec.runs.cache import ResultCache, compute_once, entry_key
from movierec.runs.store import Claim, RunStore
from movierec.runs.study import sweep

GRIDS = {"ease": {"lam": [10.0, 100.0]}, "als": {"factors": [4], "reg": [0.1, 1.0]}}


@pytest.fixture
def likes() -> Likes:
    matrix = random_likes(80, 60, 0.15, seed=4)
    return Likes(matrix=matrix, user_ids=np.arange(80), movie_ids=np.arange(60))


def count_fits(monkeypatch) -> dict[str, int]:
    """Count each baseline's fits (its tuning) from here on."""
    counts: dict[str, int] = {}
    for name, baseline in BASELINES.items():

        def fit(matrix, seed, name=name, original=baseline.fit):
            counts[name] = counts.get(name, 0) + 1
            return original(matrix, seed)

        monkeypatch.setitem(BASELINES, name, replace(baseline, fit=fit))
    return counts


def test_the_split_is_stored_once_and_read_back(tmp_path, likes, monkeypatch):
    store = RunStore(tmp_path / "runs")
    first = split_likes(likes, seed=3, data_checksum="data", store=store)
    assert len(ResultCache.beside(store).entries()) == 1
    monkeypatch.setattr(np.random, "default_rng", lambda *a: pytest.fail("split computed again"))
    again = split_likes(likes, seed=3, data_checksum="data", store=store)
    for a, b in ((first.train, again.train), (first.validation, again.validation), (first.test, again.test)):
        assert (a != b).nnz == 0
    assert again.checksum == first.checksum
    monkeypatch.undo()
    plain = split_likes(likes, seed=3, data_checksum="data")  # without a store: the same split
    assert (plain.test != first.test).nnz == 0
    split_likes(likes, seed=4, data_checksum="data", store=store)  # a changed key: computed, stored apart
    split_likes(likes, seed=3, held_out=0.2, data_checksum="data", store=store)
    split_likes(likes, seed=3, data_checksum="other data", store=store)
    assert len(ResultCache.beside(store).entries()) == 4
    split_likes(likes, seed=3, store=store)  # no data checksum: no key, nothing stored
    assert len(ResultCache.beside(store).entries()) == 4


def test_a_second_chapter_reads_the_stored_baselines(tmp_path, likes, monkeypatch):
    store = RunStore(tmp_path / "runs")
    split = split_likes(likes, seed=0, data_checksum="data", store=store)
    counts = count_fits(monkeypatch)
    tuning, scored = tune_baselines(split, GRIDS, k=5, store=store)  # chapter 6: all five
    assert counts == {name: 1 for name in BASELINES}
    for name, baseline in BASELINES.items():  # chapter 8 must not tune again
        monkeypatch.setitem(BASELINES, name, replace(baseline, fit=lambda *a: pytest.fail("tuned again")))
    again_tuning, again = tune_baselines(split, GRIDS, k=5, store=store, only=("ease", "als"))
    assert [m.method for m in again] == ["EASE", "ALS (implicit)"]
    for new, old in zip(again, scored[3:], strict=True):
        assert (new.method, new.setting, new.validation, new.test) == (
            old.method,
            old.setting,
            old.validation,
            old.test,
        )
        assert np.array_equal(new.test_ndcg, old.test_ndcg) and np.array_equal(
            new.ranked_test, old.ranked_test
        )
    assert again_tuning.equals(tuning.reset_index(drop=True))
    monkeypatch.undo()
    plain_tuning, plain = tune_baselines(split, GRIDS, k=5)  # without a store: the same numbers
    assert plain_tuning.equals(tuning) and [m.test for m in plain] == [m.test for m in scored]


def test_a_changed_key_tunes_again(tmp_path, likes, monkeypatch):
    store = RunStore(tmp_path / "runs")
    split = split_likes(likes, seed=0, data_checksum="data", store=store)
    tune_baselines(split, GRIDS, k=5, store=store, only=("ease",))
    counts = count_fits(monkeypatch)
    tune_baselines(split, {"ease": {"lam": [10.0, 30.0]}}, k=5, store=store, only=("ease",))  # grid
    tune_baselines(split, GRIDS, k=10, store=store, only=("ease",))  # list length
    tune_baselines(split, GRIDS, k=5, seed=1, store=store, only=("ease",))  # seed
    other = split_likes(likes, seed=1, data_checksum="data", store=store)  # split
    tune_baselines(other, GRIDS, k=5, store=store, only=("ease",))
    assert counts == {"ease": 4}
    tune_baselines(split, GRIDS, k=5, store=store, only=("ease",))
    assert counts == {"ease": 4}


def test_a_fresh_process_reads_the_stored_baselines(tmp_path, likes):
    store = RunStore(tmp_path / "runs")
    split = split_likes(likes, seed=0, data_checksum="data", store=store)
    _, scored = tune_baselines(split, GRIDS, k=5, store=store, only=("popularity", "ease"))
    np.save(tmp_path / "likes.npy", likes.matrix.toarray())
    script = f"""
import numpy as np, scipy.sparse as sp, json
from dataclasses import replace
from movierec.data import Likes
from movierec.judging import baselines
from movierec.judging.evaluate import split_likes
from movierec.runs.store import RunStore
for name, b in baselines.BASELINES.items():
    baselines.BASELINES[name] = replace(b, fit=lambda *a: (_ for _ in ()).throw(SystemExit("tuned again")))
matrix = sp.csr_matrix(np.load({str(tmp_path / "likes.npy")!r}).astype(np.float32))
likes = Likes(matrix=matrix, user_ids=np.arange(80), movie_ids=np.arange(60))
store = RunStore({str(store.root)!r})
split = split_likes(likes, seed=0, data_checksum="data", store=store)
_, scored = baselines.tune_baselines(split, {GRIDS!r}, k=5, store=store, only=("popularity", "ease"))
print(json.dumps([m.test for m in scored]))
"""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [m.test for m in scored]


def test_a_killed_write_leaves_no_entry(tmp_path, likes, monkeypatch):
    store = RunStore(tmp_path / "runs")
    cache = ResultCache.beside(store)
    real_replace = os.replace

    def killed(source, target):
        raise KeyboardInterrupt  # the build is killed between writing and the rename

    monkeypatch.setattr(store_module.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        split_likes(likes, seed=0, data_checksum="data", store=store)
    monkeypatch.setattr(store_module.os, "replace", real_replace)
    assert cache.entries() == [] and not list(cache.root.glob("*.tmp"))
    assert not list(cache.root.glob(".*.claim"))  # the claim went with it
    split_likes(likes, seed=0, data_checksum="data", store=store)
    assert len(cache.entries()) == 1
    entry = cache.entries()[0]
    entry.write_bytes(entry.read_bytes()[:100])  # damaged: read as missing, computed again
    split = split_likes(likes, seed=0, data_checksum="data", store=store)
    assert split.train.nnz + split.validation.nnz + split.test.nnz == likes.matrix.nnz
    assert cache.load("split", entry.stem.split("-", 1)[1]) is not None


def holder() -> subprocess.Popen:
    """A live process other than this one, to hold claims."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def hold(path: Path, process: subprocess.Popen) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    start = store_module._process_start(process.pid)
    host = store_module.socket.gethostname()
    path.write_text(json.dumps({"pid": process.pid, "start": start, "host": host, "time": time.time()}))


def test_claims_are_exclusive_and_stale_ones_are_taken_over(tmp_path):
    path = tmp_path / ".x.claim"
    claim = Claim.take(path)
    assert claim is not None and path.exists()
    claim.release()
    assert not path.exists()
    other = holder()
    try:
        hold(path, other)
        assert Claim.take(path) is None and store_module.held_elsewhere(path)
    finally:
        other.kill()
        other.wait()
    assert not store_module.held_elsewhere(path)  # its process is gone: stale
    with Claim.take(path) as taken:
        assert taken is not None and json.loads(path.read_text())["pid"] == os.getpid()
    assert not path.exists()


def test_an_entry_another_process_computes_is_waited_for(tmp_path, monkeypatch):
    cache = ResultCache(tmp_path / "cache")
    key = entry_key("thing", {"a": 1})
    other = holder()
    hold(cache.claim_path("thing", key), other)
    assert compute_once(cache, "thing", {"a": 1}, lambda: pytest.fail("computed twice"), wait=False) is None
    polls = []

    def sleep(seconds):  # the other process stores its result while this one waits
        polls.append(seconds)
        cache.save("thing", key, {"value": 7}, {"x": np.arange(3)})
        cache.claim_path("thing", key).unlink()

    monkeypatch.setattr(store_module.time, "sleep", sleep)
    try:
        header, arrays = compute_once(cache, "thing", {"a": 1}, lambda: pytest.fail("computed twice"))
    finally:
        other.kill()
        other.wait()
    assert header["value"] == 7 and arrays["x"].tolist() == [0, 1, 2] and len(polls) == 1


def test_a_run_another_process_trains_is_read_not_trained_again(tmp_path, likes, monkeypatch):
    store = RunStore(tmp_path / "runs")
    theirs = TrainConfig(lr=0.05, epochs=3, dim=2, init_std=0.1)
    ours = replace(theirs, lr=0.01)
    other = holder()
    hold(store.claim_path(theirs.key("data")), other)
    trained = []
    real_train = study_module.train

    def train_and_watch(likes_, config, **kwargs):
        trained.append(config)
        result = real_train(likes_, config, **kwargs)
        if config == ours:  # meanwhile, the other process stores its run and drops its claim
            store.save(real_train(likes.matrix, theirs, data_checksum="data", device="cpu", progress=None))
            store.claim_path(theirs.key("data")).unlink()
        return result

    monkeypatch.setattr(study_module, "train", train_and_watch)
    try:
        results = sweep([theirs, ours], likes, "data", store, "cpu")
    finally:
        other.kill()
        other.wait()
    assert trained == [ours]  # this sweep trained its own run first, then read the other's
    assert [result.config for result in results] == [theirs, ours]
    assert not list(store.root.glob(".*.claim"))


def test_a_run_whose_claimant_died_is_trained(tmp_path, likes):
    store = RunStore(tmp_path / "runs")
    config = TrainConfig(lr=0.05, epochs=3, dim=2, init_std=0.1)
    other = holder()
    hold(store.claim_path(config.key("data")), other)
    other.kill()
    other.wait()
    (result,) = sweep([config], likes, "data", store, "cpu")
    assert result.status == "finished" and store.find(config, "data") is not None


def test_validation_scores_are_kept_with_the_embeddings_digest(tmp_path, likes, monkeypatch):
    store = RunStore(tmp_path / "runs")
    split = split_likes(likes, seed=0, data_checksum="data", store=store)
    runs = sweep(
        [TrainConfig(lr=lr, epochs=5, dim=3, init_std=0.1) for lr in (0.05, 0.01)],
        split.train_likes,
        split.checksum,
        store,
        "cpu",
    )
    table = tuning_table(runs, split, k=5, store=store)
    import movierec.judging.evaluate as evaluate_module

    monkeypatch.setattr(evaluate_module, "evaluate_embeddings", lambda *a, **k: pytest.fail("scored again"))
    assert tuning_table(runs, split, k=5, store=store).equals(table)
    cache = ResultCache.beside(store)
    lazy = run_metrics(runs[0].key, lambda: pytest.fail("trained"), split, "validation", 5, "cosine", cache)
    assert lazy["NDCG"] == table["val NDCG@5"].iloc[0]
    monkeypatch.undo()
    changed = runs[0].embeddings + 1.0  # other embeddings under the same key: scored again
    again = run_metrics(runs[0].key, changed, split, "validation", 5, "cosine", cache)
    assert again == evaluate_module.evaluate_embeddings(changed, split, "validation", 5)
