"""vLLM in-process (`vllm.LLM` over a checkpoint directory): continuous batching on GPUs or CPUs.

All the uncached calls of one `generate` go to the engine at once, each sample its
own request with its own seed, so the engine batches across prompts and samples
(and shares a prompt's KV blocks between its samples). Each answer is journaled the
moment its request finishes, so a killed job loses only the requests in flight.
Log-probs are the model's own (vLLM's `raw_logprobs`: before temperature), as the
teacher's Eq. 3 needs. The engine starts on the first uncached call: a rerun of a
finished stage neither calls nor loads it.

vLLM runs its engine and workers in child processes, so a script that uses this
provider needs an `if __name__ == "__main__":` guard (the `tuna` command has one).
"""

from __future__ import annotations

import os
import sys

from tqdm import tqdm

from tuna.errors import TunaError
from tuna.llm.base import Call, CallFailed
from tuna.llm.checkpoint import CheckpointProvider

CPU_KV_CACHE_GIB = 1.0  # enough for SmolLM2-135M at 4096 tokens x 5 sequences; VLLM_CPU_KVCACHE_SPACE overrides


class VLLMProvider(CheckpointProvider):
    kind = "vllm"

    def __init__(self, model: str, *, template: str, n_ctx: int, dtype: str, tensor_parallel_size: int,
                 gpu_memory_utilization: float, kv_cache_gib: float | None, **common):
        super().__init__(model, template, **common)
        self.n_ctx = n_ctx
        self.engine_args = {"dtype": dtype, "tensor_parallel_size": tensor_parallel_size,
                            "gpu_memory_utilization": gpu_memory_utilization, "kv_cache_gib": kv_cache_gib}
        self._llm = None

    def _engine(self):
        """The engine, started once (loading and warming it up takes ~1 minute for a 135M model on a CPU)."""
        if self._llm is None:
            self._llm = _start_engine(str(self.path), self.n_ctx, **self.engine_args)
        return self._llm.llm_engine

    def _run(self, calls: list[Call], record, desc: str) -> None:
        from vllm.inputs import TokensPrompt

        engine = self._engine()
        pending: dict[str, tuple[Call, int]] = {}
        for number, call in enumerate(calls):
            prompt = self.tokenize_prompt(call.payload["prompt"])
            try:
                params = self._sampling(call, len(prompt))
            except CallFailed as exc:
                record(call, None, str(exc))
                continue
            engine.add_request(str(number), TokensPrompt(prompt_token_ids=prompt), params)
            pending[str(number)] = (call, len(prompt))
        try:
            with tqdm(total=len(calls), desc=desc, unit="call", file=sys.stderr, disable=None) as bar:
                bar.update(len(calls) - len(pending))
                while engine.has_unfinished_requests():
                    for output in engine.step():
                        if output.finished:
                            call, prompt_tokens = pending.pop(output.request_id)
                            record(call, self._result(call, prompt_tokens, output.outputs[0]))
                            bar.update()
        finally:
            if pending:  # interrupted: leave the engine empty for the next call
                engine.abort_request(list(pending))

    def _sampling(self, call: Call, prompt_tokens: int):
        """One sample of one request as vLLM sampling parameters (pure temperature sampling)."""
        from vllm.sampling_params import RequestOutputKind, SamplingParams, StructuredOutputsParams

        request = call.request
        budget = min(request.max_tokens, self.n_ctx - prompt_tokens)
        if budget <= 0:
            raise CallFailed(f"prompt of {prompt_tokens} tokens does not fit n_ctx {self.n_ctx}")
        structured = None if request.json_schema is None else StructuredOutputsParams(json=request.json_schema)
        # Stop strings stay in the text so that `_finish` cuts text and tokens together.
        return SamplingParams(n=1, temperature=request.temperature, top_p=1.0, top_k=0, min_p=0.0,
                              seed=call.seed, max_tokens=budget, stop=list(request.stop) or None,
                              include_stop_str_in_output=True, logprobs=0, structured_outputs=structured,
                              output_kind=RequestOutputKind.FINAL_ONLY)

    def _result(self, call: Call, prompt_tokens: int, completion) -> dict:
        tokens = list(completion.token_ids)
        logprobs = [step[token].logprob for step, token in zip(completion.logprobs, tokens, strict=True)]
        return self._finish(call.request, prompt_tokens, tokens, logprobs)

    def close(self) -> None:
        if self._llm is not None:
            self._llm.llm_engine.engine_core.shutdown()
            self._llm = None
        super().close()


def _start_engine(path: str, n_ctx: int, *, dtype: str, tensor_parallel_size: int, gpu_memory_utilization: float,
                  kv_cache_gib: float | None):
    """A `vllm.LLM` for the checkpoint; on a CPU: fp32, a bounded KV cache, every core, eager, no chunked prefill."""
    import torch

    os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
    try:
        from vllm import LLM
    except ImportError:
        raise TunaError("provider 'vllm' needs vLLM: pip install -e '.[vllm]' (CPU) or pip install vllm (GPU)") from None
    args = {}
    if not torch.cuda.is_available():
        # bf16 is very slow on CPUs without AMX; vLLM's CPU default would keep the checkpoint's dtype.
        dtype = "float32" if dtype == "auto" else dtype
        if kv_cache_gib is None and not os.environ.get("VLLM_CPU_KVCACHE_SPACE"):
            kv_cache_gib = CPU_KV_CACHE_GIB  # else vLLM reserves gpu_memory_utilization of the machine's RAM
        # vLLM keeps one core for its scheduler by default: half the machine on two cores.
        os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")
        # A partial (chunked) prefill rewinds a seeded request's random generator, which
        # CPU generators cannot do (vLLM 0.32: "CPU Generator does not use offset").
        args["enable_chunked_prefill"] = False
        # torch.compile's warm-up takes minutes on a small CPU; eager mode starts in about one.
        args["enforce_eager"] = True
    if kv_cache_gib is not None:
        args["kv_cache_memory_bytes"] = int(kv_cache_gib * 2**30)
    try:
        return LLM(model=path, dtype=dtype, max_model_len=n_ctx, tensor_parallel_size=tensor_parallel_size,
                   gpu_memory_utilization=gpu_memory_utilization, logprobs_mode="raw_logprobs", seed=0, **args)
    except (ValueError, RuntimeError) as exc:
        raise TunaError(f"{path}: vLLM cannot start on it ({str(exc).splitlines()[0]})") from exc
