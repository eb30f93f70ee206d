"""Options shared by several commands (where a model runs, which shard to process)."""

from __future__ import annotations

import click

from tuna.config.settings import (
    API_STYLES,
    CONSTRAINT_STYLES,
    DTYPES,
    PROVIDER_KINDS,
    TEMPLATES,
    ApiLimits,
    ProviderSpec,
    Scoring,
    default,
    doc,
)


def provider_options(function):
    """--provider/--model and the provider-specific knobs, as one decorator."""
    options = [
        click.option("--provider", "provider_kind", type=click.Choice(PROVIDER_KINDS), required=True,
                     help=doc(ProviderSpec, "kind").replace("`", "")),
        click.option("--model", "provider_model", required=True,
                     help="GGUF file (llamacpp), checkpoint directory (hf, vllm) or API model id (openai)."),
        click.option("--base-url", default=None, help=doc(ProviderSpec, "base_url").replace("`", "")),
        click.option("--api", type=click.Choice(API_STYLES), default=default(ProviderSpec, "api"), show_default=True,
                     help=doc(ProviderSpec, "api").replace("`", "")),
        click.option("--api-key-env", default=default(ProviderSpec, "api_key_env"), show_default=True,
                     help=doc(ProviderSpec, "api_key_env").replace("`", "")),
        click.option("--constrain-with", type=click.Choice(CONSTRAINT_STYLES), default=default(ProviderSpec, "constrain_with"),
                     show_default=True, help=doc(ProviderSpec, "constrain_with").replace("`", "")),
        click.option("--n-gpu-layers", type=int, default=default(ProviderSpec, "n_gpu_layers"), show_default=True,
                     help=doc(ProviderSpec, "n_gpu_layers").replace("`", "")),
        click.option("--n-ctx", type=int, default=default(ProviderSpec, "n_ctx"), show_default=True,
                     help=doc(ProviderSpec, "n_ctx").replace("`", "")),
        click.option("--batch-size", type=click.IntRange(min=1), default=default(ProviderSpec, "batch_size"),
                     show_default=True, help=doc(ProviderSpec, "batch_size").replace("`", "")),
        click.option("--dtype", type=click.Choice(DTYPES), default=default(ProviderSpec, "dtype"), show_default=True,
                     help=doc(ProviderSpec, "dtype").replace("`", "")),
        click.option("--tensor-parallel-size", type=click.IntRange(min=1), default=default(ProviderSpec, "tensor_parallel_size"),
                     show_default=True, help=doc(ProviderSpec, "tensor_parallel_size").replace("`", "")),
        click.option("--gpu-memory-utilization", type=click.FloatRange(min=0, max=1, min_open=True),
                     default=default(ProviderSpec, "gpu_memory_utilization"), show_default=True,
                     help=doc(ProviderSpec, "gpu_memory_utilization").replace("`", "")),
        click.option("--kv-cache-gib", type=click.FloatRange(min=0, min_open=True), default=None,
                     help=doc(ProviderSpec, "kv_cache_gib").replace("`", "")),
        click.option("--template", type=click.Choice(TEMPLATES), default="chat", show_default=True,
                     help="Prompt format: the model's chat template or the Alpaca template."),
        click.option("--cache", type=click.Path(dir_okay=False), default=None,
                     help="Request cache (SQLite) shared by all stages [default: $TUNA_CACHE or "
                          ".tuna-cache/requests.sqlite]."),
        click.option("--concurrency", type=click.IntRange(min=1), default=default(ApiLimits, "concurrency"), show_default=True,
                     help="openai: requests in flight at once."),
        click.option("--rpm", type=click.FloatRange(min=0), default=0, show_default=True,
                     help="openai: requests per minute (0: unlimited)."),
        click.option("--tpm", type=click.FloatRange(min=0), default=0, show_default=True,
                     help="openai: tokens per minute, prompt + max_tokens estimated (0: unlimited)."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=default(ApiLimits, "timeout"),
                     show_default=True,
                     help="openai: seconds before a request is abandoned and retried."),
        click.option("--max-retries", type=click.IntRange(min=0), default=default(ApiLimits, "max_retries"), show_default=True,
                     help="openai: retries of a failed request (429/5xx/timeouts/bad bodies), with backoff."),
        click.option("--price-prompt", type=click.FloatRange(min=0), default=None,
                     help="USD per 1K prompt tokens, for the cost file (config `prices:`)."),
        click.option("--price-completion", type=click.FloatRange(min=0), default=None,
                     help="USD per 1K completion tokens, for the cost file (config `prices:`)."),
        click.option("--max-failed", type=click.FloatRange(min=0, max=1), default=None,
                     help=doc(ProviderSpec, "max_failed").replace("`", "")),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def parse_shard(value: str) -> tuple[int, int]:
    """'2/8' -> (2, 8): this job's shard index and the number of shards."""
    try:
        index, count = (int(part) for part in value.split("/"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not INDEX/COUNT (e.g. 0/4)") from None
    if count < 1 or not 0 <= index < count:
        raise click.BadParameter(f"{value!r}: need 0 <= INDEX < COUNT")
    return index, count


shard_option = click.option(
    "--shard", default="0/1", show_default=True, callback=lambda ctx, param, value: parse_shard(value),
    help="Process only shard INDEX of COUNT (instructions i with i % COUNT == INDEX).",
)


def _section_of(annotation):
    """The config section a field holds (`Lora | None` -> Lora), or None."""
    from typing import get_args

    from tuna.config.settings import Section

    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, Section):
            return candidate
    return None


class SectionValue(click.ParamType):
    """A nested config section given on the command line as a YAML (or JSON) mapping; `null` for none."""

    name = "mapping"

    def __init__(self, section):
        self.section = section

    def convert(self, value, param, ctx):
        import yaml
        from pydantic import ValidationError

        from tuna.config.loading import one_line

        if value is None or isinstance(value, self.section):
            return value
        try:
            data = yaml.safe_load(value) if isinstance(value, str) else value
        except yaml.YAMLError:
            data = value
        if data is None:
            return None
        if not isinstance(data, dict):
            self.fail(f"{value!r} is not a YAML mapping (e.g. '{{r: 16}}')", param, ctx)
        try:
            return self.section.model_validate(data)
        except ValidationError as exc:
            self.fail(one_line(exc), param, ctx)


def section_options(section, exclude: tuple[str, ...] = ()):
    """Click options for every field of a config section, with its default and its docstring as help.

    The config section is the one place a default is written; `--flag/--no-flag` for
    booleans, a choice for enumerations.
    """
    from types import UnionType
    from typing import Literal, Union, get_args, get_origin

    def click_type(annotation, metadata):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if get_origin(annotation) in (Union, UnionType) and len(args) == 1:
            return click_type(args[0], metadata)
        if get_origin(annotation) is Literal:
            return click.Choice([str(a) for a in get_args(annotation)])
        if annotation in (int, float):
            bounds = {key: getattr(m, attr) for m in metadata for attr, key in
                      (("ge", "min"), ("gt", "min"), ("le", "max"), ("lt", "max")) if hasattr(m, attr)}
            if not bounds:
                return annotation
            open_ends = {"min_open": any(hasattr(m, "gt") for m in metadata)} if annotation is float else {}
            return (click.IntRange if annotation is int else click.FloatRange)(**bounds, **open_ends)
        return str

    def decorate(function):
        for name, field in reversed(section.model_fields.items()):
            if name in exclude:
                continue
            flag = f"--{name.replace('_', '-')}"
            help_text = (field.description or "").replace("`", "")
            nested = _section_of(field.annotation)
            if nested:
                option = click.option(flag, type=SectionValue(nested), default=None,
                                      help=f"{help_text} A YAML mapping, e.g. {flag} '{{r: 16}}'.")
            elif field.annotation is bool:
                option = click.option(f"{flag}/--no-{name.replace('_', '-')}", default=field.default,
                                      show_default=True, help=help_text)
            else:
                option = click.option(flag, type=click_type(field.annotation, field.metadata), default=field.default,
                                      show_default=field.default is not None, help=help_text)
            function = option(function)
        return function

    return decorate


beta_option = click.option("--beta", type=click.FloatRange(min=0), default=default(Scoring, "beta"), show_default=True,
                           help=doc(Scoring, "beta").replace("`", ""))
