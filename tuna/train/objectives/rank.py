"""Tuna's ranking loss (Li et al., 2023, arXiv 2310.13385, Eq. 4-5).

For every ranked pair (j better than k, rank gap g = rank_k - rank_j >= 1):

    L_rank = sum over pairs max(0, v_k - v_j + m*g)

Reductions over a micro-batch of B examples: "sum" (Eq. 4): each example's sum over its
pairs, averaged over the B examples; "gap_mean" (the authors' released code): for each gap
g, the mean hinge over all pairs of gap g in the micro-batch, summed over the gaps present.
"""

from __future__ import annotations

from torch import Tensor

from tuna.train.ranks import Ranks


def ranking_loss(v: Tensor, ranks: Ranks, margin: float, reduction: str = "sum") -> Tensor:
    """Eq. 4 on a micro-batch -> scalar.

    v: (C,) mean token log-prob of each candidate; ranks: their examples, rank groups and
    ranked pairs (P, 2) with gaps (P,); margin: m.
    """
    better, worse = ranks.pairs.unbind(1)
    hinge = (v[worse] - v[better] + margin * ranks.gaps.to(v.dtype)).clamp(min=0)  # (P,)
    if reduction == "sum":
        return hinge.sum() / ranks.n_examples
    gaps, group = ranks.gaps.unique(return_inverse=True)
    totals = hinge.new_zeros(len(gaps)).index_add_(0, group, hinge)
    return (totals / group.bincount(minlength=len(gaps))).sum()
