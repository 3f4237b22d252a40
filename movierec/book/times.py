"""Student minutes per chapter, counted from the executed notebooks by one stated rule: reading
time from the words, displayed equations, visible code lines, figures and tables a student
reads (solutions left out), lab time from the kinds of exercises.

The driver writes the teachers' page table (:func:`times_table`, with the 90-minute lab's plan:
:func:`lab_plan`) and hands the per-chapter line (:func:`times_line`) to the Sphinx extension,
which appends it to each chapter's "You will learn" box. Book page: "For teachers".
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field

import nbformat

from . import blocks
from .figures import glued_images
from .profiles import PARAMETERS

WORDS_PER_MINUTE = 200  # attentive reading of technical prose
SECONDS_PER_EQUATION = 30  # a displayed equation, read term by term
SECONDS_PER_CODE_LINE = 6  # a visible line of code, read and understood
SECONDS_PER_FIGURE_OR_TABLE = 30  # a numbered figure or table and its caption
#: Lab minutes per exercise, by kind: write code that a checker tests; predict, change a named
#: book parameter and re-run the notebook; reason or derive without running anything.
LAB_MINUTES = {"code": 15, "rerun": 10, "think": 5}
KIND_WORDS = {
    "code": "write code that its checker tests",
    "rerun": "predict, change a book parameter and re-run",
    "think": "reason or derive on paper",
}
LAB_LENGTH = 90  # minutes of the lab the teachers' page plans
LAB_SETUP_MINUTES = 10  # the pre-lab check (movierec check-machine) and the assignment opened
#: Markers around the lab plan in the generated table, for the teachers' page's two includes.
PLAN_START, PLAN_END = "<!-- the lab plan -->", "<!-- end of the lab plan -->"
HIDDEN_TAGS = {"remove-cell", "remove-input", "hide-input", "hide-cell", "solution"}
#: A claim's note (after its ``+++`` line), which a reader of the published book does not see.
_CLAIM_NOTE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|:{3,})\{claim\}[^\n]*\n(?P<claim>.*?)"
    r"^[ \t]*\+\+\+[ \t]*\n.*?^[ \t]*(?P=fence)",
    re.M | re.S,
)
_FIGURES = re.compile(r"\{glue:figures\}[ \t]+([\w-]+)")
_DISPLAY_MATH = re.compile(r"\$\$.*?\$\$(?:[ \t]*\([\w-]+\))?|^`{3,}\{math\}.*?^`{3,}", re.M | re.S)
_INLINE_MATH = re.compile(r"\$[^$\n]+\$")
_GLUE_MD = re.compile(r"\{glue:md\}`([\w-]+)(?::\w+)?`")
_FIGURE_OR_TABLE = re.compile(r"\{(?:glue:figure|glue:table|figure|list-table|table)\}")
_MARKUP = re.compile(r"\{[\w:-]+\}`([^`<]*)(?:<[^>]*>)?`")  # a role: its text stays
_FENCE_LINE = re.compile(r"^(?:`{3,}|:{3,}).*$|^:[\w-]+:.*$", re.M)  # directive fences, options
_WORD = re.compile(r"[^\W_][\w'’.,-]*")


@dataclass
class ChapterTime:
    """What a student reads and does in one chapter, and the minutes the rule gives it."""

    name: str
    words: int = 0
    equations: int = 0
    code_lines: int = 0
    figures_tables: int = 0
    exercises: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LAB_MINUTES, 0))
    labels: dict[str, str] = field(default_factory=dict)  # each exercise's label: its kind

    @property
    def reading_minutes(self) -> int:
        seconds = (
            self.words * 60 / WORDS_PER_MINUTE
            + self.equations * SECONDS_PER_EQUATION
            + self.code_lines * SECONDS_PER_CODE_LINE
            + self.figures_tables * SECONDS_PER_FIGURE_OR_TABLE
        )
        return max(1, math.ceil(seconds / 60))

    @property
    def lab_minutes(self) -> int:
        return sum(LAB_MINUTES[kind] * count for kind, count in self.exercises.items())


def _glued_text(book: nbformat.NotebookNode) -> dict[str, str]:
    """The text glued under each name in an executed notebook (markdown, else plain text)."""
    glued = {}
    for cell in book.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            data = output.get("data", {})
            prefix = output.get("metadata", {}).get("scrapbook", {}).get("mime_prefix", "")
            text = data.get(prefix + "text/markdown") or data.get(prefix + "text/plain")
            if name and isinstance(text, str):
                glued[name] = text
    return glued


def exercise_kinds(markdown: str) -> dict[str, str]:
    """Each exercise's label and kind: ``code`` when its solution is gated (code that a
    checker tests), ``rerun`` when it names a book parameter, else ``think``."""
    gated = blocks.gated_labels(markdown)
    kinds = {}
    for exercise in blocks.exercises(markdown):
        named = [name for name in re.findall(r"`([a-z_]+)`", exercise.body) if name in PARAMETERS]
        kinds[exercise.label] = "code" if exercise.label in gated else "rerun" if named else "think"
    return kinds


def count_words(markdown: str) -> int:
    """Words of MyST prose: a role counts by its text, inline math as one word, directive fences
    and options not at all."""
    text = _INLINE_MATH.sub(" x ", markdown)
    text = _MARKUP.sub(lambda match: f" {match.group(1)} ", text)
    text = _FENCE_LINE.sub(" ", text)
    return len(_WORD.findall(text))


def chapter_time(notebook: str | os.PathLike) -> ChapterTime:
    """Count a chapter (an executed notebook, so that glued sentences are read too; a source
    notebook also works) by the rule of this module: the prose without its solutions, the code
    cells a reader sees (not removed, hidden or solution cells), the exercises by kind."""
    book = nbformat.read(notebook, as_version=4)
    glued = _glued_text(book)
    markdown = "\n\n".join(cell.source for cell in book.cells if cell.cell_type == "markdown")
    time = ChapterTime(name=os.path.splitext(os.path.basename(notebook))[0])
    for label, kind in exercise_kinds(markdown).items():
        time.exercises[kind] += 1
        time.labels[label] = kind
    prose = blocks.GATED.sub("", blocks.WRITTEN.sub("", markdown))
    prose = _CLAIM_NOTE.sub(lambda match: match.group("claim"), prose)  # the published sentence only
    prose = _GLUE_MD.sub(lambda match: glued.get(match.group(1), "x"), prose)
    time.equations = len(_DISPLAY_MATH.findall(prose))
    images = glued_images(book)
    figures = sum(key.startswith(prefix + "-") for prefix in _FIGURES.findall(prose) for key in images)
    time.figures_tables = len(_FIGURE_OR_TABLE.findall(prose)) + figures
    time.words = count_words(_DISPLAY_MATH.sub(" ", prose))
    for cell in book.cells:
        if cell.cell_type != "code" or HIDDEN_TAGS & set(cell.metadata.get("tags", [])):
            continue
        time.code_lines += sum(1 for line in cell.source.splitlines() if line.strip())
        if "remove-output" in cell.metadata.get("tags", []):
            continue  # its figure is glued: counted where the page places it
        for output in cell.get("outputs", []):  # figures a visible plot shows
            data = output.get("data", {})
            time.figures_tables += "image/png" in data
            shown = data.get("text/markdown", "")
            if isinstance(shown, str):
                time.figures_tables += len(_FIGURE_OR_TABLE.findall(shown))
    return time


def times_line(time: ChapterTime) -> str:
    """The line each chapter's "You will learn" box ends with."""
    return f"Reading: {time.reading_minutes} min \u00b7 Lab: {time.lab_minutes} min"


def rule_text() -> str:
    """The rule, stated once (MyST), from the constants that apply it."""
    kinds = "; ".join(f"{LAB_MINUTES[kind]} min to {words}" for kind, words in KIND_WORDS.items())
    return (
        f"Reading minutes: the words a student reads (solutions left out, glued sentences in) at "
        f"{WORDS_PER_MINUTE} words a minute, plus {SECONDS_PER_EQUATION} s per displayed equation, "
        f"{SECONDS_PER_CODE_LINE} s per visible line of code and {SECONDS_PER_FIGURE_OR_TABLE} s per "
        f"figure or table, rounded up. Lab minutes: per exercise, {kinds}. The {LAB_LENGTH}-minute lab: "
        f"{LAB_SETUP_MINUTES} minutes to start (the pre-lab check, the assignment opened), then the "
        f"chapters' code exercises in book order while they fit; every other exercise is homework, "
        f"and the reading comes before the lab."
    )


def lab_chapters(times: list[ChapterTime]) -> list[ChapterTime]:
    """The chapters whose code exercises the lab holds: from the first, in book order, while the
    start and their code exercises fit in LAB_LENGTH minutes."""
    chosen, used = [], LAB_SETUP_MINUTES
    for time in times:
        code = LAB_MINUTES["code"] * time.exercises["code"]
        if used + code > LAB_LENGTH:
            break
        chosen.append(time)
        used += code
    return chosen


def lab_plan(times: list[ChapterTime], doc_prefix: str = "executed") -> str:
    """The lab's plan (MyST), from the same counts as each chapter's lab minutes: what the lab
    holds minute by minute (the code exercises), what comes before it (reading) and after it
    (the other exercises, as homework), chapter by chapter."""
    chapters = lab_chapters(times)
    rows = [
        "| minutes | what | chapter |",
        "| --- | --- | --- |",
        f"| 0-{LAB_SETUP_MINUTES} | the pre-lab check (`movierec check-machine`), the assignment notebooks "
        "opened | |",
    ]
    start = LAB_SETUP_MINUTES
    for time in chapters:
        for label, kind in time.labels.items():
            if kind == "code":
                end = start + LAB_MINUTES["code"]
                chapter = f"{{doc}}`{doc_prefix}/{time.name}`"
                rows.append(f"| {start}-{end} | {{ref}}`{label}`: {KIND_WORDS['code']} | {chapter} |")
                start = end
    if start < LAB_LENGTH:
        rows.append(f"| {start}-{LAB_LENGTH} | time left: `grader.check_all()`, hand the notebooks in | |")
    rows += [
        "",
        "| chapter | reading before the lab (min) | in the lab (min) | homework (min) | lab minutes of the "
        "chapter | homework exercises |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for time in chapters:
        homework = [label for label, kind in time.labels.items() if kind != "code"]
        in_lab = LAB_MINUTES["code"] * time.exercises["code"]
        shown = ", ".join(f"{{ref}}`{label}`" for label in homework) or "none"
        rows.append(
            f"| {{doc}}`{doc_prefix}/{time.name}` | {time.reading_minutes} | {in_lab} | "
            f"{time.lab_minutes - in_lab} | {time.lab_minutes} | {shown} |"
        )
    reading = sum(time.reading_minutes for time in chapters)
    in_lab = sum(LAB_MINUTES["code"] * time.exercises["code"] for time in chapters)
    lab = sum(time.lab_minutes for time in chapters)
    rows.append(
        f"| **the lab's chapters** | **{reading}** | **{in_lab}** | **{lab - in_lab}** | **{lab}** | |"
    )
    later = times[len(chapters) :]
    if later:
        names = ", ".join(f"{{doc}}`{doc_prefix}/{time.name}`" for time in later)
        rows += [
            "",
            f"The lab holds {LAB_SETUP_MINUTES + in_lab} of its {LAB_LENGTH} minutes. {names}: a second "
            f"session or homework, {sum(t.reading_minutes for t in later)} minutes of reading and "
            f"{sum(t.lab_minutes for t in later)} of exercises.",
        ]
    return "\n".join(["````{container} full-width", *rows, "````"]) + "\n"


def times_table(times: list[ChapterTime], doc_prefix: str = "executed") -> str:
    """The teachers' page table of every chapter's minutes (MyST), with the rule above it."""
    rows = [rule_text(), "", PLAN_START, "", lab_plan(times, doc_prefix), PLAN_END, ""]
    rows.append("````{container} full-width")  # eight columns: wider than the text
    rows += [
        "| chapter | words | equations | code lines | figures, tables | exercises: code, re-run, think "
        "| reading (min) | lab (min) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for time in times:
        kinds = ", ".join(str(time.exercises[kind]) for kind in LAB_MINUTES)
        rows.append(
            f"| {{doc}}`{doc_prefix}/{time.name}` | {time.words:,} | {time.equations} | {time.code_lines} "
            f"| {time.figures_tables} | {kinds} | {time.reading_minutes} | {time.lab_minutes} |"
        )
    reading = sum(time.reading_minutes for time in times)
    lab = sum(time.lab_minutes for time in times)
    rows.append(f"| **all chapters** | | | | | | **{reading}** | **{lab}** |")
    return "\n".join([*rows, "````"]) + "\n"
