"""RRHF (Yuan et al., 2023, "RRHF: Rank Responses to Align Language Models with Human
Feedback without tears", arXiv 2304.05302).

With p the length-normalised log-prob of a response (v here), for every ranked pair
(j better than k) and the best-ranked response b:

    L_rank = sum over pairs max(0, v_k - v_j)          (no margin: any order violation costs)
    L_ft   = -v_b                                      (cross-entropy of the best response)
    L      = L_rank + λ L_ft                           (λ = mle_weight, 1 in RRHF)

L_ft takes the place of Eq. 6's MLE term of the original response (tuna.train.loss), so
RRHF needs no original. It is the token mean of the best response's cross-entropy, on the
same scale as Tuna's MLE term (the paper writes the token sum). Ties: no pair inside a
group; when several candidates share the best rank, L_ft is the mean over them. Each term
per example, averaged over the micro-batch's examples.
"""

from __future__ import annotations

from torch import Tensor

from tuna.train.ranks import Ranks


def rrhf_loss(v: Tensor, ranks: Ranks) -> Tensor:
    """L_rank. v: (C,) mean token log-prob of each candidate; ranks: their ragged ranking -> scalar."""
    better, worse = ranks.pairs.unbind(1)
    return (v[worse] - v[better]).clamp(min=0).sum() / ranks.n_examples  # (P,) hinges, summed per example


def best_response_loss(v: Tensor, ranks: Ranks) -> Tensor:
    """L_ft: -v of each example's best group (the mean over a tied best group) -> scalar."""
    best = ranks.rank == 0  # (C,) the best group of each example
    count = ranks.example[best].bincount(minlength=ranks.n_examples).to(v.dtype)  # (B,)
    return -(v[best] / count[ranks.example[best]]).sum() / ranks.n_examples
