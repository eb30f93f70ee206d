"""transformers on a checkpoint directory (CPU in fp32, or a GPU): batched sampling with log-probs, scoring.

The calls of one `generate` are decoded `batch_size` sequences at a time (left padded,
similar prompt lengths together): one forward pass then serves the whole batch,
which on a CPU costs little more than one sequence. Each of a request's N samples is
its own row with its own seed: that is what `num_return_sequences` does inside
transformers (the prompt repeated N times), but it lets every row draw from its own
random generator, so a sample depends on its seed and not on its batch neighbours,
and a resumed job can decode just the samples its journal lacks. (Padding changes
float rounding slightly, so in rare near-ties a token can still differ from an
unbatched run.) Greedy decoding gives the same answers as one sequence at a time.
"""

from __future__ import annotations

import sys
from itertools import groupby

from tqdm import tqdm

from tuna.errors import TunaError
from tuna.llm.base import Call, Score
from tuna.llm.checkpoint import CheckpointProvider


class HFProvider(CheckpointProvider):
    kind = "hf"

    def __init__(self, model: str, *, template: str, batch_size: int, **common):
        super().__init__(model, template, **common)
        import torch
        from transformers import AutoModelForCausalLM

        if batch_size < 1:
            raise TunaError(f"{model}: batch_size must be at least 1 (got {batch_size})")
        self.torch = torch
        self.batch_size = batch_size
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.bfloat16 if self.device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
        self.lm = AutoModelForCausalLM.from_pretrained(self.path, dtype=dtype).to(self.device).eval()
        # Finished rows are filled with an end-of-sequence id, so `_finish` cuts them there.
        self.pad_id = min(self.eos_ids) if self.eos_ids else (self.tokenizer.pad_token_id or 0)

    def _run(self, calls: list[Call], record, desc: str) -> None:
        """Decode the calls in batches of the same sampling settings; journal each batch as it ends."""
        if any(call.request.json_schema is not None for call in calls):
            raise TunaError("provider 'hf' cannot constrain output to a JSON schema; use vllm, llamacpp or openai")
        prompts = {call.key: self.tokenize_prompt(call.payload["prompt"]) for call in calls}

        def settings(call: Call) -> tuple:
            return call.request.temperature, call.request.max_tokens, call.request.stop

        ordered = sorted(calls, key=lambda call: (settings(call), len(prompts[call.key])))
        with tqdm(total=len(calls), desc=desc, unit="call", file=sys.stderr, disable=None) as bar:
            for _, group in groupby(ordered, key=settings):
                group = list(group)
                for start in range(0, len(group), self.batch_size):
                    batch = group[start:start + self.batch_size]
                    for call, result in zip(batch, self._generate([prompts[call.key] for call in batch], batch), strict=True):
                        record(call, result)
                    bar.update(len(batch))

    def _generate(self, prompts: list[list[int]], batch: list[Call]) -> list[dict]:
        """One `generate` over left-padded prompts whose calls share temperature, max_tokens and stop."""
        from transformers import GenerationConfig, LogitsProcessorList

        torch, request = self.torch, batch[0].request
        width = max(map(len, prompts))
        inputs = torch.tensor([[self.pad_id] * (width - len(p)) + p for p in prompts], device=self.device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=self.device)
        sampler = RowSampler(request.temperature, [call.seed for call in batch], self.device)
        # Greedy over the sampler's output: it leaves each row only the token it picked.
        config = GenerationConfig(do_sample=False, max_new_tokens=request.max_tokens, pad_token_id=self.pad_id,
                                  eos_token_id=sorted(self.eos_ids) or None, stop_strings=list(request.stop) or None)
        with torch.no_grad():
            out = self.lm.generate(inputs, attention_mask=mask, generation_config=config,
                                   logits_processor=LogitsProcessorList([sampler]), tokenizer=self.tokenizer)
        new = out[:, width:].tolist()
        logprobs = torch.stack(sampler.logprobs, 1).tolist()
        return [self._finish(request, len(prompt), tokens, lps) for prompt, tokens, lps in zip(prompts, new, logprobs, strict=True)]

    def score(self, prompt: str, continuation: str) -> Score:
        torch = self.torch
        context = self.tokenize_prompt(prompt)
        target = self.tokenize_continuation(continuation)
        if not target:
            return Score(0.0, 0)
        ids = torch.tensor([context + target], device=self.device)
        with torch.no_grad():
            logits = self.lm(ids).logits[0, len(context) - 1:-1].float().log_softmax(-1)
        picked = logits[torch.arange(len(target)), torch.tensor(target, device=self.device)]
        return Score(float(picked.double().sum()), len(target))


class RowSampler:
    """A logits processor that picks every row's next token itself: a draw at `temperature`
    from the row's own seeded generator (argmax at temperature 0). It keeps the model's
    log-prob of the pick (log-softmax of the raw logits, the model's own distribution)
    and returns scores that leave only the picked token."""

    def __init__(self, temperature: float, seeds: list[int | None], device: str):
        import torch

        self.torch = torch
        self.temperature = temperature
        self.generators = []
        for seed in seeds:
            generator = torch.Generator(device)
            if seed is None:
                generator.seed()
            else:
                generator.manual_seed(seed)
            self.generators.append(generator)
        self.logprobs: list = []  # per step: the picked tokens' log-probs, one per row

    def __call__(self, input_ids, scores):
        torch = self.torch
        if self.temperature > 0:
            probs = (scores / self.temperature).softmax(-1)
            picks = torch.cat([torch.multinomial(row, 1, generator=generator)
                               for row, generator in zip(probs, self.generators, strict=True)])[:, None]
        else:
            picks = scores.argmax(-1, keepdim=True)
        self.logprobs.append(scores.log_softmax(-1).gather(1, picks)[:, 0])
        return torch.full_like(scores, float("-inf")).scatter_(1, picks, 0.0)
