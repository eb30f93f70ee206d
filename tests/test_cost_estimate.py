"""`tuna cost estimate`: projections computed from the real prompts and the price table."""

import copy
import subprocess
from pathlib import Path

import pytest
import yaml

from tuna.cost import estimate_judge, estimate_teacher, estimate_vicuna, judged_models
from tuna.evaluate import vicuna
from tuna.prompts import alpaca_prompt
from tuna.ranking.judge import judge_prompt
from tuna.records import Instruction

ROOT = Path(__file__).resolve().parent.parent
PAPER = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
RECORDS = [Instruction(id="a", instruction="Name a color.", output="Blue is a color of the sky."),
           Instruction(id="b", instruction="Add the numbers.", input="2 and 3", output="5")]


def test_teacher_projection_by_hand():
    row = estimate_teacher(PAPER, RECORDS)
    prompt = sum(len(alpaca_prompt(r.instruction, r.input)) // 4 + 1 for r in RECORDS) * 4
    completion = ((len(RECORDS[0].output) // 4 + 1) + (len(RECORDS[1].output) // 4 + 1)) * 4
    assert (row["calls"], row["prompt_tokens"], row["completion_tokens"]) == (8, prompt, completion)
    price = PAPER["prices"]["gpt-3.5-turbo-instruct"]
    assert row["usd"] == pytest.approx((prompt * price["prompt"] + completion * price["completion"]) / 1000)


def test_judge_projection_counts_every_sampled_model():
    assert judged_models(PAPER) == ["alpaca", "tuna_p"]
    config = copy.deepcopy(PAPER)
    config["data"]["ctx_rank_limit"] = 1  # only the first instruction is judged
    row = estimate_judge(config, RECORDS)
    sample = "x" * len(RECORDS[0].output)
    prompt = (len(judge_prompt(RECORDS[0].instruction, "", [sample] * 4)) // 4 + 1) * 2
    assert (row["calls"], row["prompt_tokens"]) == (2, prompt)
    assert row["completion_tokens"] == (len(sample) // 4 + 1 + 80) * 2
    assert row["usd_if_max_tokens"] > row["usd"] > 0


def test_vicuna_projection_on_the_upstream_prompts(shared_data):
    """The paper's setup: 3 models vs Alpaca on the 80 questions, both orders, GPT-4 review prompts."""
    questions = vicuna.load_questions(shared_data / "vicuna_qa" / "fastchat_eval_table" / "question.jsonl")
    prompts = vicuna.load_judge_prompts(shared_data / "vicuna_qa" / "fastchat_eval_table" / "prompt.jsonl", "review")
    row = estimate_vicuna(PAPER, questions[:1], prompts)
    answer = "x" * 512 * 4  # evaluation.generation.max_tokens of paper.yaml
    messages = vicuna.judge_messages(prompts["general"], questions[0].text, answer, answer)
    assert questions[0].category not in ("coding", "math")
    per_call = sum(len(m["content"]) for m in messages) // 4 + 1
    assert (row["model"], row["calls"], row["prompt_tokens"]) == ("gpt-4", 6, per_call * 6)
    assert row["completion_tokens"] == 6 * 200 and row["usd_if_max_tokens"] > row["usd"] > 0
    assert estimate_vicuna(PAPER, questions, prompts)["calls"] == 80 * 2 * 3


def test_cli_prints_every_stage_and_names_missing_downloads(tmp_path, shared_data):
    config = copy.deepcopy(PAPER)
    del config["prices"]["gpt-4"]
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    records = tmp_path / "i.jsonl"
    records.write_text("".join(r.model_dump_json() + "\n" for r in RECORDS))
    command = ["tuna", "cost", "estimate", str(path), "--instructions", str(records)]
    missing = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        f"Error: {path}: not downloaded yet: resources/downloads/vicuna_question.jsonl, "
        "resources/downloads/vicuna_prompt.jsonl; run `snakemake resources/downloads/vicuna_question.jsonl "
        "resources/downloads/vicuna_prompt.jsonl` (free) first")
    downloads = tmp_path / "resources" / "downloads"
    downloads.mkdir(parents=True)
    for name in ("question", "prompt"):
        (downloads / f"vicuna_{name}.jsonl").symlink_to(shared_data / "vicuna_qa" / "fastchat_eval_table" / f"{name}.jsonl")
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=tmp_path).stdout.splitlines()
    assert out[0].startswith("teacher (openai gpt-3.5-turbo-instruct): 2 instructions, 8 calls")
    assert out[1].startswith("judge (openai gpt-4): 2 instructions, 4 calls")
    assert out[1].endswith("unknown: no price for 'gpt-4' in prices:")
    assert out[2].startswith("vicuna judge (openai gpt-4): 80 instructions, 480 calls")
