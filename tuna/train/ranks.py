"""Ragged rankings: any number of candidates per example, ties allowed.

A micro-batch of B examples holds C candidates in all, each example its own count, so
an example with 3 answered candidates trains beside one with 4. Objectives never see a
dense (B, N) grid; they see flat tensors over the candidates and the ranked pairs:

    example  (C,)    the example 0..B-1 each candidate belongs to
    rank     (C,)    its rank group in that example: 0 = best, tied candidates share one
    pairs    (P, 2)  candidate indices (better, worse) of one example with rank[better] < rank[worse]:
                     every ranked pair, never two candidates of one tie group
    gaps     (P,)    rank[worse] - rank[better] >= 1 (Eq. 4's k - j: the margin grows with it)

Pairwise objectives index scores with `pairs`; listwise ones group by `example` and order
by `rank`. The proxy ranking model (tuna.ranking.prm) and the agreement statistics
(tuna.evaluate.agreement) use the same pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor


def dense_ranks(ranks: Sequence[int]) -> list[int]:
    """Rank groups renumbered 0, 1, 2, ... keeping their order, so a group whose candidates
    were all left out (failed, empty) leaves no hole in the rank differences."""
    order = {rank: dense for dense, rank in enumerate(sorted(set(ranks)))}
    return [order[rank] for rank in ranks]


def ranked_pairs(ranks: Sequence[int]) -> list[tuple[int, int]]:
    """Every (better, worse) pair of positions with ranks[better] < ranks[worse]; none within a tie group."""
    return [(j, k) for j in range(len(ranks)) for k in range(len(ranks)) if ranks[j] < ranks[k]]


@dataclass(frozen=True)
class Ranks:
    """The ragged ranking of a micro-batch (shapes in the module doc)."""

    example: Tensor  # (C,) long
    rank: Tensor  # (C,) long
    pairs: Tensor  # (P, 2) long, indices into the C candidates
    gaps: Tensor  # (P,) long
    n_examples: int  # B

    @classmethod
    def of(cls, ranks: Sequence[Sequence[int]]) -> Ranks:
        """From each example's rank groups, its candidates in order (candidate indices run on
        across examples: example 0's first, then example 1's, ...)."""
        example, rank, pairs, first = [], [], [], 0
        for index, groups in enumerate(ranks):
            example += [index] * len(groups)
            rank += list(groups)
            pairs += [(first + j, first + k) for j, k in ranked_pairs(groups)]
            first += len(groups)
        rank_tensor = torch.tensor(rank, dtype=torch.long)
        pair_tensor = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2)
        return cls(torch.tensor(example, dtype=torch.long), rank_tensor, pair_tensor,
                   rank_tensor[pair_tensor[:, 1]] - rank_tensor[pair_tensor[:, 0]], len(ranks))

    def per_example_mean(self, values: Tensor) -> Tensor:
        """values: (P,) one per pair -> (B,) the mean over each example's pairs (NaN for an
        example without pairs)."""
        owner = self.example[self.pairs[:, 0]]
        totals = values.new_zeros(self.n_examples).index_add_(0, owner, values)
        return totals / torch.bincount(owner, minlength=self.n_examples).to(values.dtype)


def pair_agreement(scores: Tensor, ranks: Ranks) -> tuple[Tensor, Tensor]:
    """How far scores already follow the ranking. scores: (C,) -> per example (B,) the
    fraction of its ranked pairs with score[better] > score[worse], and (B,) the mean
    margin score[better] - score[worse]."""
    margins = scores[ranks.pairs[:, 0]] - scores[ranks.pairs[:, 1]]  # (P,)
    return ranks.per_example_mean((margins > 0).to(scores.dtype)), ranks.per_example_mean(margins)
