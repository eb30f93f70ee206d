"""LLM providers: one interface over OpenAI-compatible endpoints, llama.cpp, transformers and vLLM.

    provider = make_provider("llamacpp", "checkpoints/alpaca.source.gguf")
    [candidates] = provider.generate([Request("Name three colors.", n=4, seed=0)])
    provider.score(provider.prompt("Name three colors."), "Red, green, blue.")

Every answer goes through the persistent request cache (tuna.llm.cache), and
`provider.meter` counts calls and tokens for the cost report (tuna.cost).
"""

from __future__ import annotations

from tuna.config.settings import PROVIDER_KINDS as KINDS
from tuna.errors import TunaError
from tuna.llm.base import CallFailed, Limits, Meter, Provider, Request, Score, derive_seed
from tuna.llm.cache import RequestCache

__all__ = ["KINDS", "CallFailed", "Limits", "Meter", "Provider", "Request", "RequestCache", "Score",
           "derive_seed", "make_provider"]


def make_provider(kind: str, model: str, *, base_url: str | None = None, api: str = "completions",
                  api_key_env: str = "OPENAI_API_KEY", constrain_with: str = "auto", n_gpu_layers: int = 0,
                  n_ctx: int = 4096, batch_size: int = 16, dtype: str = "auto", tensor_parallel_size: int = 1,
                  gpu_memory_utilization: float = 0.9, kv_cache_gib: float | None = None,
                  template: str = "chat", cache: RequestCache | str | None = None,
                  limits: Limits | None = None) -> Provider:
    """The provider for `kind`; keyword names match the CLI's provider options.

    `cache` is a RequestCache, a path, or None for the default (`$TUNA_CACHE` or
    `.tuna-cache/requests.sqlite`); `limits` applies to the openai kind.
    """
    if not isinstance(cache, RequestCache):
        cache = RequestCache(cache)
    common = {"cache": cache, "limits": limits}
    if kind == "openai":
        from tuna.llm.openai_api import OpenAIProvider

        return OpenAIProvider(model, base_url=base_url, api=api, api_key_env=api_key_env, template=template,
                              constrain_with=constrain_with, **common)
    if kind == "llamacpp":
        from tuna.llm.llamacpp import LlamaCppProvider

        return LlamaCppProvider(model, n_ctx=n_ctx, n_gpu_layers=n_gpu_layers, template=template, **common)
    if kind == "hf":
        from tuna.llm.hf import HFProvider

        return HFProvider(model, template=template, batch_size=batch_size, **common)
    if kind == "vllm":
        from tuna.llm.vllm import VLLMProvider

        return VLLMProvider(model, template=template, n_ctx=n_ctx, dtype=dtype, tensor_parallel_size=tensor_parallel_size,
                            gpu_memory_utilization=gpu_memory_utilization, kv_cache_gib=kv_cache_gib, **common)
    raise TunaError(f"unknown provider kind '{kind}' (expected one of {', '.join(KINDS)})")
