"""`tuna cost estimate`: projections computed from the real prompts and the price table."""

import copy
import subprocess
from pathlib import Path

import pytest
import yaml

from tuna.cost import estimate_judge, estimate_teacher, judged_models
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


def test_cli_prints_both_stages(tmp_path):
    config = copy.deepcopy(PAPER)
    del config["prices"]["gpt-4"]
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    records = tmp_path / "i.jsonl"
    records.write_text("".join(r.model_dump_json() + "\n" for r in RECORDS))
    out = subprocess.run(["tuna", "cost", "estimate", str(path), "--instructions", str(records)],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0].startswith("teacher (openai gpt-3.5-turbo-instruct): 2 instructions, 8 calls")
    assert out[1].startswith("judge (openai gpt-4): 2 instructions, 4 calls")
    assert out[1].endswith("unknown: no price for 'gpt-4' in prices:")
