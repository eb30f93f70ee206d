"""Reading a config: YAML -> validated sections -> a Plan, with one-line errors naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from tuna.config import settings as s
from tuna.config.layout import RESERVED_NAMES
from tuna.config.models import AliasModel, model_class
from tuna.config.plan import Plan
from tuna.errors import TunaError


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
    try:
        parsed = s.Config.model_validate(config)
    except ValidationError as exc:
        raise TunaError(f"{source}: {s.one_line(exc)}") from None
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
        detail = s.one_line(exc) if isinstance(exc, ValidationError) else str(exc)
        raise TunaError(f"{source}: models.{name}.{detail}" if isinstance(exc, ValidationError)
                        else f"{source}: models.{name}: {detail}") from None
