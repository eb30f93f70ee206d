"""The Tuna objective (Li et al., 2023, arXiv 2310.13385, Eq. 4-6) and plain MLE (Eq. 2).

The loss takes per-response *mean* token log-probs, never the model, so it can be
tested alone. For one example with candidates ranked best first r[0] > ... > r[N-1]:

    v_k    = (1/|r[k]|) * sum_t log p(r[k]_t | i, r[k]_<t)        (response tokens + EOS)
    L_rank = sum_{0<=j<k<=N-1} max(0, v_k - v_j + m*(k-j))         (Eq. 4, m = margin)
    L      = L_rank + lambda * L_MLE                                (Eq. 6, lambda = mle_weight)

where L_MLE is the token-mean cross-entropy of the original response, i.e. -v_orig.

Two options cover where the authors' released code differs from the paper:
  rank_reduction: "sum" (Eq. 4) or "gap_mean": for each rank gap g = k-j, the mean
      of the hinge over its N-g pairs, summed over gaps.
  mle_target: "original" (Eq. 6) or "all": token-mean cross-entropy over the
      candidates and the original together (token-weighted, as one pooled sequence).
objective "mle" is plain instruction tuning: L = L_MLE (margin, mle_weight unused).
The batch loss is the mean of the per-example losses.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from tuna.config.settings import MLE_TARGETS, OBJECTIVES, RANK_REDUCTIONS


class LossParts(NamedTuple):
    loss: Tensor  # scalar, what is back-propagated
    rank: Tensor  # scalar, batch mean of L_rank (0 for objective mle)
    mle: Tensor  # scalar, batch mean of L_MLE


def ranking_loss(scores: Tensor, margin: float, reduction: str = "sum") -> Tensor:
    """Eq. 4 per example. scores: (B, N) mean log-probs, best first -> (B,)."""
    n = scores.shape[1]
    per_gap = []
    for gap in range(1, n):
        hinge = torch.relu(scores[:, gap:] - scores[:, :-gap] + margin * gap)  # (B, N-gap)
        per_gap.append(hinge.sum(1) if reduction == "sum" else hinge.mean(1))
    if not per_gap:
        return scores.new_zeros(scores.shape[0])
    return torch.stack(per_gap, 1).sum(1)


def pair_agreement(scores: Tensor) -> tuple[Tensor, Tensor]:
    """How far the scores already follow the ranking. scores: (B, N) best first -> per example
    (B,) the fraction of pairs j<k with v_j > v_k, and (B,) the mean margin v_j - v_k."""
    j, k = torch.triu_indices(scores.shape[1], scores.shape[1], offset=1)
    margins = scores[:, j] - scores[:, k]  # (B, N(N-1)/2)
    return (margins > 0).to(scores.dtype).mean(1), margins.mean(1)


def mle_loss(candidates: Tensor, original: Tensor, candidate_lengths: Tensor | None = None,
             original_lengths: Tensor | None = None, target: str = "original") -> Tensor:
    """Token-mean cross-entropy per example -> (B,).

    candidates: (B, N) and original: (B,) mean log-probs; the lengths (same shapes,
    token counts incl. EOS) are needed only for target "all".
    """
    if target == "original":
        return -original
    logps = torch.cat([candidates, original[:, None]], 1)
    lengths = torch.cat([candidate_lengths, original_lengths[:, None]], 1).to(logps.dtype)
    return -(logps * lengths).sum(1) / lengths.sum(1)


class TunaLoss(nn.Module):
    """Eq. 6 (objective "rank") or Eq. 2 (objective "mle") on a batch of examples."""

    def __init__(self, objective: str = "rank", margin: float = 0.1, mle_weight: float = 1.0,
                 rank_reduction: str = "sum", mle_target: str = "original"):
        super().__init__()
        for value, allowed in ((objective, OBJECTIVES), (rank_reduction, RANK_REDUCTIONS), (mle_target, MLE_TARGETS)):
            if value not in allowed:
                raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
        self.objective, self.margin, self.mle_weight = objective, margin, mle_weight
        self.rank_reduction, self.mle_target = rank_reduction, mle_target

    @property
    def uses_original(self) -> bool:
        """Whether the original response enters the loss (so must be scored)."""
        return self.objective == "mle" or self.mle_weight > 0

    @property
    def uses_candidates(self) -> bool:
        return self.objective == "rank" or self.mle_target == "all"

    def forward(self, candidates: Tensor, original: Tensor | None = None, candidate_lengths: Tensor | None = None,
                original_lengths: Tensor | None = None) -> LossParts:
        """candidates: (B, N) mean log-probs best first; original: (B,) (None if unused)."""
        zero = candidates.new_zeros(())
        if self.uses_original:
            mle = mle_loss(candidates, original, candidate_lengths, original_lengths, self.mle_target).mean()
        else:
            mle = zero
        if self.objective == "mle":
            return LossParts(mle, zero, mle)
        rank = ranking_loss(candidates, self.margin, self.rank_reduction).mean()
        return LossParts(rank + self.mle_weight * mle, rank, mle)
