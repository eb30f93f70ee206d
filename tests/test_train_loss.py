"""The Tuna loss on ragged candidates against direct per-pair references, the released
formula written out plainly, and a gradient worked out by hand."""

import itertools
import random

import pytest
import torch

from tuna.config.settings import Train
from tuna.train.loss import TunaLoss, mle_loss
from tuna.train.objectives.rank import ranking_loss
from tuna.train.ranks import Ranks, dense_ranks, pair_agreement, ranked_pairs


def ragged_scores(counts, seed):
    """Random v of examples with `counts` candidates, as flat (C,) and as per-example lists."""
    generator = torch.Generator().manual_seed(seed)
    rows = [torch.randn(n, generator=generator, dtype=torch.float64).tolist() for n in counts]
    return torch.tensor([v for row in rows for v in row], dtype=torch.float64), rows


def test_ranked_pairs_and_ties():
    assert ranked_pairs([0, 1, 2]) == [(0, 1), (0, 2), (1, 2)]
    assert ranked_pairs([0, 1, 1, 2]) == [(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)]  # never (1, 2): tied
    assert ranked_pairs([0, 0]) == []
    assert dense_ranks([0, 2, 2, 5]) == [0, 1, 1, 2]
    ranks = Ranks.of([[0, 1, 1, 2], [0, 1]])
    assert ranks.example.tolist() == [0, 0, 0, 0, 1, 1] and ranks.rank.tolist() == [0, 1, 1, 2, 0, 1]
    assert ranks.pairs.tolist() == [[0, 1], [0, 2], [0, 3], [1, 3], [2, 3], [4, 5]]
    assert ranks.gaps.tolist() == [1, 1, 2, 1, 1, 1] and ranks.n_examples == 2


def reference_rank_sum(rows, margin):
    """Eq. 4 written pair by pair for each example (positions are the ranks), averaged over examples."""
    losses = [sum(max(0.0, row[k] - row[j] + margin * (k - j)) for j, k in itertools.combinations(range(len(row)), 2))
              for row in rows]
    return sum(losses) / len(losses)


@pytest.mark.parametrize("counts", [[2], [4, 4], [4, 3, 2, 5]])
def test_sum_reduction_equals_eq4_per_example(counts):
    v, rows = ragged_scores(counts, seed=len(counts))
    ranks = Ranks.of([list(range(n)) for n in counts])
    assert ranking_loss(v, ranks, 0.1).item() == pytest.approx(reference_rank_sum(rows, 0.1))


def test_ties_form_no_pair_and_the_margin_uses_the_rank_difference():
    v = torch.tensor([-1.0, -0.5, -0.4, -0.2])  # ranks 0, 1, 1, 2: every pair violated
    ranks = Ranks.of([[0, 1, 1, 2]])
    # pairs (0,1) (0,2) gap 1, (0,3) gap 2, (1,3) (2,3) gap 1; no (1,2) although -0.4 > -0.5
    expected = (0.5 + 0.1) + (0.6 + 0.1) + (0.8 + 0.2) + (0.3 + 0.1) + (0.2 + 0.1)
    assert ranking_loss(v, ranks, 0.1).item() == pytest.approx(expected)
    accuracy, margin = pair_agreement(v, ranks)
    assert accuracy.tolist() == [0.0] and margin.item() == pytest.approx(-(0.5 + 0.6 + 0.8 + 0.3 + 0.2) / 5)


def released_formula(examples, margin, mle_weight):
    """The authors' released loss (LMOps tuna/src/custom.py, TunaTrainer.compute_loss) written
    out plainly for one micro-batch: each example is (candidates, original), every response a
    list of token log-probs, candidates best first.

    MLE: the model's own loss with every response's tokens as labels, i.e. the mean over all
    response tokens of the micro-batch of -log p. Ranking: for each gap i, MarginRankingLoss
    with margin m*i and mean reduction over every (j, j+i) pair of every example, summed over i.
    """
    tokens = [t for candidates, original in examples for response in candidates + [original] for t in response]
    mle = -sum(tokens) / len(tokens)
    v = [[sum(response) / len(response) for response in candidates] for candidates, _ in examples]
    rank = 0.0
    for gap in range(1, max(len(row) for row in v)):
        hinges = [max(0.0, row[j + gap] - row[j] + margin * gap) for row in v for j in range(len(row) - gap)]
        if hinges:
            rank += sum(hinges) / len(hinges)
    return mle_weight * mle + rank


def token_examples(counts, seed):
    """Examples with `counts` candidates, each response a list of 1-9 token log-probs."""
    rng = random.Random(seed)

    def response():
        return [-rng.uniform(0.05, 4.0) for _ in range(rng.randint(1, 9))]

    return [([response() for _ in range(n)], response()) for n in counts]


def tuna_released_loss(examples, margin, mle_weight):
    """TunaLoss(rank_reduction gap_mean, mle_target all) on the same micro-batch."""
    sums = torch.tensor([sum(r) for candidates, _ in examples for r in candidates], dtype=torch.float64)
    lengths = torch.tensor([len(r) for candidates, _ in examples for r in candidates])
    original_sums = torch.tensor([sum(o) for _, o in examples], dtype=torch.float64)
    original_lengths = torch.tensor([len(o) for _, o in examples])
    ranks = Ranks.of([list(range(len(candidates))) for candidates, _ in examples])
    loss = TunaLoss("rank", margin=margin, mle_weight=mle_weight, rank_reduction="gap_mean", mle_target="all")
    return loss(sums, lengths, ranks, original_sums, original_lengths).loss.item()


@pytest.mark.parametrize("counts", [[4], [3], [4, 4, 4], [4, 2, 3], [3, 4, 2]])
def test_released_loss_equals_the_released_formula_at_any_micro_batch(counts):
    """Micro-batches of 1 and 3 examples, with equal and ragged candidate counts."""
    examples = token_examples(counts, seed=sum(counts))
    expected = released_formula(examples, margin=0.1, mle_weight=1.0)
    assert tuna_released_loss(examples, 0.1, 1.0) == pytest.approx(expected, rel=1e-12)
    if len(counts) > 1:
        # Per-example means (main's way, the mean of each example's released loss) differ here.
        per_example = sum(released_formula([e], 0.1, 1.0) for e in examples) / len(examples)
        assert abs(per_example - expected) > 1e-3


def test_mle_targets():
    # "original": mean over examples of -v_orig; "all": pooled token mean over every response.
    assert mle_loss(torch.tensor([-2.0, -6.0]), torch.tensor([1, 2])).item() == pytest.approx((2.0 + 3.0) / 2)
    pooled = mle_loss(torch.tensor([-2.0, -3.0, -2.0]), torch.tensor([2, 1, 1]), target="all")
    assert pooled.item() == pytest.approx(7 / 4)


def test_gradient_of_a_toy_case_by_hand():
    # Pairs (0,1): -0.8 - (-1.0) + 0.1 = 0.3 > 0 is active; (0,2) and (1,2) are below the margin.
    logps = torch.tensor([-1.0, -0.8, -1.5], requires_grad=True)  # one token each: v = logp
    lengths = torch.tensor([1, 1, 1])
    original = torch.tensor([-4.0], requires_grad=True)  # two tokens: v = -2
    ranks = Ranks.of([[0, 1, 2]])
    parts = TunaLoss("rank", margin=0.1, mle_weight=0.5)(logps, lengths, ranks, original, torch.tensor([2]))
    assert parts.rank.item() == pytest.approx(0.3) and parts.mle.item() == pytest.approx(2.0)
    assert parts.loss.item() == pytest.approx(0.3 + 0.5 * 2.0)
    parts.loss.backward()
    assert logps.grad.tolist() == [-1.0, 1.0, 0.0]
    assert original.grad.tolist() == [-0.25]  # d(0.5 * 4/2)/d(-4) per token mean

    logps.grad = None
    TunaLoss("rank", margin=0.1, mle_weight=0.0, rank_reduction="gap_mean")(logps, lengths, ranks).loss.backward()
    assert logps.grad.tolist() == [-0.5, 0.5, 0.0]  # gap 1 has two pairs, averaged


def test_batch_mean_and_mle_objective():
    # Example 0: 2 candidates, example 1: 3 candidates (one token each, so v = logp).
    logps = torch.tensor([-1.0, -0.5, -0.2, -2.0, -0.1])
    lengths = torch.ones(5, dtype=torch.long)
    ranks = Ranks.of([[0, 1], [0, 1, 2]])
    original, original_lengths = torch.tensor([-1.0, -3.0]), torch.tensor([1, 1])
    rank = TunaLoss("rank", margin=0.1, mle_weight=1.0)(logps, lengths, ranks, original, original_lengths)
    # example 0: (0,1) 0.6; example 1: (0,1) 0, (0,2) 0.1 + 0.2 = 0.3, (1,2) 1.9 + 0.1 = 2.0
    assert rank.rank.item() == pytest.approx((0.6 + 2.3) / 2)
    assert rank.loss.item() == pytest.approx(1.45 + 2.0)
    mle = TunaLoss("mle", mle_weight=9.0)(logps, lengths, ranks, original, original_lengths)
    assert mle.loss.item() == pytest.approx(2.0) and mle.rank.item() == 0.0


def test_from_settings_and_unknown_options():
    loss = TunaLoss.from_settings(Train(margin=0.2, mle_weight=0.5, rank_reduction="gap_mean", mle_target="all",
                                        lr=0.5))
    assert loss.settings == Train(margin=0.2, mle_weight=0.5, rank_reduction="gap_mean", mle_target="all")
    with pytest.raises(ValueError, match="rank_reduction\n  Input should be 'sum' or 'gap_mean'"):
        TunaLoss(rank_reduction="mean")
