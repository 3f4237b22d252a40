"""Targets: configuration, run keys, scoring rules, and the chapter's search and comparison."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

from conftest import random_likes
from movierec.book.cli import main
from movierec.book.tables import table as formatted
from movierec.book.targets import comparison_table, search_table, setting_effect
from movierec.data import Likes
from movierec.errors import ParameterError
from movierec.judging.evaluate import dot_scores, embedding_scores, split_likes
from movierec.judging.recommend import recommend
from movierec.judging.targets import (
    check_search,
    default_run,
    default_scoring,
    list_popularity,
    optimum_gaps,
    paired_differences,
    search_target,
    search_targets,
    size_curves,
    target_lists,
    target_methods,
    whitened_diagonal,
)
from movierec.model.cost import CoLikeCost, dense_cost, dense_target
from movierec.model.optimum import stable_sgd_rate
from movierec.model.train import TrainConfig, train
from movierec.numbers import MISSING
from movierec.runs.store import RunStore
from movierec.runs.study import HALVING, Halving


@pytest.mark.parametrize(
    "params,message",
    [
        ({"target": "ppmi"}, "target must be one of colikes, cosine, whitened"),
        ({"target": "whitened"}, 'ridge is required with target="whitened": pass ridge=lambda > 0'),
        ({"target": "whitened", "ridge": 0}, "ridge must be a positive, finite number"),
        ({"target": "whitened", "ridge": -5.0}, "ridge must be a positive, finite number"),
        ({"target": "whitened", "ridge": "300"}, "ridge must be a positive number"),
        ({"target": "whitened", "ridge": float("inf")}, "ridge must be a positive, finite number"),
        ({"ridge": 300.0}, "ridge=300.0 is not allowed with target='colikes'"),
        ({"target": "cosine", "ridge": 1.0}, "leave ridge unset \\(None\\) for cosine"),
    ],
)
def test_bad_targets_and_ridges_are_named(params, message):
    with pytest.raises(ParameterError, match=message):
        TrainConfig(**params)


def test_default_target_keeps_the_run_keys_of_stored_runs():
    # Keys computed before targets existed (movierec 0.2, commit 9e6d5e0).
    assert TrainConfig().key("abc") == "1ce3e347392997e2"
    assert TrainConfig(optimizer="sgd", lr=1e-5, dim=32).key("x") == "d733319c213b2950"
    assert TrainConfig(target="colikes").key("abc") == "1ce3e347392997e2"
    whitened = TrainConfig(target="whitened", ridge=300)
    assert whitened.ridge == 300.0 and isinstance(whitened.ridge, float)
    assert whitened.key("abc") != TrainConfig(target="whitened", ridge=100.0).key("abc")
    assert TrainConfig(target="cosine").key("abc") != TrainConfig().key("abc")
    assert whitened.label == "adam lr=0.5 whitened ridge=300"
    assert TrainConfig.from_dict({"target": "cosine"}).target == "cosine"


@pytest.mark.parametrize("target,ridge", [("cosine", None), ("whitened", 2.0)])
def test_training_fits_the_chosen_target(target, ridge):
    matrix = random_likes(50, 40, 0.2, seed=1)
    result = train(
        matrix, optimizer="adam", lr=0.02, epochs=60, dim=4, init_std=0.05, target=target, ridge=ridge
    )
    K = torch.tensor(dense_target(matrix, target, ridge))
    V = torch.from_numpy(result.embeddings).double()
    assert result.final_cost == pytest.approx(float(dense_cost(V, K)), rel=1e-4)
    zero = CoLikeCost(matrix, target=target, ridge=ridge).x_norm2  # the cost of V = 0
    assert result.final_cost < 0.8 * zero


def test_a_cost_for_another_target_is_refused():
    matrix = random_likes(30, 20, 0.3, seed=2)
    with pytest.raises(ParameterError, match="cost is built for target='colikes'.*asks for target='cosine'"):
        train(matrix, epochs=2, dim=3, init_std=0.05, lr=0.01, target="cosine", cost=CoLikeCost(matrix))
    result = train(matrix, epochs=2, dim=3, init_std=0.05, lr=0.01, target="cosine", device="cpu")
    first = CoLikeCost(matrix, target="cosine").value(
        torch.normal(0.0, 0.05, size=(3, 20), generator=torch.Generator().manual_seed(576))
    )
    assert result.history["cost"].iloc[0] == pytest.approx(first, rel=1e-6)


def tiny_movies(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "movieId": np.arange(1, n + 1, dtype="int32"),
            "title": [f"Movie {i} (2000)" for i in range(1, n + 1)],
            "genres": ["Drama"] * n,
        }
    )


def test_dot_scoring_sums_the_inputs_vectors():
    rng = np.random.default_rng(0)
    embeddings = rng.standard_normal((3, 6))
    embeddings[:, 0] *= 10  # a long vector: cosine ignores its length, dot does not
    movies = tiny_movies(6)
    dot = recommend(embeddings, movies, ["Movie 2 (2000)", "Movie 3 (2000)"], top_n=4, scoring="dot")
    expected = embeddings[:, [1, 2]].sum(axis=1) @ embeddings
    order = [j for j in np.argsort(-expected, kind="stable") if j not in (1, 2)][:4]
    assert list(dot["movieId"]) == [j + 1 for j in order]
    np.testing.assert_allclose(dot["score"], expected[order])
    cosine = recommend(embeddings, movies, ["Movie 2 (2000)", "Movie 3 (2000)"], top_n=4)
    assert cosine["score"].abs().max() <= 1 + 1e-12
    with pytest.raises(ParameterError, match="scoring must be one of cosine, dot"):
        recommend(embeddings, movies, ["Movie 2 (2000)"], scoring="euclid")


def test_dot_scores_for_every_user_match_the_single_user_rule():
    rng = np.random.default_rng(1)
    embeddings = rng.standard_normal((4, 9))
    inputs = sp.csr_matrix(random_likes(5, 9, 0.3, seed=3))
    scores = dot_scores(embeddings, inputs)
    np.testing.assert_allclose(scores, inputs.toarray() @ embeddings.T @ embeddings)
    np.testing.assert_array_equal(embedding_scores(embeddings, inputs, "dot"), scores)
    with pytest.raises(ParameterError, match="scoring"):
        embedding_scores(embeddings, inputs, "pearson")


@pytest.fixture(scope="module")
def small_split():
    """A seeded split of 120 users x 60 movies with a popularity gradient."""
    rng = np.random.default_rng(0)
    popularity = np.linspace(0.5, 0.05, 60)
    dense = (rng.random((120, 60)) < popularity).astype(np.float32)
    likes = Likes(sp.csr_matrix(dense), np.arange(1, 121), np.arange(1, 61))
    return split_likes(likes, seed=0, data_checksum="small")


@pytest.fixture(scope="module")
def searches(small_split, tmp_path_factory):
    store = RunStore(tmp_path_factory.mktemp("runs"))
    return store, search_targets(
        store,
        small_split,
        dims=[2, 4],
        lrs={"colikes": [0.1], "cosine": [0.05], "whitened": [0.05, 0.01]},
        init_stds={"colikes": [0.3], "cosine": [0.1], "whitened": [0.05]},
        ridges=[5.0, 20.0],
        sgd_fractions=[100.0, 0.25],
        epochs=15,
        dataset="ml-latest-small",
        device="cpu",
        k=5,
    )


def test_search_chooses_on_validation_in_three_stages(searches):
    _, found = searches
    assert list(found) == ["colikes", "cosine", "whitened"]
    whitened = found["whitened"]
    stages = whitened.table.groupby("stage").size().to_dict()
    # one setting at a time at d = 4: 2 ridges at the first lr, then the second lr; 2 sizes; 2 rates
    assert stages == {"settings": 3, "size": 2, "sgd": 2}
    settings = whitened.table[whitened.table["stage"] == "settings"]
    best = settings[["val NDCG@5 (cosine)", "val NDCG@5 (dot)"]].max().max()
    assert best == pytest.approx(
        settings[f"val NDCG@5 ({whitened.scoring})"].max()
    )  # the rule and run with the best validation NDCG
    assert set(whitened.sizes) == {2, 4} and whitened.adam.config.optimizer == "adam"
    assert whitened.adam.config.ridge in (5.0, 20.0)
    assert settings["ridge"].tolist()[:2] == [5.0, 20.0] and settings["lr"].tolist() == [0.05, 0.05, 0.01]
    assert (
        settings["ridge"].iloc[2]
        == settings.loc[settings.index[:2], "ridge"].iloc[
            int(np.argmax(settings[f"val NDCG@5 ({whitened.scoring})"].iloc[:2]))
        ]
    )  # the second learning rate is tried at the better ridge
    effect = setting_effect(whitened, "ridge", k=5)
    assert effect["ridge"].tolist() == [5.0, 20.0] and effect["NDCG"].max() == pytest.approx(best)
    assert list(effect.columns) == ["ridge", "NDCG", "epochs"]
    sgd = whitened.table[whitened.table["stage"] == "sgd"]
    assert sgd["lr"].tolist() == pytest.approx(
        [100 * whitened.sgd_bound, 0.25 * whitened.sgd_bound], rel=1e-2
    )
    assert sgd["status"].iloc[0].startswith("diverged")  # 100 x the bound blows up, and is never chosen
    assert whitened.sgd is not None and whitened.sgd.config.lr == pytest.approx(
        0.25 * whitened.sgd_bound, rel=1e-2
    )
    assert search_table(found, "settings")["target"].tolist().count("whitened K") == 3
    assert "ridge" not in search_table({"cosine": found["cosine"]}, "settings").columns
    sgd_table = search_table({"whitened": whitened}, "sgd")
    assert list(sgd_table.columns[-2:]) == ["rule", "NDCG"]
    assert (
        set(sgd_table["rule"].dropna()) <= {"cosine", "dot"} and sgd_table["rule"].isna().sum() == 1
    )  # diverged
    assert "NDCG, dot" in search_table(found, "settings").columns
    curves = size_curves(found, k=5)
    assert set(curves["scoring"]) == {"cosine", "dot"} and len(curves) == 3 * 2 * 2
    assert all(
        list(rows["d"]) == [2, 4] for _, rows in curves.groupby(["target", "scoring"])
    )  # sorted: lines


def test_a_second_search_trains_nothing(searches, small_split, monkeypatch):
    store, _ = searches
    import movierec.runs.study

    monkeypatch.setattr(movierec.runs.study, "train", lambda *a, **k: pytest.fail("retrained a stored run"))
    again = search_target(
        store,
        small_split,
        "cosine",
        [2, 4],
        [0.05],
        [0.1],
        (),
        [100.0, 0.25],
        15,
        dataset="ml-latest-small",
        k=5,
    )
    assert again.adam.key in {run.key for run in searches[1]["cosine"].sizes.values()}


def test_comparison_with_a_reference_and_paired_intervals(searches, small_split):
    _, found = searches
    methods = target_methods(found, small_split, k=5)
    names = [method.method for method in methods]
    assert "whitened K (Adam)" in names and "co-likes X (SGD)" in names
    twin = replace(methods[0], method="twin")
    differences = paired_differences(
        [*methods, twin], small_split, reference=methods[0].method, k=5, samples=300
    )
    own = differences[differences["method"] == methods[0].method]
    assert (own["difference"] == 0).all() and own["95% low"].isna().all()
    same = differences[differences["method"] == "twin"]
    assert (same["difference"] == 0).all() and (same["95% low"] == 0).all() and (same["95% high"] == 0).all()
    other = differences[(differences["method"] == names[-1]) & (differences["metric"] == "NDCG")].iloc[0]
    assert other["95% low"] <= other["difference"] <= other["95% high"]
    assert other["test"] == pytest.approx(methods[-1].test["NDCG"])
    table = comparison_table(differences, methods[0].method, k=5)
    assert list(table.columns) == [
        "metric",
        "method",
        "test",
        f"minus {methods[0].method}",
        "95% low",
        "95% high",
    ]
    assert list(table["metric"].unique()) == ["NDCG@5", "Recall@5", "HR@5"]
    ndcg = table[table["metric"] == "NDCG@5"]
    assert ndcg["test"].is_monotonic_decreasing and len(ndcg) == len(methods) + 1
    assert (table.groupby("metric", sort=False)["method"].apply(list).map(tuple).nunique()) == 1
    cells = formatted(table).cells
    own_row = cells[cells["method"] == methods[0].method].iloc[0]
    assert own_row[f"minus {methods[0].method}"] == "0.000" and own_row["95% low"] == MISSING
    assert all(re.fullmatch(r"[+-]\d\.\d{3}|0\.000", text) for text in cells[f"minus {methods[0].method}"])
    with pytest.raises(ParameterError, match="reference='EASE' is not among the methods"):
        paired_differences(methods, small_split, k=5)
    popularity = list_popularity(methods, small_split, k=5)
    assert popularity["share from the 100 most-liked"].between(0, 1).all()


def test_lists_optimum_and_the_whitened_diagonal(searches, small_split):
    _, found = searches
    movies = tiny_movies(60)
    lists = target_lists(found, movies, ["Movie 1 (2000)", "Movie 2 (2000)"], top_n=3)
    assert set(lists) == {"co-likes X", "cosine-normalised X", "whitened K"}
    assert all(len(table) == 3 for table in lists.values())
    gaps = optimum_gaps(found, small_split, 2)
    assert list(gaps.columns) == [
        "target",
        "d",
        "||K||^2",
        "lowest found",
        "lowest found / ||K||^2",
        "Adam final cost",
        "% above lowest found",
    ]
    assert (gaps["lowest found"] <= gaps["Adam final cost"] * (1 + 1e-6)).all()
    assert gaps["% above lowest found"].to_numpy() == pytest.approx(
        100 * (gaps["Adam final cost"] / gaps["lowest found"] - 1).to_numpy()
    )
    with pytest.raises(ParameterError, match="optimum_dim=3 is not among target_dims"):
        optimum_gaps(found, small_split, 3)
    diagonal = whitened_diagonal(small_split, 20.0)
    assert diagonal["K_jj"].between(0, 1).all()
    assert diagonal["K_jj"].corr(diagonal["likes"], method="spearman") > 0.9


def test_search_parameters_are_checked(small_split, tmp_path):
    store = RunStore(tmp_path)
    common = {"dims": [2], "ridges": [5.0], "sgd_fractions": [0.5], "epochs": 2, "k": 5}
    with pytest.raises(ParameterError, match="unknown target\\(s\\) ppmi"):
        search_targets(store, small_split, lrs={"ppmi": [0.1]}, init_stds={"ppmi": [0.1]}, **common)
    with pytest.raises(ParameterError, match="give both the same targets"):
        search_targets(store, small_split, lrs={"cosine": [0.1]}, init_stds={"colikes": [0.1]}, **common)
    with pytest.raises(ParameterError, match="fractions of the bound must be > 0"):
        search_targets(
            store,
            small_split,
            lrs={"cosine": [0.1]},
            init_stds={"cosine": [0.1]},
            **{**common, "sgd_fractions": [0]},
        )
    with pytest.raises(ParameterError, match="ridge=-1.0 is not allowed"):
        check_search([4], {"whitened": [0.1]}, {"whitened": [0.1]}, [-1.0], [0.5])
    with pytest.raises(ParameterError, match="lr=0 is not allowed"):
        check_search([4], {"cosine": [0]}, {"cosine": [0.1]}, [], [0.5])
    with pytest.raises(ParameterError, match="dim=0 is not allowed"):
        check_search([0, 4], {"cosine": [0.1]}, {"cosine": [0.1]}, [], [0.5])
    with pytest.raises(ParameterError, match="target_ridges is empty"):
        search_target(store, small_split, "whitened", [2], [0.1], [0.1], [], [0.5], 2, k=5)
    with pytest.raises(ParameterError, match="every Adam run of target colikes diverged"):
        search_target(store, small_split, "colikes", [2], [1e6], [10.0], (), [0.5], 3, k=5)


def test_default_runs_and_scoring_rules():
    assert default_run() == TrainConfig()
    assert default_run("whitened", 300.0).target == "whitened"
    assert default_scoring("whitened") == "dot" and default_scoring("colikes") == "cosine"
    with pytest.raises(ParameterError, match='ridge is required with target="whitened"'):
        default_run("whitened")
    with pytest.raises(ParameterError, match="target must be one of"):
        default_scoring("ppmi")


@pytest.mark.integration
def test_cli_train_and_recommend_with_targets(tmp_path, capsys, archive):
    runs = str(tmp_path / "runs")
    options = ["--data", str(archive), "--runs", runs, "--device", "cpu"]
    assert (
        main(
            [
                "train",
                "--target",
                "whitened",
                "--ridge",
                "300",
                "--dim",
                "8",
                "--epochs",
                "3",
                "--lr",
                "0.003",
                "--init-std",
                "0.01",
                *options,
            ]
        )
        == 0
    )
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "adam lr=0.003 whitened ridge=300, d=8, finished" in line
    key = line.split()[1].rstrip(":")
    assert main(["recommend", "Toy Story (1995)", "--run", key, "--top-n", "3", *options]) == 0
    assert "dot scoring" in capsys.readouterr().out.splitlines()[1]
    assert main(["recommend", "Toy Story (1995)", "--run", key, "--scoring", "cosine", *options]) == 0
    assert "cosine scoring" in capsys.readouterr().out.splitlines()[1]
    assert main(["train", "--target", "whitened", *options]) == 2
    assert 'ridge is required with target="whitened"' in capsys.readouterr().err
    assert main(["recommend", "Toy Story (1995)", "--run", key, "--target", "cosine", *options]) == 2
    assert "drop them with --run" in capsys.readouterr().err
    assert main(["recommend", "Toy Story (1995)", "--scoring", "euclid", *options]) == 2


def test_sgd_follows_the_momentum_it_is_given(small_split, tmp_path):
    """SGD's bound is the heavy ball's 2 (1 + beta) / h for the momentum given; the default, 0.9,
    keeps the rates (and so the run keys) of searches made before the momentum was a setting."""
    store = RunStore(tmp_path)
    common = dict(dims=[4], lrs=[0.05], init_stds=[0.05], sgd_fractions=[0.25], epochs=4, k=5)
    common |= dict(dataset="ml-latest-small", device="cpu", stopping=None)
    default = search_target(store, small_split, "cosine", **common)
    bound = stable_sgd_rate(small_split.train, "cosine", None, 0.05)
    assert default.sgd_bound == bound and default.sgd.config.momentum == 0.9
    assert default.sgd.config.lr == float(f"{0.25 * bound:.3g}")
    assert default.sgd.config == replace(default.adam.config, optimizer="sgd", lr=default.sgd.config.lr)
    slower = search_target(store, small_split, "cosine", sgd_momentum=0.5, **common)
    assert slower.sgd_bound == pytest.approx(bound * 1.5 / 1.9)
    assert slower.sgd.config.momentum == 0.5 and slower.adam.key == default.adam.key


def test_halving_stops_only_settings_runs_that_lose_and_a_rerun_trains_nothing(
    searches, small_split, monkeypatch
):
    store, found = searches
    whitened = found["whitened"]
    stopped = whitened.stopped
    assert len(stopped) >= 1 and set(stopped["epochs"]) <= set(HALVING.check_epochs(15))
    assert whitened.stopping == HALVING and whitened.epochs == 15
    for search in found.values():  # the chosen runs at every size and the SGD runs are complete
        assert search.adam.config.epochs == 15 and all(
            run.config.epochs == 15 for run in search.sizes.values()
        )
        assert search.sgd is None or search.sgd.config.epochs == 15
        assert len(search.table[(search.table["stage"] != "settings") & (search.table["epochs"] < 15)]) == 0
    for _, row in stopped.iterrows():  # a stopped run is stored as the shorter run, exactly
        config = TrainConfig(
            optimizer="adam",
            lr=row["lr"],
            epochs=int(row["epochs"]),
            dim=int(row["d"]),
            init_std=row["init std"],
            dataset="ml-latest-small",
            target="whitened",
            ridge=row["ridge"],
        )
        kept = store.find(config, small_split.checksum)
        fresh = train(small_split.train_likes, config, device="cpu", progress=None)
        assert kept is not None and np.array_equal(kept.embeddings, fresh.embeddings)
        assert kept.final_cost == pytest.approx(row["final cost"], rel=0, abs=0)
    assert "epochs" in search_table(found, "settings").columns
    assert "epochs" not in search_table(found, "size").columns  # complete throughout: the column goes
    assert HALVING.check_epochs(15) == [4, 8]
    assert all(search.stopped.empty for name, search in found.items() if name != "whitened")

    import movierec.runs.study
    from movierec.judging import evaluate

    monkeypatch.setattr(movierec.runs.study, "train", lambda *a, **k: pytest.fail("retrained a stored run"))
    monkeypatch.setattr(movierec.runs.study, "Training", lambda *a, **k: pytest.fail("trained to a check"))
    monkeypatch.setattr(evaluate, "evaluate_embeddings", lambda *a, **k: pytest.fail("scored again"))
    again = search_target(
        store,
        small_split,
        "whitened",
        [2, 4],
        [0.05, 0.01],
        [0.05],
        [5.0, 20.0],
        [100.0, 0.25],
        15,
        dataset="ml-latest-small",
        k=5,
    )
    assert again.table.equals(whitened.table) and again.adam.key == whitened.adam.key


def test_without_stopping_every_run_is_complete(small_split, tmp_path):
    found = search_targets(
        RunStore(tmp_path),
        small_split,
        dims=[4],
        lrs={"whitened": [0.05]},
        init_stds={"whitened": [0.05]},
        ridges=[5.0, 20.0],
        sgd_fractions=[0.25],
        epochs=15,
        dataset="ml-latest-small",
        device="cpu",
        k=5,
        stopping=None,
    )
    assert found["whitened"].stopped.empty and (found["whitened"].table["epochs"] == 15).all()
    assert "epochs" not in search_table(found, "settings").columns
    assert HALVING.check_epochs(100) == [25, 50] and HALVING.survivors(3) == 2 and HALVING.survivors(1) == 1
    with pytest.raises(ParameterError, match="checks must be fractions"):
        Halving(checks=(0.5, 1.0))


def test_setting_effects_give_the_epochs_of_each_values_best_run(searches):
    _, found = searches
    whitened = found["whitened"]
    effect = setting_effect(whitened, "ridge", k=5)
    assert (effect["epochs"] < 15).any()  # a ridge whose only run halving stopped
    chosen = effect.set_index("ridge").loc[whitened.adam.config.ridge]
    assert chosen["epochs"] == 15  # the chosen settings' run is complete
    settings = whitened.table[whitened.table["stage"] == "settings"]
    column = f"val NDCG@5 ({whitened.scoring})"
    for ridge, ndcg, epochs in effect.itertuples(index=False):
        rows = settings[settings["ridge"] == ridge]
        assert ndcg == pytest.approx(rows[column].max())
        assert epochs == int(rows.loc[rows[column].idxmax(), "epochs"])


@pytest.mark.slow
@pytest.mark.integration
def test_recommended_runs_are_what_the_published_search_chooses(movielens, likes, tmp_path):
    """``movierec recommend --target`` trains RECOMMENDED_RUNS' settings: they must be those the
    default profile's search chooses on validation (chapter 8), so a change to the search that
    moves its choice fails here instead of leaving the command behind."""
    import yaml

    from conftest import ROOT
    from movierec.book.profiles import defaults, validate_parameters
    from movierec.judging.targets import RECOMMENDED_RUNS, search_targets

    published = {
        **defaults(),
        **validate_parameters(yaml.safe_load((ROOT / "book/profiles/default.yml").read_text())),
    }
    split = split_likes(likes, seed=published["split_seed"], data_checksum=movielens.checksum)
    searches = search_targets(
        RunStore(tmp_path),
        split,
        published["target_dims"],
        published["target_lrs"],
        published["target_init_stds"],
        published["target_ridges"],
        published["target_sgd_fractions"],
        epochs=published["epochs"],
        seed=published["seed"],
        device="cpu",
        k=published["eval_k"],
    )
    for target in ("cosine", "whitened"):
        chosen = searches[target].adam.config
        assert RECOMMENDED_RUNS[target] == {"lr": chosen.lr, "dim": chosen.dim, "init_std": chosen.init_std}
