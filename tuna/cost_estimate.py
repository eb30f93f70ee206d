"""`tuna cost estimate`: a config's API calls (teacher, ranking judge, Vicuna QA judge)
projected from the real prompts and the price table before anything is spent, and what
human labelling would cost instead (Table 6)."""

from __future__ import annotations

import os
from pathlib import Path

from tuna.cost import HUMAN_STAGE, human_cost, usd

CHARS_PER_TOKEN = 4  # rough English average, for estimates only (no tokenizer for API models)
JUDGE_VERDICT_TOKENS = 80  # the judge's "Response k: s" lines and its rank, beyond its reference answer
VICUNA_REPLY_TOKENS = 200  # a Vicuna QA verdict with the short explanation the judge prompts ask for


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


def report(plan, instructions: Path | None = None) -> str:
    """`tuna cost estimate`: one line per projected stage (instructions: a jsonl of them, else the config's)."""
    from tuna.records import Instruction, read_jsonl

    lines = []
    for row in estimate(plan, read_jsonl(instructions, Instruction) if instructions else None):
        dollars = (f"${row['usd']:,.2f} (at most ${row['usd_if_max_tokens']:,.2f})" if row["priced"]
                   else f"unknown: no price for '{row['model']}' in prices:")
        lines.append(f"{row['stage']} ({row['provider']} {row['model'] or ''}): {row['instructions']} instructions, "
                     f"{row['calls']} calls, ~{row['prompt_tokens']:,} prompt + ~{row['completion_tokens']:,} "
                     f"completion tokens; {dollars}")
    return "\n".join(lines)
