"""Reading a config: YAML -> validated sections -> a Plan, with one-line errors naming the key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError

from tuna.config import settings as s
from tuna.config.layout import RESERVED_NAMES
from tuna.config.models import AliasModel, TrainedModel, model_class
from tuna.errors import TunaError


class Config(s.Section):
    """A whole workflow config; every section is optional and filled from its defaults."""

    root: str = ""
    """Directory (relative to the working directory) that holds this experiment's `results/`, `checkpoints/` and `logs/`, so two experiments never share artifacts (`""`: the working directory itself). Downloads under `resources/` are shared."""
    data: s.Data = s.Data()
    """The instructions."""
    models: dict[str, dict[str, Any]] = Field(min_length=1)
    """Model name -> how it is made (see `models`)."""
    train: dict[str, Any] = {}
    """Defaults of every trained model (see `train`)."""
    teacher: s.Teacher = s.Teacher()
    """Probabilistic ranking's teacher."""
    scoring: s.Scoring = s.Scoring()
    """Eq. 3."""
    sampling: s.Sampling = s.Sampling()
    """Self-sampling for contextual ranking."""
    judge: s.Judge = s.Judge()
    """The ranking (and default Vicuna) judge."""
    prms: dict[str, s.Prm] = {}
    """Proxy ranking models by name (used by `prm_rank:M` data)."""
    api: s.ApiLimits = s.ApiLimits()
    """API limits."""
    prices: dict[str, s.Price] = {}
    """API model id -> USD per 1K tokens."""
    downloads: dict[str, s.Download] = {}
    """Overrides and additions to `tuna/config/downloads.yaml` (name -> url and checksum)."""
    released: s.Released = s.Released()
    """The authors' released data files."""
    evaluation: s.Evaluation = s.Evaluation()
    """Benchmarks."""
    human: s.Human = s.Human()
    """Human labelling prices (Table 6)."""


def key_of(location) -> str:
    return ".".join(str(part) for part in location) or "(top level)"


def one_line(exc: ValidationError, prefix: tuple = ()) -> str:
    """The first validation error as `key.path: message`."""
    error = exc.errors()[0]
    location = [part for part in error["loc"] if not str(part).startswith("function-")]
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "missing":
        message = "required key missing"
    return f"{key_of((*prefix, *location))}: {message}"


def read_yaml(path: str | Path) -> dict:
    """A YAML mapping; syntax errors as one line with file:line:column."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise TunaError(f"{where}: not valid YAML: {exc.problem or exc.context}") from None
    except OSError as exc:
        raise TunaError(f"{path}: {exc.strerror}") from None
    if not isinstance(data, dict):
        raise TunaError(f"{path}: a config is a mapping of sections (data, models, ...)")
    return data


def load(config: dict, source: str = "config"):
    """The Plan of a config mapping; a TunaError naming `source` and the key for anything wrong."""
    from tuna.config.plan import Plan

    try:
        parsed = Config.model_validate(config)
    except ValidationError as exc:
        raise TunaError(f"{source}: {one_line(exc)}") from None
    models, aliases = {}, {}
    for name, spec in parsed.models.items():
        model = _model(name, spec, source)
        if isinstance(model, AliasModel):
            aliases[name] = model.alias
        else:
            models[name] = model
    plan = Plan(parsed, models, source, aliases)
    plan.check()
    return plan


def load_file(path: str | Path):
    return load(read_yaml(path), source=str(path))


def _model(name: str, spec: dict, source: str):
    if not re.match(s.NAME_PATTERN, name):
        raise TunaError(f"{source}: models.{name}: a model name matches {s.NAME_PATTERN}")
    if name in RESERVED_NAMES:
        raise TunaError(f"{source}: models.{name}: '{name}' is a results directory; choose another name")
    if not isinstance(spec, dict):
        raise TunaError(f"{source}: models.{name}: a mapping (import, or init + data, or endpoint)")
    try:
        return model_class(spec).model_validate(spec)
    except ValueError as exc:
        detail = one_line(exc) if isinstance(exc, ValidationError) else str(exc)
        raise TunaError(f"{source}: models.{name}.{detail}" if isinstance(exc, ValidationError)
                        else f"{source}: models.{name}: {detail}") from None


def train_settings(top: dict, model: str, spec: TrainedModel, source: str) -> s.Train:
    """`train:` overridden by `models.M.train`; an error names the key it came from."""
    merged = {**top, **spec.train}
    try:
        return s.Train.model_validate(merged)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = error["loc"][0] if error["loc"] else None
        where = ("models", model, "train") if key is None or key in spec.train else ("train",)
        raise TunaError(f"{source}: {one_line(exc, where)}") from None
