"""Book parameters and YAML profiles: one schema, checked before any work starts.

Every notebook's ``parameters`` cell declares a subset of :data:`PARAMETERS` with the
same types and defaults (a test holds them to it). A profile (``book/profiles/*.yml``)
sets any of them; an unknown name or a wrong type is an error naming the parameter and
what it allows (papermill itself would only warn). Book page: "Re-run it yourself".
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import ParameterError
from .train import TrainConfig, config_grid

PROFILE_DIR = Path("book") / "profiles"
SEED_TITLES = ["Apollo 13 (1995)", "Toy Story (1995)", "Home Alone (1990)"]


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
    "dim": Parameter("int or full", 64, 'embedding size d, or "full" for one dimension per movie'),
    "epochs": Parameter("int", 100, "full-batch epochs per run"),
    "init_std": Parameter("float", 0.5, "standard deviation of the initial embeddings"),
    "seed": Parameter("int", 576, "seed of the initial embeddings"),
    "model_optimizer": Parameter("str", "adam", "optimizer of the single run on the model page"),
    "model_lr": Parameter("float", 0.5, "learning rate of that run"),
    "adam_lrs": Parameter("list[float]", [0.5, 0.1, 0.01, 0.001], "Adam learning rates of the study"),
    "sgd_lrs": Parameter("list[float]", [0.1, 0.01, 0.001, 1e-4, 1e-5, 1e-6], "SGD (momentum 0.9) learning rates"),
    "titles": Parameter("list[str]", SEED_TITLES, "input titles for the recommendations"),
    "top_n": Parameter("int", 10, "length of each recommendation list"),
    "seed_epochs": Parameter("int", 1, "epochs of the seed's full-size Adam run (the seed ran 100)"),
    "seed_sweep": Parameter("bool", False, "also rerun the seed's own sweep at full size (hours on a CPU)"),
    "split_seed": Parameter("int", 0, "seed of the per-user train/validation/test split of the likes"),
    "eval_k": Parameter("int", 10, "length k of the ranked lists the metrics score"),
    "eval_dims": Parameter("list[int]", [32, 64, 128, 256], "embedding sizes tried in the tuning"),
    "eval_adam_lrs": Parameter("list[float]", [1.0, 0.3], "Adam learning rates tried in the tuning"),
    "eval_sgd_lrs": Parameter("list[float]", [1e-4, 3e-5, 1e-5], "SGD (momentum 0.9) learning rates tried in the tuning"),
    "ease_lambdas": Parameter("list[float]", [30.0, 100.0, 300.0, 1000.0], "EASE ridge strengths tried"),
    "als_factors": Parameter("list[int]", [16, 32, 64], "ALS factor counts tried"),
    "als_regs": Parameter("list[float]", [0.1, 1.0, 10.0], "ALS regularization strengths tried"),
    "optimum_dim": Parameter("int", 64, "embedding size of the best-cost and SGD-stability analysis"),
    "stability_lrs": Parameter("list[float]", [2e-4, 1e-4, 6e-5, 4e-5, 3e-5, 1e-5], "SGD learning rates run beside the stability bound"),
}


def _check_type(name: str, value: Any, type_name: str) -> Any:
    """``value`` converted to ``type_name``, or a :class:`ParameterError` naming ``name``."""
    def bad(expected: str) -> ParameterError:
        return ParameterError(f"parameter {name}={value!r} has the wrong type: {name} must be {expected}")

    def number(item: Any) -> float:
        expected = "a list of finite numbers" if type_name.startswith("list") else "a finite number"
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise bad(expected)
        try:
            converted = float(item)
        except OverflowError:
            raise bad(expected) from None
        if not math.isfinite(converted):
            raise bad(expected)
        return converted

    if type_name == "int or full":
        if value == "full" or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise bad('an integer or "full"')
    if type_name == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if type_name == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
        return value
    if type_name == "float":
        return number(value)
    if type_name == "str":
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if type_name == "list[float]":
        if not isinstance(value, list) or not value:
            raise bad("a non-empty list of numbers")
        return [number(item) for item in value]
    if type_name == "list[int]":
        if not isinstance(value, list) or not value or not all(isinstance(i, int) and not isinstance(i, bool) for i in value):
            raise bad("a non-empty list of integers")
        return value
    if type_name == "list[str]":
        if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
            raise bad("a non-empty list of strings")
        return value
    raise AssertionError(f"unhandled parameter type {type_name}")


def validate_parameters(values: dict[str, Any]) -> dict[str, Any]:
    """Check names and types against :data:`PARAMETERS`; return the converted values."""
    unknown = sorted((str(name) for name in set(values) - set(PARAMETERS)))
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(unknown)}: allowed are {', '.join(PARAMETERS)}"
        )
    return {name: _check_type(name, value, PARAMETERS[name].type) for name, value in values.items()}


def defaults() -> dict[str, Any]:
    """Every parameter at its default."""
    return {name: parameter.default for name, parameter in PARAMETERS.items()}


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
        raise ParameterError(f"unknown profile {str(profile)!r}: use one of {', '.join(known)} or a path to a .yml file")
    return candidate


def load_profile(profile: str | os.PathLike, root: Path | None = None) -> dict[str, Any]:
    """The parameters a profile sets, validated (its other parameters keep their defaults)."""
    path = profile_path(profile, root)
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise ParameterError(f"profile {path} is not valid YAML{where}: {problem}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ParameterError(f"profile {path} cannot be read as UTF-8 text ({error}): save it as a YAML text file") from None
    if not isinstance(values, dict):
        raise ParameterError(f"profile {path} must be a mapping of parameter: value")
    try:
        return validate_parameters(values)
    except ParameterError as error:
        raise ParameterError(f"profile {path}: {error}") from None


def study_configs(params: dict[str, Any]) -> list[TrainConfig]:
    """The optimizer study's runs: Adam at each ``adam_lrs``, SGD at each ``sgd_lrs``.

    Book page: "The optimizer study".
    """
    values = {**defaults(), **validate_parameters(params)}
    shared = {key: values[key] for key in ("epochs", "init_std", "seed", "dataset")}
    return config_grid({"adam": values["adam_lrs"], "sgd": values["sgd_lrs"]}, [values["dim"]], **shared)
