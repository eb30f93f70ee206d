"""Proxy ranking model (PRM, Sec. 3.1, Appendix D): learn the judge's ranks, then rank every instruction.

A causal LM's backbone (without its LM head) reads each response after the prompt, and
a linear head turns the hidden state of the response's last token (its EOS) into a
scalar score. All responses of an instruction go through one shared-prompt forward
(tuna.train.forward: one packed row [prompt, r0, r1, ...], each response attending to
the prompt and to itself only, with its own positions), so the prompt is encoded once
and a response's score is what it would be after the prompt alone. Responses are
tokenized as the trainer tokenizes them (tuna.train.data: template, EOS, max_length).

Training (tuna.ranking.prm_training) fits the judge's orders with a pairwise logistic
loss: every ranked pair of an instruction (tuna.train.ranks: any number of responses,
none paired within a tie group), -log sigmoid(s_better - s_worse), averaged per
instruction, so one judged ranking of N responses without ties gives N(N-1)/2
comparisons. The paper trained StableLM-3B and LLaMA-7B on the 13K GPT-4 ranks to
re-rank Alpaca's responses on all 52K instructions (its -52K models learn from PRM ranks
only, its -39K models from the 13K judge ranks plus the PRM's of the last 39K; the
paper does not say how a PRM is trained: this objective is tuna's). Ranking and
held-out scoring run without gradients, several instructions per forward pass.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import Tensor, nn
from tqdm import tqdm

from tuna.records import Generation, Instruction, RankedCandidate, Ranking, answered, read_jsonl, write_jsonl
from tuna.train.data import Example, encode
from tuna.train.forward import use_shared_prompt_attention
from tuna.train.ranks import Ranks
from tuna.train.scoring import response_logprobs

HEAD_FILE = "score_head.safetensors"
PRM_CONFIG = "prm.json"


class ProxyRanker(nn.Module):
    """Backbone + linear score head: a packed micro-batch (tuna.train.forward.pack) -> one score per response (S,)."""

    def __init__(self, backbone: nn.Module):
        super().__init__()
        use_shared_prompt_attention(backbone)
        self.backbone = backbone
        self.head = nn.Linear(backbone.config.hidden_size, 1)
        nn.init.zeros_(self.head.bias)

    def forward(self, input_ids: Tensor, position_ids: Tensor, blocks: list, **_) -> Tensor:
        """Packed.inputs(): the rows, their positions and each row's response spans (the
        targets it also carries are the LM's, not needed here)."""
        hidden = self.backbone(input_ids=input_ids, position_ids=position_ids, use_cache=False,
                               shared_prompt_blocks=blocks).last_hidden_state
        width = input_ids.shape[1]
        ends = torch.tensor([row * width + end - 1 for row, (_, spans) in enumerate(blocks) for _, end in spans],
                            device=hidden.device)
        last = hidden.reshape(-1, hidden.shape[-1]).index_select(0, ends)
        return self.head(last.to(self.head.weight.dtype)).squeeze(-1).float()


def pairwise_loss(scores: Tensor, ranks: Ranks) -> Tensor:
    """scores: (C,) of a micro-batch's candidates with their ragged ranking -> the mean over
    its instructions of each one's mean over its ranked pairs of -log sigmoid(s_better - s_worse)."""
    better, worse = ranks.pairs.unbind(1)
    return ranks.per_example_mean(-F.logsigmoid(scores[better] - scores[worse])).mean()


def save(directory: Path, weights: dict[str, Tensor], tokenizer, template: str, max_length: int,
         backbone: nn.Module | None = None) -> None:
    """The head (from `weights`, the ranker's state dict), the tokenizer, the settings scoring needs,
    and the backbone: save_pretrained of `backbone` with the `backbone.` weights (None: it is in
    `directory` already, as a LoRA run's merged one)."""
    directory.mkdir(parents=True, exist_ok=True)
    if backbone is not None:
        body = {name.removeprefix("backbone."): w for name, w in weights.items() if name.startswith("backbone.")}
        backbone.save_pretrained(directory, state_dict=body, safe_serialization=True)
    head = {name.removeprefix("head."): w.float().contiguous() for name, w in weights.items()
            if name.startswith("head.")}
    save_file(head, directory / HEAD_FILE)
    tokenizer.save_pretrained(directory)
    (directory / PRM_CONFIG).write_text(json.dumps({"template": template, "max_length": max_length}))


class PRM:
    """A trained proxy ranker, loaded for scoring (on CUDA if present), with its tokenizer and prompt template."""

    def __init__(self, ranker: ProxyRanker, tokenizer, template: str, max_length: int):
        self.ranker, self.tokenizer, self.template, self.max_length = ranker, tokenizer, template, max_length

    @classmethod
    def load(cls, directory: Path, precision: str = "fp32") -> PRM:
        from transformers import AutoTokenizer

        from tuna.train.checkpoint import DTYPES, load_model

        settings = json.loads((directory / PRM_CONFIG).read_text())
        dtype = DTYPES[precision]
        ranker = ProxyRanker(load_model(directory, dtype, causal_lm=False))
        ranker.head.load_state_dict(load_file(directory / HEAD_FILE))
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        ranker = ranker.to(device=device, dtype=dtype).eval()
        return cls(ranker, AutoTokenizer.from_pretrained(directory), settings["template"], settings["max_length"])

    def example(self, record_id: str, instruction: str, input: str, texts: list[str], report: Counter) -> Example | None:
        """One instruction's responses, tokenized as in training (None: the prompt fills max_length)."""
        encoded = encode(self.tokenizer, self.template, instruction, input, texts, self.max_length, report)
        return None if encoded is None else Example(record_id, encoded[0], encoded[1], None)

    def scores(self, examples: list[Example], batch_size: int) -> list[Tensor]:
        """Each example's response scores, `batch_size` examples per forward pass, no gradients
        (scoring.response_logprobs batches any per-response scorer by packed length)."""
        return response_logprobs(self.ranker, examples, batch_size)

    def rank(self, instructions: dict[str, Instruction], samples: list[Generation], batch_size: int) -> tuple[
            list[Ranking], Counter]:
        """Each instruction's samples in PRM score order, best first (source 'prm'), and what was left
        out (failed or empty samples; instructions whose prompt fills max_length)."""
        report, entries = Counter(), []
        for generation in samples:
            record = instructions[generation.id]
            usable = [c for c in generation.candidates if answered(c)]  # failed/empty: never ranked
            report["failed or empty samples"] += len(generation.candidates) - len(usable)
            example = self.example(record.id, record.instruction, record.input, [c.text for c in usable], report)
            if usable and example is not None:
                entries.append((record, usable, example))
        chunks = [entries[i:i + 64 * batch_size] for i in range(0, len(entries), 64 * batch_size)]
        out = []
        for chunk in tqdm(chunks, desc="prm rank", unit="chunk", file=sys.stderr, disable=None):
            for (record, usable, _), scores in zip(chunk, self.scores([e for *_, e in chunk], batch_size), strict=True):
                ranked = sorted(zip(scores.tolist(), range(len(usable)), strict=True), key=lambda p: (-p[0], p[1]))
                out.append(Ranking(
                    id=record.id, instruction=record.instruction, input=record.input, output=record.output,
                    source="prm",
                    candidates=[RankedCandidate(**usable[i].model_dump(), score=score) for score, i in ranked]))
        return out, report


def rank_file(prm_dir: Path, instructions: Path, samples: list[Path], out: Path, part: str = "all",
              batch_size: int = 16, precision: str = "fp32") -> str:
    """The proxy ranking model's ranks of the samples of the instructions in `part` (a slice of the
    instruction file, as `tuna mix-data` takes it: all, first:K, last:K, range:A:B), instruction order."""
    from tuna import provenance
    from tuna.mixture import take

    chosen = take(read_jsonl(instructions, Instruction), part, str(instructions))
    records = {r.id: r for r in chosen}
    sampled = [g for path in samples for g in read_jsonl(path, Generation) if g.id in records]
    position = {record_id: index for index, record_id in enumerate(records)}
    ranked, report = PRM.load(prm_dir, precision).rank(records, sampled, batch_size)
    ranked.sort(key=lambda r: position[r.id])
    report["instructions not sampled"] = len(records) - len(sampled)
    excluded = {rule: count for rule, count in report.items() if count}
    write_jsonl(out, ranked)
    provenance.stamp([out], inputs=[prm_dir, instructions, *samples],
                     params={"slice": part, "batch_size": batch_size, "precision": precision},
                     extra={"excluded": excluded})
    left_out = ", ".join(f"{count} {rule}" for rule, count in excluded.items()) or "nothing"
    return f"{out}: {len(ranked)} PRM rankings of the {len(records)} instructions in {part}; left out: {left_out}"
