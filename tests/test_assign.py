"""The course chapters as otter-grader assignments (issue 31): each chapter's code exercise an
autograded question whose tests are its checker (public on the book's inputs, hidden on other seeds
and sizes), its other exercises written questions with the build's answers as the key; otter's own
``otter assign`` and ``otter run`` on chapter 01 (the slow tier: on every course chapter), and
``movierec grade`` on a class's planted submissions."""

from __future__ import annotations

import copy
import csv
import io
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from movierec.book import assign, exercises, times
from movierec.book.grade import grade_submissions

ROOT = Path(__file__).resolve().parents[1]
COURSE = ["01_data", "02_model", "03_optimizers", "04_recommendations", "05_course"]
#: One typical slip per course chapter's code question, planted in its solution (text replaced),
#: and the words of the checker's verdict that name it.
SLIPS = {
    "01_data": (">= threshold", "> threshold", "ratings of exactly 4 are left out (rating > 4)"),
    "02_model": ("return 4 * V @ R", "return 2 * V @ R", "off by a factor 2"),
    "03_optimizers": ("return V - lr * velocity", "return V + lr * velocity", "the step is added"),
    "04_recommendations": ("    scores[inputs] = -math.inf\n", "", "the inputs are not excluded"),
    "05_course": (
        "    costs = []\n    for _ in range(epochs):\n",
        "    for _ in range(epochs):\n        costs = []\n",
        "`costs = []` is inside the loop",
    ),
}


def chapter(name: str) -> assign.Chapter:
    return assign.read_chapter(ROOT / "notebooks" / f"{name}.ipynb")


def code_question(name: str) -> assign.Question:
    (question,) = [q for q in chapter(name).questions if q.kind == "code"]
    return question


def answer_code(name: str, slipped: bool = False) -> str:
    """The chapter's solution, as a student would hand it in (otter's markers gone), or with its slip."""
    code = "\n".join(
        line for line in assign.solution_cell(code_question(name)).splitlines() if "SOLUTION" not in line
    )
    if slipped:
        old, new, _ = SLIPS[name]
        assert old in code, name
        code = code.replace(old, new)
    return code


def run_answer(code: str) -> dict:
    namespace: dict = {}
    exec(assign.SETUP + "\n" + code, namespace)  # noqa: S102 - the chapter's own solution
    return namespace


# --- reading the chapters -------------------------------------------------------------------------


def test_the_course_is_the_first_part_of_the_table_of_contents():
    assert assign.course_chapters(ROOT) == COURSE


@pytest.mark.parametrize("name", COURSE)
def test_each_course_chapter_has_one_code_question_and_written_ones(name):
    """Every exercise of the page is a question, of the kind the times rule gives it."""
    read = chapter(name)
    book = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    markdown = "\n\n".join(cell.source for cell in book.cells if cell.cell_type == "markdown")
    assert {q.label: q.kind for q in read.questions} == times.exercise_kinds(markdown)
    assert [q.kind for q in read.questions].count("code") == 1
    assert all(q.key for q in read.questions if q.kind != "code"), "every written question has its key"
    assert len({q.name for q in read.questions}) == len(read.questions)


@pytest.mark.parametrize("name", COURSE)
def test_the_students_cell_is_the_starter_and_the_masters_the_solution(name):
    """otter's own stripping of the master's answer cell gives back the page's starter function."""
    from otter.assign.solutions import replace_solutions

    question = code_question(name)
    stripped = "\n".join(replace_solutions(assign.solution_cell(question).splitlines(), "python"))
    starter = question.starter.split("\n\n\nmr.exercises.")[0].strip()
    assert stripped.strip() == starter


@pytest.mark.parametrize("name", COURSE)
def test_the_tests_are_the_pages_checker_public_then_hidden_draws(name):
    question, read = code_question(name), chapter(name)
    call = assign.checker_call(question, read.parameters)
    cells = assign.otter_tests(question, call)
    assert len(cells) == 3 and "hidden: false" in cells[0] and all("hidden: true" in c for c in cells[1:])
    assert all(
        f"mr.exercises.{call.checker}(" in cell and "assert verdict.ok, str(verdict)" in cell
        for cell in cells
    )
    assert all(re.search(r"seed=\d+, size=\d+", cell) for cell in cells[1:])


@pytest.mark.parametrize("name", COURSE)
def test_the_solution_passes_every_draw_and_the_slip_fails_each_by_name(name):
    """The checkers on other seeds and sizes keep their verdicts: the solution passes each hidden
    draw, the planted slip fails each, named as on the book's inputs."""
    question, read = code_question(name), chapter(name)
    call = assign.checker_call(question, read.parameters)
    check = getattr(exercises, call.checker)
    right, slipped = run_answer(answer_code(name)), run_answer(answer_code(name, slipped=True))
    draws = [(None, None, None), *assign.HIDDEN[call.checker]]
    for arguments, seed, size in draws:
        values = call.arguments if arguments is None else list(arguments)
        keywords = {} if seed is None else {"seed": seed, "size": size}
        fns = [right[answer] for answer in call.answers]
        verdict = check(*fns, *values, **keywords)
        assert verdict.ok, (name, seed, str(verdict))
        verdict = check(*(slipped[answer] for answer in call.answers), *values, **keywords)
        words = SLIPS[name][2]
        if values:  # the co-likes' threshold
            words = words.replace("4", f"{values[0]:g}")
        assert not verdict.ok and words in str(verdict), (name, seed, str(verdict))


def test_an_answer_typed_in_for_the_books_inputs_passes_there_and_fails_the_hidden_draws():
    def typed(ratings, movie_ids, threshold):
        return exercises._colike_reference(threshold)

    assert exercises.check_colikes(typed, 4.0).ok
    for arguments, seed, size in assign.HIDDEN["check_colikes"]:
        assert not exercises.check_colikes(typed, *arguments, seed=seed, size=size).ok


def test_seeded_draws_are_the_same_every_time_and_differ_between_seeds():
    assert exercises._colike_case(31, 7) == exercises._colike_case(31, 7) != exercises._colike_case(57, 7)
    embeddings, inputs, top_n, zero = exercises._recommend_case(31, 10)
    assert embeddings.shape == (3, 10) and float(embeddings[:, zero].abs().sum()) == 0 and zero not in inputs
    default = exercises._recommend_case()
    assert bool((default[0] == exercises._recommend_embeddings()).all())
    assert default[1:] == (exercises.RECOMMEND_INPUTS, exercises.RECOMMEND_TOP_N, exercises.ZERO_MOVIE)
    assert exercises._colike_case() == (exercises.COLIKE_MOVIES, exercises.COLIKE_RATINGS)


# --- the Markdown -------------------------------------------------------------------------------


def test_myst_becomes_jupyter_markdown():
    context = assign.Context(
        titles={"07_fit_limits": "How low can the cost go?"},
        equations={"eq-score": r"s_j = \frac{1}{k} \sum_i \cos(v_i, v_j)"},
        glued={"sol-x": {"text/plain": "'1,234'"}, "claim-up": {"text/plain": "True"}},
        questions={"ex-rec-code": "rec_code"},
    )
    text = (
        "See {doc}`07_fit_limits`, {eq}`eq-score` and {ref}`ex-rec-code` {cite}`polyak1964`; "
        "it is {glue:text}`sol-x` ({numref}`tbl-x`).\n\n"
        "```{claim} claim-up\nUp.\n+++\nNot up.\n```\n"
    )
    shown = assign.to_markdown(text, context)
    assert "*How low can the cost go?*" in shown and r"$s_j = \frac{1}{k}" in shown
    assert "question `rec_code`" in shown and "(Polyak 1964)" in shown and "it is 1,234 (the table)" in shown
    assert "Up." in shown and "Not up." not in shown
    assert "{" not in shown.replace(r"\frac{1}{k}", "")


@pytest.mark.parametrize("name", COURSE)
def test_no_myst_is_left_in_a_master_notebook(name, tmp_path):
    context = assign.book_context(ROOT)
    read = chapter(name)
    context.questions = {q.label: q.name for q in read.questions}
    master = assign.master_notebook(tmp_path, read, context)
    markdown = "\n".join(cell.source for cell in master.cells if cell.cell_type == "markdown")
    assert not re.search(r"\{[\w:-]+\}`|^`{3,}\{|^:[\w-]+:", markdown, re.M), markdown


@pytest.mark.notebooks
def test_the_written_keys_are_the_builds_answers(smoke_book, tmp_path):
    """Keys from the smoke book's executed chapters: glued values, the chosen side of each claim."""
    root, _ = smoke_book
    context = assign.book_context(root)
    for name in COURSE:
        read = assign.read_chapter(root / "notebooks" / f"{name}.ipynb")
        context.glued = assign.glued_outputs(root / "book" / "executed" / f"{name}.ipynb")
        master = assign.master_notebook(root, read, context)
        keys = [cell.source for cell in master.cells if cell.source.startswith("**Instructor's key**")]
        assert len(keys) == sum(q.kind != "code" for q in read.questions)
        assert all("not computed" not in key and "threshold = 4.0" in key for key in keys), name


# --- otter assign and otter run: chapter 01 here, the others in the slow tier --------------------


def build(name: str, out: Path) -> Path:
    (folder,) = assign.build_assignments(ROOT, out, [name], say=lambda text: None)
    return folder


def otter_run(zip_path: Path, notebook: Path, out: Path) -> str:
    """``otter run`` itself, as a teacher would call it; its printed summary."""
    out.mkdir(exist_ok=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "otter",
            "run",
            "--no-logo",
            "-a",
            str(zip_path),
            "-o",
            str(out),
            str(notebook),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout


def total_score(summary: str) -> tuple[float, float]:
    found = re.search(r"Total Score: ([\d.]+) / ([\d.]+)", summary)
    assert found, summary
    return float(found.group(1)), float(found.group(2))


def planted(folder: Path, code: str, path: Path, extra: str = "") -> Path:
    """The student notebook with its answer cell replaced by ``code`` (and a cell ``extra`` first)."""
    book = copy.deepcopy(nbformat.read(folder / "student" / f"{folder.name}.ipynb", as_version=4))
    (cell,) = [
        c for c in book.cells if c.cell_type == "code" and "otter_answer_cell" in c.metadata.get("tags", [])
    ]
    cell.source = code
    if extra:
        book.cells.insert(2, nbformat.v4.new_code_cell(extra))
    nbformat.write(book, path)
    return path


def assert_assignment_layout(folder: Path) -> None:
    name = folder.name
    for path in (f"student/{name}.ipynb", "autograder/autograder.zip", f"autograder/{name}.ipynb"):
        assert (folder / path).is_file(), path
    student = nbformat.read(folder / "student" / f"{name}.ipynb", as_version=4)
    sources = "\n".join(cell.source for cell in student.cells)
    assert "# BEGIN SOLUTION" not in sources and "Instructor's key" not in sources
    assert re.search(r'grader\.check\("\w+"\)', sources) and "grader.check_all()" in sources
    solution = nbformat.read(folder / "autograder" / f"{name}.ipynb", as_version=4)
    assert "Instructor's key" in "\n".join(cell.source for cell in solution.cells)


@pytest.fixture(scope="module")
def assignment_01(tmp_path_factory):
    return build("01_data", tmp_path_factory.mktemp("assignments"))


@pytest.mark.assignments
def test_chapter_01_is_an_otter_assignment(assignment_01, tmp_path):
    """otter's own `otter run`: the solution notebook full marks, the untouched student notebook
    less."""
    assert_assignment_layout(assignment_01)
    zip_path = assignment_01 / "autograder" / "autograder.zip"
    score, possible = total_score(
        otter_run(zip_path, assignment_01 / "autograder" / "01_data.ipynb", tmp_path / "a")
    )
    assert score == possible == assign.CODE_POINTS
    score, possible = total_score(
        otter_run(zip_path, assignment_01 / "student" / "01_data.ipynb", tmp_path / "b")
    )
    assert score < possible


@pytest.mark.assignments
def test_grader_check_prints_the_checkers_verdict(assignment_01, tmp_path):
    """A student's slip, run in a kernel as in Jupyter: `grader.check` shows the one-line verdict."""
    from nbclient import NotebookClient

    path = planted(assignment_01, answer_code("01_data", slipped=True), tmp_path / "01_data.ipynb")
    book = nbformat.read(path, as_version=4)
    NotebookClient(book, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    (check,) = [cell for cell in book.cells if 'grader.check("data_colikes")' in cell.source]
    shown = "".join(
        str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", ""))
        for output in check.outputs
    )
    assert "✗ co-likes: ratings of exactly 4 are left out (rating > 4)" in shown, shown


@pytest.mark.assignments
def test_a_class_is_graded_and_its_slips_counted(assignment_01, tmp_path):
    """Planted submissions: right, a slip, an answer typed in for the book's inputs, the untouched
    notebook, one that raises, one that loops forever and a text file: each its row, the run goes on."""
    folder = tmp_path / "in"
    folder.mkdir()
    right = planted(assignment_01, answer_code("01_data"), folder / "right.ipynb")
    slip = planted(assignment_01, answer_code("01_data", slipped=True), folder / "slip.ipynb")
    slip_too = planted(assignment_01, answer_code("01_data", slipped=True), folder / "slip_too.ipynb")
    typed = planted(
        assignment_01,
        "def my_colikes(ratings, ids, threshold):\n    return mr.exercises._colike_reference(threshold)",
        folder / "typed.ipynb",
    )
    raises = planted(assignment_01, answer_code("01_data"), folder / "raises.ipynb", extra="1 / 0")
    loops = planted(
        assignment_01, answer_code("01_data"), folder / "loops.ipynb", extra="while True:\n    pass"
    )
    text = folder / "essay.txt"
    text.write_text("I did it in my head.\n")
    untouched = assignment_01 / "student" / "01_data.ipynb"
    submissions = [right, slip, typed, untouched, raises, loops, text, slip_too]
    out = tmp_path / "graded"
    grades = grade_submissions(assignment_01, submissions, out, time_limit=60, say=lambda line: None)
    assert [g.submission for g in grades] == [str(s) for s in submissions]
    rows = {
        Path(row["submission"]).name: row
        for row in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))
    }
    assert list(next(iter(rows.values()))) == ["submission", "data_colikes", "total", "possible", "error"]
    assert rows["right.ipynb"]["data_colikes"] == "4" and rows["right.ipynb"]["error"] == ""
    for name in ("slip.ipynb", "slip_too.ipynb", "typed.ipynb", "01_data.ipynb"):
        assert rows[name]["data_colikes"] == "0" and rows[name]["error"] == "", name
    assert "ZeroDivisionError: division by zero" in rows["raises.ipynb"]["error"]
    assert "did not finish in 60 s" in rows["loops.ipynb"]["error"]
    assert rows["essay.txt"]["error"].startswith("not a notebook")
    assert all(rows[name]["total"] == "0" for name in ("raises.ipynb", "loops.ipynb", "essay.txt"))
    mistakes = (out / "mistakes.md").read_text()
    assert "Right in 1 of 5 graded submissions." in mistakes
    lines = [line for line in mistakes.splitlines() if line.startswith("| ") and line[2:3].isdigit()]
    assert lines[0].startswith("| 2 | ratings of exactly 4 are left out (rating > 4) |"), mistakes
    assert any("(only on the hidden inputs)" in line for line in lines), mistakes
    assert any("not written yet" in line for line in lines), mistakes
    assert "## No points" in mistakes and "essay.txt" in mistakes
    assert len(list((out / "results").glob("*.json"))) == 5


@pytest.mark.slow
@pytest.mark.assignments
@pytest.mark.parametrize("name", COURSE[1:])
def test_every_course_chapter_is_an_otter_assignment(name, tmp_path):
    """Chapters 02 to 05: the layout; otter run gives the solution full marks and the untouched
    notebook less; a planted slip loses exactly its question's points, named in mistakes.md."""
    folder = build(name, tmp_path / "assignments")
    assert_assignment_layout(folder)
    zip_path = folder / "autograder" / "autograder.zip"
    score, possible = total_score(
        otter_run(zip_path, folder / "autograder" / f"{name}.ipynb", tmp_path / "a")
    )
    assert score == possible == assign.CODE_POINTS
    score, _ = total_score(otter_run(zip_path, folder / "student" / f"{name}.ipynb", tmp_path / "b"))
    assert score < possible
    slip = planted(folder, answer_code(name, slipped=True), tmp_path / "slip.ipynb")
    right = planted(folder, answer_code(name), tmp_path / "right.ipynb")
    grades = grade_submissions(folder, [slip, right], tmp_path / "graded", say=lambda line: None)
    assert [g.total for g in grades] == [possible - assign.CODE_POINTS, possible]
    assert SLIPS[name][2] in (tmp_path / "graded" / "mistakes.md").read_text()
