"""What the transformers and vLLM providers share: a checkpoint directory and its tokenizer.

Both engines see the same token ids (tokenized here, not by the engine), so a prompt
means the same to either, and both turn generated ids into an answer the same way
(end-of-sequence and stop strings cut, the model's log-probs of the kept tokens).
"""

from __future__ import annotations

from pathlib import Path

from tuna.errors import TunaError
from tuna.llm.base import Provider, Request, answer, cut_at_stop
from tuna.llm.llamacpp import file_identity


class CheckpointProvider(Provider):
    """A provider over a transformers checkpoint directory (config.json, tokenizer, weights)."""

    def __init__(self, model: str, template: str, **common):
        super().__init__(model, template, **common)
        from transformers import AutoTokenizer

        self.path = Path(model)
        if not (self.path / "config.json").is_file():
            raise TunaError(f"{model}: not a transformers checkpoint directory (no config.json)")
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.chat_template = self.tokenizer.chat_template
        self.bos_token = self.tokenizer.bos_token or ""
        self.eos_token = self.tokenizer.eos_token or ""
        self.eos_ids = _eos_ids(self.path, self.tokenizer)

    def identity(self) -> dict:
        files = sorted(p for p in self.path.iterdir() if p.suffix in (".json", ".safetensors", ".bin"))
        return {"provider": self.kind, "files": [file_identity(p) for p in files]}

    def tokenize_prompt(self, prompt: str) -> list[int]:
        ids = self.tokenizer(prompt, add_special_tokens=True)["input_ids"]
        bos = self.tokenizer.bos_token_id
        if bos is not None and len(ids) > 1 and ids[0] == ids[1] == bos:  # the template already wrote BOS
            ids = ids[1:]
        return ids

    def tokenize_continuation(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _decode(self, tokens: list[int]) -> str:
        return self.tokenizer.decode(tokens, skip_special_tokens=True)

    def _finish(self, request: Request, prompt_tokens: int, tokens: list[int], logprobs: list[float]) -> dict:
        """The answer for generated `tokens`: cut at the first end-of-sequence token (what
        follows it is padding) and at the first stop string."""
        finish = "length"
        for end, token in enumerate(tokens):
            if token in self.eos_ids:
                tokens, logprobs, finish = tokens[:end], logprobs[:end], "stop"
                break
        text, tokens, logprobs, stopped = cut_at_stop(tokens, logprobs, self._decode, request.stop)
        return answer(text, logprobs, "stop" if stopped else finish, prompt_tokens=prompt_tokens)


def _eos_ids(path: Path, tokenizer) -> set[int]:
    """Every token id that ends an answer: the generation config's and the tokenizer's."""
    from transformers import AutoConfig, GenerationConfig

    try:
        eos = GenerationConfig.from_pretrained(path).eos_token_id
    except OSError:  # no generation_config.json
        eos = AutoConfig.from_pretrained(path).eos_token_id
    ids = set(eos if isinstance(eos, list) else [] if eos is None else [eos])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids
