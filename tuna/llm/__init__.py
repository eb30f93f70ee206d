"""LLM providers: one interface over OpenAI-compatible endpoints, llama.cpp, transformers and vLLM.

    provider = make_provider(ProviderSpec(kind="llamacpp", model="checkpoints/alpaca.source.gguf"))
    [candidates] = provider.generate([Request("Name three colors.", n=4, seed=0)])
    provider.score(provider.prompt("Name three colors."), "Red, green, blue.")

Every answer goes through the persistent request cache (tuna.llm.cache), and
`provider.meter` counts calls and tokens for the cost report (tuna.cost).
"""

from __future__ import annotations

from tuna.config.settings import ProviderSpec
from tuna.errors import TunaError
from tuna.llm.base import CallFailed, Limits, Meter, Provider, Request, Score, derive_seed
from tuna.llm.cache import RequestCache

__all__ = ["CallFailed", "Limits", "Meter", "Provider", "ProviderSpec", "Request", "RequestCache", "Score",
           "derive_seed", "make_provider"]


def make_provider(spec: ProviderSpec, *, template: str = "chat", cache: RequestCache | str | None = None,
                  limits: Limits | None = None) -> Provider:
    """The provider a `ProviderSpec` describes (its `model` a GGUF file, a checkpoint directory
    or an API model id), prompting in `template`.

    `cache` is a RequestCache, a path, or None for the default (`$TUNA_CACHE` or
    `.tuna-cache/requests.sqlite`); `limits` applies to the openai kind.
    """
    if spec.model is None:
        raise TunaError(f"a {spec.kind} provider needs a model (a file, a checkpoint directory or an API model id)")
    if not isinstance(cache, RequestCache):
        cache = RequestCache(cache)
    common = {"template": template, "cache": cache, "limits": limits}
    if spec.kind == "openai":
        from tuna.llm.openai_api import OpenAIProvider

        return OpenAIProvider(spec.model, base_url=spec.base_url, api=spec.api, api_key_env=spec.api_key_env,
                              constrain_with=spec.constrain_with, **common)
    if spec.kind == "llamacpp":
        from tuna.llm.llamacpp import LlamaCppProvider

        return LlamaCppProvider(spec.model, n_ctx=spec.n_ctx, n_gpu_layers=spec.n_gpu_layers, **common)
    if spec.kind == "hf":
        from tuna.llm.hf import HFProvider

        return HFProvider(spec.model, batch_size=spec.batch_size, **common)
    from tuna.llm.vllm import VLLMProvider

    return VLLMProvider(spec.model, n_ctx=spec.n_ctx, dtype=spec.dtype, tensor_parallel_size=spec.tensor_parallel_size,
                        gpu_memory_utilization=spec.gpu_memory_utilization, kv_cache_gib=spec.kv_cache_gib, **common)
