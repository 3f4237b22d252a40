"""The PDF editions: each edition built as one HTML page (Sphinx's ``singlehtml``) and printed
by headless Chromium (Playwright's ``page.pdf``), no TeX.

Before printing, the page is readied for paper (:data:`PREPARE`): MathJax has finished typesetting,
every image has loaded, the instructor edition's solutions are unfolded, a contents list of
the chapters (and their sections) is put after the title, each chapter starts on a new page, and
a table or displayed equation wider than the text is scaled down to fit instead of being cut.
The page is printed twice: the first PDF tells on which page each chapter starts (read back
with ``pdftotext``), and the second carries those page numbers in its contents. Every page's
footer has its number. Each PDF is tagged (its structure tree holds the headings, lists,
tables and each figure's alt text, the caption's words: :mod:`movierec.book.access`) and has
an outline of the chapters and their sections (bookmarks: Chromium makes them from the tagged
headings, so only a tagged PDF has them; headings are set at line height 1.4, as Chromium
tagged a heading's text twice where its glyphs reached over a page's edge). ``make
book-pdf`` writes ``_build/pdf/movierec-instructor.pdf`` and ``_build/pdf/movierec-student.pdf``.
Book page: "For teachers".
"""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import MovierecError

PDF_NAMES = {"instructor": "movierec-instructor.pdf", "student": "movierec-student.pdf"}
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic"]
A4 = {"format": "A4", "margin": {"top": "16mm", "bottom": "18mm", "left": "15mm", "right": "15mm"}}
COLUMN_PX = round((210 - 15 - 15) / 25.4 * 96)  # 680 CSS px: A4's width less the side margins
FOOTER = (
    '<div style="font-size:8px;width:100%;text-align:center;color:#555;">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)
PRINT_CSS = """
@page { size: A4; }
html { font-size: 14px; }
.skip-link, .onlyprint, .bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-header-article,
.prev-next-area,
.bd-footer, .bd-footer-content, footer, .header-article-items, .toggle-button,
button.toggle-button, .headerlink, #pst-back-to-top, .search-button__wrapper,
#try-recommender input { display: none !important; }
.bd-main .bd-content .bd-article-container, .bd-container__inner, .bd-page-width,
.bd-article, .bd-main, .bd-container { max-width: 100% !important; width: 100% !important;
  padding: 0 !important; margin: 0 !important; }
.bd-main .bd-content { justify-content: flex-start !important; }
.toggle-hidden, .solution.dropdown > *:not(.admonition-title) { display: block !important;
  visibility: visible !important; opacity: 1 !important; height: auto !important; }
article.bd-article > section > h1 { display: block !important; font-size: 2.4em; margin: 25% 0 1em; }
section.movierec-chapter { break-before: page; }
#movierec-intro { break-before: page; }
#movierec-contents { break-after: page; }
#movierec-contents ol { list-style: none; padding-left: 0; }
#movierec-contents li { margin: 0.2em 0; }
#movierec-contents li li { margin-left: 1.5em; font-size: 0.92em; }
#movierec-contents a { color: inherit; text-decoration: none; }
#movierec-contents .mr-page { float: right; }
table, figure, img, mjx-container[display="true"], .admonition-title { break-inside: avoid; }
.admonition-title, .caption, figcaption { break-after: avoid; }
h1, h2, h3 { break-after: avoid; }
article :is(h1, h2, h3, h4) { line-height: 1.4 !important; }
table.mr-table { display: table !important; width: auto !important; max-width: none !important;
  overflow: visible !important; }
.pst-scrollable-table-container, .full-width, div.full-width.docutils.container {
  overflow: visible !important; width: auto !important; max-width: 100% !important; }
mjx-container[display="true"] { overflow: visible !important; }
img { max-width: 100% !important; height: auto !important; }
.admonition, div.cell, .cell_output { max-width: 100% !important; box-sizing: border-box;
  margin-right: 0 !important; }
pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
.mr-figure-scroll, mjx-container[display="true"] { overflow: visible !important; }
img { min-width: 0 !important; }
[data-mr-scroll] { -webkit-mask-image: none !important; mask-image: none !important; }
table.mr-table > caption::after, table.mr-table::before { content: none !important; }
"""
#: Run in the page before printing: unfold, number chapters into a contents list, fit wide
#: boxes, point links into the page at the page. Returns the chapters' titles, in order.
PREPARE = """(pages) => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
  document.querySelectorAll('a[href*=".html#"]').forEach(a => {
    const href = a.getAttribute('href');
    if (!/^[a-z]+:/.test(href)) a.setAttribute('href', href.slice(href.indexOf('#')));
  });
  const article = document.querySelector('article.bd-article') || document.body;
  const home = article.querySelector(':scope > section');
  const tocs = home ? [...home.querySelectorAll(':scope > .toctree-wrapper')] : [];
  if (home && tocs.length && !document.getElementById('movierec-intro')) {
    // the root page's own text comes before the chapters, as on its HTML page
    const intro = document.createElement('div');
    intro.id = 'movierec-intro';
    const rest = [...home.children]
      .filter(c => c.tagName !== 'H1' && !c.classList.contains('toctree-wrapper'));
    rest.forEach(c => intro.appendChild(c));
    tocs[0].before(intro);
  }
  const chapters = [...article.querySelectorAll('span[id^="document-"]')]
    .map(span => span.nextElementSibling)
    .filter(s => s && s.tagName === 'SECTION' && s.querySelector(':scope > :is(h1, h2)'));
  const titles = [];
  const list = document.createElement('ol');
  chapters.forEach((section, i) => {
    section.classList.add('movierec-chapter');
    if (!section.id) section.id = 'movierec-chapter-' + i;
    const title = section.querySelector(':scope > :is(h1, h2)').innerText.replace(/#$/, '').trim();
    titles.push(title);
    const item = document.createElement('li');
    const page = pages && pages[i] ? pages[i] : '';
    item.innerHTML = `<a href="#${section.id}"></a><span class="mr-page">${page}</span>`;
    item.querySelector('a').textContent = title;
    const sub = document.createElement('ol');
    section.querySelectorAll(':scope > section > :is(h2, h3)').forEach(h => {
      const s = document.createElement('li');
      s.textContent = h.innerText.replace(/#$/, '').trim();
      sub.appendChild(s);
    });
    if (sub.children.length) item.appendChild(sub);
    list.appendChild(item);
  });
  let nav = document.getElementById('movierec-contents');
  if (!nav) {
    nav = document.createElement('div');
    nav.id = 'movierec-contents';
    const first = article.querySelector('section');
    const heading = first ? first.querySelector(':scope > h1') : null;
    if (heading) heading.after(nav); else article.prepend(nav);
  }
  nav.innerHTML = '<h2>Contents</h2>';
  nav.appendChild(list);
  const column = article.getBoundingClientRect();
  for (const el of article.querySelectorAll('table, mjx-container[display="true"]')) {
    el.style.zoom = '';
    if (el.parentElement.closest('table')) continue;
    const left = el.getBoundingClientRect().left;
    const room = column.right - left;
    if (el.scrollWidth > room + 1 && room > 0) el.style.zoom = String(Math.max(0.4, room / el.scrollWidth));
    // a zoomed table lays out again (its cells wrap at the wider room the zoom leaves), so its
    // width is measured again until it fits
    for (let step = 0; step < 6 && el.style.zoom; step++) {
      const box = el.getBoundingClientRect();
      const zoom = parseFloat(el.style.zoom);
      if (box.right <= column.right + 1 || zoom <= 0.4) break;
      el.style.zoom = String(Math.max(0.4, zoom * (column.right - box.left - 1) / box.width));
    }
  }
  return titles;
}"""
#: Whether the page is ready: MathJax finished (or absent) and every image loaded.
READY = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  await Promise.all([...document.images].map(img => img.complete ? null :
    new Promise(done => { img.onload = img.onerror = done; })));
  return !document.querySelector('.math') || !!document.querySelector('mjx-container');
}"""
#: What is wider than its box after :data:`PREPARE` (none is expected): a check for tests.
CUT = """() => {
  const article = document.querySelector('article.bd-article') || document.body;
  const right = article.getBoundingClientRect().right;
  return [...article.querySelectorAll('table, mjx-container[display="true"], img, pre')]
    .filter(el => el.getBoundingClientRect().right > right + 2)
    .map(el => el.tagName + ' ' + (el.innerText || el.getAttribute('src') || '').slice(0, 40));
}"""


class PdfError(MovierecError):
    """Chromium or pdftotext is missing, or the page could not be printed."""


def chromium_path() -> str:
    """Debian's Chromium (``$MOVIEREC_CHROMIUM``, else ``chromium`` on the PATH)."""
    found = (
        os.environ.get("MOVIEREC_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not found:
        raise PdfError("Chromium is not installed: apt-get install -y chromium (or set MOVIEREC_CHROMIUM)")
    return found


def page_texts(pdf: Path) -> list[str]:
    """Each page's text (``pdftotext``, poppler-utils), in order."""
    tool = shutil.which("pdftotext")
    if not tool:
        raise PdfError("pdftotext is not installed: apt-get install -y poppler-utils")
    done = subprocess.run([tool, "-layout", str(pdf), "-"], capture_output=True, text=True)
    if done.returncode != 0:
        raise PdfError(f"pdftotext could not read {pdf}: {done.stderr.strip()[:200]}")
    return done.stdout.split("\f")


def chapter_pages(pdf: Path, titles: list[str]) -> list[int]:
    """The page (1-based) on which each chapter starts: the first page, after the previous
    chapter's, whose opening lines hold the chapter's title."""
    pages, start = [], 1  # page 1 holds the contents
    texts = page_texts(pdf)
    for title in titles:
        words = " ".join(title.split())
        for number in range(start + 1, len(texts) + 1):
            opening = " ".join(" ".join(texts[number - 1].split("\n")[:8]).split())
            if words[:40] in opening:
                pages.append(number)
                start = number
                break
        else:
            pages.append(0)
    return pages


def single_page(built: Path, root_doc: str) -> Path:
    """The single-page edition as a file at the top of ``built``: Sphinx writes it as the root
    document (``book/intro.html``) but addresses its styles, scripts and images from the top
    folder, so a copy there (``print.html``) finds them all."""
    page = built / f"{root_doc}.html"
    if not page.exists():
        raise PdfError(f"the single-page build has no {page}: build it again")
    target = built / "print.html"
    shutil.copyfile(page, target)
    return target


def print_pdf(index: Path, target: Path) -> dict[str, object]:
    """Print the single-page edition at ``index`` to ``target``; what was printed: the pages
    each chapter starts on, and anything still wider than its box (expected: none). The printing
    runs in a thread of its own: Playwright's sync API refuses a thread whose asyncio loop is
    running (a caller's, such as a test session that already drives Chromium)."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(_print_pdf, index, target).result()


def _print_pdf(index: Path, target: Path) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    target.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            # laid out at the printed column's width (A4 less the margins, in CSS pixels), so that
            # what fits the screen here fits the paper
            page = browser.new_page(viewport={"width": COLUMN_PX, "height": 1000})
            page.goto(index.resolve().as_uri(), wait_until="load")
            page.emulate_media(media="print")
            page.add_style_tag(content=PRINT_CSS)
            page.wait_for_function(READY, timeout=120_000)
            titles = page.evaluate(PREPARE, None)
            temporary = target.with_name(f".{target.name}.tmp")
            options = {**A4, "print_background": True, "display_header_footer": True}
            options |= {"header_template": "<span></span>", "footer_template": FOOTER}
            options |= {"outline": True, "tagged": True}  # bookmarks; a structure tree with alt text
            page.pdf(path=str(temporary), **options)
            pages = chapter_pages(temporary, titles)
            page.evaluate(PREPARE, pages)
            cut = page.evaluate(CUT)
            page.pdf(path=str(temporary), **options)
            temporary.replace(target)
            page.close()
        finally:
            browser.close()
    return {"titles": titles, "pages": pages, "cut": cut}
