"""Scoring without gradients: every response's log-prob under the training forward, and how
far a scorer's scores follow a ranking.

The trainer validates with these (tuna.train.validation) and the held-out evaluation
measures checkpoints with them (tuna.evaluate.agreement, tuna.evaluate.nll): the same
shared-prompt packed forward the trainer learns with, so a model is measured exactly as
it was trained (prompt template, EOS, max_length truncation). Examples are batched by
packed length so little of a batch is padding. The statistics are those of
tuna.evaluate.agreement's docstring.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from tuna.errors import TunaError
from tuna.train.data import Example
from tuna.train.forward import ResponseScorer, pack
from tuna.train.ranks import Ranks, pair_agreement


def load_scorer(checkpoint: Path, device: str | torch.device = "cpu") -> tuple[ResponseScorer, object]:
    """The checkpoint as a packed-row scorer in eval mode (fp32) on `device`, and its tokenizer."""
    from transformers import AutoTokenizer

    from tuna.train.checkpoint import load_model

    try:
        tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    except (OSError, ValueError) as exc:
        raise TunaError(f"{checkpoint}: cannot load the tokenizer ({exc})") from exc
    return ResponseScorer(load_model(checkpoint, torch.float32).eval()).to(device), tokenizer


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


def agreement_stats(scores: torch.Tensor, ranks: Ranks) -> dict:
    """scores: (C,) a model's score of each candidate; ranks: their examples, rank groups and ranked pairs."""
    from scipy import stats  # here: training without a held-out split never needs scipy

    accuracy, margin = pair_agreement(scores.double(), ranks)
    per_example = [(-ranks.rank[ranks.example == e].numpy(), scores[ranks.example == e].double().numpy())
                   for e in range(ranks.n_examples)]
    varied = [(reference, row) for reference, row in per_example if np.ptp(row) > 0]  # equal scores: no correlation
    taus = [stats.kendalltau(reference, row).statistic for reference, row in varied]
    rhos = [stats.spearmanr(reference, row).statistic for reference, row in varied]
    counts = torch.bincount(ranks.example, minlength=ranks.n_examples).tolist()
    return {
        "examples": ranks.n_examples,
        "candidates per example": {str(n): counts.count(n) for n in sorted(set(counts), reverse=True)},
        "pairs": len(ranks.pairs),
        "pair_accuracy": accuracy.mean().item(),
        "pair_accuracy_se": float(stats.sem(accuracy.numpy())) if len(accuracy) > 1 else None,
        "kendall_tau": _mean(taus),
        "spearman": _mean(rhos),
        "mean_margin": margin.mean().item(),
        "undefined_correlations": len(per_example) - len(varied),  # examples whose scores are all equal
    }


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None
