"""Token-level NLL of the responses of an instruction-response file (the paper's Table 5).

Appendix A picks beta by the NLL Tuna_p models give a held-out instruction set (LIMA's
training set): the total negative log-likelihood of every response token (EOS
included) divided by the number of such tokens, under the model's own prompt template.
Any Alpaca-format file, or the held-out split of the workflow's instructions, works.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from tuna.evaluate.likelihood import score_file
from tuna.train.data import describe
from tuna.train.loss import TunaLoss


def response_nll(checkpoint: Path, data: Path, held_out: frozenset[str], template: str, max_length: int,
                 batch_size: int = 4) -> dict:
    """NLL per token of each example's reference response (`output`), pooled over the file
    (or over its held-out examples when `held_out` is given)."""
    examples, sums, report = score_file(checkpoint, data, template, TunaLoss(objective="mle"), max_length,
                                        held_out, bool(held_out), batch_size)
    total = -torch.cat(sums).sum().item()
    tokens = sum(len(e.original) for e in examples)
    return {"examples": len(examples), "tokens": tokens, "nll": total / tokens, "perplexity": math.exp(total / tokens),
            "data": describe(report)}
