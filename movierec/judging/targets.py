"""What should the embeddings fit? Each target's search on validation, and the comparison with EASE.

The cost can fit the seed's co-likes X, their cosine normalisation, or the ridge-whitened
co-occurrence K = offdiag(L^T (L L^T + lambda I)^-1 L) (:func:`movierec.model.cost.target_factor`).
By Woodbury, EASE's weights are B_ij = K_ij / (1 - K_jj), so a d-dimensional embedding of K
is EASE compressed to rank d, scored by dot product. For each target this module chooses the
Adam settings at the largest size on the validation likes (learning rate, initial std, the
ridge, and the scoring rule), then the size, then SGD's rate as a fraction of its stability
bound; it scores the chosen runs on the test likes beside the baselines with paired bootstrap
intervals, shows what each target recommends, and how much each method's lists lean on the
most-liked movies.
Book page: "What should the embeddings fit?" (notebooks/08_targets.ipynb).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..data import DEFAULT_RELEASE, LIKE_THRESHOLD
from ..data.titles import TitleIndex
from ..errors import ParameterError
from ..model.cost import TARGETS, check_target, target_factor
from ..model.optimum import best_cost, stable_sgd_rate
from ..model.train import SGD_MOMENTUM, TrainConfig, TrainResult
from ..numbers import format_lr
from ..runs.cache import ResultCache
from ..runs.store import RunStore
from ..runs.study import HALVING, Halving, halve, sweep
from .evaluate import Scored, Split, embedding_scores, run_metrics, score_method, user_metrics
from .recommend import SCORINGS, recommend

TARGET_LABELS = {"colikes": "co-likes X", "cosine": "cosine-normalised X", "whitened": "whitened K"}
OPTIMIZER_LABELS = {"adam": "Adam", "sgd": "SGD"}
COMPARED_METRICS = ("NDCG", "Recall", "HR")
DEFAULT_SCORING = {"colikes": "cosine", "cosine": "cosine", "whitened": "dot"}
#: What ``movierec recommend --target T`` trains when no run is named: the seed's default run for
#: colikes, and for the others the Adam setting chapter 8's search chooses on validation under the
#: default profile (``tests/test_targets.py`` runs that search and fails when its choice moves).
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
    target: str = "colikes",
    ridge: float | None = None,
    dataset: str = DEFAULT_RELEASE,
    threshold: float = LIKE_THRESHOLD,
) -> TrainConfig:
    """The run ``movierec recommend --target`` trains without ``--run`` (see :data:`RECOMMENDED_RUNS`);
    the whitened target needs its ``ridge``."""
    check_target(target, ridge)
    return TrainConfig(
        dataset=dataset, threshold=threshold, target=target, ridge=ridge, **RECOMMENDED_RUNS[target]
    )


@dataclass(frozen=True)
class TargetSearch:
    """One target's choices on validation and the runs behind them.

    ``table`` has one row per run tried (stage ``settings``: Adam at the largest size;
    ``size``: the chosen settings at every size; ``sgd``: SGD at fractions of its bound) with
    validation NDCG under each scoring rule. ``sizes`` maps each size to its Adam run,
    ``adam`` and ``sgd`` are the chosen runs (``sgd`` None if every SGD run diverged),
    ``scoring`` the chosen rule and ``sgd_bound`` SGD's stability bound. ``epochs`` is the runs'
    full length and ``stopping`` the early-stopping rule of the settings stage (None: none); a
    run it stopped has a row with fewer ``epochs`` (:attr:`stopped`).
    """

    target: str
    table: pd.DataFrame
    sizes: dict[int, TrainResult]
    adam: TrainResult
    sgd: TrainResult | None
    scoring: str
    sgd_bound: float
    epochs: int = 0
    stopping: Halving | None = None

    @property
    def stopped(self) -> pd.DataFrame:
        """The settings runs stopped early: their rows of :attr:`table`."""
        rows = self.table[self.table["stage"] == "settings"]
        return rows[rows["epochs"] < self.epochs] if "epochs" in rows else rows.iloc[:0]

    @property
    def label(self) -> str:
        """The target in words, as tables and figures name it."""
        return TARGET_LABELS[self.target]


def ndcg_column(k: int, scoring: str) -> str:
    return f"val NDCG@{k} ({scoring})"


def _rows(
    results: Sequence[TrainResult],
    split: Split,
    stage: str,
    k: int,
    scorings: Sequence[str],
    cache: ResultCache | None = None,
) -> list[dict]:
    rows = []
    for result in results:
        config = result.config
        row = {
            "target": config.target,
            "stage": stage,
            "optimizer": config.optimizer,
            "d": config.dim,
            "epochs": config.epochs,
            "lr": config.lr,
            "init std": config.init_std,
            "ridge": math.nan if config.ridge is None else config.ridge,
            "status": result.status_text,
            "final cost": result.final_cost,
        }
        for scoring in SCORINGS:
            finished = result.status == "finished" and scoring in scorings
            row[ndcg_column(k, scoring)] = (
                run_metrics(result.key, result.embeddings, split, "validation", k, scoring, cache)["NDCG"]
                if finished
                else math.nan
            )
        rows.append(row)
    return rows


def _best(
    rows: list[dict], k: int, scorings: Sequence[str], epochs: int | None = None
) -> tuple[int, str] | None:
    """(row index, scoring) of the highest validation NDCG, None when every run diverged; with
    ``epochs``, among the runs of that many epochs only (a run stopped early is never chosen)."""
    scored = [
        (row[ndcg_column(k, scoring)], -index, scoring)
        for index, row in enumerate(rows)
        for scoring in scorings
        if not math.isnan(row[ndcg_column(k, scoring)]) and (epochs is None or row["epochs"] == epochs)
    ]
    if not scored:
        return None
    _, index, scoring = max(scored)
    return -index, scoring


class _Diverged(Exception):
    """A run compared by halving diverged before the check: it scores NaN."""


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
    stopping: Halving | None = HALVING,
    sgd_momentum: float = SGD_MOMENTUM,
) -> TargetSearch:
    """Choose ``target``'s settings on the validation likes, training only what ``store`` lacks.

    1. Adam at the largest of ``dims``, one setting at a time: every ridge (whitened only) at the
       first initial std and learning rate, then every initial std at the best run's other
       settings, then every learning rate likewise; each run is scored with both rules, and the
       run and rule with the best validation NDCG@k win.
    2. Those settings at every size in ``dims``; the best size wins (under that rule).
    3. SGD with momentum ``sgd_momentum`` (the book's ``sgd_momentum``; 0.9 by default) at that
       size with learning rates ``sgd_fractions`` x the stability bound
       (:func:`movierec.model.optimum.stable_sgd_rate`, at the start and at the optimum, for that
       momentum), to 3 significant digits.
    A run met twice is trained and scored once, and each run's validation NDCG is kept in the
    store's cache, so that a second search (or chapter) scores nothing again.

    With ``stopping`` (successive halving, :class:`movierec.runs.study.Halving`; None: every run
    runs all ``epochs``), a settings stage that compares at least two runs from the start (its
    new runs, and the best run so far when that won a halving itself) scores them on validation
    NDCG@k (the better rule) at the rule's checks (a quarter and half of the epochs) and lets only
    the better half go on; a run stopped there is stored as the run of that many epochs, keeps
    its row (with its epochs) and is never chosen. The chosen settings' runs at every size and
    the SGD runs always run all ``epochs``.
    Book page: "What should the embeddings fit?".
    """
    if target == "whitened" and not ridges:
        raise ParameterError("target_ridges is empty: the whitened target needs at least one ridge lambda")
    cache = ResultCache.beside(store)
    evaluated: dict[str, dict] = {}

    def run(configs: list[TrainConfig]) -> list[TrainResult]:
        return sweep(configs, split.train_likes, split.checksum, store, device, split.label)

    def scored(results: list[TrainResult], stage: str, scorings: Sequence[str] = SCORINGS) -> list[dict]:
        for result in results:
            if result.key not in evaluated:
                evaluated[result.key] = _rows([result], split, stage, k, scorings, cache)[0]
        return [{**evaluated[result.key], "stage": stage} for result in results]

    def check_score(config: TrainConfig, result_at: Callable[[], TrainResult]) -> float:
        """Validation NDCG@k (the better rule) of a run at a check; trained only when not cached."""
        held: list[TrainResult] = []

        def embeddings() -> np.ndarray:
            if not held:
                held.append(result_at())
            if held[0].status != "finished" or held[0].config != config:
                raise _Diverged
            return held[0].embeddings

        key = config.key(split.checksum)
        try:
            values = [
                run_metrics(key, embeddings, split, "validation", k, rule, cache)["NDCG"] for rule in SCORINGS
            ]
        except _Diverged:
            return math.nan
        return max(values)

    current = {"ridge": ridges[0] if target == "whitened" else None, "init_std": init_stds[0], "lr": lrs[0]}
    settings: list[TrainResult] = []
    halved_best: TrainConfig | None = None  # the best run so far, when it came out of a halving
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
                threshold=split.train_likes.threshold,
                target=target,
                **{**current, name: value},
            )
            for value in values
        ]
        new = [config for config in dict.fromkeys(configs) if config not in known]
        compared = [config for config in dict.fromkeys(configs) if config in new or config == halved_best]
        halved = stopping is not None and bool(new) and len(compared) >= 2
        if halved:
            ended = halve(
                compared,
                split.train_likes,
                split.checksum,
                store,
                check_score,
                stopping,
                complete=[config for config in compared if config not in new],
                device=device,
                data_label=split.label,
            )
            settings += [result for config, result in zip(compared, ended, strict=True) if config in new]
        else:
            settings += run(new)
        best = _best(scored(settings, "settings"), k, SCORINGS, epochs)
        if best is not None:
            config = settings[best[0]].config
            current = {"ridge": config.ridge, "init_std": config.init_std, "lr": config.lr}
            halved_best = config if halved and config in compared else None
    rows = scored(settings, "settings")
    best = _best(rows, k, SCORINGS, epochs)
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
    bound = stable_sgd_rate(split.train, target, chosen.ridge, chosen.init_std, sgd_momentum)
    sgd_configs = [  # rates to 3 significant digits: readable, and the same run key every time
        replace(adam.config, optimizer="sgd", lr=float(f"{fraction * bound:.3g}"), momentum=sgd_momentum)
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
        epochs=epochs,
        stopping=stopping,
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
    stopping: Halving | None = HALVING,
    sgd_momentum: float = SGD_MOMENTUM,
) -> dict[str, TargetSearch]:
    """:func:`search_target` for every target named in ``lrs`` (``target_lrs``), in the order of
    :data:`movierec.model.cost.TARGETS`; ``init_stds`` must name the same targets. Every value is
    checked first (:func:`check_search`); ``stopping`` is the settings stage's early-stopping
    rule (default: :data:`movierec.runs.study.HALVING`; None: none), ``sgd_momentum`` SGD's.
    Book page: "What should the embeddings fit?"."""
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
            stopping,
            sgd_momentum,
        )
        for target in TARGETS
        if target in lrs
    }


def size_curves(searches: Mapping[str, TargetSearch], k: int = 10) -> pd.DataFrame:
    """Validation NDCG@k of each target's chosen Adam settings at every size, under each scoring
    rule: columns target, d, scoring, NDCG (long: one line per target and rule in a figure)."""
    rows = []
    for search in searches.values():
        sized = search.table[search.table["stage"] == "size"]
        for scoring in SCORINGS:
            for d, ndcg in zip(sized["d"], sized[ndcg_column(k, scoring)], strict=True):
                rows.append({"target": search.label, "d": int(d), "scoring": scoring, "NDCG": float(ndcg)})
    return pd.DataFrame(rows)


def chosen_ndcg(search: TargetSearch, scoring: str, k: int = 10) -> float:
    """Validation NDCG@k of the chosen Adam run under ``scoring`` (either rule, whichever was chosen)."""
    table = search.table
    row = table[(table["stage"] == "size") & (table["d"] == search.adam.config.dim)].iloc[0]
    return float(row[ndcg_column(k, scoring)])


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


def optimum_gaps(searches: Mapping[str, TargetSearch], split: Split, dim: int) -> pd.DataFrame:
    """Each target's lowest cost found at size ``dim`` by the eigen-alternation
    (:func:`movierec.model.optimum.best_cost`, train likes: a fixed point of a descent, not a
    proven optimum) beside its chosen Adam settings' run at that size: how far above it the run
    ended. Book page: "What should the embeddings fit?"."""
    rows = []
    for search in searches.values():
        if dim not in search.sizes:
            raise ParameterError(
                f"optimum_dim={dim} is not among target_dims ({', '.join(map(str, sorted(search.sizes)))}): "
                f"add it to target_dims"
            )
        run = search.sizes[dim]
        lowest = best_cost(split.train_likes, dim, target=search.target, ridge=run.config.ridge)
        rows.append(
            {
                "target": search.label,
                "d": dim,
                "||K||^2": lowest.x_norm2,
                "lowest found": lowest.cost,
                "lowest found / ||K||^2": lowest.fraction,
                "Adam final cost": run.final_cost,
                "% above lowest found": 100 * (run.final_cost / lowest.cost - 1),
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
    """Each target's chosen Adam run recommending for ``titles`` by its chosen rule, by target
    label (:func:`movierec.judging.recommend.recommend`'s tables). Book page: "What should the
    embeddings fit?"."""
    index = index or TitleIndex(movies)
    return {
        search.label: recommend(search.adam.embeddings, movies, titles, top_n, index, search.scoring)
        for search in searches.values()
    }


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


def whitened_diagonal(split: Split, ridge: float) -> pd.DataFrame:
    """Per movie with train likes: its like count and K_jj, the diagonal of L^T (L L^T + lambda I)^-1 L
    that EASE divides by (B_ij = K_ij / (1 - K_jj)). Book page: "What should the embeddings fit?"."""
    factor = target_factor(split.train, "whitened", ridge)
    likes = np.asarray(split.train.sum(axis=0)).ravel()
    liked = likes > 0
    return pd.DataFrame({"likes": likes[liked].astype(np.int64), "K_jj": factor.diagonal[liked]})
