"""Held-out ranking agreement: does the model prefer what the teacher or judge preferred?

The premise of Tuna (Sec. 2.2): if the ranking puts r_j above r_k, the trained model
should give r_j the higher length-normalised log-likelihood v = log p(r|i) / |r|. On
instructions no model trained on, for each ranked example (any number of candidates,
at least two; tied candidates form no pair):

  pair_accuracy  fraction of its ranked pairs with v_j > v_k (0.5 is chance)
  kendall_tau    Kendall's tau-b between its rank groups and v
  spearman       Spearman's rho between its rank groups and v
  mean_margin    mean of v_j - v_k over its ranked pairs (the quantity Eq. 4 pushes above m(k-j))

each averaged over the examples (every example weighs the same, whatever its number of
candidates). `pair_accuracy_se` is the standard error of the per-example pair
accuracies, to tell a change from noise. The same statistics apply to any scorer, e.g. a
proxy ranking model.
"""

from __future__ import annotations

from pathlib import Path

import torch

from tuna.errors import TunaError
from tuna.evaluate.likelihood import score_file, write_result
from tuna.train.data import describe, load_examples
from tuna.train.loss import TunaLoss
from tuna.train.ranks import Ranks
from tuna.train.scoring import agreement_stats, candidate_means


def model_agreement(checkpoint: Path, ranked: Path, held_out: frozenset[str], template: str, max_length: int,
                    batch_size: int = 4) -> dict:
    """Agreement of a checkpoint with the ranks of `ranked` on its held-out examples (all
    examples when `held_out` is empty); per-example v_k are kept for inspection."""
    examples, sums, report = score_file(checkpoint, ranked, template, TunaLoss(mle_weight=0.0), max_length,
                                        held_out, bool(held_out), batch_size)
    v, ranks = candidate_means(examples, sums)
    per_example = v.split(torch.bincount(ranks.example, minlength=ranks.n_examples).tolist())
    return {**agreement_stats(v, ranks), "data": describe(report),
            "per_example": [{"id": e.id, "v": [round(x, 6) for x in row.tolist()]}
                            for e, row in zip(examples, per_example, strict=True)]}


def prm_agreement(prm_dir: Path, ranked: Path, held_out: frozenset[str], batch_size: int = 4) -> dict:
    """Agreement of a proxy ranking model's scores with the ranks of `ranked` (its judge's)
    on the held-out examples (all when `held_out` is empty) that have a ranked pair."""
    from tuna.ranking.prm import PRM

    prm = PRM.load(prm_dir)
    examples, report = load_examples(ranked, prm.tokenizer, prm.template, TunaLoss(mle_weight=0.0), prm.max_length,
                                     held_out=held_out, only_held_out=bool(held_out))
    if not examples:
        raise TunaError(f"{ranked}: no held-out ranking with two or more ranked candidates to score "
                        f"({describe(report)})")
    scores = prm.scores(examples, batch_size)
    result = agreement_stats(torch.cat(scores), Ranks.of([e.ranks for e in examples]))
    return {**result, "data": describe(report),
            "per_example": [{"id": e.id, "score": [round(v, 6) for v in row.tolist()]}
                            for e, row in zip(examples, scores, strict=True)]}


def evaluate_agreement(checkpoint: Path, ranked: Path, held_out: Path | None, template: str, max_length: int,
                       batch_size: int, model_name: str, data_name: str | None, out: Path) -> str:
    """Pair accuracy, Kendall tau, Spearman and mean margin of the model's length-normalised
    log-likelihoods (or a proxy ranking model's scores, with its own template and
    max_length) against the ranks of `ranked`."""
    from tuna.datasets import read_ids
    from tuna.ranking.prm import PRM_CONFIG

    ids = read_ids(held_out) if held_out else frozenset()
    if (checkpoint / PRM_CONFIG).exists():
        result = prm_agreement(checkpoint, ranked, ids)
    else:
        result = model_agreement(checkpoint, ranked, ids, template, max_length, batch_size)
    result = write_result(out, {"benchmark": "agreement", "model": model_name, "ranking": data_name or str(ranked)},
                          result, [ranked, checkpoint, held_out], template, max_length)
    return (f"{out}: {result['data']}; pair accuracy {result['pair_accuracy']:.3f} "
            f"(se {result['pair_accuracy_se'] or 0:.3f}), Kendall tau {result['kendall_tau'] or 0:.3f}, "
            f"mean margin {result['mean_margin']:.4f}")
