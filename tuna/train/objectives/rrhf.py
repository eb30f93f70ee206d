"""RRHF (Yuan et al., 2023, "RRHF: Rank Responses to Align Language Models with Human
Feedback without tears", arXiv 2304.05302).

With p the length-normalised log-prob of a response (v here), for every ranked pair
(j better than k) and the best-ranked response b:

    L_rank = sum over pairs max(0, v_k - v_j)          (no margin: any order violation costs)
    L_ft   = -v_b                                      (cross-entropy of the best response)
    L      = L_rank + L_ft

L_ft is the token mean of the best response's cross-entropy, on the same scale as Tuna's
MLE term (the paper writes the token sum). Ties: no pair inside a group; when several
candidates share the best rank, L_ft is the mean over them. Per example, averaged over
the micro-batch's examples.
"""

from __future__ import annotations

from torch import Tensor

from tuna.train.ranks import Ranks


def rrhf_loss(v: Tensor, ranks: Ranks) -> Tensor:
    """v: (C,) mean token log-prob of each candidate; ranks: their ragged ranking -> scalar."""
    better, worse = ranks.pairs.unbind(1)
    ranking = (v[worse] - v[better]).clamp(min=0).sum()  # (P,) hinges, summed
    best = ranks.rank == 0  # (C,) the best group of each example
    count = ranks.example[best].bincount(minlength=ranks.n_examples).to(v.dtype)  # (B,)
    fine_tune = -(v[best] / count[ranks.example[best]]).sum()  # each example's mean over its best group
    return (ranking + fine_tune) / ranks.n_examples
