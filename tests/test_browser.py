"""The built HTML in a real headless Chromium (Playwright): pages load cleanly, every image
is drawn, the expected tables are there, and no stderr block or page error shows.

External requests (the MathJax CDN) cannot leave this machine; they are answered locally with
an empty script so that only the book's own files are judged.
"""

from __future__ import annotations

import http.server
import shutil
import threading

import pytest

from conftest import QuietHandler

pytestmark = [pytest.mark.browser, pytest.mark.notebooks, pytest.mark.integration]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
IGNORED_PAGE_ERRORS = ("THEBE_JS_URL",)
PAGES = {  # page -> minimum number of tables (and whether figures are expected)
    "index.html": 0,
    "book/executed/01_data.html": 5,
    "book/executed/02_model.html": 2,
    "book/executed/03_optimizers.html": 1,
    "book/executed/04_recommendations.html": 2,
    "book/executed/05_seed.html": 1,
    "book/rerun.html": 2,
}
FIGURES = {
    "book/executed/01_data.html": 1,
    "book/executed/02_model.html": 1,
    "book/executed/03_optimizers.html": 2,
    "book/executed/04_recommendations.html": 1,
}


@pytest.fixture(scope="module")
def served(smoke_book):
    _, html = smoke_book
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), QuietHandler(html))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium; .ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    local = url.split("/", 3)[:3]
    page.route(
        lambda target: not target.startswith("/".join(local)),
        lambda route: route.fulfill(status=200, content_type="application/javascript", body=""),
    )
    page.on(
        "pageerror",
        lambda error: (
            problems.append(f"page error: {error}")
            if not any(known in str(error) for known in IGNORED_PAGE_ERRORS)
            else None
        ),
    )
    page.on("requestfailed", lambda request: problems.append(f"failed request: {request.url}"))
    page.on(
        "response",
        lambda response: (
            problems.append(f"HTTP {response.status}: {response.url}") if response.status >= 400 else None
        ),
    )
    page.goto(url, wait_until="networkidle")
    return page, problems


@pytest.mark.parametrize("path", list(PAGES))
def test_page_renders_cleanly(browser, served, path):
    page, problems = open_page(browser, f"{served}/{path}")
    try:
        images = page.eval_on_selector_all(
            "img", "els => els.map(e => [e.src, e.complete && e.naturalWidth > 0])"
        )
        assert all(ok for _, ok in images), [src for src, ok in images if not ok]
        figures = page.eval_on_selector_all("figure img, .cell_output img", "els => els.length")
        assert figures >= FIGURES.get(path, 0)
        assert page.eval_on_selector_all("table", "els => els.length") >= PAGES[path]
        assert page.eval_on_selector_all(".output.stderr, .stderr", "els => els.length") == 0
        assert page.eval_on_selector_all(".output.traceback, .traceback", "els => els.length") == 0
        assert problems == []
        assert page.title().strip()
    finally:
        page.close()


def test_optimizer_page_has_two_captioned_figures(browser, served, tmp_path):
    page, problems = open_page(browser, f"{served}/book/executed/03_optimizers.html")
    try:
        captions = page.eval_on_selector_all("figure figcaption", "els => els.map(e => e.innerText)")
        assert any(text.strip().startswith("Fig") and "Adam" in text for text in captions)
        assert any("SGD with momentum 0.9" in text for text in captions)
        page.screenshot(path=str(tmp_path / "optimizers.png"), full_page=True)
        assert (tmp_path / "optimizers.png").stat().st_size > 10_000
        assert problems == []
    finally:
        page.close()
