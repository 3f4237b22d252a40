"""The course chapters' exercises as otter-grader assignments (``movierec assign``, behind
``make assignments``).

Each course chapter (the first part of ``_toc.yml``, chapters 1 to 5) becomes an otter master
notebook, built from the chapter itself: its code exercises (the starter, the gated solution and
the ``mr.exercises`` checker the starter calls) become autograded questions whose tests are that
checker, on the book's inputs (public: ``grader.check`` shows the checker's one-line verdict) and
on other seeds and sizes (hidden, so that an answer typed in for the book's inputs fails); its
other exercises ("predict, change a parameter, re-run") become written questions, graded by hand,
with the answer the book's build computed (``book/executed/``) as the instructor's key. ``otter
assign`` then writes, under ``_build/assignments/NN_name/``: ``student/NN_name.ipynb`` (what the
students get), ``autograder/autograder.zip`` (for Gradescope or ``otter run``) and the solution
notebook ``autograder/NN_name.ipynb`` (the instructor's key). Book page: "For teachers".
"""

from __future__ import annotations

import ast
import datetime
import inspect
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import yaml

from ..errors import MovierecError
from . import blocks, exercises
from .times import exercise_kinds
from .toc import EXECUTED_DIR, NOTEBOOK_DIR

ASSIGNMENTS_DIR = Path("_build") / "assignments"
CODE_POINTS = 4  # a code question: all or nothing, the book's inputs and two hidden draws
WRITTEN_POINTS = 2  # a written question, graded by hand against the key
#: The hidden tests' draws, per checker: the arguments after the answer (None: the public
#: test's), then seed and size. A checker without ``seed`` gets no hidden test.
HIDDEN = {
    "check_colikes": (((3.5,), 31, 7), ((3.0,), 57, 5)),
    "check_cost_gradient": ((None, 31, 4), (None, 57, 8)),
    "check_momentum_step": ((None, 31, 4), (None, 57, 2)),
    "check_recommender": ((None, 31, 10), (None, 57, 14)),
    "check_training_loop": ((None, 31, 3), (None, 57, 8)),
}
SETUP = "import math\n\nimport numpy as np\nimport pandas as pd\nimport torch\n\nimport movierec as mr"
PLACES = {"data_path", "runs_dir"}  # parameters that say where, not what: left out of the keys' account
PYTHON_VERSION = "3.11"  # the Python the book is built and tested with
OTTER_TIMEOUT = 600  # seconds for one chapter's otter assign (it runs the solutions' tests)

_ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<text>[^`]*)`")
_DISPLAY = re.compile(r"\$\$(?P<math>.*?)\$\$[ \t]*(?:\((?P<label>[\w-]+)\))?", re.S)
_TITLE = re.compile(r"^# (.+)$", re.M)


class AssignError(MovierecError):
    """An assignment cannot be built (a chapter missing, its form unexpected, otter failing)."""


@dataclass
class Question:
    """One exercise of a chapter as an otter question."""

    label: str
    kind: str  # code, rerun or think (movierec.book.times)
    prompt: str  # the exercise's text, MyST
    starter: str = ""  # code questions: the starter cell
    solution: str = ""  # code questions: the solution cell
    intro: str = ""  # code questions: the text the solution opens with
    key: str = ""  # written questions: the {solution} block, MyST

    @property
    def name(self) -> str:
        """The otter question name: the label without ``ex-``, in underscores."""
        return self.label.removeprefix("ex-").replace("-", "_")

    @property
    def points(self) -> int:
        return CODE_POINTS if self.kind == "code" else WRITTEN_POINTS


@dataclass
class Chapter:
    """A course chapter read for its assignment."""

    name: str
    title: str
    parameters: dict[str, Any]
    questions: list[Question] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Reading the chapters


def course_chapters(root: Path) -> list[str]:
    """The chapters of ``_toc.yml``'s first part (the course: the experiment), in book order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    first = (toc.get("parts") or [{}])[0]
    prefix = EXECUTED_DIR.as_posix() + "/"
    return [
        entry["file"].removeprefix(prefix)
        for entry in first.get("chapters", [])
        if str(entry.get("file", "")).startswith(prefix)
    ]


def chapter_parameters(book: nbformat.NotebookNode) -> dict[str, Any]:
    """The defaults of a chapter's ``parameters`` cell (``name: type = value  # help``)."""
    cell = next(
        (cell for cell in book.cells if "parameters" in cell.metadata.get("tags", [])),
        None,
    )
    values: dict[str, Any] = {}
    for node in ast.parse(cell.source if cell else "").body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            values[node.target.id] = ast.literal_eval(node.value)
    return values


def read_chapter(path: Path) -> Chapter:
    """A chapter's exercises, in page order: each ``{exercise}`` with its kind, and for a code
    exercise the starter cell after it and the ``solution`` cell inside its gated solution, for the
    others the ``{solution}`` block."""
    book = nbformat.read(path, as_version=4)
    markdown = "\n\n".join(cell.source for cell in book.cells if cell.cell_type == "markdown")
    title = _TITLE.search(markdown)
    chapter = Chapter(path.stem, title.group(1).strip() if title else path.stem, chapter_parameters(book))
    kinds = exercise_kinds(markdown)
    solutions = {
        match.group("argument").strip(): match.group("body")
        for match in blocks.DIRECTIVE.finditer(markdown)
        if match.group("name") == "solution"
    }
    for index, cell in enumerate(book.cells):
        if cell.cell_type != "markdown":
            continue
        for match in blocks.DIRECTIVE.finditer(cell.source):
            if match.group("name") == "exercise":
                body = match.group("body")
                label = blocks.LABEL.search(body)
                if label is None:
                    continue
                prompt = blocks.OPTION.sub("", body).strip()
                question = Question(label.group(1), kinds[label.group(1)], prompt)
                if question.kind == "code":
                    question.starter = _next_code(book, index, solution=False)
                else:
                    question.key = blocks.OPTION.sub("", solutions.get(question.label, "")).strip()
                chapter.questions.append(question)
            elif match.group("name") == "solution-start":
                label = match.group("argument").strip()
                question = next(q for q in chapter.questions if q.label == label)
                question.intro = cell.source[match.end() :].strip()
                question.solution = _next_code(book, index, solution=True)
    for question in chapter.questions:
        if question.kind == "code" and not (question.starter and question.solution):
            raise AssignError(f"{path}: code exercise {question.label} lacks its starter or solution cell")
    return chapter


def _next_code(book: nbformat.NotebookNode, index: int, solution: bool) -> str:
    """The source of the first code cell after cell ``index`` that is (or is not) a solution."""
    for cell in book.cells[index + 1 :]:
        if cell.cell_type == "code" and ("solution" in cell.metadata.get("tags", [])) == solution:
            return cell.source
    return ""


# ---------------------------------------------------------------------------------------------
# The book's Markdown as Jupyter's


@dataclass
class Context:
    """What MyST's roles and directives refer to: chapter titles, equations, glued outputs."""

    titles: dict[str, str]
    equations: dict[str, str]
    glued: dict[str, dict[str, Any]] = field(default_factory=dict)
    questions: dict[str, str] = field(default_factory=dict)  # exercise label -> question name


def book_context(root: Path) -> Context:
    """Every chapter's title and every labelled display equation, from the sources."""
    titles, equations = {}, {}
    for path in sorted((root / NOTEBOOK_DIR).glob("*.ipynb")):
        book = nbformat.read(path, as_version=4)
        markdown = "\n\n".join(cell.source for cell in book.cells if cell.cell_type == "markdown")
        title = _TITLE.search(markdown)
        titles[path.stem] = title.group(1).strip() if title else path.stem
        for match in _DISPLAY.finditer(markdown):
            if match.group("label"):
                equations[match.group("label")] = " ".join(match.group("math").split()).rstrip(" .,")
    return Context(titles, equations)


def glued_outputs(executed: Path) -> dict[str, dict[str, Any]]:
    """Each glued name's data (mime type -> value) in an executed chapter."""
    glued = {}
    for cell in nbformat.read(executed, as_version=4).cells:
        for output in cell.get("outputs", []):
            scrapbook = output.get("metadata", {}).get("scrapbook", {})
            if "name" in scrapbook:
                prefix = scrapbook.get("mime_prefix", "")
                glued[scrapbook["name"]] = {
                    mime.removeprefix(prefix): value for mime, value in output.get("data", {}).items()
                }
    return glued


def _glued_text(context: Context, key: str) -> str:
    data = context.glued.get(key.split(":")[0])
    if data is None:
        return f"[{key}: not computed: build the book first]"
    text = str(data.get("text/markdown") or data.get("text/plain", ""))
    return text.strip().strip("'")


def to_markdown(text: str, context: Context) -> str:
    """MyST as Jupyter renders Markdown: directives by their content (a claim by the part its glued
    check chooses, a glued figure as an image, a glued table as text), roles by their text (a
    glued value by its value, an equation by itself, a chapter by its title)."""

    def directive(match: re.Match[str]) -> str:
        name, argument = match.group("name"), match.group("argument").strip()
        body = blocks.OPTION.sub("", match.group("body"))
        caption = to_markdown(body, context).strip()
        if name == "claim":
            parts = [line.strip() for line in body.splitlines()]
            split = parts.index("+++") if "+++" in parts else len(parts)
            lines = body.splitlines()
            holds = _glued_text(context, argument)
            chosen = lines[:split] if holds == "True" else lines[split + 1 :] if holds == "False" else []
            return to_markdown("\n".join(chosen), context).strip() + "\n"
        if name == "glue:figure":
            data = context.glued.get(argument, {})
            png = data.get("image/png")
            image = (
                f"![{caption or argument}](data:image/png;base64,{png})" if png else f"[figure {argument}]"
            )
            return f"{image}\n\n{caption}\n"
        if name in ("glue:table", "glue"):
            table = str(context.glued.get(argument, {}).get("text/plain", f"[table {argument}]"))
            return f"{caption}\n\n```text\n{table}\n```\n"
        if name == "admonition":
            return f"**{argument}**\n\n{caption}\n"
        return caption + "\n"

    def role(match: re.Match[str]) -> str:
        name, inner = match.group("role"), match.group("text")
        shown, _, target = inner.partition("<")
        target = target.rstrip(">").strip() or shown.strip()
        if name in ("glue:text", "glue:md", "glue"):
            return _glued_text(context, inner)
        if name == "eq":
            equation = context.equations.get(inner)
            return f"${equation}$" if equation else f"equation {inner}"
        if name == "doc":
            return f"*{context.titles.get(Path(target).name, target)}*"
        if name == "numref":
            return (
                "the table"
                if target.startswith("tbl-")
                else "the figure"
                if target.startswith("fig-")
                else "it"
            )
        if name == "ref":
            if target in context.questions:
                return f"question `{context.questions[target]}`"
            return f"“{target.replace('-', ' ').capitalize()}” in the book"
        if name == "cite":
            found = re.fullmatch(r"([a-z]+)(\d{4})", target)
            return f"({found.group(1).capitalize()} {found.group(2)})" if found else f"({target})"
        return shown.strip()

    text = blocks.DIRECTIVE.sub(directive, text)
    text = _ROLE.sub(role, text)
    text = _DISPLAY.sub(lambda match: f"$${match.group('math')}$$", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# ---------------------------------------------------------------------------------------------
# The master notebook


def _functions(source: str) -> list[ast.FunctionDef]:
    return [node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]


def solution_cell(question: Question) -> str:
    """The master's answer cell: the starter's function, its ``...`` replaced by the solution's body
    between otter's ``# BEGIN SOLUTION`` and ``# END SOLUTION`` (so the student's copy is the
    starter); the checker call is left to ``grader.check``."""
    starter_lines = question.starter.splitlines()
    solved = {node.name: node for node in _functions(question.solution)}
    solution_lines = question.solution.splitlines()
    cell: list[str] = []
    for node in _functions(question.starter):
        if node.name not in solved:
            raise AssignError(f"{question.label}: the solution does not define {node.name}")
        answer = solved[node.name]
        body = solution_lines[answer.body[0].lineno - 1 : answer.end_lineno]
        for line in starter_lines[node.lineno - 1 : node.end_lineno]:
            if line.strip() == "...":
                indent = line[: len(line) - len(line.lstrip())]
                cell += [f"{indent}# BEGIN SOLUTION", *body, f"{indent}# END SOLUTION"]
            else:
                cell.append(line)
        cell += ["", ""]
    return "\n".join(cell).strip()


@dataclass
class CheckerCall:
    """The checker call that ends a starter cell: ``mr.exercises.check_x(my_x, arg, ...)``."""

    checker: str
    answers: list[str]  # the student's functions it is given
    arguments: list[Any]  # the other arguments, the chapter's parameters by their defaults


def checker_call(question: Question, parameters: dict[str, Any]) -> CheckerCall:
    tree = ast.parse(question.starter)
    defined = {node.name for node in _functions(question.starter)}
    calls = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and node.value.func.attr.startswith("check_")
    ]
    if len(calls) != 1:
        raise AssignError(f"{question.label}: the starter cell must end with one mr.exercises.check_* call")
    call = calls[0]
    answers, arguments = [], []
    for argument in call.args:
        if isinstance(argument, ast.Name) and argument.id in defined:
            answers.append(argument.id)
        elif isinstance(argument, ast.Name) and argument.id in parameters:
            arguments.append(parameters[argument.id])
        else:
            arguments.append(ast.literal_eval(argument))
    if not hasattr(exercises, call.func.attr):
        raise AssignError(f"{question.label}: mr.exercises has no {call.func.attr}")
    return CheckerCall(call.func.attr, answers, arguments)


def otter_tests(question: Question, call: CheckerCall) -> list[str]:
    """The question's otter tests (exception-based): its checker on the book's inputs (public),
    then on each hidden draw; each fails with the checker's one-line verdict."""
    accepts_seed = "seed" in inspect.signature(getattr(exercises, call.checker)).parameters
    draws = [(None, None, None)] + (list(HIDDEN.get(call.checker, ())) if accepts_seed else [])
    cells = []
    for number, (arguments, seed, size) in enumerate(draws):
        values = [
            *call.answers,
            *(repr(value) for value in (call.arguments if arguments is None else arguments)),
        ]
        if seed is not None:
            values += [f"seed={seed}", f"size={size}"]
        test = f"test_{question.name}" + (f"_hidden_{number}" if number else "")
        config = "hidden: true" if number else "hidden: false"
        cells.append(
            f'""" # BEGIN TEST CONFIG\n{config}\n""" # END TEST CONFIG\n'
            f"def {test}({', '.join(call.answers)}):\n"
            "    import movierec as mr\n\n"
            f"    verdict = mr.exercises.{call.checker}({', '.join(values)})\n"
            "    assert verdict.ok, str(verdict)\n\n\n"
            f"{test}({', '.join(call.answers)})"
        )
    return cells


def _raw(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_raw_cell(source)


def provenance(root: Path, chapter: str) -> str:
    """Where the written questions' keys come from: the executed chapter, its parameters and date."""
    from .build import execution_record, read_editions

    executed = root / EXECUTED_DIR / f"{chapter}.ipynb"
    if not executed.exists():
        return "not computed: no executed chapter (build the book first)"
    record = execution_record(executed)
    day = datetime.date.fromtimestamp(executed.stat().st_mtime).isoformat()
    profile = read_editions(root).get("instructor", {}).get("profile")
    parameters = sorted(record.get("parameters", {}).items())
    shown = ", ".join(f"{name} = {value!r}" for name, value in parameters if name not in PLACES)
    where = f"the book's build (profile `{profile}`)" if profile else "the book's build"
    return f"computed by {where}, chapter executed on {day} with {shown or 'its defaults'}"


def master_notebook(root: Path, chapter: Chapter, context: Context, url: str = "") -> nbformat.NotebookNode:
    """The otter master notebook of one chapter."""
    config: dict[str, Any] = {
        "name": chapter.name,
        "init_cell": True,
        "check_all_cell": True,
        "export_cell": False,
        "tests": {"files": False, "ok_format": False},
        "generate": {"pdf": False, "show_hidden": False, "show_stdout": False},
    }
    if url:  # Gradescope's image installs these (otter's own environment.yml holds otter-grader)
        config["requirements"] = [f"movierec @ git+{url}"]
        config["python_version"] = PYTHON_VERSION
    code = [question for question in chapter.questions if question.kind == "code"]
    written = [question for question in chapter.questions if question.kind != "code"]
    key_source = provenance(root, chapter.name)
    intro = (
        f"# {chapter.title}: exercises\n\n"
        f"The exercises of the chapter *{chapter.title}* of the movierec book, to hand in. "
        f"{len(code)} code question{'s' * (len(code) != 1)} ({CODE_POINTS} points each), checked by the "
        f"autograder: write the function, then run the `grader.check` cell below it, which says what "
        f"is wrong in one line; the autograder also tries your function on inputs you do not see, so "
        f"write it for any input. {len(written)} written question{'s' * (len(written) != 1)} "
        f"({WRITTEN_POINTS} points each), graded by hand: predict first, then run the chapter's "
        f"notebook with the parameter changed, and write both down. Run every cell in order before "
        f"you hand the notebook in."
    )
    cells = [
        _raw("# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False)),
        nbformat.v4.new_markdown_cell(intro),
        nbformat.v4.new_code_cell(SETUP),
    ]
    for question in chapter.questions:
        header = {"name": question.name, "points": question.points}
        header.update({"all_or_nothing": True} if question.kind == "code" else {"manual": True})
        how = "checked by the autograder" if question.kind == "code" else "graded by hand"
        cells.append(_raw("# BEGIN QUESTION\n" + yaml.safe_dump(header, sort_keys=False)))
        prompt = f"**Question `{question.name}`** ({question.points} points, {how})\n\n"
        cells.append(nbformat.v4.new_markdown_cell(prompt + to_markdown(question.prompt, context)))
        cells.append(_raw("# BEGIN SOLUTION"))
        if question.kind == "code":
            cells.append(nbformat.v4.new_code_cell(solution_cell(question)))
            cells.append(_raw("# END SOLUTION"))
            cells.append(_raw("# BEGIN TESTS"))
            for test in otter_tests(question, checker_call(question, chapter.parameters)):
                cells.append(nbformat.v4.new_code_cell(test))
            cells.append(_raw("# END TESTS"))
        else:
            key = to_markdown(question.key, context) if question.key else "(the book gives no key)"
            cells.append(nbformat.v4.new_markdown_cell(f"**Instructor's key** ({key_source}):\n\n{key}"))
            cells.append(_raw("# END SOLUTION"))
        cells.append(_raw("# END QUESTION"))
    book = nbformat.v4.new_notebook(cells=cells)
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    book.metadata["language_info"] = {"name": "python"}
    return book


# ---------------------------------------------------------------------------------------------
# otter assign


def otter_assign(master: Path, result: Path) -> None:
    """``otter assign`` on ``master`` into ``result`` (its tests run on the solutions there), then
    the autograder zip renamed ``autograder.zip``."""
    command = [sys.executable, "-m", "otter", "assign", "--no-pdfs", str(master), str(result)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=OTTER_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise AssignError(f"otter assign {master.name} took over {OTTER_TIMEOUT} s") from None
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise AssignError(f"otter assign failed on {master}:\n{tail}")
    zips = sorted((result / "autograder").glob(f"{master.stem}-autograder_*.zip"))
    if not zips:
        raise AssignError(f"otter assign wrote no autograder zip for {master}")
    zips[-1].replace(result / "autograder" / "autograder.zip")
    for older in zips[:-1]:
        older.unlink()


def build_assignments(
    root: str | Path | None = None,
    out: str | Path | None = None,
    chapters: list[str] | None = None,
    say: Callable[[str], None] = print,
) -> list[Path]:
    """Write each course chapter's assignment under ``out`` (default ``_build/assignments``);
    the assignment folders, in book order."""
    from .build import repository_url

    root = Path(root or Path.cwd()).resolve()
    out = Path(out or root / ASSIGNMENTS_DIR).resolve()
    names = chapters or course_chapters(root)
    context = book_context(root)
    url = repository_url(root)
    folders = []
    for name in names:
        source = root / NOTEBOOK_DIR / f"{name}.ipynb"
        if not source.exists():
            raise AssignError(f"no chapter {source}: name one of {', '.join(course_chapters(root))}")
        chapter = read_chapter(source)
        executed = root / EXECUTED_DIR / f"{name}.ipynb"
        chapter_context = Context(
            context.titles,
            context.equations,
            glued_outputs(executed) if executed.exists() else {},
            {question.label: question.name for question in chapter.questions},
        )
        if not executed.exists():
            say(f"assign: {name}: no executed chapter in {EXECUTED_DIR}: build the book for the written keys")
        folder = out / name
        shutil.rmtree(folder, ignore_errors=True)
        (folder / "master").mkdir(parents=True)
        nbformat.write(
            master_notebook(root, chapter, chapter_context, url), folder / "master" / f"{name}.ipynb"
        )
        folders.append(folder)

    def assign(folder: Path) -> Path:
        otter_assign(folder / "master" / f"{folder.name}.ipynb", folder)
        return folder

    with ThreadPoolExecutor(max_workers=2) as pool:
        for folder in pool.map(assign, folders):
            summary = assignment_summary(folder)
            shown = folder.relative_to(root) if folder.is_relative_to(root) else folder
            say(
                f"assign: {folder.name}: {summary['code']} code and {summary['written']} written questions, "
                f"{summary['points']} points: {shown}"
            )
    (out / "assignments.json").write_text(
        json.dumps({folder.name: assignment_summary(folder) for folder in folders}, indent=1),
        encoding="utf-8",
    )
    return folders


def assignment_summary(folder: Path) -> dict[str, Any]:
    """An assignment's questions and points, read from its master notebook."""
    master = nbformat.read(folder / "master" / f"{folder.name}.ipynb", as_version=4)
    questions = {}
    for cell in master.cells:
        if cell.cell_type == "raw" and cell.source.startswith("# BEGIN QUESTION"):
            header = yaml.safe_load(cell.source)
            questions[header["name"]] = {"points": header["points"], "manual": bool(header.get("manual"))}
    return {
        "questions": questions,
        "code": sum(not q["manual"] for q in questions.values()),
        "written": sum(q["manual"] for q in questions.values()),
        "points": sum(q["points"] for q in questions.values()),
        "autograded_points": sum(q["points"] for q in questions.values() if not q["manual"]),
    }
