"""SimPO (Meng et al., 2024, "SimPO: Simple Preference Optimization with a Reference-Free
Reward", arXiv 2405.14734) on every ranked pair.

The reward of a response is its length-normalised log-prob scaled by β, and the better
response must win by a target margin γ. For a ranked pair (w better than l):

    L = -log σ(β v_w - β v_l - γ)

no reference model. Per example the mean over its ranked pairs (none inside a tie group),
averaged over the examples.
"""

from __future__ import annotations

from torch import Tensor
from torch.nn.functional import logsigmoid

from tuna.train.ranks import Ranks


def simpo_loss(v: Tensor, ranks: Ranks, beta: float, gamma: float) -> Tensor:
    """v: (C,) mean token log-prob of each candidate; ranks: their ragged ranking; beta: β,
    gamma: γ -> scalar."""
    better, worse = ranks.pairs.unbind(1)
    return ranks.per_example_mean(-logsigmoid(beta * (v[better] - v[worse]) - gamma)).mean()
