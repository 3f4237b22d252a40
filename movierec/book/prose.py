"""Sentences chosen by the results: the book's prose that depends on how the runs came out.

A fact about runs is never typed into a page: the page glues what these functions write
from the runs themselves (``mr.pages.say``), so a re-run with other parameters, or the smoke
profile, reads true. Book pages: "The optimizer study", "Recommendations", "Does it recommend
well?".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import pandas as pd

from ..model.train import TrainResult
from ..numbers import format_cost, format_lr, format_percent, format_seconds
from ..runs.study import by_optimizer, median_epoch_seconds, optimizer_label
from .pages import words

CLOSE = 1.1  # a run within 10% of the lowest cost counts as having reached it


def _above(cost: float, optimum: float | None) -> str:
    if optimum is None or not math.isfinite(cost):
        return ""
    return f", {format_percent(100 * (cost - optimum) / optimum)}% above the best possible cost"


def optimizer_outcome(runs: Sequence[TrainResult], optimum: float | None = None) -> str:
    """One sentence on one optimizer's runs: which rates blew up (and how soon), which ran to the
    end, and where the best of those ended."""
    name = optimizer_label(runs[0].config)
    finished = sorted((r for r in runs if r.status == "finished"), key=lambda r: -r.config.lr)
    diverged = sorted((r for r in runs if r.status != "finished"), key=lambda r: -r.config.lr)
    epochs = runs[0].config.epochs
    parts = []
    if diverged:
        latest = max(r.diverged_epoch or 0 for r in diverged)
        rates = words([format_lr(r.config.lr) for r in diverged])
        every = "every rate tried, " if not finished else ""
        parts.append(f"blew up at {every}{rates} (by epoch {latest})")
    if finished:
        rates = words([format_lr(r.config.lr) for r in finished])
        every = "every rate tried, " if not diverged else ""
        parts.append(f"ran all {epochs} epochs at {every}{rates}")
    sentence = f"**{name}** {' and '.join(parts)}"
    if finished:
        best = min(finished, key=lambda r: r.final_cost)
        sentence += (
            f"; its best run (lr {format_lr(best.config.lr)}) ended at {format_cost(best.final_cost)}"
            f"{_above(best.final_cost, optimum)}"
        )
    return sentence + "."


def outcome_sentences(results: Sequence[TrainResult], optimum: float | None = None) -> str:
    """:func:`optimizer_outcome` for every optimizer of a study, as one paragraph."""
    return " ".join(optimizer_outcome(runs, optimum) for runs in by_optimizer(results).values())


def study_brief(results: Sequence[TrainResult]) -> str:
    """The study in one line per optimizer for a summary: its best rate and how many of its
    rates diverged (the full account is :func:`outcome_sentences`)."""
    parts = []
    for runs in by_optimizer(results).values():
        name = optimizer_label(runs[0].config)
        finished = [r for r in runs if r.status == "finished"]
        diverged = len(runs) - len(finished)
        blew = f"{diverged} of its {len(runs)} rates diverged" if diverged else "no rate diverged"
        if finished:
            best = min(finished, key=lambda r: r.final_cost)
            parts.append(f"{name}'s best rate was {format_lr(best.config.lr)} and {blew}")
        else:
            parts.append(f"{name} diverged at every rate tried")
    return "; ".join(parts) + "."


def smaller_start_answer(before: Sequence[TrainResult], after: Sequence[TrainResult]) -> str:
    """Which optimizer gains more from another start (``after`` reruns ``before`` with it), by
    the factor its lowest final cost falls, and whether SGD's set of stable rates moves: the
    answer of the optimizer study's ``init_std`` exercise."""
    gains = []
    for optimizer, runs in by_optimizer(before).items():
        old = [r.final_cost for r in runs if r.status == "finished"]
        new = [r.final_cost for r in after if r.config.optimizer == optimizer and r.status == "finished"]
        if old and new:
            gains.append((min(old) / min(new), optimizer_label(runs[0].config), min(old), min(new)))
    gains.sort(reverse=True)
    if not gains:
        text = "No optimizer has a finished run under both starts, so none can be compared."
    else:
        moves = words(
            [
                f"{name}'s {'falls' if new < old else 'rises'} from {format_cost(old)} to {format_cost(new)}"
                for _, name, old, new in gains
            ]
        )
        lead = f"{gains[0][1]} benefits more" if gains[0][0] > 1 else "Neither benefits"
        text = f"{lead}: its lowest final cost falls {gains[0][0]:.3g} times" if gains[0][0] > 1 else lead
        text += f" (lowest final costs: {moves})."
    stable = [
        {r.config.lr for r in runs if r.config.optimizer == "sgd" and r.status == "finished"}
        for runs in (before, after)
    ]
    if not any(r.config.optimizer == "sgd" for r in before):
        return text
    if stable[0] == stable[1]:
        return text + " SGD's stable range does not move: it finishes at the same rates."
    gained = words([format_lr(lr) for lr in sorted(stable[1] - stable[0], reverse=True)])
    lost = words([format_lr(lr) for lr in sorted(stable[0] - stable[1], reverse=True)])
    change = " and ".join(
        part
        for part in (
            f"now also finishes at {gained}" if gained else "",
            f"no longer at {lost}" if lost else "",
        )
        if part
    )
    return text + f" SGD's stable range moves: it {change}."


def longer_training_answer(longer: Sequence[TrainResult], epochs: int) -> str:
    """What the second half of runs trained for 2 x ``epochs`` did, rate by rate: still improving
    (more than 1% lower), flattened (within 1%), rising again, or diverged."""
    groups: dict[str, list[str]] = {"improve": [], "flat": [], "rise": [], "diverged": []}
    for run in sorted(longer, key=lambda r: -r.config.lr):
        rate = format_lr(run.config.lr)
        if run.status != "finished":
            groups["diverged"].append(f"{rate} ({run.status_text})")
            continue
        middle, end = float(run.history.cost.iloc[epochs]), run.final_cost
        change = f"{rate} ({format_cost(middle)} to {format_cost(end)})"
        groups["improve" if end < 0.99 * middle else "rise" if end > 1.01 * middle else "flat"].append(change)
    name = optimizer_label(longer[0].config) if longer else "The optimizer"
    parts = []
    if groups["improve"]:
        parts.append(f"still improves at {words(groups['improve'])}")
    if groups["flat"]:
        parts.append(f"has flattened, within 1%, at {words(groups['flat'])}")
    if groups["rise"]:
        parts.append(
            f"ends higher than at epoch {epochs} at {words(groups['rise'])}: its steps stay about the "
            "learning rate in size, too long to settle into the minimum, so the cost wanders up again"
        )
    if groups["diverged"]:
        parts.append(f"diverges at {words(groups['diverged'])}")
    if not parts:
        return f"No run was trained for {2 * epochs} epochs."
    return f"From epoch {epochs} to {2 * epochs}, {name} " + "; it ".join(parts) + "."


def cosine_popularity_sentence(popularity: pd.DataFrame, cosine_method: str, seed_method: str) -> str:
    """Whether the cosine target, meant to keep popular movies from dominating, does so: its
    share of list slots from the 100 most-liked movies against the seed's target's, as the
    table prints them (rows of :func:`movierec.book.targets.list_popularity`)."""
    share = popularity.set_index("method")["share from the 100 most-liked"]
    own, seed = (round(share[name], 3) for name in (cosine_method, seed_method))
    numbers = f"{own:.3f} of its list slots against {seed:.3f} for {seed_method}"
    if own < seed:
        return (
            "The cosine normalisation does what it is meant to: its lists draw less on the 100 "
            f"most-liked movies ({numbers})."
        )
    if own == seed:
        return (
            "The cosine normalisation leaves the pull toward the 100 most-liked movies as it was "
            f"({numbers})."
        )
    return (
        "The cosine normalisation, meant to keep popular movies from dominating, does not here: its "
        f"lists draw *more* on the 100 most-liked movies ({numbers})."
    )


def curves_caption(runs: Sequence[TrainResult], optimum: float | None = None) -> str:
    """The caption of one optimizer's cost curves, claiming only what these runs show."""
    name = optimizer_label(runs[0].config)
    text = f"{name}: cost per epoch (log scale), one line per learning rate."
    if optimum is not None:
        text += " The dashed line is the best cost any embedding of this size can reach."
    if any(r.status != "finished" for r in runs):
        text += " An X marks where a run diverged (drawn at the top when its cost left the chart)."
    finished = sorted((r for r in runs if r.status == "finished"), key=lambda r: r.config.lr)
    if len(finished) >= 2:
        costs = [r.final_cost for r in finished]
        if all(a > b for a, b in pairwise(costs)):
            text += " Among the runs that finished, the larger the rate, the lower the final cost."
        elif all(a < b for a, b in pairwise(costs)):
            text += " Among the runs that finished, the smaller the rate, the lower the final cost."
    return text


def list_agreement(changes: pd.DataFrame, top_n: int) -> str:
    """Whether optimizer and learning rate change the lowest-cost run's list, and whether how far
    a run got (its cost over the lowest) says by how much: the answer of "Recommendations", from
    :func:`movierec.judging.lists.list_changes`'s table (with costs)."""
    if changes.empty:
        return "Only one run finished, so there is no other list to compare with."
    ratio, kept = changes["cost / reference cost"], changes["kept"]
    close, far = changes[ratio <= CLOSE], changes[ratio > CLOSE]
    span = f"whether it ended {ratio.min():.3g} or {ratio.max():.3g} times the lowest cost"
    if len(changes) == 1:
        span = f"at {ratio.iloc[0]:.3g} times the lowest cost"
    if kept.nunique() == 1:
        if kept.iloc[0] == top_n:
            return f"They do not: every other run keeps all {top_n} titles of its list, {span}."
        return (
            f"They do, and the cost does not say by how much: every other run keeps {kept.iloc[0]} of "
            f"its {top_n} titles, {span}."
        )

    def mean_kept(rows: pd.DataFrame) -> str:
        return f"{rows['kept'].mean():.1f} of its {top_n} titles"

    if close.empty:
        where = f"no other run ended within {CLOSE - 1:.0%} of the lowest cost; they keep on average "
        where += mean_kept(far)
    elif far.empty:
        where = f"every run ended within {CLOSE - 1:.0%} of the lowest cost and keeps on average "
        where += mean_kept(close)
    else:
        where = (
            f"runs within {CLOSE - 1:.0%} of the lowest cost keep on average {mean_kept(close)}, "
            f"runs further above {mean_kept(far)}"
        )
    if ratio.corr(kept, method="spearman") <= -0.5:
        return (
            "They do, mostly through how far training got: the further above the lowest cost a run "
            f"ended, the fewer of its titles it keeps ({where})."
        )
    return f"They do, but the cost does not predict by how much: {where}."


def course_first_cost(run: TrainResult | None, printed_first: float) -> str:
    """How this build's first cost at d = n compares with the one the course notebook printed."""
    if run is None:
        return (
            "This build ran no epoch at $d = n$ (`course_epochs` is 0), so it has no first cost to "
            "compare; the `default` profile runs one."
        )
    first = float(run.history["cost"].iloc[0])
    relative = abs(first - printed_first) / printed_first
    verdict = (
        "float32 sums taken in another order move only the last digits"
        if relative < 1e-5
        else "more than float32 rounding explains: check the data's checksum and the draw"
    )
    return (
        f"With the same initial draw, this build's first cost is {format_cost(first)}, a relative "
        f"difference of {relative:.1e}: {verdict}."
    )


def course_curve_runs(runs: Sequence[TrainResult]) -> str:
    """The end of the course figure's caption: what its lines are, or that it has none."""
    if not runs:
        return "this build holds no run of this setting to draw beside them."
    return "this build's runs of the same setting are the lines (a cross marks each run's first cost)."


def course_time(runs: Sequence[TrainResult], epochs: int, sweep_runs: int) -> str:
    """How long the course notebook's runs take on this build's machine, measured, not guessed."""
    if not runs:
        return "This build ran no epoch at $d = n$, so it cannot say how long the full run takes here."
    run = max(runs, key=lambda r: len(r.history))
    step = median_epoch_seconds(run)
    where = run.machine or run.device
    if len(run.history) > epochs:
        return f"The full {epochs}-epoch run is stored; it took {run.seconds / 60:.0f} minutes ({where})."
    return (
        f"One epoch at $d = n$ took {format_seconds(step)} s here ({where}), so the full {epochs}-epoch "
        f"run would take about {epochs * step / 60:.0f} minutes and the course notebook's sweep of "
        f"{sweep_runs} runs about {sweep_runs * epochs * step / 3600:.1f} hours: `make book PROFILE=course` "
        "runs them, best on a GPU."
    )


def tuning_caption(tuning: pd.DataFrame, metric: str) -> str:
    """The caption of the tuning figure: what was tried per optimizer, and where it was best."""
    label = metric.removeprefix("val ")
    text = (
        f"Validation {label} against the learning rate (log scale), one line per optimizer and "
        "embedding size; an X in the strip below marks a run that diverged."
    )
    for optimizer, rows in tuning.groupby("optimizer", sort=False):
        rates = words([format_lr(lr) for lr in sorted(rows["lr"].unique())])
        finished = rows[rows[metric].notna()]
        text += f" {optimizer} was tried at {rates}"
        if finished.empty:
            text += " and diverged every time."
            continue
        best = finished.loc[finished[metric].idxmax()]
        text += f"; its best is {best[metric]:.3f} at d = {best['dim']}, lr {format_lr(best['lr'])}"
        failed = len(rows) - len(finished)
        text += f" ({failed} of its {len(rows)} runs diverged)." if failed else "."
    return text


def method_answer(gaps: pd.DataFrame, k: int, brief: bool = False) -> str:
    """Which method recommends best and by how much, from :func:`movierec.judging.evaluate.paired_bootstrap`'s
    table: the answer of "Does it recommend well?" (``brief``: without the full ranking)."""
    best = gaps.iloc[0]
    ranking = "; ".join(
        f"{method} {ndcg:.3f}" for method, ndcg in zip(gaps["method"], gaps["test NDCG"], strict=True)
    )
    text = f"**{best.method}** recommends best on the test users (NDCG@{k} {best['test NDCG']:.3f})."
    embeddings = gaps[gaps["method"].str.startswith("embeddings")]
    if not embeddings.empty and embeddings.index[0] != gaps.index[0]:
        row = embeddings.iloc[0]
        low, high = -row["95% high"], -row["95% low"]
        certain = (
            "the interval excludes 0, so the gap is not an accident of which users were drawn"
            if low > 0
            else "the interval includes 0, so this split cannot tell the two apart"
        )
        text += (
            f" The best embeddings, {row.method}, reach {row['test NDCG']:.3f}: "
            f"{-row['minus best']:.3f} lower (95% interval {low:.3f} to {high:.3f} lower); {certain}."
        )
    elif not embeddings.empty:
        text += " The learned embeddings beat every baseline here."
    return text if brief else text + f" In order: {ranking}."


def stability_story(
    observed: pd.DataFrame, bound: float, path: pd.DataFrame, study_rates: Sequence[float]
) -> str:
    """What the SGD runs beside the stability bound showed: which side of the bound diverged,
    what the curvature along the path says, and how far the study's failed rates were above it."""
    diverged = observed["observed"] != "finished"

    def rates(rows: pd.DataFrame | Sequence[float]) -> str:
        return words([format_lr(r) for r in (rows["lr"] if isinstance(rows, pd.DataFrame) else rows)])

    above, below = observed[observed["lr"] > bound], observed[observed["lr"] <= bound]
    sentences = []
    if len(above):
        failed = int(diverged[above.index].sum())
        share = "all" if failed == len(above) else f"{failed} of {len(above)}"
        sentences.append(f"Of the rates above the bound ({rates(above)}), {share} diverged.")
    if len(below):
        failed_below = below[diverged[below.index]]
        if failed_below.empty:
            sentences.append(f"Every rate below it ({rates(below)}) ran to the end.")
        else:
            sentences.append(
                f"Rates below it diverged too ({rates(failed_below)}): the bound at "
                "the optimum is an upper limit, not a guarantee."
            )
    if len(path):
        steepest = path.loc[path["top Hessian eigenvalue"].idxmax()]
        sentences.append(
            f"Along the run with the smallest rate the top Hessian eigenvalue reached "
            f"{steepest['top Hessian eigenvalue']:,.0f} (after {int(steepest['epoch'])} epochs), "
            f"where the bound is {format_lr(steepest['largest stable lr'])}: "
            "the steepest point of the path sets the real limit."
        )
    failed_study = sorted((r for r in study_rates if r > bound), reverse=True)
    if failed_study:
        ratios = [rate / bound for rate in failed_study]
        sentences.append(
            f"The optimizer study's SGD rates above the bound ({rates(failed_study)}) "
            f"are {min(ratios):,.0f} to {max(ratios):,.0f} times above it."
        )
    return " ".join(sentences)
