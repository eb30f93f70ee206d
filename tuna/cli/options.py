"""Options generated from the config sections, and the few shared by several commands.

A command's option for a config field is made from the field (`section_options`): its
default, its type's bounds and choices, its docstring as help. The section is the one
place a default is written, so a command's default is the config's by construction
(tests/test_cli_defaults.py checks every command).
"""

from __future__ import annotations

import functools
from pathlib import Path
from types import UnionType
from typing import Literal, Union, get_args, get_origin

import click
from pydantic import ValidationError

from tuna.config.models import ImportedModel
from tuna.config.settings import Section, one_line

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)  # an existing file
DIR = click.Path(exists=True, file_okay=False, path_type=Path)  # an existing directory
OUT = click.Path(dir_okay=False, path_type=Path)  # a file to write
OUT_DIR = click.Path(file_okay=False, path_type=Path)  # a directory to write


def out_option(help: str, directory: bool = False):
    """The `-o/--out` FILE (or DIR) every command writes its result to."""
    return click.option("-o", "--out", type=OUT_DIR if directory else OUT, required=True, help=help)


def stack(*options):
    """One decorator applying `options` in order (the first is the first in --help)."""
    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return function
    return decorate


held_out_option = click.option("--held-out", type=FILE, default=None,
                               help="Instruction jsonl of the held-out split (prepare-data --held-out-out): its ids "
                                    "are never trained on (counted in the log and provenance).")
# What a training command (train, prm-train) takes beside its data and settings; `--local_rank`
# is passed by the `deepspeed` launcher to each rank (the rank is read from LOCAL_RANK).
training_options = stack(
    held_out_option,
    click.option("--state-dir", type=OUT_DIR, default=None,
                 help="Where resumable state goes [default: OUT.state]; deleted after a successful run."),
    click.option("--resume", is_flag=True, help="Continue from the state in --state-dir, if any."),
    click.option("--local_rank", "local_rank", type=int, default=None, hidden=True),
)
model_name_option = click.option("--model-name", required=True, help="Name of the evaluated model in the result.")
instructions_option = click.option("--instructions", type=FILE, required=True, help="Instruction records (jsonl).")
samples_option = click.option("--samples", type=FILE, multiple=True, required=True, help="Self-sample shards (repeat).")


class ConfigOption(click.Option):
    """An option made from a config field (`section.field`)."""

    def __init__(self, *args, section=None, field_name: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.section, self.field_name = section, field_name


def click_type(annotation, metadata):
    """The click type of a field: a choice for a Literal, a range for bounded numbers."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, UnionType) and len(args) == 1:
        return click_type(args[0], metadata)
    if get_origin(annotation) is Literal:
        return click.Choice(get_args(annotation))
    if annotation in (int, float):
        bounds = {key: getattr(m, attr) for m in metadata for attr, key in
                  (("ge", "min"), ("gt", "min"), ("le", "max"), ("lt", "max")) if hasattr(m, attr)}
        if not bounds:
            return annotation
        open_ends = {"min_open": any(hasattr(m, "gt") for m in metadata)} if annotation is float else {}
        return (click.IntRange if annotation is int else click.FloatRange)(**bounds, **open_ends)
    return str


class SectionValue(click.ParamType):
    """A nested config section given on the command line as a YAML (or JSON) mapping; `null` for none."""

    name = "mapping"

    def __init__(self, section):
        self.section = section

    def convert(self, value, param, ctx):
        import yaml

        if not isinstance(value, str):
            return value  # None, or a section already
        try:
            data = yaml.safe_load(value)
        except yaml.YAMLError:
            data = value
        if data is not None and not isinstance(data, dict):
            self.fail(f"{value!r} is not a YAML mapping (e.g. '{{r: 16}}')", param, ctx)
        try:
            return None if data is None else self.section.model_validate(data)
        except ValidationError as exc:
            self.fail(one_line(exc), param, ctx)


def nested_section(annotation):
    """The config section a field holds (`Lora | None` -> Lora), or None."""
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, Section):
            return candidate
    return None


def field_option(section, name: str, param: str | None = None, flag: str | None = None, **extra):
    """The option of `section.name`: `--name` (or `flag`), the field's default, type and docstring
    (`--name/--no-name` for a boolean, a YAML mapping for a nested section); `extra` may make it
    required or say more in its help."""
    field = section.model_fields[name]
    flag = flag or f"--{name.replace('_', '-')}"
    settings = {"default": None if field.is_required() else field.default, "required": field.is_required(),
                "show_default": field.default is not None, "help": (field.description or "").replace("`", "")}
    if nested := nested_section(field.annotation):
        settings.update(type=SectionValue(nested), show_default=False,
                        help=f"{settings['help']} A YAML mapping, e.g. {flag} '{{r: 16}}'.")
    elif field.annotation is bool:
        flag = f"{flag}/--no-{flag.removeprefix('--')}"
    else:
        settings["type"] = click_type(field.annotation, field.metadata)
    return click.option(flag, *filter(None, [param]), cls=ConfigOption, section=section, field_name=name,
                        **{**settings, **extra})


def section_options(section, only: tuple[str, ...] | None = None, exclude: tuple[str, ...] = (),
                    into: str | None = None, flags: dict[str, str] | None = None, extra: dict[str, dict] | None = None):
    """Options for the fields of a config section (`only` those, or all but `exclude`), each its own
    argument of the command or, with `into`, the section built from them as that one argument (an
    invalid combination: a usage error). `flags` renames options, `extra` adds click settings."""
    names = [n for n in (only or section.model_fields) if n not in exclude]
    flags, extra = flags or {}, extra or {}

    def param(name: str) -> str | None:  # the command's argument of a field, when it gets the section
        return f"{into}__{name}" if into else None

    def decorate(function):
        if into:
            @functools.wraps(function)
            def wrapper(*args, **kwargs):
                values = {name: kwargs.pop(param(name)) for name in names}
                try:
                    kwargs[into] = section(**values)
                except ValidationError as exc:
                    raise click.UsageError(one_line(exc)) from None
                return function(*args, **kwargs)
        else:
            wrapper = function
        for name in reversed(names):
            wrapper = field_option(section, name, param(name), flags.get(name), **dict(extra.get(name, {})))(wrapper)
        return wrapper

    return decorate


def shard(ctx, param, value: str) -> tuple[int, int]:
    """'2/8' -> (2, 8): this job's shard index and the number of shards."""
    try:
        index, count = (int(part) for part in value.split("/"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not INDEX/COUNT (e.g. 0/4)") from None
    if count < 1 or not 0 <= index < count:
        raise click.BadParameter(f"{value!r}: need 0 <= INDEX < COUNT")
    return index, count


shard_option = click.option("--shard", default="0/1", show_default=True, callback=shard,
                            help="Process only shard INDEX of COUNT (instructions i with i % COUNT == INDEX).")


def key_files(keys: tuple[str, ...] | None = None):
    """The callback of a repeated KEY=FILE option (FILE existing; KEY one of `keys` when given):
    the values as {key: path}."""
    def parse(ctx, param, values) -> dict[str, Path]:
        parsed = {}
        for value in values:
            key, sep, path = value.partition("=")
            if not sep or (keys and key not in keys) or not Path(path).is_file():
                raise click.BadParameter(f"{value!r}: expected KEY=FILE with an existing FILE"
                                         + (f" and KEY one of {', '.join(keys)}" if keys else ""))
            parsed[key] = Path(path)
        return parsed
    return parse


template_option = field_option(ImportedModel, "template")  # the model's prompt format, as a model declares it
