"""The Tuna loss against a direct per-pair reference, and a gradient worked out by hand."""

import itertools

import pytest
import torch

from tuna.train.loss import TunaLoss, mle_loss, ranking_loss


def reference_rank(scores, margin, reduction):
    """Eq. 4 written pair by pair (sum), or averaged within each rank gap (gap_mean)."""
    losses = []
    for row in scores.tolist():
        pairs = {}
        for j, k in itertools.combinations(range(len(row)), 2):
            pairs.setdefault(k - j, []).append(max(0.0, row[k] - row[j] + margin * (k - j)))
        if reduction == "sum":
            losses.append(sum(sum(gap) for gap in pairs.values()))
        else:
            losses.append(sum(sum(gap) / len(gap) for gap in pairs.values()))
    return torch.tensor(losses, dtype=torch.float64)


@pytest.mark.parametrize("reduction", ["sum", "gap_mean"])
@pytest.mark.parametrize("n", [2, 4, 5])
def test_ranking_loss_equals_pairwise_reference(reduction, n):
    scores = torch.randn(16, n, generator=torch.Generator().manual_seed(n), dtype=torch.float64)
    torch.testing.assert_close(ranking_loss(scores, 0.1, reduction), reference_rank(scores, 0.1, reduction))


def test_mle_targets():
    candidates = torch.tensor([[-1.0, -3.0]])
    original = torch.tensor([-2.0])
    assert mle_loss(candidates, original).item() == 2.0
    # "all": token-weighted over candidates and original: (1*2 + 3*1 + 2*1) / 4 tokens.
    pooled = mle_loss(candidates, original, torch.tensor([[2, 1]]), torch.tensor([1]), target="all")
    assert pooled.item() == pytest.approx(7 / 4)


def test_gradient_of_a_toy_case_by_hand():
    # Pairs (0,1): -0.8 - (-1.0) + 0.1 = 0.3 > 0 is active; (0,2) and (1,2) are below the margin.
    candidates = torch.tensor([[-1.0, -0.8, -1.5]], requires_grad=True)
    original = torch.tensor([-2.0], requires_grad=True)
    parts = TunaLoss("rank", margin=0.1, mle_weight=0.5)(candidates, original)
    assert parts.rank.item() == pytest.approx(0.3) and parts.mle.item() == pytest.approx(2.0)
    assert parts.loss.item() == pytest.approx(0.3 + 0.5 * 2.0)
    parts.loss.backward()
    assert candidates.grad.tolist() == [[-1.0, 1.0, 0.0]]
    assert original.grad.tolist() == [-0.5]

    candidates.grad = None
    TunaLoss("rank", margin=0.1, mle_weight=0.0, rank_reduction="gap_mean")(candidates).loss.backward()
    assert candidates.grad.tolist() == [[-0.5, 0.5, 0.0]]  # gap 1 has two pairs, averaged


def test_batch_mean_and_mle_objective():
    candidates = torch.tensor([[-1.0, -0.5], [-0.2, -2.0]])
    original = torch.tensor([-1.0, -3.0])
    rank = TunaLoss("rank", margin=0.1, mle_weight=1.0)(candidates, original)
    assert rank.rank.item() == pytest.approx((0.6 + 0.0) / 2)
    assert rank.loss.item() == pytest.approx(0.3 + 2.0)
    mle = TunaLoss("mle", margin=5.0, mle_weight=9.0)(candidates, original)
    assert mle.loss.item() == pytest.approx(2.0) and mle.rank.item() == 0.0


def test_unknown_option_is_rejected():
    with pytest.raises(ValueError, match="'mean' is not one of sum, gap_mean"):
        TunaLoss(rank_reduction="mean")
