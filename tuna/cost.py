"""Cost meter: tokens used x the config's price table, written beside each output.

Prices are USD per 1K tokens (`prices:` in the config, keyed by the API model id).
Every generating command writes `<output stem>.cost.json`: the tokens of all the
answers the output holds (`total`) and of the calls this run paid for (`this_run`;
answers taken from the request cache cost nothing again). `tuna cost estimate`
projects a config's API calls (teacher, ranking judge, Vicuna QA judge) before
anything is spent.
"""

from __future__ import annotations

import os
from pathlib import Path

from tuna.llm.base import Meter
from tuna.records import write_json

CHARS_PER_TOKEN = 4  # rough English average, for estimates only (no tokenizer for API models)
JUDGE_VERDICT_TOKENS = 80  # the judge's "Response k: s" lines and its rank, beyond its reference answer
VICUNA_REPLY_TOKENS = 200  # a Vicuna QA verdict with the short explanation the judge prompts ask for


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


def estimate_teacher(plan, instructions: list) -> dict:
    """Projected calls, tokens and dollars of the teacher stage for these instructions.

    Prompt tokens come from the Alpaca prompts of the instructions; a response is
    assumed as long as the instruction's original (Alpaca) output, capped at
    max_tokens; both at CHARS_PER_TOKEN characters per token.
    """
    from tuna.prompts import alpaca_prompt

    teacher = plan.config.teacher
    n, cap = teacher.n, teacher.max_tokens
    prompt = sum(len(alpaca_prompt(r.instruction, r.input)) // CHARS_PER_TOKEN + 1 for r in instructions) * n
    completion = sum(min(len(r.output) // CHARS_PER_TOKEN + 1, cap) for r in instructions) * n
    calls = len(instructions) * n
    return _row("teacher", plan.teacher(), len(instructions), calls, prompt, completion, calls * cap)


def _row(stage: str, provider, instructions: int, calls: int, prompt: int, completion: int,
         worst_completion: int) -> dict:
    """One stage's projection; local providers cost nothing, API models need a `prices:` entry."""
    api = provider.is_api
    price = provider.price.model_dump() if provider.price else None
    return {
        "stage": stage, "provider": provider.spec.kind, "model": provider.spec.model, "instructions": instructions,
        "calls": calls, "prompt_tokens": prompt, "completion_tokens": completion,
        "usd": usd(prompt, completion, price) if api else 0.0,
        "usd_if_max_tokens": usd(prompt, worst_completion, price) if api else 0.0,
        "priced": price is not None or not api,
    }


def judged_instructions(plan, instructions: list, held_out: frozenset[str] = frozenset()) -> list:
    """The instructions the contextual-ranking judge sees (tuna.datasets.contextual_instructions)."""
    from tuna.datasets import contextual_instructions

    return contextual_instructions(instructions, plan.config.data.ctx_rank_limit, held_out)


def estimate_judge(plan, instructions: list, held_out: frozenset[str] = frozenset()) -> dict:
    """Projected calls, tokens and dollars of the contextual-ranking judge (Table 9 prompts).

    One call per judged instruction and sampled model, over the first
    `data.ctx_rank_limit` instructions and the held-out ones; each sample is assumed as long as the original
    output (capped at sampling.max_tokens); the answer as one more such response (the
    judge's reference) plus JUDGE_VERDICT_TOKENS of scores and rank. Re-asks are not counted.
    """
    from tuna.ranking.judge import judge_prompt

    judged = judged_instructions(plan, instructions, held_out)
    models = plan.sampled_models()
    n, cap = plan.config.sampling.n, plan.config.sampling.max_tokens
    system = len(plan.config.judge.system_prompt or "")
    prompt = completion = 0
    for r in judged:
        sample = "x" * min(len(r.output), cap * CHARS_PER_TOKEN)
        prompt += (system + len(judge_prompt(r.instruction, r.input, [sample] * n))) // CHARS_PER_TOKEN + 1
        completion += len(sample) // CHARS_PER_TOKEN + 1 + JUDGE_VERDICT_TOKENS
    prompt, completion = prompt * len(models), completion * len(models)
    calls = len(judged) * len(models)
    worst = calls * plan.config.judge.max_tokens
    return _row("judge", plan.judge(), len(judged), calls, prompt, completion, worst)


def estimate_vicuna(plan, questions: list, judge_prompts: dict) -> dict:
    """Projected calls, tokens and dollars of Vicuna QA judging (tuna.evaluate.vicuna).

    Every evaluated model except the baseline is judged against it on every question,
    in each judged order (`evaluation.vicuna.orders`; one call each; re-asks are not counted). The answers do not exist
    yet: each is assumed to use the whole answer budget (evaluation.generation.max_tokens),
    so the prompt side is an upper estimate; a reply is VICUNA_REPLY_TOKENS, at most
    the judge's max_tokens.
    """
    from tuna.evaluate import vicuna

    models = plan.judged_models()
    orders = len(vicuna.judged_orders(plan.config.evaluation.vicuna.orders))
    answer = "x" * plan.answer_max_tokens("vicuna") * CHARS_PER_TOKEN
    per_model = 0
    for question in questions:
        prompt = judge_prompts.get(vicuna.prompt_category(question.category), judge_prompts["general"])
        messages = vicuna.judge_messages(prompt, question.text, answer, answer)
        per_model += (sum(len(m["content"]) for m in messages) // CHARS_PER_TOKEN + 1) * orders
    calls = len(questions) * orders * len(models)
    cap = plan.config.judge.max_tokens
    return _row("vicuna judge", plan.vicuna_judge(), len(questions), calls, per_model * len(models),
                calls * min(VICUNA_REPLY_TOKENS, cap), calls * cap)


HUMAN_STAGE = "human labelling (instead of the judge)"


def human_cost(examples: int, usd_per_comparison: float, comparisons_per_example: int) -> tuple[int, float]:
    """(comparisons, USD) of annotators ranking `examples` judge-ranked examples (Table 6's pricing)."""
    comparisons = examples * comparisons_per_example
    return comparisons, round(comparisons * usd_per_comparison, 2)


def human_row(plan, instructions: list, held_out: frozenset[str] = frozenset()) -> dict:
    """What human labelling of the contextual-ranking data would cost instead of the judge."""
    human = plan.config.human
    judged = len(judged_instructions(plan, instructions, held_out)) * len(plan.sampled_models())
    comparisons, dollars = human_cost(judged, human.usd_per_comparison, human.comparisons_per_example)
    return {"stage": HUMAN_STAGE, "provider": "human", "model": None, "instructions": judged, "calls": comparisons,
            "prompt_tokens": 0, "completion_tokens": 0, "usd": dollars, "usd_if_max_tokens": dollars, "priced": True}


def estimate(plan, instructions: list | None = None) -> list[dict]:
    """Projected cost rows of a config: teacher, ranking judge, Vicuna QA judge, human labelling.

    Instructions default to the config's data source, limit and held-out split; upstream files must be
    downloaded first (a TunaError names them and the command that fetches them).
    """
    from tuna import datasets
    from tuna.errors import TunaError
    from tuna.evaluate import vicuna

    files = plan.vicuna_files()
    judges_vicuna = bool(plan.judged_models())
    needed = (plan.instructions_source() if instructions is None and plan.config.data.source == "alpaca" else [])
    needed += [files["questions"], files["judge_prompts"]] if judges_vicuna and files["questions"] else []
    missing = [path for path in needed if not os.path.exists(path)]
    if missing:
        raise TunaError(f"{plan.source}: not downloaded yet: {', '.join(missing)}; run "
                        f"`snakemake {' '.join(missing)}` (free) first")
    held_out = frozenset()
    if instructions is None:
        source = (plan.instructions_source() or ["demo"])[0]
        data = plan.config.data
        instructions, kept_out = datasets.limit_with_held_out(datasets.load_alpaca(datasets.source_path(source)),
                                                              data.limit, data.held_out, data.held_out_seed)
        held_out = frozenset(r.id for r in kept_out)
    rows = []
    if plan.uses_teacher():
        rows.append(estimate_teacher(plan, instructions))
    if plan.sampled_models():
        rows += [estimate_judge(plan, instructions, held_out), human_row(plan, instructions, held_out)]
    if judges_vicuna:
        style = plan.config.evaluation.vicuna.style
        questions = vicuna.load_questions(files["questions"] or vicuna.DEMO_QUESTIONS)
        prompts = vicuna.load_judge_prompts(files["judge_prompts"] or vicuna.DEMO_JUDGE_PROMPTS[style], style)
        rows.append(estimate_vicuna(plan, questions, prompts))
    return rows
