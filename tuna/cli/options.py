"""Options shared by several commands (where a model runs, which shard to process)."""

from __future__ import annotations

import click

from tuna.llm.base import CONSTRAINT_STYLES
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
        click.option("--constrain-with", type=click.Choice(CONSTRAINT_STYLES), default="auto",
                     show_default=True,
                     help="openai: how constrained (JSON) answers are asked for: `json_schema` (response_format; "
                          "OpenAI, vLLM) or `grammar` (a GBNF grammar; llama.cpp's servers). auto: json_schema "
                          "on chat, grammar on completions."),
        click.option("--n-gpu-layers", type=int, default=0, show_default=True,
                     help="llamacpp: layers to offload to the GPU (-1: all; needs a CUDA build)."),
        click.option("--n-ctx", type=int, default=4096, show_default=True, help="llamacpp: context window."),
        click.option("--template", type=click.Choice(TEMPLATES), default="chat", show_default=True,
                     help="Prompt format: the model's chat template or the Alpaca template."),
        click.option("--cache", type=click.Path(dir_okay=False), default=None,
                     help="Request cache (SQLite) shared by all stages [default: $TUNA_CACHE or "
                          ".tuna-cache/requests.sqlite]."),
        click.option("--concurrency", type=click.IntRange(min=1), default=32, show_default=True,
                     help="openai: requests in flight at once."),
        click.option("--rpm", type=click.FloatRange(min=0), default=0, show_default=True,
                     help="openai: requests per minute (0: unlimited)."),
        click.option("--tpm", type=click.FloatRange(min=0), default=0, show_default=True,
                     help="openai: tokens per minute, prompt + max_tokens estimated (0: unlimited)."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60, show_default=True,
                     help="openai: seconds before a request is abandoned and retried."),
        click.option("--max-retries", type=click.IntRange(min=0), default=6, show_default=True,
                     help="openai: retries of a failed request (429/5xx/timeouts/bad bodies), with backoff."),
        click.option("--price-prompt", type=click.FloatRange(min=0), default=None,
                     help="USD per 1K prompt tokens, for the cost file (config `prices:`)."),
        click.option("--price-completion", type=click.FloatRange(min=0), default=None,
                     help="USD per 1K completion tokens, for the cost file (config `prices:`)."),
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


def open_provider(provider_kind: str, provider_model: str, *, concurrency: int = 32, rpm: float = 0,
                  tpm: float = 0, timeout: float = 60, max_retries: int = 6, price_prompt=None,
                  price_completion=None, **options):
    """The provider that `provider_options` describe (the other options are make_provider's keywords)."""
    from tuna.llm import Limits, make_provider

    limits = Limits(concurrency=concurrency, requests_per_minute=rpm or None, tokens_per_minute=tpm or None,
                    timeout=timeout, max_retries=max_retries)
    return make_provider(provider_kind, provider_model, limits=limits, **options)


def price_of(price_prompt: float | None, price_completion: float | None, **_) -> dict | None:
    """The price table entry given by --price-prompt/--price-completion (None unless both are set)."""
    if price_prompt is None or price_completion is None:
        return None
    return {"prompt": price_prompt, "completion": price_completion}


beta_option = click.option(
    "--beta", type=click.FloatRange(min=0), default=1.3, show_default=True,
    help="Length penalty exponent of Eq. 3: s = sum(logprob) / |r|^beta.",
)
