"""llama.cpp in-process on a GGUF file: sampling with token log-probs, and continuation scoring.

Log-probs are read from the raw logits (log-softmax over the vocabulary), i.e. the
model's own probabilities, whatever temperature or grammar shaped the sampling.
Scoring decodes prompt and continuation ourselves instead of using
`create_completion(echo=True, logprobs=...)`, whose prompt log-probs are shifted by
one token for GGUFs that add no BOS (SmolLM2).
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from tuna.errors import TunaError
from tuna.llm.base import Call, CallFailed, Provider, Score, answer, cut_at_stop


def file_identity(path: Path) -> dict:
    """Name, size and modification time: a rebuilt model file gets new cache keys."""
    stat = path.stat()
    return {"file": path.name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def cpu_threads() -> int:
    """Threads for llama.cpp: the job's share (OMP_NUM_THREADS, which Snakemake sets from a
    rule's `threads`), else every core this process may use. llama.cpp's own default is half
    the cores, which leaves a 2-core machine at one thread."""
    return int(os.environ.get("OMP_NUM_THREADS") or len(os.sched_getaffinity(0)))


def log_softmax_at(logits: np.ndarray, token: int) -> float:
    values = logits.astype(np.float64)
    top = values.max()
    return float(values[token] - top - np.log(np.exp(values - top).sum()))


@contextmanager
def plain_weight_buffers():
    """Load models without llama.cpp's extra weight buffers (AMX/repacked layouts).

    On CPUs reporting AMX inside some VMs, decoding with AMX-repacked weights
    crashes the process (segfault in llama_decode); plain buffers are only a bit
    slower for prompt processing. Wraps the default model params that
    `llama_cpp.Llama` (and its server) start from.
    """
    import llama_cpp.llama_cpp as lib

    default = lib.llama_model_default_params

    def params():
        values = default()
        values.use_extra_bufts = False
        return values

    lib.llama_model_default_params = params
    try:
        yield
    finally:
        lib.llama_model_default_params = default


class LlamaCppProvider(Provider):
    kind = "llamacpp"

    def __init__(self, model: str, *, n_ctx: int, n_gpu_layers: int, template: str, **common):
        super().__init__(model, template, **common)
        import llama_cpp

        self.path = Path(model)
        if not self.path.is_file():
            raise TunaError(f"{model}: no such GGUF file")
        self._lib = llama_cpp
        if n_gpu_layers and not llama_cpp.llama_supports_gpu_offload():
            print(f"warning: n_gpu_layers={n_gpu_layers} is ignored: this llama-cpp-python build cannot offload "
                  "to a GPU (README: install it with CMAKE_ARGS=\"-DGGML_CUDA=on\")", file=sys.stderr)
        try:
            with plain_weight_buffers():
                self.llm = llama_cpp.Llama(model_path=str(self.path), n_ctx=n_ctx, n_gpu_layers=n_gpu_layers,
                                           n_threads=cpu_threads(), n_threads_batch=cpu_threads(), verbose=False)
        except ValueError as exc:
            raise TunaError(f"{model}: llama.cpp cannot load it ({exc})") from exc
        self.n_vocab = self.llm.n_vocab()
        self.chat_template = self.llm.metadata.get("tokenizer.chat_template")
        self.bos_token = self._piece(self.llm.token_bos())
        self.eos_token = self._piece(self.llm.token_eos())

    def identity(self) -> dict:
        return {"provider": self.kind, **file_identity(self.path)}

    def _piece(self, token: int) -> str:
        return "" if token < 0 else self.llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def _decode(self, tokens: list[int]) -> str:
        return self.llm.detokenize(tokens).decode("utf-8", errors="replace")

    def tokenize_prompt(self, prompt: str) -> list[int]:
        """Prompt tokens with special tokens parsed; BOS added if the model wants one (once)."""
        tokens = self.llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        bos = self.llm.token_bos()
        if len(tokens) > 1 and tokens[0] == tokens[1] == bos:  # the template already wrote BOS
            tokens = tokens[1:]
        return tokens

    def tokenize_continuation(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def _last_logits(self) -> np.ndarray:
        return np.ctypeslib.as_array(self._lib.llama_get_logits_ith(self.llm.ctx, -1), shape=(self.n_vocab,))

    def _answer(self, call: Call) -> dict:
        request = call.request
        prompt = self.tokenize_prompt(call.payload["prompt"])
        budget = min(request.max_tokens, self.llm.n_ctx() - len(prompt))
        if budget <= 0:
            raise CallFailed(f"prompt of {len(prompt)} tokens does not fit n_ctx {self.llm.n_ctx()}")
        grammar = None
        if request.json_schema is not None:
            grammar = self._lib.LlamaGrammar.from_json_schema(json.dumps(request.json_schema), verbose=False)
        self.llm.set_seed(self._lib.LLAMA_DEFAULT_SEED if call.seed is None else call.seed)
        vocab = self.llm._model.vocab
        tokens: list[int] = []
        logprobs: list[float] = []
        finish = "length"
        # Pure temperature sampling (no top-k/top-p/min-p/penalties), as the paper's teacher.
        for token in self.llm.generate(prompt, top_k=0, top_p=1.0, min_p=0.0, typical_p=1.0,
                                       temp=request.temperature, repeat_penalty=1.0, grammar=grammar):
            if self._lib.llama_vocab_is_eog(vocab, token):
                finish = "stop"
                break
            logprobs.append(log_softmax_at(self._last_logits(), token))
            tokens.append(token)
            if request.stop:
                text, tokens, logprobs, stopped = cut_at_stop(tokens, logprobs, self._decode, request.stop)
                if stopped:
                    return answer(text, logprobs, "stop", prompt_tokens=len(prompt))
            if len(tokens) >= budget:
                break
        return answer(self._decode(tokens), logprobs, finish, prompt_tokens=len(prompt))

    def score(self, prompt: str, continuation: str) -> Score:
        """Decode the prompt, then the continuation with logits at every position."""
        context = self.tokenize_prompt(prompt)
        target = self.tokenize_continuation(continuation)
        if not target:
            return Score(0.0, 0)
        if len(context) + len(target) > self.llm.n_ctx():
            raise TunaError(f"{self.model}: prompt + continuation ({len(context) + len(target)} tokens) "
                            f"exceed n_ctx {self.llm.n_ctx()}")
        llm = self.llm
        llm.reset()
        llm.eval(context[:-1])
        inputs = [context[-1]] + target[:-1]  # position i predicts target[i]
        total = 0.0
        for start in range(0, len(inputs), llm.n_batch):
            chunk = inputs[start:start + llm.n_batch]
            llm._batch.set_batch(chunk, n_past=llm.n_tokens, logits_all=True)
            llm._ctx.decode(llm._batch)
            llm.n_tokens += len(chunk)
            rows = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(len(chunk), self.n_vocab))
            total += sum(log_softmax_at(row, token) for row, token in zip(rows, target[start:start + len(chunk)], strict=True))
        llm.reset()  # the KV cache no longer matches input_ids: never reuse it as a prefix
        return Score(total, len(target))
