"""`tuna cost estimate`: projections from the real prompts and the price table, checked
against numbers worked out once by hand (4 characters per token)."""

import copy
import subprocess
from pathlib import Path

import pytest
import yaml

from tuna import config as tuna_config
from tuna.cost_estimate import estimate_judge, estimate_teacher, estimate_vicuna, human_row
from tuna.evaluate import vicuna
from tuna.records import Instruction

ROOT = Path(__file__).resolve().parent.parent
PAPER = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
# The paper's four main models with its providers and prices: alpaca and tuna_p sample
# themselves for the judge, tuna_p, tuna_c and tuna are judged against alpaca on Vicuna QA.
SMALL = {**copy.deepcopy(PAPER), "prms": {},
         "models": {m: PAPER["models"][m] for m in ("alpaca", "tuna_p", "tuna_c", "tuna")}}
SMALL["evaluation"].update(models=list(SMALL["models"]), tables={}, held_out={})
RECORDS = [Instruction(id="a", instruction="Name a color.", output="Blue is a color of the sky."),
           Instruction(id="b", instruction="Add the numbers.", input="2 and 3", output="5")]


def plan(config=SMALL):
    return tuna_config.load(config)


def test_teacher_projection():
    row = estimate_teacher(plan(), RECORDS)
    # 4 calls per instruction; completions as long as the originals: (27 // 4 + 1 + 1 // 4 + 1) x 4 = 32 tokens
    assert (row["calls"], row["prompt_tokens"], row["completion_tokens"]) == (8, 384, 32)
    # gpt-3.5-turbo-instruct: 384 x 0.0015 + 32 x 0.002 per 1K; worst case 8 x 512 completion tokens
    assert (row["usd"], row["usd_if_max_tokens"]) == (pytest.approx(0.00064), pytest.approx(0.008768))


def test_judge_and_human_projection_count_every_sampled_model():
    row = estimate_judge(plan(), RECORDS)
    assert (row["model"], row["calls"], row["prompt_tokens"], row["completion_tokens"]) == ("gpt-4", 4, 1782, 336)
    assert row["usd"] == pytest.approx(0.07362)  # gpt-4: 1782 x 0.03 + 336 x 0.06 per 1K
    human = human_row(plan(), RECORDS)  # Table 6: 6 comparisons per example at 0.25 USD
    assert (human["instructions"], human["calls"], human["usd"]) == (4, 24, 6.0)
    config = copy.deepcopy(SMALL)
    config["data"]["ctx_rank_limit"] = 1
    assert estimate_judge(plan(config), RECORDS)["calls"] == 2


def test_vicuna_projection_on_the_upstream_prompts(shared_data):
    """3 models vs Alpaca, GPT-4 review prompts, 512-token answers; one order (paper.yaml) or both."""
    table = shared_data / "vicuna_qa" / "fastchat_eval_table"
    questions = vicuna.load_questions(table / "question.jsonl")
    prompts = vicuna.load_judge_prompts(table / "prompt.jsonl", "review")
    row = estimate_vicuna(plan(), questions[:1], prompts)
    assert (row["model"], row["calls"], row["prompt_tokens"], row["completion_tokens"]) == ("gpt-4", 3, 3828, 600)
    assert estimate_vicuna(plan(), questions, prompts)["calls"] == 80 * 3
    both = copy.deepcopy(SMALL)
    both["evaluation"]["vicuna"]["orders"] = "both"
    row = estimate_vicuna(plan(both), questions[:1], prompts)
    assert (row["calls"], row["prompt_tokens"], row["completion_tokens"]) == (6, 7656, 1200)


def test_cli_prints_every_stage_and_names_missing_downloads(tmp_path, shared_data):
    config = copy.deepcopy(SMALL)
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
        "resources/downloads/vicuna_review_prompts.jsonl; run `snakemake resources/downloads/vicuna_question.jsonl "
        "resources/downloads/vicuna_review_prompts.jsonl` (free) first")
    downloads = tmp_path / "resources" / "downloads"
    downloads.mkdir(parents=True)
    for name, upstream in (("question", "question"), ("review_prompts", "prompt")):
        (downloads / f"vicuna_{name}.jsonl").symlink_to(shared_data / "vicuna_qa" / "fastchat_eval_table"
                                                        / f"{upstream}.jsonl")
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=tmp_path).stdout.splitlines()
    assert out[0] == ("teacher (openai gpt-3.5-turbo-instruct): 2 instructions, 8 calls, ~384 prompt + ~32 "
                      "completion tokens; $0.00 (at most $0.01)")
    assert out[1].startswith("judge (openai gpt-4): 2 instructions, 4 calls")
    assert out[1].endswith("unknown: no price for 'gpt-4' in prices:")
    assert out[2].startswith("human labelling (instead of the judge) (human ): 4 instructions, 24 calls")
    assert out[2].endswith("$6.00 (at most $6.00)")
    assert out[3].startswith("vicuna judge (openai gpt-4): 80 instructions, 240 calls")
