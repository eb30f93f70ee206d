"""Every `tuna` option made from a config field has that field's flag, default and choices, and
no command writes a default of its own for another field of a config section it uses."""

from __future__ import annotations

from types import UnionType
from typing import Literal, Union, get_args, get_origin

import click

from tuna.cli import main
from tuna.cli.options import ConfigOption

# Options named like a field of a section their command is built from that are not that
# field, and why.
NOT_THE_FIELD = {
    ("eval-prompts", "shots"): "one prompt set per shot count; evaluation.superni.shots lists the sets",
    ("eval-prompts", "tokenizer"): "the evaluated model's own tokenizer; evaluation.superni.tokenizer is for API "
                                   "models without a checkpoint",
    ("eval-superni", "bertscore_model"): "an omitted option means no BERTScore, as null does in the config",
    ("judge-vicuna", "questions"): "a question file or demo; the config's vicuna/demo says which one the workflow "
                                   "passes",
    ("prm-train", "backbone"): "the backbone's checkpoint directory; prms.NAME.backbone names its model",
    ("eval-agreement", "batch_size"): "examples per packed forward; train.batch_size is a training batch",
    ("eval-nll", "batch_size"): "examples per packed forward; train.batch_size is a training batch",
}


# Options named otherwise than their field: section, field -> the option's name.
RENAMED = {("ProviderSpec", "kind"): "provider", ("Prm", "rank_batch_size"): "batch_size"}


def commands(group: click.Group = main, prefix: tuple[str, ...] = ()):
    """(name, command) of every command of the `tuna` group, subcommands of groups included."""
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, (*prefix, name))
        else:
            yield " ".join((*prefix, name)), command


def literal_values(annotation) -> tuple | None:
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, UnionType) and len(args) == 1:
        return literal_values(args[0])
    return get_args(annotation) if get_origin(annotation) is Literal else None


def flag_name(param: click.Parameter) -> str:
    return param.opts[0].removeprefix("--").replace("-", "_")


def test_every_option_made_from_a_config_field_has_its_flag_default_and_choices():
    checked = set()
    for name, command in commands():
        for param in command.params:
            if not isinstance(param, ConfigOption):
                continue
            field = param.section.model_fields[param.field_name]
            where = f"tuna {name} {param.opts[0]} ({param.section.__name__}.{param.field_name})"
            assert param.default == (None if field.is_required() else field.default), where
            assert flag_name(param) == RENAMED.get((param.section.__name__, param.field_name), param.field_name), where
            if (values := literal_values(field.annotation)) is not None:
                assert tuple(param.type.choices) == values, where
            if field.annotation is bool:
                assert param.secondary_opts == [f"--no-{param.field_name.replace('_', '-')}"], where
            checked.add((name, param.field_name))
    # the sections the workflow passes: its settings, providers, Super-NI, LMentry and Vicuna settings
    assert {("teacher", "n"), ("sample", "tau"), ("judge", "constrained"), ("train", "lr"), ("prm-train", "epochs"),
            ("score", "truncated"), ("prepare-data", "held_out"), ("mix-data", "seed"), ("generate-answers", "n_ctx"),
            ("generate-answers", "max_tokens"), ("judge-vicuna", "style"), ("eval-prompts", "max_source_length"),
            ("eval-superni", "instances_per_task"), ("eval-lmentry", "limit_per_task"), ("eval-nll", "max_length"),
            ("import-released", "beta"), ("teacher", "concurrency")} <= checked


def test_no_command_restates_a_field_of_the_sections_it_uses():
    for name, command in commands():
        sections = {param.section for param in command.params if isinstance(param, ConfigOption)}
        fields = {field for section in sections for field in section.model_fields}
        for param in command.params:
            if isinstance(param, click.Option) and not isinstance(param, ConfigOption) and flag_name(param) in fields:
                assert (name, flag_name(param)) in NOT_THE_FIELD, (
                    f"tuna {name} {param.opts[0]}: write it as a config field's option (tuna.cli.options)")


def test_the_help_of_an_option_is_its_fields_docstring():
    teacher = dict(commands())["teacher"]
    n = next(p for p in teacher.params if isinstance(p, ConfigOption) and p.field_name == "n")
    assert n.help == "Responses per instruction."
