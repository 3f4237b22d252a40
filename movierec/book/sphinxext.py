"""The book's own Sphinx extension: one copy of each page script, and a student edition whose
downloadable sources hold no solutions either.

- Jupyter Book 1.0 registers sphinx-thebe's inline configuration script twice, so every
  page logged "Identifier 'THEBE_JS_URL' has already been declared"; each script is now
  emitted once.
- ``{glue:table} key`` shows a table glued by a notebook as a numbered Sphinx table, its
  caption written in the directive's content (MyST) and its label in ``:name:``, as
  ``{glue:figure}`` does for figures: the caption lives in the page's Markdown.
- With ``hide_solutions`` (the student edition), sphinx-exercise drops the ``solution``
  blocks from the HTML, and each notebook is read without its cells tagged ``solution`` (the
  code of a gated ``{solution-start}`` ... ``{solution-end}`` solution, the hidden cells that
  compute solutions); the notebooks and Markdown offered by the download button lose them too,
  in their copies under ``_sources``.

- Each chapter's "You will learn" box ends with its reading and lab minutes
  (``movierec_chapter_times``, counted by :mod:`movierec.book.times`).
- The downloaded notebooks' first cell begins with the driver's one install line
  (``movierec_install_comment``: from the repository's URL when ``repository.url`` is set),
  and the chapters' launch buttons (Binder, Colab) open the source notebook git holds
  (``movierec_launch_sources``: ``book/executed/`` is built, never committed, so a link to it
  would be dead).

Enabled in ``_config.yml`` (``sphinx.extra_extensions``); the driver
(:func:`movierec.book.build.edition_config`) sets its ``movierec_*`` values. Book page: "For
teachers".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList

from . import blocks, figures
from .tables import TABLE_MIME

SOLUTION_TAG = "solution"


def strip_solution_blocks(markdown: str) -> str:
    """``markdown`` without its ``{solution}`` directives and the fences of gated solutions
    (``{solution-start}``, ``{solution-end}``; backtick or colon fences)."""
    return blocks.without_solutions(markdown)


def strip_notebook_solutions(notebook: dict[str, Any]) -> dict[str, Any]:
    """A notebook (as JSON) without cells tagged ``solution``, without solution blocks, and
    without gated solutions: everything from a ``{solution-start}`` fence to its
    ``{solution-end}`` fence, across cells, goes."""
    cells, inside = [], False
    for cell in notebook.get("cells", []):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell.get("cell_type") == "markdown":
            kept = []
            while True:
                if inside:
                    end = blocks.GATED_END.search(source)
                    if end is None:
                        break
                    source, inside = source[end.end() :], False
                start = blocks.GATED_START.search(source)
                if start is None:
                    kept.append(source)
                    break
                kept.append(source[: start.start()])
                source, inside = source[start.end() :], True
            cell = {**cell, "source": strip_solution_blocks("".join(kept))}
        elif inside or SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        cells.append(cell)
    return {**notebook, "cells": cells}


def scrub_sources(folder: Path) -> int:
    """Remove the solutions from every .ipynb and .md under ``folder``; the number of files changed."""
    changed = 0
    for path in [*folder.rglob("*.ipynb"), *folder.rglob("*.md")]:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            scrubbed = json.dumps(strip_notebook_solutions(json.loads(text)), indent=1, ensure_ascii=False)
        else:
            scrubbed = strip_solution_blocks(text)
        if scrubbed != text:
            path.write_text(scrubbed, encoding="utf-8")
            changed += 1
    return changed


def glue_table_directive() -> type:
    """The ``{glue:table}`` directive class (myst-nb is imported only when Sphinx loads this
    extension, so the module imports without it)."""
    from myst_nb.core.variables import RetrievalError, render_variable_outputs
    from myst_nb.ext.glue.utils import glue_warning, retrieve_glue_data
    from myst_nb.ext.utils import DirectiveBase

    class GlueTable(DirectiveBase):
        required_arguments = 1  # the key
        final_argument_whitespace = True
        has_content = True
        option_spec = {"name": directives.unchanged}

        def run(self) -> list[nodes.Node]:
            try:
                data = retrieve_glue_data(self.document, self.arguments[0])
            except RetrievalError as error:
                return [glue_warning(str(error), self.document, self.line)]
            pasted = render_variable_outputs([data], self.document, self.line, self.source)
            tables = [table for node in pasted for table in node.findall(nodes.table)]
            if not tables:
                return [glue_warning(f"{self.arguments[0]!r} holds no table", self.document, self.line)]
            table = tables[0]
            caption, messages = self.state.inline_text(" ".join(self.content), self.lineno)
            title = nodes.title(" ".join(self.content), "", *caption)
            self.set_source_info(title)
            for old in [child for child in table.children if isinstance(child, nodes.title)]:
                table.remove(old)
            table.insert(0, title)
            self.add_name(table)
            return [*pasted, *messages]

    return GlueTable


CLAIM_SPLIT = "+++"
CLAIM_NOTE_TITLE = "In this run"
CLAIM_NOTE_CLASS = "movierec-claim-note"


def claim_directive() -> type:
    """The ``{claim} KEY`` directive: a sentence written for the published run, shown when the
    check the notebook glued under ``KEY`` (a bool) holds on the run at hand; otherwise the note
    written after a ``+++`` line in its place, in a box titled "In this run". A check glued as
    None says the claim is about something this run does not have (a run it did not train):
    neither part is shown. Both parts are the page's Markdown; the notebook only says whether the
    claim holds."""
    from myst_nb.core.variables import RetrievalError
    from myst_nb.ext.glue.utils import glue_warning, retrieve_glue_data
    from myst_nb.ext.utils import DirectiveBase

    class Claim(DirectiveBase):
        required_arguments = 1  # the glued check's key
        has_content = True

        def run(self) -> list[nodes.Node]:
            key = self.arguments[0]
            try:
                data = retrieve_glue_data(self.document, key)
            except RetrievalError as error:
                return [glue_warning(str(error), self.document, self.line)]
            text = str(data.data.get("text/plain", "")).strip()
            if text not in {"True", "False", "None"}:
                message = f"claim check {key!r} must be glued as a bool (or None: not this run's)"
                return [glue_warning(message, self.document, self.line)]
            lines = [line.strip() for line in self.content]
            if lines.count(CLAIM_SPLIT) != 1:
                message = f"claim {key!r} needs its note after one {CLAIM_SPLIT!r} line"
                return [glue_warning(message, self.document, self.line)]
            split = lines.index(CLAIM_SPLIT)
            if text == "None":
                return []
            if text == "True":
                shown = nodes.container(classes=["movierec-claim"])
                self.state.nested_parse(self.content[:split], self.content_offset, shown)
                return shown.children[:]
            note = nodes.admonition(classes=["note", CLAIM_NOTE_CLASS])
            note += nodes.title(CLAIM_NOTE_TITLE, CLAIM_NOTE_TITLE)
            self.state.nested_parse(self.content[split + 1 :], self.content_offset + split + 1, note)
            return [note]

    return Claim


def glue_figures_directive() -> type:
    """The ``{glue:figures} PREFIX`` directive: every figure the notebook glued under
    ``PREFIX-NAME``, in the order it glued them, each a numbered figure labelled
    ``NAME-OF-DIRECTIVE-name`` (``:name:``, default ``fig-PREFIX``) whose caption is the
    directive's content with ``{name}`` read as ``NAME``: one figure per optimizer, however many
    a profile names, each captioned by the page's Markdown."""
    from myst_nb.core.variables import render_variable_outputs
    from myst_nb.ext.glue.utils import glue_warning, retrieve_glue_data
    from myst_nb.ext.utils import DirectiveBase

    class GlueFigures(DirectiveBase):
        required_arguments = 1  # the keys' prefix
        has_content = True
        option_spec = {"name": directives.unchanged}

        def run(self) -> list[nodes.Node]:
            prefix = self.arguments[0] + "-"
            keys = [key for key in glued_keys(self.document) if key.startswith(prefix)]
            figures = [
                key for key in keys if any(m.startswith("image/") for m in glued_mimes(self.document, key))
            ]
            if not figures:
                return [glue_warning(f"no figure glued under {prefix}*", self.document, self.line)]
            label = self.options.get("name") or f"fig-{self.arguments[0]}"
            made: list[nodes.Node] = []
            for key in figures:
                name = key.removeprefix(prefix)
                data = retrieve_glue_data(self.document, key)
                figure = nodes.figure(
                    "", *render_variable_outputs([data], self.document, self.line, self.source)
                )
                self.set_source_info(figure)
                self.options["name"] = f"{label}-{name}"
                self.add_name(figure)
                caption = [line.replace("{name}", name) for line in self.content]
                parsed = nodes.Element()
                self.state.nested_parse(
                    StringList(caption, self.content.source(0)), self.content_offset, parsed
                )
                if parsed.children and isinstance(parsed[0], nodes.paragraph):
                    figure += nodes.caption(parsed[0].rawsource, "", *parsed[0].children)
                    for image in figure.findall(nodes.image):
                        image["alt"] = parsed[0].astext()  # what it shows, never its file's path
                made.append(figure)
            return made

    return GlueFigures


def glued_keys(document: nodes.document) -> list[str]:
    """The keys a notebook glued, in the order it glued them (none for a Markdown page)."""
    if "nb_renderer" not in document:
        return []
    return list(document["nb_renderer"].renderer.nb_client.glue_data)


def glued_mimes(document: nodes.document, key: str) -> list[str]:
    """The mime types glued under ``key``."""
    return list(document["nb_renderer"].renderer.nb_client.glue_data[key]["data"])


LEARN_TITLE = "You will learn"


def _add_chapter_times(app, doctree) -> None:
    """Append the driver's "Reading: N min · Lab: M min" line (``movierec_chapter_times``, by
    docname) to the first admonition titled "You will learn" of the page."""
    line = (getattr(app.config, "movierec_chapter_times", {}) or {}).get(app.env.docname)
    if not line:
        return
    for admonition in doctree.findall(nodes.admonition):
        titles = [child for child in admonition.children if isinstance(child, nodes.title)]
        if titles and titles[0].astext().strip() == LEARN_TITLE:
            admonition += nodes.paragraph(line, line, classes=["movierec-times"])
            return


INSTALL_PREFIX = "# Run this notebook yourself:"


def set_install_line(notebook: dict[str, Any], line: str) -> dict[str, Any]:
    """``notebook`` (JSON) whose first cell's first line, when it is the install line (it starts
    with :data:`INSTALL_PREFIX`), is ``line``; otherwise unchanged."""
    cells = notebook.get("cells", [])
    if not line or not cells or cells[0].get("cell_type") != "code":
        return notebook
    source = "".join(cells[0]["source"]) if isinstance(cells[0]["source"], list) else cells[0]["source"]
    first, newline, rest = source.partition("\n")
    if not first.startswith(INSTALL_PREFIX) or first == line:
        return notebook
    return {**notebook, "cells": [{**cells[0], "source": line + newline + rest}, *cells[1:]]}


def set_install_lines(folder: Path, line: str) -> int:
    """:func:`set_install_line` on every .ipynb under ``folder``; the number of files changed."""
    changed = 0
    for path in folder.rglob("*.ipynb"):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        updated = set_install_line(notebook, line)
        if updated is not notebook:
            path.write_text(json.dumps(updated, indent=1, ensure_ascii=False), encoding="utf-8")
            changed += 1
    return changed


def launch_url(url: str, pagename: str, sources: dict[str, str]) -> str:
    """A launch button's ``url`` (an absolute one: a download button's relative link to
    ``_sources`` stays) for ``pagename`` pointed at its source notebook: the page's path under a
    built folder (a key of ``sources``) becomes the same name under the folder git holds (its
    value)."""
    if not url.startswith(("https://", "http://")):
        return url
    for built, source in sources.items():
        if pagename.startswith(built):
            old = f"{pagename}.ipynb"
            return url.replace(old, source + pagename.removeprefix(built) + ".ipynb")
    return url


def _launch_the_sources(app, pagename, templatename, context, doctree) -> None:
    sources = getattr(app.config, "movierec_launch_sources", {}) or {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("url"), str):
                node["url"] = launch_url(node["url"], pagename, sources)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(context.get("header_buttons", []))


def _one_copy_of_each_script(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique = []
    for script in scripts:
        filename = getattr(script, "filename", script) or ""  # an inline script's is None or ""
        key = (str(filename), tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: handlers that run later (MathJax's) add to this same list


def _drop_student_solutions(app, docname: str, source: list[str]) -> None:
    """In the student edition, a notebook is read without its solutions: sphinx-exercise
    hides ``{solution}`` blocks but not the code cells of a gated solution."""
    if getattr(app.config, "hide_solutions", False) and str(app.env.doc2path(docname)).endswith(".ipynb"):
        source[0] = json.dumps(strip_notebook_solutions(json.loads(source[0])), ensure_ascii=False)


def _finish_sources(app, exception) -> None:
    """The downloadable sources: the student edition's without solutions; every notebook's
    install line the driver's, and none of the figure pack's recorded files."""
    sources = Path(app.outdir) / "_sources"
    if exception is not None or not sources.is_dir():
        return
    if getattr(app.config, "hide_solutions", False):
        scrub_sources(sources)
    set_install_lines(sources, getattr(app.config, "movierec_install_comment", ""))
    for path in sources.rglob("*.ipynb"):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        stripped = figures.strip_pack_outputs(notebook)
        if stripped is not notebook:
            path.write_text(json.dumps(stripped, indent=1, ensure_ascii=False), encoding="utf-8")


def pack_figures(app) -> list[tuple[str, dict[str, str]]]:
    """Every numbered figure of this build (``env.toc_fignumbers``), in book order, named by
    its number and label, with the SVG and 300-dpi PNG its notebook recorded; a figure with
    none (a notebook executed outside the driver, or a figure not glued) is a warning."""
    from sphinx.util import logging

    env, found, problems = app.env, [], []
    for docname in [name for name in _book_order(app) if name in env.toc_fignumbers]:
        numbered = env.toc_fignumbers[docname].get("figure", {})
        path = Path(env.doc2path(docname))
        if not numbered or path.suffix != ".ipynb":
            problems += [f"{node} of {docname}" for node in numbered]
            continue
        notebook = json.loads(path.read_text(encoding="utf-8"))
        if getattr(app.config, "hide_solutions", False):
            notebook = strip_notebook_solutions(notebook)
        matched, missing = figures.match_numbers(numbered, figures.figure_occurrences(notebook))
        recorded = figures.glued_figures(notebook)
        problems += [f"{node} of {docname}" for node in missing]
        for number, label, key in matched:
            if key in recorded:
                found.append((figures.pack_name(number, label), recorded[key]))
            else:
                problems.append(f"{label} ({key}) of {docname}")
    if problems:
        logging.getLogger(__name__).warning(
            f"no recorded SVG and PNG for the figure pack: {', '.join(problems)}: glue each figure "
            f"with mr.book.pages.glue and {{glue:figure}}, and build with `movierec book`"
        )
    return found


def _book_order(app) -> list[str]:
    """The documents in reading order (the root's toctree, depth first)."""
    env, order = app.env, []

    def walk(docname: str) -> None:
        if docname in order:
            return
        order.append(docname)
        for child in env.toctree_includes.get(docname, []):
            walk(child)

    walk(app.config.root_doc)
    return order


def _write_figure_pack(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / figures.PACK_FOLDER / figures.PACK_NAME
        figures.write_pack(target, pack_figures(app))


PACK_LINK_CLASS = "movierec-figure-pack"


def figure_pack_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{figure-pack}`text``: a link to this build's figure pack (its address is set per page
    when the page is resolved, relative to it)."""
    return [nodes.reference(rawtext, text, refuri="#", classes=[PACK_LINK_CLASS])], []


def _resolve_figure_pack_links(app, doctree, docname) -> None:
    from sphinx.util.osutil import relative_uri

    target = f"{figures.PACK_FOLDER}/{figures.PACK_NAME}"
    for node in doctree.findall(nodes.reference):
        if PACK_LINK_CLASS not in node.get("classes", []):
            continue
        if app.builder.name == "singlehtml":
            node["refuri"] = target
        else:
            node["refuri"] = relative_uri(app.builder.get_target_uri(docname), target)


def _singlehtml_as_html(app) -> None:
    """The single-page builder (the PDFs' source) draws every node the HTML builder draws: Sphinx
    takes a builder's own node handlers instead of its format's once an extension registers any
    for it, which left nodes of other extensions (Jupyter Book's hidden toctree copies) unknown."""
    if app.builder.name == "singlehtml":
        handlers = app.registry.translation_handlers
        single = handlers.setdefault("singlehtml", {})
        for node, visitors in handlers.get("html", {}).items():
            single.setdefault(node, visitors)


def setup(app) -> dict[str, Any]:
    """Register the hooks with Sphinx."""
    # early: html-page-context stops at the first handler that returns a template name
    app.connect("html-page-context", _one_copy_of_each_script, priority=100)
    app.connect("source-read", _drop_student_solutions)
    app.add_config_value("movierec_chapter_times", {}, "env")  # a change re-reads the pages
    app.connect("doctree-read", _add_chapter_times)
    app.add_config_value("movierec_install_comment", "", "html")
    app.add_config_value("movierec_launch_sources", {}, "html")
    app.connect("html-page-context", _launch_the_sources, priority=900)  # after the theme's buttons
    app.connect("build-finished", _finish_sources)
    app.add_role("figure-pack", figure_pack_role)
    app.connect("doctree-resolved", _resolve_figure_pack_links)
    app.connect("build-finished", _write_figure_pack)
    app.connect("builder-inited", _singlehtml_as_html)
    app.add_directive_to_domain("glue", "table", glue_table_directive())
    app.add_directive_to_domain("glue", "figures", glue_figures_directive())
    app.add_directive("claim", claim_directive())
    return {"parallel_read_safe": True, "parallel_write_safe": True}


class TableMime:
    """myst-nb's renderer of :data:`~movierec.book.tables.TABLE_MIME` (registered as an entry point
    in ``pyproject.toml``): a table shown or glued by a notebook becomes a Sphinx table, its
    cells plain text, numeric columns right-aligned by their classes, a wide one set full width.
    ``{glue:table}`` numbers it and adds the caption."""

    mime_priority_overrides = [("*", TABLE_MIME, 0)]

    @staticmethod
    def handle_mime(renderer: Any, data: Any, inline: bool) -> list[nodes.Element] | None:
        if inline or data.mime_type != TABLE_MIME:
            return None
        content = data.content if isinstance(data.content, dict) else json.loads(data.content)
        made = table_node(content)
        if content.get("name"):  # a numbered table {numref} can name, as a {glue:table} is
            table = next(iter(made.findall(nodes.table)))
            table["names"].append(nodes.fully_normalize_name(content["name"]))
            renderer.renderer.document.note_explicit_target(table, table)
        return [made]


def table_node(content: dict[str, Any]) -> nodes.Element:
    """A docutils table (in a full-width container when ``wide``) from a table's data."""

    def row(texts: list[str]) -> nodes.row:
        made = nodes.row()
        for text in texts:
            entry = nodes.entry()
            entry += nodes.paragraph(text, text)
            made += entry
        return made

    columns = content["columns"]
    table = nodes.table(classes=["colwidths-auto", *content["classes"]])
    if content.get("caption"):
        table += nodes.title(content["caption"], content["caption"])
    group = nodes.tgroup(cols=len(columns))
    table += group
    for _ in columns:
        group += nodes.colspec(colwidth=1)
    head, body = nodes.thead(), nodes.tbody()
    head += row(columns)
    for texts in content["rows"]:
        body += row(texts)
    group += head
    group += body
    if not content.get("wide"):
        return table
    return nodes.container("", table, classes=["full-width"])  # sphinx-book-theme: into the margin
