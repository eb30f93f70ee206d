"""The proxy ranking model learns a judge's orders and re-ranks samples it did not see."""

from tuna.ranking.prm import PRM, pairwise_loss
from tuna.records import Candidate, Generation, Instruction, RankedCandidate, Ranking
from tiny_llama import save_tiny_checkpoint

import pytest
import torch

pytestmark = pytest.mark.slow

JUDGED_ORDER = ["Paris is the capital of France.", "The capital is Paris.", "one two three", "blue fox"]


def judged(i: int) -> Ranking:
    return Ranking(id=f"j{i}", instruction=f"Question {i}: what is the capital of France?", source="judge",
                   candidates=[RankedCandidate(text=t, n_tokens=len(t.split())) for t in JUDGED_ORDER])


def test_pairwise_loss_by_hand():
    scores = torch.tensor([2.0, 0.0, 1.0])
    pairs = [2.0 - 0.0, 2.0 - 1.0, 0.0 - 1.0]
    expected = sum(-torch.nn.functional.logsigmoid(torch.tensor(d)) for d in pairs) / 3
    assert torch.isclose(pairwise_loss(scores), expected)


def test_prm_learns_and_reranks(tmp_path):
    checkpoint = save_tiny_checkpoint(tmp_path / "base")
    prm = PRM.from_backbone(checkpoint, template="chat", max_length=64, seed=0)
    history = prm.train([judged(i) for i in range(6)], lr=3e-3, epochs=4, seed=0)
    assert history[-1] < history[0] * 0.5

    prm.save(tmp_path / "prm")
    reloaded = PRM.load(tmp_path / "prm")
    unseen = Instruction(id="u", instruction="Question 9: what is the capital of France?", output="Paris.")
    shuffled = [JUDGED_ORDER[k] for k in (3, 1, 2, 0)]
    samples = [Generation(id="u", model="m", candidates=[Candidate(text=t, n_tokens=1) for t in shuffled])]
    [ranking] = reloaded.rank({"u": unseen}, samples)
    assert ranking.source == "prm" and ranking.output == "Paris."
    assert [c.text for c in ranking.candidates] == JUDGED_ORDER
    scores = [c.score for c in ranking.candidates]
    assert scores == sorted(scores, reverse=True)
