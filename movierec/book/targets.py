"""What chapter 8 tabulates and says about the targets: the search's tables, the comparison
with the baselines, the lists side by side, their popularity shares, and the sentences chosen
by those numbers. What a target is and how it is searched is :mod:`movierec.judging.targets`.

Book page: "What should the embeddings fit?".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..data.titles import TitleIndex
from ..judging.evaluate import Scored, Split
from ..judging.recommend import SCORINGS, recommend
from ..judging.targets import COMPARED_METRICS, TARGET_LABELS, TargetSearch, chosen_ndcg, ndcg_column
from ..numbers import format_difference, format_lr
from .pages import words

GAP_TOLERANCE = 0.005  # a test NDCG gap smaller than this counts as level, whatever its interval
RULE_WORDS = {"cosine": "mean cosine", "dot": "the dot product"}


def search_table(searches: Mapping[str, TargetSearch], stage: str) -> pd.DataFrame:
    """Every target's rows of one ``stage`` (``settings``, ``size`` or ``sgd``, which also gets
    each rate as a multiple of its bound), for a page: the stage column dropped, so are columns
    that are empty throughout (the ridge where no target has one) and an optimizer or status
    that is the same in every row (the epochs too: they differ only where the search stopped runs
    early, :func:`stopping_sentence`), and each validation NDCG column is named by its rule alone
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
    constant = [column for column in ("optimizer", "epochs", "status") if table[column].nunique() == 1]
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


def setting_effect(search: TargetSearch, setting: str, k: int = 10) -> pd.DataFrame:
    """The best validation NDCG@k (chosen rule) of the settings runs at each value of ``setting``
    (a column of the search table: ``ridge``, ``init std`` or ``lr``), by value."""
    rows = search.table[search.table["stage"] == "settings"]
    best = rows.groupby(setting)[ndcg_column(k, search.scoring)].max()
    return pd.DataFrame({setting: best.index.to_numpy(), "NDCG": best.to_numpy()})


def setting_trend(search: TargetSearch, setting: str, symbol: str, k: int = 10) -> str:
    """:func:`setting_effect` in words, for the page: ``0.172 at λ = 100, 0.180 at λ = 300 and ...``
    (``symbol`` names the setting). Where the best run at a value was stopped early by the search,
    it says after how many epochs, since its NDCG is from fewer epochs than the others'."""
    rows = search.table[search.table["stage"] == "settings"]
    column = ndcg_column(k, search.scoring)
    parts = []
    for value, group in rows.groupby(setting):
        best = group.loc[group[column].idxmax()] if group[column].notna().any() else group.iloc[0]
        text = f"{best[column]:.3f} at {symbol} = {value:g}"
        if "epochs" in best and search.epochs and best["epochs"] < search.epochs:
            text += f" (stopped after {int(best['epochs'])} of {search.epochs} epochs)"
        parts.append(text)
    return words(parts)


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


def _run_words(row: pd.Series) -> str:
    parts = [f"lr = {format_lr(row['lr'])}", f"σ = {row['init std']:g}"]
    if not pd.isna(row.get("ridge", math.nan)):
        parts.insert(0, f"λ = {row['ridge']:g}")
    return ", ".join(parts)


def stopping_sentence(searches: Mapping[str, TargetSearch], k: int = 10) -> str:
    """The settings search's early-stopping rule and the runs it stopped, in a few sentences for
    the page (MyST): the rule with its checks, each stopped run with its settings and the epochs
    it ran, and that the chosen settings' runs and the SGD runs ran in full. Chosen by the search
    results: no rule, a rule that stopped nothing, or a rule that stopped some runs."""
    found = list(searches.values())
    epochs = max(search.epochs for search in found)
    rules = {search.stopping for search in found}
    if rules == {None}:
        return f"Every run of the search ran all its {epochs} epochs: none was stopped early."
    rule = next(rule for rule in rules if rule is not None)
    checks = rule.check_epochs(epochs)
    kept = "half" if rule.keep == 0.5 else f"{rule.keep:.0%}"
    text = (
        "Runs that only pick a setting may stop early, by successive halving: wherever a settings stage "
        f"compares at least two runs from the start, each is scored on validation NDCG@{k} (the better of "
        f"the two rules) after {words([str(check) for check in checks])} of its {epochs} epochs, and only "
        f"the better {kept} of them (rounded up) goes on; a run stopped there is never chosen."
    )
    stopped = [
        f"{search.label} at {_run_words(row)} after {int(row['epochs'])} epochs"
        for search in found
        for _, row in search.stopped.iterrows()
    ]
    runs = sum(int((search.table["stage"] == "settings").sum()) for search in found)
    if stopped:
        shown = "their rows show the epochs they" if len(stopped) > 1 else "its row shows the epochs it"
        text += f" It stopped {len(stopped)} of the {runs} settings runs: {'; '.join(stopped)}; {shown} ran."
    else:
        text += f" No settings run was stopped in this build: all {runs} ran their {epochs} epochs."
    return text + f" The chosen settings' runs, at every size, and the SGD runs ran all {epochs} epochs."
