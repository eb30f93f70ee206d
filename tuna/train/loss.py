"""The Tuna objective (Li et al., 2023, arXiv 2310.13385, Eq. 4-6) and plain MLE (Eq. 2).

The loss takes per-response summed token log-probs and token counts, never the model,
so it can be tested alone. The candidates of a micro-batch are ragged (any count per
example, ties allowed: tuna.train.ranks). With v = (1/|r|) sum_t log p(r_t | i, r_<t)
(response tokens + EOS) and every ranked pair (j better than k, rank gap g = rank_k - rank_j):

    L_rank = sum over pairs max(0, v_k - v_j + m*g)     (Eq. 4-5, m = margin)
    L      = L_rank + lambda * L_MLE                     (Eq. 6, lambda = mle_weight)

where L_MLE is the token-mean cross-entropy of the original response, i.e. -v_orig.
objective "mle" is plain instruction tuning: L = L_MLE (margin, ranks unused).

Reductions over a micro-batch of B examples:
  rank_reduction "sum" (Eq. 4): each example's sum over its pairs, averaged over the B examples;
  rank_reduction "gap_mean" (the authors' released code): for each gap g, the mean hinge over
      all pairs of gap g in the micro-batch, summed over the gaps present;
  mle_target "original" (Eq. 6): -v_orig averaged over the B examples;
  mle_target "all" (the released code): the token-mean cross-entropy over every token of every
      response (candidates and original) of the micro-batch, pooled.
"gap_mean" with "all" is the released loss at any micro-batch size and candidate counts
(per-example means equal it only at one example per micro-batch); the trainer averages
the micro-batch losses of an optimizer step, as the released run's gradient averaging did.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from tuna.config.settings import MLE_TARGETS, OBJECTIVES, RANK_REDUCTIONS
from tuna.train.ranks import Ranks


class LossParts(NamedTuple):
    loss: Tensor  # scalar, what is back-propagated
    rank: Tensor  # scalar, L_rank of the micro-batch (0 for objective mle)
    mle: Tensor  # scalar, L_MLE of the micro-batch


def ranking_loss(v: Tensor, ranks: Ranks, margin: float, reduction: str = "sum") -> Tensor:
    """Eq. 4 on a micro-batch -> scalar.

    v: (C,) mean token log-prob of each candidate; ranks: their examples, rank groups and
    ranked pairs (P, 2) with gaps (P,).
    """
    better, worse = ranks.pairs.unbind(1)
    hinge = (v[worse] - v[better] + margin * ranks.gaps.to(v.dtype)).clamp(min=0)  # (P,)
    if reduction == "sum":
        return hinge.sum() / ranks.n_examples
    gaps, group = ranks.gaps.unique(return_inverse=True)
    totals = hinge.new_zeros(len(gaps)).index_add_(0, group, hinge)
    return (totals / group.bincount(minlength=len(gaps))).sum()


def mle_loss(logps: Tensor, lengths: Tensor, target: str = "original") -> Tensor:
    """L_MLE of a micro-batch -> scalar.

    logps: (R,) summed token log-probs and lengths: (R,) token counts (incl. EOS) of the
    responses it is taken over: the B originals (target "original": mean of the per-response
    token means) or every response of the micro-batch (target "all": pooled token mean).
    """
    if target == "original":
        return -(logps / lengths).mean()
    return -logps.sum() / lengths.sum()


class TunaLoss(nn.Module):
    """Eq. 6 (objective "rank") or Eq. 2 (objective "mle") on a micro-batch of examples."""

    def __init__(self, objective: str = "rank", margin: float = 0.1, mle_weight: float = 1.0,
                 rank_reduction: str = "sum", mle_target: str = "original"):
        super().__init__()
        for value, allowed in ((objective, OBJECTIVES), (rank_reduction, RANK_REDUCTIONS), (mle_target, MLE_TARGETS)):
            if value not in allowed:
                raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
        self.objective, self.margin, self.mle_weight = objective, margin, mle_weight
        self.rank_reduction, self.mle_target = rank_reduction, mle_target

    @classmethod
    def from_settings(cls, train) -> TunaLoss:
        """The loss a `train:` section (tuna.config.settings.Train) asks for."""
        return cls(train.objective, train.margin, train.mle_weight, train.rank_reduction, train.mle_target)

    @property
    def uses_original(self) -> bool:
        """Whether the original response enters the loss (so must be scored)."""
        return self.objective == "mle" or self.mle_weight > 0

    @property
    def uses_candidates(self) -> bool:
        return self.objective == "rank" or self.mle_target == "all"

    def forward(self, logps: Tensor, lengths: Tensor, ranks: Ranks, original_logps: Tensor | None = None,
                original_lengths: Tensor | None = None) -> LossParts:
        """logps, lengths: (C,) summed token log-probs and token counts of the candidates;
        ranks: their ragged ranking; original_logps, original_lengths: (B,) of the original
        responses (None when unused)."""
        zero = logps.new_zeros(())
        mle = zero
        if self.uses_original and self.mle_target == "original":
            mle = mle_loss(original_logps, original_lengths)
        elif self.uses_original:
            mle = mle_loss(torch.cat([logps, original_logps]), torch.cat([lengths, original_lengths]), "all")
        if self.objective == "mle":
            return LossParts(mle, zero, mle)
        rank = ranking_loss(logps / lengths, ranks, self.margin, self.rank_reduction)
        return LossParts(rank + self.mle_weight * mle, rank, mle)

