"""Options shared by several commands (where a model runs, which shard to process)."""

from __future__ import annotations

import click

from tuna.prompts import TEMPLATES


def provider_options(function):
    """--provider/--model and the provider-specific knobs, as one decorator."""
    options = [
        click.option("--provider", "provider_kind", type=click.Choice(["openai", "llamacpp", "hf"]), required=True,
                     help="Where the model runs: an OpenAI-compatible endpoint, llama.cpp in-process, or transformers."),
        click.option("--model", "provider_model", required=True,
                     help="GGUF file (llamacpp), checkpoint directory (hf) or API model id (openai)."),
        click.option("--base-url", default=None, help="openai: endpoint URL (default: OPENAI_BASE_URL or api.openai.com)."),
        click.option("--api", type=click.Choice(["completions", "chat"]), default="completions", show_default=True,
                     help="openai: which endpoint to call."),
        click.option("--api-key-env", default="OPENAI_API_KEY", show_default=True,
                     help="openai: environment variable holding the API key (never written anywhere)."),
        click.option("--n-gpu-layers", type=int, default=0, show_default=True,
                     help="llamacpp: layers to offload to the GPU (-1: all; needs a CUDA build)."),
        click.option("--n-ctx", type=int, default=4096, show_default=True, help="llamacpp: context window."),
        click.option("--template", type=click.Choice(TEMPLATES), default="chat", show_default=True,
                     help="Prompt format: the model's chat template or the Alpaca template."),
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


def open_provider(provider_kind: str, provider_model: str, **options):
    """The provider that `provider_options` describe (options named as make_provider's keywords)."""
    from tuna.llm import make_provider

    return make_provider(provider_kind, provider_model, **options)
