"""The proxy ranking model learns a judge's orders through the training backends and re-ranks samples it did not see."""

import json
import subprocess

import pytest
import torch
from test_train_deepspeed import free_port
from tiny_llama import save_tiny_checkpoint
from tuna_cli import tuna

from tuna.ranking.prm import PRM, ProxyRanker, pairwise_loss
from tuna.records import Candidate, Generation, Instruction, RankedCandidate, Ranking, read_jsonl, write_jsonl
from tuna.train.data import Example
from tuna.train.forward import pack
from tuna.train.ranks import Ranks

JUDGED_ORDER = ["Paris is the capital of France.", "The capital is Paris.", "one two three", "blue fox"]


def judged(i: int) -> Ranking:
    """A judge's ranking; odd ones have 3 candidates (the judge dropped a duplicate)."""
    order = JUDGED_ORDER if i % 2 == 0 else JUDGED_ORDER[:2] + JUDGED_ORDER[3:]
    return Ranking(id=f"j{i}", instruction=f"Question {i}: what is the capital of France?", source="judge",
                   candidates=[RankedCandidate(text=t, n_tokens=len(t.split())) for t in order])


@pytest.fixture(scope="module")
def backbone(tmp_path_factory):
    return save_tiny_checkpoint(tmp_path_factory.mktemp("prm") / "base")


def test_pairwise_loss_by_hand():
    scores = torch.tensor([2.0, 0.0, 1.0, 5.0, 4.0])
    pairs = [2.0 - 0.0, 2.0 - 1.0, 0.0 - 1.0]
    first = sum(-torch.nn.functional.logsigmoid(torch.tensor(d)) for d in pairs) / 3
    second = -torch.nn.functional.logsigmoid(torch.tensor(5.0 - 4.0))
    assert torch.isclose(pairwise_loss(scores, Ranks.of([[0, 1, 2], [0, 1]])), (first + second) / 2)
    tied = sum(-torch.nn.functional.logsigmoid(torch.tensor(d)) for d in pairs[:2]) / 2  # no pair within a tie
    assert torch.isclose(pairwise_loss(scores[:3], Ranks.of([[0, 1, 1]])), tied)


def test_the_shared_prompt_forward_scores_each_response_as_if_it_followed_the_prompt_alone(backbone):
    """One packed row per instruction (two instructions padded together) gives the score of each
    prompt + response on its own: the head on the hidden state of its last token."""
    from transformers import AutoModel

    ranker = ProxyRanker(AutoModel.from_pretrained(backbone)).eval()
    torch.nn.init.normal_(ranker.head.weight)
    examples = [Example("a", [5, 6, 7, 8], [[9, 10, 11], [12, 13], [14, 15, 16, 17, 18]], None),
                Example("b", [20, 21], [[22, 23, 24, 25]], None)]
    with torch.no_grad():
        packed = ranker(**pack(examples).inputs("cpu"))
        alone = []
        for example in examples:
            for response in example.responses:
                hidden = ranker.backbone(input_ids=torch.tensor([example.prompt + response])).last_hidden_state
                alone.append(ranker.head(hidden[0, -1]).item())
    torch.testing.assert_close(packed, torch.tensor(alone), rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_prm_learns_and_reranks(tmp_path, backbone):
    ranked = tmp_path / "ranked.jsonl"
    write_jsonl(ranked, [judged(i) for i in range(6)])
    tuna("prm-train", "--ranked", ranked, "--backbone", backbone, "--lr", 3e-3, "--epochs", 4, "--batch-size", 2,
         "--warmup-steps", 0, "--max-length", 64, "--seed", 0, "-o", tmp_path / "prm")
    stamp = json.loads((tmp_path / "prm" / "provenance.json").read_text())
    losses = [row["loss"] for row in stamp["log"]]
    assert len(losses) == 12 and losses[-1] < losses[0] * 0.5
    assert stamp["params"]["backend"] == "plain" and (tmp_path / "prm" / "metrics.jsonl").exists()

    reloaded = PRM.load(tmp_path / "prm")
    unseen = Instruction(id="u", instruction="Question 9: what is the capital of France?", output="Paris.")
    shuffled = [JUDGED_ORDER[k] for k in (3, 1, 2, 0)]
    samples = [Generation(id="u", model="m", candidates=[Candidate(text=t, n_tokens=1) for t in shuffled])]
    [ranking], report = reloaded.rank({"u": unseen}, samples, batch_size=4)
    assert ranking.source == "prm" and ranking.output == "Paris."
    assert [c.text for c in ranking.candidates] == JUDGED_ORDER
    scores = [c.score for c in ranking.candidates]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.slow
def test_prm_ranks_every_instruction_or_a_slice_in_batches(tmp_path, backbone):
    judged_file, samples_file, instructions_file = tmp_path / "ranked.jsonl", tmp_path / "s.jsonl", tmp_path / "i.jsonl"
    write_jsonl(judged_file, [judged(i) for i in range(3)])
    # The judged instructions first (as the judge ranks the first K), then five it never saw.
    instructions = ([Instruction(id=r.id, instruction=r.instruction) for r in read_jsonl(judged_file, Ranking)]
                    + [Instruction(id=f"u{i}", instruction=f"Question {i}?") for i in range(5)])
    write_jsonl(instructions_file, instructions)
    failed = Candidate(text="", n_tokens=0, finish_reason="error")
    write_jsonl(samples_file, [Generation(id=r.id, model="m", candidates=[Candidate(text=t, n_tokens=1)
                                                                         for t in JUDGED_ORDER] + [failed])
                               for r in instructions])
    trained = tuna("prm-train", "--ranked", judged_file, "--backbone", backbone, "--lr", 1e-3, "--epochs", 2,
                   "--batch-size", 2, "--max-length", 64, "-o", tmp_path / "prm")
    assert "4 steps, pairwise loss" in trained.output and (tmp_path / "prm" / "provenance.json").exists()
    rank = ["prm-rank", "--prm", tmp_path / "prm", "--instructions", instructions_file, "--samples", samples_file]
    outputs = {}
    for batch_size in (1, 4):
        out = tmp_path / f"prm_ranked{batch_size}.jsonl"
        assert "8 PRM rankings of the 8 instructions in all; left out: 8 failed or empty samples" in tuna(
            *rank, "--batch-size", batch_size, "-o", out).output
        outputs[batch_size] = read_jsonl(out, Ranking)
    rankings = outputs[4]  # every instruction, the judged ones too: Tuna_c (PRM-3B-52K) learns from PRM ranks only
    assert [r.id for r in rankings] == [r.id for r in instructions] and {r.source for r in rankings} == {"prm"}
    assert all(len(r.candidates) == 4 for r in rankings)
    for one, batched in zip(outputs[1], rankings, strict=True):  # scoring 4 instructions per forward changes nothing
        assert [c.text for c in one.candidates] == [c.text for c in batched.candidates]
        assert [c.score for c in one.candidates] == pytest.approx([c.score for c in batched.candidates], abs=1e-5)
    last = tmp_path / "last.jsonl"
    assert "2 PRM rankings of the 2 instructions in last:2" in tuna(*rank, "--slice", "last:2", "-o", last).output
    sliced = read_jsonl(last, Ranking)
    assert [r.id for r in sliced] == ["u3", "u4"]
    assert [[c.text for c in r.candidates] for r in sliced] == [[c.text for c in r.candidates] for r in rankings[6:]]


@pytest.mark.slow
def test_prm_never_trains_on_the_held_out_split_and_agrees_with_its_judge_there(tmp_path, backbone):
    judged_file, held_out = tmp_path / "ranked.jsonl", tmp_path / "held_out.jsonl"
    write_jsonl(judged_file, [judged(i) for i in range(8)])
    write_jsonl(held_out, [Instruction(id=f"j{i}", instruction="?") for i in (6, 7)])
    tuna("prm-train", "--ranked", judged_file, "--backbone", backbone, "--lr", 3e-3, "--epochs", 4, "--batch-size", 1,
         "--warmup-steps", 0, "--max-length", 64, "--held-out", held_out, "-o", tmp_path / "prm")
    stamp = json.loads((tmp_path / "prm" / "provenance.json").read_text())
    assert stamp["held_out_rankings"] == 2 and stamp["params"]["held_out"] == str(held_out)
    assert stamp["examples used"] == 4 * 6
    tuna("eval-agreement", "--checkpoint", tmp_path / "prm", "--ranked", judged_file, "--held-out", held_out,
         "--model-name", "prm", "-o", tmp_path / "agreement.json")
    result = json.loads((tmp_path / "agreement.json").read_text())
    assert [e["id"] for e in result["per_example"]] == ["j6", "j7"]
    assert result["candidates per example"] == {"4": 1, "3": 1}
    assert result["pair_accuracy"] == 1.0 and result["kendall_tau"] == 1.0


@pytest.mark.slow
def test_prm_with_lora_trains_adapters_and_the_head_and_a_killed_run_resumes_to_the_same_ranker(tmp_path, backbone):
    from safetensors.torch import load_file
    from test_train_trainer import kill_once_saved

    ranked = tmp_path / "ranked.jsonl"
    write_jsonl(ranked, [judged(i) for i in range(6)])
    common = ["tuna", "prm-train", "--ranked", str(ranked), "--backbone", str(backbone), "--lr", "1e-2",
              "--batch-size", "1", "--epochs", "4", "--warmup-steps", "0", "--max-length", "64",
              "--lora", "{r: 4, dropout: 0}", "--save-every", "2"]
    subprocess.run([*common, "-o", str(tmp_path / "straight")], check=True, capture_output=True)
    step = kill_once_saved([*common, "-o", str(tmp_path / "resumed")], tmp_path / "resumed.state")
    resumed = subprocess.run([*common, "-o", str(tmp_path / "resumed"), "--resume"], capture_output=True, text=True,
                             check=True)
    assert f"resuming after step {step}" in resumed.stderr

    straight, again = tmp_path / "straight", tmp_path / "resumed"
    stamp = json.loads((straight / "provenance.json").read_text())
    assert stamp["params"]["lora"]["r"] == 4 and (straight / "adapter" / "adapter_config.json").exists()
    keys = ("step", "loss", "pair_accuracy", "grad_norm", "lr")  # not the speeds
    assert [[row[k] for k in keys] for row in stamp["log"]] == [
        [row[k] for k in keys] for row in json.loads((again / "provenance.json").read_text())["log"]]
    for name in ("model.safetensors", "score_head.safetensors", "adapter/adapter_model.safetensors"):
        expected, got = load_file(straight / name), load_file(again / name)
        assert all(torch.equal(expected[key], got[key]) for key in expected), name
    base, trained = load_file(backbone / "model.safetensors"), load_file(straight / "model.safetensors")
    changed = {name for name in trained if not torch.equal(trained[name], base["model." + name])}
    assert changed and all(name.endswith("proj.weight") for name in changed)  # the adapted layers, merged
    assert load_file(straight / "score_head.safetensors")["weight"].abs().sum() > 0  # the head trains too


@pytest.mark.slow
def test_prm_under_deepspeed_zero3_with_2_ranks_learns_as_plain_torch(tmp_path, backbone):
    ranked = tmp_path / "ranked.jsonl"
    write_jsonl(ranked, [judged(i) for i in range(8)])
    args = ["--ranked", str(ranked), "--backbone", str(backbone), "--lr", "1e-4", "--batch-size", "4", "--epochs", "1",
            "--warmup-steps", "1", "--max-length", "64"]
    tuna("prm-train", *args, "-o", tmp_path / "plain")
    launch = ["deepspeed", "--num_accelerators", "2", "--master_port", str(free_port()), "--module", "tuna.cli.prm",
              *args, "--deepspeed", "zero3", "-o", str(tmp_path / "zero3")]
    result = subprocess.run(launch, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    plain, ranks = (json.loads((tmp_path / d / "provenance.json").read_text()) for d in ("plain", "zero3"))
    assert ranks["params"]["world_size"] == 2 and ranks["params"]["backend"] == "deepspeed"
    for key in ("loss", "pair_accuracy", "grad_norm", "lr"):
        torch.testing.assert_close([r[key] for r in ranks["log"]], [r[key] for r in plain["log"]], rtol=1e-4, atol=1e-6)
    prm = PRM.load(tmp_path / "zero3")  # the gathered backbone and head load as a PRM
    assert prm.max_length == 64 and prm.template == "chat"


@pytest.mark.slow
def test_the_workflow_trains_a_prm_and_ranks_every_instruction(tmp_path):
    """prm_train and prm_rank as Snakemake runs them: the judge (a real OpenAI-protocol server on loopback)
    ranks the first 3 instructions' samples, the PRM learns them and ranks all 6."""
    from fault_server import FaultServer
    from test_train_lora import judge_reply
    from workflow_run import snakemake, write_config

    source = save_tiny_checkpoint(tmp_path / "tiny")
    with FaultServer(reply=judge_reply) as judge:
        write_config(tmp_path, {
            "data": {"source": "demo", "limit": 6, "shards": 1, "ctx_rank_limit": 3},
            "models": {"alpaca": {"import": str(source), "template": "chat"},
                       "tuna_c_prm": {"init": "alpaca", "data": "prm_rank:alpaca"}},
            "sampling": {"provider": {"kind": "hf"}, "n": 3, "max_tokens": 6, "max_trials": 1},
            "judge": {"provider": {"kind": "openai", "model": "judge", "base_url": judge.url}, "max_tokens": 64},
            "prms": {"prm": {"backbone": "alpaca", "batch_size": 2, "max_length": 256, "warmup_steps": 0,
                             "lora": {"r": 4}, "rank_batch_size": 2}},
            "evaluation": {"benchmarks": ["vicuna"], "models": ["alpaca"], "baseline": "alpaca"},
        })
        target = "results/ctx_rank/alpaca/prm_ranked.jsonl"
        dry = snakemake(tmp_path, "-n", "-p", target).stdout
        assert "tuna prm-train" in dry and "--lora" in dry and "--batch-size 2 --precision fp32" in dry
        snakemake(tmp_path, target)
    stamp = json.loads((tmp_path / "results/ctx_rank/alpaca/prm/provenance.json").read_text())
    assert stamp["params"]["lora"]["r"] == 4 and stamp["steps"] == 2  # 3 judged rankings in batches of 2
    rankings = read_jsonl(tmp_path / target, Ranking)
    judged_ids = {r.id for r in read_jsonl(tmp_path / "results/ctx_rank/alpaca/ranked.jsonl", Ranking)}
    assert len(rankings) == 6 and judged_ids < {r.id for r in rankings}
    assert all(r.source == "prm" and len(r.candidates) == 3 for r in rankings)
