"""Accessibility (issue 32): axe-core's WCAG 2.2 AA rules on every page of both editions at a
desktop's and a phone's width (and in the dark theme at a desktop's), and what axe cannot see:
alt text that says what a figure shows, solution toggles named by their exercise, no page wider
than a phone, a wide table, equation or line of code that shows it scrolls, figure text of 9 px
or more, touch targets of 24 px or more, and PDFs that are tagged and have an outline.

axe-core is the npm package pinned in ``tests/axe/package.json`` (``make test`` and ``.ci/run``
install it with ``npm ci``); the unit tests at the top need neither it nor a browser.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from docutils import nodes

from conftest import ROOT
from movierec.book import access

AXE_DIR = ROOT / "tests" / "axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = {"desktop": 1280, "phone": 390}
BLOCKING = {"serious", "critical"}
#: What axe still reports that the book cannot fix, by rule: the reason, and where it may show.
#: (None left: every rule the default book failed is fixed in the book's CSS, templates or
#: extension. A theme leftover goes here with its reason, never into the page.)
UNFIXABLE: dict[str, str] = {}


# ---- The extension's parts, without a build ---------------------------------------------------


def test_a_path_is_no_alt_text():
    assert access.is_path(None) and access.is_path("") and access.is_path("  ")
    assert access.is_path("../../_images/30011ce73d11abfbfc8ad6ce.png")
    assert access.is_path("x", "x") and access.is_path("figure.svg")
    assert not access.is_path("Cost per epoch of one run (log scale).")


def test_a_captioned_figure_gives_its_images_the_caption_and_an_uncaptioned_one_is_named():
    figure = nodes.figure()
    figure += nodes.image(uri="../../_images/a.png", alt="../../_images/a.png")
    figure += nodes.caption("", "Cost per epoch ", nodes.emphasis("", "of one run"), nodes.Text("."))
    lone = nodes.image(uri="b.png")
    said = nodes.image(uri="c.png", alt="A heatmap of overlaps")
    tree = nodes.section("", figure, lone, said)
    assert access.alt_from_captions(tree) == [lone]
    assert figure[0]["alt"] == "Cost per epoch of one run."
    assert said["alt"] == "A heatmap of overlaps"


def test_the_page_fixes_name_summaries_by_their_text_and_list_the_references():
    body = (
        '<summary aria-label="Toggle hidden content">\n<p class="collapsed">Show code cell source</p>'
        '<div role="list" class="citation-list">\n<div class="citation" id="id2" role="doc-biblioentry">'
        '<img alt="Fig" class="mr-minw-430" src="x.png" />'
    )
    fixed = access.fix_page(body)
    assert "<summary>\n" in fixed and "aria-label" not in fixed
    assert 'id="id2" role="listitem"' in fixed and "doc-biblioentry" not in fixed
    assert '<img alt="Fig" class="mr-minw-430" style="min-width: 430px" src="x.png" />' in fixed


def test_figure_text_keeps_nine_pixels_at_the_narrowest_shown_width():
    # 10 pt at 110 dpi is 15.3 px: a 727 px image may shrink to 429 px, no further
    assert access.min_shown_width(727, 110) == 429
    assert access.min_shown_width(727, 110) * (10 * 110 / 72) / 727 >= access.MIN_TEXT_PX
    assert access.min_shown_width(300, 110) == 177 and access.min_shown_width(100, 20) == 100


def test_the_theme_buttons_are_named_by_what_they_show():
    search = (ROOT / "book" / "_templates" / "search-button-field.html").read_text()
    button = re.search(r"<button[^>]*>", search).group(0)
    assert "aria-label" not in button  # named by its text, "Search Ctrl+K"
    mode = (ROOT / "book" / "_templates" / "theme-switcher.html").read_text()
    assert mode.count('aria-hidden="true"') == 3 and " title=" not in mode


def test_the_kernel_draws_figures_for_the_column():
    from movierec.book.kernel import FIGURE_RC

    width, _ = FIGURE_RC["figure.figsize"]
    smallest = min(FIGURE_RC[key] for key in FIGURE_RC if key.endswith("size") and "fig" not in key)
    assert smallest >= access.FIGURE_TEXT_PT
    # a figure drawn at the default size shows its smallest text at >= 9 px in a 342 px column
    assert smallest * 342 / (72 * width) >= access.MIN_TEXT_PX


def test_axe_core_is_pinned():
    pinned = json.loads((AXE_DIR / "package.json").read_text())["devDependencies"]["axe-core"]
    locked = json.loads((AXE_DIR / "package-lock.json").read_text())["packages"]["node_modules/axe-core"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned) and locked["version"] == pinned


# ---- The built book in Chromium ---------------------------------------------------------------


@pytest.fixture(scope="session")
def axe_script() -> str:
    if not AXE_SCRIPT.exists():
        message = f"axe-core is not installed: run `npm ci` in {AXE_DIR} (make test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return AXE_SCRIPT.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def editions(smoke_book):
    """Both editions of the smoke book: {"instructor": folder, "student": folder}."""
    from movierec.book.build import build_book

    root, html = smoke_book
    patch = pytest.MonkeyPatch()
    patch.setenv("MOVIEREC_RUNS", str(root / "runs"))
    try:
        student = build_book("smoke", root, edition="student")
    finally:
        patch.undo()
    return {"instructor": html, "student": student}


@pytest.fixture(scope="module")
def served(editions, serve):
    return {edition: serve(folder) for edition, folder in editions.items()}


@pytest.fixture(scope="module")
def serve():
    """The conftest's ``serve`` for a whole module (the editions are served once)."""
    from conftest import serving

    with serving() as start:
        yield start


def pages() -> list[str]:
    from movierec.book.build import toc_pages

    return [f"{page}.html" for page in toc_pages(ROOT)]


def open_page(browser_, url: str, width: int, mode: str = ""):
    page = browser_.new_page(viewport={"width": width, "height": 900})
    if mode:  # the theme's colour mode, as a reader's button press leaves it
        page.add_init_script(f"localStorage.setItem('mode', '{mode}');")
    local = "/".join(url.split("/", 3)[:3])
    page.route(lambda target: not target.startswith(local), lambda route: route.abort())
    page.goto(url, wait_until="networkidle")
    page.evaluate("() => window.MathJax?.startup?.promise.then(() => true) ?? true")
    page.wait_for_timeout(400)  # movierec.js marks the boxes that scroll after layout settles
    return page


def axe_violations(page, script: str) -> list[dict]:
    page.evaluate(script)
    found = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return found["violations"]


#: Each box that is wider than it shows: what it is, whether it scrolls, and whether it says so.
SCROLLING = """() => [...document.querySelectorAll(
    'article table, article .pst-scrollable-table-container, article pre, '
    + 'article mjx-container[display="true"], article .mr-figure-scroll')]
  .filter(el => el.scrollWidth > el.clientWidth + 1)
  .map(el => ({what: el.tagName + '.' + el.className, scrolls: ['auto', 'scroll'].includes(
      getComputedStyle(el).overflowX), marked: el.hasAttribute('data-mr-scroll'),
      focusable: el.tabIndex >= 0 || !!el.querySelector('[tabindex="0"], a, button')}))"""
IMAGES = """() => [...document.querySelectorAll('article img')].map(img => ({
  src: img.getAttribute('src'), alt: img.getAttribute('alt'), shown: img.clientWidth,
  natural: img.naturalWidth}))"""


@pytest.mark.browser
@pytest.mark.notebooks
@pytest.mark.integration
@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
@pytest.mark.parametrize("edition", ["instructor", "student"])
@pytest.mark.parametrize("path", pages())
def test_axe_finds_nothing_serious(chromium, served, axe_script, editions, edition, width, path):
    page = open_page(chromium, f"{served[edition]}/{path}", width)
    try:
        violations = axe_violations(page, axe_script)
        blocking = [
            f"{v['id']} ({v['impact']}): {[n['html'][:120] for n in v['nodes'][:3]]}"
            for v in violations
            if v["impact"] in BLOCKING and v["id"] not in UNFIXABLE
        ]
        assert blocking == [], f"axe-core {edition} {path} at {width} px"
        images = page.evaluate(IMAGES)
        assert all(not access.is_path(image["alt"], image["src"]) for image in images), images
        if width == WIDTHS["phone"]:
            wide = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert wide[0] <= wide[1], f"the page is {wide[0]} px wide on a {wide[1]} px screen"
            for box in page.evaluate(SCROLLING):
                assert box["scrolls"] and box["marked"] and box["focusable"], box
            for image in images:
                if "_images/" in image["src"]:
                    text_px = figure_text_px(editions[edition], path, image["src"])
                    shown = text_px * image["shown"] / image["natural"]
                    assert shown >= access.MIN_TEXT_PX - 0.05, f"{image['src']}: text {shown:.1f} px"
        wraps = page.eval_on_selector_all(
            "article pre", "els => els.map(e => getComputedStyle(e).whiteSpace)"
        )
        assert set(wraps) <= {"pre"}, "code must keep its lines (white-space: pre)"
    finally:
        page.close()


def figure_text_px(html: Path, path: str, src: str) -> float:
    """The smallest text of a figure image, in its own pixels: 10 pt at the PNG's dpi."""
    from PIL import Image

    file = (html / path).parent / src
    with Image.open(file.resolve()) as image:
        dpi = float(image.info.get("dpi", (72, 72))[0])
    return access.FIGURE_TEXT_PT * dpi / 72


@pytest.mark.browser
@pytest.mark.notebooks
@pytest.mark.integration
@pytest.mark.parametrize("path", pages())
def test_axe_finds_nothing_serious_in_the_dark_theme(chromium, served, axe_script, path):
    page = open_page(chromium, f"{served['instructor']}/{path}", WIDTHS["desktop"], mode="dark")
    try:
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        violations = axe_violations(page, axe_script)
        blocking = [
            f"{v['id']} ({v['impact']}): {[n['html'][:120] for n in v['nodes'][:3]]}"
            for v in violations
            if v["impact"] in BLOCKING and v["id"] not in UNFIXABLE
        ]
        assert blocking == [], f"axe-core {path}, dark theme"
    finally:
        page.close()


@pytest.mark.browser
@pytest.mark.notebooks
@pytest.mark.integration
def test_solution_toggles_name_their_exercise(chromium, served):
    page = open_page(chromium, f"{served['instructor']}/book/executed/02_model.html", 1280)
    try:
        names = page.eval_on_selector_all(
            ".solution .toggle-button", "els => els.map(e => e.getAttribute('aria-label'))"
        )
        assert names and all(re.fullmatch(r"Solution to Exercise \d+\.\d+", name) for name in names), names
        assert len(set(names)) == len(names)
        assert page.inner_text(".solution .admonition-title").strip().startswith("Solution")
    finally:
        page.close()


@pytest.mark.browser
@pytest.mark.notebooks
@pytest.mark.integration
def test_the_recommender_fits_a_phone_and_its_targets_a_finger(chromium, served):
    page = open_page(chromium, f"{served['instructor']}/book/executed/04_recommendations.html", 390)
    try:
        page.wait_for_selector("#try-recommender[data-ready]", timeout=20_000)
        box = page.locator('#try-recommender input[aria-label="Movie title"]')
        box.fill("toy story")
        box.press("Enter")
        page.wait_for_timeout(300)
        sizes = page.eval_on_selector_all(
            "#try-recommender button, #try-recommender select",
            "els => els.map(e => [e.getAttribute('aria-label') || e.id, e.getBoundingClientRect().width,"
            " e.getBoundingClientRect().height])",
        )
        assert sizes and all(w >= 24 and h >= 24 for _, w, h in sizes), sizes
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= 390
    finally:
        page.close()


# ---- The PDFs ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdfs(editions):
    from conftest import CHROMIUM
    from movierec.book.build import build_book

    if CHROMIUM is None or shutil.which("pdfinfo") is None:
        pytest.skip("Chromium and pdfinfo (poppler-utils) are needed to print and read the PDFs")
    root = editions["instructor"].parents[1]
    patch = pytest.MonkeyPatch()
    patch.setenv("MOVIEREC_RUNS", str(root / "runs"))
    try:
        return build_book("smoke", root, pdf=True)
    finally:
        patch.undo()


@pytest.mark.browser
@pytest.mark.notebooks
@pytest.mark.integration
@pytest.mark.parametrize("name", ["movierec-instructor.pdf", "movierec-student.pdf"])
def test_the_pdfs_are_tagged_with_an_outline_and_alt_text(pdfs, name):
    from movierec.book.toc import chapter_names

    path = pdfs / name
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M), info
    outline = pdf_outline(path)
    assert len(outline) >= len(chapter_names(ROOT)), outline
    for name in chapter_names(ROOT):
        number = int(name.split("_")[0])
        assert any(item.startswith(f"{number}. ") for item in outline), (number, outline)
    doubled = [item for item in outline if re.match(r"^(\S+\. )\1", item)]
    assert doubled == [], f"bookmarks with their text twice: {doubled}"
    struct = subprocess.run(["pdfinfo", "-struct", str(path)], capture_output=True, text=True).stdout
    assert "Figure" in struct
    alts = figure_alts(path)
    assert alts and all(not access.is_path(alt) for alt in alts), alts


def pdf_outline(path: Path) -> list[str]:
    """The PDF's bookmarks, in order (``pdftohtml -xml`` writes them as an <outline>)."""
    done = subprocess.run(
        ["pdftohtml", "-xml", "-i", "-q", "-stdout", str(path)], capture_output=True, text=True, check=True
    )
    return re.findall(r'<item page="\d+">([^<]*)</item>', done.stdout)


def figure_alts(path: Path) -> list[str]:
    """Every /Alt of the PDF's structure elements, read with pikepdf-free parsing: the text is
    decoded from the (uncompressed) literal or hex strings Chromium writes."""
    import zlib

    data = path.read_bytes()
    texts = []
    for stream in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            texts.append(zlib.decompress(stream.group(1)))
        except zlib.error:
            continue
    alts = []
    for chunk in [data, *texts]:
        for match in re.finditer(rb"/Alt\s*(\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>)", chunk):
            alts.append(pdf_string(match.group(1)))
    return alts


def pdf_string(raw: bytes) -> str:
    """A PDF string object (literal or hex; UTF-16 with a byte-order mark, else Latin-1)."""
    if raw.startswith(b"<"):
        data = bytes.fromhex(raw[1:-1].decode("ascii").replace(" ", "").replace("\n", ""))
    else:
        data = re.sub(rb"\\([nrtbf()\\])", lambda m: {b"n": b"\n"}.get(m.group(1), m.group(1)), raw[1:-1])
    if data.startswith(b"\xfe\xff"):
        return data[2:].decode("utf-16-be", "replace")
    return data.decode("latin-1")
