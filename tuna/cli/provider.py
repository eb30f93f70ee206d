"""The provider options of the commands that run a model: the `ProviderSpec` section's engine
options, the prompt template, the request cache, this job's API limits and the price.

Their own module, so that only the commands that run a model count the provider code
(tuna.runner, tuna.llm) in their code fingerprint (tuna.code_fingerprint)."""

from __future__ import annotations

import functools
import inspect

import click

from tuna.cli.options import field_option, section_options, stack, template_option
from tuna.config.settings import ApiLimits, ProviderSpec

RATE = click.FloatRange(min=0)
WORKFLOW_FIELDS = ("quant", "device")  # which model file, which job: the workflow's, not an engine option
run_options = stack(
    template_option,
    click.option("--cache", type=click.Path(dir_okay=False), default=None,
                 help="Request cache (SQLite) [default: $TUNA_CACHE or .tuna-cache/requests.sqlite]."),
    field_option(ApiLimits, "concurrency"),
    click.option("--rpm", type=RATE, default=0, show_default=True,
                 help="openai: this job's requests per minute (0: unlimited; the workflow splits api's over shards)."),
    click.option("--tpm", type=RATE, default=0, show_default=True, help="openai: tokens per minute (0: unlimited)."),
    field_option(ApiLimits, "timeout"),
    field_option(ApiLimits, "max_retries"),
    click.option("--price-prompt", type=RATE, default=None, help="USD per 1K prompt tokens (config `prices:`)."),
    click.option("--price-completion", type=RATE, default=None, help="USD per 1K completion tokens."),
)


def provider_options(function):
    """--provider/--model and the engine options, and the run options above, given to the
    command as one `provider` argument (a tuna.runner.ProviderRun)."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        from tuna.runner import ProviderRun

        run = {name: kwargs.pop(name) for name in inspect.signature(ProviderRun.of).parameters if name != "spec"}
        return function(*args, provider=ProviderRun.of(kwargs.pop("provider"), **run), **kwargs)

    return section_options(ProviderSpec, exclude=WORKFLOW_FIELDS, into="provider", flags={"kind": "--provider"}, extra={
        "model": {"required": True,
                  "help": "GGUF file (llamacpp), checkpoint directory (hf, vllm) or API model id (openai)."}})(
        run_options(wrapper))
