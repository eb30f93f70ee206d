"""The ranking objectives (tuna.train.objectives) on numbers worked out by hand, ties included,
and each one training a tiny llama whose held-out pair accuracy rises."""

import itertools
import json
import math

import pytest
import torch
from click.testing import CliRunner
from test_train_trainer import ranked_file
from test_train_validation import HELD_OUT
from tiny_llama import save_tiny_checkpoint

from tuna.cli import main
from tuna.config.settings import Train
from tuna.train.data import Example
from tuna.train.forward import pack
from tuna.train.loss import TunaLoss
from tuna.train.objectives.dpo import dpo_loss
from tuna.train.objectives.listmle import listmle_loss
from tuna.train.objectives.rrhf import best_response_loss, rrhf_loss
from tuna.train.objectives.simpo import simpo_loss
from tuna.train.ranks import Ranks

LN2, LN3 = math.log(2), math.log(3)


def test_rrhf_by_hand():
    # Example 0, ranks 0 1 2: pairs (0,1) max(0, -0.5 + 1.0) = 0.5, (0,2) 0, (1,2) 0; best: -v0 = 1.0.
    # Example 1, ranks 0 0 1: pairs (0,2) 0.5 and (1,2) 2.5 (none between the tied 0 and 1, although
    # v1 > v0 would cost 1.0); best group {0, 1}: mean of 1.0 and 3.0 = 2.0. Means over the examples:
    # ranking (0.5 + 3.0) / 2 = 1.75, best (1.0 + 2.0) / 2 = 1.5.
    v = torch.tensor([-1.0, -0.5, -2.0, -1.0, -3.0, -0.5], requires_grad=True)
    ranks = Ranks.of([[0, 1, 2], [0, 0, 1]])
    assert rrhf_loss(v, ranks).item() == pytest.approx(1.75)
    assert best_response_loss(v, ranks).item() == pytest.approx(1.5)
    (rrhf_loss(v, ranks) + best_response_loss(v, ranks)).backward()
    # dL/dv, halved by the mean over 2 examples: example 0: v0 -1 (hinge) -1 (best), v1 +1; example 1:
    # v0 -1 (hinge) -0.5 (best), v1 -1 -0.5, v2 +2
    assert v.grad.tolist() == pytest.approx([-1.0, 0.5, 0.0, -0.75, -0.75, 1.0])


def test_rrhf_cross_entropy_is_on_the_best_response_so_it_needs_no_original():
    logps, lengths, ranks = torch.tensor([-2.0, -3.0, -8.0]), torch.tensor([1, 2, 4]), Ranks.of([[0, 1, 2]])
    parts = TunaLoss("rrhf", mle_weight=0.5)(logps, lengths, ranks)  # no original given
    assert parts.rank.item() == pytest.approx(0.5) and parts.mle.item() == pytest.approx(2.0)  # -v of the best
    assert parts.loss.item() == pytest.approx(0.5 + 0.5 * 2.0)
    assert not TunaLoss("rrhf").uses_original and TunaLoss("simpo").uses_original
    assert not TunaLoss("simpo", mle_weight=0).uses_original and TunaLoss("mle", mle_weight=0).uses_original
    with pytest.raises(ValueError, match="mle_target\n.*objective rrhf's cross-entropy is on the best-ranked"):
        Train(objective="rrhf", mle_target="all")


def test_listmle_by_hand():
    s = [LN3, LN2, 0.0]  # exp: 3, 2, 1
    # P(order) = 3/6 * 2/3 * 1/1 = 1/3
    assert listmle_loss(torch.tensor(s), Ranks.of([[0, 1, 2]])).item() == pytest.approx(LN3)
    # the temperature divides v: v = s / 2 at temperature 0.5 is the same likelihood
    assert listmle_loss(torch.tensor(s) / 2, Ranks.of([[0, 1, 2]]), temperature=0.5).item() == pytest.approx(LN3)
    # Breslow ties. Last two tied: 3/6, then each of the group against the group: 2/3 and 1/3 -> 1/9.
    assert listmle_loss(torch.tensor(s), Ranks.of([[0, 1, 1]])).item() == pytest.approx(math.log(9))
    # First two tied: each against all three, 3/6 and 2/6, then 1/1 -> 1/6.
    assert listmle_loss(torch.tensor(s), Ranks.of([[0, 0, 1]])).item() == pytest.approx(math.log(6))
    # A group's order does not matter.
    assert listmle_loss(torch.tensor([LN3, 0.0, LN2]), Ranks.of([[0, 1, 1]])).item() == pytest.approx(math.log(9))


def plackett_luce_nll(scores):
    """-log P of the order 0, 1, ..., n-1, written as the product of choices."""
    return -sum(scores[i] - math.log(sum(math.exp(x) for x in scores[i:])) for i in range(len(scores)))


def test_listmle_without_ties_is_the_plackett_luce_likelihood_per_example():
    generator = torch.Generator().manual_seed(0)
    counts = [4, 2, 3]
    v = torch.randn(sum(counts), generator=generator, dtype=torch.float64)
    rows = v.split(counts)
    expected = sum(plackett_luce_nll((row / 0.7).tolist()) for row in rows) / len(counts)
    assert listmle_loss(v, Ranks.of([list(range(n)) for n in counts]), 0.7).item() == pytest.approx(expected)
    # Plackett-Luce: the likelihoods of the orders of one example sum to 1.
    row = rows[0].tolist()
    total = sum(math.exp(-plackett_luce_nll([row[i] for i in order])) for order in itertools.permutations(range(4)))
    assert total == pytest.approx(1.0)


def test_dpo_by_hand():
    logps = torch.tensor([-10.0, -12.0, -9.0], requires_grad=True)
    reference = torch.tensor([-11.0, -11.0, -11.0])
    # rewards 0.1 * (logp - ref) = 0.1, -0.1, 0.2; pairs (0,1) (0,2) (1,2): margins 0.2, -0.1, -0.3;
    # -log sigma(z) = log(1 + e^-z): 0.598139, 0.744397, 0.854355; mean 0.732297
    loss = dpo_loss(logps, reference, Ranks.of([[0, 1, 2]]), beta=0.1)
    assert loss.item() == pytest.approx(0.732297, abs=1e-6)
    # Ties: no pair inside a group. Ranks 0 1 1: pairs (0,1) z = 0.2 and (0,2) z = -0.1 only; the tied
    # (1,2), z = -0.3, would cost 0.854355 -> mean (0.598139 + 0.744397) / 2.
    tied = dpo_loss(logps.detach(), reference, Ranks.of([[0, 1, 1]]), beta=0.1)
    assert tied.item() == pytest.approx((0.598139 + 0.744397) / 2, abs=1e-6)
    # At the reference every pair costs log 2, whatever the log-probs.
    assert dpo_loss(reference, reference, Ranks.of([[0, 1, 1]]), 0.1).item() == pytest.approx(LN2)
    loss.backward()
    sigma = [1 / (1 + math.exp(z)) for z in (0.2, -0.1, -0.3)]  # sigma(-z) of each pair
    expected = [-(sigma[0] + sigma[1]), sigma[0] - sigma[2], sigma[1] + sigma[2]]
    assert logps.grad.tolist() == pytest.approx([0.1 * g / 3 for g in expected])


def test_simpo_by_hand():
    v = torch.tensor([-1.0, -1.5, -1.0, -2.0], requires_grad=True)
    # 2 * (v_w - v_l) - 1: example 0: 0 -> log 2; example 1: 1 -> log(1 + e^-1) = 0.313262
    loss = simpo_loss(v, Ranks.of([[0, 1], [0, 1]]), beta=2.0, gamma=1.0)
    assert loss.item() == pytest.approx((LN2 + 0.313262) / 2, abs=1e-6)
    loss.backward()
    # d/dv_w = -beta * sigma(-z) / 2 examples: example 0 -2 * 0.5 / 2 = -0.5; example 1 -2 * 0.268941 / 2
    assert v.grad.tolist() == pytest.approx([-0.5, 0.5, -0.268941, 0.268941], abs=1e-6)
    # Ties: no pair inside a group. v -1.0 | -1.5, -1.2: pairs (0,1) z = 0 -> log 2 and (0,2) z = 2 * 0.2 - 1 = -0.6
    # -> log(1 + e^0.6) = 1.037488; the tied (1,2) makes none although -1.2 > -1.5.
    tied = simpo_loss(torch.tensor([-1.0, -1.5, -1.2]), Ranks.of([[0, 1, 1]]), 2.0, 1.0)
    assert tied.item() == pytest.approx((LN2 + 1.037488) / 2, abs=1e-6)


def test_every_objective_adds_the_mle_term_and_dpo_needs_its_reference():
    logps, lengths = torch.tensor([-2.0, -3.0, -8.0]), torch.tensor([1, 2, 4])  # v = -2, -1.5, -2
    ranks, original, original_lengths = Ranks.of([[0, 1, 2]]), torch.tensor([-9.0]), torch.tensor([3])  # -v = 3
    expected = {  # objective's value, its MLE term: Eq. 6's of the original, RRHF's of the best response
        "rank": (0.6 + 0.2, 3.0),  # (0,1) 0.5 + 0.1, (0,2) 0 + 0.2, (1,2) -0.5 + 0.1 < 0
        "rrhf": (0.5, 2.0),  # (0,1) 0.5; -v of the best
        "simpo": ((2.126928 + 1.313262 + LN2) / 3, 3.0),  # z = 2 dv - 1: -2, -1, 0
        "listmle": (1.294377 + 0.474077, 3.0),  # logsumexp(-2, -1.5, -2) + 2, logsumexp(-1.5, -2) + 1.5
    }
    for objective, (value, mle) in expected.items():
        parts = TunaLoss(objective, mle_weight=0.5)(logps, lengths, ranks, original, original_lengths)
        assert parts.rank.item() == pytest.approx(value, abs=1e-6), objective
        assert parts.mle.item() == pytest.approx(mle) and parts.loss.item() == pytest.approx(value + 0.5 * mle)
    with pytest.raises(ValueError, match="objective dpo needs the reference log-probs"):
        TunaLoss("dpo")(logps, lengths, ranks, original, original_lengths)
    parts = TunaLoss("dpo", mle_weight=0.0)(logps, lengths, ranks, reference_logps=logps)
    assert parts.loss.item() == pytest.approx(LN2)
    parts = TunaLoss("dpo", mle_weight=0.5)(logps, lengths, ranks, original, original_lengths, logps)
    assert parts.mle.item() == pytest.approx(3.0) and parts.loss.item() == pytest.approx(LN2 + 1.5)


def test_a_key_of_another_objective_is_an_error():
    assert Train(objective="simpo", simpo_gamma=0.5).simpo_gamma == 0.5
    assert Train(objective="dpo", simpo_gamma=1.0).objective == "dpo"  # the default: nothing set
    for objective, key, value in (("dpo", "simpo_gamma", 0.5), ("rank", "dpo_beta", 0.2), ("simpo", "margin", 0.0),
                                  ("listmle", "rank_reduction", "gap_mean"), ("rrhf", "listmle_temperature", 2.0)):
        with pytest.raises(ValueError, match=f"{key}\n.*a key of objective .*, but the objective is {objective}"):
            Train(objective=objective, **{key: value})


def test_pack_carries_the_reference_log_probs_of_the_candidates():
    examples = [Example("a", [1, 2], [[3], [4, 5]], [6], reference=[-1.0, -2.0]),
                Example("b", [1], [[7], [8], [9]], [6], ranks=[0, 1, 1], reference=[-3.0, -4.0, -5.0])]
    inputs = pack(examples).loss_inputs(torch.zeros(7))
    assert inputs["reference_logps"].tolist() == [-1.0, -2.0, -3.0, -4.0, -5.0]
    assert pack([Example("c", [1], [[2], [3]], None)]).loss_inputs(torch.zeros(2))["reference_logps"] is None
    with pytest.raises(ValueError, match="every example or none has reference log-probs"):
        pack([examples[0], Example("c", [1], [[2], [3]], [6])])


OBJECTIVES = ("rank", "rrhf", "listmle", "dpo", "simpo")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A tiny llama, 8 ranked training examples (shortest first) and 4 held-out ones ranked alike."""
    tmp = tmp_path_factory.mktemp("objectives")
    held_out = tmp / "held_out.jsonl"
    held_out.write_text("".join(json.dumps({"id": i, "instruction": "?"}) + "\n" for i in sorted(HELD_OUT)))
    return save_tiny_checkpoint(tmp / "init"), ranked_file(tmp / "ranked.jsonl", 12), held_out, tmp


def invoke(*args):
    result = CliRunner().invoke(main, [*map(str, args)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_each_objective_raises_the_held_out_pair_accuracy(data, objective):
    init, ranked, held_out, tmp = data
    out, extra = tmp / objective, []
    if objective == "dpo":
        reference = tmp / "reference.jsonl"
        output = invoke("reference", "--init", init, "--data", ranked, "--held-out", held_out, "-o", reference)
        assert "reference log-probs of 32 candidates of 8 of 12 examples kept" in output
        extra = ["--reference", reference]
    invoke("train", "--init", init, "--data", ranked, "--held-out", held_out, "-o", out, "--objective", objective,
           "--lr", "1e-2", "--epochs", 4, "--batch-size", 4, "--warmup-steps", 0, *extra)
    validation = json.loads((out / "validation.json").read_text())
    assert validation["after"]["pair_accuracy"] > validation["before"]["pair_accuracy"] + 0.3, validation
    stamp = json.loads((out / "provenance.json").read_text())
    assert stamp["params"]["objective"] == objective and all(step["pair_accuracy"] is not None for step in stamp["log"])


def test_dpo_without_its_reference_or_with_another_is_a_one_line_error(data):
    init, ranked, held_out, tmp = data

    def train(*extra):
        return CliRunner().invoke(main, ["train", "--init", init, "--data", ranked, "-o", tmp / "bad", "--objective",
                                         "dpo", "--batch-size", 4, *map(str, extra)])

    result = train()
    assert result.exit_code == 1 and "objective dpo trains against a frozen reference: give --reference" in result.output
    short = tmp / "short.jsonl"  # responses cut at another max_length: other tokens
    invoke("reference", "--init", init, "--data", ranked, "--held-out", held_out, "--max-length", 24, "-o", short)
    result = train("--held-out", held_out, "--reference", short)
    assert result.exit_code == 1 and f"{short}: example x0: candidate 1 was scored with other tokens" in result.output
    result = train("--max-length", 24, "--reference", short)  # made without the held-out examples
    assert result.exit_code == 1 and f"{short}: no reference log-probs of example x8" in result.output
    assert not (tmp / "bad").exists()
