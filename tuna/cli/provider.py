"""The provider options of the commands that run a model: the `ProviderSpec` section's engine
options, the prompt template, the request cache, this job's API limits and the price.

Their own module, so that only the commands that run a model count the provider code
(tuna.runner, tuna.llm) in their code fingerprint (tuna.code_fingerprint)."""

from __future__ import annotations

import functools

import click

from tuna.cli.options import field_option, section_options
from tuna.config.settings import TEMPLATES, ApiLimits, ProviderSpec

# The engine options of a provider; `quant` and `device` are the workflow's (which file, which job).
PROVIDER_FIELDS = ("kind", "model", "base_url", "api", "api_key_env", "constrain_with", "n_gpu_layers", "n_ctx",
                   "batch_size", "dtype", "tensor_parallel_size", "gpu_memory_utilization", "kv_cache_gib",
                   "max_failed")


def provider_options(function):
    """--provider/--model and the provider's engine options (from the `ProviderSpec` section),
    the prompt template, the request cache, this job's API limits and the price, given to the
    command as one `provider` argument (a tuna.runner.ProviderRun)."""
    options = [
        click.option("--template", "run__template", type=click.Choice(TEMPLATES), default="chat", show_default=True,
                     help="Prompt format: the model's chat template or the Alpaca template."),
        click.option("--cache", "run__cache", type=click.Path(dir_okay=False), default=None,
                     help="Request cache (SQLite) shared by all stages [default: $TUNA_CACHE or "
                          ".tuna-cache/requests.sqlite]."),
        field_option(ApiLimits, "concurrency", "run__concurrency"),
        click.option("--rpm", "run__rpm", type=click.FloatRange(min=0), default=0, show_default=True,
                     help="openai: this job's requests per minute (0: unlimited; the workflow splits "
                          "api.requests_per_minute over the shards)."),
        click.option("--tpm", "run__tpm", type=click.FloatRange(min=0), default=0, show_default=True,
                     help="openai: this job's tokens per minute, prompt + max_tokens estimated (0: unlimited)."),
        field_option(ApiLimits, "timeout", "run__timeout"),
        field_option(ApiLimits, "max_retries", "run__max_retries"),
        click.option("--price-prompt", "run__price_prompt", type=click.FloatRange(min=0), default=None,
                     help="USD per 1K prompt tokens, for the cost file (config `prices:`)."),
        click.option("--price-completion", "run__price_completion", type=click.FloatRange(min=0), default=None,
                     help="USD per 1K completion tokens, for the cost file (config `prices:`)."),
    ]

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        from tuna.runner import ProviderRun

        run = {key.removeprefix("run__"): kwargs.pop(key) for key in list(kwargs) if key.startswith("run__")}
        return function(*args, provider=ProviderRun.of(kwargs.pop("provider"), **run), **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return section_options(ProviderSpec, only=PROVIDER_FIELDS, into="provider", flags={"kind": "--provider"}, extra={
        "model": {"required": True,
                  "help": "GGUF file (llamacpp), checkpoint directory (hf, vllm) or API model id (openai)."}})(wrapper)
