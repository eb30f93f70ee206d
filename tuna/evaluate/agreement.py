"""Held-out ranking agreement: does the model prefer what the teacher or judge preferred?

The premise of Tuna (Sec. 2.2): if the ranking puts r_j above r_k, the trained model
should give r_j the higher length-normalised log-likelihood v = log p(r|i) / |r|. On
instructions no model trained on, for each ranked example (candidates best first):

  pair_accuracy  fraction of pairs j<k with v_j > v_k (0.5 is chance), over all pairs
  kendall_tau    Kendall's tau-b between the ranking and v, per example, averaged
  spearman       Spearman's rho between the ranking and v, per example, averaged
  mean_margin    mean of v_j - v_k over all pairs j<k (the quantity Eq. 4 pushes above m(k-j))

`pair_accuracy_se` is the standard error of the per-example pair accuracies, to tell a
change from noise. The same statistics apply to any scorer, e.g. a proxy ranking model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from scipy import stats

from tuna.errors import TunaError
from tuna.evaluate.likelihood import score_file
from tuna.records import Ranking, read_jsonl
from tuna.train.data import common_count, describe
from tuna.train.loss import TunaLoss, pair_agreement


def agreement_stats(scores: torch.Tensor) -> dict:
    """scores: (B, N) a model's score of each example's candidates, in ranked order (best first)."""
    accuracy, margin = pair_agreement(scores.double())
    reference = -np.arange(scores.shape[1])
    per_example = scores.double().numpy()
    varied = [row for row in per_example if np.ptp(row) > 0]  # equal scores have no rank correlation
    taus = [stats.kendalltau(reference, row).statistic for row in varied]
    rhos = [stats.spearmanr(reference, row).statistic for row in varied]
    return {
        "examples": scores.shape[0],
        "candidates": scores.shape[1],
        "pairs": scores.shape[0] * scores.shape[1] * (scores.shape[1] - 1) // 2,
        "pair_accuracy": accuracy.mean().item(),
        "pair_accuracy_se": float(stats.sem(accuracy.numpy())) if len(accuracy) > 1 else None,
        "kendall_tau": _mean(taus),
        "spearman": _mean(rhos),
        "mean_margin": margin.mean().item(),
        "undefined_correlations": len(per_example) - len(varied),  # examples whose scores are all equal
    }


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def model_agreement(checkpoint: Path, ranked: Path, held_out: frozenset[str], template: str, max_length: int,
                    batch_size: int = 4) -> dict:
    """Agreement of a checkpoint with the ranks of `ranked` on its held-out examples (all
    examples when `held_out` is empty); per-example v_k are kept for inspection."""
    examples, sums, report = score_file(checkpoint, ranked, template, TunaLoss(mle_weight=0.0), max_length,
                                        held_out, bool(held_out), batch_size)
    means = torch.stack([s / torch.tensor([len(r) for r in e.responses]) for e, s in zip(examples, sums, strict=True)])
    return {**agreement_stats(means), "data": describe(report),
            "per_example": [{"id": e.id, "v": [round(v, 6) for v in row]} for e, row in zip(examples, means.tolist(), strict=True)]}


def prm_agreement(prm_dir: Path, ranked: Path, held_out: frozenset[str]) -> dict:
    """Agreement of a proxy ranking model's scores with the ranks of `ranked` (its judge's)
    on the held-out examples (all when `held_out` is empty), with at least two candidates."""
    from tuna.ranking.prm import PRM

    rankings = [r for r in read_jsonl(ranked, Ranking) if (not held_out or r.id in held_out) and len(r.candidates) > 1]
    if not rankings:
        raise TunaError(f"{ranked}: no held-out ranking with two or more candidates to score")
    n = common_count([len(r.candidates) for r in rankings])
    rankings = [r for r in rankings if len(r.candidates) == n]  # one N, as the trainer's data rule
    prm = PRM.load(prm_dir)
    prm.model.eval()
    with torch.inference_mode():
        scores = torch.stack([prm.model(**prm.encode(r.instruction, r.input, [c.text for c in r.candidates]))
                              for r in rankings])
    return {**agreement_stats(scores), "data": f"{len(rankings)} rankings with {n} candidates scored",
            "per_example": [{"id": r.id, "score": [round(v, 6) for v in row]} for r, row in zip(rankings, scores.tolist(), strict=True)]}
