"""transformers on a checkpoint directory (CPU in fp32, or a GPU): sampling with log-probs, scoring."""

from __future__ import annotations

from pathlib import Path

from tuna.errors import TunaError
from tuna.llm.base import Call, Provider, Score, answer, cut_at_stop
from tuna.llm.llamacpp import file_identity


class HFProvider(Provider):
    kind = "hf"

    def __init__(self, model: str, *, template: str = "chat", **common):
        super().__init__(model, template, **common)
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.path = Path(model)
        if not (self.path / "config.json").is_file():
            raise TunaError(f"{model}: not a transformers checkpoint directory (no config.json)")
        self.torch = torch
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.bfloat16 if self.device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.lm = AutoModelForCausalLM.from_pretrained(self.path, dtype=dtype).to(self.device).eval()
        self.chat_template = self.tokenizer.chat_template
        self.bos_token = self.tokenizer.bos_token or ""
        self.eos_token = self.tokenizer.eos_token or ""
        eos = self.lm.generation_config.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self.tokenizer.eos_token_id is not None:
            self.eos_ids.add(self.tokenizer.eos_token_id)

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

    def _answer(self, call: Call) -> dict:
        from transformers import GenerationConfig

        torch, request = self.torch, call.request
        if request.json_schema is not None:
            raise TunaError("provider 'hf' cannot constrain output to a JSON schema; use llamacpp or openai")
        prompt = self.tokenize_prompt(call.payload["prompt"])
        sample = request.temperature > 0
        config = GenerationConfig(
            do_sample=sample, temperature=request.temperature if sample else None, top_k=0, top_p=1.0,
            max_new_tokens=request.max_tokens, eos_token_id=sorted(self.eos_ids) or None,
            pad_token_id=self.tokenizer.pad_token_id or next(iter(self.eos_ids), 0),
            stop_strings=list(request.stop) or None, output_logits=True, return_dict_in_generate=True,
        )
        if call.seed is not None:
            torch.manual_seed(call.seed)
        inputs = torch.tensor([prompt], device=self.device)
        with torch.no_grad():
            out = self.lm.generate(inputs, attention_mask=torch.ones_like(inputs), generation_config=config,
                                   tokenizer=self.tokenizer)
        new = out.sequences[0, len(prompt):].tolist()
        steps = torch.stack(out.logits)[:, 0, :].float().log_softmax(-1)
        logprobs = steps[torch.arange(len(new)), torch.tensor(new)].tolist()
        finish = "length"
        if new and new[-1] in self.eos_ids:
            new, logprobs, finish = new[:-1], logprobs[:-1], "stop"
        text, new, logprobs, stopped = cut_at_stop(new, logprobs, self._decode, request.stop)
        return answer(text, logprobs, "stop" if stopped else finish, prompt_tokens=len(prompt))

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
