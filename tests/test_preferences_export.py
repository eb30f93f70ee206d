"""Preference data out: tuna rankings as TRL-style data sets, read back by `datasets` and trained on by
TRL's DPOTrainer (one step on a tiny llama, CPU)."""

import json

import pytest
from tiny_llama import CHAT_TEMPLATE, save_tiny_checkpoint
from tuna_cli import tuna

from tuna import provenance
from tuna.preferences.export import pair_indices, preference_rows
from tuna.prompts import alpaca_prompt, render_chat
from tuna.records import RankedCandidate, Ranking, write_jsonl


def ranking(ident="r1", texts=("best", "mid a", "mid b", "worst"), ranks=(0, 1, 1, 2), scores=(3.0, 2.0, 2.0, 1.0),
            failed=(), instruction="Name a color.", input=""):
    return Ranking(id=ident, instruction=instruction, input=input, output="Blue.", source="preferences",
                   candidates=[RankedCandidate(text=t, rank=r, score=s,
                                               finish_reason="error" if k in failed else "stop")
                               for k, (t, r, s) in enumerate(zip(texts, ranks, scores, strict=True))])


@pytest.mark.parametrize("ranks, best_vs_rest, pairs", [
    ([0, 1, 2], False, [(0, 1), (0, 2), (1, 2)]),
    ([0, 1, 1, 2], False, [(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)]),  # never (1, 2): a tie
    ([0, 1, 1, 2], True, [(0, 1), (0, 2), (0, 3)]),
    ([0, 0, 1], False, [(0, 2), (1, 2)]),  # a tie at the top
    ([0, 0, 1], True, [(0, 2), (1, 2)]),  # best-vs-rest: each best against the rest
    ([0, 0], False, []),
    ([0], False, []),
])
def test_pairs_never_inside_a_rank_group(ranks, best_vs_rest, pairs):
    assert pair_indices(ranks, best_vs_rest) == pairs


def test_pairwise_rows_conversational_and_alpaca():
    rows, report = preference_rows([ranking()], "pairwise")
    assert [(row["chosen"][0]["content"], row["rejected"][0]["content"]) for row in rows] == [
        ("best", "mid a"), ("best", "mid b"), ("best", "worst"), ("mid a", "worst"), ("mid b", "worst")]
    assert rows[0]["prompt"] == [{"role": "user", "content": "Name a color."}]
    assert rows[0]["chosen"] == [{"role": "assistant", "content": "best"}] and rows[0]["id"] == "r1"
    assert report["rows"] == 5

    rows, _ = preference_rows([ranking(input="Think of the sky.")], "pairwise", "best-vs-rest", conversational=False)
    assert [(row["chosen"], row["rejected"]) for row in rows] == [("best", "mid a"), ("best", "mid b"),
                                                                  ("best", "worst")]
    assert rows[0]["prompt"] == alpaca_prompt("Name a color.", "Think of the sky.")
    assert "### Input:\nThink of the sky." in rows[0]["prompt"]


def test_failed_responses_and_pairless_rankings_are_left_out_and_counted():
    rankings = [ranking(failed=(0,)),  # the best failed: mid a, mid b (tied) > worst
                ranking("r2", texts=("a", "b"), ranks=(0, 0), scores=(1.0, 1.0)),  # all tied: no pair
                ranking("r3", texts=("a", "b"), ranks=(0, 1), scores=(2.0, 1.0), failed=(1,))]  # one left
    rows, report = preference_rows(rankings, "pairwise")
    assert [(row["chosen"][0]["content"], row["rejected"][0]["content"]) for row in rows] == [
        ("mid a", "worst"), ("mid b", "worst")]
    assert report["failed or empty responses left out"] == 2 and report["rankings without a pair left out"] == 2

    rows, report = preference_rows(rankings, "listwise")
    assert [row["id"] for row in rows] == ["r1", "r2"]  # r3 has one response left
    assert rows[0]["completions"] == [[{"role": "assistant", "content": t}] for t in ("mid a", "mid b", "worst")]
    assert rows[0]["scores"] == [2.0, 2.0, 1.0] and rows[0]["ranks"] == [0, 0, 1]  # groups renumbered from 0
    assert rows[1]["ranks"] == [0, 0]
    assert report["rankings with fewer than 2 responses left out"] == 1


def test_listwise_rows_without_ties_have_no_ranks_column():
    untied = Ranking(id="p", instruction="Count.", source="prob",
                     candidates=[RankedCandidate(text="one two", score=-0.5), RankedCandidate(text="one")])
    rows, _ = preference_rows([untied], "listwise", conversational=False)
    assert rows == [{"id": "p", "prompt": alpaca_prompt("Count."), "completions": ["one two", "one"],
                     "scores": [-0.5, None]}]


def ranked_file(tmp_path):
    """A ranking file with its own provenance stamp, as every tuna stage writes one."""
    path = tmp_path / "ranked.jsonl"
    write_jsonl(path, [ranking(), ranking("r2", instruction="Count to three.",
                                          texts=("one two three", "one two", "three"), ranks=(0, 1, 2),
                                          scores=(None, None, None))])
    provenance.stamp([path], params={"beta": 1.3})
    return path


def test_export_command_writes_a_dataset_jsonl_and_provenance(tmp_path):
    from datasets import load_dataset, load_from_disk

    ranked = ranked_file(tmp_path)
    out = tmp_path / "pairwise"
    result = tuna("export-preferences", str(ranked), "--format", "pairwise", "-o", str(out))
    assert "8 pairwise rows from 2 rankings" in result.output
    saved = load_from_disk(str(out))
    lines = load_dataset("json", data_files=str(out / "data.jsonl"), split="train")
    assert saved.column_names == ["id", "prompt", "chosen", "rejected"]
    assert saved.to_list() == lines.to_list() == [json.loads(line) for line in (out / "data.jsonl").open()]
    stamp = json.loads((out / "provenance.json").read_text())
    assert stamp["ranking"]["params"] == {"beta": 1.3}  # the ranking's own provenance travels with it
    assert stamp["inputs"][0]["path"] == str(ranked) and stamp["params"]["format"] == "pairwise"

    out = tmp_path / "listwise"
    result = tuna("export-preferences", str(ranked), "--format", "listwise",
                  "--template", "alpaca", "-o", str(out))
    saved = load_from_disk(str(out))
    assert saved.column_names == ["id", "prompt", "completions", "scores", "ranks"]
    assert saved[1]["completions"] == ["one two three", "one two", "three"] and saved[1]["ranks"] == [0, 1, 2]
    assert saved[0]["prompt"] == alpaca_prompt("Name a color.")


def test_export_options_are_checked(tmp_path):
    ranked = ranked_file(tmp_path)
    result = tuna("export-preferences", str(ranked), "--format", "listwise",
                  "--pairs", "best-vs-rest", "-o", str(tmp_path / "x"), code=2)
    assert "--pairs applies to --format pairwise" in result.output


def test_dpo_trainer_trains_one_step_on_the_export(tmp_path):
    """The interop proof: TRL's DPOTrainer reads the conversational export, applies the model's chat template
    to it, and takes one optimizer step on a tiny llama on CPU."""
    import torch
    from datasets import load_from_disk
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    ranked = ranked_file(tmp_path)
    out = tmp_path / "export"
    tuna("export-preferences", ranked, "--format", "pairwise", "-o", out)
    checkpoint = save_tiny_checkpoint(tmp_path / "tiny")
    model = AutoModelForCausalLM.from_pretrained(checkpoint)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    args = DPOConfig(output_dir=str(tmp_path / "dpo"), max_steps=1, per_device_train_batch_size=4, learning_rate=1e-3,
                     use_cpu=True, report_to=[], save_strategy="no", logging_steps=1, seed=0)
    trainer = DPOTrainer(model=model, args=args, train_dataset=load_from_disk(str(out)), processing_class=tokenizer)
    prompt = tokenizer.decode(trainer.train_dataset[0]["prompt_ids"])
    assert prompt == render_chat(CHAT_TEMPLATE, [{"role": "user", "content": "Name a color."}])
    before = [p.detach().clone() for p in model.parameters()]
    trainer.train()
    log = trainer.state.log_history[0]
    assert trainer.state.global_step == 1 and log["loss"] == pytest.approx(0.6931, abs=1e-3)  # log 2 at the start
    assert log["logps/chosen"] < 0 and log["logps/rejected"] < 0
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
