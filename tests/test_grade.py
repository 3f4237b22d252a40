"""Grading a class (issue 31): the verdicts otter reports read back as slips, grades.csv and
mistakes.md from them, the reasons a submission gets no points; the lab plan told by the same
counts as each chapter's lab minutes; the pre-lab check's advice."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from movierec.book import grade, machine, times
from movierec.book.assign import read_chapter

ROOT = Path(__file__).resolve().parents[1]
COURSE = ["01_data", "02_model", "03_optimizers", "04_recommendations", "05_course"]
ASKED = [grade.Question("data_colikes", 4.0), grade.Question("model_gradient", 4.0)]

# --- reading otter's results ---------------------------------------------------------------------


def test_a_verdict_is_a_slip_and_its_hint():
    verdict = "✗ co-likes: ratings of exactly 4 are left out (rating > 4) — a like is rating >= threshold"
    assert grade.slip(verdict) == (
        "ratings of exactly 4 are left out (rating > 4)",
        "a like is rating >= threshold",
    )
    assert grade.slip("✗ NDCG@k: not written yet: replace the `...` with your code") == (
        "not written yet: replace the `...` with your code",
        "",
    )


OUTPUT = """data_colikes results:
    data_colikes - 1 result:
        {first}

    data_colikes - 2 result:
        ❌ Test case failed
        Error at line 13 in test data_colikes:
              assert verdict.ok, str(verdict)
        AssertionError: ✗ co-likes: X is 6 x 6, not 7 x 7 — one row and one column per movie in movie_ids
"""


def test_a_question_failed_on_hidden_draws_only_says_so():
    assert grade._public_passed(OUTPUT.format(first="✅ Test case passed"))
    assert not grade._public_passed(OUTPUT.format(first="❌ Test case failed"))
    assert grade._VERDICT.findall(OUTPUT.format(first="✅"))[0].startswith("✗ co-likes: X is 6 x 6")


def test_why_otter_run_failed_is_one_line():
    cell = (
        "nbclient.exceptions.CellExecutionError: An error occurred while executing the following cell:\n"
        "------------------\n1 / 0\n------------------\n\n"
        "\x1b[31mZeroDivisionError\x1b[0m                         Traceback (most recent call last)\n"
        "ZeroDivisionError: division by zero\n"
    )
    assert grade._failure(cell) == (
        "a cell raised ZeroDivisionError: division by zero (the notebook must run top to bottom)"
    )
    otter = "otter.run.run_autograder.utils.OtterRuntimeError: Received submission for assignment '02_model'"
    assert grade._failure(otter) == "OtterRuntimeError: Received submission for assignment '02_model'"


def test_what_is_not_a_notebook(tmp_path):
    (tmp_path / "essay.txt").write_text("I did it in my head.")
    (tmp_path / "empty.ipynb").write_text("{}")
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("no code")])
    nbformat.write(book, tmp_path / "words.ipynb")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), tmp_path / "ok.ipynb")
    assert grade.not_a_notebook(tmp_path / "essay.txt").startswith("not a notebook (NotJSONError")
    assert grade.not_a_notebook(tmp_path / "empty.ipynb").startswith("not a notebook")
    assert grade.not_a_notebook(tmp_path / "words.ipynb").startswith("a notebook without code cells")
    assert grade.not_a_notebook(tmp_path / "missing.ipynb").startswith("no such file")
    assert grade.not_a_notebook(tmp_path / "ok.ipynb") == ""


# --- grades.csv and mistakes.md ------------------------------------------------------------------


def graded(
    name: str, points: dict[str, float], verdicts: dict[str, str] | None = None, hidden=()
) -> grade.Grade:
    return grade.Grade(name, points, verdicts or {}, set(hidden))


GT = "✗ co-likes: ratings of exactly 4 are left out (rating > 4) — a like is rating >= threshold"
DIAGONAL = "✗ co-likes: the diagonal counts each movie's own likes — set X_ii = 0"
FACTOR = "✗ cost gradient: off by a factor 2 (yours is 2 times the gradient) — each pair appears twice"
CLASS = [
    graded("a.ipynb", {"data_colikes": 4.0, "model_gradient": 4.0}),
    graded("b.ipynb", {"data_colikes": 0.0, "model_gradient": 4.0}, {"data_colikes": GT}),
    graded(
        "c.ipynb",
        {"data_colikes": 0.0, "model_gradient": 0.0},
        {"data_colikes": DIAGONAL, "model_gradient": FACTOR},
    ),
    graded("d.ipynb", {"data_colikes": 0.0, "model_gradient": 4.0}, {"data_colikes": GT}),
    grade.Grade("e.txt", error="not a notebook (NotJSONError: ...): hand in the .ipynb file"),
]


def test_grades_csv_has_a_row_per_submission_with_points_per_question():
    rows = list(csv.DictReader(io.StringIO(grade.grades_csv(CLASS, ASKED))))
    assert [row["submission"] for row in rows] == ["a.ipynb", "b.ipynb", "c.ipynb", "d.ipynb", "e.txt"]
    assert [row["total"] for row in rows] == ["8", "4", "0", "4", "0"]
    assert {row["possible"] for row in rows} == {"8"}
    assert rows[4]["data_colikes"] == rows[4]["model_gradient"] == "0" and rows[4]["error"].startswith(
        "not a"
    )


def test_mistakes_counts_each_named_slip_most_common_first():
    text = grade.mistakes_md(CLASS, ASKED, "01_data", ["data_threshold"])
    colikes = text.split("## `data_colikes`")[1].split("## `model_gradient`")[0]
    assert "Right in 1 of 4 graded submissions." in colikes
    rows = [line for line in colikes.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert rows == [
        "| 2 | ratings of exactly 4 are left out (rating > 4) | a like is rating >= threshold |",
        "| 1 | the diagonal counts each movie's own likes | set X_ii = 0 |",
    ]
    gradient = text.split("## `model_gradient`")[1]
    assert "Right in 3 of 4 graded submissions." in gradient
    assert "| 1 | off by a factor 2 (yours is 2 times the gradient) | each pair appears twice |" in gradient
    assert "`data_threshold`: graded by hand" in text
    assert "| e.txt | not a notebook" in text.split("## No points")[1]


def test_a_slip_seen_only_on_the_hidden_inputs_says_so():
    typed = graded(
        "t.ipynb", {"data_colikes": 0.0}, {"data_colikes": "✗ co-likes: X is 6 x 6 — fix"}, ["data_colikes"]
    )
    assert "| 1 | X is 6 x 6 (only on the hidden inputs) | fix |" in grade.mistakes_md(
        [typed], ASKED[:1], "x", []
    )


def test_a_missing_autograder_is_one_line(tmp_path):
    with pytest.raises(grade.GradeError, match="no autograder/autograder.zip: run `movierec assign`"):
        grade.autograder_zip(tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "movierec.book.cli",
            "grade",
            str(tmp_path),
            "x.ipynb",
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "movierec assign" in done.stderr


# --- the lab plan --------------------------------------------------------------------------------


def course_times() -> list[times.ChapterTime]:
    return [times.chapter_time(ROOT / "notebooks" / f"{name}.ipynb") for name in COURSE]


def test_the_lab_holds_the_code_exercises_and_fits_its_minutes():
    chosen = times.lab_chapters(course_times())
    assert [time.name for time in chosen] == COURSE
    in_lab = sum(times.LAB_MINUTES["code"] * time.exercises["code"] for time in chosen)
    assert times.LAB_SETUP_MINUTES + in_lab <= times.LAB_LENGTH


def test_the_plan_and_each_chapters_lab_minutes_agree():
    """Per chapter: in the lab + homework = the lab minutes its box states; the in-lab exercises
    are the assignments' autograded questions, the homework its written ones."""
    plan = times.lab_plan(course_times())
    for time in course_times():
        row = next(
            line for line in plan.splitlines() if line.startswith(f"| {{doc}}`executed/{time.name}` |")
        )
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        reading, in_lab, homework, lab = (int(cell) for cell in cells[1:5])
        assert (reading, in_lab + homework, lab) == (time.reading_minutes, time.lab_minutes, time.lab_minutes)
        assert f"Lab: {lab} min" in times.times_line(time)
        questions = read_chapter(ROOT / "notebooks" / f"{time.name}.ipynb").questions
        written = [q.label for q in questions if q.kind != "code"]
        assert cells[5] == ", ".join(f"{{ref}}`{label}`" for label in written)
        (code,) = [q.label for q in questions if q.kind == "code"]
        assert f"{{ref}}`{code}`: write code" in plan
    last = [line for line in plan.splitlines() if re.match(r"\| \d+-\d+ \|", line)][-1]
    assert last.startswith(f"| 85-{times.LAB_LENGTH} | time left")


def test_the_teachers_page_includes_the_generated_plan_and_types_no_minutes():
    page = (ROOT / "book" / "teachers.md").read_text()
    lab = page.split("## A 90-minute lab")[1].split("\n## ")[0]
    assert ":start-after: <!-- the lab plan -->" in lab and ":end-before: <!-- end of the lab plan -->" in lab
    assert "| 0-15 |" not in lab and "movierec check-machine" in lab
    table = times.times_table(course_times())
    assert table.startswith(times.rule_text()) and times.PLAN_START in table and times.PLAN_END in table
    assert table.index(times.PLAN_END) < table.index("| chapter | words |")


# --- the pre-lab check ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("epoch", "advice"),
    [(0.002, "lab"), (0.02, "smoke"), (0.5, "html")],
)
def test_the_pre_lab_check_scales_the_reference_by_this_machines_epoch(epoch, advice, monkeypatch):
    reference = {"machine": "a test machine", "date": "2026-01-01", "epoch_seconds": 0.002}
    reference.update(lab_seconds=300.0, smoke_seconds=60.0)
    monkeypatch.setattr(machine, "time_epochs", lambda data, dim: epoch)
    verdict = machine.check_machine(reference=reference)
    assert verdict.advice == advice, verdict.message
    assert "a test machine on 2026-01-01" in verdict.message
    assert verdict.lab_seconds == pytest.approx(300.0 * epoch / 0.002)


def test_a_machine_that_cannot_train_reads_the_html_book(monkeypatch):
    def fails(data, dim):
        raise FileNotFoundError("no ml-latest-small here")

    monkeypatch.setattr(machine, "time_epochs", fails)
    verdict = machine.check_machine()
    assert verdict.advice == "html" and "no ml-latest-small here" in verdict.message


def test_the_reference_was_measured():
    assert machine.REFERENCE["epoch_seconds"] > 0 and machine.REFERENCE["lab_seconds"] > 0
    assert machine.REFERENCE["smoke_seconds"] > 0 and machine.REFERENCE["date"]


@pytest.mark.integration
def test_check_machine_prints_its_verdict(archive):
    done = subprocess.run(
        [sys.executable, "-m", "movierec.book.cli", "check-machine"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "MOVIEREC_DATA": str(archive)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first.split(": ")[1] in {"lab", "smoke", "html"} and "one epoch at the lab size took" in first
