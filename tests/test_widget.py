"""The in-page recommender (movierec.book.widget): the exported data file, and the widget driven in
headless Chromium against movierec.judging.recommend on real runs.

The agreement rule: the widget's top 10 must be Python's, except that two titles may trade
places (or the 10th place) only where their Python scores differ by at most twice the run's
score-error bound, recomputed here from the data file; its scores must also equal, to
rounding, the int8 rule restated below, and lie within the bound of Python's.
"""

from __future__ import annotations

import statistics
import tomllib
from fnmatch import fnmatch
from importlib.resources import files
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import movierec as mr
from conftest import ROOT, tiny_tables
from movierec.book import widget
from movierec.data.titles import normalize
from movierec.errors import ParameterError, StoreError
from movierec.judging.recommend import cosine_similarities, unit_columns

SEED_TITLES = ("Apollo 13 (1995)", "Toy Story (1995)", "Home Alone (1990)")
SEED_TYPED = ("apollo 13", "TOY STORY", "home alone")  # lower/upper case, no year: still first
RANDOM_SETS = 20
SET_SEED = 11
TOP_N = 10
ROUNDING = 1e-9  # float64 in the page and in numpy sum in different orders
WIDGET = "#try-recommender"
TITLE_BOX = f'{WIDGET} input[aria-label="Movie title"]'
BOOK_PAGE = Path("book") / "executed" / "04_recommendations.html"


def fake_run(optimizer: str, lr: float, cost: float, status: str = "finished", dim: int = 4, n: int = 5):
    history = pd.DataFrame({"epoch": [0, 1], "cost": [2 * cost, cost], "seconds": [0.0, 1.0]})
    embeddings = np.random.default_rng(int(lr * 1e6) % 1000).normal(size=(dim, n)).astype(np.float32)
    return mr.TrainResult(
        config=mr.TrainConfig(optimizer=optimizer, lr=lr, dim=dim, epochs=1),
        history=history,
        embeddings=embeddings,
        status=status,
        diverged_epoch=None if status == "finished" else 1,
        data_checksum="0" * 64,
        device="cpu",
    )


def quantised_scores(codes: np.ndarray, rows: list[int]) -> np.ndarray:
    """The page's rule, restated: mean cosine of the int8 vectors to the non-zero inputs."""
    unit = unit_columns(codes.astype(np.float64))
    usable = [row for row in rows if np.abs(codes[:, row]).sum() > 0]
    return (unit[:, usable].T @ unit).mean(axis=0)


def float_scores(embeddings: np.ndarray, rows: list[int]) -> np.ndarray:
    usable = [row for row in rows if np.linalg.norm(embeddings[:, row]) > 0]
    return cosine_similarities(embeddings, usable).mean(axis=0)


def inversions(shown: list[int], scores: np.ndarray, inputs: list[int]) -> list[tuple[float, str]]:
    """How ``shown`` departs from a top-``len(shown)`` of ``scores`` (inputs excluded): each
    pair shown in the wrong order, and the best title left out if it beats one shown, with
    the score gap."""
    found = []
    for first, row in enumerate(shown):
        for later in shown[first + 1 :]:
            if scores[later] > scores[row]:
                gap = scores[later] - scores[row]
                found.append(
                    (gap, f"row {later} ({scores[later]:.6f}) is shown below row {row} ({scores[row]:.6f})")
                )
    left_out = np.ones(len(scores), dtype=bool)
    left_out[list(shown) + list(inputs)] = False
    if left_out.any():
        best_left_out = int(np.flatnonzero(left_out)[np.argmax(scores[left_out])])
        gap = scores[best_left_out] - min(scores[row] for row in shown)
        if gap > 0:
            found.append((gap, f"row {best_left_out} ({scores[best_left_out]:.6f}) is missing from the list"))
    return found


def order_faults(shown: list[int], scores: np.ndarray, inputs: list[int], tolerance: float) -> list[str]:
    """The :func:`inversions` whose scores differ by more than ``tolerance`` (not a tie)."""
    return [why for gap, why in inversions(shown, scores, inputs) if gap > tolerance]


# ---- The data file and the run choice (no browser) ------------------------------------


def test_choose_runs_keeps_each_optimizers_best_finished_run():
    results = [
        fake_run("adam", 0.5, 30.0),
        fake_run("adam", 0.1, 20.0),
        fake_run("sgd", 1e-5, 10.0),
        fake_run("sgd", 0.1, 1.0, status="diverged"),
        fake_run("rmsprop", 0.01, float("nan")),
    ]
    chosen = widget.choose_runs(results)
    assert list(chosen) == ["sgd, lr 1e-5", "adam, lr 0.1"]  # best overall first
    assert chosen["adam, lr 0.1"] is results[1]
    assert widget.choose_runs([]) == {}


def test_quantise_scales_each_unit_column_to_127_and_keeps_zero_columns():
    embeddings = np.random.default_rng(0).normal(size=(8, 50))
    embeddings[:, 7] = 0
    codes = widget.quantise(embeddings)
    assert codes.dtype == np.int8 and codes.shape == (8, 50)
    peaks = np.abs(codes.astype(int)).max(axis=0)
    assert peaks[7] == 0 and set(np.delete(peaks, 7)) == {127}
    cosines = (unit_columns(codes.astype(float)) * unit_columns(embeddings)).sum(axis=0)
    assert np.delete(cosines, 7).min() > 0.999


def test_score_error_bound_is_the_largest_pair_error_and_bounds_every_score():
    rng = np.random.default_rng(1)
    embeddings = rng.normal(size=(8, 300)).astype(np.float32)
    embeddings[:, 5] = 0
    codes = widget.quantise(embeddings)
    bound = widget.score_error_bound(embeddings, codes)
    pair_errors = unit_columns(codes.astype(float)).T @ unit_columns(codes.astype(float)) - (
        unit_columns(embeddings).T @ unit_columns(embeddings)
    )
    assert bound == pytest.approx(np.abs(pair_errors).max(), abs=1e-12)
    assert 0 < bound < 0.05
    for _ in range(50):
        rows = rng.choice(300, size=rng.integers(1, 6), replace=False).tolist()
        if rows == [5]:
            continue
        error = np.abs(quantised_scores(codes, rows) - float_scores(embeddings, rows)).max()
        assert error <= bound + 1e-12


def test_export_writes_a_data_script_the_widget_files_and_nothing_else(tmp_path):
    movies, _ = tiny_tables()
    index = mr.TitleIndex(movies)
    runs = widget.choose_runs([fake_run("adam", 0.5, 3.0), fake_run("sgd", 1e-5, 5.0)])
    runs["adam, lr 0.5"].embeddings[:, 4] = 0
    folder = tmp_path / "_vendor" / "recommender"
    asset = widget.export(runs, movies, index, folder, popularity=[0, 10, 3, 1, 0])
    assert sorted(path.name for path in folder.iterdir()) == sorted(path.name for path in asset.files)
    assert {path.name for path in asset.files} == {"recommender.js", "recommender.css", "recommender-data.js"}
    assert asset.data_bytes == (folder / "recommender-data.js").stat().st_size
    assert asset.total_bytes > asset.data_bytes
    assert set(asset.score_error) == set(runs) and "all pairs of movies" in asset.error_rule
    assert asset.record()["assets"] == [path.as_posix() for path in asset.files]
    script = (folder / "recommender.js").read_bytes()
    assert script == files("movierec.book").joinpath("widget_assets", "recommender.js").read_bytes()

    data = widget.read_asset(folder / "recommender-data.js")
    assert data["titles"].split("\n") == movies["title"].tolist()
    codes = data["genres"].split(",")
    assert [
        ", ".join(data["genreNames"][widget.CODE_ALPHABET.index(c)] for c in code) for code in codes
    ] == movies["genres"].tolist()
    assert data["popularity"][1] == "/" and data["popularity"][0] == "A"
    assert data["articles"] == list(mr.titles.ARTICLES)
    assert data["casefold"]["ß"] == "ss"
    for run, (label, result) in zip(data["runs"], runs.items(), strict=True):
        assert run["label"] == label and run["key"] == result.key
        decoded = widget.decode_vectors(run, len(movies))
        assert np.array_equal(decoded, widget.quantise(result.embeddings))
        assert run["scoreError"] == asset.score_error[label]
    assert not np.abs(widget.decode_vectors(data["runs"][0], 5)[:, 4]).any()


def test_export_names_bad_input_and_the_fix(tmp_path):
    movies, _ = tiny_tables()
    index = mr.TitleIndex(movies)
    good = {"adam, lr 0.5": fake_run("adam", 0.5, 3.0)}
    with pytest.raises(ParameterError, match="no runs to export"):
        widget.export({}, movies, index, tmp_path)
    with pytest.raises(ParameterError, match=r"shape \(4, 6\).*5 movies"):
        widget.export({"x": fake_run("adam", 0.5, 3.0, n=6)}, movies, index, tmp_path)
    diverged = fake_run("adam", 0.5, 3.0)
    diverged.embeddings[0, 0] = np.nan
    with pytest.raises(ParameterError, match="non-finite embeddings"):
        widget.export({"x": diverged}, movies, index, tmp_path)
    with pytest.raises(ParameterError, match="another movies table"):
        widget.export(good, movies, mr.TitleIndex(movies.iloc[:4]), tmp_path)
    with pytest.raises(ParameterError, match=r"one finite count >= 0 per movie \(5, .*got 2 values"):
        widget.export(good, movies, index, tmp_path, popularity=[1, 2])
    with pytest.raises(ParameterError, match=r"max_bytes=10.*small d"):
        widget.export(good, movies, index, tmp_path, max_bytes=10)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot write the in-page recommender"):
        widget.export(good, movies, index, blocker)
    assert not any(tmp_path.rglob("recommender*"))


def test_embed_html_is_the_container_then_the_stylesheet_and_scripts():
    markup = widget.embed_html("../../_static/recommender/", ['Say "Hi" </script> (2000)'])
    assert markup.startswith('<div id="try-recommender"')
    assert "<noscript>" in markup and "</script> (2000)" not in markup
    positions = [
        markup.index(tag)
        for tag in (
            'href="../../_static/recommender/recommender.css"',
            'src="../../_static/recommender/recommender-data.js"',
            'src="../../_static/recommender/recommender.js"',
        )
    ]
    assert positions == sorted(positions) and positions[0] > markup.index("</div>")
    assert widget.show().data == widget.embed_html()


def test_on_page_exports_the_best_runs_within_its_budget_and_names_what_it_leaves_out(tmp_path):
    movies, ratings = tiny_tables()
    likes = mr.likes_matrix(ratings, movies)
    ws = SimpleNamespace(data=SimpleNamespace(movies=movies), likes=likes, titles=mr.TitleIndex(movies))
    results = [fake_run("adam", 0.5, 3.0), fake_run("adam", 0.1, 2.0), fake_run("sgd", 0.1, 1.0, "diverged")]
    shown = widget.on_page(results, ws, ["Toy Story (1995)"], tmp_path / "recommender")
    assert 'id="try-recommender"' in shown._repr_html_() and "Toy Story (1995)" in shown.html
    assert shown.asset is not None and list(shown.asset.score_error) == ["adam, lr 0.1"]
    assert shown.record()["assets"] == [path.as_posix() for path in shown.asset.files]
    data = widget.read_asset(tmp_path / "recommender" / "recommender-data.js")
    assert data["popularity"][1] == "/"  # Toy Story is among the most liked
    assert shown.offered == ("adam, lr 0.1",) and shown.left_out == ()
    left_out = widget.on_page(results[2:], ws, folder=tmp_path / "none")
    assert left_out.html == "" and left_out.record() == {
        "assets": [],
        "data_bytes": 0,
        "score_error": {},
        "offered": [],
        "left_out": [],
    }
    huge = fake_run("adam", 0.5, 3.0, dim=2000, n=3100)
    too_large = widget.on_page([huge], ws, folder=tmp_path / "none")
    assert too_large.html == "" and too_large.left_out == ("adam, lr 0.5",)
    assert not (tmp_path / "none").exists()
    both = [fake_run("adam", 0.1, 2.0), fake_run("sgd", 0.1, 3.0), fake_run("rmsprop", 0.1, 4.0)]
    one_run = widget.on_page(both[:1], ws, folder=tmp_path / "one").asset.data_bytes
    kept = widget.on_page(both, ws, folder=tmp_path / "kept", budget=one_run)
    assert kept.offered == ("adam, lr 0.1",) and kept.left_out == ("sgd, lr 0.1", "rmsprop, lr 0.1")
    assert kept.asset is not None and list(kept.asset.score_error) == ["adam, lr 0.1"]


def test_the_package_ships_the_widget_files():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for name in widget.WIDGET_FILES:
        assert files("movierec.book").joinpath("widget_assets", name).is_file()
        assert any(fnmatch(f"widget_assets/{name}", pattern) for pattern in patterns["movierec.book"])


# ---- The widget in Chromium, on real runs ---------------------------------------------


@pytest.fixture(scope="module")
def real_runs(archive, tmp_path_factory):
    """Adam and SGD at d = 64, 30 epochs, on the real archive, in a run store of their own."""
    ws = mr.Workspace.open(archive, runs_dir=str(tmp_path_factory.mktemp("widget-runs")))
    results = ws.sweep(mr.config_grid({"adam": [0.5], "sgd": [1e-5]}, [64], epochs=30))
    return ws, widget.choose_runs(results)


@pytest.fixture(scope="module")
def harness(real_runs, tmp_path_factory):
    """A page at the Recommendations page's place in the book, with the exported folder at
    ``_static/recommender`` two levels up, as the built book serves it."""
    ws, runs = real_runs
    site = tmp_path_factory.mktemp("site")
    likes = np.asarray(ws.likes.matrix.sum(axis=0)).ravel()
    asset = widget.export(runs, ws.data.movies, ws.titles, site / "_static" / "recommender", popularity=likes)
    page = site / BOOK_PAGE
    page.parent.mkdir(parents=True)
    page.write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Recommendations</title>'
        f"</head><body><main><h1>Recommendations</h1>{widget.embed_html()}</main></body></html>",
        encoding="utf-8",
    )
    return page, asset


class WidgetPage:
    """One page with the widget open from disk, recording every request and page error."""

    def __init__(self, browser, path: Path):
        self.page = browser.new_page(viewport={"width": 1200, "height": 900})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", self.page_error)
        self.page.goto(path.resolve().as_uri(), wait_until="load")

    def page_error(self, error) -> None:
        self.errors.append(str(error))

    def ready(self) -> bool:
        return self.page.locator(WIDGET).count() > 0

    def wait(self) -> None:
        self.page.wait_for_selector(f"{WIDGET}[data-ready]", timeout=20_000)

    def suggestions(self) -> list[int]:
        return self.page.eval_on_selector_all(
            f"{WIDGET} [role=option]", "els => els.map(e => +e.dataset.row)"
        )

    def choose(self, typed: str, row: int | None = None) -> None:
        """Type ``typed`` and press Enter on the suggestion of ``row`` (arrows down to it)."""
        box = self.page.locator(TITLE_BOX)
        box.fill(typed)
        steps = self.suggestions().index(row) if row is not None else 0
        for _ in range(steps):
            box.press("ArrowDown")
        box.press("Enter")

    def clear(self) -> None:
        box = self.page.locator(TITLE_BOX)
        box.fill("")
        while self.page.locator(f"{WIDGET} .movierec-chosen li").count():
            box.press("Backspace")

    def pick_run(self, label: str) -> None:
        self.page.select_option(f"{WIDGET} select", label=label)

    def shown(self) -> tuple[list[int], np.ndarray, list[str]]:
        items = self.page.eval_on_selector_all(
            f"{WIDGET} ol > li", "els => els.map(e => [+e.dataset.row, +e.dataset.score, e.textContent])"
        )
        return [row for row, _, _ in items], np.array([s for _, s, _ in items]), [t for _, _, t in items]

    def choose_timed(self, typed: str, row: int) -> dict[str, float]:
        """:meth:`choose`, measuring in the page from the Enter key to the list changed
        (``update_ms``) and to the next frame drawn after it (``shown_ms``)."""
        self.page.evaluate(
            """() => {
              window.timing = null;
              let pressed = null;
              const onEnter = (event) => {
                if (event.key !== "Enter") return;
                pressed = performance.now();
                document.removeEventListener("keydown", onEnter, true);
              };
              document.addEventListener("keydown", onEnter, true);
              const observer = new MutationObserver(() => {
                observer.disconnect();
                const updated = performance.now();
                requestAnimationFrame(() => setTimeout(() => {
                  window.timing = { update_ms: updated - pressed, shown_ms: performance.now() - pressed };
                }));
              });
              observer.observe(document.querySelector("#try-recommender ol"), { childList: true });
            }"""
        )
        self.choose(typed, row)
        self.page.wait_for_function("window.timing !== null")
        return self.page.evaluate("window.timing")


@pytest.fixture
def opened(chromium, harness):
    view = WidgetPage(chromium, harness[0])
    view.wait()
    yield view
    view.page.close()


def check_agreement(view, ws, run_entry, result, rows, codes, bound) -> tuple[int, float]:
    """The shown list against :func:`movierec.judging.recommend` for one set of inputs; returns how
    many places differ and the largest Python-score gap between titles shown out of order."""
    shown, scores, texts = view.shown()
    movies = ws.data.movies
    ids = [f"id:{movies['movieId'].iat[row]}" for row in rows]
    ranked = mr.recommend(result.embeddings, movies, ids, len(movies), ws.titles)
    ranked_rows = pd.Index(movies["movieId"]).get_indexer(ranked["movieId"])
    exact = np.full(len(movies), -np.inf)
    exact[ranked_rows] = ranked["score"].to_numpy()
    coded = quantised_scores(codes, rows)
    label = f"{run_entry['label']}, inputs {[ws.titles.titles[r] for r in rows]}"
    assert len(shown) == TOP_N, label
    assert all(text.startswith(ws.titles.titles[row]) for row, text in zip(shown, texts, strict=True))
    assert np.abs(scores - coded[shown]).max() <= ROUNDING, label
    assert order_faults(shown, coded, rows, ROUNDING) == [], label
    assert np.abs(scores - exact[shown]).max() <= bound + ROUNDING, label
    assert order_faults(shown, exact, rows, 2 * bound) == [], label
    differ = sum(a != b for a, b in zip(shown, ranked_rows[:TOP_N], strict=True))
    return differ, max((gap for gap, _ in inversions(shown, exact, rows)), default=0.0)


@pytest.mark.integration
@pytest.mark.browser
def test_the_widget_works_from_disk_with_no_network_request(opened, harness):
    page, asset = harness
    assert asset.data_bytes <= 2_000_000  # two runs at d = 64, titles, genres: the page's budget
    assert opened.page.locator(TITLE_BOX).get_attribute("role") == "combobox"
    assert opened.page.locator(f"{WIDGET} select option").all_inner_texts() == list(asset.score_error)
    assert opened.page.locator(f"{WIDGET} [aria-live]").count() >= 1
    print(f"\npage opened and widget ready after {opened.page.evaluate('performance.now()'):.0f} ms")
    opened.choose("toy story")
    assert opened.page.locator(f"{WIDGET} ol > li").count() == TOP_N
    assert opened.errors == []
    assert opened.requests and all(url.startswith("file://") for url in opened.requests), opened.requests


@pytest.mark.integration
@pytest.mark.browser
def test_the_page_derives_every_titles_forms_as_python_does(opened, real_runs):
    ws, _ = real_runs
    forms = opened.page.evaluate("movierecRecommender.titles.map(t => movierecRecommender.titleForms(t))")
    assert len(forms) == len(ws.titles.titles)
    wrong = [
        (row, ws.titles.titles[row])
        for row, found in enumerate(forms)
        if sorted(found) != ws.titles.forms(row)
    ]
    assert wrong == []
    tricky = [
        "  Straße  der  Träume ",
        "ΣΟΦΟΚΛΗΣ",
        "Amélie",
        "ﬁnal cut",
        "İstanbul",
        "Ǆ",
        "x\u00a0y\u2003z",
        "Ꮳ",
    ]
    assert opened.page.evaluate("texts => texts.map(movierecRecommender.normalize)", tricky) == [
        normalize(text) for text in tricky
    ]


@pytest.mark.integration
@pytest.mark.browser
def test_the_pages_candidates_are_python_candidates(opened, real_runs):
    ws, _ = real_runs
    rng = np.random.default_rng(SET_SEED)
    queries = ["star wars", "toy", "lord of the rings", "amelie", "miserables", "the matrix", "zzqx", "xy"]
    queries += ["godfather part", "Matrix, The (1999)", "id:1", "ALIEN", "la vita", "les", "  toy   story  "]
    for row in rng.choice(len(ws.titles.titles), size=150, replace=False):
        forms = ws.titles.forms(int(row))
        queries.append(str(rng.choice(forms)).upper() if row % 2 else str(rng.choice(forms)))
    found = opened.page.evaluate("texts => texts.map(movierecRecommender.candidates)", queries)
    assert {q: rows for q, rows in zip(queries, found, strict=True) if rows != ws.titles.candidates(q)} == {}


def misspellings(titles: list[str], count: int, seed: int) -> list[str]:
    """Typos a reader makes in real titles (a letter dropped, doubled, swapped or changed,
    lower case, no year), and a few odd inputs; each a case for the close-spelling rule."""
    rng = np.random.default_rng(seed)
    typed = ["forest gump", "the godfater", "star wors", "amelei", "lord of the rigns", "jurasic park"]
    typed += ["terminater 2", "Amélie Poulian", "les miserabels", "ßtraße", "zzqxv", "x", "the " * 60]
    typed += ["a" * 250, "xq" * 120, "star wars " * 25, " tôkyo  storry ", "🎬 matrix"]
    for row in rng.choice(len(titles), size=count, replace=False):
        text = list(normalize(titles[int(row)].rsplit(" (", 1)[0]))
        at = int(rng.integers(0, max(1, len(text) - 1)))
        edit = int(rng.integers(0, 4))
        if edit == 0:
            del text[at]
        elif edit == 1:
            text.insert(at, text[at] if text else "x")
        elif edit == 2 and len(text) > 1:
            text[at], text[at + 1] = text[at + 1], text[at]
        else:
            text[at] = "aeiouy"[int(rng.integers(0, 6))]
        typed.append("".join(text))
    return typed


@pytest.mark.integration
@pytest.mark.browser
def test_the_pages_close_spellings_are_pythons_did_you_mean(opened, real_runs):
    ws, _ = real_runs
    queries = misspellings(ws.titles.titles, 60, SET_SEED)
    rows, milliseconds = opened.page.evaluate(
        """texts => {
          const begun = performance.now();
          const rows = texts.map(movierecRecommender.closeSpellings);
          return [rows, (performance.now() - begun) / texts.length];
        }""",
        queries,
    )
    print(f"\n{len(queries)} misspellings: {milliseconds:.0f} ms each in the page, on average")
    found = {
        query: [ws.titles.titles[row] for row in shown] for query, shown in zip(queries, rows, strict=True)
    }
    wrong = {query: (titles, ws.titles.suggestions(query)) for query, titles in found.items()}
    assert {query: pair for query, pair in wrong.items() if pair[0] != pair[1]} == {}
    assert found["forest gump"][0] == "Forrest Gump (1994)"
    assert sum(bool(titles) for titles in found.values()) > len(queries) // 2


@pytest.mark.integration
@pytest.mark.browser
def test_an_unknown_title_offers_the_close_spellings(opened):
    box = opened.page.locator(TITLE_BOX)
    box.fill("forest gump")
    options = opened.page.locator(f"{WIDGET} [role=option]")
    assert options.first.inner_text() == "Forrest Gump (1994)"
    assert set(
        opened.page.eval_on_selector_all(f"{WIDGET} [role=option]", "els => els.map(e => e.dataset.rank)")
    ) == {"close"}
    assert (
        "did you mean Forrest Gump (1994)" in opened.page.locator(f"{WIDGET} .movierec-message").inner_text()
    )
    box.press("Enter")
    assert opened.page.locator(f"{WIDGET} ol > li").count() == TOP_N
    box.fill("zzqxv")
    assert (
        opened.page.locator(f"{WIDGET} .movierec-message").inner_text()
        == "No title matches \u201czzqxv\u201d."
    )
    assert opened.errors == []


@pytest.mark.integration
@pytest.mark.browser
def test_suggestions_rank_whole_forms_first_and_the_keyboard_works(opened, real_runs):
    ws, _ = real_runs
    page, box = opened.page, opened.page.locator(TITLE_BOX)
    for typed, title in [
        ("the matrix", "Matrix, The (1999)"),
        ("amelie", "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)"),
        ("LES MISERABLES (1995)", "Misérables, Les (1995)"),
        ("toy story", "Toy Story (1995)"),
    ]:
        box.fill(typed)
        assert box.get_attribute("aria-expanded") == "true"
        first = page.locator(f"{WIDGET} [role=option]").first
        assert first.inner_text() == title and first.get_attribute("aria-selected") == "true"
        assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    ranks = page.eval_on_selector_all(f"{WIDGET} [role=option]", "els => els.map(e => e.dataset.rank)")
    assert ranks[0] == "exact" and ranks == sorted(ranks, key=["exact", "prefix", "words", "substring"].index)
    box.press("ArrowDown")
    second = page.locator(f"{WIDGET} [role=option]").nth(1)
    assert second.get_attribute("aria-selected") == "true"
    box.press("ArrowUp")
    box.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    box.press("Escape")
    assert box.input_value() == ""
    for typed in ["toy story", "jumanji", "heat", "casino", "sabrina"]:
        opened.choose(typed)
    chosen = page.locator(f"{WIDGET} .movierec-chosen li")
    assert chosen.count() == 5
    box.fill("balto")
    assert box.get_attribute("aria-expanded") == "false"
    assert "remove one" in page.locator(f"{WIDGET} .movierec-message").inner_text()
    box.fill("")
    box.press("Backspace")
    assert chosen.count() == 4
    remove = page.get_by_role("button", name="Remove Jumanji (1995)")
    remove.focus()
    remove.press("Delete")
    assert chosen.all_inner_texts() and not any("Jumanji" in text for text in chosen.all_inner_texts())
    page.get_by_role("button", name="Remove Toy Story (1995)").click()
    assert chosen.count() == 2
    assert "Top 10 for Heat (1995) and Casino (1995)" in page.locator(f"{WIDGET} [role=status]").inner_text()
    assert opened.errors == []


@pytest.mark.integration
@pytest.mark.browser
def test_the_seeds_titles_give_pythons_top_10_for_every_run(opened, harness, real_runs):
    ws, runs = real_runs
    data = widget.read_asset(harness[0].parents[2] / "_static" / "recommender" / "recommender-data.js")
    rows = [ws.titles.resolve(title) for title in SEED_TITLES]
    for run_entry in data["runs"]:
        result = runs[run_entry["label"]]
        codes = widget.decode_vectors(run_entry, data["count"])
        bound = widget.score_error_bound(result.embeddings, codes)
        assert bound == pytest.approx(run_entry["scoreError"], abs=1e-12)
        opened.pick_run(run_entry["label"])
        opened.clear()
        for typed, row in zip(SEED_TYPED, rows, strict=True):
            opened.page.locator(TITLE_BOX).fill(typed)
            assert opened.suggestions()[0] == row
            opened.page.locator(TITLE_BOX).press("Enter")
        differ, _ = check_agreement(opened, ws, run_entry, result, rows, codes, bound)
        print(f"\nseed titles, {run_entry['label']}: {differ} of {TOP_N} places differ from Python's")


@pytest.mark.integration
@pytest.mark.browser
def test_random_title_sets_give_pythons_top_10_within_ties(opened, harness, real_runs):
    ws, runs = real_runs
    data = widget.read_asset(harness[0].parents[2] / "_static" / "recommender" / "recommender-data.js")
    rng = np.random.default_rng(SET_SEED)
    sets = [
        rng.choice(len(ws.titles.titles), size=int(rng.integers(1, 6)), replace=False).tolist()
        for _ in range(RANDOM_SETS)
    ]
    timings, moved, widest = [], 0, 0.0
    for run_entry in data["runs"]:
        result = runs[run_entry["label"]]
        codes = widget.decode_vectors(run_entry, data["count"])
        bound = widget.score_error_bound(result.embeddings, codes)
        opened.pick_run(run_entry["label"])
        for rows in sets:
            opened.clear()
            for row in rows[:-1]:
                opened.choose(ws.titles.titles[row], row)
            timings.append(opened.choose_timed(ws.titles.titles[rows[-1]], rows[-1]))
            differ, gap = check_agreement(opened, ws, run_entry, result, rows, codes, bound)
            moved, widest = moved + differ, max(widest, gap / bound)
    assert opened.errors == []
    updated = [timing["update_ms"] for timing in timings]
    drawn = [timing["shown_ms"] for timing in timings]
    print(
        f"\n{len(timings)} sets: last title chosen to list updated, "
        f"median {statistics.median(updated):.1f} ms; "
        f"to the next frame drawn, median {statistics.median(drawn):.1f} ms (max {max(drawn):.1f}); "
        f"{moved} of {TOP_N * len(timings)} places differ from Python's, within ties; the widest such "
        f"tie spans {widest:.2f} x the score-error bound (2 allowed)"
    )


# ---- The built book ------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.browser
@pytest.mark.notebooks
def test_the_built_recommendations_page_agrees_with_python_offline(smoke_book, chromium, archive):
    root, html = smoke_book
    view = WidgetPage(chromium, html / BOOK_PAGE)
    try:
        assert view.ready(), "the Recommendations page shows no #try-recommender"
        view.wait()
        ws = mr.Workspace.open(archive, runs_dir=str(root / "runs"))
        data = widget.read_asset(html / "_static" / "recommender" / "recommender-data.js")
        rows = [ws.titles.resolve(title) for title in SEED_TITLES]
        for run_entry in data["runs"]:
            result = ws.store.load(run_entry["key"])
            codes = widget.decode_vectors(run_entry, data["count"])
            bound = widget.score_error_bound(result.embeddings, codes)
            view.pick_run(run_entry["label"])
            view.clear()
            for row in rows:
                view.choose(ws.titles.titles[row], row)
            check_agreement(view, ws, run_entry, result, rows, codes, bound)
        assert view.errors == []
        assert all(url.startswith("file://") for url in view.requests), [
            url for url in view.requests if not url.startswith("file://")
        ]
    finally:
        view.page.close()


@pytest.mark.integration
@pytest.mark.browser
@pytest.mark.notebooks
def test_the_student_edition_carries_the_widget(smoke_book, chromium):
    from movierec.book.build import build_html

    root, html = smoke_book
    assert "try-recommender" in (html / BOOK_PAGE).read_text(encoding="utf-8")
    student = build_html(root, "student", "smoke")
    assert (student / "_static" / "recommender" / "recommender-data.js").is_file()
    view = WidgetPage(chromium, student / BOOK_PAGE)
    try:
        view.wait()
        view.choose("toy story")
        assert view.page.locator(f"{WIDGET} ol > li").count() == TOP_N
        assert view.errors == []
    finally:
        view.page.close()
