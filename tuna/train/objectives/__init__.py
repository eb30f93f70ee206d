"""The ranking objectives: what a model learns from ranked candidates, one module per paper.

Every objective takes the per-candidate log-probs of the shared-prompt packed forward
(tuna.train.forward: `Packed.loss_inputs`) and the ragged ranking of the micro-batch
(tuna.train.ranks), never the model, so each is tested alone on numbers worked out by
hand. With `logps` (C,) the summed token log-probs of the C candidates (response tokens +
EOS), `lengths` (C,) their token counts and v = logps / lengths (C,) the length-normalised
ones:

    rank     Tuna, Eq. 4-5 (Li et al., 2023)       hinge on every ranked pair of v, margin m per rank of distance
    rrhf     RRHF (Yuan et al., 2023)              hinge on every ranked pair of v + cross-entropy of the best
    listmle  ListMLE (Xia et al., 2008)            Plackett-Luce likelihood of the whole ranking of v / temperature
    dpo      DPO (Rafailov et al., 2023)           logistic loss on every ranked pair of logps - reference logps
    simpo    SimPO (Meng et al., 2024)             logistic loss on every ranked pair of v with a target margin

Ties (candidates sharing a rank group): pairwise objectives make no pair inside a group
(`Ranks.pairs`); Tuna's margin grows with the groups' rank difference (`Ranks.gaps`);
ListMLE takes a group as Breslow does (tuna.train.objectives.listmle). Each returns the
mean over the micro-batch's examples of one value per example, so every example weighs
the same whatever its number of candidates (except Tuna's `gap_mean`, the released code's
own pooling). tuna.train.loss adds Eq. 6's MLE term (`mle_weight`) to any of them.
"""
