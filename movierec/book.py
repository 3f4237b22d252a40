"""The book driver: run the study, execute the notebooks with papermill, build the HTML.

``movierec book --profile NAME`` (behind ``make book``) validates the profile against
every notebook's parameters before any work, runs the sweep (stored runs are reused),
executes each notebook into ``book/executed/`` (skipped when its source, parameters,
data and the package are unchanged), then runs ``jupyter-book build -W -n --keep-going``.
Book page: "Re-run it yourself".
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
from pandas.io.formats.style import Styler

from .errors import MovierecError, ParameterError
from .profiles import PARAMETERS, defaults, load_profile, study_configs
from .runs import format_cost
from .seed import SEED_SWEEP_EPOCHS, seed_adam_config, seed_sweep_configs
from .train import TrainConfig
from .workspace import Workspace

NOTEBOOK_DIR = Path("notebooks")
EXECUTED_DIR = Path("book") / "executed"
NOTEBOOKS = ("01_data", "02_model", "03_optimizers", "04_recommendations", "05_seed", "06_evaluation")
RESULTS_TAG = "results"
INJECTED_TAG = "injected-parameters"
MATHJAX_SCRIPT = "tex-chtml.js"
KERNEL_QUIET = ["--IPKernelApp.log_level=ERROR"]  # the kernel's start-up warnings would clutter the terminal


class BookError(MovierecError):
    """A notebook failed, wrote to stderr, or the HTML build warned."""


def record_results(results: dict[str, Any]) -> None:
    """Show ``results`` as the JSON output of a notebook's last cell (tagged ``results``).

    Tests and the driver read it back with :func:`read_results`.
    """
    from IPython.display import display

    display({"application/json": json.loads(json.dumps(results, default=float))}, raw=True)


def table(frame: pd.DataFrame, digits: int = 4) -> Styler:
    """A DataFrame styled for the page: floats to ``digits`` significant digits (costs with
    separators), NaN as "-", and no row numbers when the index carries no meaning."""

    def number(value: float) -> str:
        return format_cost(value) if abs(value) >= 1e4 else f"{value:.{digits}g}"

    floats = [column for column in frame.columns if pd.api.types.is_float_dtype(frame[column])]
    styled = frame.style.format(number, subset=floats, na_rep="-")
    return styled.hide(axis="index") if isinstance(frame.index, pd.RangeIndex) else styled


def read_results(notebook: str | os.PathLike) -> dict[str, Any]:
    """The JSON recorded by the ``results`` cell of an executed notebook."""
    book = nbformat.read(notebook, as_version=4)
    for cell in book.cells:
        if RESULTS_TAG in cell.get("metadata", {}).get("tags", []):
            for output in cell.get("outputs", []):
                if "application/json" in output.get("data", {}):
                    return dict(output["data"]["application/json"])
    raise BookError(f"{notebook} has no recorded results: was it executed to the end?")


def notebook_parameters(notebook: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares (papermill's ``inspect_notebook``)."""
    import papermill

    return papermill.inspect_notebook(str(notebook))


def notebook_paths(root: Path) -> list[Path]:
    """The chapters' notebook sources under ``root``, in book order."""
    return [root / NOTEBOOK_DIR / f"{name}.ipynb" for name in NOTEBOOKS]


def check_notebooks(root: Path) -> dict[str, set[str]]:
    """Each notebook's parameter names, all of them known book parameters."""
    declared = {}
    for path in notebook_paths(root):
        names = set(notebook_parameters(path))
        unknown = sorted(names - set(PARAMETERS))
        if unknown:
            raise BookError(f"{path} declares unknown parameter(s) {', '.join(unknown)}: add them to movierec.profiles.PARAMETERS")
        declared[path.stem] = names
    return declared


def package_fingerprint() -> str:
    """SHA-256 over the package's sources: a code change re-executes the notebooks."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + source.read_bytes())
    return digest.hexdigest()


def _cell_problem(book: nbformat.NotebookNode) -> str | None:
    for index, cell in enumerate(book.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                return f"cell {index} wrote to stderr: {output.get('text', '').strip()[:300]}"
            if output.get("output_type") == "error":
                return f"cell {index} raised {output.get('ename')}: {output.get('evalue')}"
    return None


def execute_notebook(source: Path, target: Path, parameters: dict[str, Any], fingerprint: str, root: Path) -> bool:
    """Execute ``source`` into ``target`` unless an identical execution is there; True if run."""
    import papermill

    key = hashlib.sha256(source.read_bytes() + json.dumps(parameters, sort_keys=True).encode() + fingerprint.encode()).hexdigest()
    if target.exists():
        try:
            if nbformat.read(target, as_version=4).metadata.get("movierec", {}).get("key") == key:
                return False
        except (OSError, ValueError):
            pass
    temporary = target.with_name(f".{target.stem}.tmp.ipynb")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.touch()
    except OSError as error:
        raise BookError(f"cannot write the executed notebooks to {target.parent} ({error.strerror or error}): "
                        f"make the folder writable") from error
    try:
        papermill.execute_notebook(
            str(source), str(temporary), parameters=parameters, kernel_name="python3",
            cwd=str(root), progress_bar=False, log_output=False, extra_arguments=KERNEL_QUIET,
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
    book.metadata["movierec"] = {"key": key, "parameters": parameters}
    nbformat.write(book, temporary)
    os.replace(temporary, target)
    return True


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


def build_html(root: Path) -> Path:
    """``jupyter-book build -W -n --keep-going``; any warning fails with its lines."""
    vendor_mathjax(root)
    done = subprocess.run(
        [*jupyter_book_command(), "build", str(root), "-W", "-n", "--keep-going"],
        cwd=root, capture_output=True, text=True,
    )
    if done.returncode != 0:
        lines = [line for line in (done.stdout + done.stderr).splitlines() if "WARNING" in line or "ERROR" in line]
        raise BookError("jupyter-book build failed:\n" + "\n".join(lines[:30] or (done.stdout + done.stderr).splitlines()[-30:]))
    return root / "_build" / "html"


def book_configs(params: dict[str, Any]) -> list[TrainConfig]:
    """Every training run the notebooks read: the model page's, the study's and the seed's.

    Built before any data is read, so a bad value fails at once, naming the parameter.
    """
    model = TrainConfig(optimizer=params["model_optimizer"], lr=params["model_lr"], epochs=params["epochs"],
                        dim=params["dim"], init_std=params["init_std"], seed=params["seed"], dataset=params["dataset"])
    seed_runs = [seed_adam_config(params["seed_epochs"])]
    if params["seed_sweep"]:
        seed_runs += seed_sweep_configs(SEED_SWEEP_EPOCHS)
    return [model, *study_configs(params), *seed_runs]


def prepare_runs(params: dict[str, Any], configs: list[TrainConfig]) -> None:
    """Run (or reuse) ``configs`` on the profile's data, with progress bars in a terminal."""
    ws = Workspace.open(params["data_path"], params["dataset"], params["runs_dir"])
    for config in configs:
        config.resolved_dim(ws.likes.n_movies)
    ws.sweep(configs)


def build_book(profile: str = "default", root: str | os.PathLike | None = None) -> Path:
    """Validate, run, execute and build; return the HTML folder. Book page: "Re-run it yourself"."""
    root = Path(root or Path.cwd()).resolve()
    if not (root / "_config.yml").exists() or not (root / "_toc.yml").exists():
        raise BookError(f"{root} has no _config.yml/_toc.yml: run `movierec book` from the repository root")
    chosen = load_profile(profile, root)
    params = {**defaults(), **chosen}
    declared = check_notebooks(root)
    unused = sorted(set(chosen) - set().union(*declared.values()))
    if unused:
        raise ParameterError(f"profile {profile!r} sets {', '.join(unused)}, which no notebook declares")
    prepare_runs(params, book_configs(params))
    fingerprint = package_fingerprint()
    for path in notebook_paths(root):
        used = {name: params[name] for name in sorted(declared[path.stem])}
        execute_notebook(path, root / EXECUTED_DIR / path.name, used, fingerprint, root)
    return build_html(root)
