"""Grading a class's submissions with an assignment's autograder (``movierec grade``).

Each submission is graded by otter-grader's own ``otter run`` (no Docker), in a process of its own
with a time limit, a few at a time: a submission that raises, loops forever or is not a notebook
gets its row with zero points and the reason, and the others are still graded. Written are
``grades.csv`` (one row per submission, the points of each autograded question) and
``mistakes.md`` (for each question, how many submissions made each slip its checker named, most
common first), with each submission's otter results beside them. Book page: "For teachers".
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MovierecError

TIME_LIMIT = 120  # seconds for one submission: the five chapters' solutions take about 10
HINT = " — "  # a checker's verdict: "✗ exercise: what is wrong — how to fix it"
_VERDICT = re.compile(r"^\s*AssertionError: (✗ .*)$", re.M)
_ERROR = re.compile(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception|Interrupt)): (.*)$", re.M)


class GradeError(MovierecError):
    """The assignment cannot be graded (no autograder zip, no output folder)."""


@dataclass
class Question:
    """An autograded question of the assignment: its name and points, from the autograder's tests."""

    name: str
    points: float


@dataclass
class Grade:
    """One submission's outcome: points per question, and each failed question's verdict."""

    submission: str
    points: dict[str, float] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)  # question -> the checker's line
    hidden: set[str] = field(default_factory=set)  # questions failed on a hidden draw only
    error: str = ""  # why the submission got no points at all
    seconds: float = 0.0

    @property
    def total(self) -> float:
        return sum(self.points.values())


def autograder_zip(assignment: Path) -> Path:
    """The autograder zip of an assignment folder (``NN_name/``, its ``autograder/``, or the zip)."""
    for candidate in (
        assignment,
        assignment / "autograder.zip",
        assignment / "autograder" / "autograder.zip",
    ):
        if candidate.is_file() and candidate.suffix == ".zip":
            return candidate
    raise GradeError(
        f"{assignment} holds no autograder/autograder.zip: run `movierec assign` (make assignments)"
    )


def questions(zip_path: Path) -> list[Question]:
    """The autograded questions and their points, as otter reads the zip's test files."""
    from otter.nbmeta_config import NBMetadataConfig
    from otter.test_files import create_test_file

    found = []
    with (
        tempfile.TemporaryDirectory(prefix="movierec-tests-") as scratch,
        zipfile.ZipFile(zip_path) as archive,
    ):
        for name in sorted(archive.namelist()):
            if name.startswith("tests/") and name.endswith(".py"):
                test = create_test_file(archive.extract(name, scratch), NBMetadataConfig({}))
                found.append(Question(test.name, float(test.possible)))
    if not found:
        raise GradeError(f"{zip_path} holds no tests/*.py: is it an otter autograder zip?")
    return found


def not_a_notebook(path: Path) -> str:
    """Why ``path`` is not a notebook otter can grade ('' when it is one)."""
    import nbformat  # here, not at the top: the movierec command starts without it

    if not path.is_file():
        return f"no such file: {path}"
    try:
        book = nbformat.read(path, as_version=4)
    except Exception as error:  # JSON errors, encodings, nbformat's validation
        text = " ".join(str(error).split())[:150]
        return f"not a notebook ({type(error).__name__}: {text}): hand in the .ipynb file"
    if not any(cell.cell_type == "code" for cell in book.cells):
        return "a notebook without code cells: hand in the assignment's notebook"
    return ""


def _kill(process: subprocess.Popen) -> None:
    """End ``process`` and everything it started (its kernel): its own session."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _failure(output: str) -> str:
    """What made ``otter run`` fail, in one line: the exception a cell raised, or otter's error."""
    output = re.sub(r"\x1b\[[0-9;]*m", "", output)
    errors = [(kind, message) for kind, message in _ERROR.findall(output) if kind != "CellExecutionError"]
    cell = re.search(r"An error occurred while executing the following cell", output)
    if errors:
        kind, message = errors[-1]
        text = " ".join(message.split())[:160]
        if cell:
            return f"a cell raised {kind}: {text} (the notebook must run top to bottom)"
        return f"{kind}: {text}"
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return " ".join((lines[-1] if lines else "otter run failed").split())[:200]


def notebook_name(zip_path: Path) -> str:
    """The file name the assignment's notebook has (its otter init cell opens it by that name)."""
    with zipfile.ZipFile(zip_path) as archive:
        try:
            config = json.loads(archive.read("otter_config.json"))
        except (KeyError, ValueError):
            config = {}
    name = config.get("assignment_name")
    return f"{name}.ipynb" if name else ""


def grade_one(
    submission: Path, zip_path: Path, results: Path, time_limit: float = TIME_LIMIT, index: int = 0
) -> Grade:
    """Grade one submission with ``otter run`` in its own process group, killed after
    ``time_limit`` seconds; its otter results are copied to ``results/NNN-NAME.json``. The
    submission is graded under the assignment notebook's own name, whatever the student named it."""
    begun = time.perf_counter()
    grade = Grade(str(submission))
    problem = not_a_notebook(submission)
    if problem:
        grade.error = problem
        return grade
    with tempfile.TemporaryDirectory(prefix="movierec-grade-") as scratch:
        copy = Path(scratch) / "submission" / (notebook_name(zip_path) or submission.name)
        copy.parent.mkdir()
        shutil.copyfile(submission, copy)
        command = [
            sys.executable,
            "-m",
            "otter",
            "run",
            "--debug",  # a cell that raises fails the run, as it failed for the student
            "--no-logo",
            "-a",
            str(zip_path.resolve()),
            "-o",
            scratch,
            str(copy),
        ]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=scratch,
            start_new_session=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        try:
            output, _ = process.communicate(timeout=time_limit)
        except subprocess.TimeoutExpired:
            _kill(process)
            grade.error = f"did not finish in {time_limit:g} s (a loop that never ends?)"
            grade.seconds = time.perf_counter() - begun
            return grade
        found = Path(scratch) / "results.json"
        if process.returncode != 0 or not found.exists():
            grade.error = _failure(output)
            grade.seconds = time.perf_counter() - begun
            return grade
        data = json.loads(found.read_text(encoding="utf-8"))
        results.mkdir(parents=True, exist_ok=True)
        (results / f"{index:03d}-{submission.stem}.json").write_text(
            json.dumps(data, indent=1), encoding="utf-8"
        )
    for test in data.get("tests", []):
        if "max_score" not in test:  # the "Public Tests" summary
            continue
        name = test["name"]
        grade.points[name] = float(test.get("score") or 0.0)
        if grade.points[name] < float(test["max_score"]):
            verdicts = _VERDICT.findall(test.get("output", ""))
            grade.verdicts[name] = verdicts[0] if verdicts else _failure(test.get("output", ""))
            grade.hidden.update([name] if _public_passed(test.get("output", "")) else [])
    grade.seconds = time.perf_counter() - begun
    return grade


def _public_passed(output: str) -> bool:
    """Whether a question's first test case (the public one, on the book's inputs) passed."""
    first = re.search(r" - 1 result:\s*\n\s*(\S+)", output)
    return bool(first and first.group(1).startswith("✅"))


def slip(verdict: str) -> tuple[str, str]:
    """A failed verdict's (slip, hint): what is wrong, and how to fix it."""
    text = verdict.removeprefix("✗ ")
    text = text.split(": ", 1)[1] if ": " in text else text
    what, _, hint = text.partition(HINT)
    return what.strip(), hint.strip()


def grades_csv(grades: list[Grade], asked: list[Question]) -> str:
    """One row per submission: the points of each question, the total and possible, and the reason
    of a submission that got none."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    possible = sum(question.points for question in asked)
    writer.writerow(["submission", *(q.name for q in asked), "total", "possible", "error"])
    for grade in grades:
        row = [f"{grade.points.get(q.name, 0.0):g}" for q in asked]
        writer.writerow([grade.submission, *row, f"{grade.total:g}", f"{possible:g}", grade.error])
    return buffer.getvalue()


def mistakes_md(grades: list[Grade], asked: list[Question], assignment: str, written: list[str]) -> str:
    """For each question, how many submissions made each slip its checker named, most common
    first; then the submissions that got no points and why."""
    graded = [grade for grade in grades if not grade.error]
    lines = [
        f"# What the class got wrong: {assignment}",
        "",
        f"{len(grades)} submissions, {len(graded)} graded by the autograder, "
        f"{len(grades) - len(graded)} with no points (at the end). Each slip is the checker's own line "
        "(what is wrong, then how to fix it); a slip seen only on the hidden inputs says so.",
    ]
    for question in asked:
        right = sum(1 for grade in graded if grade.points.get(question.name, 0.0) >= question.points)
        counts: Counter[tuple[str, str, bool]] = Counter()
        for grade in graded:
            if question.name in grade.verdicts:
                what, hint = slip(grade.verdicts[question.name])
                counts[what, hint, question.name in grade.hidden] += 1
        lines += [
            "",
            f"## `{question.name}` ({question.points:g} points)",
            "",
            f"Right in {right} of {len(graded)} graded submissions.",
        ]
        if counts:
            lines += ["", "| submissions | slip | the checker's hint |", "| ---: | --- | --- |"]
            ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
            for (what, hint, hidden), count in ranked:
                shown = what + (" (only on the hidden inputs)" if hidden else "")
                lines.append(f"| {count} | {_cell(shown)} | {_cell(hint)} |")
    if written:
        lines += [
            "",
            "## Written questions",
            "",
            f"{', '.join(f'`{name}`' for name in written)}: graded by hand, against the key in the "
            "autograder's solution notebook.",
        ]
    failed = [grade for grade in grades if grade.error]
    if failed:
        lines += ["", "## No points", "", "| submission | why |", "| --- | --- |"]
        lines += [f"| {_cell(grade.submission)} | {_cell(grade.error)} |" for grade in failed]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def written_questions(assignment: Path) -> list[str]:
    """The hand-graded questions' names, from the assignment's master notebook (if it is there)."""
    import nbformat
    import yaml

    masters = sorted((assignment / "master").glob("*.ipynb")) if assignment.is_dir() else []
    names = []
    for master in masters[:1]:
        for cell in nbformat.read(master, as_version=4).cells:
            if cell.cell_type == "raw" and cell.source.startswith("# BEGIN QUESTION"):
                header = yaml.safe_load(cell.source)
                if header.get("manual"):
                    names.append(header["name"])
    return names


def grade_submissions(
    assignment: str | os.PathLike,
    submissions: list[str | os.PathLike],
    out: str | os.PathLike,
    time_limit: float = TIME_LIMIT,
    jobs: int | None = None,
    say: Callable[[str], None] = print,
) -> list[Grade]:
    """Grade every submission (``jobs`` at a time, default one per core), write ``grades.csv``,
    ``mistakes.md`` and ``results/`` under ``out``; the grades, in the submissions' order."""
    assignment = Path(assignment)
    zip_path = autograder_zip(assignment)
    asked = questions(zip_path)
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise GradeError(f"cannot write {out} ({error.strerror or error}): choose another --out") from None
    paths = [Path(submission) for submission in submissions]
    workers = max(1, min(jobs or (os.cpu_count() or 1), len(paths) or 1))
    begun = time.perf_counter()

    def run(item: tuple[int, Path]) -> Grade:
        index, path = item
        return grade_one(path, zip_path, out / "results", time_limit, index)

    grades: list[Grade] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done, grade in enumerate(pool.map(run, enumerate(paths)), start=1):
            grades.append(grade)
            outcome = grade.error or f"{grade.total:g} of {sum(q.points for q in asked):g} points"
            say(f"grade {done} of {len(paths)}: {grade.submission}: {outcome} ({grade.seconds:.0f} s)")
    home = zip_path.parent.parent if zip_path.parent.name == "autograder" else zip_path.parent
    name = home.name
    (out / "grades.csv").write_text(grades_csv(grades, asked), encoding="utf-8")
    (out / "mistakes.md").write_text(
        mistakes_md(grades, asked, name, written_questions(home)), encoding="utf-8"
    )
    say(
        f"graded {len(grades)} submissions in {time.perf_counter() - begun:.0f} s ({workers} at a time): "
        f"{out / 'grades.csv'}, {out / 'mistakes.md'}"
    )
    return grades
