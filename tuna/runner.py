"""The one way a generation stage runs: teacher, sample, judge, generate-answers, judge-vicuna.

    with Stage("teacher", provider) as stage:
        results = stage.provider.generate(requests)
        stage.finish({out: records}, inputs=[instructions], params={...})

Opening the stage opens its provider; every answer is journaled in the request cache
as it arrives (tuna.llm.cache), so a killed or failed stage resumes where it stopped.
`finish` applies the failure budget (`max_failed`: the fraction of calls that may fail
after their retries) before anything is written: over it, one line says how many
failed and the most common error, and nothing is written, so Snakemake keeps the job
failed and a rerun re-asks only the failed calls. Under it, the outputs are written
atomically (failed answers kept and marked), with the cost file and provenance stamps
naming the model that answered. A judge stage then applies its verdict budget
(`check_verdicts`, `judge.max_unranked`): answers were received but too many items have
no usable one (a wrong prompt, a weak judge), so the stage fails after writing every
attempt. Leaving the block closes the provider.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tuna import provenance
from tuna.config.settings import Price, ProviderSpec, failure_budget
from tuna.cost import cost_path, cost_record
from tuna.errors import TunaError
from tuna.llm import Limits, Provider, make_provider
from tuna.records import Record, write_json, write_jsonl


@dataclass(frozen=True)
class ProviderRun:
    """A provider as a command runs it: its spec, the prompt template, the request cache,
    this job's API limits and the price of its tokens (None: unknown or local)."""

    spec: ProviderSpec
    template: str = "chat"
    cache: str | None = None
    limits: Limits = Limits()
    price: Price | None = None

    @classmethod
    def of(cls, spec: ProviderSpec, template: str, cache: str | None, concurrency: int, rpm: float, tpm: float,
           timeout: float, max_retries: int, price_prompt: float | None, price_completion: float | None):
        """From the `tuna` command's provider options (rpm/tpm 0: unlimited; a price needs both parts)."""
        limits = Limits(concurrency=concurrency, requests_per_minute=rpm or None, tokens_per_minute=tpm or None,
                        timeout=timeout, max_retries=max_retries)
        price = None if price_prompt is None or price_completion is None else Price(
            prompt=price_prompt, completion=price_completion)
        return cls(spec, template, cache, limits, price)

    def open(self) -> Provider:
        return make_provider(self.spec, template=self.template, cache=self.cache, limits=self.limits)


def model_identity(provider: Provider) -> dict:
    """Which model answered: endpoint, model name and what the server said it ran, or the
    sha256 of the model file (every weight and config file of a checkpoint directory)."""
    identity = {"kind": provider.kind, "model": provider.model, "template": provider.template}
    base_url = getattr(provider, "base_url", None)
    if base_url is not None:
        served = sorted({m for m, _ in provider.meter.served})
        fingerprints = sorted({f for _, f in provider.meter.served if f})
        return {**identity, "base_url": base_url, "api": getattr(provider, "api", None),
                "served_model": served, "system_fingerprint": fingerprints}
    path = Path(provider.model)
    if path.is_file():
        return {**identity, "sha256": provenance.sha256_file(path)}
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in (".json", ".safetensors", ".bin",
                                                                                 ".model", ".gguf"))
        return {**identity, "sha256": {p.name: provenance.sha256_file(p) for p in files}}
    return identity


class Stage:
    """One run of a generation stage over one provider (see the module doc)."""

    def __init__(self, name: str, run: ProviderRun):
        self.name = name
        self.run = run
        self.budget = failure_budget(run.spec.kind, run.spec.max_failed)
        self.provider: Provider | None = None

    def __enter__(self) -> "Stage":
        self.provider = self.run.open()
        return self

    def __exit__(self, *exc) -> None:
        self.provider.close()

    @property
    def calls(self) -> int:
        meter = self.provider.meter
        return meter.calls + meter.cached + meter.failed

    def check_budget(self) -> None:
        """Raise the stage's one-line error if more calls failed than `max_failed` allows."""
        meter = self.provider.meter
        if meter.failed <= self.budget * self.calls:
            return
        error, count = meter.errors.most_common(1)[0]
        raise TunaError(f"{self.name}: {meter.failed} of {self.calls} calls failed (max_failed {self.budget:g}); "
                        f"most common: {error} ({count}x). Every answer received is cached: rerun to ask only "
                        "the failed calls")

    def check_verdicts(self, unusable: int, total: int, max_unranked: float | None, what: str,
                       reasons: Counter, where: str) -> None:
        """Raise the stage's one-line error if more than `max_unranked` (null: the `max_failed`
        default of the provider kind) of `total` items have no usable verdict."""
        budget = failure_budget(self.run.spec.kind, max_unranked)
        if unusable <= budget * total:
            return
        reason = f"; most common: {reasons.most_common(1)[0][0]} ({reasons.most_common(1)[0][1]}x)" if reasons else ""
        raise TunaError(f"{self.name}: {unusable} of {total} {what} without a usable verdict (max_unranked "
                        f"{budget:g}){reason}; every attempt is in {where}")

    def cost(self) -> dict:
        price = self.run.price.model_dump() if self.run.price else None
        return cost_record(self.provider.kind, self.provider.name, self.provider.meter, price)

    def finish(self, outputs: dict[Path, Iterable[Record] | dict], inputs: Iterable = (), params: dict | None = None,
               extra: dict | None = None) -> None:
        """Check the budget, then write the outputs (jsonl of records, or a JSON document), the
        cost file beside the first output and a provenance stamp on each."""
        self.check_budget()
        for path, content in outputs.items():
            write_json(path, content) if isinstance(content, dict) else write_jsonl(path, content)
        cost = cost_path(next(iter(outputs)))
        write_json(cost, self.cost())
        meter = self.provider.meter
        calls = {"calls": self.calls, "answered": meter.calls, "cached": meter.cached, "failed": meter.failed,
                 "max_failed": self.budget, "errors": dict(meter.errors)}
        provenance.stamp([*outputs, cost], inputs=inputs, params=params,
                         extra={"model": model_identity(self.provider), "calls": calls, **(extra or {})})

    def summary(self) -> str:
        meter = self.provider.meter
        return f"{meter.calls} calls made, {meter.cached} from cache, {meter.failed} failed"
