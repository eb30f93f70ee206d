"""Log-likelihoods of responses under a checkpoint, for the held-out agreement and NLL.

The same shared-prompt packed forward the trainer learns with (tuna.train.forward),
run without gradients: every response of an example is scored in one packed row, so
a model is measured exactly as it was trained (prompt template, EOS, max_length
truncation). Examples are batched by packed length so little of a batch is padding.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import torch

from tuna.errors import TunaError
from tuna.train.data import Example, load_examples
from tuna.train.forward import ResponseScorer, pack
from tuna.train.ranks import Ranks


def load_scorer(checkpoint: Path) -> tuple[ResponseScorer, object]:
    """The checkpoint as a packed-row scorer in eval mode (fp32), and its tokenizer."""
    from transformers import AutoTokenizer

    from tuna.train.backends import load_model

    try:
        tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    except (OSError, ValueError) as exc:
        raise TunaError(f"{checkpoint}: cannot load the tokenizer ({exc})") from exc
    return ResponseScorer(load_model(checkpoint, torch.float32).eval()), tokenizer


def response_logprobs(scorer: ResponseScorer, examples: list[Example], batch_size: int = 4) -> list[torch.Tensor]:
    """Per example, the summed log-prob of each of its responses (in `Example.responses` order)."""
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].prompt) + sum(map(len, examples[i].responses)))
    sums: list[torch.Tensor | None] = [None] * len(examples)
    device = next(scorer.parameters()).device
    with torch.no_grad():  # not inference_mode: ZeRO-3 gathers parameters during the forward
        for start in range(0, len(order), batch_size):
            ids = order[start:start + batch_size]
            packed = pack([examples[i] for i in ids])
            scores = scorer(**packed.inputs(device)).float().cpu()
            first = 0
            for i in ids:
                n = len(examples[i].responses)
                sums[i] = scores[first:first + n]
                first += n
    return sums


def candidate_means(examples: list[Example], sums: list[torch.Tensor]) -> tuple[torch.Tensor, Ranks]:
    """The candidates' mean token log-probs v (C,) of examples with candidates, and their ragged ranking."""
    ranked = [(e, s) for e, s in zip(examples, sums, strict=True) if e.candidates]
    v = [s[:len(e.candidates)] / torch.tensor([len(c) for c in e.candidates]) for e, s in ranked]
    return torch.cat(v) if v else torch.zeros(0), Ranks.of([e.ranks for e, _ in ranked])


def score_file(checkpoint: Path, data: Path, template: str, loss, max_length: int, held_out: frozenset[str],
               only_held_out: bool, batch_size: int) -> tuple[list[Example], list[torch.Tensor], Counter]:
    """Load a checkpoint, tokenize `data` as the trainer would and score every response."""
    scorer, tokenizer = load_scorer(checkpoint)
    examples, report = load_examples(data, tokenizer, template, loss, max_length, held_out=held_out,
                                     only_held_out=only_held_out)
    if not examples:
        raise TunaError(f"{data}: no usable examples to score ({dict(report)})")
    return examples, response_logprobs(scorer, examples, batch_size), report
