"""The training loss: a ranking objective plus Eq. 6's MLE term, or plain MLE (Eq. 2).

The loss takes per-response summed token log-probs and token counts, never the model,
so it can be tested alone. The candidates of a micro-batch are ragged (any count per
example, ties allowed: tuna.train.ranks). With v = (1/|r|) sum_t log p(r_t | i, r_<t)
(response tokens + EOS):

    L = L_objective + lambda * L_MLE     (Eq. 6 for objective rank, lambda = mle_weight)

where L_objective is the ranking objective chosen (`objective`: rank, the Tuna loss of
Eq. 4-5; rrhf, listmle, dpo, simpo: tuna.train.objectives) and L_MLE is the token-mean
cross-entropy of the original response, i.e. -v_orig. Objective "mle" is plain
instruction tuning: L = L_MLE (the ranking unused).

L_MLE over a micro-batch of B examples:
  mle_target "original" (Eq. 6): -v_orig averaged over the B examples;
  mle_target "all" (the released code): the token-mean cross-entropy over every token of every
      response (candidates and original) of the micro-batch, pooled.
Objective rank's "gap_mean" reduction with "all" is the released loss at any micro-batch
size and candidate counts (per-example means equal it only at one example per
micro-batch); the trainer averages the micro-batch losses of an optimizer step, as the
released run's gradient averaging did.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from tuna.config.settings import REFERENCE_OBJECTIVES, Train
from tuna.train.objectives.dpo import dpo_loss
from tuna.train.objectives.listmle import listmle_loss
from tuna.train.objectives.rank import ranking_loss
from tuna.train.objectives.rrhf import best_response_loss, rrhf_loss
from tuna.train.objectives.simpo import simpo_loss

# The `train:` keys the loss reads (the others are the optimisation's).
LOSS_KEYS = ("objective", "margin", "mle_weight", "rank_reduction", "mle_target", "dpo_beta", "simpo_beta",
             "simpo_gamma", "listmle_temperature")


class LossParts(NamedTuple):
    loss: Tensor  # scalar, what is back-propagated
    rank: Tensor  # scalar, L_objective of the micro-batch (0 for objective mle)
    mle: Tensor  # scalar, L_MLE of the micro-batch


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
    """The objective of a `train:` section (its LOSS_KEYS; defaults and checks: tuna.config.settings.Train)
    on a micro-batch of examples."""

    def __init__(self, objective: str = "rank", **keys):
        super().__init__()
        self.settings = Train(objective=objective, **keys)
        self.objective, self.mle_weight, self.mle_target = objective, self.settings.mle_weight, self.settings.mle_target

    @classmethod
    def from_settings(cls, train: Train) -> TunaLoss:
        """The loss a `train:` section asks for."""
        return cls(**train.model_dump(include=set(LOSS_KEYS)))

    @property
    def ranked(self) -> bool:
        """Whether the loss learns from a ranking (every objective but mle)."""
        return self.objective != "mle"

    @property
    def uses_original(self) -> bool:
        """Whether the original response enters the loss (so must be scored): Train.uses_original."""
        return self.settings.uses_original

    @property
    def uses_candidates(self) -> bool:
        return self.ranked or self.mle_target == "all"

    @property
    def uses_reference(self) -> bool:
        """Whether the loss needs the frozen reference's log-probs of the candidates (DPO)."""
        return self.objective in REFERENCE_OBJECTIVES

    def forward(self, logps: Tensor, lengths: Tensor, ranks, original_logps: Tensor | None = None,
                original_lengths: Tensor | None = None, reference_logps: Tensor | None = None) -> LossParts:
        """logps, lengths: (C,) summed token log-probs and token counts of the candidates;
        ranks: their ragged ranking (tuna.train.ranks.Ranks); original_logps, original_lengths:
        (B,) of the original responses; reference_logps: (C,) the candidates' summed log-probs
        under the frozen reference (None when unused)."""
        zero = logps.new_zeros(())
        mle = zero
        if self.objective == "rrhf":  # RRHF's cross-entropy is on the best-ranked response
            mle = best_response_loss(logps / lengths, ranks)
        elif self.uses_original and self.mle_target == "original":
            mle = mle_loss(original_logps, original_lengths)
        elif self.uses_original:
            mle = mle_loss(torch.cat([logps, original_logps]), torch.cat([lengths, original_lengths]), "all")
        if not self.ranked:
            return LossParts(mle, zero, mle)
        objective = self._objective(logps, lengths, ranks, reference_logps)
        return LossParts(objective + self.mle_weight * mle, objective, mle)

    def _objective(self, logps: Tensor, lengths: Tensor, ranks, reference_logps: Tensor | None) -> Tensor:
        keys, v = self.settings, logps / lengths
        if self.objective == "rank":
            return ranking_loss(v, ranks, keys.margin, keys.rank_reduction)
        if self.objective == "rrhf":
            return rrhf_loss(v, ranks)
        if self.objective == "listmle":
            return listmle_loss(v, ranks, keys.listmle_temperature)
        if self.objective == "simpo":
            return simpo_loss(v, ranks, keys.simpo_beta, keys.simpo_gamma)
        if reference_logps is None:
            raise ValueError("objective dpo needs the reference log-probs of the candidates")
        return dpo_loss(logps, reference_logps, ranks, keys.dpo_beta)
