"""Proxy ranking model (PRM, Sec. 2.4): learn the judge's ranks, then rank what it did not see.

A causal LM backbone reads `prompt + response` and a linear head turns the hidden
state of the last token into a scalar score. Training uses the judge's orders with
a pairwise logistic loss (every ranked pair of one instruction, -log sigmoid(s_better -
s_worse); tuna.train.ranks: any number of responses, none paired within a tie group),
so one judged ranking of N responses without ties gives N(N-1)/2 comparisons. The paper trained StableLM-3B and LLaMA-7B this way to rank
the 39K instructions the GPT-4 judge did not see.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from tqdm import tqdm
from transformers import AutoModel, AutoTokenizer

from tuna.prompts import build_prompt
from tuna.records import Generation, Instruction, RankedCandidate, Ranking, answered
from tuna.train.ranks import ranked_pairs

HEAD_FILE = "score_head.safetensors"
PRM_CONFIG = "prm.json"


class ProxyRanker(torch.nn.Module):
    """Backbone + linear score head; `forward` returns one score per sequence."""

    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone
        self.head = torch.nn.Linear(backbone.config.hidden_size, 1)
        torch.nn.init.zeros_(self.head.bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """input_ids, attention_mask: (B, T), right-padded -> scores (B,)."""
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        last = attention_mask.sum(dim=1) - 1
        return self.head(hidden[torch.arange(hidden.shape[0]), last]).squeeze(-1)


def pairwise_loss(scores: torch.Tensor, ranks: list[int]) -> torch.Tensor:
    """scores: (N,) for one instruction's responses with their rank groups `ranks` (N,) ->
    mean over its ranked pairs (better j, worse k) of -log sigmoid(s_j - s_k)."""
    better, worse = torch.tensor(ranked_pairs(ranks), dtype=torch.long).reshape(-1, 2).unbind(1)
    return -F.logsigmoid(scores[better] - scores[worse]).mean()


class PRM:
    """A trained or loadable proxy ranker with its tokenizer and prompt template."""

    def __init__(self, model: ProxyRanker, tokenizer, template: str, max_length: int):
        self.model, self.tokenizer, self.template, self.max_length = model, tokenizer, template, max_length

    @classmethod
    def from_backbone(cls, checkpoint: Path, template: str, max_length: int, seed: int) -> PRM:
        torch.manual_seed(seed)
        tokenizer = AutoTokenizer.from_pretrained(checkpoint)
        backbone = AutoModel.from_pretrained(checkpoint, dtype=torch.float32)
        return cls(ProxyRanker(backbone), tokenizer, template, max_length)

    @classmethod
    def load(cls, directory: Path) -> PRM:
        settings = json.loads((directory / PRM_CONFIG).read_text())
        prm = cls.from_backbone(directory, settings["template"], settings["max_length"], seed=0)
        prm.model.head.load_state_dict(load_file(directory / HEAD_FILE))
        return prm

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.model.backbone.save_pretrained(directory, safe_serialization=True)
        self.tokenizer.save_pretrained(directory)
        save_file({k: v.contiguous() for k, v in self.model.head.state_dict().items()}, directory / HEAD_FILE)
        (directory / PRM_CONFIG).write_text(json.dumps({"template": self.template, "max_length": self.max_length}))

    def encode(self, instruction: str, input: str, responses: list[str]) -> dict[str, torch.Tensor]:
        """prompt + response (+ EOS) for each response, right-padded into one batch."""
        prompt = build_prompt(self.template, instruction, input, self.tokenizer.chat_template,
                              self.tokenizer.bos_token or "", self.tokenizer.eos_token or "")
        texts = [prompt + response + (self.tokenizer.eos_token or "") for response in responses]
        rows = [self.tokenizer(t, add_special_tokens=False)["input_ids"][-self.max_length:] for t in texts]
        width = max(len(row) for row in rows)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        return {
            "input_ids": torch.tensor([row + [pad] * (width - len(row)) for row in rows]),
            "attention_mask": torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in rows]),
        }

    def train(self, rankings: list[Ranking], lr: float, epochs: int, seed: int) -> list[float]:
        """Fit the judge's orders; returns the mean loss of each epoch."""
        usable = [r for r in rankings if len(set(r.ranks())) >= 2]  # at least one ranked pair
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=lr)
        order = random.Random(seed)
        history = []
        self.model.train()
        for epoch in range(epochs):
            order.shuffle(usable)
            total = 0.0
            for ranking in tqdm(usable, desc=f"prm epoch {epoch + 1}/{epochs}", file=sys.stderr, disable=None):
                batch = self.encode(ranking.instruction, ranking.input, [c.text for c in ranking.candidates])
                loss = pairwise_loss(self.model(**batch), ranking.ranks())
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item()
            history.append(total / max(len(usable), 1))
        return history

    @torch.no_grad()
    def rank(self, instructions: dict[str, Instruction], samples: list[Generation]) -> list[Ranking]:
        """Order each instruction's samples by PRM score, best first (source 'prm'); failed or empty
        samples are left out."""
        self.model.eval()
        out = []
        for generation in tqdm(samples, desc="prm rank", file=sys.stderr, disable=None):
            record = instructions[generation.id]
            usable = [c for c in generation.candidates if answered(c)]  # failed/empty: never ranked
            if not usable:
                continue
            scores = self.model(**self.encode(record.instruction, record.input, [c.text for c in usable])).tolist()
            ranked = sorted(zip(scores, range(len(usable)), strict=True), key=lambda pair: (-pair[0], pair[1]))
            out.append(Ranking(
                id=record.id, instruction=record.instruction, input=record.input, output=record.output,
                source="prm",
                candidates=[RankedCandidate(**usable[i].model_dump(), score=score) for score, i in ranked],
            ))
        return out
