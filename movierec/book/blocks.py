"""The exercise and solution blocks of a chapter's Markdown (sphinx-exercise's directives), read
one way for every part of the book that needs them: the lint, the teachers' exercise table, the
times per chapter and the student edition, which leaves the solutions out.

An exercise is a fenced ``{exercise}`` with a ``:label:``; its solution either a fenced
``{solution} LABEL`` (written, on the page) or a *gated* one, ``{solution-start} LABEL`` ...
``{solution-end}`` around cells (a code solution). Fences are backticks or colons, three or more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = r"(?P<fence>`{3,}|:{3,})"
_CLOSE = r"^(?P=fence)[ \t]*$"
EXERCISE = re.compile(rf"^{_FENCE}\{{exercise\}}[^\n]*\n(?P<body>.*?){_CLOSE}", re.M | re.S)
LABEL = re.compile(r"^:label: ([\w-]+)", re.M)
#: A written solution, or the opening or closing fence of a gated one (each a whole block).
SOLUTION = re.compile(rf"^{_FENCE}\{{solution(?:-start|-end)?\}}.*?{_CLOSE}\n?", re.M | re.S)
WRITTEN = re.compile(rf"^{_FENCE}\{{solution\}}.*?{_CLOSE}", re.M | re.S)
GATED_START = re.compile(rf"^{_FENCE}\{{solution-start\}}.*?{_CLOSE}", re.M | re.S)
GATED_END = re.compile(rf"^{_FENCE}\{{solution-end\}}.*?{_CLOSE}\n?", re.M | re.S)
#: A gated solution within one Markdown text, from its opening fence to its closing one.
GATED = re.compile(rf"^{_FENCE}\{{solution-start\}}.*?\{{solution-end\}}[^\n]*\n(?P=fence)", re.M | re.S)
SOLUTION_LABEL = re.compile(r"\{solution(?:-start)?\} ([\w-]+)")
GATED_LABEL = re.compile(r"\{solution-start\} ([\w-]+)")
#: Any fenced directive: its name, the argument on its opening line and its body (options included).
DIRECTIVE = re.compile(
    rf"^{_FENCE}\{{(?P<name>[\w:-]+)\}}[ \t]*(?P<argument>[^\n]*)\n(?P<body>.*?){_CLOSE}\n?", re.M | re.S
)
#: A directive's option line (``:label: ...``, ``:class: ...``).
OPTION = re.compile(r"^:[\w-]+:.*\n?", re.M)


@dataclass(frozen=True)
class Exercise:
    """One exercise of a page: its label and the Markdown of its statement."""

    label: str
    body: str


def exercises(markdown: str) -> list[Exercise]:
    """The labelled exercises of ``markdown``, in page order (a fence without a label is skipped)."""
    found = []
    for match in EXERCISE.finditer(markdown):
        body = match.group("body")
        label = LABEL.search(body)
        if label is not None:
            found.append(Exercise(label.group(1), LABEL.sub("", body, count=1).strip("\n")))
    return found


def solution_labels(markdown: str) -> list[str]:
    """The labels of the exercises that ``markdown`` gives a solution, written or gated."""
    return SOLUTION_LABEL.findall(markdown)


def gated_labels(markdown: str) -> set[str]:
    """The labels of the exercises whose solution is gated (a code solution)."""
    return set(GATED_LABEL.findall(markdown))


def without_solutions(markdown: str) -> str:
    """``markdown`` without its written solutions and its gated solutions' fences."""
    return SOLUTION.sub("", markdown)
