"""What should the embeddings fit? Each target's search on validation, and the comparison with EASE.

The cost can fit the seed's co-likes X, their cosine normalisation, or the ridge-whitened
co-occurrence K = offdiag(L^T (L L^T + lambda I)^-1 L) (:func:`movierec.cost.target_factor`).
By Woodbury, EASE's weights are B_ij = K_ij / (1 - K_jj), so a d-dimensional embedding of K
is EASE compressed to rank d, scored by dot product. For each target this module chooses the
Adam settings at the largest size on the validation likes (learning rate, initial std, the
ridge, and the scoring rule), then the size, then SGD's rate as a fraction of its stability
bound; it scores the chosen runs on the test likes beside the baselines with paired bootstrap
intervals, and shows what each target recommends.
Book page: "What should the embeddings fit?" (notebooks/08_targets.ipynb).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .cost import TARGETS, check_target, target_factor
from .data import DEFAULT_RELEASE
from .errors import ParameterError
from .evaluate import Scored, Split, embedding_scores, evaluate_embeddings, score_method, user_metrics
from .optimum import best_cost, stable_sgd_rate
from .recommend import SCORINGS, recommend
from .store import RunStore
from .study import sweep
from .tables import format_difference, format_lr
from .titles import TitleIndex
from .train import TrainConfig, TrainResult

TARGET_LABELS = {"colikes": "co-likes X", "cosine": "cosine-normalised X", "whitened": "whitened K"}
OPTIMIZER_LABELS = {"adam": "Adam", "sgd": "SGD"}
COMPARED_METRICS = ("NDCG", "Recall", "HR")
GAP_TOLERANCE = 0.005  # a test NDCG gap smaller than this counts as level, whatever its interval
DEFAULT_SCORING = {"colikes": "cosine", "cosine": "cosine", "whitened": "dot"}
#: What ``movierec recommend --target T`` trains when no run is named: the seed's default run for
#: colikes, and for the others the Adam setting the chapter chose on validation (default profile).
RECOMMENDED_RUNS: dict[str, dict[str, float | int]] = {
    "colikes": {},
    "cosine": {"lr": 0.03, "dim": 256, "init_std": 0.03},
    "whitened": {"lr": 0.003, "dim": 256, "init_std": 0.01},
}


def default_scoring(target: str) -> str:
    """The scoring rule that suits ``target``: the seed's cosine for X and its cosine
    normalisation, the dot product for the whitened K (its lengths carry the weights)."""
    if target not in DEFAULT_SCORING:
        raise ParameterError(f"target={target!r} is not allowed: target must be one of {', '.join(TARGETS)}")
    return DEFAULT_SCORING[target]


def default_run(
    target: str = "colikes", ridge: float | None = None, dataset: str = DEFAULT_RELEASE
) -> TrainConfig:
    """The run ``movierec recommend --target`` trains without ``--run`` (see :data:`RECOMMENDED_RUNS`);
    the whitened target needs its ``ridge``."""
    check_target(target, ridge)
    return TrainConfig(dataset=dataset, target=target, ridge=ridge, **RECOMMENDED_RUNS[target])


@dataclass(frozen=True)
class TargetSearch:
    """One target's choices on validation and the runs behind them.

    ``table`` has one row per run tried (stage ``settings``: Adam at the largest size;
    ``size``: the chosen settings at every size; ``sgd``: SGD at fractions of its bound) with
    validation NDCG under each scoring rule. ``sizes`` maps each size to its Adam run,
    ``adam`` and ``sgd`` are the chosen runs (``sgd`` None if every SGD run diverged),
    ``scoring`` the chosen rule and ``sgd_bound`` SGD's stability bound.
    """

    target: str
    table: pd.DataFrame
    sizes: dict[int, TrainResult]
    adam: TrainResult
    sgd: TrainResult | None
    scoring: str
    sgd_bound: float

    @property
    def label(self) -> str:
        """The target in words, as tables and figures name it."""
        return TARGET_LABELS[self.target]


def _ndcg_column(k: int, scoring: str) -> str:
    return f"val NDCG@{k} ({scoring})"


def _rows(
    results: Sequence[TrainResult], split: Split, stage: str, k: int, scorings: Sequence[str]
) -> list[dict]:
    rows = []
    for result in results:
        config = result.config
        row = {
            "target": config.target,
            "stage": stage,
            "optimizer": config.optimizer,
            "d": config.dim,
            "lr": config.lr,
            "init std": config.init_std,
            "ridge": math.nan if config.ridge is None else config.ridge,
            "status": result.status_text,
            "final cost": result.final_cost,
        }
        for scoring in SCORINGS:
            finished = result.status == "finished" and scoring in scorings
            row[_ndcg_column(k, scoring)] = (
                evaluate_embeddings(result.embeddings, split, "validation", k, scoring)["NDCG"]
                if finished
                else math.nan
            )
        rows.append(row)
    return rows


def _best(rows: list[dict], k: int, scorings: Sequence[str]) -> tuple[int, str] | None:
    """(row index, scoring) of the highest validation NDCG, None when every run diverged."""
    scored = [
        (row[_ndcg_column(k, scoring)], -index, scoring)
        for index, row in enumerate(rows)
        for scoring in scorings
        if not math.isnan(row[_ndcg_column(k, scoring)])
    ]
    if not scored:
        return None
    _, index, scoring = max(scored)
    return -index, scoring


def search_target(
    store: RunStore,
    split: Split,
    target: str,
    dims: Sequence[int],
    lrs: Sequence[float],
    init_stds: Sequence[float],
    ridges: Sequence[float] = (),
    sgd_fractions: Sequence[float] = (0.25,),
    epochs: int = 100,
    seed: int = 576,
    dataset: str = DEFAULT_RELEASE,
    device: str = "auto",
    k: int = 10,
) -> TargetSearch:
    """Choose ``target``'s settings on the validation likes, training only what ``store`` lacks.

    1. Adam at the largest of ``dims``, one setting at a time: every ridge (whitened only) at the
       first initial std and learning rate, then every initial std at the best run's other
       settings, then every learning rate likewise; each run is scored with both rules, and the
       run and rule with the best validation NDCG@k win.
    2. Those settings at every size in ``dims``; the best size wins (under that rule).
    3. SGD (momentum 0.9) at that size with learning rates ``sgd_fractions`` x the stability
       bound (:func:`movierec.optimum.stable_sgd_rate`, at the start and at the optimum), to
       3 significant digits.
    A run met twice is trained and scored once. Book page: "What should the embeddings fit?".
    """
    if target == "whitened" and not ridges:
        raise ParameterError("target_ridges is empty: the whitened target needs at least one ridge lambda")
    evaluated: dict[str, dict] = {}

    def run(configs: list[TrainConfig]) -> list[TrainResult]:
        return sweep(configs, split.train_likes, split.checksum, store, device, split.label)

    def scored(results: list[TrainResult], stage: str, scorings: Sequence[str] = SCORINGS) -> list[dict]:
        for result in results:
            if result.key not in evaluated:
                evaluated[result.key] = _rows([result], split, stage, k, scorings)[0]
        return [{**evaluated[result.key], "stage": stage} for result in results]

    current = {"ridge": ridges[0] if target == "whitened" else None, "init_std": init_stds[0], "lr": lrs[0]}
    settings: list[TrainResult] = []
    for name, values in (
        ("ridge", ridges if target == "whitened" else ()),
        ("init_std", init_stds),
        ("lr", lrs),
    ):
        known = {result.config for result in settings}
        configs = [
            TrainConfig(
                optimizer="adam",
                dim=max(dims),
                epochs=epochs,
                seed=seed,
                dataset=dataset,
                target=target,
                **{**current, name: value},
            )
            for value in values
        ]
        settings += run([config for config in dict.fromkeys(configs) if config not in known])
        best = _best(scored(settings, "settings"), k, SCORINGS)
        if best is not None:
            config = settings[best[0]].config
            current = {"ridge": config.ridge, "init_std": config.init_std, "lr": config.lr}
    rows = scored(settings, "settings")
    best = _best(rows, k, SCORINGS)
    if best is None:
        raise ParameterError(
            f"every Adam run of target {target} diverged: use smaller target_lrs[{target!r}] "
            f"or target_init_stds[{target!r}]"
        )
    index, scoring = best
    chosen = settings[index].config
    sized = run([replace(chosen, dim=dim) for dim in sorted(dims)])
    size_rows = scored(sized, "size")
    index, _ = _best(size_rows, k, [scoring])  # never None: the largest size is the chosen run
    adam = sized[index]
    bound = stable_sgd_rate(split.train, target, chosen.ridge, chosen.init_std)
    sgd_configs = [  # rates to 3 significant digits: readable, and the same run key every time
        replace(adam.config, optimizer="sgd", lr=float(f"{fraction * bound:.3g}"), momentum=None)
        for fraction in sorted(sgd_fractions, reverse=True)
    ]
    sgd_runs = run(sgd_configs)
    sgd_rows = scored(sgd_runs, "sgd", [scoring])
    sgd_best = _best(sgd_rows, k, [scoring])
    return TargetSearch(
        target=target,
        table=pd.DataFrame(rows + size_rows + sgd_rows),
        sizes={result.config.dim: result for result in sized},
        adam=adam,
        sgd=None if sgd_best is None else sgd_runs[sgd_best[0]],
        scoring=scoring,
        sgd_bound=bound,
    )


def check_search(
    dims: Sequence[int],
    lrs: Mapping[str, Sequence[float]],
    init_stds: Mapping[str, Sequence[float]],
    ridges: Sequence[float],
    sgd_fractions: Sequence[float],
    epochs: int = 100,
    dataset: str = DEFAULT_RELEASE,
) -> None:
    """A :class:`ParameterError` naming the first bad ``target_*`` value, before any data is read or
    run trained: unknown targets, targets missing from ``init_stds``, fractions <= 0, and every
    Adam setting the search could try (built, not trained). Book page: "What should the embeddings fit?"."""
    unknown = sorted(set(lrs) - set(TARGETS))
    if unknown:
        raise ParameterError(
            f"target_lrs names unknown target(s) {', '.join(unknown)}: targets are {', '.join(TARGETS)}"
        )
    if set(init_stds) != set(lrs):
        raise ParameterError(
            f"target_init_stds names {', '.join(sorted(init_stds))} but target_lrs names "
            f"{', '.join(sorted(lrs))}: give both the same targets"
        )
    if not all(fraction > 0 for fraction in sgd_fractions):
        raise ParameterError(
            f"target_sgd_fractions={list(sgd_fractions)!r} is not allowed: fractions of the bound must be > 0"
        )
    for target in lrs:
        for ridge in ridges if target == "whitened" else [None]:
            for std in init_stds[target]:
                for lr in lrs[target]:
                    for dim in dims:
                        TrainConfig(
                            lr=lr,
                            init_std=std,
                            dim=dim,
                            epochs=epochs,
                            dataset=dataset,
                            target=target,
                            ridge=ridge,
                        )


def search_targets(
    store: RunStore,
    split: Split,
    dims: Sequence[int],
    lrs: Mapping[str, Sequence[float]],
    init_stds: Mapping[str, Sequence[float]],
    ridges: Sequence[float],
    sgd_fractions: Sequence[float],
    epochs: int = 100,
    seed: int = 576,
    dataset: str = DEFAULT_RELEASE,
    device: str = "auto",
    k: int = 10,
) -> dict[str, TargetSearch]:
    """:func:`search_target` for every target named in ``lrs`` (``target_lrs``), in the order of
    :data:`movierec.cost.TARGETS`; ``init_stds`` must name the same targets. Every value is
    checked first (:func:`check_search`). Book page: "What should the embeddings fit?"."""
    check_search(dims, lrs, init_stds, ridges, sgd_fractions, epochs, dataset)
    return {
        target: search_target(
            store,
            split,
            target,
            dims,
            lrs[target],
            init_stds[target],
            ridges,
            sgd_fractions,
            epochs,
            seed,
            dataset,
            device,
            k,
        )
        for target in TARGETS
        if target in lrs
    }


def search_table(searches: Mapping[str, TargetSearch], stage: str) -> pd.DataFrame:
    """Every target's rows of one ``stage`` (``settings``, ``size`` or ``sgd``, which also gets
    each rate as a multiple of its bound), for a page: the stage column dropped, so are columns
    that are empty throughout (the ridge where no target has one) and an optimizer or status
    that is the same in every row, and each validation NDCG column is named by its rule alone
    (``NDCG, dot``). Book page: "What should the embeddings fit?"."""
    parts = []
    for search in searches.values():
        rows = search.table[search.table["stage"] == stage].drop(columns="stage")
        if stage == "sgd":
            rows.insert(rows.columns.get_loc("lr") + 1, "lr / bound", rows["lr"] / search.sgd_bound)
        parts.append(rows)
    table = pd.concat(parts, ignore_index=True)
    table["target"] = table["target"].map(TARGET_LABELS)
    empty = [column for column in table.columns if table[column].isna().all()]
    constant = [column for column in ("optimizer", "status") if table[column].nunique() == 1]
    table = table.drop(columns=empty + constant)
    rules = {
        column: column.rsplit("(", 1)[1].rstrip(")") for column in table if column.startswith("val NDCG")
    }
    if stage == "sgd":  # each SGD run is scored by its target's chosen rule only: one column, and the rule
        scores = table[list(rules)]
        table = table.drop(columns=list(rules))
        table["NDCG"] = scores.max(axis=1)
        table["rule"] = scores.notna().idxmax(axis=1).map(rules).where(table["NDCG"].notna())
        table = table[[*table.columns.drop(["rule", "NDCG"]), "rule", "NDCG"]]
        return table.reset_index(drop=True)
    return table.rename(columns={column: f"NDCG, {rule}" for column, rule in rules.items()}).reset_index(
        drop=True
    )


def size_curves(searches: Mapping[str, TargetSearch], k: int = 10) -> pd.DataFrame:
    """Validation NDCG@k of each target's chosen Adam settings at every size, under each scoring
    rule: columns target, d, scoring, NDCG (long, for :func:`movierec.plots.ndcg_by_size`)."""
    rows = []
    for search in searches.values():
        sized = search.table[search.table["stage"] == "size"]
        for scoring in SCORINGS:
            for d, ndcg in zip(sized["d"], sized[_ndcg_column(k, scoring)], strict=True):
                rows.append({"target": search.label, "d": int(d), "scoring": scoring, "NDCG": float(ndcg)})
    return pd.DataFrame(rows)


def chosen_ndcg(search: TargetSearch, scoring: str, k: int = 10) -> float:
    """Validation NDCG@k of the chosen Adam run under ``scoring`` (either rule, whichever was chosen)."""
    table = search.table
    row = table[(table["stage"] == "size") & (table["d"] == search.adam.config.dim)].iloc[0]
    return float(row[_ndcg_column(k, scoring)])


def setting_effect(search: TargetSearch, setting: str, k: int = 10) -> pd.DataFrame:
    """The best validation NDCG@k (chosen rule) of the settings runs at each value of ``setting``
    (a column of the search table: ``ridge``, ``init std`` or ``lr``), by value."""
    rows = search.table[search.table["stage"] == "settings"]
    best = rows.groupby(setting)[_ndcg_column(k, search.scoring)].max()
    return pd.DataFrame({setting: best.index.to_numpy(), "NDCG": best.to_numpy()})


def setting_text(config: TrainConfig, scoring: str) -> str:
    """A chosen run in a table: ``d=256, lr=0.003, std=0.01, ridge=300, dot``."""
    parts = [f"d={config.dim}", f"lr={format_lr(config.lr)}", f"std={config.init_std:g}"]
    if config.ridge is not None:
        parts.append(f"ridge={config.ridge:g}")
    return ", ".join([*parts, scoring])


def method_name(target: str, optimizer: str) -> str:
    """A chosen run's name in the comparison: ``whitened K (Adam)``."""
    return f"{TARGET_LABELS[target]} ({OPTIMIZER_LABELS.get(optimizer, optimizer)})"


def target_methods(searches: Mapping[str, TargetSearch], split: Split, k: int = 10) -> list[Scored]:
    """Each target's chosen Adam and SGD runs as methods, scored by the target's chosen rule.

    Book page: "What should the embeddings fit?".
    """
    methods = []
    for search in searches.values():
        for result in (search.adam, search.sgd):
            if result is None:
                continue
            methods.append(
                score_method(
                    method_name(search.target, result.config.optimizer),
                    setting_text(result.config, search.scoring),
                    embedding_scores(result.embeddings, split.train, search.scoring),
                    split,
                    k,
                )
            )
    return methods


def paired_differences(
    methods: Sequence[Scored],
    split: Split,
    reference: str = "EASE",
    k: int = 10,
    samples: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Each method's test NDCG, Recall and HR at k minus the ``reference`` method's, with a paired
    bootstrap 95% interval over the test users (one resample of users for every method and
    metric). Long: method, setting, metric, test, difference, 95% low, 95% high (no interval
    on the reference's own rows). Book page: "What should the embeddings fit?".
    """
    if samples < 100:
        raise ParameterError(f"samples={samples!r} is not allowed: use at least 100 bootstrap resamples")
    by_name = {method.method: method for method in methods}
    if reference not in by_name:
        raise ParameterError(
            f"reference={reference!r} is not among the methods: use one of {', '.join(by_name)}"
        )

    def per_user(method: Scored) -> dict[str, np.ndarray]:
        return user_metrics(method.ranked_test[:, :k], split.test)

    base = per_user(by_name[reference])
    users = len(base["NDCG"])
    draws = np.random.default_rng(seed).integers(0, users, size=(samples, users))
    rows = []
    for method in methods:
        values = per_user(method)
        for metric in COMPARED_METRICS:
            gap = values[metric] - base[metric]
            own = method.method == reference
            low, high = (math.nan, math.nan) if own else np.percentile(gap[draws].mean(axis=1), [2.5, 97.5])
            rows.append(
                {
                    "method": method.method,
                    "setting": method.setting,
                    "metric": metric,
                    "test": float(values[metric].mean()),
                    "difference": float(gap.mean()),
                    "95% low": float(low),
                    "95% high": float(high),
                }
            )
    return pd.DataFrame(rows)


def comparison_table(differences: pd.DataFrame, reference: str = "EASE", k: int = 10) -> pd.DataFrame:
    """:func:`paired_differences` for the page: a block of rows per metric, each method's test
    value, its difference to ``reference`` and the 95% interval in columns of their own (so
    the table fits the page); the methods in the order of their test NDCG in every block."""
    ndcg = differences[differences["metric"] == "NDCG"].sort_values("test", ascending=False, kind="stable")
    method_rank = {method: rank for rank, method in enumerate(ndcg["method"])}
    metric_rank = {metric: rank for rank, metric in enumerate(COMPARED_METRICS)}
    table = differences.sort_values(
        ["metric", "method"],
        key=lambda column: column.map(metric_rank if column.name == "metric" else method_rank),
        kind="stable",
    )
    return pd.DataFrame(
        {
            "metric": [f"{metric}@{k}" for metric in table["metric"]],
            "method": table["method"].to_numpy(),
            "test": table["test"].to_numpy(),
            f"minus {reference}": table["difference"].to_numpy(),
            "95% low": table["95% low"].to_numpy(),
            "95% high": table["95% high"].to_numpy(),
        }
    )


def list_popularity(methods: Sequence[Scored], split: Split, k: int = 10) -> pd.DataFrame:
    """How much each method's test lists lean on the most-liked films: the mean number of train
    likes of a listed movie, and the share of list slots filled by the 100 most-liked movies.
    Book page: "What should the embeddings fit?"."""
    likes = np.asarray(split.train.sum(axis=0)).ravel()
    top = set(np.argsort(-likes, kind="stable")[:100].tolist())
    rows = []
    for method in methods:
        listed = method.ranked_test[:, :k]
        listed = listed[listed >= 0]
        rows.append(
            {
                "method": method.method,
                "mean likes of a listed movie": float(likes[listed].mean()),
                "share from the 100 most-liked": float(np.isin(listed, list(top)).mean()),
            }
        )
    return pd.DataFrame(rows)


def target_lists(
    searches: Mapping[str, TargetSearch],
    movies: pd.DataFrame,
    titles: Sequence[str],
    top_n: int = 10,
    index: TitleIndex | None = None,
) -> dict[str, pd.DataFrame]:
    """Each target's chosen Adam run recommending for ``titles`` by its chosen rule, by target label.

    Book page: "What should the embeddings fit?".
    """
    index = index or TitleIndex(movies)
    return {
        search.label: recommend(search.adam.embeddings, movies, titles, top_n, index, search.scoring)
        for search in searches.values()
    }


def lists_likes(lists: Mapping[str, pd.DataFrame], split: Split, movie_ids: np.ndarray) -> dict[str, float]:
    """The mean number of train likes of the movies in each list (``movie_ids``: L's columns)."""
    likes = pd.Series(np.asarray(split.train.sum(axis=0)).ravel(), index=movie_ids)
    return {label: float(likes.loc[table["movieId"]].mean()) for label, table in lists.items()}


def optimum_gaps(searches: Mapping[str, TargetSearch], split: Split, dim: int) -> pd.DataFrame:
    """Each target's best cost at size ``dim`` (eigen-alternation, train likes) beside its chosen
    Adam settings' run at that size: how far above the optimum the run ended.
    Book page: "What should the embeddings fit?"."""
    rows = []
    for search in searches.values():
        if dim not in search.sizes:
            raise ParameterError(
                f"optimum_dim={dim} is not among target_dims ({', '.join(map(str, sorted(search.sizes)))}): "
                f"add it to target_dims"
            )
        run = search.sizes[dim]
        optimum = best_cost(split.train_likes, dim, target=search.target, ridge=run.config.ridge)
        rows.append(
            {
                "target": search.label,
                "d": dim,
                "||K||^2": optimum.x_norm2,
                "best cost": optimum.cost,
                "best / ||K||^2": optimum.fraction,
                "Adam final cost": run.final_cost,
                "% above optimum": 100 * (run.final_cost / optimum.cost - 1),
            }
        )
    return pd.DataFrame(rows)


def whitened_diagonal(split: Split, ridge: float) -> pd.DataFrame:
    """Per movie with train likes: its like count and K_jj, the diagonal of L^T (L L^T + lambda I)^-1 L
    that EASE divides by (B_ij = K_ij / (1 - K_jj)). Book page: "What should the embeddings fit?"."""
    factor = target_factor(split.train, "whitened", ridge)
    likes = np.asarray(split.train.sum(axis=0)).ravel()
    liked = likes > 0
    return pd.DataFrame({"likes": likes[liked].astype(np.int64), "K_jj": factor.diagonal[liked]})


def gap_verdict(differences: pd.DataFrame, method: str, tolerance: float = GAP_TOLERANCE) -> str:
    """``above``, ``level`` or ``below`` the reference of :func:`paired_differences`, by test NDCG:
    above when the whole interval is above 0, below when it is below 0 and the gap exceeds
    ``tolerance``, level otherwise."""
    row = differences[differences["metric"] == "NDCG"].set_index("method").loc[method]
    if row["95% low"] > 0:
        return "above"
    return "below" if row["95% high"] < 0 and row["difference"] < -tolerance else "level"


def gap_sentence(
    differences: pd.DataFrame,
    method: str,
    reference: str = "EASE",
    k: int = 10,
    tolerance: float = GAP_TOLERANCE,
) -> str:
    """One sentence, starting with ``method`` (capitalised), on its test NDCG@k against
    ``reference``'s (from :func:`paired_differences`): above, level with (the interval includes 0,
    or the gap is under ``tolerance``) or below. Book page: "What should the embeddings fit?"."""
    ndcg = differences[differences["metric"] == "NDCG"].set_index("method")
    row, base = ndcg.loc[method], ndcg.loc[reference]
    low, high, gap = row["95% low"], row["95% high"], row["difference"]
    verdict = {
        "above": f"above {reference}, with the whole interval above 0",
        "below": f"below {reference}, with the whole interval below 0",
        "level": f"level with {reference}: "
        + (
            "the interval includes 0"
            if high >= 0
            else f"the interval is below 0 but the gap is under {tolerance:g}"
        ),
    }[gap_verdict(differences, method, tolerance)]
    return (
        f"{method[:1].upper()}{method[1:]} reaches a test NDCG@{k} of {row['test']:.3f} against "
        f"{reference}'s {base['test']:.3f}, a difference of {format_difference(gap)} "
        f"(95% interval {format_difference(low)} to {format_difference(high)}): {verdict}."
    )


def lever_sentence(differences: pd.DataFrame, whitened: str, colikes: str, reference: str = "EASE") -> str:
    """Whether this build shows that the target is the lever: the whitened target's run reaching
    ``reference`` where the co-likes' run (same optimizer) does not; chosen by the two verdicts."""
    ours, seeds = gap_verdict(differences, whitened), gap_verdict(differences, colikes)
    if ours != "below" and seeds == "below":
        reached = "passes" if ours == "above" else "reaches"
        return f"The target is the lever: {whitened} {reached} {reference} and {colikes} does not."
    if ours == "below":
        return (
            f"At these settings even {whitened} stays below {reference}: this build cannot tell "
            "whether the target is the lever."
        )
    return f"Here {colikes} reaches {reference} too, so the target is not what separates them."


def popularity_sentence(
    popularity: pd.DataFrame, method: str, seed_method: str, reference: str = "EASE"
) -> str:
    """Whether ``method``'s lists lean less on the 100 most-liked movies than those of the seed's
    target (``seed_method``) and of ``reference`` (rows of :func:`list_popularity`), in one sentence
    (it follows "over every test user,")."""
    share = popularity.set_index("method")["share from the 100 most-liked"]
    own, seed, base = (round(100 * share[name]) for name in (method, seed_method, reference))  # as printed
    if own < seed and own < base:
        verdict = (
            f"whitening weakens the pull toward the most-liked films, below both {seed_method} "
            f"and {reference}"
        )
    elif own < seed:
        verdict = (
            f"whitening weakens the pull toward the most-liked films against {seed_method}, "
            f"but {reference}'s lists lean on them less"
        )
    elif own < base:
        verdict = (
            f"whitening does not remove the pull toward the most-liked films; its lists lean on them "
            f"{'as much as' if own == seed else 'more than'} those of {seed_method}, though less than "
            f"{reference}'s"
        )
    else:
        verdict = (
            f"whitening does not remove the pull toward the most-liked films; its lists lean on them "
            f"at least as much as those of both {seed_method} and {reference}"
        )
    return (
        f"{own}% of the list slots of {method} go to the 100 most-liked movies, "
        f"against {seed}% for {seed_method} and {base}% for {reference}: {verdict}."
    )


RULE_WORDS = {"cosine": "mean cosine", "dot": "the dot product"}


def scoring_sentence(searches: Mapping[str, TargetSearch], k: int = 10) -> str:
    """Which scoring rule each target chose, with both rules' validation NDCG@k at its chosen run."""
    parts = []
    for search in searches.values():
        other = next(rule for rule in SCORINGS if rule != search.scoring)
        parts.append(
            f"{search.label} scores best with {RULE_WORDS[search.scoring]} "
            f"({chosen_ndcg(search, search.scoring, k):.3f}, against {chosen_ndcg(search, other, k):.3f} "
            f"with {RULE_WORDS[other]})"
        )
    return f"On validation, at each target's chosen size, {'; '.join(parts)}."


def optimum_sentence(gaps: pd.DataFrame, close: float = 10.0) -> str:
    """Whether every target's Adam run ends within ``close`` percent of its own optimum
    (rows of :func:`optimum_gaps`), and what follows from it, in one sentence."""
    worst = gaps.loc[gaps["% above optimum"].idxmax()]
    if worst["% above optimum"] <= close:
        return (
            f"every target's Adam run ends at most {worst['% above optimum']:.1f}% above its own optimum "
            f"({worst['target']} the furthest): the optimizer reaches the optimum of whatever cost it is "
            "given, and the target decides whether that optimum recommends well"
        )
    return (
        f"the Adam runs end up to {worst['% above optimum']:.0f}% above their optimum ({worst['target']}): "
        "these runs are still far from the optimum of their cost, so their recommendations say little "
        "about what the target is worth"
    )
