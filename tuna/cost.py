"""Cost meter: tokens used x the config's price table, written beside each output.

Prices are USD per 1K tokens (`prices:` in the config, keyed by the API model id).
Every generating command writes `<output stem>.cost.json`: the tokens of all the
answers the output holds (`total`) and of the calls this run paid for (`this_run`;
answers taken from the request cache cost nothing again). tuna.cost_estimate projects
a config's API calls before anything is spent.
"""

from __future__ import annotations

import os
from pathlib import Path

from tuna.llm.base import Meter
from tuna.records import write_json


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
    path = cost_path(output)
    write_json(path, cost_record(provider, model, meter, price))
    return path


def cost_record(provider: str, model: str, meter: Meter, price: dict | None) -> dict:
    """What a cost file holds: all the answers an output holds (`total`), and this run's calls."""
    total_prompt = meter.prompt_tokens + meter.cached_prompt_tokens
    total_completion = meter.completion_tokens + meter.cached_completion_tokens
    return {
        "provider": provider,
        "model": model,
        "price_per_1k": price,
        "total": {"calls": meter.calls + meter.cached, "prompt_tokens": total_prompt,
                  "completion_tokens": total_completion, "usd": usd(total_prompt, total_completion, price)},
        "this_run": {"calls": meter.calls, "cached": meter.cached, "failed": meter.failed,
                     "prompt_tokens": meter.prompt_tokens, "completion_tokens": meter.completion_tokens,
                     "usd": usd(meter.prompt_tokens, meter.completion_tokens, price)},
    }


HUMAN_STAGE = "human labelling (instead of the judge)"


def human_cost(examples: int, usd_per_comparison: float, comparisons_per_example: int) -> tuple[int, float]:
    """(comparisons, USD) of annotators ranking `examples` judge-ranked examples (Table 6's pricing)."""
    comparisons = examples * comparisons_per_example
    return comparisons, round(comparisons * usd_per_comparison, 2)
