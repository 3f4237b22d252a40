"""The built HTML in a real headless Chromium (Playwright), every page ``_toc.yml`` names:
no console error, page error or failed request; every image drawn at a readable scale;
no table whose neighbouring cells' text runs together, and no table or output cut off
without a scrollbar. A screenshot of each page at 1280 px is kept for a person to look at.
"""

from __future__ import annotations

import http.server
import threading

import pytest

from conftest import ROOT, QuietHandler
from movierec.book.build import toc_pages

pytestmark = [pytest.mark.browser, pytest.mark.notebooks, pytest.mark.integration]

PAGES = [f"{page}.html" for page in toc_pages(ROOT)]
MIN_GAP_PX = 6
#: Figures are drawn with 10-point text at 110 dpi (15 px); shown at this scale or more, the
#: smallest text stays at least 10 px tall.
MIN_FIGURE_SCALE = 10 / (10 * 110 / 72)

TABLE_GAPS = """tables => tables.map(table => {
  const gaps = [];
  for (const row of table.querySelectorAll('tr')) {
    const boxes = [...row.children].map(cell => {
      const range = document.createRange();
      range.selectNodeContents(cell);
      const rects = [...range.getClientRects()].filter(r => r.width > 0);
      if (!rects.length) return null;
      return {left: Math.min(...rects.map(r => r.left)), right: Math.max(...rects.map(r => r.right)),
              top: Math.min(...rects.map(r => r.top)), bottom: Math.max(...rects.map(r => r.bottom))};
    });
    for (let i = 1; i < boxes.length; i++) {
      const a = boxes[i - 1], b = boxes[i];
      if (a && b && a.bottom > b.top && b.bottom > a.top) gaps.push(b.left - a.right);
    }
  }
  return gaps.length ? Math.min(...gaps) : null;
})"""
CLIPPED = """els => els.filter(el => el.scrollWidth > el.clientWidth + 1)
  .filter(el => !['auto', 'scroll'].includes(getComputedStyle(el).overflowX))
  .filter(el => !el.querySelector('.full-width'))
  .map(el => el.tagName + '.' + el.className)"""
#: A table that only scrolls is cut off for most readers: headless Chromium and overlay
#: scrollbars (macOS, phones) draw no scrollbar until it is scrolled. At 1280 px, every table
#: fits its box (a wide one is set full width).
#: A displayed equation whose typeset maths runs past the right edge of the text column.
WIDE_MATH = """els => els.filter(el => {
    const math = el.querySelector('mjx-math');
    return math && math.getBoundingClientRect().right > el.getBoundingClientRect().right + 1;
  }).map(el => el.id || el.innerText.slice(0, 40))"""
OVERFLOWING = """els => els.filter(el => el.scrollWidth > el.clientWidth + 1)
  .map(el => (el.querySelector('caption') || el).innerText.slice(0, 60))"""


@pytest.fixture(scope="module")
def served(smoke_book):
    _, html = smoke_book
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), QuietHandler(html))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def open_page(browser, url: str):
    """The page at 1280 px, with every problem it reports collected (nothing may leave the machine)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    local = "/".join(url.split("/", 3)[:3])

    def outside(route):
        problems.append(f"request off the machine: {route.request.url}")
        route.abort()

    page.route(lambda target: not target.startswith(local), outside)
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}") if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"failed request: {request.url}"))
    page.on(
        "response",
        lambda response: (
            problems.append(f"HTTP {response.status}: {response.url}") if response.status >= 400 else None
        ),
    )
    page.goto(url, wait_until="networkidle")
    page.wait_for_timeout(300)
    return page, problems


def test_the_toc_pages_are_all_visited():
    assert PAGES[0] == "book/intro.html" and "book/executed/06_recommend_well.html" in PAGES
    assert "book/scaling.html" in PAGES and len(PAGES) >= 12


@pytest.mark.parametrize("path", PAGES)
def test_page_reads_cleanly(chromium, served, path, tmp_path_factory):
    page, problems = open_page(chromium, f"{served}/{path}")
    try:
        assert page.title().strip()
        page.wait_for_function(  # math is typeset by the book's own MathJax, offline
            "() => !document.querySelector('.math') || document.querySelector('mjx-container')",
            timeout=20_000,
        )
        images = page.eval_on_selector_all(
            "img",
            "els => els.map(e => [e.src, e.complete && e.naturalWidth > 0, e.clientWidth / e.naturalWidth])",
        )
        assert all(ok for _, ok, _ in images), [src for src, ok, _ in images if not ok]
        small = [src for src, _, scale in images if "_images" in src and scale < MIN_FIGURE_SCALE]
        assert not small, f"figures shown too small to read: {small}"
        gaps = page.eval_on_selector_all("article table", TABLE_GAPS)
        assert all(gap is None or gap >= MIN_GAP_PX for gap in gaps), (
            f"cells {MIN_GAP_PX} px or closer: {gaps}"
        )
        clipped = page.eval_on_selector_all("article table, article .cell_output, article pre", CLIPPED)
        assert clipped == [], f"cut off without a scrollbar: {clipped}"
        wider = page.eval_on_selector_all(
            "article table, article .pst-scrollable-table-container, article .full-width", OVERFLOWING
        )
        assert wider == [], f"tables wider than their box at 1280 px: {wider}"
        page.evaluate("() => window.MathJax?.startup?.promise.then(() => true) ?? true")
        wide_math = page.eval_on_selector_all("article div.math", WIDE_MATH)
        assert wide_math == [], f"displayed equations wider than the text column at 1280 px: {wide_math}"
        assert page.eval_on_selector_all(".output.stderr, .stderr, .traceback", "els => els.length") == 0
        assert "Built with profile" in page.inner_text(".movierec-provenance")
        licence = page.locator(".movierec-licence")
        assert licence.is_visible() and "licensed under CC BY 4.0" in licence.inner_text()
        assert licence.locator("a[rel=license]").get_attribute("href").endswith("/licenses/by/4.0/")
        shots = tmp_path_factory.getbasetemp() / "screenshots"
        shots.mkdir(exist_ok=True)
        page.screenshot(path=str(shots / (path.replace("/", "_") + ".png")), full_page=True)
        assert problems == []
    finally:
        page.close()


def test_optimizer_page_has_a_captioned_figure_per_optimizer(chromium, served):
    page, problems = open_page(chromium, f"{served}/book/executed/03_optimizers.html")
    try:
        captions = page.eval_on_selector_all("figure figcaption", "els => els.map(e => e.innerText)")
        study = [text for text in captions if "cost per epoch of each learning rate" in text]
        assert [text.split(":")[0].split()[-1] for text in study] == ["Adam", "SGD"]
        assert all(text.strip().startswith("Fig. 3.") for text in study)
        assert problems == []
    finally:
        page.close()


def test_solutions_fold_open_on_click(chromium, served):
    page, problems = open_page(chromium, f"{served}/book/executed/02_model.html")
    try:
        solution = page.locator(".solution").first
        assert solution.is_visible()
        assert not page.locator(".solution section").first.is_visible()
        solution.locator(".toggle-button, button, .solution-title, p.admonition-title").first.click()
        page.wait_for_timeout(300)
        assert page.locator(".solution section").first.is_visible()
        assert problems == []
    finally:
        page.close()


def test_the_page_suggests_close_spellings_as_the_command_does(chromium, served):
    page, problems = open_page(chromium, f"{served}/book/executed/04_recommendations.html")
    try:
        page.wait_for_selector("#try-recommender[data-ready]", timeout=20_000)
        box = page.locator('#try-recommender input[aria-label="Movie title"]')
        box.fill("forest gump")
        first = page.locator("#try-recommender [role=option]").first
        assert first.inner_text() == "Forrest Gump (1994)" and first.get_attribute("data-rank") == "close"
        message = page.locator("#try-recommender .movierec-message").inner_text()
        assert message.startswith(
            "No title matches \u201cforest gump\u201d: did you mean Forrest Gump (1994)"
        )
        box.press("Enter")
        chosen = page.locator("#try-recommender .movierec-chosen li").all_inner_texts()
        assert any(text.startswith("Forrest Gump (1994)") for text in chosen)
        assert problems == []
    finally:
        page.close()
