"""The proxy ranking model learns a judge's orders and re-ranks samples it did not see."""

import pytest
import torch
from tiny_llama import save_tiny_checkpoint

from tuna.ranking.prm import PRM, pairwise_loss
from tuna.records import Candidate, Generation, Instruction, RankedCandidate, Ranking

pytestmark = pytest.mark.slow

JUDGED_ORDER = ["Paris is the capital of France.", "The capital is Paris.", "one two three", "blue fox"]


def judged(i: int) -> Ranking:
    """A judge's ranking; odd ones have 3 candidates (the judge dropped a duplicate)."""
    order = JUDGED_ORDER if i % 2 == 0 else JUDGED_ORDER[:2] + JUDGED_ORDER[3:]
    return Ranking(id=f"j{i}", instruction=f"Question {i}: what is the capital of France?", source="judge",
                   candidates=[RankedCandidate(text=t, n_tokens=len(t.split())) for t in order])


def test_pairwise_loss_by_hand():
    scores = torch.tensor([2.0, 0.0, 1.0])
    pairs = [2.0 - 0.0, 2.0 - 1.0, 0.0 - 1.0]
    expected = sum(-torch.nn.functional.logsigmoid(torch.tensor(d)) for d in pairs) / 3
    assert torch.isclose(pairwise_loss(scores, [0, 1, 2]), expected)
    tied = sum(-torch.nn.functional.logsigmoid(torch.tensor(d)) for d in pairs[:2]) / 2  # no pair within a tie
    assert torch.isclose(pairwise_loss(scores, [0, 1, 1]), tied)


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


def test_prm_commands_keep_judge_ranks_and_rank_the_rest(tmp_path):
    import subprocess

    from tuna.records import read_jsonl, write_jsonl

    checkpoint = save_tiny_checkpoint(tmp_path / "base")
    judged_file, samples_file, instructions_file = tmp_path / "ranked.jsonl", tmp_path / "s.jsonl", tmp_path / "i.jsonl"
    write_jsonl(judged_file, [judged(i) for i in range(3)])
    unseen = [Instruction(id=f"u{i}", instruction=f"Question {i}?") for i in range(2)]
    write_jsonl(instructions_file, unseen + [Instruction(id=r.id, instruction=r.instruction) for r in
                                             read_jsonl(judged_file, Ranking)])
    write_jsonl(samples_file, [Generation(id=r.id, model="m", candidates=[Candidate(text=t, n_tokens=1)
                                                                         for t in JUDGED_ORDER])
                               for r in unseen])

    def tuna(*args):
        done = subprocess.run(["tuna", *map(str, args)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    trained = tuna("prm-train", "--ranked", judged_file, "--backbone", checkpoint, "--lr", 1e-3, "--epochs", 2,
                   "--max-length", 64, "-o", tmp_path / "prm")
    assert "pairwise loss by epoch" in trained and (tmp_path / "prm" / "provenance.json").exists()
    out = tmp_path / "prm_ranked.jsonl"
    assert "2 PRM rankings (the judge ranked 3)" in tuna(
        "prm-rank", "--prm", tmp_path / "prm", "--instructions", instructions_file, "--samples", samples_file,
        "--judged-ranked", judged_file, "-o", out)
    rankings = read_jsonl(out, Ranking)
    assert [r.source for r in rankings] == ["prm"] * 2  # the judged ones stay in the judge's file
    assert all(len(r.candidates) == 4 for r in rankings)


def test_prm_never_trains_on_the_held_out_split_and_agrees_with_its_judge_there(tmp_path):
    import json

    from click.testing import CliRunner

    from tuna.cli import main
    from tuna.records import write_jsonl

    checkpoint = save_tiny_checkpoint(tmp_path / "base")
    judged_file, held_out = tmp_path / "ranked.jsonl", tmp_path / "held_out.jsonl"
    write_jsonl(judged_file, [judged(i) for i in range(8)])
    write_jsonl(held_out, [Instruction(id=f"j{i}", instruction="?") for i in (6, 7)])

    def tuna(*args):
        result = CliRunner().invoke(main, list(map(str, args)))
        assert result.exit_code == 0, result.output

    tuna("prm-train", "--ranked", judged_file, "--backbone", checkpoint, "--lr", 3e-3, "--epochs", 4,
         "--max-length", 64, "--held-out", held_out, "-o", tmp_path / "prm")
    stamp = json.loads((tmp_path / "prm" / "provenance.json").read_text())
    assert stamp["held_out_rankings"] == 2 and stamp["params"]["held_out"] == str(held_out)
    tuna("eval-agreement", "--checkpoint", tmp_path / "prm", "--ranked", judged_file, "--held-out", held_out,
         "--model-name", "prm", "-o", tmp_path / "agreement.json")
    result = json.loads((tmp_path / "agreement.json").read_text())
    assert [e["id"] for e in result["per_example"]] == ["j6", "j7"]
    assert result["candidates per example"] == {"4": 1, "3": 1}
    assert result["pair_accuracy"] == 1.0 and result["kendall_tau"] == 1.0
