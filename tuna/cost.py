"""Cost meter: tokens used x the config's price table, written beside each output.

Prices are USD per 1K tokens (`prices:` in the config, keyed by the API model id).
Every generating command writes `<output stem>.cost.json`: the tokens of all the
answers the output holds (`total`) and of the calls this run paid for (`this_run`;
answers taken from the request cache cost nothing again). `tuna cost estimate`
projects a config's teacher calls before anything is spent.
"""

from __future__ import annotations

import os
from pathlib import Path

from tuna.llm.base import Meter
from tuna.records import write_json

CHARS_PER_TOKEN = 4  # rough English average, for estimates only (no tokenizer for API models)
JUDGE_VERDICT_TOKENS = 80  # the judge's "Response k: s" lines and its rank, beyond its reference answer


def cost_path(output: str | os.PathLike) -> Path:
    """`teacher/0.jsonl` -> `teacher/0.cost.json`."""
    output = Path(output)
    return output.with_name(output.name.split(".")[0] + ".cost.json")


def usd(prompt_tokens: int, completion_tokens: int, price: dict | None) -> float | None:
    if price is None:
        return None
    return round((prompt_tokens * price["prompt"] + completion_tokens * price["completion"]) / 1000, 6)


def write_cost(output: str | os.PathLike, provider: str, model: str, meter: Meter, price: dict | None) -> Path:
    """Write the cost file of `output`; local providers have no price (usd null)."""
    total_prompt = meter.prompt_tokens + meter.cached_prompt_tokens
    total_completion = meter.completion_tokens + meter.cached_completion_tokens
    path = cost_path(output)
    write_json(path, {
        "provider": provider,
        "model": model,
        "price_per_1k": price,
        "total": {"calls": meter.calls + meter.cached, "prompt_tokens": total_prompt,
                  "completion_tokens": total_completion, "usd": usd(total_prompt, total_completion, price)},
        "this_run": {"calls": meter.calls, "cached": meter.cached, "failed": meter.failed,
                     "prompt_tokens": meter.prompt_tokens, "completion_tokens": meter.completion_tokens,
                     "usd": usd(meter.prompt_tokens, meter.completion_tokens, price)},
    })
    return path


def estimate_teacher(config: dict, instructions: list) -> dict:
    """Projected calls, tokens and dollars of the teacher stage for these instructions.

    Prompt tokens come from the Alpaca prompts of the instructions; a response is
    assumed as long as the instruction's original (Alpaca) output, capped at
    max_tokens; both at CHARS_PER_TOKEN characters per token.
    """
    from tuna.prompts import alpaca_prompt

    teacher = config["teacher"]
    n, cap = teacher["n"], teacher["max_tokens"]
    prompt = sum(len(alpaca_prompt(r.instruction, r.input)) // CHARS_PER_TOKEN + 1 for r in instructions) * n
    completion = sum(min(len(r.output) // CHARS_PER_TOKEN + 1, cap) for r in instructions) * n
    spec = teacher["provider"]
    price = config.get("prices", {}).get(spec.get("model")) if spec["kind"] == "openai" else None
    return {
        "stage": "teacher", "provider": spec["kind"], "model": spec.get("model"),
        "instructions": len(instructions), "calls": len(instructions) * n,
        "prompt_tokens": prompt, "completion_tokens": completion,
        "usd": usd(prompt, completion, price) if spec["kind"] == "openai" else 0.0,
        "usd_if_max_tokens": usd(prompt, len(instructions) * n * cap, price) if spec["kind"] == "openai" else 0.0,
        "priced": price is not None or spec["kind"] != "openai",
    }


def judged_models(config: dict) -> list[str]:
    """Models whose self samples the judge ranks (named by some ctx_rank:/prm_rank: data)."""
    return sorted({spec["data"].split(":", 1)[1] for spec in config["models"].values() if ":" in spec.get("data", "")})


def estimate_judge(config: dict, instructions: list) -> dict:
    """Projected calls, tokens and dollars of the contextual-ranking judge (Table 9 prompts).

    One call per judged instruction and sampled model, over the first
    `data.ctx_rank_limit` instructions; each sample is assumed as long as the original
    output (capped at sampling.max_tokens); the answer as one more such response (the
    judge's reference) plus JUDGE_VERDICT_TOKENS of scores and rank. Re-asks are not counted.
    """
    from tuna.ranking.judge import judge_prompt

    judged = instructions[: config["data"]["ctx_rank_limit"]]
    models = judged_models(config)
    n, cap = config["sampling"]["n"], config["sampling"]["max_tokens"]
    prompt = completion = 0
    for r in judged:
        sample = "x" * min(len(r.output), cap * CHARS_PER_TOKEN)
        prompt += len(judge_prompt(r.instruction, r.input, [sample] * n)) // CHARS_PER_TOKEN + 1
        completion += len(sample) // CHARS_PER_TOKEN + 1 + JUDGE_VERDICT_TOKENS
    prompt, completion = prompt * len(models), completion * len(models)
    spec = config["judge"]["provider"]
    price = config.get("prices", {}).get(spec.get("model")) if spec["kind"] == "openai" else None
    calls = len(judged) * len(models)
    worst = calls * config["judge"].get("max_tokens", completion // max(calls, 1))
    return {
        "stage": "judge", "provider": spec["kind"], "model": spec.get("model"), "instructions": len(judged),
        "calls": calls, "prompt_tokens": prompt, "completion_tokens": completion,
        "usd": usd(prompt, completion, price) if spec["kind"] == "openai" else 0.0,
        "usd_if_max_tokens": usd(prompt, worst, price) if spec["kind"] == "openai" else 0.0,
        "priced": price is not None or spec["kind"] != "openai",
    }
