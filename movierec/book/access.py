"""The book's accessibility extension (issue 32): what a screen reader, a keyboard and a phone
need that the theme and the other extensions leave out.

- **Alt text from captions.** A figure's image says what it shows: an image in a captioned
  figure (myst-nb's ``{glue:figure}``, the book's ``{glue:figures}``) whose alt text is missing
  or a file path takes the caption's text. An image with neither alt text nor caption is a
  warning (the driver builds with ``-W``): glue it and show it with ``{glue:figure}`` and a
  caption. The PDFs are printed from the same pages, so their figures carry the same text.
- **Solutions named by their exercise.** With ``exercise_style: solution_follow_exercise`` a
  solution's title is only "Solution"; its title gains " to Exercise N.M", visually hidden,
  and ``movierec.js`` names each solution's toggle button by that title ("Solution to
  Exercise 3.1"), where sphinx-togglebutton names every one "Toggle hidden content".
- **Names that match what is shown.** myst-nb names every hidden-code summary "Toggle hidden
  content" while it shows "Show code cell source" (WCAG 2.5.3): the summary is named by its
  text. The theme's search and colour-mode buttons are fixed in ``book/_templates``.
- **The references list** is a list of list items (docutils marks the entries
  ``doc-biblioentry``, a deprecated role that is no list item: WCAG 1.3.1).
- **Figure text on a phone.** Each figure image is never shown smaller than the scale at which
  its smallest text (:data:`FIGURE_TEXT_PT` at the image's dpi) stays :data:`MIN_TEXT_PX` on
  screen: where the column is narrower, the image keeps that width and scrolls sideways in its
  own box (``movierec.css``, ``movierec.js`` show that it scrolls).

Enabled in ``_config.yml`` (``sphinx.extra_extensions``). Book page: "For teachers".
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from docutils import nodes

#: The smallest text the book's figures are drawn with, in points (movierec.plots.TEXT and the
#: kernel's rcParams, movierec.book.kernel.FIGURE_RC).
FIGURE_TEXT_PT = 10
#: The smallest figure text a reader gets on screen, in CSS pixels (a phone included).
MIN_TEXT_PX = 9
SCROLL_CLASS = "mr-figure-scroll"
MIN_WIDTH_CLASS = "mr-minw-"
HIDDEN_CLASS = "visually-hidden"
SOLUTION_TO = " to "
_PATH_ALT = re.compile(r"^[\w./\\:~%-]+\.(png|jpe?g|gif|svg|webp)$", re.I)


def is_path(alt: str | None, uri: str = "") -> bool:
    """Whether ``alt`` says nothing a reader can use: missing, empty, the image's address or
    any file path."""
    text = (alt or "").strip()
    return not text or text == uri or bool(_PATH_ALT.match(text))


def caption_text(figure: nodes.figure) -> str:
    """A figure's caption as plain text (no "Fig. N": Sphinx adds the number when it writes)."""
    for child in figure.children:
        if isinstance(child, nodes.caption):
            return " ".join(child.astext().split())
    return ""


def alt_from_captions(doctree: nodes.Node) -> list[nodes.image]:
    """Give every image of a captioned figure whose alt text is a path (or missing) its
    caption's text; the images left with nothing to say (no alt text, no caption)."""
    silent = []
    for image in doctree.findall(nodes.image):
        if not is_path(image.get("alt"), image.get("uri", "")):
            continue
        figure = image.parent
        while figure is not None and not isinstance(figure, nodes.figure):
            figure = figure.parent
        text = caption_text(figure) if figure is not None else ""
        if text:
            image["alt"] = text
        else:
            silent.append(image)
    return silent


def png_size(path: Path) -> tuple[int, int, float] | None:
    """A PNG's width and height in pixels and its dpi (matplotlib writes it in the file); None
    for anything else or a PNG that does not say its dpi."""
    try:
        from PIL import Image

        with Image.open(path) as image:
            if image.format != "PNG":
                return None
            dpi = image.info.get("dpi")
            if not dpi:
                return None
            return image.size[0], image.size[1], float(dpi[0])
    except (OSError, ValueError):
        return None


def min_shown_width(width: int, dpi: float) -> int:
    """The narrowest CSS width at which an image ``width`` pixels wide, drawn at ``dpi`` with
    :data:`FIGURE_TEXT_PT`-point text, keeps that text :data:`MIN_TEXT_PX` pixels tall."""
    text_px = FIGURE_TEXT_PT * dpi / 72
    return min(width, math.ceil(width * MIN_TEXT_PX / text_px))


def keep_figure_text(app, doctree: nodes.Node, docname: str) -> None:
    """Mark each figure image (a PNG that says its dpi) with its narrowest readable width
    (class ``mr-minw-N``, made a ``min-width`` by :func:`_page_fixes`) and put it in a box of
    its own that scrolls sideways where the column is narrower."""
    for image in list(doctree.findall(nodes.image)):
        if isinstance(image.parent, nodes.container) and SCROLL_CLASS in image.parent["classes"]:
            continue
        uri = image.get("uri", "")
        if "://" in uri or not uri.lower().endswith(".png"):
            continue
        source = Path(app.srcdir) / uri if not Path(uri).is_absolute() else Path(uri)
        size = png_size(source)
        if size is None:
            continue
        width, _, dpi = size
        image["classes"].append(f"{MIN_WIDTH_CLASS}{min_shown_width(width, dpi)}")
        box = nodes.container(classes=[SCROLL_CLASS])
        image.replace_self(box)
        box += image


def exercise_number(app, exercise: nodes.Node) -> str:
    """An exercise's number as the page shows it ("3.1"), or "" for an unnumbered one."""
    ids = exercise.get("ids") or [""]
    docname = exercise.get("docname", "")
    number = app.env.toc_fignumbers.get(docname, {}).get("exercise", {}).get(ids[0], ())
    return ".".join(map(str, number))


def solution_names(app, doctree: nodes.Node) -> int:
    """Each solution's title ends in " to Exercise N.M", visually hidden, where it reads only
    "Solution"; the number of titles changed."""
    registry = getattr(app.env, "sphinx_exercise_registry", {}) or {}
    changed = 0
    for node in list(doctree.findall(nodes.Element)):
        if type(node).__name__ != "solution_node" or not node.children:
            continue
        title = node.children[0]
        target = registry.get(node.get("target_label", ""), {}).get("node")
        if not isinstance(title, nodes.title) or target is None:
            continue
        if any(HIDDEN_CLASS in child.get("classes", []) for child in title.findall(nodes.inline)):
            continue  # named already (a document resolved twice)
        number = exercise_number(app, target)
        format_ = (getattr(app.config, "numfig_format", {}) or {}).get("exercise", "Exercise %s")
        exercise = format_ % number if number else target.children[0].astext()
        title += nodes.inline("", f"{SOLUTION_TO}{exercise}", classes=[HIDDEN_CLASS])
        changed += 1
    return changed


def _doctree_resolved(app, doctree: nodes.Node, docname: str) -> None:
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    for image in alt_from_captions(doctree):
        logger.warning(
            f"image {image.get('uri', '')!r} has no alt text and no caption to take it from: glue the "
            "figure and show it with {glue:figure} and a caption that says what it shows",
            location=image,
            type="movierec",
            subtype="alt",
        )
    solution_names(app, doctree)
    if app.builder.format == "html":
        keep_figure_text(app, doctree, docname)


#: What the HTML of a page says that a screen reader or axe-core reads wrongly, and the fix.
PAGE_FIXES: tuple[tuple[re.Pattern[str], str], ...] = (
    # myst-nb: a summary named other than what it shows (WCAG 2.5.3)
    (re.compile(r'<summary aria-label="Toggle hidden content">'), "<summary>"),
    # docutils: the entries of a role="list" citation list are list items (WCAG 1.3.1)
    (re.compile(r'(<div class="citation"[^>]*?) role="doc-biblioentry"'), r'\1 role="listitem"'),
    # the extension's figure boxes: the image's narrowest readable width
    (
        re.compile(r'(<img\b[^>]*?\bclass="[^"]*\b' + MIN_WIDTH_CLASS + r'(\d+)\b[^"]*")'),
        r'\1 style="min-width: \2px"',
    ),
)


def fix_page(body: str) -> str:
    """A page's body HTML with :data:`PAGE_FIXES` applied."""
    for pattern, replacement in PAGE_FIXES:
        body = pattern.sub(replacement, body)
    return body


def _page_fixes(app, pagename: str, templatename: str, context: dict[str, Any], doctree) -> None:
    if isinstance(context.get("body"), str):
        context["body"] = fix_page(context["body"])


def setup(app) -> dict[str, Any]:
    """Register the hooks with Sphinx."""
    app.connect("doctree-resolved", _doctree_resolved)
    app.connect("html-page-context", _page_fixes, priority=800)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
