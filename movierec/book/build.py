"""The book driver: execute the notebooks with papermill, build the HTML.

``movierec book --profile NAME`` (behind ``make book``) validates the profile whole (every
value, and against every chapter notebook's parameters) before any work, its titles and sizes
against the data before any chapter runs, executes each chapter into ``book/executed/``
(skipped when its source, parameters and the package are unchanged; a chapter trains its own
runs, or reads them from the run store), then runs ``jupyter-book build -W -n
--keep-going``. The chapters are those ``_toc.yml`` lists under ``book/executed/``: adding
a chapter is its notebook plus one line there. It says what it is doing, one line per stage,
and ends with the page to open. ``--edition student`` builds the same book without the
solutions into ``_build/student/html``. Book page: "Re-run it yourself".
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat
import yaml

from .. import __version__
from ..errors import MovierecError, ParameterError
from ..model.train import machine_description
from ..runs.workspace import Workspace
from . import blocks
from .kernel import KERNEL_SETUP
from .pages import read_results
from .profiles import (
    TYPE_WORDS,
    Parameter,
    check_with_data,
    defaults,
    load_profile,
    profile_path,
    shown_path,
    with_declared,
)
from .times import chapter_time, times_line, times_table
from .toc import EXECUTED_DIR, NOTEBOOK_DIR, BookError, notebook_paths, toc_pages

GENERATED_DIR = Path("book") / "_generated"
BUILD_DIR = Path("_build")
EDITIONS = ("instructor", "student")
INJECTED_TAG = "injected-parameters"
SOLUTION_TAG = "solution"
MATHJAX_SCRIPT = "tex-chtml.js"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
PARALLEL = 2  # chapters executed at once: a kernel each; more than the cores only adds contention
NOT_IN_NOTEBOOKS = {
    "book/access.py",
    "book/assign.py",
    "book/blocks.py",
    "book/build.py",
    "book/cli.py",
    "book/grade.py",
    "book/lint.py",
    "book/machine.py",
    "book/sphinxext.py",
    "book/times.py",
    "book/toc.py",
    "book/pdf.py",
    "cli.py",
    "torchrun.py",
}
#: The licence of the book's text and figures (every page's footer says it); the code is MIT
#: (pyproject.toml), and the MovieLens data keeps GroupLens's terms and is not redistributed.
TEXT_LICENCE = ("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/")
MOVIELENS_TERMS = "https://grouplens.org/datasets/movielens/"
KERNEL_QUIET = [
    "--IPKernelApp.log_level=CRITICAL"
]  # the kernel's start-up warnings would clutter the terminal

Say = Callable[[str], None]


def say_line(text: str) -> None:
    """One stage line on stdout, flushed at once (also when piped to a file)."""
    print(f"movierec book: {text}", flush=True)


def notebook_parameters(notebook: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares (papermill's ``inspect_notebook``)."""
    import papermill

    return papermill.inspect_notebook(str(notebook))


def check_notebooks(root: Path) -> dict[str, dict[str, dict[str, str]]]:
    """Each chapter's declared parameters (papermill's ``inspect_notebook``), after the chapter
    form's lint (:func:`movierec.book.lint.chapter_problems`) found nothing missing in any."""
    from .lint import chapter_problems

    problems = [
        f"{path.relative_to(root)}: {problem}"
        for path in notebook_paths(root)
        for problem in chapter_problems(path)
    ]
    if problems:
        raise BookError(
            "chapters that do not follow the chapter form (CONTRIBUTING.md):\n" + "\n".join(problems)
        )
    return {path.stem: notebook_parameters(path) for path in notebook_paths(root)}


def parameters_page_table(schema: dict[str, Parameter]) -> str:
    """The re-run page's parameter table, in MyST, generated from the schema (the book's and the
    chapters' own parameters); set full width, its cells free to break long defaults, so that all
    four columns fit the page."""
    rows = ["````{container} full-width mr-parameters", "| parameter | type | default | meaning |"]
    rows.append("| --- | --- | --- | --- |")
    for name, parameter in schema.items():
        default = json.dumps(parameter.default)
        help_text = parameter.help.replace("|", "\\|")
        rows.append(f"| `{name}` | {TYPE_WORDS[parameter.type]} | `{default}` | {help_text} |")
    return "\n".join([*rows, "````"]) + "\n"


def exercises_table(root: Path, schema: dict[str, Parameter]) -> str:
    """The teachers' page table of every chapter's exercises and the book parameters each one
    asks to change, read from the notebooks (MyST), so it never drifts from them. A code exercise
    (a gated solution) changes none: a parameter it names is one its function takes."""
    rows = ["| chapter | exercise | parameters it changes |", "| --- | --- | --- |"]
    for path in notebook_paths(root):
        book = nbformat.read(path, as_version=4)
        text = "\n".join(cell.source for cell in book.cells if cell.cell_type == "markdown")
        code = blocks.gated_labels(text)
        for exercise in blocks.exercises(text):
            named = [
                name for name in dict.fromkeys(re.findall(r"`([a-z_]+)`", exercise.body)) if name in schema
            ]
            if exercise.label in code:
                parameters = "none: a code exercise"
            else:
                parameters = ", ".join(f"`{name}`" for name in named) or "no book parameter"
            rows.append(
                f"| {{doc}}`{EXECUTED_DIR.name}/{path.stem}` | {{ref}}`{exercise.label}` | {parameters} |"
            )
    return "\n".join(rows) + "\n"


def package_fingerprint() -> str:
    """SHA-256 over the package's sources that notebooks run, the in-page recommender's script
    included (not the driver, the command line or the Sphinx extension): a change there
    re-executes the notebooks."""
    digest = hashlib.sha256()
    package = Path(__file__).parents[1]
    for source in sorted([*package.rglob("*.py"), *package.glob("book/widget_assets/*")]):
        if source.relative_to(package).as_posix() in NOT_IN_NOTEBOOKS:
            continue
        digest.update(source.relative_to(package).as_posix().encode() + source.read_bytes())
    return digest.hexdigest()


def _cell_problem(book: nbformat.NotebookNode) -> str | None:
    for index, cell in enumerate(book.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                return f"cell {index} wrote to stderr: {output.get('text', '').strip()[:300]}"
            if output.get("output_type") == "error":
                return f"cell {index} raised {output.get('ename')}: {output.get('evalue')}"
    return None


def _assets_present(target: Path, root: Path) -> bool:
    """Whether the files an executed notebook recorded as its ``assets`` all exist."""
    try:
        assets = read_results(target).get("assets", [])
    except (MovierecError, OSError, ValueError):
        return True
    return all((root / asset).exists() for asset in assets)


def execute_notebook(
    source: Path, target: Path, parameters: dict[str, Any], fingerprint: str, root: Path, at_once: int = 1
) -> bool:
    """Execute ``source`` into ``target`` unless an identical execution is there (with the
    assets it recorded); True if run. The execution's seconds, machine and ``at_once`` (how many
    chapters shared the cores) are recorded in its metadata (:func:`execution_record`)."""
    import papermill

    key = hashlib.sha256(
        source.read_bytes() + json.dumps(parameters, sort_keys=True).encode() + fingerprint.encode()
    ).hexdigest()
    if target.exists() and execution_record(target).get("key") == key and _assets_present(target, root):
        return False
    begun = time.perf_counter()
    temporary = target.with_name(f".{target.stem}.tmp.ipynb")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.touch()
    except OSError as error:
        raise BookError(
            f"cannot write the executed notebooks to {target.parent} ({error.strerror or error}): "
            f"make the folder writable"
        ) from error
    try:
        papermill.execute_notebook(
            str(source),
            str(temporary),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(root),
            progress_bar=False,
            log_output=False,
            extra_arguments=[
                *KERNEL_QUIET,
                KERNEL_SETUP,
            ],  # the book's tables; glued figures also record SVG, 300-dpi PNG
        )
    except papermill.PapermillExecutionError as error:
        temporary.unlink(missing_ok=True)
        raise BookError(
            f"notebook {source} failed in cell {error.cell_index} (execution count {error.exec_count}): "
            f"{error.ename}: {error.evalue}"
        ) from None
    book = nbformat.read(temporary, as_version=4)
    problem = _cell_problem(book)
    if problem:
        temporary.unlink(missing_ok=True)
        raise BookError(f"notebook {source}: {problem}")
    for cell in book.cells:
        tags = cell.metadata.setdefault("tags", [])
        if INJECTED_TAG in tags and "hide-input" not in tags:
            tags.append("hide-input")
    book.metadata["movierec"] = {
        "key": key,
        "parameters": parameters,
        "seconds": round(time.perf_counter() - begun, 1),
        "machine": machine_description("cpu", int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)),
        "chapters_at_once": at_once,
    }
    nbformat.write(book, temporary)
    os.replace(temporary, target)
    return True


def execution_record(target: Path) -> dict[str, Any]:
    """What the driver recorded in an executed chapter: its key, parameters, seconds, machine."""
    try:
        return dict(nbformat.read(target, as_version=4).metadata.get("movierec", {}))
    except (OSError, ValueError):
        return {}


@contextmanager
def patched_environment(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set (the kernels started inside inherit them), then restored."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def longest_first(paths: list[Path], root: Path) -> list[Path]:
    """The chapters in the order to start them: the longest first, by the seconds each took when it
    last ran here; chapters never run in reverse book order (the judging chapters, the longest,
    come last in the book), so that no core waits at the end while one long chapter finishes."""

    def seconds(path: Path) -> float:
        return float(execution_record(root / EXECUTED_DIR / path.name).get("seconds") or 0.0)

    return sorted(reversed(paths), key=seconds, reverse=True)


def execute_chapters(
    paths: list[Path],
    parameters: dict[str, dict[str, Any]],
    fingerprint: str,
    root: Path,
    say: Say,
) -> None:
    """Execute the chapters, as many at a time as there are CPU cores (at most ``PARALLEL``):
    each runs in its own kernel, with the cores shared out between the kernels' thread pools
    (two kernels of two threads each on two cores slow small products tenfold). Chapters that
    need the same run share it through the run store: the first to reach it claims and trains
    it, the other reads it once stored. One line per chapter, in the order they finish; the first
    failure stops the build once the others are done."""

    cores = os.cpu_count() or 1
    workers = max(1, min(PARALLEL, cores, len(paths)))
    share = max(1, cores // workers)

    def run(path: Path) -> str:
        target = root / EXECUTED_DIR / path.name
        if not execute_notebook(path, target, parameters[path.stem], fingerprint, root, workers):
            return "unchanged, reused"
        return f"executed in {execution_record(target)['seconds']:.0f} s"

    threads = {name: os.environ.get(name) or str(share) for name in THREAD_VARIABLES}
    with patched_environment(threads), ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(run, path): path for path in longest_first(paths, root)}
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                path = futures[future]
                say(f"notebook {done} of {len(paths)}: {path.stem} ({future.result()})")
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def jupyter_book_command() -> list[str]:
    """``jupyter-book`` from this interpreter's environment."""
    beside = Path(sys.executable).parent / "jupyter-book"
    found = str(beside) if beside.exists() else shutil.which("jupyter-book")
    if not found:
        raise BookError("jupyter-book is not installed: run `make book` (it installs requirements.txt)")
    return [found]


def vendor_mathjax(root: Path) -> None:
    """Copy MathJax (from the pinned ``django-static-mathjax`` wheel) into ``_vendor/mathjax``,
    served as ``_static/mathjax``, so that the book's math renders offline, in a classroom
    without internet too. Not ``_static`` itself: Jupyter Book would add every script found
    there to each page, loading MathJax twice."""
    from importlib.resources import files

    source = Path(str(files("mathjax"))) / "static" / "mathjax" / "es5"
    target = root / "_vendor" / "mathjax"
    fonts = Path("output") / "chtml" / "fonts" / "woff-v2"
    if (target / MATHJAX_SCRIPT).exists() and (target / fonts).is_dir():
        return
    (target / fonts).mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / MATHJAX_SCRIPT, target / MATHJAX_SCRIPT)
    shutil.copytree(source / fonts, target / fonts, dirs_exist_ok=True)


def licence_footer(config: dict[str, Any]) -> str:
    """The footer's licence line: the text and figures under CC BY 4.0 (with the authors and year
    of ``_config.yml``), the code under MIT, the MovieLens data under GroupLens's own terms."""
    name, url = TEXT_LICENCE
    holder = f"{config.get('copyright', '')} {config.get('author', '')}".strip()
    return (
        f'<p class="movierec-licence">Text and figures \u00a9 {holder}, licensed under '
        f'<a href="{url}" rel="license">{name}</a>; code under the MIT licence; MovieLens data by '
        f'GroupLens under <a href="{MOVIELENS_TERMS}">its own terms</a>, not redistributed here.</p>'
    )


def repository_url(root: Path) -> str:
    """The book's public repository, the one setting ``repository.url`` of ``_config.yml``;
    empty when unset (then no page links to a repository, launches it or names it)."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    return str((config.get("repository") or {}).get("url") or "").strip().rstrip("/")


def install_command(url: str = "") -> str:
    """The one-line slim install (the notebooks' packages only, ``pyproject.toml``): from the
    repository at ``url`` when it is set, else from a copy of the repository's folder."""
    return f'python -m pip install "movierec @ git+{url}"' if url else "python -m pip install ."


def install_comment(url: str = "") -> str:
    """The first line of each downloaded notebook's first cell: how to install, in one line."""
    where = "" if url else " (in your copy of the movierec repository)"
    return f"# Run this notebook yourself: {install_command(url)}{where}, then run all cells."


def setup_block(url: str = "") -> str:
    """The opening of "Re-run it yourself" (MyST): clone the repository when ``url`` is set; with
    no public address, start in a copy of the repository's folder (no placeholder URL)."""
    data = "export MOVIEREC_DATA=/path/to/ml-latest-small.zip   # optional: else cache, else download"
    lines = ["```bash"]
    if url:
        lines.append(f"git clone {url} movierec && cd movierec")
        opening = "Clone the repository, then build and test in its folder:"
    else:
        opening = (
            "In a terminal, in the folder of your copy of the movierec repository (this build of "
            "the book names no public address for it):"
        )
    lines += [data, "make book                 # virtual environment, the study, the notebooks, _build/html/"]
    lines += ["make test                 # lint, then every test tier", "```"]
    return "\n".join([opening, "", *lines]) + "\n"


def launch_settings(config: dict[str, Any], url: str) -> None:
    """Jupyter Book's repository and launch settings in ``config`` from the one ``url``: with it,
    a repository button and Binder launch buttons (and Colab's, for a GitHub repository) on the
    chapters, which open the chapter's source notebook (``notebooks/``, the copy git holds);
    without it, none of them, so that no page carries a dead link."""
    html = config.setdefault("html", {})
    if not url:
        config.pop("launch_buttons", None)
        for button in ("use_repository_button", "use_issues_button", "use_edit_page_button"):
            html[button] = False
        return
    repository = config.setdefault("repository", {})
    repository["url"] = url
    repository.setdefault("branch", "main")
    html["use_repository_button"] = True
    launch = config.setdefault("launch_buttons", {})
    launch.setdefault("binderhub_url", "https://mybinder.org")
    launch.setdefault("notebook_interface", "jupyterlab")
    if url.startswith("https://github.com/"):
        launch.setdefault("colab_url", "https://colab.research.google.com")


def edition_config(root: Path, edition: str, profile: str, extra: dict[str, Any] | None = None) -> Path:
    """``_config.yml`` for one edition, written under ``_build/config``: the page footer says
    which profile built the book, with which movierec and when, and the licences
    (:func:`licence_footer`); the repository's buttons follow ``repository.url``
    (:func:`launch_settings`); the student edition leaves the solutions out (sphinx-exercise's
    ``hide_solutions``). ``extra``: more Sphinx settings, for the book's extension."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    today = datetime.date.today().isoformat()
    label = "student edition" if edition == "student" else "instructor edition, with solutions"
    footer = (
        f'<p class="movierec-provenance">Built with profile <code>{Path(str(profile)).stem}</code>, '
        f"movierec {__version__}, on {today} ({label}).</p>\n{licence_footer(config)}"
    )
    url = repository_url(root)
    launch_settings(config, url)
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    theme = sphinx_config.setdefault("html_theme_options", {})
    theme["extra_footer"] = footer
    # sphinx.config's html_theme_options replaces the theme options Jupyter Book derives from its
    # html, repository and launch_buttons sections (no recursive_update): restated here
    theme["use_repository_button"] = config["html"]["use_repository_button"]
    if url:
        theme["repository_url"] = url
        theme["repository_branch"] = config["repository"]["branch"]
        theme["path_to_docs"] = config["repository"].get("path_to_book", "")
        theme["launch_buttons"] = config["launch_buttons"]
    sphinx_config["hide_solutions"] = edition == "student"
    sphinx_config["movierec_install_comment"] = install_comment(url)
    sphinx_config["movierec_launch_sources"] = {f"{EXECUTED_DIR.as_posix()}/": f"{NOTEBOOK_DIR.as_posix()}/"}
    sphinx_config.update(extra or {})
    target = root / BUILD_DIR / "config" / f"{edition}.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return target


def html_dir(root: Path, edition: str = "instructor") -> Path:
    """Where an edition's HTML ends up: ``_build/html`` or ``_build/student/html``."""
    return root / BUILD_DIR / "html" if edition == "instructor" else root / BUILD_DIR / "student" / "html"


def build_html(
    root: Path,
    edition: str = "instructor",
    profile: str = "default",
    extra: dict[str, Any] | None = None,
    builder: str = "html",
) -> Path:
    """``jupyter-book build -W -n --keep-going`` of one edition; any warning fails with its lines.
    ``extra``: Sphinx settings for the book's extension (:func:`edition_config`). ``builder``
    ``singlehtml``: the whole edition as one page (for its PDF), in ``_build/pdf/EDITION``."""
    if edition not in EDITIONS:
        raise ParameterError(f"edition={edition!r} is not allowed: use one of {', '.join(EDITIONS)}")
    vendor_mathjax(root)
    if builder == "singlehtml":
        output = root / BUILD_DIR / "pdf" / edition
    else:
        output = root if edition == "instructor" else root / BUILD_DIR / edition
    command = [*jupyter_book_command(), "build", str(root), "-W", "-n", "--keep-going", "--builder", builder]
    command += ["--config", str(edition_config(root, edition, profile, extra)), "--path-output", str(output)]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        text = done.stdout + done.stderr
        lines = [line for line in text.splitlines() if "WARNING" in line or "ERROR" in line]
        raise BookError("jupyter-book build failed:\n" + "\n".join(lines[:30] or text.splitlines()[-30:]))
    built = output / BUILD_DIR / builder
    if builder == "singlehtml":
        return built
    target = html_dir(root, edition)
    if built != target:
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(built, target)
    return target


EDITIONS_RECORD = BUILD_DIR / "editions.json"


def results_key(root: Path) -> str:
    """One hash of the chapters' executions (each executed notebook's recorded key: its source,
    parameters and package): two editions with the same key show the results of the same runs."""
    keys = [execution_record(root / EXECUTED_DIR / path.name).get("key", "") for path in notebook_paths(root)]
    return hashlib.sha256("".join(keys).encode()).hexdigest()[:12]


def read_editions(root: Path) -> dict[str, dict[str, str]]:
    """What built each edition last in this folder: ``{edition: {profile, date, results}}``."""
    try:
        return dict(json.loads((root / EDITIONS_RECORD).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def record_edition(root: Path, edition: str, profile: str) -> dict[str, dict[str, str]]:
    """Record that ``edition`` is being built with ``profile`` from the current executions; all
    the records."""
    records = read_editions(root)
    records[edition] = {
        "profile": Path(str(profile)).stem,
        "date": datetime.date.today().isoformat(),
        "results": results_key(root),
    }
    (root / EDITIONS_RECORD).parent.mkdir(parents=True, exist_ok=True)
    (root / EDITIONS_RECORD).write_text(json.dumps(records, indent=1), encoding="utf-8")
    return records


def editions_text(records: dict[str, dict[str, str]], edition: str) -> str:
    """The teachers' page account (MyST) of which profile built this edition and the other one,
    and whether they show the same runs' results."""
    this = records[edition]
    other_name = next(name for name in EDITIONS if name != edition)
    lines = [f"This {edition} edition was built with profile `{this['profile']}` on {this['date']}."]
    other = records.get(other_name)
    if other is None:
        lines.append(f"No {other_name} edition has been built from this folder yet.")
    elif other["results"] == this["results"]:
        lines.append(
            f"The {other_name} edition was built with profile `{other['profile']}` on {other['date']}, "
            f"from the same executed chapters: both editions show the results of the same runs, so "
            f"the instructor's solutions match what students see."
        )
    else:
        lines.append(
            f"The {other_name} edition was last built with profile `{other['profile']}` on "
            f"{other['date']}, from other runs: build both from one profile (for a lab, "
            f"`make book PROFILE=lab` and `make book-student PROFILE=lab`) so that the solutions match."
        )
    return " ".join(lines) + "\n"


def check_data(params: dict[str, Any], say: Say, source: str = "the profile") -> None:
    """Open the profile's data and check what the profile ``source`` asks of it (titles, sizes:
    :func:`check_with_data`) before any chapter runs; the chapters train their own runs."""
    ws = Workspace.open(
        params["data_path"], params["dataset"], params["runs_dir"], threshold=params["threshold"]
    )
    check_with_data(params, ws, source)
    say(f"{ws.data.release}: likes at ratings >= {ws.likes.threshold:g}, titles and sizes checked")


def timings_table(root: Path) -> str:
    """The teachers' page account of what this book cost to build, in MyST: each chapter's
    execution (its runs included), as measured when it ran (an unchanged chapter keeps its first
    measurement). A line names the processors; a column says how each step used them."""
    steps: list[tuple[str, str, float | None]] = []
    for path in notebook_paths(root):
        record = execution_record(root / EXECUTED_DIR / path.name)
        machine = record.get("machine", "")
        if record.get("chapters_at_once", 1) > 1:
            machine += f", {record['chapters_at_once']} chapters at a time"
        steps.append((f"chapter {{doc}}`{EXECUTED_DIR.name}/{path.stem}`", machine, record.get("seconds")))
    processors, uses = set(), []
    for _, machine, _ in steps:  # "CPU, 2 cores, 2 torch threads[, cuda: GPU]", or older "cpu"
        processor, found, use = machine.partition(" cores, ")
        processors.update([f"{processor} cores"] if found else [])
        uses.append(use if found else machine or "not recorded")
    rows = [f"On {' and '.join(sorted(processors)) or 'a machine that was not recorded'}:", ""]
    rows += ["| step | how it ran | seconds |", "| --- | --- | ---: |"]
    for (what, _, seconds), use in zip(steps, uses, strict=True):
        shown = f"{seconds:,.1f}" if seconds is not None else "not recorded"
        rows.append(f"| {what} | {use} | {shown} |")
    total = sum(seconds or 0.0 for _, _, seconds in steps)
    rows.append(f"| **all of the above** | | **{total:,.0f}** |")
    return "\n".join(rows) + "\n"


def build_book(
    profile: str = "default",
    root: str | os.PathLike | None = None,
    edition: str = "instructor",
    say: Say | None = None,
    pdf: bool = False,
) -> Path:
    """Validate, run, execute and build; return the HTML folder. With ``pdf``, build both
    editions' PDFs instead (:mod:`movierec.book.pdf`) and return their folder, ``_build/pdf``.
    Book page: "Re-run it yourself"."""
    say = say or say_line
    start = time.perf_counter()
    root = Path(root or Path.cwd()).resolve()
    if not (root / "_config.yml").exists() or not (root / "_toc.yml").exists():
        raise BookError(f"{root} has no _config.yml/_toc.yml: run `movierec book` from the repository root")
    if edition not in EDITIONS:
        raise ParameterError(f"edition={edition!r} is not allowed: use one of {', '.join(EDITIONS)}")
    declared = check_notebooks(root)
    schema = with_declared(declared)
    chosen = load_profile(profile, root, schema)
    params = {**defaults(schema), **chosen}
    unused = sorted(set(chosen) - set().union(*declared.values()))
    if unused:
        raise ParameterError(f"profile {profile!r} sets {', '.join(unused)}, which no notebook declares")
    say(f"profile {profile_path(profile, root).stem}: {len(declared)} chapters, parameters checked")
    check_data(params, say, shown_path(profile_path(profile, root)))
    fingerprint = package_fingerprint()
    paths = notebook_paths(root)
    execute_chapters(
        paths,
        {path.stem: {name: params[name] for name in sorted(declared[path.stem])} for path in paths},
        fingerprint,
        root,
        say,
    )
    generated = root / GENERATED_DIR
    generated.mkdir(parents=True, exist_ok=True)
    (generated / "parameters.md").write_text(parameters_page_table(schema), encoding="utf-8")
    (generated / "setup.md").write_text(setup_block(repository_url(root)), encoding="utf-8")
    (generated / "exercises.md").write_text(exercises_table(root, schema), encoding="utf-8")
    (generated / "timings.md").write_text(timings_table(root), encoding="utf-8")
    times = [chapter_time(root / EXECUTED_DIR / path.name) for path in paths]
    (generated / "times.md").write_text(times_table(times, EXECUTED_DIR.name), encoding="utf-8")
    extra = {"movierec_chapter_times": {f"{EXECUTED_DIR.as_posix()}/{t.name}": times_line(t) for t in times}}
    if pdf:
        return build_pdfs(root, profile, extra, say, start)
    records = record_edition(root, edition, profile)
    other = records.get("student" if edition == "instructor" else "instructor")
    if other and other["results"] != records[edition]["results"]:
        say(
            f"note: the {'student' if edition == 'instructor' else 'instructor'} edition here was built "
            f"with profile {other['profile']} from other runs: build it again with this profile"
        )
    (generated / "editions.md").write_text(editions_text(records, edition), encoding="utf-8")
    say(f"building the {edition} edition's HTML with jupyter-book (-W: any warning stops it)")
    html = build_html(root, edition, profile, extra)
    say(f"done in {time.perf_counter() - start:.0f} s: open {html / 'index.html'}")
    return html


def build_pdfs(root: Path, profile: str, extra: dict[str, Any], say: Say, start: float) -> Path:
    """Both editions as one HTML page each (``singlehtml``), printed by Chromium into
    ``_build/pdf/movierec-EDITION.pdf``; their folder."""
    from .pdf import PDF_NAMES, PdfError, print_pdf, single_page

    folder = root / BUILD_DIR / "pdf"
    generated = root / GENERATED_DIR
    for edition in EDITIONS:
        records = record_edition(root, edition, profile)
        (generated / "editions.md").write_text(editions_text(records, edition), encoding="utf-8")
        say(f"building the {edition} edition as one page with jupyter-book (-W: any warning stops it)")
        single = build_html(root, edition, profile, extra, builder="singlehtml")
        say(f"printing the {edition} edition with Chromium")
        printed = print_pdf(single_page(single, toc_pages(root)[0]), folder / PDF_NAMES[edition])
        if printed["cut"]:
            raise PdfError(f"the {edition} PDF cuts {', '.join(printed['cut'][:5])}: fix their width")
    say(f"done in {time.perf_counter() - start:.0f} s: open {folder}/{PDF_NAMES['instructor']}")
    return folder
