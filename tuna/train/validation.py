"""Validation during training: what the run did to the model on examples it never saw.

The held-out examples of the training data (`tuna train --held-out`: the ids of the
held-out split, ranked like the rest and never trained on) are scored with the
training forward, without gradients, before the first step and after the last. On
each: the agreement with the data's ranking (pair accuracy, Kendall tau, Spearman,
mean margin of the length-normalised v_k: tuna.evaluate.agreement) and the
token-level NLL of the reference responses (when the data has them). The change is
paired over the same examples: the mean per-example difference in pair accuracy with
its standard error, so a move can be told from noise. Every rank scores every
example (ZeRO-3 gathers parameters collectively); the main rank writes.
"""

from __future__ import annotations

from tuna.train.data import Example
from tuna.train.ranks import pair_agreement
from tuna.train.scoring import agreement_stats, candidate_means, response_logprobs


def validate(scorer, examples: list[Example], batch_size: int) -> dict:
    """Agreement with the ranking and NLL of the references of `examples` under `scorer`,
    with each example's pair accuracy for the paired change."""
    was_training = scorer.training
    scorer.eval()
    sums = response_logprobs(scorer, examples, batch_size)
    scorer.train(was_training)
    result = {}
    v, ranks = candidate_means(examples, sums)
    if ranks.n_examples:
        result = agreement_stats(v, ranks)
        result["per_example_accuracy"] = pair_agreement(v.double(), ranks)[0].tolist()
    references = [(e, s[-1]) for e, s in zip(examples, sums, strict=True) if e.original is not None]
    if references:
        tokens = sum(len(e.original) for e, _ in references)
        result["nll"] = -sum(s.item() for _, s in references) / tokens
        result["nll_tokens"] = tokens
    return result


def change(before: dict, after: dict) -> dict:
    """After minus before, paired over the same examples (pair accuracy with its standard error)."""
    from scipy import stats

    delta = {key: after[key] - before[key] for key in ("pair_accuracy", "kendall_tau", "spearman", "mean_margin", "nll")
             if before.get(key) is not None and after.get(key) is not None}
    if "per_example_accuracy" in before:
        differences = [a - b for a, b in zip(after["per_example_accuracy"], before["per_example_accuracy"], strict=True)]
        delta["pair_accuracy_se"] = float(stats.sem(differences)) if len(differences) > 1 else None
    return delta


def summary(before: dict, after: dict, examples: int, data: str) -> dict:
    """The checkpoint's validation.json: both measurements and their paired change."""
    return {"examples": examples, "data": data, "before": before, "after": after, "change": change(before, after)}
