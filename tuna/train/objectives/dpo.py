"""DPO (Rafailov et al., 2023, "Direct Preference Optimization: Your Language Model is
Secretly a Reward Model", arXiv 2305.18290, Eq. 7) on every ranked pair.

For a ranked pair (w better than l), with log π the summed (not length-normalised) token
log-probs of the trained model and log π_ref those of the frozen reference (the model's
init checkpoint, computed once: tuna.train.reference):

    L = -log σ(β [(log π(w) - log π_ref(w)) - (log π(l) - log π_ref(l))])

A ranking of n candidates gives every ranked pair (none inside a tie group); per example
the mean over its pairs, averaged over the examples, so an example weighs as one pair
of pairwise preference data does.
"""

from __future__ import annotations

from torch import Tensor
from torch.nn.functional import logsigmoid

from tuna.train.ranks import Ranks


def dpo_loss(logps: Tensor, reference_logps: Tensor, ranks: Ranks, beta: float) -> Tensor:
    """logps, reference_logps: (C,) summed token log-probs of each candidate under the model and
    the reference; ranks: their ragged ranking; beta: β -> scalar."""
    rewards = beta * (logps - reference_logps)  # (C,) DPO's implicit rewards
    better, worse = ranks.pairs.unbind(1)
    return ranks.per_example_mean(-logsigmoid(rewards[better] - rewards[worse])).mean()
