"""Book parameters and YAML profiles: one schema, checked before any work starts.

Every notebook's ``parameters`` cell declares a subset of :data:`PARAMETERS` with the
same types and defaults (a test holds them to it). A profile (``book/profiles/*.yml``)
sets any of them; an unknown name, a wrong type or a value its use refuses is an error naming
the profile file, the parameter's path (``study_lrs.adam[0]``) and what it allows, found when
the profile is loaded (papermill itself would only warn); what depends on the data (the
titles, sizes against the number of movies) is checked as soon as the data is open, before
any run (:func:`check_with_data`). Book page: "Re-run it yourself".
"""

from __future__ import annotations

import ast
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..errors import MovierecError, ParameterError
from ..model.cost import check_target
from ..model.train import TrainConfig, config_grid

if TYPE_CHECKING:
    from ..runs.workspace import Workspace

PROFILE_DIR = Path("book") / "profiles"
COURSE_TITLES = ["Apollo 13 (1995)", "Toy Story (1995)", "Home Alone (1990)"]


@dataclass(frozen=True)
class Parameter:
    """A book parameter: its papermill type name, default and one-line help."""

    type: str
    default: Any
    help: str


PARAMETERS: dict[str, Parameter] = {
    "dataset": Parameter("str", "ml-latest-small", "MovieLens release to load"),
    "data_path": Parameter("str", "", "archive or folder; empty: $MOVIEREC_DATA, the cache, then a download"),
    "runs_dir": Parameter("str", "", "run store; empty: $MOVIEREC_RUNS, else runs/"),
    "threshold": Parameter("float", 4.0, "a rating at or above it is a like"),
    "dim": Parameter("int or full", 64, 'embedding size d, or "full" for one dimension per movie'),
    "epochs": Parameter("int", 100, "full-batch epochs per run"),
    "init_std": Parameter("float", 0.5, "standard deviation of the initial embeddings"),
    "seed": Parameter("int", 576, "random seed of the initial embeddings"),
    "model_lr": Parameter("float", 0.5, "learning rate of the single Adam run on the model page"),
    "study_lrs": Parameter(
        "dict[str, list[float]]",
        {"adam": [0.5, 0.1, 0.01, 0.001], "sgd": [0.1, 0.01, 0.001, 1e-4, 1e-5, 1e-6]},
        "optimizer study: learning rates per torch.optim optimizer by lower-case name",
    ),
    "sgd_momentum": Parameter("float", 0.9, "momentum of SGD (the heavy ball) wherever the book runs SGD"),
    "titles": Parameter("list[str]", COURSE_TITLES, "input titles for the recommendations"),
    "top_n": Parameter("int", 10, "length of each recommendation list"),
    "course_epochs": Parameter(
        "int",
        1,
        "epochs of the full-size Adam run (d equal to n) of the course notebook (100 there; 0: none)",
    ),
    "course_sweep": Parameter(
        "bool", False, "also rerun the sweep of the course notebook at full size (hours on a CPU)"
    ),
    "split_seed": Parameter("int", 0, "random seed of the per-user train/validation/test split of the likes"),
    "eval_k": Parameter("int", 10, "length k of the ranked lists the metrics score"),
    "eval_dims": Parameter("list[int]", [32, 64, 128, 256], "embedding sizes tried in the tuning"),
    "eval_lrs": Parameter(
        "dict[str, list[float]]",
        {"adam": [1.0, 0.3], "sgd": [1e-4, 3e-5, 1e-5]},
        "tuning: learning rates per optimizer",
    ),
    "baseline_grids": Parameter(
        "dict[str, dict[str, list[float]]]",
        {
            "ease": {"lam": [30.0, 100.0, 300.0, 1000.0]},
            "als": {"factors": [16, 32, 64], "reg": [0.1, 1.0, 10.0]},
        },
        "tuning grid of each baseline that has one (movierec.judging.baselines.BASELINES)",
    ),
    "bootstrap_samples": Parameter("int", 2000, "bootstrap resamples of the users for each 95% interval"),
    "optimum_dim": Parameter("int", 64, "embedding size of the lowest-cost-found and SGD-stability analysis"),
    "optimum_dims": Parameter(
        "list[int]", [16, 32, 64, 128], "embedding sizes whose lowest cost is searched for"
    ),
    "stability_lrs": Parameter(
        "list[float]",
        [2e-4, 1e-4, 6e-5, 4e-5, 3e-5, 1e-5],
        "SGD learning rates run beside the stability bound",
    ),
    "target_dims": Parameter(
        "list[int]", [32, 64, 128, 256], "embedding sizes tried per target (settings chosen at the largest)"
    ),
    "target_lrs": Parameter(
        "dict[str, list[float]]",
        {"colikes": [1.0, 0.3], "cosine": [0.03, 0.01], "whitened": [0.003, 0.01]},
        "Adam learning rates tried per target (colikes, cosine, whitened), first one first",
    ),
    "target_init_stds": Parameter(
        "dict[str, list[float]]",
        {"colikes": [0.5], "cosine": [0.03], "whitened": [0.01, 0.03]},
        "initial embedding std tried per target, first one first (K is far smaller than X)",
    ),
    "target_ridges": Parameter(
        "list[float]", [100.0, 300.0, 1000.0], "ridge lambda tried for the whitened target"
    ),
    "target_sgd_fractions": Parameter(
        "list[float]", [0.25], "SGD learning rates as fractions of the stability bound of each target"
    ),
}
TYPE_WORDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a finite number",
    "bool": "true or false",
    "int or full": 'an integer or "full"',
    "list[int]": "a non-empty list of integers",
    "list[float]": "a non-empty list of numbers",
    "list[str]": "a non-empty list of strings",
    "dict[str, list[float]]": "a mapping of names to non-empty lists of numbers",
    "dict[str, dict[str, list[float]]]": "a mapping of names to mappings of names to lists of numbers",
}
_NUMBER_TEXT = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class ProfileLoader(yaml.SafeLoader):
    """YAML with YAML 1.2's numbers: ``1e-5`` is a float (YAML 1.1 reads it as text)."""


ProfileLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


def _check_type(name: str, value: Any, type_name: str) -> Any:
    """``value`` converted to ``type_name``, or a :class:`ParameterError` naming ``name``.

    A number may also be given as its text (``"1e-5"``), as papermill's ``-y`` passes it."""
    expected = TYPE_WORDS.get(type_name)
    if expected is None:
        raise AssertionError(f"unhandled parameter type {type_name}")

    def bad() -> ParameterError:
        return ParameterError(f"parameter {name}={value!r} has the wrong type: {name} must be {expected}")

    def number(item: Any) -> float:
        if isinstance(item, str) and _NUMBER_TEXT.fullmatch(item.strip()):
            item = float(item)
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise bad()
        try:
            converted = float(item)
        except OverflowError:
            raise bad() from None
        if not math.isfinite(converted):
            raise bad()
        return converted

    def integer(item: Any) -> int:
        if isinstance(item, bool) or not isinstance(item, int):
            raise bad()
        return item

    def items() -> list:
        if not isinstance(value, list) or not value:
            raise bad()
        return value

    if type_name == "int or full":
        return value if value == "full" else integer(value)
    if type_name == "bool":
        if not isinstance(value, bool):
            raise bad()
        return value
    if type_name == "int":
        return integer(value)
    if type_name == "float":
        return number(value)
    if type_name == "str":
        if not isinstance(value, str):
            raise bad()
        return value
    if type_name == "list[float]":
        return [number(item) for item in items()]
    if type_name == "list[int]":
        return [integer(item) for item in items()]
    if type_name == "list[str]":
        if not all(isinstance(item, str) for item in items()):
            raise bad()
        return value
    if not isinstance(value, dict) or not value or not all(isinstance(key, str) for key in value):
        raise bad()
    if type_name == "dict[str, list[float]]":
        checked = {}
        for key, rates in value.items():
            if not isinstance(rates, list) or not rates:
                raise bad()
            checked[key] = [number(rate) for rate in rates]
        return checked
    checked_grids = {}
    for key, grid in value.items():
        if not isinstance(grid, dict) or not all(isinstance(k, str) for k in grid):
            raise bad()
        checked_grids[key] = {}
        for option, values in grid.items():
            if not isinstance(values, list) or not values:
                raise bad()
            checked_grids[key][option] = [number(v) for v in values]
    return checked_grids


def validate_parameters(
    values: dict[str, Any], schema: Mapping[str, Parameter] = PARAMETERS
) -> dict[str, Any]:
    """Check names and types against ``schema`` (the book's, :data:`PARAMETERS`, or that and the
    parameters its chapters declare: :func:`with_declared`); return the converted values."""
    unknown = sorted(str(name) for name in set(values) - set(schema))
    if unknown:
        raise ParameterError(f"unknown parameter(s) {', '.join(unknown)}: allowed are {', '.join(schema)}")
    return {name: _check_type(name, value, schema[name].type) for name, value in values.items()}


def defaults(schema: Mapping[str, Parameter] = PARAMETERS) -> dict[str, Any]:
    """Every parameter at its default."""
    return {name: parameter.default for name, parameter in schema.items()}


def with_declared(declared: Mapping[str, Mapping[str, Mapping[str, str]]]) -> dict[str, Parameter]:
    """:data:`PARAMETERS` and the parameters the chapters declare beyond it, each with the type,
    default and help of its ``parameters`` cell (``declared``: notebook name -> papermill's
    ``inspect_notebook``), so that a new chapter's own parameter needs no other file. A chapter
    that declares a book parameter must give it the schema's type and default (its help may be
    worded for the page; the tests hold it to the schema's); a new parameter must have one of the
    types profiles know, and the same type and default in every chapter."""
    schema = dict(PARAMETERS)
    for notebook, parameters in declared.items():
        for name, found in parameters.items():
            where = f"{notebook}'s parameter {name}"
            type_name, help_text = found.get("inferred_type_name", ""), found.get("help", "")
            try:
                default = ast.literal_eval(found.get("default", ""))
            except (ValueError, SyntaxError):
                raise ParameterError(
                    f"{where}: its default {found.get('default')!r} is not a literal"
                ) from None
            if type_name not in TYPE_WORDS:
                raise ParameterError(
                    f"{where} has type {type_name!r}: use one of {', '.join(TYPE_WORDS)} "
                    "(`name: type = value  # help`)"
                )
            parameter = Parameter(type_name, _check_type(name, default, type_name), help_text)
            known = schema.setdefault(name, parameter)
            if (known.type, known.default) != (parameter.type, parameter.default):
                raise ParameterError(
                    f"{where} is declared as `{name}: {type_name} = {default!r}  # {help_text}`, but "
                    f"the book declares `{name}: {known.type} = {known.default!r}  # {known.help}`: "
                    "declare it the same"
                )
    return schema


def profile_path(profile: str | os.PathLike, root: Path | None = None) -> Path:
    """A profile file: a path to a ``.yml``, or the name of one in ``root/book/profiles``."""
    path = Path(profile)
    if path.suffix in {".yml", ".yaml"}:
        if not path.is_file():
            raise ParameterError(f"profile file {str(path)!r} does not exist")
        return path
    folder = (root or Path.cwd()) / PROFILE_DIR
    candidate = folder / f"{profile}.yml"
    if not candidate.is_file():
        known = sorted(p.stem for p in folder.glob("*.yml")) or ["(none found: run from the repository root)"]
        raise ParameterError(
            f"unknown profile {str(profile)!r}: use one of {', '.join(known)} or a path to a .yml file"
        )
    return candidate


def shown_path(path: Path) -> str:
    """``path`` as a message names it: relative to the working folder when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def load_profile(
    profile: str | os.PathLike, root: Path | None = None, schema: Mapping[str, Parameter] = PARAMETERS
) -> dict[str, Any]:
    """The parameters a profile sets, validated whole against ``schema``: names, types and every
    value (:func:`check_values`); its other parameters keep their defaults."""
    path = profile_path(profile, root)
    try:
        values = yaml.load(path.read_text(encoding="utf-8"), Loader=ProfileLoader) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise ParameterError(f"profile {shown_path(path)} is not valid YAML{where}: {problem}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ParameterError(
            f"profile {shown_path(path)} cannot be read as UTF-8 text ({error}): save it as a YAML text file"
        ) from None
    if not isinstance(values, dict):
        raise ParameterError(f"profile {shown_path(path)} must be a mapping of parameter: value")
    try:
        checked = validate_parameters(values, schema)
        check_values({**defaults(), **checked})
    except ParameterError as error:
        raise ParameterError(f"profile {shown_path(path)}: {error}") from None
    return checked


def _reason(error: MovierecError) -> str:
    """What a library check says is allowed, without its own ``name=value is not allowed:``."""
    text = str(error)
    return text.split(" is not allowed: ", 1)[1] if " is not allowed: " in text else text


def _check(path: str, value: Any, rule: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """``rule(*args, **kwargs)``, a library check; a refusal is raised again naming ``path``."""
    try:
        rule(*args, **kwargs)
    except ParameterError as error:
        raise ParameterError(f"{path}={value!r} is not allowed: {_reason(error)}") from None


def _require(path: str, value: Any, allowed: bool, rule: str) -> None:
    if not allowed:
        raise ParameterError(f"{path}={value!r} is not allowed: {rule}")


def _rates(name: str, rates: dict[str, list[float]], **run: Any) -> None:
    """Each optimizer of a ``{optimizer: [rates]}`` parameter, and each rate, as a run takes them."""
    for optimizer, values in rates.items():
        _check(f"{name}.{optimizer}", optimizer, TrainConfig, optimizer=optimizer)
        for number, lr in enumerate(values):
            _check(f"{name}.{optimizer}[{number}]", lr, TrainConfig, optimizer=optimizer, lr=lr, **run)


def _each(name: str, values: list[Any], rule: Callable[..., Any], **fixed: Any) -> None:
    """``rule(value, **fixed)`` for each item of a list parameter, named ``name[i]``."""
    for number, value in enumerate(values):
        _check(f"{name}[{number}]", value, rule, value, **fixed)


def _baseline_grids(grids: dict[str, dict[str, list[float]]]) -> None:
    from ..judging.baselines import checked_grids

    checked_grids(grids)  # its messages name baseline_grids and what is allowed
    rules = {
        ("ease", "lam"): (lambda v: v > 0, "the EASE ridge lambda must be a positive number"),
        ("als", "factors"): (lambda v: v == int(v) and v >= 1, "ALS factors must be a whole number >= 1"),
        ("als", "reg"): (lambda v: v >= 0, "the ALS regularization must be a number >= 0"),
    }
    for baseline, grid in grids.items():
        for option, values in grid.items():
            allowed, rule = rules.get((baseline, option), (lambda v: True, ""))
            for number, value in enumerate(values):
                _require(f"baseline_grids.{baseline}.{option}[{number}]", value, allowed(value), rule)


def _config_with(value: Any, field: str = "dim", **fixed: Any) -> TrainConfig:
    """A run with ``field`` set to ``value``: its rules are the parameter's."""
    return TrainConfig(**{field: value}, **fixed)


def _ridge(ridge: float) -> float | None:
    return check_target("whitened", ridge)


def check_values(values: dict[str, Any]) -> None:
    """Every value of ``values`` (type-checked book parameters) against what its use allows,
    before any data is read or run trained: the first refusal is a :class:`ParameterError`
    naming the parameter's path (``study_lrs.adam[0]``) and the rule."""
    from ..judging.targets import check_search

    run = {key: values[key] for key in ("epochs", "init_std", "seed", "dataset", "threshold")}
    for name in ("dataset", "dim", "epochs", "init_std", "seed", "threshold"):
        _check(name, values[name], _config_with, values[name], name)
    _check(
        "sgd_momentum", values["sgd_momentum"], TrainConfig, optimizer="sgd", momentum=values["sgd_momentum"]
    )
    _check("model_lr", values["model_lr"], TrainConfig, optimizer="adam", lr=values["model_lr"])
    _rates("study_lrs", values["study_lrs"], **run)
    _rates("eval_lrs", values["eval_lrs"], **run)
    for number, title in enumerate(values["titles"]):
        _require(f"titles[{number}]", title, bool(title.strip()), "a title must not be empty")
    for name, least in (
        ("top_n", 1),
        ("course_epochs", 0),
        ("split_seed", 0),
        ("eval_k", 1),
        ("optimum_dim", 1),
    ):
        _require(name, values[name], values[name] >= least, f"{name} must be an integer >= {least}")
    samples = values["bootstrap_samples"]
    _require("bootstrap_samples", samples, samples >= 100, "use at least 100 bootstrap resamples")
    _each("eval_dims", values["eval_dims"], _config_with)
    _each("target_dims", values["target_dims"], _config_with)
    for number, dim in enumerate(values["optimum_dims"]):
        _require(f"optimum_dims[{number}]", dim, dim >= 1, "a size must be an integer >= 1")
    _each("stability_lrs", values["stability_lrs"], _config_with, field="lr", optimizer="sgd")
    _baseline_grids(values["baseline_grids"])
    for name, field in (("target_lrs", "lr"), ("target_init_stds", "init_std")):
        for target, settings in values[name].items():
            _check(f"{name}.{target}", target, check_target, target, 300.0 if target == "whitened" else None)
            _each(f"{name}.{target}", settings, _config_with, field=field)
    _each("target_ridges", values["target_ridges"], _ridge)
    for number, fraction in enumerate(values["target_sgd_fractions"]):
        _require(
            f"target_sgd_fractions[{number}]", fraction, fraction > 0, "fractions of the bound must be > 0"
        )
    search = ("target_dims", "target_lrs", "target_init_stds", "target_ridges", "target_sgd_fractions")
    check_search(*(values[name] for name in search), values["epochs"], values["dataset"])


def check_with_data(values: dict[str, Any], ws: Workspace, source: str) -> None:
    """What the profile ``source`` asks of the data, checked once it is open and before any run:
    every title resolves to one movie (close spellings or the matches named), every size fits
    the number of movies, ``optimum_dim(s)`` the co-liked movies. Errors name ``source`` and the
    parameter's path."""
    import numpy as np

    problems = []
    for number, title in enumerate(values["titles"]):
        try:
            ws.titles.resolve(title)
        except MovierecError as error:
            problems.append(f"titles[{number}]: {error}")
    if problems:
        raise ParameterError(f"profile {source}: " + "; ".join(problems))
    n_movies = ws.likes.n_movies
    matrix = ws.likes.matrix
    per_movie = np.asarray(matrix.T @ (matrix @ np.ones(matrix.shape[1]))).ravel()
    co_liked = int(np.count_nonzero(per_movie - np.asarray(matrix.sum(axis=0)).ravel()))
    try:
        _check("dim", values["dim"], TrainConfig(dim=values["dim"]).resolved_dim, n_movies)
        for name in ("eval_dims", "target_dims"):
            for number, dim in enumerate(values[name]):
                _check(f"{name}[{number}]", dim, TrainConfig(dim=dim).resolved_dim, n_movies)
        k = values["eval_k"]
        _require("eval_k", k, k <= n_movies, f"eval_k must be at most the number of movies ({n_movies:,})")
        sizes = [("optimum_dim", values["optimum_dim"])]
        sizes += [(f"optimum_dims[{number}]", dim) for number, dim in enumerate(values["optimum_dims"])]
        for path, dim in sizes:
            _require(path, dim, dim < co_liked, f"a size must be below the {co_liked:,} co-liked movies")
    except ParameterError as error:
        raise ParameterError(f"profile {source}: {error}") from None


def study_configs(params: dict[str, Any]) -> list[TrainConfig]:
    """The optimizer study's runs: each optimizer of ``study_lrs`` at each of its learning rates,
    at size ``dim``; any ``torch.optim`` optimizer can be named. Book page: "The optimizer study".
    """
    values = {**defaults(), **validate_parameters(params)}
    shared = {key: values[key] for key in ("epochs", "init_std", "seed", "dataset", "threshold")}
    return config_grid(values["study_lrs"], [values["dim"]], values["sgd_momentum"], **shared)
