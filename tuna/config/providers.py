"""A provider as a job runs it: the model file it loads, its template and price, the GPUs it
asks for, and the `tuna` options that select it (and the API limits each job gets)."""

from __future__ import annotations

from dataclasses import dataclass

from tuna.config import settings as s
from tuna.config.arguments import cli_options


@dataclass(frozen=True)
class ResolvedProvider:
    """A provider as a job runs it: the file it loads (if the workflow makes or a user gives one) and its options."""

    spec: s.ProviderSpec
    location: str | None
    template: str
    price: s.Price | None

    @property
    def inputs(self) -> list[str]:
        return [self.location] if self.location else []

    @property
    def is_api(self) -> bool:
        return self.spec.kind == "openai"

    @property
    def gpus(self) -> int:
        """GPUs a job running this provider asks for."""
        spec = self.spec
        if spec.kind == "llamacpp":
            return int(spec.n_gpu_layers != 0)
        if spec.kind in ("hf", "vllm") and spec.device == "cuda":
            return spec.tensor_parallel_size if spec.kind == "vllm" else 1
        return 0

    @property
    def uses_gpu(self) -> bool:
        return self.gpus > 0

    def args(self) -> str:
        """The `tuna` options that select this provider."""
        spec = self.spec
        options = {"provider": spec.kind, "model": self.location or spec.model, "template": self.template,
                   "max_failed": s.failure_budget(spec.kind, spec.max_failed)}
        if spec.kind == "openai":
            options.update(base_url=spec.base_url, api=spec.api, api_key_env=spec.api_key_env,
                           constrain_with=spec.constrain_with)
        elif spec.kind == "llamacpp":
            options.update(n_gpu_layers=spec.n_gpu_layers, n_ctx=spec.n_ctx)
        elif spec.kind == "hf":
            options.update(batch_size=spec.batch_size)
        elif spec.kind == "vllm":
            options.update(n_ctx=spec.n_ctx, dtype=spec.dtype, tensor_parallel_size=spec.tensor_parallel_size,
                           gpu_memory_utilization=spec.gpu_memory_utilization, kv_cache_gib=spec.kv_cache_gib)
        if self.price:
            options.update(price_prompt=self.price.prompt, price_completion=self.price.completion)
        return cli_options(options)


def resolve(spec: s.ProviderSpec, model: str | None, plan) -> ResolvedProvider:
    """A provider spec as `plan`'s jobs run it, with `model` filled in for self-sampling and evaluation:
    a model of the plan is its checkpoint (hf, vllm) or GGUF file (llamacpp) and its template."""
    if spec.model is None and model is not None:
        spec = spec.model_copy(update={"model": model})
    name = spec.model
    location = None
    if spec.kind != "openai":
        if name in plan.models:
            location = (plan.layout.checkpoint(name) if spec.kind in ("hf", "vllm")
                        else plan.layout.gguf(name, spec.quant))
        else:
            location = name
    if name in plan.models:
        template = plan.template(name)
    elif spec.kind == "openai" and spec.api == "completions":
        template = "alpaca"
    else:
        template = "chat"
    price = plan.config.prices.get(name) if spec.kind == "openai" else None
    return ResolvedProvider(spec, location, template, price)


def api_limits(config: s.Config) -> dict[str, int]:
    """Per-job limits of OpenAI-compatible providers, as integer rule resources (0: unlimited).

    Resources rather than params: how hard an endpoint is pushed changes no output,
    so changing it must not re-run finished jobs. Per-minute limits are split over the
    shards, which may all run at once.
    """
    api, shards = config.api, config.data.shards

    def per_job(limit):
        return max(1, int(limit / shards)) if limit else 0

    return {"api_concurrency": api.concurrency, "api_rpm": per_job(api.requests_per_minute),
            "api_tpm": per_job(api.tokens_per_minute), "api_timeout": max(1, round(api.timeout)),
            "api_max_retries": api.max_retries}


# The `tuna` options filled from the api_* resources of a job.
API_OPTIONS = ("--concurrency {resources.api_concurrency} --rpm {resources.api_rpm} --tpm {resources.api_tpm} "
               "--timeout {resources.api_timeout} --max-retries {resources.api_max_retries}")
