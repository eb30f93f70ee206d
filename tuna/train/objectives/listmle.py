"""ListMLE (Xia et al., 2008, "Listwise Approach to Learning to Rank: Theory and Algorithm",
ICML): the negative log Plackett-Luce likelihood of the whole ranking.

With scores s = v / temperature and candidates in ranked order 1..n:

    L = -sum_i [ s_i - log sum_{k >= i} exp(s_k) ]

the probability of choosing the best candidate among all, then the next best among the
rest, and so on (the last candidate's term is 0).

Ties (candidates sharing a rank group) follow Breslow's approximation of a tied
likelihood (Breslow, 1974): each member of a group is chosen against every candidate
not ranked above it, its own group included, so the group's members are not ordered
among themselves. The likelihood is thus the same for every order of a group and, for a
group that ends the ranking, highest when its members score alike. Without ties it is
ListMLE exactly. Per example the sum over its candidates, averaged over the examples.
"""

from __future__ import annotations

import torch
from torch import Tensor

from tuna.train.ranks import Ranks


def listmle_loss(v: Tensor, ranks: Ranks, temperature: float = 1.0) -> Tensor:
    """v: (C,) mean token log-prob of each candidate; ranks: their ragged ranking;
    temperature: divides v -> scalar."""
    s = v / temperature  # (C,)
    # (C, C): candidate k is in candidate i's choice set: same example, not ranked above i
    rivals = (ranks.example[:, None] == ranks.example[None, :]) & (ranks.rank[None, :] >= ranks.rank[:, None])
    denominators = torch.where(rivals, s[None, :], torch.full_like(s, -torch.inf)[None, :]).logsumexp(1)  # (C,)
    return (denominators - s).sum() / ranks.n_examples
